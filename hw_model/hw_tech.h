/* The ONE table of numbers the energy/area/power model uses, each with its source
 * (docs/models.md, "Constants"). Values are at the table's reference node (45 nm) and are
 * scaled to a config's node by hw_tech_scale_*. The table is swappable: a calibration
 * from synthesis (`tandem calibrate`, separate issue) builds its own hw_tech_table,
 * starting from hw_tech_default() and overriding entries, and passes it to
 * hw_evaluate_with() or installs it with hw_tech_set_active(). */
#ifndef HW_TECH_H
#define HW_TECH_H

#include "hw_timing.h"
#include "td_status.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum hw_const_id {
    HW_C_REF_NM = 0,      /* node the table's values are given at */
    HW_C_ADD8_PJ,         /* 8-bit integer add */
    HW_C_ADD32_PJ,        /* 32-bit integer add */
    HW_C_MULT8_PJ,        /* 8-bit integer multiply */
    HW_C_MULT32_PJ,       /* 32-bit integer multiply */
    HW_C_ADD8_UM2,        /* 8-bit adder area */
    HW_C_ADD32_UM2,       /* 32-bit adder area */
    HW_C_MULT8_UM2,       /* 8-bit multiplier area */
    HW_C_MULT32_UM2,      /* 32-bit multiplier area */
    HW_C_REG_BIT_PJ,      /* one register bit written and read */
    HW_C_FF_UM2,          /* one flip-flop */
    HW_C_SRAM8K_PJ,       /* 64-bit read of an 8 KB SRAM */
    HW_C_SRAM32K_PJ,      /* 64-bit read of a 32 KB SRAM */
    HW_C_SRAM1M_PJ,       /* 64-bit read of a 1 MB SRAM */
    HW_C_SRAM_BIT_UM2,    /* SRAM area per bit including periphery */
    HW_C_DRAM64_PJ,       /* one 64-bit DRAM access */
    HW_C_CMD_PJ,          /* controller energy per tile command */
    HW_C_CTRL_UM2,        /* controller area */
    HW_C_VEC_BASE_UM2,    /* vector unit, lane-independent part (0: from its operators) */
    HW_C_VEC_LANE_UM2,    /* vector unit, one lane at 8 bits, AccBits 32 (0: from operators) */
    HW_C_LEAK_MW_PER_MM2, /* leakage power density */
    HW_C_FMAX_MHZ,        /* PE fmax at the reference node; 0 = unknown (no check) */
    HW_CONST_COUNT
} hw_const_id;

/* Where a number comes from (bit set; docs/calibration.md, "Which numbers come from where"):
 * published figure, our own synthesis (tandem calibrate), moved to another node by a scaling
 * rule, or an assumption with no publication behind it. */
enum {
    HW_ORIGIN_PUBLISHED = 1u,
    HW_ORIGIN_SYNTHESIS = 2u,
    HW_ORIGIN_SCALED = 4u,
    HW_ORIGIN_ASSUMPTION = 8u,
};
/* "synthesis+scaled", "published", ... (static storage per call site: buf). */
const char *hw_origin_string(unsigned origin, char *buf, size_t size);

typedef struct hw_const {
    const char *name; /* stable key, e.g. "mult8_pj" */
    double value;
    const char *unit;
    const char *source; /* publication, or "assumption: ..." */
    unsigned origin;    /* HW_ORIGIN_* bits */
} hw_const;

#define HW_TECH_BITS_COUNT 4 /* per-width entries: 4, 8, 16, 32 bits */

typedef struct hw_tech_table {
    const char *origin; /* "published 45 nm figures" or a calibration file */
    bool calibrated;    /* built from a calibration file (hw_calib_table) */
    hw_const c[HW_CONST_COUNT];
    /* PE fmax (MHz) per dataflow and bit width (index hw_calib_bits_index) at ref_nm; 0 where
     * unknown, in which case c[HW_C_FMAX_MHZ] (0 = no check) applies */
    double pe_fmax_mhz[HW_DATAFLOW_COUNT][HW_TECH_BITS_COUNT];
    const char *fmax_source;
} hw_tech_table;

/* PE fmax (MHz) of a config's dataflow and bit width at node nm: the table's per-width value
 * (or its single fmax_mhz) moved from ref_nm with the classical rule (delay ~ nm); 0 when the
 * table has none (no clock check). */
double hw_tech_pe_fmax_mhz(const hw_tech_table *t, int dataflow, int bits, int nm);

/* The built-in table of published figures. */
const hw_tech_table *hw_tech_default(void);
/* The selected table at the report node (45 nm): by default the calibrated one
 * (hw_model/calibration/osu018.json, hw_calib.h "Technology selection"), else the published
 * one. hw_tech_set_active(t) overrides the selection for every node until called with NULL,
 * which restores the selection. */
void hw_tech_set_active(const hw_tech_table *t);
const hw_tech_table *hw_tech_active(void);
/* The table hw_evaluate uses for a config at node nm: the override when set; the calibrated
 * table built at nm (Stillmaker & Baas factors) when nm is a node of the scaling table, else
 * the report node's table (classical scaling from there); the published table in published
 * mode. Never NULL; O(1) after the first call. */
const hw_tech_table *hw_tech_for_node(int nm);

/* Looks a constant up by name (for calibration files); -1 when unknown. */
int hw_tech_find(const char *name);

/* Energy of one b-bit integer multiply / add (pJ) at the reference node: power law
 * through the published 8- and 32-bit points (docs/models.md). */
double hw_tech_mult_pj(const hw_tech_table *t, int bits);
double hw_tech_add_pj(const hw_tech_table *t, int bits);
double hw_tech_mult_um2(const hw_tech_table *t, int bits);
double hw_tech_add_um2(const hw_tech_table *t, int bits);
/* Energy per bit read or written in an SRAM of the given size (bytes), pJ: piecewise
 * log-log interpolation through the 8 KB / 32 KB / 1 MB points. */
double hw_tech_sram_pj_per_bit(const hw_tech_table *t, double bytes);

/* Factors from the reference node to node nm (docs/models.md, "Technology scaling"). */
double hw_tech_scale_energy(const hw_tech_table *t, int nm);
double hw_tech_scale_area(const hw_tech_table *t, int nm);

#endif
