#include "hw_tech.h"

#include <math.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#define HOROWITZ "Horowitz, 'Computing's energy problem', ISSCC 2014, 45 nm"

/* Every number the energy/area/power model uses (docs/models.md, "Constants"). */
static const hw_tech_table default_table = {
    .origin = "published 45 nm figures (built-in)",
    .calibrated = false,
    .fmax_source = "none: the published table has no PE fmax (no clock check)",
    .c =
        {
            [HW_C_REF_NM] = {"ref_nm", 45, "nm", "node of the figures below (" HOROWITZ ")",
                             HW_ORIGIN_PUBLISHED},
            [HW_C_ADD8_PJ] = {"add8_pj", 0.03, "pJ", HOROWITZ, HW_ORIGIN_PUBLISHED},
            [HW_C_ADD32_PJ] = {"add32_pj", 0.1, "pJ", HOROWITZ, HW_ORIGIN_PUBLISHED},
            [HW_C_MULT8_PJ] = {"mult8_pj", 0.2, "pJ", HOROWITZ, HW_ORIGIN_PUBLISHED},
            [HW_C_MULT32_PJ] = {"mult32_pj", 3.1, "pJ", HOROWITZ, HW_ORIGIN_PUBLISHED},
            [HW_C_ADD8_UM2] = {"add8_um2", 36, "um^2", HOROWITZ, HW_ORIGIN_PUBLISHED},
            [HW_C_ADD32_UM2] = {"add32_um2", 137, "um^2",
                                HOROWITZ
                                " (same table; figure not re-checked with the search tool)",
                                HW_ORIGIN_PUBLISHED},
            [HW_C_MULT8_UM2] = {"mult8_um2", 282, "um^2", HOROWITZ, HW_ORIGIN_PUBLISHED},
            [HW_C_MULT32_UM2] = {"mult32_um2", 3495, "um^2", HOROWITZ, HW_ORIGIN_PUBLISHED},
            [HW_C_REG_BIT_PJ] =
                {"reg_bit_pj", 1.0 / 32, "pJ",
                 "32-bit register-file access 1 pJ at 45 nm (Han et al., NIPS 2015, "
                 "Table 1, after Horowitz 2014) / 32 bits; an upper bound for "
                 "pipeline flip-flops",
                 HW_ORIGIN_PUBLISHED},
            [HW_C_FF_UM2] = {"ff_um2", 4.522, "um^2",
                             "DFF_X1 of the NanGate FreePDK45 Open Cell Library (45 nm)",
                             HW_ORIGIN_PUBLISHED},
            [HW_C_SRAM8K_PJ] = {"sram8k_pj", 10, "pJ", HOROWITZ " (64-bit read, 8 KB)",
                                HW_ORIGIN_PUBLISHED},
            [HW_C_SRAM32K_PJ] = {"sram32k_pj", 20, "pJ", HOROWITZ " (64-bit read, 32 KB)",
                                 HW_ORIGIN_PUBLISHED},
            [HW_C_SRAM1M_PJ] = {"sram1m_pj", 100, "pJ", HOROWITZ " (64-bit read, 1 MB)",
                                HW_ORIGIN_PUBLISHED},
            [HW_C_SRAM_BIT_UM2] = {"sram_bit_um2", 0.346 / 0.6, "um^2",
                                   "6T cell 0.346 um^2 (Intel 45 nm, Bhattacharya et al., Intel "
                                   "Technology Journal 12(2), 2008) / 0.6 array efficiency "
                                   "(assumption)",
                                   HW_ORIGIN_PUBLISHED | HW_ORIGIN_ASSUMPTION},
            [HW_C_DRAM64_PJ] = {"dram64_pj", 1950, "pJ",
                                HOROWITZ " (DRAM 1.3-2.6 nJ per 64-bit access; midpoint)",
                                HW_ORIGIN_PUBLISHED},
            [HW_C_CMD_PJ] = {"cmd_pj", 10, "pJ",
                             "assumption: one tile command costs about one 64-bit 8 KB SRAM read",
                             HW_ORIGIN_ASSUMPTION},
            [HW_C_CTRL_UM2] = {"ctrl_um2", 20000, "um^2",
                               "assumption: controller and DMA sequencer, 0.02 mm^2 at 45 nm",
                               HW_ORIGIN_ASSUMPTION},
            [HW_C_VEC_BASE_UM2] = {"vec_base_um2", 0, "um^2",
                                   "none published: 0 = the vector unit's area is computed from "
                                   "its operators (docs/models.md section 7)",
                                   HW_ORIGIN_PUBLISHED},
            [HW_C_VEC_LANE_UM2] = {"vec_lane_um2", 0, "um^2",
                                   "none published: 0 = the vector unit's area is computed from "
                                   "its operators (docs/models.md section 7)",
                                   HW_ORIGIN_PUBLISHED},
            [HW_C_LEAK_MW_PER_MM2] = {"leak_mw_per_mm2", 10, "mW/mm^2",
                                      "assumption until calibration (OpenSTA leakage of the "
                                      "synthesized templates)",
                                      HW_ORIGIN_ASSUMPTION},
            [HW_C_FMAX_MHZ] = {"fmax_mhz", 0, "MHz",
                               "unknown until calibration (OpenSTA); 0 disables the fmax check",
                               HW_ORIGIN_ASSUMPTION},
        },
};

const hw_tech_table *hw_tech_default(void)
{
    return &default_table;
}

const char *hw_origin_string(unsigned origin, char *buf, size_t size)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{HW_ORIGIN_SYNTHESIS, "synthesis"},
                 {HW_ORIGIN_PUBLISHED, "published"},
                 {HW_ORIGIN_ASSUMPTION, "assumption"},
                 {HW_ORIGIN_SCALED, "scaled"}};
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((origin & names[i].bit) && used < size)
            used +=
                (size_t)snprintf(buf + used, size - used, "%s%s", used ? "+" : "", names[i].name);
    if (!used)
        snprintf(buf, size, "none");
    return buf;
}

double hw_tech_pe_fmax_mhz(const hw_tech_table *t, int dataflow, int bits, int nm)
{
    int bi = bits == 4 ? 0 : bits == 8 ? 1 : bits == 16 ? 2 : bits == 32 ? 3 : -1;
    double f = 0;
    if (bi >= 0 && dataflow >= 0 && dataflow < HW_DATAFLOW_COUNT)
        f = t->pe_fmax_mhz[dataflow][bi];
    if (!(f > 0))
        f = t->c[HW_C_FMAX_MHZ].value;
    if (!(f > 0) || nm < 1)
        return 0;
    /* delay scales like the node (classical scaling), so fmax like its inverse */
    return f * t->c[HW_C_REF_NM].value / nm;
}

int hw_tech_find(const char *name)
{
    for (int i = 0; i < HW_CONST_COUNT; i++)
        if (strcmp(default_table.c[i].name, name) == 0)
            return i;
    return -1;
}

/* v8 * (bits/8)^a with a fitted through (8, v8) and (32, v32). */
static double power_law(double v8, double v32, int bits)
{
    double a = log(v32 / v8) / log(4.0);
    return v8 * pow(bits / 8.0, a);
}

double hw_tech_mult_pj(const hw_tech_table *t, int bits)
{
    return power_law(t->c[HW_C_MULT8_PJ].value, t->c[HW_C_MULT32_PJ].value, bits);
}

double hw_tech_add_pj(const hw_tech_table *t, int bits)
{
    return power_law(t->c[HW_C_ADD8_PJ].value, t->c[HW_C_ADD32_PJ].value, bits);
}

double hw_tech_mult_um2(const hw_tech_table *t, int bits)
{
    return power_law(t->c[HW_C_MULT8_UM2].value, t->c[HW_C_MULT32_UM2].value, bits);
}

double hw_tech_add_um2(const hw_tech_table *t, int bits)
{
    return power_law(t->c[HW_C_ADD8_UM2].value, t->c[HW_C_ADD32_UM2].value, bits);
}

double hw_tech_sram_pj_per_bit(const hw_tech_table *t, double bytes)
{
    const double s8 = 8192, s32 = 32768, s1m = 1048576;
    const double e8 = t->c[HW_C_SRAM8K_PJ].value, e32 = t->c[HW_C_SRAM32K_PJ].value;
    const double e1m = t->c[HW_C_SRAM1M_PJ].value;
    if (bytes < 1)
        bytes = 1;
    double e64;
    if (bytes <= s32) /* below 8 KB: the 8-32 KB slope extended */
        e64 = e8 * pow(bytes / s8, log(e32 / e8) / log(s32 / s8));
    else /* above 1 MB: the 32 KB-1 MB slope extended */
        e64 = e32 * pow(bytes / s32, log(e1m / e32) / log(s1m / s32));
    return e64 / 64.0;
}

double hw_tech_scale_energy(const hw_tech_table *t, int nm)
{
    return (double)nm / t->c[HW_C_REF_NM].value;
}

double hw_tech_scale_area(const hw_tech_table *t, int nm)
{
    double s = (double)nm / t->c[HW_C_REF_NM].value;
    return s * s;
}
