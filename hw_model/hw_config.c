#include "hw_config.h"

#include "nn_intmath.h"
#include "td_hash.h"
#include "td_json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Defaults are the gemmini-16x16-int8 preset, so a file names only what differs. */
const td_cfg_key hw_accel_keys[] = {
    {"name", TD_CFG_STRING, 0, 0, NULL, "custom", 0, 0, "name of the design point"},
    {"rows", TD_CFG_INT, 1, 1024, NULL, "16", 0, 0, "systolic array rows (reduction in WS)"},
    {"cols", TD_CFG_INT, 1, 1024, NULL, "16", 0, 0, "systolic array columns"},
    {"dataflow", TD_CFG_ENUM, 0, 0, "ws|os", "ws", 0, 0,
     "weight-stationary (ws) or output-stationary (os)"},
    {"bits", TD_CFG_INT, 4, 32, NULL, "8", 0, 0, "operand bit width: 4, 8, 16 or 32"},
    {"acc_bits", TD_CFG_INT, 8, 128, NULL, "32", 0, 0, "accumulator width (bits)"},
    {"l1_input_kib", TD_CFG_INT, 1, 1048576, NULL, "128", 0, 0, "L1 input scratchpad (KiB)"},
    {"l1_weight_kib", TD_CFG_INT, 1, 1048576, NULL, "128", 0, 0, "L1 weight scratchpad (KiB)"},
    {"l1_acc_kib", TD_CFG_INT, 1, 1048576, NULL, "64", 0, 0, "L1 accumulator buffer (KiB)"},
    {"l2_kib", TD_CFG_INT, 1, 16777216, NULL, "512", 0, 0, "L2 global buffer (KiB)"},
    {"dram_gbps", TD_CFG_FLOAT, 0.001, 100000, NULL, "25.6", 0, 0,
     "DRAM bandwidth (GB/s, 1e9 bytes/s)"},
    {"clock_mhz", TD_CFG_FLOAT, 1, 100000, NULL, "1000.0", 0, 0, "core clock (MHz)"},
    {"vector_lanes", TD_CFG_INT, 1, 4096, NULL, "16", 0, 0, "vector-unit lanes"},
    {"tech_nm", TD_CFG_INT, 5, 180, NULL, "45", 0, 0, "technology node (nm)"},
    TD_CFG_END,
};

const char *hw_dataflow_name(hw_dataflow d)
{
    return d == HW_DATAFLOW_OS ? "os" : "ws";
}

/* ------------------------------------------------------------------ presets */

typedef struct preset {
    const char *name;
    hw_config cfg;
} preset;

static const preset presets[] = {
    /* Gemmini's default: 16x16 int8 WS, 256 KiB scratchpad (split here into input and
     * weight halves), 64 KiB accumulator; 32-bit accumulators; one row per cycle through
     * the scale/activation unit (16 lanes). */
    {"gemmini-16x16-int8",
     {"gemmini-16x16-int8", 16, 16, HW_DATAFLOW_WS, 8, 32, 128, 128, 64, 512, 25.6, 1000.0, 16,
      45}},
    /* Small edge point at the low end of the default space. */
    {"edge-8x16-int8",
     {"edge-8x16-int8", 8, 16, HW_DATAFLOW_WS, 8, 32, 16, 16, 16, 256, 50.0, 500.0, 8, 45}},
    /* Large point at the top of the default space. */
    {"cloud-64x64-int8",
     {"cloud-64x64-int8", 64, 64, HW_DATAFLOW_OS, 8, 32, 256, 256, 256, 8192, 500.0, 1500.0, 64,
      45}},
};

static const char *const preset_names[] = {"gemmini-16x16-int8", "edge-8x16-int8",
                                           "cloud-64x64-int8", NULL};

const char *const *hw_preset_names(void)
{
    return preset_names;
}

static void preset_list(char *buf, size_t size)
{
    buf[0] = '\0';
    for (const char *const *p = preset_names; *p; p++) {
        strncat(buf, *p, size - strlen(buf) - 1);
        if (p[1])
            strncat(buf, ", ", size - strlen(buf) - 1);
    }
}

td_status hw_preset(const char *name, hw_config *out)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(presets[i].name, name) == 0) {
            *out = presets[i].cfg;
            return TD_OK;
        }
    char list[256];
    preset_list(list, sizeof list);
    return td_fail(TD_ERR_CONFIG, "unknown accelerator preset '%s' (presets: %s)", name, list);
}

/* ------------------------------------------------------------------ violations */

static const char *const viol_names[HW_VIOL_COUNT] = {
    [HW_VIOL_ACC_BITS] = "acc_bits",       [HW_VIOL_L1_INPUT] = "l1_input_kib",
    [HW_VIOL_L1_WEIGHT] = "l1_weight_kib", [HW_VIOL_L1_ACC] = "l1_acc_kib",
    [HW_VIOL_FMAX] = "clock_mhz",
};
static const char *const viol_units[HW_VIOL_COUNT] = {
    [HW_VIOL_ACC_BITS] = "bits", [HW_VIOL_L1_INPUT] = "KiB", [HW_VIOL_L1_WEIGHT] = "KiB",
    [HW_VIOL_L1_ACC] = "KiB",    [HW_VIOL_FMAX] = "MHz",
};

const char *hw_violation_name(hw_violation_kind k)
{
    return (int)k >= 0 && k < HW_VIOL_COUNT ? viol_names[k] : "?";
}

const char *hw_violation_unit(hw_violation_kind k)
{
    return (int)k >= 0 && k < HW_VIOL_COUNT ? viol_units[k] : "?";
}

static void viol_add(hw_violations *out, hw_violation_kind k, double need, double have,
                     const char *layer)
{
    if (have >= need || out->n >= HW_VIOL_COUNT)
        return;
    hw_violation *v = &out->v[out->n++];
    v->kind = k;
    v->amount = need - have;
    v->required = need;
    snprintf(v->layer, sizeof v->layer, "%s", layer ? layer : "");
    out->total += v->amount / need;
}

/* KiB an L1 buffer of line_bits-wide lines needs to give the core `lines` lines: the core is
 * built with hw_timing_l1_lines (floored to a power of two, at least 2 lines: rtl_hw_check). */
static double kib_for_lines(int64_t lines, int64_t line_bits)
{
    int64_t p = 2;
    while (p < lines)
        p *= 2;
    return (double)p * (double)line_bits / 8192.0;
}

/* The lines one tile needs in each L1 buffer, the compiler's rule (rtl_program_emit_gemm uses
 * the whole buffer for a tile, no ping-pong; rtl_hw_check): WS a full weight tile of R lines
 * (preload), one input line and one accumulator line; OS one reduction step (one input and
 * one weight line) and a stationary output tile of R accumulator lines. */
static void tile_lines(const hw_config *cfg, int64_t lines[3], int64_t line_bits[3])
{
    const int64_t r = cfg->rows, c = cfg->cols, b = cfg->bits, a = cfg->acc_bits;
    const bool ws = cfg->dataflow == HW_DATAFLOW_WS;
    lines[0] = 1; /* input */
    line_bits[0] = r * b;
    lines[1] = ws ? r : 1; /* weight */
    line_bits[1] = c * b;
    lines[2] = ws ? 1 : r; /* accumulator (and the output buffer, same depth) */
    line_bits[2] = c * a;
}

void hw_config_check(const hw_config *cfg, const hw_tech_table *t, int64_t max_k,
                     const char *max_k_layer, hw_violations *out)
{
    if (max_k < 1)
        max_k = 1;
    viol_add(out, HW_VIOL_ACC_BITS, nn_acc_bits_needed(cfg->bits, max_k), cfg->acc_bits,
             max_k_layer);
    int64_t lines[3], line_bits[3];
    tile_lines(cfg, lines, line_bits);
    viol_add(out, HW_VIOL_L1_INPUT, kib_for_lines(lines[0], line_bits[0]), cfg->l1_input_kib, NULL);
    viol_add(out, HW_VIOL_L1_WEIGHT, kib_for_lines(lines[1], line_bits[1]), cfg->l1_weight_kib,
             NULL);
    viol_add(out, HW_VIOL_L1_ACC, kib_for_lines(lines[2], line_bits[2]), cfg->l1_acc_kib, NULL);
    /* clock against the PE's fmax at the config's width, dataflow and node (calibrated tables;
     * the same check as hw_calib_check_clock) */
    const double fmax = hw_tech_pe_fmax_mhz(t, (int)cfg->dataflow, cfg->bits, cfg->tech_nm);
    if (fmax > 0 && cfg->clock_mhz > fmax)
        viol_add(out, HW_VIOL_FMAX, cfg->clock_mhz, fmax, NULL);
}

void hw_violation_format(const hw_violation *v, const hw_config *cfg, char *buf, size_t size)
{
    const char *u = hw_violation_unit(v->kind);
    int64_t lines[3], line_bits[3];
    tile_lines(cfg, lines, line_bits);
    static const char *const what[3] = {"input", "weight", "accumulator"};
    switch (v->kind) {
    case HW_VIOL_ACC_BITS:
        snprintf(buf, size, "acc_bits: needs %g bits%s%s%s, has %d (short by %g bits)", v->required,
                 v->layer[0] ? " for layer '" : "", v->layer, v->layer[0] ? "'" : "", cfg->acc_bits,
                 v->amount);
        break;
    case HW_VIOL_FMAX:
        snprintf(buf, size,
                 "clock_mhz: %g MHz is above the PE's fmax %.4g MHz (%s, %d bits, %d nm) by %.4g "
                 "MHz",
                 cfg->clock_mhz, v->required - v->amount, hw_dataflow_name(cfg->dataflow),
                 cfg->bits, cfg->tech_nm, v->amount);
        break;
    case HW_VIOL_L1_INPUT:
    case HW_VIOL_L1_WEIGHT:
    case HW_VIOL_L1_ACC: {
        const int i = v->kind - HW_VIOL_L1_INPUT;
        if (v->kind == HW_VIOL_L1_ACC && v->layer[0]) { /* hw_config_check_pool */
            snprintf(buf, size,
                     "%s: the max-pool fused after layer '%s' needs %lld output-buffer lines "
                     "of %lld bits (one window and its pooled pixel: %g %s; the core has at "
                     "least 2 lines, a power of two), has %g (short by %g %s)",
                     hw_violation_name(v->kind), v->layer,
                     (long long)llround(v->required * 8192.0 / (double)line_bits[i]),
                     (long long)line_bits[i], v->required, u, v->required - v->amount, v->amount,
                     u);
            break;
        }
        snprintf(buf, size,
                 "%s: one %s tile needs %lld %s line%s of %lld bits (%g %s; the core has at "
                 "least 2 lines, a power of two), has %g (short by %g %s)",
                 hw_violation_name(v->kind), hw_dataflow_name(cfg->dataflow), (long long)lines[i],
                 what[i], lines[i] == 1 ? "" : "s", (long long)line_bits[i], v->required, u,
                 v->required - v->amount, v->amount, u);
        break;
    }
    default:
        snprintf(buf, size, "%s: needs %g %s, has %g", hw_violation_name(v->kind), v->required, u,
                 v->required - v->amount);
    }
}

void hw_config_check_pool(const hw_config *cfg, int64_t pool_k, const char *layer,
                          hw_violations *out)
{
    const double need = kib_for_lines(pool_k * pool_k + 1, (int64_t)cfg->cols * cfg->acc_bits);
    const double have = cfg->l1_acc_kib;
    if (have >= need)
        return;
    for (size_t i = 0; i < out->n; i++) {
        hw_violation *v = &out->v[i];
        if (v->kind != HW_VIOL_L1_ACC)
            continue;
        if (need > v->required) { /* one entry per kind: the larger requirement */
            out->total -= v->amount / v->required;
            v->amount = need - have;
            v->required = need;
            snprintf(v->layer, sizeof v->layer, "%s", layer ? layer : "?");
            out->total += v->amount / need;
        }
        return;
    }
    viol_add(out, HW_VIOL_L1_ACC, need, have, layer ? layer : "?");
}

/* ------------------------------------------------------------------ validation */

static const char *origin_of(const td_config *tc, const char *key)
{
    return tc ? td_config_origin(tc, key) : "accelerator";
}

td_status hw_config_validate(const hw_config *cfg, const td_config *tc)
{
    if (cfg->bits != 4 && cfg->bits != 8 && cfg->bits != 16 && cfg->bits != 32)
        return td_fail(TD_ERR_CONFIG, "%s: key 'bits': %d is not one of 4, 8, 16, 32",
                       origin_of(tc, "bits"), cfg->bits);
    struct {
        const char *key;
        double v;
    } pos[] = {{"rows", cfg->rows},
               {"cols", cfg->cols},
               {"acc_bits", cfg->acc_bits},
               {"l1_input_kib", cfg->l1_input_kib},
               {"l1_weight_kib", cfg->l1_weight_kib},
               {"l1_acc_kib", cfg->l1_acc_kib},
               {"l2_kib", cfg->l2_kib},
               {"dram_gbps", cfg->dram_gbps},
               {"clock_mhz", cfg->clock_mhz},
               {"vector_lanes", cfg->vector_lanes},
               {"tech_nm", cfg->tech_nm}};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        if (!(pos[i].v > 0) || !isfinite(pos[i].v))
            return td_fail(TD_ERR_CONFIG, "%s: key '%s': must be positive, got %g",
                           origin_of(tc, pos[i].key), pos[i].key, pos[i].v);
    if ((int)cfg->dataflow < 0 || cfg->dataflow >= HW_DATAFLOW_COUNT)
        return td_fail(TD_ERR_CONFIG, "%s: key 'dataflow': unknown dataflow %d",
                       origin_of(tc, "dataflow"), (int)cfg->dataflow);
    /* the network-independent violations are errors here; the clock above fmax never is (it
     * is a violation the evaluation reports, with its amount) */
    hw_violations v = {0};
    hw_config_check(cfg, hw_tech_default(), 1, NULL, &v);
    for (size_t i = 0; i < v.n; i++) {
        if (v.v[i].kind == HW_VIOL_FMAX)
            continue;
        char msg[320];
        hw_violation_format(&v.v[i], cfg, msg, sizeof msg);
        const char *key = hw_violation_name(v.v[i].kind);
        return td_fail(TD_ERR_CONFIG, "%s: key '%s': %s", origin_of(tc, key), key, msg);
    }
    return TD_OK;
}

/* ------------------------------------------------------------------ YAML */

static td_status config_from_td(const td_config *tc, hw_config *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", td_config_str(tc, "name"));
    out->rows = (int32_t)td_config_int(tc, "rows");
    out->cols = (int32_t)td_config_int(tc, "cols");
    out->dataflow =
        strcmp(td_config_str(tc, "dataflow"), "os") == 0 ? HW_DATAFLOW_OS : HW_DATAFLOW_WS;
    out->bits = (int32_t)td_config_int(tc, "bits");
    out->acc_bits = (int32_t)td_config_int(tc, "acc_bits");
    out->l1_input_kib = (int32_t)td_config_int(tc, "l1_input_kib");
    out->l1_weight_kib = (int32_t)td_config_int(tc, "l1_weight_kib");
    out->l1_acc_kib = (int32_t)td_config_int(tc, "l1_acc_kib");
    out->l2_kib = (int32_t)td_config_int(tc, "l2_kib");
    out->dram_gbps = td_config_float(tc, "dram_gbps");
    out->clock_mhz = td_config_float(tc, "clock_mhz");
    out->vector_lanes = (int32_t)td_config_int(tc, "vector_lanes");
    out->tech_nm = (int32_t)td_config_int(tc, "tech_nm");
    return hw_config_validate(out, tc);
}

static td_status load_common(const char *path, const char *yaml, const char *origin, hw_config *out)
{
    const td_cfg_key *const tables[] = {hw_accel_keys, NULL};
    td_config *tc = NULL;
    td_status st = td_config_init(&tc, tables);
    if (st != TD_OK)
        return st;
    st = path ? td_config_merge_file(tc, path) : td_config_merge_string(tc, yaml, origin);
    if (st == TD_OK)
        st = config_from_td(tc, out);
    td_config_free(tc);
    return st;
}

td_status hw_config_load_file(const char *path, hw_config *out)
{
    return load_common(path, NULL, NULL, out);
}

td_status hw_config_load_string(const char *yaml, const char *origin, hw_config *out)
{
    return load_common(NULL, yaml, origin ? origin : "<string>", out);
}

td_status hw_config_resolve(const char *arg, hw_config *out)
{
    if (!arg || !*arg)
        return td_fail(TD_ERR_USAGE, "--hw needs a preset name or a YAML file");
    for (const char *const *p = preset_names; *p; p++)
        if (strcmp(*p, arg) == 0)
            return hw_preset(arg, out);
    struct stat sb;
    if (stat(arg, &sb) != 0) {
        char list[256];
        preset_list(list, sizeof list);
        return td_fail(TD_ERR_CONFIG,
                       "accelerator '%s' is neither a preset (%s) nor a readable file: %s", arg,
                       list, strerror(errno));
    }
    return hw_config_load_file(arg, out);
}

uint64_t hw_config_hash(const hw_config *cfg)
{
    td_hasher h;
    if (td_hasher_init(&h, 0x6877636f6e666967ull) != TD_OK)
        return 0;
    const int64_t iv[] = {cfg->rows,     cfg->cols,         cfg->dataflow,      cfg->bits,
                          cfg->acc_bits, cfg->l1_input_kib, cfg->l1_weight_kib, cfg->l1_acc_kib,
                          cfg->l2_kib,   cfg->vector_lanes, cfg->tech_nm};
    for (size_t i = 0; i < sizeof iv / sizeof iv[0]; i++)
        td_hasher_i64(&h, iv[i]);
    td_hasher_f64(&h, cfg->dram_gbps);
    td_hasher_f64(&h, cfg->clock_mhz);
    uint64_t d = td_hasher_digest(&h);
    td_hasher_free(&h);
    return d;
}

/* Doubles with the shortest text that reads back exactly. */
static void fmt_double(double x, char *out, size_t size)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, x);
        if (strtod(out, NULL) == x)
            break;
    }
    if (!strpbrk(out, ".eEn"))
        strncat(out, ".0", size - strlen(out) - 1);
}

td_status hw_config_write(const hw_config *cfg, FILE *fp)
{
    char gbps[40], mhz[40], name[2 * HW_NAME_MAX + 3];
    fmt_double(cfg->dram_gbps, gbps, sizeof gbps);
    fmt_double(cfg->clock_mhz, mhz, sizeof mhz);
    /* single-quoted YAML scalar: a quote is doubled */
    size_t j = 0;
    name[j++] = '\'';
    for (const char *p = cfg->name; *p && j < sizeof name - 3; p++) {
        if (*p == '\'')
            name[j++] = '\'';
        name[j++] = *p;
    }
    name[j++] = '\'';
    name[j] = '\0';
    int rc = fprintf(fp,
                     "# Tandem accelerator config (docs/formats.md, \"Accelerator config\")\n"
                     "name: %s\nrows: %d\ncols: %d\ndataflow: %s\nbits: %d\nacc_bits: %d\n"
                     "l1_input_kib: %d\nl1_weight_kib: %d\nl1_acc_kib: %d\nl2_kib: %d\n"
                     "dram_gbps: %s\nclock_mhz: %s\nvector_lanes: %d\ntech_nm: %d\n",
                     name, cfg->rows, cfg->cols, hw_dataflow_name(cfg->dataflow), cfg->bits,
                     cfg->acc_bits, cfg->l1_input_kib, cfg->l1_weight_kib, cfg->l1_acc_kib,
                     cfg->l2_kib, gbps, mhz, cfg->vector_lanes, cfg->tech_nm);
    if (rc < 0 || fflush(fp) != 0 || ferror(fp))
        return td_fail(TD_ERR_IO, "cannot write the accelerator config '%s': %s", cfg->name,
                       strerror(errno ? errno : EIO));
    return TD_OK;
}

json_t *hw_config_to_json(const hw_config *cfg)
{
    char hex[17];
    td_hash_hex(hw_config_hash(cfg), hex);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(cfg->name));
    json_object_set_new(o, "hash", json_string(hex));
    json_object_set_new(o, "rows", json_integer(cfg->rows));
    json_object_set_new(o, "cols", json_integer(cfg->cols));
    json_object_set_new(o, "macs", json_integer(hw_config_macs(cfg)));
    json_object_set_new(o, "dataflow", json_string(hw_dataflow_name(cfg->dataflow)));
    json_object_set_new(o, "bits", json_integer(cfg->bits));
    json_object_set_new(o, "acc_bits", json_integer(cfg->acc_bits));
    json_object_set_new(o, "l1_input_kib", json_integer(cfg->l1_input_kib));
    json_object_set_new(o, "l1_weight_kib", json_integer(cfg->l1_weight_kib));
    json_object_set_new(o, "l1_acc_kib", json_integer(cfg->l1_acc_kib));
    json_object_set_new(o, "l2_kib", json_integer(cfg->l2_kib));
    json_object_set_new(o, "dram_gbps", td_json_real(cfg->dram_gbps));
    json_object_set_new(o, "clock_mhz", td_json_real(cfg->clock_mhz));
    json_object_set_new(o, "vector_lanes", json_integer(cfg->vector_lanes));
    json_object_set_new(o, "tech_nm", json_integer(cfg->tech_nm));
    return o;
}
