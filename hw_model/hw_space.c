#include "hw_space.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Default ranges are the ones architects start from (DESIGN.md §3). */
const td_cfg_key hw_config_keys[] = {
    {"space.hw.macs", TD_CFG_INT_LIST, 1, 1048576, NULL, "[128, 4096]", 2, 2,
     "[min, max] MACs (rows x cols)"},
    {"space.hw.dims", TD_CFG_INT_LIST, 1, 1024, NULL, "[4, 8, 16, 32, 64]", 1, 16,
     "allowed array rows and cols"},
    {"space.hw.dataflows", TD_CFG_ENUM_LIST, 0, 0, "ws|os", "[ws, os]", 1, 2, "dataflows"},
    {"space.hw.bits", TD_CFG_INT_LIST, 4, 32, NULL, "[4, 8, 16, 32]", 1, 4,
     "integer bit widths (each 4, 8, 16 or 32)"},
    {"space.hw.acc_bits", TD_CFG_INT_LIST, 8, 128, NULL, "[16, 24, 32, 48, 64, 80]", 1, 16,
     "accumulator widths (bits)"},
    {"space.hw.l1_kib", TD_CFG_INT_LIST, 1, 65536, NULL, "[16, 256]", 2, 2,
     "[min, max] L1 scratchpad per buffer (KiB)"},
    {"space.hw.l2_kib", TD_CFG_INT_LIST, 1, 1048576, NULL, "[256, 8192]", 2, 2,
     "[min, max] L2 global buffer (KiB)"},
    {"space.hw.dram_gbps", TD_CFG_FLOAT_LIST, 0.1, 10000, NULL, "[50.0, 500.0]", 2, 2,
     "[min, max] DRAM bandwidth (GB/s)"},
    /* 200-1000 MHz, not DESIGN.md's 500-2000: the calibrated PE fmax at 45 nm is 541-993 MHz
     * (osu018 synthesis, Stillmaker & Baas delay factor; docs/hw_config.md), so most of a
     * 500-2000 MHz grid would be infeasible */
    {"space.hw.clock_mhz", TD_CFG_FLOAT_LIST, 1, 10000, NULL, "[200.0, 1000.0]", 2, 2,
     "[min, max] clock (MHz); a clock above the PE's fmax is a constraint violation"},
    {"space.hw.vector_lanes", TD_CFG_INT_LIST, 1, 4096, NULL, "[4, 64]", 2, 2,
     "[min, max] vector-unit lanes"},
    {"space.hw.tech_nm", TD_CFG_INT, 5, 180, NULL, "45", 0, 0, "technology node (nm)"},
    {"hw.tech", TD_CFG_ENUM, 0, 0, "calibrated|published", "calibrated", 0, 0,
     "constant table of hw_model: calibrated (synthesis of our RTL, osu018, scaled with "
     "Stillmaker & Baas; PE fmax checked) or published (Horowitz 45 nm; no clock check)"},
    {"hw.calibration", TD_CFG_STRING, 0, 0, NULL, "''", 0, 0,
     "calibration file for hw.tech = calibrated (empty: the checked-in osu018.json)"},
    TD_CFG_END,
};

#define GRID_POINTS 16 /* points of the DRAM and clock grids */

static const char *const gene_names[HW_GENE_COUNT] = {
    "rows",          "cols",       "dataflow", "bits",      "acc_bits",  "l1_input_kib",
    "l1_weight_kib", "l1_acc_kib", "l2_kib",   "dram_gbps", "clock_mhz", "vector_lanes"};

const char *hw_gene_name(hw_gene g)
{
    return (int)g >= 0 && g < HW_GENE_COUNT ? gene_names[g] : "?";
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Powers of two in [lo, hi]; just {lo} when there is none. */
static size_t pow2_grid(int64_t lo, int64_t hi, int32_t *out)
{
    size_t n = 0;
    for (int64_t p = 1; p <= hi && n < HW_SPACE_LIST_MAX; p *= 2)
        if (p >= lo)
            out[n++] = (int32_t)p;
    if (n == 0)
        out[n++] = (int32_t)lo;
    return n;
}

static td_status range_pair(const td_config *cfg, const char *key, double *lo, double *hi)
{
    *lo = td_config_list_float(cfg, key, 0);
    *hi = td_config_list_float(cfg, key, 1);
    if (*lo > *hi)
        return td_fail(TD_ERR_CONFIG, "%s: key '%s': min %g is above max %g",
                       td_config_origin(cfg, key), key, *lo, *hi);
    return TD_OK;
}

td_status hw_space_from_config(hw_space *s, const td_config *cfg)
{
    memset(s, 0, sizeof *s);
    double lo, hi;
    td_status st;
    if ((st = range_pair(cfg, "space.hw.macs", &lo, &hi)) != TD_OK)
        return st;
    s->macs_min = (int64_t)lo;
    s->macs_max = (int64_t)hi;
    s->n_dims = td_config_list_len(cfg, "space.hw.dims");
    for (size_t i = 0; i < s->n_dims; i++)
        s->dims[i] = (int32_t)td_config_list_int(cfg, "space.hw.dims", i);
    qsort(s->dims, s->n_dims, sizeof s->dims[0], cmp_i32);
    int64_t dmin = s->dims[0], dmax = s->dims[s->n_dims - 1];
    if (dmax * dmax < s->macs_min || dmin * dmin > s->macs_max)
        return td_fail(TD_ERR_CONFIG,
                       "%s: key 'space.hw.dims': rows x cols from these dims (%lld..%lld) "
                       "cannot reach the MAC range [%lld, %lld]",
                       td_config_origin(cfg, "space.hw.dims"), (long long)(dmin * dmin),
                       (long long)(dmax * dmax), (long long)s->macs_min, (long long)s->macs_max);
    s->n_dataflows = td_config_list_len(cfg, "space.hw.dataflows");
    for (size_t i = 0; i < s->n_dataflows && i < HW_DATAFLOW_COUNT; i++)
        s->dataflows[i] = strcmp(td_config_list_str(cfg, "space.hw.dataflows", i), "os") == 0
                              ? HW_DATAFLOW_OS
                              : HW_DATAFLOW_WS;
    if (s->n_dataflows > HW_DATAFLOW_COUNT)
        s->n_dataflows = HW_DATAFLOW_COUNT;
    s->n_bits = td_config_list_len(cfg, "space.hw.bits");
    for (size_t i = 0; i < s->n_bits; i++) {
        int64_t b = td_config_list_int(cfg, "space.hw.bits", i);
        if (b != 4 && b != 8 && b != 16 && b != 32)
            return td_fail(TD_ERR_CONFIG,
                           "%s: key 'space.hw.bits': %lld is not one of 4, 8, "
                           "16, 32",
                           td_config_origin(cfg, "space.hw.bits"), (long long)b);
        s->bits[i] = (int32_t)b;
    }
    s->n_acc_bits = td_config_list_len(cfg, "space.hw.acc_bits");
    for (size_t i = 0; i < s->n_acc_bits; i++)
        s->acc_bits[i] = (int32_t)td_config_list_int(cfg, "space.hw.acc_bits", i);
    qsort(s->acc_bits, s->n_acc_bits, sizeof s->acc_bits[0], cmp_i32);
    if ((st = range_pair(cfg, "space.hw.l1_kib", &lo, &hi)) != TD_OK)
        return st;
    s->n_l1 = pow2_grid((int64_t)lo, (int64_t)hi, s->l1_kib);
    if ((st = range_pair(cfg, "space.hw.l2_kib", &lo, &hi)) != TD_OK)
        return st;
    s->n_l2 = pow2_grid((int64_t)lo, (int64_t)hi, s->l2_kib);
    if ((st = range_pair(cfg, "space.hw.vector_lanes", &lo, &hi)) != TD_OK)
        return st;
    s->n_lanes = pow2_grid((int64_t)lo, (int64_t)hi, s->lanes);
    if ((st = range_pair(cfg, "space.hw.dram_gbps", &lo, &hi)) != TD_OK)
        return st;
    s->n_dram = lo == hi ? 1 : GRID_POINTS;
    for (size_t i = 0; i < s->n_dram; i++)
        s->dram_gbps[i] =
            i + 1 == s->n_dram && i > 0 ? hi : lo * pow(hi / lo, (double)i / (GRID_POINTS - 1));
    if ((st = range_pair(cfg, "space.hw.clock_mhz", &lo, &hi)) != TD_OK)
        return st;
    s->n_clock = lo == hi ? 1 : GRID_POINTS;
    for (size_t i = 0; i < s->n_clock; i++)
        s->clock_mhz[i] = lo + (hi - lo) * (double)i / (GRID_POINTS - 1);
    s->tech_nm = (int32_t)td_config_int(cfg, "space.hw.tech_nm");
    if ((st = hw_tech_mode_parse(td_config_str(cfg, "hw.tech"), &s->tech)) != TD_OK)
        return td_fail_context(st, "%s: key 'hw.tech': ", td_config_origin(cfg, "hw.tech"));
    snprintf(s->calibration, sizeof s->calibration, "%s", td_config_str(cfg, "hw.calibration"));
    if ((st = hw_tech_select(s->tech, s->calibration)) != TD_OK)
        return td_fail_context(
            st, "%s: key 'hw.calibration': ", td_config_origin(cfg, "hw.calibration"));
    return TD_OK;
}

td_status hw_space_default(hw_space *s)
{
    const td_cfg_key *const tables[] = {hw_config_keys, NULL};
    td_config *cfg = NULL;
    td_status st = td_config_init(&cfg, tables);
    if (st == TD_OK)
        st = hw_space_from_config(s, cfg);
    td_config_free(cfg);
    return st;
}

void hw_genome_ranges(const hw_space *s, int32_t hi[HW_GENE_COUNT])
{
    hi[HW_GENE_ROWS] = (int32_t)s->n_dims - 1;
    hi[HW_GENE_COLS] = (int32_t)s->n_dims - 1;
    hi[HW_GENE_DATAFLOW] = (int32_t)s->n_dataflows - 1;
    hi[HW_GENE_BITS] = (int32_t)s->n_bits - 1;
    hi[HW_GENE_ACC_BITS] = (int32_t)s->n_acc_bits - 1;
    hi[HW_GENE_L1_INPUT] = hi[HW_GENE_L1_WEIGHT] = hi[HW_GENE_L1_ACC] = (int32_t)s->n_l1 - 1;
    hi[HW_GENE_L2] = (int32_t)s->n_l2 - 1;
    hi[HW_GENE_DRAM] = (int32_t)s->n_dram - 1;
    hi[HW_GENE_CLOCK] = (int32_t)s->n_clock - 1;
    hi[HW_GENE_LANES] = (int32_t)s->n_lanes - 1;
}

static inline int32_t clampi(int32_t v, int32_t hi)
{
    return v < 0 ? 0 : v > hi ? hi : v;
}

void hw_genome_decode(const hw_space *s, const int32_t genes[HW_GENE_COUNT], hw_config *out)
{
    int32_t hi[HW_GENE_COUNT], g[HW_GENE_COUNT];
    hw_genome_ranges(s, hi);
    for (int i = 0; i < HW_GENE_COUNT; i++)
        g[i] = clampi(genes[i], hi[i]);
    int32_t ri = g[HW_GENE_ROWS], ci = g[HW_GENE_COLS];
    const int32_t nd = (int32_t)s->n_dims;
    /* repair: shrink (cols first) while above the MAC range, grow while below */
    while ((int64_t)s->dims[ri] * s->dims[ci] > s->macs_max && (ri > 0 || ci > 0)) {
        if (ci > 0 && (ci >= ri || ri == 0))
            ci--;
        else
            ri--;
    }
    while ((int64_t)s->dims[ri] * s->dims[ci] < s->macs_min && (ri < nd - 1 || ci < nd - 1)) {
        if (ci < nd - 1 && (ci <= ri || ri == nd - 1))
            ci++;
        else
            ri++;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "genome");
    out->rows = s->dims[ri];
    out->cols = s->dims[ci];
    out->dataflow = s->dataflows[g[HW_GENE_DATAFLOW]];
    out->bits = s->bits[g[HW_GENE_BITS]];
    out->acc_bits = s->acc_bits[g[HW_GENE_ACC_BITS]];
    out->l1_input_kib = s->l1_kib[g[HW_GENE_L1_INPUT]];
    out->l1_weight_kib = s->l1_kib[g[HW_GENE_L1_WEIGHT]];
    out->l1_acc_kib = s->l1_kib[g[HW_GENE_L1_ACC]];
    out->l2_kib = s->l2_kib[g[HW_GENE_L2]];
    out->dram_gbps = s->dram_gbps[g[HW_GENE_DRAM]];
    out->clock_mhz = s->clock_mhz[g[HW_GENE_CLOCK]];
    out->vector_lanes = s->lanes[g[HW_GENE_LANES]];
    out->tech_nm = s->tech_nm;
}

static int32_t nearest_i(const int32_t *v, size_t n, double x)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (fabs(v[i] - x) < fabs(v[best] - x))
            best = i;
    return (int32_t)best;
}

static int32_t nearest_d(const double *v, size_t n, double x)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (fabs(v[i] - x) < fabs(v[best] - x))
            best = i;
    return (int32_t)best;
}

void hw_genome_encode(const hw_space *s, const hw_config *cfg, int32_t genes[HW_GENE_COUNT])
{
    genes[HW_GENE_ROWS] = nearest_i(s->dims, s->n_dims, cfg->rows);
    genes[HW_GENE_COLS] = nearest_i(s->dims, s->n_dims, cfg->cols);
    genes[HW_GENE_DATAFLOW] = 0;
    for (size_t i = 0; i < s->n_dataflows; i++)
        if (s->dataflows[i] == cfg->dataflow)
            genes[HW_GENE_DATAFLOW] = (int32_t)i;
    genes[HW_GENE_BITS] = nearest_i(s->bits, s->n_bits, cfg->bits);
    genes[HW_GENE_ACC_BITS] = nearest_i(s->acc_bits, s->n_acc_bits, cfg->acc_bits);
    genes[HW_GENE_L1_INPUT] = nearest_i(s->l1_kib, s->n_l1, cfg->l1_input_kib);
    genes[HW_GENE_L1_WEIGHT] = nearest_i(s->l1_kib, s->n_l1, cfg->l1_weight_kib);
    genes[HW_GENE_L1_ACC] = nearest_i(s->l1_kib, s->n_l1, cfg->l1_acc_kib);
    genes[HW_GENE_L2] = nearest_i(s->l2_kib, s->n_l2, cfg->l2_kib);
    genes[HW_GENE_DRAM] = nearest_d(s->dram_gbps, s->n_dram, cfg->dram_gbps);
    genes[HW_GENE_CLOCK] = nearest_d(s->clock_mhz, s->n_clock, cfg->clock_mhz);
    genes[HW_GENE_LANES] = nearest_i(s->lanes, s->n_lanes, cfg->vector_lanes);
}

void hw_space_sample(const hw_space *s, td_rng *rng, hw_config *out, int32_t genes[HW_GENE_COUNT])
{
    int32_t hi[HW_GENE_COUNT], g[HW_GENE_COUNT];
    hw_genome_ranges(s, hi);
    for (int i = 0; i < HW_GENE_COUNT; i++)
        g[i] = (int32_t)td_rng_range(rng, 0, hi[i]);
    hw_genome_decode(s, g, out);
    if (genes)
        memcpy(genes, g, sizeof g);
}
