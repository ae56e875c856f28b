#include "rep_fixture.h"

#include "cs_archive.h"
#include "cs_config.h"
#include "cs_rundir.h"
#include "td_config.h"
#include "td_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: a small deterministic generator, enough for synthetic data. */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return (double)(next(s) >> 11) / 9007199254740992.0;
}

typedef struct point {
    int64_t id;
    double obj[4];
    uint64_t hash;
    bool ok;
} point;

static bool dominates(const double *a, const double *b)
{
    bool better = false;
    for (int k = 0; k < 4; k++) {
        if (a[k] > b[k])
            return false;
        better = better || a[k] < b[k];
    }
    return better;
}

/* Metrics of one synthetic design (units in the names, as the search writes them). */
static json_t *make_metrics(uint64_t *s, int rows, int cols, int bits, double clock_mhz,
                            double dram_gbps, int depth, double obj[4], bool with_provenance)
{
    static const char *const kinds[] = {"conv", "conv", "dwconv", "maxpool", "fc"};
    json_t *layers = json_array();
    double lat = 0, en = 0;
    int64_t macs_total = 0, params = 0;
    for (int l = 0; l < depth; l++) {
        const char *kind = kinds[l % 5];
        int64_t macs = (int64_t)(2e5 + 3e6 * uniform(s)) * (strcmp(kind, "maxpool") ? 1 : 0);
        int64_t bytes = (int64_t)(4e3 + 2e5 * uniform(s));
        double peak = 2.0 * rows * cols * clock_mhz * 1e6;
        double t_compute = 2.0 * (double)macs / peak / (strcmp(kind, "dwconv") ? 0.8 : 0.1);
        double t_mem = (double)bytes / (dram_gbps * 1e9);
        double t = fmax(t_compute, t_mem) + 1e-7;
        double e = (double)macs * 0.4e-6 * bits / 8 + (double)bytes * 20e-6;
        char name[32];
        snprintf(name, sizeof name, "%s%d", kind, l);
        json_array_append_new(layers, json_pack("{s:i,s:s,s:s,s:I,s:I,s:f,s:I,s:s,s:f}", "node", l,
                                                "name", name, "op", kind, "macs", (json_int_t)macs,
                                                "dram_bytes", (json_int_t)bytes, "energy_uj", e,
                                                "cycles", (json_int_t)(t * clock_mhz * 1e6),
                                                "bound", t_compute > t_mem ? "compute" : "memory",
                                                "utilization", fmin(1.0, t_compute / t)));
        lat += t * 1e3;
        en += e;
        macs_total += macs;
        params += macs / 50;
    }
    double l1 = 16 + 240 * uniform(s), l2 = 256 + 7936 * uniform(s);
    double area_pe = rows * cols * 0.00045 * bits / 8, area_l1 = 3 * l1 * 0.0021,
           area_l2 = l2 * 0.0019, area_vec = 0.05, area_ctrl = 0.02;
    double area = area_pe + area_l1 + area_l2 + area_vec + area_ctrl;
    double accuracy =
        0.70 + 0.22 * (1 - exp(-depth / 6.0)) - (bits == 4 ? 0.04 : 0) - 0.02 * uniform(s);
    obj[0] = 1 - accuracy;
    obj[1] = lat;
    obj[2] = en;
    obj[3] = area;
    json_t *m = json_object();
    json_object_set_new(m, "error", json_real(obj[0]));
    json_object_set_new(m, "accuracy", json_real(accuracy));
    json_object_set_new(m, "proxy_accuracy", json_real(accuracy - 0.03));
    json_object_set_new(m, "int_accuracy", json_real(accuracy));
    json_object_set_new(m, "latency_ms", json_real(lat));
    json_object_set_new(m, "energy_uj", json_real(en));
    json_object_set_new(m, "area_mm2", json_real(area));
    json_object_set_new(m, "power_mw", json_real(en / lat));
    json_object_set_new(m, "params", json_integer(params));
    json_object_set_new(m, "macs", json_integer(macs_total));
    json_object_set_new(m, "peak_tops", json_real(2.0 * rows * cols * clock_mhz * 1e6 / 1e12));
    json_object_set_new(m, "accuracy_cached", json_boolean(uniform(s) < 0.6));
    json_object_set_new(m, "note", json_string("synthetic, \"fixture\", not a model"));
    json_object_set_new(m, "hw",
                        json_pack("{s:i,s:i,s:s,s:i,s:i,s:f,s:f,s:f,s:f}", "rows", rows, "cols",
                                  cols, "dataflow", rows > cols ? "ws" : "os", "bits", bits,
                                  "tech_nm", 45, "clock_mhz", clock_mhz, "dram_gbps", dram_gbps,
                                  "l1_input_kib", l1, "l2_kib", l2));
    json_object_set_new(m, "area_breakdown",
                        json_pack("{s:f,s:f,s:f,s:f,s:f}", "pe_array_mm2", area_pe, "l1_mm2",
                                  area_l1, "l2_mm2", area_l2, "vector_mm2", area_vec, "ctrl_mm2",
                                  area_ctrl));
    json_object_set_new(
        m, "energy_breakdown",
        json_pack("{s:f,s:f,s:f}", "mac_uj", 0.5 * en, "l1_uj", 0.2 * en, "dram_uj", 0.3 * en));
    json_object_set_new(m, "power_breakdown",
                        json_pack("{s:f,s:f,s:f}", "array_mw", 0.6 * en / lat, "sram_mw",
                                  0.3 * en / lat, "leakage_mw", 0.1 * en / lat));
    if (with_provenance)
        json_object_set_new(m, "provenance",
                            json_pack("{s:s,s:s}", "area_mm2",
                                      "scaling (45 nm from 180 nm synthesis)", "energy_uj",
                                      "published tables"));
    json_object_set_new(m, "layers", layers);
    return m;
}

static char *config_text(void)
{
    td_config *cfg = NULL;
    if (cs_config_load(&cfg, NULL, NULL, 0) != TD_OK)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    if (fp) {
        td_config_write(cfg, fp);
        fclose(fp);
    }
    td_config_free(cfg);
    return text;
}

td_status rep_fixture_make(const char *dir, const rep_fixture_opts *o)
{
    td_status st = cs_mkdirs(dir);
    if (st != TD_OK)
        return st;
    char *yaml = config_text();
    if (!yaml)
        return td_fail(TD_ERR_INTERNAL, "fixture: cannot render the default config");
    char path[1200];
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    FILE *fp = fopen(path, "w");
    if (fp) {
        fputs(yaml, fp);
        fclose(fp);
    }
    snprintf(path, sizeof path, "%s/archive.sqlite", dir);
    cs_archive a;
    st = cs_archive_open(&a, path, true);
    if (st == TD_OK)
        st = cs_archive_run_begin(&a, "fixture", (int64_t)o->seed, yaml, "0.1.0-fixture");
    free(yaml);
    uint64_t s = o->seed * 2654435761u + 1;
    int64_t n = o->evaluations, pop = o->population > 0 ? o->population : 16;
    point *pts = calloc((size_t)(n > 0 ? n : 1), sizeof *pts);
    int64_t *ids = calloc((size_t)(pop > 0 ? pop : 1), sizeof *ids);
    if (!pts || !ids)
        st = td_fail(TD_ERR_NOMEM, "fixture: out of memory");
    int64_t gen = 0, in_gen = 0;
    double t_wall = 0;
    for (int64_t i = 0; st == TD_OK && i < n; i++) {
        int rows = 8 << (next(&s) % 4), cols = 8 << (next(&s) % 4);
        int bits = 4 << (next(&s) % 3);
        double clock = 500 + 1500 * uniform(&s), bw = 50 + 450 * uniform(&s);
        int depth = 3 + (int)(next(&s) % 10);
        char genome[128];
        snprintf(genome, sizeof genome, "[%d,%d,%d,%d,%.0f,%.0f]", depth, rows, cols, bits, clock,
                 bw);
        bool failed = i % 97 == 13;
        json_t *m = NULL;
        char *mtext = NULL, otext[256];
        cs_eval_record r = {.candidate_hash = next(&s),
                            .net_hash = next(&s),
                            .hw_hash = next(&s),
                            .generation = gen,
                            .fidelity = "analytical",
                            .status = failed ? CS_EVAL_FAILED : CS_EVAL_OK,
                            .genome_json = genome,
                            .seed = next(&s),
                            .wall_s = 0.01 + 0.05 * uniform(&s)};
        if (failed) {
            r.failure =
                i % 2 ? "timeout after 900 s, \"killed\"\nby the pool" : "training diverged";
            r.objectives_json = "[null,null,null,null]";
            r.metrics_json = "{}";
            r.violation = INFINITY; /* as the search records a failure */
        } else {
            m = make_metrics(&s, rows, cols, bits, clock, bw, depth, pts[i].obj, i % 3 == 0);
            mtext = json_dumps(m, JSON_COMPACT | JSON_REAL_PRECISION(17));
            snprintf(otext, sizeof otext, "[%.17g,%.17g,%.17g,%.17g]", pts[i].obj[0], pts[i].obj[1],
                     pts[i].obj[2], pts[i].obj[3]);
            r.objectives_json = otext;
            r.metrics_json = mtext;
            r.violation = pts[i].obj[3] > 20 ? pts[i].obj[3] - 20 : 0; /* an area budget */
        }
        st = cs_archive_add_evaluation(&a, &r);
        pts[i].id = r.id;
        pts[i].hash = r.candidate_hash;
        pts[i].ok = !failed && r.violation == 0;
        json_decref(m);
        free(mtext);
        ids[in_gen++] = r.id;
        t_wall += r.wall_s;
        if (st == TD_OK && (in_gen == pop || i == n - 1)) {
            /* hypervolume proxy: grows as the generations go by */
            double hv = 1.0 - 0.8 * exp(-0.35 * (double)(gen + 1));
            st = cs_archive_add_generation(&a, gen, hv, i + 1, t_wall, ids, NULL, NULL, in_gen);
            gen++;
            in_gen = 0;
        }
    }
    /* The true front of the feasible ok points. */
    int64_t *front = calloc((size_t)(n > 0 ? n : 1), sizeof *front);
    int64_t n_front = 0;
    for (int64_t i = 0; st == TD_OK && front && i < n; i++) {
        if (!pts[i].ok)
            continue;
        bool dom = false;
        for (int64_t j = 0; j < n && !dom; j++)
            dom = j != i && pts[j].ok && dominates(pts[j].obj, pts[i].obj);
        if (!dom)
            front[n_front++] = pts[i].id;
    }
    if (st == TD_OK && o->store_front)
        st = cs_archive_set_front(&a, front, n_front);
    /* SystemC numbers for the first two front designs (same candidate, other fidelity). */
    for (int64_t f = 0; st == TD_OK && f < n_front && f < 2; f++) {
        const point *p = NULL;
        for (int64_t i = 0; i < n && !p; i++)
            if (pts[i].id == front[f])
                p = &pts[i];
        char metrics[256], objs[160];
        snprintf(metrics, sizeof metrics,
                 "{\"latency_ms\":%.17g,\"energy_uj\":%.17g,\"cycles_ratio\":1.04}",
                 1.05 * p->obj[1], 0.97 * p->obj[2]);
        snprintf(objs, sizeof objs, "[%.17g,%.17g,%.17g,%.17g]", p->obj[0], 1.05 * p->obj[1],
                 0.97 * p->obj[2], p->obj[3]);
        cs_eval_record r = {.candidate_hash = p->hash,
                            .net_hash = 1,
                            .hw_hash = 2,
                            .generation = gen - 1,
                            .fidelity = "systemc",
                            .status = CS_EVAL_OK,
                            .genome_json = "[]",
                            .objectives_json = objs,
                            .metrics_json = metrics,
                            .seed = 3,
                            .wall_s = 2.5};
        st = cs_archive_add_evaluation(&a, &r);
    }
    if (st == TD_OK && o->finished)
        st = cs_archive_run_finish(&a, "finished", t_wall);
    cs_archive_close(&a);
    free(front);
    free(pts);
    free(ids);
    return st;
}
