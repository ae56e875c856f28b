/* The exports: pareto.csv, evaluations.csv (RFC 4180 CSV) and pareto.json (jansson).
 * Columns and units in docs/formats.md "Exports (CSV, JSON)". */
#include "rep_report.h"

#include "td_json.h"
#include "td_version.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rep_csv_field(FILE *fp, const char *text, bool first)
{
    if (!first)
        fputc(',', fp);
    if (!text)
        return;
    size_t n = strlen(text);
    bool quote =
        strpbrk(text, ",\"\r\n") != NULL ||
        (n > 0 && (text[0] == ' ' || text[0] == '\t' || text[n - 1] == ' ' || text[n - 1] == '\t'));
    if (!quote) {
        fputs(text, fp);
        return;
    }
    fputc('"', fp);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', fp);
        fputc(*p, fp);
    }
    fputc('"', fp);
}

static void csv_double(FILE *fp, double v)
{
    char buf[40];
    if (isfinite(v)) {
        snprintf(buf, sizeof buf, "%.17g", v);
        rep_csv_field(fp, buf, false);
    } else {
        rep_csv_field(fp, NULL, false); /* missing: an empty field */
    }
}

static void csv_int(FILE *fp, long long v, bool first)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    rep_csv_field(fp, buf, first);
}

/* A scalar JSON value as CSV text (NULL for null); false for arrays and objects. */
static bool scalar_text(const json_t *v, char *buf, size_t size, const char **out)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        *out = buf;
        return true;
    case JSON_REAL:
        if (isfinite(json_real_value(v))) {
            snprintf(buf, size, "%.17g", json_real_value(v));
            *out = buf;
        } else {
            *out = NULL;
        }
        return true;
    case JSON_STRING:
        *out = json_string_value(v);
        return true;
    case JSON_TRUE:
        *out = "true";
        return true;
    case JSON_FALSE:
        *out = "false";
        return true;
    case JSON_NULL:
        *out = NULL;
        return true;
    default:
        return false;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool is_objective(const rep_run *r, const char *key)
{
    for (size_t k = 0; k < r->n_obj; k++)
        if (strcmp(r->objectives[k], key) == 0)
            return true;
    return false;
}

/* Sorted union of the scalar metric keys of the given evaluations, objectives excluded
 * (an objective is written once, from the objectives column). Keys point into metrics. */
static size_t metric_columns(const rep_run *r, const size_t *idx, size_t n, const char ***out)
{
    size_t cap = 16, count = 0;
    const char **keys = malloc(cap * sizeof *keys);
    for (size_t i = 0; keys && i < n; i++) {
        const char *key;
        json_t *v;
        json_object_foreach(r->evals[idx[i]].metrics, key, v)
        {
            char buf[8];
            const char *t;
            if (!scalar_text(v, buf, sizeof buf, &t) || is_objective(r, key))
                continue;
            bool seen = false;
            for (size_t j = 0; j < count && !seen; j++)
                seen = strcmp(keys[j], key) == 0;
            if (seen)
                continue;
            if (count == cap) {
                const char **k2 = realloc(keys, 2 * cap * sizeof *k2);
                if (!k2)
                    break;
                keys = k2;
                cap *= 2;
            }
            keys[count++] = key;
        }
    }
    if (keys)
        qsort(keys, count, sizeof *keys, cmp_str);
    *out = keys;
    return keys ? count : 0;
}

static void csv_metric(FILE *fp, const json_t *metrics, const char *key)
{
    char buf[40];
    const char *t = NULL;
    json_t *v = json_object_get(metrics, key);
    if (v && !scalar_text(v, buf, sizeof buf, &t))
        t = NULL;
    rep_csv_field(fp, t, false);
}

static td_status write_csv(const rep_run *r, const char *path, bool all)
{
    size_t *idx = NULL, n;
    if (all) {
        idx = malloc((r->n_evals ? r->n_evals : 1) * sizeof *idx);
        n = r->n_evals;
        for (size_t i = 0; idx && i < n; i++)
            idx[i] = i;
    } else {
        n = rep_run_front(r, &idx);
    }
    if (!idx)
        return td_fail(TD_ERR_NOMEM, "%s: out of memory", path);
    const char **keys = NULL;
    size_t n_keys = metric_columns(r, idx, n, &keys);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        free(idx);
        free(keys);
        return td_fail(TD_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    rep_csv_field(fp, "id", true);
    static const char *const head[] = {"candidate_hash", "net_hash", "hw_hash", "generation",
                                       "fidelity"};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        rep_csv_field(fp, head[i], false);
    if (all) {
        rep_csv_field(fp, "status", false);
        rep_csv_field(fp, "failure", false);
        rep_csv_field(fp, "on_front", false);
    }
    rep_csv_field(fp, "violation", false);
    for (size_t k = 0; k < r->n_obj; k++)
        rep_csv_field(fp, r->objectives[k], false);
    for (size_t k = 0; k < n_keys; k++)
        rep_csv_field(fp, keys[k], false);
    rep_csv_field(fp, "seed", false);
    rep_csv_field(fp, "wall_s", false);
    rep_csv_field(fp, "created_at", false);
    rep_csv_field(fp, "genome", false);
    fputs("\r\n", fp);
    for (size_t i = 0; i < n; i++) {
        const rep_eval *e = &r->evals[idx[i]];
        csv_int(fp, (long long)e->id, true);
        rep_csv_field(fp, e->candidate_hash, false);
        rep_csv_field(fp, e->net_hash, false);
        rep_csv_field(fp, e->hw_hash, false);
        csv_int(fp, (long long)e->generation, false);
        rep_csv_field(fp, e->fidelity, false);
        if (all) {
            rep_csv_field(fp, e->ok ? "ok" : "failed", false);
            rep_csv_field(fp, e->failure, false);
            rep_csv_field(fp, e->on_front ? "1" : "0", false);
        }
        csv_double(fp, e->violation);
        for (size_t k = 0; k < r->n_obj; k++)
            csv_double(fp, e->obj[k]);
        for (size_t k = 0; k < n_keys; k++)
            csv_metric(fp, e->metrics, keys[k]);
        rep_csv_field(fp, e->seed, false);
        csv_double(fp, e->wall_s);
        rep_csv_field(fp, e->created_at, false);
        rep_csv_field(fp, e->genome, false);
        fputs("\r\n", fp);
    }
    free(idx);
    free(keys);
    bool bad = ferror(fp);
    if (fclose(fp) != 0 || bad)
        return td_fail(TD_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return TD_OK;
}

td_status rep_export_pareto_csv(const rep_run *r, const char *path)
{
    return write_csv(r, path, false);
}

td_status rep_export_evaluations_csv(const rep_run *r, const char *path)
{
    return write_csv(r, path, true);
}

void rep_rtl_command(const rep_run *r, int64_t eval_id, char *out, size_t size)
{
    snprintf(out, size, "tandem rtl --run %s --design %lld -o %s/rtl/design-%lld", r->dir,
             (long long)eval_id, r->dir, (long long)eval_id);
}

static const char *front_source_name(rep_front_source s)
{
    static const char *const names[REP_FRONT_SOURCE_COUNT] = {"archive", "computed", "none"};
    return s < REP_FRONT_SOURCE_COUNT ? names[s] : "none";
}

json_t *rep_pareto_json(const rep_run *r)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "format", json_string("tandem-pareto"));
    json_object_set_new(doc, "format_version", json_integer(1));
    json_object_set_new(doc, "generator", json_string("tandem " TD_VERSION " (" TD_GIT ")"));
    json_t *run = json_object();
    json_object_set_new(run, "dir", json_string(r->dir));
    json_object_set_new(run, "name", json_string(r->name ? r->name : ""));
    json_object_set_new(run, "seed", json_integer(r->seed));
    json_object_set_new(run, "tandem_version", json_string(r->version ? r->version : ""));
    json_object_set_new(run, "status", json_string(r->status ? r->status : ""));
    json_object_set_new(run, "started_at",
                        r->started_at ? json_string(r->started_at) : json_null());
    json_object_set_new(run, "finished_at",
                        r->finished_at ? json_string(r->finished_at) : json_null());
    json_object_set_new(run, "wall_s", td_json_real(r->wall_s));
    json_object_set_new(run, "evaluations", json_integer((json_int_t)r->n_evals));
    json_object_set_new(doc, "run", run);
    json_t *objs = json_array();
    for (size_t k = 0; k < r->n_obj; k++)
        json_array_append_new(objs, json_pack("{s:s,s:s,s:s}", "name", r->objectives[k], "unit",
                                              rep_unit_of(r->objectives[k]), "sense", "minimize"));
    json_object_set_new(doc, "objectives", objs);
    json_object_set_new(doc, "fidelity", json_string(r->primary_fidelity));
    json_object_set_new(doc, "front_source", json_string(front_source_name(r->front_source)));
    json_t *designs = json_array();
    size_t *idx = NULL;
    size_t n = rep_run_front(r, &idx);
    for (size_t i = 0; i < n; i++) {
        const rep_eval *e = &r->evals[idx[i]];
        json_t *d = json_object();
        json_object_set_new(d, "id", json_integer(e->id));
        json_object_set_new(d, "candidate_hash", json_string(e->candidate_hash));
        json_object_set_new(d, "net_hash", json_string(e->net_hash));
        json_object_set_new(d, "hw_hash", json_string(e->hw_hash));
        json_object_set_new(d, "generation", json_integer(e->generation));
        json_object_set_new(d, "fidelity", json_string(e->fidelity));
        json_object_set_new(d, "violation", td_json_real(e->violation));
        json_t *o = json_object();
        for (size_t k = 0; k < r->n_obj; k++)
            json_object_set_new(o, r->objectives[k], td_json_real(e->obj[k]));
        json_object_set_new(d, "objectives", o);
        json_object_set(d, "metrics", e->metrics);
        json_t *genome = json_loads(e->genome ? e->genome : "null", JSON_DECODE_ANY, NULL);
        json_object_set_new(d, "genome", genome ? genome : json_string(e->genome));
        json_object_set_new(d, "seed", json_string(e->seed));
        json_object_set_new(d, "wall_s", td_json_real(e->wall_s));
        json_object_set_new(d, "created_at", json_string(e->created_at ? e->created_at : ""));
        char cmd[2600];
        rep_rtl_command(r, e->id, cmd, sizeof cmd);
        json_object_set_new(d, "rtl_command", json_string(cmd));
        json_array_append_new(designs, d);
    }
    free(idx);
    json_object_set_new(doc, "designs", designs);
    return doc;
}

td_status rep_export_pareto_json(const rep_run *r, const char *path)
{
    json_t *doc = rep_pareto_json(r);
    if (!doc)
        return td_fail(TD_ERR_NOMEM, "%s: out of memory", path);
    int rc = json_dump_file(doc, path, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(doc);
    if (rc != 0)
        return td_fail(TD_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return TD_OK;
}
