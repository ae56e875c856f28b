#include "hw_calib.h"

#include "td_log.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STILLMAKER                                                                                 \
    "Stillmaker & Baas, 'Scaling equations for the accurate prediction of CMOS device "            \
    "performance from 180 nm to 7 nm', Integration, the VLSI Journal 58 (2017) 74-81"

int hw_calib_bits_index(int bits)
{
    switch (bits) {
    case 4:
        return 0;
    case 8:
        return 1;
    case 16:
        return 2;
    case 32:
        return 3;
    default:
        return -1;
    }
}

/* ------------------------------------------------------------------ node scaling */

/* One row per node: relative area (180 nm = 1; Table "area scaling"), nominal supply, and the
 * fitted polynomials of the paper's Table 4 (bulk 180-65 nm; 45 nm and below the
 * high-performance PTM models): delay d3 V^3 + d2 V^2 + d1 V + d0, energy e2 V^2 + e1 V + e0.
 * Coefficients as transcribed in the nodeScale tool (UCLA NanoCAD); the paper's erratum example
 * (65 nm energy 3.755/-4.398/1.975 at 1.3 V, 32 nm 0.8367/-0.4341/0.1701 at 0.9 V) matches them.
 * The supplies are the nominal ones the paper evaluates each node at (32 nm: 0.9 V as in the
 * erratum example; the others: assumption, the usual nominal supply of each node). */
typedef struct node_row {
    int nm;
    double area, vdd, d3, d2, d1, d0, e2, e1, e0;
} node_row;

static const node_row node_rows[] = {
    {180, 1.0, 1.8, 0, 97.09, -356.7, 406.5, 0, 24.64, -17.98},
    {130, 0.34, 1.3, -76.65, 334.9, -493.4, 275.8, 7.171, -6.709, 2.904},
    {90, 0.15, 1.2, -60.34, 262.5, -384.2, 210.9, 4.762, -4.781, 2.092},
    {65, 0.08, 1.1, -53.3, 230.4, -333.9, 178.6, 3.755, -4.398, 1.975},
    {45, 0.053, 1.0, -501.6, 1567, -1619, 566.1, 1.018, -0.3107, 0.1539},
    {32, 0.025, 0.9, -1047, 2982, -2797, 873.5, 0.8367, -0.4341, 0.1701},
};
#define NODE_ROWS (sizeof node_rows / sizeof node_rows[0])

static const node_row *node_find(int nm)
{
    for (size_t i = 0; i < NODE_ROWS; i++)
        if (node_rows[i].nm == nm)
            return &node_rows[i];
    return NULL;
}

static double node_delay(const node_row *r)
{
    const double v = r->vdd;
    return ((r->d3 * v + r->d2) * v + r->d1) * v + r->d0;
}

static double node_energy(const node_row *r)
{
    const double v = r->vdd;
    return (r->e2 * v + r->e1) * v + r->e0;
}

td_status hw_calib_scale(int from_nm, int to_nm, double *area, double *energy, double *delay)
{
    const node_row *a = node_find(from_nm), *b = node_find(to_nm);
    if (!a || !b)
        return td_fail(TD_ERR_CONFIG,
                       "technology node %d nm: not in the scaling table (%s; nodes 180, 130, "
                       "90, 65, 45, 32 nm)",
                       a ? to_nm : from_nm, STILLMAKER);
    if (area)
        *area = b->area / a->area;
    if (energy)
        *energy = node_energy(b) / node_energy(a);
    if (delay)
        *delay = node_delay(b) / node_delay(a);
    return TD_OK;
}

/* ------------------------------------------------------------------ least squares */

td_status hw_calib_fit_linear(const double *X, const double *y, size_t n, size_t p,
                              hw_calib_fit *fit, double *resid)
{
    memset(fit, 0, sizeof *fit);
    if (p == 0 || p > 4 || n < p)
        return td_fail(TD_ERR_INTERNAL, "least squares: %zu points for %zu coefficients", n, p);
    for (size_t i = 0; i < n; i++)
        if (y[i] == 0 || !isfinite(y[i]))
            return td_fail(TD_ERR_INTERNAL, "least squares: point %zu has y = %g", i, y[i]);
    gsl_set_error_handler_off();
    gsl_matrix *m = gsl_matrix_alloc(n, p), *cov = gsl_matrix_alloc(p, p);
    gsl_vector *vy = gsl_vector_alloc(n), *vc = gsl_vector_alloc(p);
    gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, p);
    td_status st = TD_OK;
    if (!m || !cov || !vy || !vc || !ws) {
        st = td_fail(TD_ERR_NOMEM, "least squares: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        gsl_vector_set(vy, i, y[i]);
        for (size_t j = 0; j < p; j++)
            gsl_matrix_set(m, i, j, X[i * p + j]);
    }
    double chisq;
    if (gsl_multifit_linear(m, vy, vc, cov, &chisq, ws) != GSL_SUCCESS) {
        st = td_fail(TD_ERR_INTERNAL, "least squares: GSL multifit failed");
        goto done;
    }
    fit->have = true;
    fit->n_coef = p;
    for (size_t j = 0; j < p; j++)
        fit->coef[j] = gsl_vector_get(vc, j);
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        double f = 0;
        for (size_t j = 0; j < p; j++)
            f += fit->coef[j] * X[i * p + j];
        double r = (f - y[i]) / y[i];
        if (resid)
            resid[i] = r;
        ss += r * r;
    }
    fit->rms_rel = sqrt(ss / (double)n);
done:
    gsl_multifit_linear_free(ws);
    gsl_vector_free(vc);
    gsl_vector_free(vy);
    gsl_matrix_free(cov);
    gsl_matrix_free(m);
    return st;
}

/* ------------------------------------------------------------------ loading */

static td_status get_num(json_t *o, const char *key, const char *path, const char *where,
                         double *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        return td_fail(TD_ERR_FORMAT, "%s: %s%s'%s' is missing or not a number", path,
                       where ? where : "", where ? ": " : "", key);
    *out = json_number_value(v);
    return TD_OK;
}

static td_status load_fit(json_t *fits, const char *key, size_t n_coef, const char *path,
                          hw_calib_fit *fit)
{
    memset(fit, 0, sizeof *fit);
    json_t *f = json_object_get(fits, key);
    if (!f)
        return TD_OK; /* optional (a --quick calibration has none) */
    json_t *coef = json_object_get(f, "coef");
    if (!json_is_array(coef) || json_array_size(coef) != n_coef)
        return td_fail(TD_ERR_FORMAT, "%s: fits.%s.coef must be an array of %zu numbers", path, key,
                       n_coef);
    for (size_t i = 0; i < n_coef; i++) {
        json_t *v = json_array_get(coef, i);
        if (!json_is_number(v))
            return td_fail(TD_ERR_FORMAT, "%s: fits.%s.coef[%zu] is not a number", path, key, i);
        fit->coef[i] = json_number_value(v);
    }
    json_t *r = json_object_get(f, "rms_rel");
    fit->rms_rel = json_is_number(r) ? json_number_value(r) : NAN;
    fit->n_coef = n_coef;
    fit->have = true;
    return TD_OK;
}

static int dataflow_index(const char *s)
{
    if (strcmp(s, "ws") == 0)
        return HW_DATAFLOW_WS;
    if (strcmp(s, "os") == 0)
        return HW_DATAFLOW_OS;
    return -1;
}

static td_status load_root(hw_calib *c, json_t *root, const char *path)
{
    json_t *fmt = json_object_get(root, "format");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), HW_CALIB_FORMAT) != 0)
        return td_fail(TD_ERR_FORMAT, "%s: 'format' must be \"%s\"", path, HW_CALIB_FORMAT);
    json_t *ver = json_object_get(root, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) != HW_CALIB_VERSION)
        return td_fail(TD_ERR_FORMAT, "%s: 'version' must be %d", path, HW_CALIB_VERSION);
    json_t *lib = json_object_get(root, "library");
    if (!json_is_object(lib))
        return td_fail(TD_ERR_FORMAT, "%s: 'library' is missing or not an object", path);
    json_t *name = json_object_get(lib, "name");
    snprintf(c->library, sizeof c->library, "%s",
             json_is_string(name) ? json_string_value(name) : "?");
    double nm = 0, vdd = 0;
    td_status st = get_num(lib, "node_nm", path, "library", &nm);
    if (st == TD_OK)
        st = get_num(lib, "vdd_v", path, "library", &vdd);
    if (st != TD_OK)
        return st;
    c->lib_nm = (int)nm;
    c->lib_vdd = vdd;
    if (!node_find(c->lib_nm))
        return td_fail(TD_ERR_FORMAT, "%s: library.node_nm %d is not in the scaling table", path,
                       c->lib_nm);
    json_t *tools = json_object_get(root, "tools");
    const char *k;
    json_t *v;
    size_t used = 0;
    json_object_foreach(tools, k, v)
    {
        if (json_is_string(v) && used < sizeof c->tools)
            used += (size_t)snprintf(c->tools + used, sizeof c->tools - used, "%s%s: %s",
                                     used ? "; " : "", k, json_string_value(v));
    }

    json_t *pes = json_object_get(root, "pe");
    if (!json_is_array(pes))
        return td_fail(TD_ERR_FORMAT, "%s: 'pe' is missing or not an array", path);
    size_t i;
    json_array_foreach(pes, i, v)
    {
        char where[32];
        snprintf(where, sizeof where, "pe[%zu]", i);
        json_t *df = json_object_get(v, "dataflow");
        int d = json_is_string(df) ? dataflow_index(json_string_value(df)) : -1;
        if (d < 0)
            return td_fail(TD_ERR_FORMAT, "%s: %s: 'dataflow' must be \"ws\" or \"os\"", path,
                           where);
        double bits, acc;
        if ((st = get_num(v, "bits", path, where, &bits)) != TD_OK ||
            (st = get_num(v, "acc_bits", path, where, &acc)) != TD_OK)
            return st;
        int bi = hw_calib_bits_index((int)bits);
        if (bi < 0)
            return td_fail(TD_ERR_FORMAT, "%s: %s: bits %g is not 4, 8, 16 or 32", path, where,
                           bits);
        hw_calib_pe *p = &c->pe[d][bi];
        p->acc_bits = (int)acc;
        p->have_area = get_num(v, "area_um2", path, where, &p->area_um2) == TD_OK;
        p->have_fmax = get_num(v, "fmax_mhz", path, where, &p->fmax_mhz) == TD_OK;
        p->have_energy = get_num(v, "mac_pj", path, where, &p->mac_pj) == TD_OK &&
                         get_num(v, "mac_seq_pj", path, where, &p->mac_seq_pj) == TD_OK &&
                         get_num(v, "mac_comb_pj", path, where, &p->mac_comb_pj) == TD_OK;
    }
    td_error_clear();

    json_t *fits = json_object_get(root, "fits");
    if ((st = load_fit(fits, "array_area_ws", 4, path, &c->array_area[HW_DATAFLOW_WS])) != TD_OK ||
        (st = load_fit(fits, "array_area_os", 4, path, &c->array_area[HW_DATAFLOW_OS])) != TD_OK ||
        (st = load_fit(fits, "vector_area", 2, path, &c->vector_area)) != TD_OK)
        return st;
    json_t *ctrl = json_object_get(root, "controller_um2");
    c->ctrl_um2 = json_is_number(ctrl) ? json_number_value(ctrl) : NAN;

    json_t *table = json_object_get(root, "table");
    if (!json_is_object(table))
        return td_fail(TD_ERR_FORMAT, "%s: 'table' is missing or not an object", path);
    for (int j = 0; j < HW_CONST_COUNT; j++)
        c->table[j] = NAN;
    json_object_foreach(table, k, v)
    {
        int id = hw_tech_find(k);
        if (id < 0)
            return td_fail(TD_ERR_FORMAT, "%s: table.%s: unknown constant (hw_tech.h names)", path,
                           k);
        char where[96];
        snprintf(where, sizeof where, "table.%s", k);
        if ((st = get_num(v, "value", path, where, &c->table[id])) != TD_OK)
            return st;
        json_t *src = json_object_get(v, "source");
        snprintf(c->table_source[id], sizeof c->table_source[id], "%s",
                 json_is_string(src) ? json_string_value(src) : "synthesis");
    }
    return TD_OK;
}

td_status hw_calib_load(hw_calib *c, const char *path)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        FILE *fp = fopen(path, "r");
        if (!fp)
            return td_fail(TD_ERR_IO, "%s: cannot open calibration file", path);
        fclose(fp);
        return td_fail(TD_ERR_PARSE, "%s:%d:%d: %s", path, err.line, err.column, err.text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return td_fail(TD_ERR_FORMAT, "%s: top level must be an object", path);
    }
    td_status st = load_root(c, root, path);
    json_decref(root);
    return st;
}

/* ------------------------------------------------------------------ table and checks */

typedef enum scale_kind { SCALE_NONE, SCALE_AREA, SCALE_ENERGY } scale_kind;

static scale_kind entry_scale(int id)
{
    switch (id) {
    case HW_C_ADD8_PJ:
    case HW_C_ADD32_PJ:
    case HW_C_MULT8_PJ:
    case HW_C_MULT32_PJ:
    case HW_C_REG_BIT_PJ:
    case HW_C_SRAM8K_PJ:
    case HW_C_SRAM32K_PJ:
    case HW_C_SRAM1M_PJ:
    case HW_C_CMD_PJ:
        return SCALE_ENERGY;
    case HW_C_ADD8_UM2:
    case HW_C_ADD32_UM2:
    case HW_C_MULT8_UM2:
    case HW_C_MULT32_UM2:
    case HW_C_FF_UM2:
    case HW_C_SRAM_BIT_UM2:
    case HW_C_CTRL_UM2:
    case HW_C_VEC_BASE_UM2:
    case HW_C_VEC_LANE_UM2:
        return SCALE_AREA;
    default:
        return SCALE_NONE;
    }
}

/* Origin strings live in static storage per node (one table per node is what callers build). */
static char origin_buf[NODE_ROWS][1024];
static char source_buf[NODE_ROWS][HW_CONST_COUNT][256];
static char fmax_buf[NODE_ROWS][256];

td_status hw_calib_table(const hw_calib *c, int node_nm, hw_tech_table *out)
{
    double sa, se;
    td_status st = hw_calib_scale(c->lib_nm, node_nm, &sa, &se, NULL);
    if (st != TD_OK)
        return st;
    const hw_tech_table *def = hw_tech_default();
    size_t row = (size_t)(node_find(node_nm) - node_rows);
    *out = *def;
    out->calibrated = true;
    snprintf(origin_buf[row], sizeof origin_buf[row],
             "calibration %.300s (%s, %d nm synthesis) scaled to %d nm (Stillmaker & Baas "
             "2017); SRAM, DRAM and command energy stay on the published model",
             c->path, c->library, c->lib_nm, node_nm);
    out->origin = origin_buf[row];
    out->c[HW_C_REF_NM].value = node_nm;
    out->c[HW_C_REF_NM].source = "node the calibrated table was scaled to";
    /* Published entries keep their 45 nm values; move them to node_nm with hw_model's own
     * (classical) scaling so that the table stays self-consistent at its new ref_nm. */
    const double def_nm = def->c[HW_C_REF_NM].value;
    for (int id = 0; id < HW_CONST_COUNT; id++) {
        scale_kind k = entry_scale(id);
        if (id == HW_C_REF_NM)
            continue;
        if (!isnan(c->table[id])) {
            double f = k == SCALE_AREA ? sa : k == SCALE_ENERGY ? se : 1.0;
            if (id == HW_C_LEAK_MW_PER_MM2)
                f = 1.0; /* density: not scaled (docs/calibration.md) */
            out->c[id].value = c->table[id] * f;
            snprintf(source_buf[row][id], sizeof source_buf[row][id], "%s (%s, %d nm) x %.4g (%s)",
                     c->table_source[id], c->library, c->lib_nm, f,
                     f == 1.0 ? "not scaled" : "Stillmaker & Baas 2017");
            out->c[id].source = source_buf[row][id];
            out->c[id].origin = HW_ORIGIN_SYNTHESIS | (f != 1.0 ? HW_ORIGIN_SCALED : 0u);
        } else if (k != SCALE_NONE && id != HW_C_DRAM64_PJ) {
            double s = node_nm / def_nm;
            out->c[id].value = def->c[id].value * (k == SCALE_AREA ? s * s : s);
            if (node_nm != (int)def_nm)
                out->c[id].origin |= HW_ORIGIN_SCALED;
        }
    }
    /* the vector unit's synthesized area: the per-lane fit v0 + v1*lanes (8 bits, AccBits 32) */
    if (c->vector_area.have && c->vector_area.n_coef == 2 && c->vector_area.coef[1] > 0) {
        static const int ids[2] = {HW_C_VEC_BASE_UM2, HW_C_VEC_LANE_UM2};
        for (int i = 0; i < 2; i++) {
            const int id = ids[i];
            out->c[id].value = fmax(0, c->vector_area.coef[i]) * sa;
            snprintf(source_buf[row][id], sizeof source_buf[row][id],
                     "synthesis: rtl_vector_unit fit v0 + v1*lanes, coefficient %d (%s, %d nm; "
                     "abc -fast) x %.4g (Stillmaker & Baas 2017)",
                     i, c->library, c->lib_nm, sa);
            out->c[id].source = source_buf[row][id];
            out->c[id].origin = HW_ORIGIN_SYNTHESIS | HW_ORIGIN_SCALED;
        }
    }
    out->c[HW_C_FMAX_MHZ].value = 0;
    out->c[HW_C_FMAX_MHZ].source = "per dataflow and bit width: pe_fmax_mhz";
    /* The PE's fmax per dataflow and width at node_nm (hw_calib_fmax_mhz: delay scaled with the
     * Stillmaker & Baas factor); hw_config_check uses it as hw_calib_check_clock does. */
    for (int df = 0; df < HW_DATAFLOW_COUNT; df++)
        for (int bi = 0; bi < HW_CALIB_BITS_COUNT; bi++) {
            static const int widths[HW_CALIB_BITS_COUNT] = {4, 8, 16, 32};
            double f = 0;
            if (c->pe[df][bi].have_fmax &&
                hw_calib_fmax_mhz(c, df, widths[bi], node_nm, &f) != TD_OK)
                f = 0;
            out->pe_fmax_mhz[df][bi] = f;
        }
    td_error_clear();
    snprintf(fmax_buf[row], sizeof fmax_buf[row],
             "synthesis: the PE's critical path (OpenSTA, %s %d nm) x delay factor to %d nm (%s)",
             c->library, c->lib_nm, node_nm, "Stillmaker & Baas 2017");
    out->fmax_source = fmax_buf[row];
    return TD_OK;
}

td_status hw_calib_fmax_mhz(const hw_calib *c, int dataflow, int bits, int node_nm,
                            double *fmax_mhz)
{
    int bi = hw_calib_bits_index(bits);
    if (dataflow < 0 || dataflow > 1 || bi < 0 || !c->pe[dataflow][bi].have_fmax)
        return td_fail(TD_ERR_CONFIG, "%s: no fmax for %s PEs at %d bits", c->path,
                       dataflow == HW_DATAFLOW_OS ? "os" : "ws", bits);
    double sd;
    td_status st = hw_calib_scale(c->lib_nm, node_nm, NULL, NULL, &sd);
    if (st != TD_OK)
        return st;
    *fmax_mhz = c->pe[dataflow][bi].fmax_mhz / sd;
    return TD_OK;
}

td_status hw_calib_check_clock(const hw_calib *c, const hw_config *cfg, hw_violations *out,
                               double *fmax_mhz)
{
    double fmax = 0;
    td_status st = hw_calib_fmax_mhz(c, (int)cfg->dataflow, cfg->bits, cfg->tech_nm, &fmax);
    if (st != TD_OK)
        return st;
    if (fmax_mhz)
        *fmax_mhz = fmax;
    if (cfg->clock_mhz > fmax && out->n < HW_VIOL_COUNT) {
        hw_violation *v = &out->v[out->n++];
        v->kind = HW_VIOL_FMAX;
        v->amount = cfg->clock_mhz - fmax;
        v->required = cfg->clock_mhz;
        v->layer[0] = '\0';
        out->total += v->amount / cfg->clock_mhz;
    }
    return TD_OK;
}

td_status hw_calib_array_area_um2(const hw_calib *c, int dataflow, int rows, int cols,
                                  double *area_um2)
{
    if (dataflow < 0 || dataflow > 1 || !c->array_area[dataflow].have)
        return td_fail(TD_ERR_CONFIG, "%s: no array area fit for %s (run a full calibration)",
                       c->path, dataflow == HW_DATAFLOW_OS ? "os" : "ws");
    const double *k = c->array_area[dataflow].coef;
    *area_um2 = k[0] + k[1] * rows * cols + k[2] * rows + k[3] * cols;
    return TD_OK;
}

/* ------------------------------------------------------------------ technology selection */

static const char *const mode_names[HW_TECH_MODE_COUNT] = {"calibrated", "published"};

const char *hw_tech_mode_name(hw_tech_mode m)
{
    return (int)m >= 0 && m < HW_TECH_MODE_COUNT ? mode_names[m] : "?";
}

td_status hw_tech_mode_parse(const char *s, hw_tech_mode *out)
{
    for (int m = 0; m < HW_TECH_MODE_COUNT; m++)
        if (s && strcmp(s, mode_names[m]) == 0) {
            *out = (hw_tech_mode)m;
            return TD_OK;
        }
    return td_fail(TD_ERR_CONFIG, "technology table '%s' is neither 'calibrated' nor 'published'",
                   s ? s : "");
}

td_status hw_calib_find_default(char *out, size_t size)
{
    char looked[1536] = "";
    size_t used = 0;
    const char *cand[3] = {NULL, NULL, NULL};
    const char *env = getenv("TANDEM_CALIBRATION");
    if (env && *env)
        cand[0] = env; /* set: the only candidate */
    /* an installed binary: <prefix>/bin/tandem -> <prefix>/share/tandem/calibration/ */
    char exe[512], inst[600];
    ssize_t n = cand[0] ? 0 : readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(inst, sizeof inst, "%s/../share/tandem/calibration/" HW_CALIB_DEFAULT_FILE,
                     exe);
            cand[1] = inst;
        }
    }
#ifdef TANDEM_CALIB_SOURCE_PATH
    if (!cand[0])
        cand[2] = TANDEM_CALIB_SOURCE_PATH; /* the source tree this build came from */
#endif
    for (int i = 0; i < 3; i++) {
        if (!cand[i])
            continue;
        if (access(cand[i], R_OK) == 0) {
            snprintf(out, size, "%s", cand[i]);
            return TD_OK;
        }
        used += (size_t)snprintf(looked + used, used < sizeof looked ? sizeof looked - used : 0,
                                 "%s%s%s", used ? ", " : "", cand[i],
                                 i == 0 ? " ($TANDEM_CALIBRATION)" : "");
        if (used >= sizeof looked)
            used = sizeof looked - 1;
    }
    return td_fail(TD_ERR_IO, "no calibration file found (looked for %s)",
                   used ? looked : "nothing: no path known");
}

static bool sel_done;
static pthread_once_t sel_once = PTHREAD_ONCE_INIT;
static const hw_tech_table *sel_override;
static hw_tech_mode sel_mode = HW_TECH_MODE_PUBLISHED;
static hw_calib sel_calib;
static hw_tech_table sel_tables[NODE_ROWS];
static bool sel_have[NODE_ROWS];
static size_t sel_report_row;
static char sel_note[1024];

td_status hw_tech_select(hw_tech_mode mode, const char *calib_path)
{
    sel_done = true;
    if (mode == HW_TECH_MODE_PUBLISHED) {
        sel_mode = mode;
        snprintf(sel_note, sizeof sel_note, "published table selected");
        return TD_OK;
    }
    if (mode != HW_TECH_MODE_CALIBRATED)
        return td_fail(TD_ERR_CONFIG, "technology table mode %d is unknown", (int)mode);
    char path[1024];
    td_status st;
    if (calib_path && *calib_path)
        snprintf(path, sizeof path, "%s", calib_path);
    else if ((st = hw_calib_find_default(path, sizeof path)) != TD_OK)
        goto fallback;
    static hw_calib c; /* loaded aside: a failed load keeps the current selection */
    if ((st = hw_calib_load(&c, path)) != TD_OK) {
        if (calib_path && *calib_path)
            return st; /* a file the user named: an error */
        goto fallback;
    }
    sel_calib = c;
    bool any = false;
    for (size_t i = 0; i < NODE_ROWS; i++) {
        sel_have[i] = hw_calib_table(&sel_calib, node_rows[i].nm, &sel_tables[i]) == TD_OK;
        any = any || sel_have[i];
        if (node_rows[i].nm == HW_CALIB_DEFAULT_NODE_NM)
            sel_report_row = i;
    }
    td_error_clear();
    if (!any || !sel_have[sel_report_row])
        return td_fail(TD_ERR_FORMAT, "%s: no technology table could be built from it", path);
    sel_mode = HW_TECH_MODE_CALIBRATED;
    snprintf(sel_note, sizeof sel_note, "calibrated table from %s", path);
    return TD_OK;
fallback:
    sel_mode = HW_TECH_MODE_PUBLISHED;
    snprintf(sel_note, sizeof sel_note,
             "calibrated table not installed: %s; using the published 45 nm table",
             td_error_message());
    td_error_clear();
    td_log_warn("hw_model: %s", sel_note);
    return TD_OK;
}

static void sel_default(void)
{
    if (!sel_done)
        hw_tech_select(HW_TECH_MODE_CALIBRATED, NULL);
}

static inline void sel_ensure(void)
{
    if (!sel_done)
        pthread_once(&sel_once, sel_default);
}

hw_tech_mode hw_tech_selected_mode(void)
{
    sel_ensure();
    return sel_mode;
}

const char *hw_tech_selection_note(void)
{
    sel_ensure();
    return sel_note;
}

const hw_calib *hw_tech_selected_calib(void)
{
    sel_ensure();
    return sel_mode == HW_TECH_MODE_CALIBRATED ? &sel_calib : NULL;
}

void hw_tech_set_active(const hw_tech_table *t)
{
    sel_override = t;
}

const hw_tech_table *hw_tech_for_node(int nm)
{
    if (sel_override)
        return sel_override;
    sel_ensure();
    if (sel_mode != HW_TECH_MODE_CALIBRATED)
        return hw_tech_default();
    for (size_t i = 0; i < NODE_ROWS; i++)
        if (node_rows[i].nm == nm && sel_have[i])
            return &sel_tables[i];
    return &sel_tables[sel_report_row];
}

const hw_tech_table *hw_tech_active(void)
{
    return hw_tech_for_node(HW_CALIB_DEFAULT_NODE_NM);
}
