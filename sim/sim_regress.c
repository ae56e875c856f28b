/* Regression suites (sim.h, docs/sim.md "Regression suites"): YAML suite files, cases run
 * through the Verilated RTL core and the SystemC twin against the C integer reference, a
 * summary and JUnit XML. */
#include "sim.h"

#include "nn_intmath.h"
#include "nn_model.h"

#include <errno.h>
#include <libfyaml.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ loading */

static void where_of(struct fy_node *n, const char *file, char *out, size_t size)
{
    struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    if (m)
        snprintf(out, size, "%s:%d:%d", file, m->line + 1, m->column + 1);
    else
        snprintf(out, size, "%s", file);
}

static bool scalar(struct fy_node *n, char *out, size_t size)
{
    if (!n || !fy_node_is_scalar(n) || fy_node_is_null(n))
        return false;
    size_t len;
    const char *t = fy_node_get_scalar(n, &len);
    if (len >= size)
        len = size - 1;
    memcpy(out, t, len);
    out[len] = '\0';
    return true;
}

static td_status get_int(struct fy_node *map, const char *key, const char *file, int64_t lo,
                         int64_t hi, bool required, int64_t def, int64_t *out)
{
    struct fy_node *v = fy_node_mapping_lookup_by_string(map, key, FY_NT);
    char buf[64], where[300];
    if (!v) {
        if (required) {
            struct fy_node_pair *p;
            void *it = NULL;
            p = fy_node_mapping_iterate(map, &it);
            where_of(p ? fy_node_pair_key(p) : NULL, file, where, sizeof where);
            return td_fail(TD_ERR_CONFIG, "%s: key '%s' is missing", where, key);
        }
        *out = def;
        return TD_OK;
    }
    where_of(v, file, where, sizeof where);
    char *end;
    if (!scalar(v, buf, sizeof buf))
        return td_fail(TD_ERR_CONFIG, "%s: key '%s' expects an integer", where, key);
    errno = 0;
    long long x = strtoll(buf, &end, 10);
    if (errno || *end || end == buf)
        return td_fail(TD_ERR_CONFIG, "%s: key '%s': '%s' is not an integer", where, key, buf);
    if (x < lo || x > hi)
        return td_fail(TD_ERR_CONFIG, "%s: key '%s': %lld outside [%lld, %lld]", where, key, x,
                       (long long)lo, (long long)hi);
    *out = x;
    return TD_OK;
}

static td_status resolve_hw(const char *arg, const char *suite_path, hw_config *cfg)
{
    if (hw_preset(arg, cfg) == TD_OK)
        return TD_OK;
    td_error_clear();
    char path[600];
    if (arg[0] == '/') {
        snprintf(path, sizeof path, "%s", arg);
    } else {
        char dir[300];
        snprintf(dir, sizeof dir, "%s", suite_path);
        snprintf(path, sizeof path, "%s/%s", dirname(dir), arg);
    }
    return hw_config_load_file(path, cfg);
}

static td_status load_case(struct fy_node *cn, const char *file, sim_suite *s, sim_case *c)
{
    char where[300], buf[256];
    memset(c, 0, sizeof *c);
    if (!fy_node_is_mapping(cn)) {
        return td_fail(TD_ERR_CONFIG, "%s: case %zu is not a mapping", file, s->n_cases + 1);
    }
    struct fy_node_pair *p;
    void *it = NULL;
    while ((p = fy_node_mapping_iterate(cn, &it)) != NULL) {
        char k[64] = "";
        scalar(fy_node_pair_key(p), k, sizeof k);
        static const char *const known[] = {"name", "hw", "gemm", "conv", "net", "seed", NULL};
        bool ok = false;
        for (const char *const *q = known; *q; q++)
            ok = ok || strcmp(*q, k) == 0;
        if (!ok) {
            where_of(fy_node_pair_key(p), file, where, sizeof where);
            return td_fail(TD_ERR_CONFIG,
                           "%s: unknown case key '%s' (keys: name, hw, gemm, conv, net, seed)",
                           where, k);
        }
    }
    struct fy_node *nn = fy_node_mapping_lookup_by_string(cn, "name", FY_NT);
    if (!scalar(nn, c->name, sizeof c->name))
        return td_fail(TD_ERR_CONFIG, "%s: case %zu has no 'name'", file, s->n_cases + 1);
    where_of(nn, file, c->where, sizeof c->where);
    struct fy_node *hn = fy_node_mapping_lookup_by_string(cn, "hw", FY_NT);
    if (!scalar(hn, buf, sizeof buf))
        return td_fail(TD_ERR_CONFIG, "%s: case '%s' has no 'hw'", c->where, c->name);
    where_of(hn, file, where, sizeof where);
    td_status st = resolve_hw(buf, file, &c->cfg);
    if (st != TD_OK)
        return td_fail_context(st, "%s: case '%s': hw '%s': ", where, c->name, buf);
    int64_t seed = 0;
    if ((st = get_int(cn, "seed", file, 0, INT64_MAX, false, 1, &seed)) != TD_OK)
        return st;
    c->seed = (uint64_t)seed;
    struct fy_node *g = fy_node_mapping_lookup_by_string(cn, "gemm", FY_NT);
    struct fy_node *v = fy_node_mapping_lookup_by_string(cn, "conv", FY_NT);
    struct fy_node *n = fy_node_mapping_lookup_by_string(cn, "net", FY_NT);
    if ((g != NULL) + (v != NULL) + (n != NULL) != 1)
        return td_fail(TD_ERR_CONFIG, "%s: case '%s' needs exactly one of gemm, conv, net",
                       c->where, c->name);
    if (g) {
        c->kind = SIM_CASE_GEMM;
        if (!fy_node_is_mapping(g))
            return td_fail(TD_ERR_CONFIG, "%s: case '%s': gemm must be {m, k, n}", c->where,
                           c->name);
        if ((st = get_int(g, "m", file, 1, 1 << 20, true, 0, &c->m)) != TD_OK ||
            (st = get_int(g, "k", file, 1, 1 << 20, true, 0, &c->k)) != TD_OK ||
            (st = get_int(g, "n", file, 1, 1 << 20, true, 0, &c->n)) != TD_OK)
            return st;
    } else if (v) {
        c->kind = SIM_CASE_CONV;
        if (!fy_node_is_mapping(v))
            return td_fail(TD_ERR_CONFIG, "%s: case '%s': conv must be a mapping", c->where,
                           c->name);
        if ((st = get_int(v, "c_in", file, 1, 4096, true, 0, &c->c_in)) != TD_OK ||
            (st = get_int(v, "h", file, 1, 4096, true, 0, &c->h)) != TD_OK ||
            (st = get_int(v, "w", file, 1, 4096, true, 0, &c->w)) != TD_OK ||
            (st = get_int(v, "c_out", file, 1, 4096, true, 0, &c->c_out)) != TD_OK ||
            (st = get_int(v, "k", file, 1, 15, true, 0, &c->ksize)) != TD_OK ||
            (st = get_int(v, "stride", file, 1, 8, false, 1, &c->stride)) != TD_OK ||
            (st = get_int(v, "pad", file, 0, 7, false, 0, &c->pad)) != TD_OK)
            return st;
        if (c->h + 2 * c->pad < c->ksize || c->w + 2 * c->pad < c->ksize)
            return td_fail(TD_ERR_CONFIG,
                           "%s: case '%s': kernel %lld larger than the padded "
                           "image",
                           c->where, c->name, (long long)c->ksize);
    } else {
        c->kind = SIM_CASE_NET;
        if (!scalar(n, c->net, sizeof c->net))
            return td_fail(TD_ERR_CONFIG, "%s: case '%s': net must be a name", c->where, c->name);
    }
    return TD_OK;
}

static void diag_collect(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    char *dst = user;
    if (dst[0] == '\0' && len) {
        size_t n = len < 511 ? len : 511;
        memcpy(dst, buf, n);
        dst[n] = '\0';
        char *nl = strchr(dst, '\n');
        if (nl)
            *nl = '\0';
    }
}

td_status sim_suite_load(const char *path, sim_suite *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->cores[SIM_CORE_RTL] = s->cores[SIM_CORE_TWIN] = true;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return td_fail(TD_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    fclose(fp);
    /* libfyaml's diagnostics are collected, not printed: the first becomes the message */
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = diag_collect;
    char diag_msg[512] = "";
    dcfg.user = diag_msg;
    dcfg.colorize = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    struct fy_parse_cfg pcfg = {.flags = FYPCF_QUIET, .diag = diag};
    struct fy_document *doc = fy_document_build_from_file(&pcfg, path);
    if (!doc) {
        int line = 0, col = 0;
        void *dit = NULL;
        struct fy_diag_error *e = diag ? fy_diag_errors_iterate(diag, &dit) : NULL;
        const char *msg = diag_msg;
        if (e) {
            line = e->line;
            col = e->column;
            if (e->msg)
                msg = e->msg;
        }
        td_status fst = e ? td_fail(TD_ERR_PARSE, "%s:%d:%d: not a valid YAML document: %s", path,
                                    line + 1, col + 1, msg)
                        : msg[0] ? td_fail(TD_ERR_PARSE, "not a valid YAML document: %s", msg)
                                 : td_fail(TD_ERR_PARSE, "%s: not a valid YAML document", path);
        if (diag)
            fy_diag_destroy(diag);
        return fst;
    }
    if (diag)
        fy_diag_destroy(diag);
    td_status st = TD_OK;
    struct fy_node *root = fy_document_root(doc);
    struct fy_node *cases = root && fy_node_is_mapping(root)
                                ? fy_node_mapping_lookup_by_string(root, "cases", FY_NT)
                                : NULL;
    if (!cases || !fy_node_is_sequence(cases) || fy_node_sequence_item_count(cases) == 0) {
        st = td_fail(TD_ERR_CONFIG, "%s: a suite needs a non-empty 'cases' list", path);
        goto out;
    }
    char buf[64] = "";
    if (!scalar(fy_node_mapping_lookup_by_string(root, "suite", FY_NT), s->name, sizeof s->name)) {
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%s", path);
        snprintf(s->name, sizeof s->name, "%s", basename(tmp));
    }
    struct fy_node *cores = fy_node_mapping_lookup_by_string(root, "cores", FY_NT);
    if (cores) {
        char where[300];
        where_of(cores, path, where, sizeof where);
        if (!fy_node_is_sequence(cores) || fy_node_sequence_item_count(cores) == 0) {
            st = td_fail(TD_ERR_CONFIG, "%s: key 'cores' must be a list of rtl and/or twin", path);
            goto out;
        }
        s->cores[SIM_CORE_RTL] = s->cores[SIM_CORE_TWIN] = false;
        void *it = NULL;
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(cores, &it)) != NULL) {
            sim_core_kind k;
            where_of(item, path, where, sizeof where);
            if (!scalar(item, buf, sizeof buf) || sim_core_parse(buf, &k) != TD_OK) {
                st = td_fail(TD_ERR_CONFIG, "%s: key 'cores': '%s' is neither rtl nor twin", where,
                             buf);
                goto out;
            }
            s->cores[k] = true;
        }
    }
    size_t n = (size_t)fy_node_sequence_item_count(cases);
    s->cases = calloc(n, sizeof *s->cases);
    if (!s->cases) {
        st = td_fail(TD_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    void *it = NULL;
    struct fy_node *cn;
    while ((cn = fy_node_sequence_iterate(cases, &it)) != NULL) {
        if ((st = load_case(cn, path, s, &s->cases[s->n_cases])) != TD_OK)
            goto out;
        for (size_t j = 0; j < s->n_cases; j++)
            if (strcmp(s->cases[j].name, s->cases[s->n_cases].name) == 0) {
                st = td_fail(TD_ERR_CONFIG, "%s: case name '%s' repeats %s",
                             s->cases[s->n_cases].where, s->cases[j].name, s->cases[j].where);
                goto out;
            }
        s->n_cases++;
    }
out:
    fy_document_destroy(doc);
    if (st != TD_OK)
        sim_suite_free(s);
    return st;
}

void sim_suite_free(sim_suite *s)
{
    free(s->cases);
    s->cases = NULL;
    s->n_cases = 0;
}

/* ------------------------------------------------------------------ running */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int64_t rng_range(uint64_t *s, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_next(s) % (uint64_t)(hi - lo + 1));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct gemm_case {
    int64_t m, k, n, lo, hi;
    int32_t *x, *w, *y_ref;
    int64_t *bias;
    nn_requant *rq;
} gemm_case;

static void gemm_case_free(gemm_case *g)
{
    free(g->x);
    free(g->w);
    free(g->y_ref);
    free(g->bias);
    free(g->rq);
}

/* Random operands over the whole b-bit range, requantization factors that saturate some
 * outputs at both ends, ReLU on odd seeds. Conv cases are lowered by im2col. */
static td_status gemm_case_make(const sim_case *c, gemm_case *g)
{
    memset(g, 0, sizeof *g);
    const int b = c->cfg.bits;
    const int64_t q = nn_qmax(b);
    uint64_t rs = c->seed * 0x100000001B3ull + 7;
    int64_t M = c->m, K = c->k, N = c->n, cin = c->c_in, H = c->h, W = c->w, oh = 0, ow = 0;
    if (c->kind == SIM_CASE_CONV) {
        oh = (H + 2 * c->pad - c->ksize) / c->stride + 1;
        ow = (W + 2 * c->pad - c->ksize) / c->stride + 1;
        M = oh * ow;
        K = cin * c->ksize * c->ksize;
        N = c->c_out;
    }
    g->m = M;
    g->k = K;
    g->n = N;
    g->x = calloc((size_t)(M * K), sizeof *g->x);
    g->w = calloc((size_t)(K * N), sizeof *g->w);
    g->y_ref = calloc((size_t)(M * N), sizeof *g->y_ref);
    g->bias = calloc((size_t)N, sizeof *g->bias);
    g->rq = calloc((size_t)N, sizeof *g->rq);
    if (!g->x || !g->w || !g->y_ref || !g->bias || !g->rq) {
        gemm_case_free(g);
        return td_fail(TD_ERR_NOMEM, "case '%s': out of memory", c->name);
    }
    if (c->kind == SIM_CASE_CONV) {
        int32_t *img = calloc((size_t)(cin * H * W), sizeof *img);
        if (!img) {
            gemm_case_free(g);
            return td_fail(TD_ERR_NOMEM, "case '%s': out of memory", c->name);
        }
        for (int64_t i = 0; i < cin * H * W; i++)
            img[i] = (int32_t)rng_range(&rs, -q - 1, q);
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++)
                for (int64_t ch = 0; ch < cin; ch++)
                    for (int64_t ky = 0; ky < c->ksize; ky++)
                        for (int64_t kx = 0; kx < c->ksize; kx++) {
                            int64_t iy = oy * c->stride - c->pad + ky;
                            int64_t ix = ox * c->stride - c->pad + kx;
                            int32_t v = 0;
                            if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                v = img[(ch * H + iy) * W + ix];
                            g->x[(oy * ow + ox) * K + (ch * c->ksize + ky) * c->ksize + kx] = v;
                        }
        free(img);
    } else {
        for (int64_t i = 0; i < M * K; i++)
            g->x[i] = (int32_t)rng_range(&rs, -q - 1, q);
    }
    for (int64_t i = 0; i < K * N; i++)
        g->w[i] = (int32_t)rng_range(&rs, -q - 1, q);
    const int64_t bq = b >= 16 ? (int64_t)1 << 24 : q * q * 4;
    td_status st = TD_OK;
    for (int64_t j = 0; j < N && st == TD_OK; j++) {
        g->bias[j] = rng_range(&rs, -bq, bq);
        double f =
            (0.25 + 3.0 * (double)(rng_next(&rs) % 1000) / 1000.0) / (sqrt((double)K) * (double)q);
        st = nn_requant_from_real(f, &g->rq[j]);
    }
    g->lo = (c->seed & 1) ? 0 : nn_qmin(b);
    g->hi = q;
    if (st == TD_OK)
        nn_int_gemm_ref(g->y_ref, g->x, g->w, g->bias, g->rq, g->lo, g->hi, M, K, N);
    else
        gemm_case_free(g);
    return st;
}

static void run_gemm(const sim_suite *s, const sim_case *c, sim_case_result *r)
{
    gemm_case g;
    rtl_hw hw;
    rtl_program p;
    rtl_gemm_out out;
    td_status st = sim_rtl_hw_from_config(&c->cfg, &hw);
    if (st == TD_OK)
        st = gemm_case_make(c, &g);
    if (st != TD_OK) {
        snprintf(r->message, sizeof r->message, "%s", td_error_message());
        return;
    }
    if ((st = rtl_program_init(&p, &hw)) == TD_OK) {
        rtl_gemm gm = {.m = g.m,
                       .k = g.k,
                       .n = g.n,
                       .x = g.x,
                       .w = g.w,
                       .bias = g.bias,
                       .rq = g.rq,
                       .lo = g.lo,
                       .hi = g.hi};
        st = rtl_program_add_gemm(&p, &gm, &out);
        if (st != TD_OK)
            rtl_program_free(&p);
    }
    if (st != TD_OK) {
        snprintf(r->message, sizeof r->message, "compile: %s", td_error_message());
        gemm_case_free(&g);
        return;
    }
    sim_params prm = sim_params_default();
    int32_t *y = calloc((size_t)(g.m * g.n), sizeof *y);
    int64_t hash[SIM_CORE_COUNT] = {0, 0};
    r->pass = y != NULL;
    const int64_t mt = hw.dataflow == HW_DATAFLOW_WS
                           ? (hw.x_depth < hw.acc_depth ? hw.x_depth : hw.acc_depth)
                           : hw.rows;
    for (int k = 0; k < SIM_CORE_COUNT && r->pass; k++) {
        if (!s->cores[k])
            continue;
        sim_prog_result pr;
        st = sim_run_program(&p, &c->cfg, (sim_core_kind)k, &prm, &pr);
        if (st != TD_OK) {
            snprintf(r->message, sizeof r->message, "%s core: %s", sim_core_name((sim_core_kind)k),
                     td_error_message());
            r->pass = false;
            break;
        }
        r->cycles[k] = pr.cycles;
        hash[k] = pr.cmd_cycles_hash;
        rtl_gemm_read(&p, &pr.mem, &out, y);
        for (int64_t i = 0; i < g.m * g.n; i++)
            if (y[i] != g.y_ref[i]) {
                int64_t m = i / g.n, n = i % g.n;
                snprintf(r->message, sizeof r->message,
                         "%s core: layer '%s' tile (m %lld, n %lld) index [%lld][%lld]: expected "
                         "%d, actual %d",
                         sim_core_name((sim_core_kind)k), c->name, (long long)(m / mt),
                         (long long)(n / hw.cols), (long long)m, (long long)n, g.y_ref[i], y[i]);
                r->pass = false;
                break;
            }
        if (r->pass && pr.err_flag) {
            snprintf(r->message, sizeof r->message, "%s core raised its error flag",
                     sim_core_name((sim_core_kind)k));
            r->pass = false;
        }
        sim_prog_result_free(&pr);
    }
    if (r->pass && s->cores[SIM_CORE_RTL] && s->cores[SIM_CORE_TWIN] &&
        (r->cycles[0] != r->cycles[1] || hash[0] != hash[1])) {
        snprintf(r->message, sizeof r->message,
                 "cycle counts differ: rtl %lld, twin %lld cycles (per-command timing %s)",
                 (long long)r->cycles[SIM_CORE_RTL], (long long)r->cycles[SIM_CORE_TWIN],
                 hash[0] == hash[1] ? "equal" : "differs");
        r->pass = false;
    }
    free(y);
    rtl_program_free(&p);
    gemm_case_free(&g);
}

static void run_net(const sim_suite *s, const sim_case *c, sim_case_result *r)
{
    nn_model *model = NULL;
    td_status st = nn_net_resolve(c->net, &model);
    if (st != TD_OK) {
        snprintf(r->message, sizeof r->message, "net '%s': %s", c->net, td_error_message());
        return;
    }
    r->pass = true;
    for (int k = 0; k < SIM_CORE_COUNT && r->pass; k++) {
        if (!s->cores[k])
            continue;
        sim_options o;
        sim_options_default(&o);
        o.core = (sim_core_kind)k;
        o.seed = c->seed;
        sim_result sr;
        st = sim_run_net(&model->graph, &c->cfg, &o, &sr);
        if (st != TD_OK) {
            snprintf(r->message, sizeof r->message, "%s core: %s", sim_core_name(o.core),
                     td_error_message());
            r->pass = false;
            break;
        }
        r->cycles[k] = sr.cycles;
        if (!sr.values_match) {
            snprintf(r->message, sizeof r->message, "%s core: %s", sim_core_name(o.core),
                     sr.first_mismatch);
            r->pass = false;
        }
        sim_result_free(&sr);
    }
    if (r->pass && s->cores[SIM_CORE_RTL] && s->cores[SIM_CORE_TWIN] &&
        r->cycles[0] != r->cycles[1]) {
        snprintf(r->message, sizeof r->message, "cycle counts differ: rtl %lld, twin %lld",
                 (long long)r->cycles[SIM_CORE_RTL], (long long)r->cycles[SIM_CORE_TWIN]);
        r->pass = false;
    }
    nn_model_free(model);
    free(model);
}

void sim_case_run(const sim_suite *s, size_t i, sim_case_result *r)
{
    const sim_case *c = &s->cases[i];
    memset(r, 0, sizeof *r);
    r->cycles[0] = r->cycles[1] = -1;
    const double t0 = now_s();
    if (c->kind == SIM_CASE_NET)
        run_net(s, c, r);
    else
        run_gemm(s, c, r);
    r->seconds = now_s() - t0;
}

td_status sim_suite_run(const sim_suite *s, int jobs, sim_case_result *results)
{
    if (jobs < 1)
        jobs = 1;
    if (jobs == 1) {
        for (size_t i = 0; i < s->n_cases; i++)
            sim_case_run(s, i, &results[i]);
        return TD_OK;
    }
    const size_t bytes = s->n_cases * sizeof *results;
    sim_case_result *sh =
        mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return td_fail(TD_ERR_NOMEM, "regress: cannot map %zu bytes", bytes);
    memset(sh, 0, bytes);
    pid_t *pids = calloc(s->n_cases, sizeof *pids);
    if (!pids) {
        munmap(sh, bytes);
        return td_fail(TD_ERR_NOMEM, "regress: out of memory");
    }
    size_t next = 0, running = 0;
    td_status st = TD_OK;
    while ((next < s->n_cases || running > 0)) {
        while (next < s->n_cases && running < (size_t)jobs) {
            fflush(stdout);
            fflush(stderr);
            pid_t pid = fork();
            if (pid < 0) {
                st = td_fail(TD_ERR_INTERNAL, "regress: fork failed: %s", strerror(errno));
                next = s->n_cases;
                break;
            }
            if (pid == 0) {
                sim_case_run(s, next, &sh[next]);
                _exit(0);
            }
            pids[next++] = pid;
            running++;
        }
        if (running == 0)
            break;
        int ws;
        pid_t done = wait(&ws);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        running--;
        for (size_t i = 0; i < next; i++)
            if (pids[i] == done && (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)) {
                sh[i].pass = false;
                snprintf(sh[i].message, sizeof sh[i].message, "case process died (status %d)", ws);
            }
    }
    memcpy(results, sh, bytes);
    free(pids);
    munmap(sh, bytes);
    return st;
}

size_t sim_suite_report(const sim_suite *s, const sim_case_result *results, FILE *fp)
{
    size_t failed = 0;
    fprintf(fp, "regress %s: %zu cases on %s%s%s\n", s->name, s->n_cases,
            s->cores[SIM_CORE_RTL] ? "rtl" : "",
            s->cores[SIM_CORE_RTL] && s->cores[SIM_CORE_TWIN] ? " and " : "",
            s->cores[SIM_CORE_TWIN] ? "twin" : "");
    const sim_case_result *first = NULL;
    size_t first_i = 0;
    for (size_t i = 0; i < s->n_cases; i++) {
        const sim_case_result *r = &results[i];
        if (r->pass) {
            fprintf(fp, "  PASS %-24s", s->cases[i].name);
            for (int k = 0; k < SIM_CORE_COUNT; k++)
                if (r->cycles[k] >= 0)
                    fprintf(fp, " %s %lld cycles", sim_core_name((sim_core_kind)k),
                            (long long)r->cycles[k]);
            fprintf(fp, " (%.2f s)\n", r->seconds);
        } else {
            failed++;
            fprintf(fp, "  FAIL %-24s %s\n", s->cases[i].name, r->message);
            if (!first) {
                first = r;
                first_i = i;
            }
        }
    }
    if (first)
        fprintf(fp, "first mismatch: case '%s' (%s): %s\n", s->cases[first_i].name,
                s->cases[first_i].where, first->message);
    fprintf(fp, "%zu passed, %zu failed\n", s->n_cases - failed, failed);
    return failed;
}

static void xml_escape(FILE *fp, const char *t)
{
    for (; *t; t++) {
        switch (*t) {
        case '<':
            fputs("&lt;", fp);
            break;
        case '>':
            fputs("&gt;", fp);
            break;
        case '&':
            fputs("&amp;", fp);
            break;
        case '"':
            fputs("&quot;", fp);
            break;
        case '\'':
            fputs("&apos;", fp);
            break;
        default:
            if ((unsigned char)*t >= 0x20 || *t == '\n' || *t == '\t')
                fputc(*t, fp);
        }
    }
}

td_status sim_suite_write_junit(const sim_suite *s, const sim_case_result *results,
                                const char *path)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return td_fail(TD_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    size_t failed = 0;
    double total = 0;
    for (size_t i = 0; i < s->n_cases; i++) {
        failed += !results[i].pass;
        total += results[i].seconds;
    }
    fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    fprintf(fp, "  <testsuite name=\"");
    xml_escape(fp, s->name);
    fprintf(fp, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n", s->n_cases,
            failed, total);
    for (size_t i = 0; i < s->n_cases; i++) {
        fprintf(fp, "    <testcase classname=\"regress.");
        xml_escape(fp, s->name);
        fprintf(fp, "\" name=\"");
        xml_escape(fp, s->cases[i].name);
        fprintf(fp, "\" time=\"%.3f\"", results[i].seconds);
        if (results[i].pass) {
            fprintf(fp, "/>\n");
            continue;
        }
        fprintf(fp, ">\n      <failure message=\"");
        xml_escape(fp, results[i].message);
        fprintf(fp, "\">");
        xml_escape(fp, s->cases[i].where);
        fprintf(fp, ": ");
        xml_escape(fp, results[i].message);
        fprintf(fp, "</failure>\n    </testcase>\n");
    }
    fprintf(fp, "  </testsuite>\n</testsuites>\n");
    if (fclose(fp) != 0)
        return td_fail(TD_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return TD_OK;
}
