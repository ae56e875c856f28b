/* The HTML report: one self-contained file. Debian's libjs-vega modules are inlined behind a
 * small CommonJS shim (the Debian files are UMD modules that each expect the others through
 * require()), the data is inlined as JSON, and the page's own JS/CSS (report.js,
 * report.css, embedded at build time) draws it. A Content-Security-Policy of default-src
 * 'none' keeps the page from fetching anything; Vega runs its expression interpreter, so no
 * eval is needed either. */
#include "rep_report.h"

#include "td_json.h"
#include "td_version.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const char rep_asset_js[], rep_asset_css[];
extern const size_t rep_asset_js_len, rep_asset_css_len;

/* Debian's libjs-vega modules in dependency order; enough for View, parse and the
 * transforms the report uses (no geo, force, voronoi, wordcloud). */
static const char *const vega_modules[] = {
    "util",     "canvas", "statistics", "event-selector",  "interpreter",
    "time",     "format", "loader",     "expression",      "selection",
    "dataflow", "scale",  "scenegraph", "functions",       "runtime",
    "view",     "parser", "transforms", "view-transforms", "encode",
};

static const char vega_shim_head[] =
    "(function(){var R={};function req(n){if(n===\"vega-selections\")n=\"vega-selection\";"
    "if(!(n in R))throw new Error(\"vega module missing: \"+n);return R[n];}"
    "function def(n,f){var m={exports:{}};f.call(m.exports,m.exports,m,req);"
    "R[n]=m.exports;}\n";

static const char vega_shim_tail[] =
    "var vega={};[\"vega-util\",\"vega-loader\",\"vega-dataflow\",\"vega-scale\","
    "\"vega-scenegraph\",\"vega-runtime\",\"vega-view\",\"vega-parser\",\"vega-expression\","
    "\"vega-functions\",\"vega-format\",\"vega-time\",\"vega-statistics\","
    "\"vega-event-selector\"].forEach(function(n){Object.assign(vega,R[n]);});"
    "Object.assign(R[\"vega-dataflow\"].transforms,R[\"vega-transforms\"],"
    "R[\"vega-view-transforms\"],R[\"vega-encode\"]);"
    "vega.expressionInterpreter=R[\"vega-interpreter\"].expressionInterpreter;"
    "window.vega=vega;})();\n";

/* Records errors, console errors and CSP violations in the page, for tests and readers. */
static const char prelude_js[] =
    "window.tandemErrors=[];(function(){function rec(m){window.tandemErrors.push(String(m));"
    "document.documentElement.setAttribute('data-errors',String(window.tandemErrors.length));}"
    "window.addEventListener('error',function(e){rec('error: '+(e.message||e));});"
    "window.addEventListener('unhandledrejection',function(e){rec('rejection: '+e.reason);});"
    "document.addEventListener('securitypolicyviolation',function(e){"
    "rec('csp: '+e.violatedDirective+' '+e.blockedURI);"
    "document.documentElement.setAttribute('data-csp-violations','1');});"
    "var ce=console.error;console.error=function(){rec('console: '+Array.prototype.join.call("
    "arguments,' '));ce.apply(console,arguments);};"
    "document.documentElement.setAttribute('data-errors','0');})();\n";

static td_status write_vega(FILE *out, const char *dir)
{
    fputs(vega_shim_head, out);
    for (size_t i = 0; i < sizeof vega_modules / sizeof vega_modules[0]; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/vega-%s.min.js", dir, vega_modules[i]);
        FILE *fp = fopen(path, "r");
        if (!fp)
            return td_fail(TD_ERR_IO,
                           "%s: cannot read Vega (%s); install Debian's libjs-vega or set "
                           "TANDEM_VEGA_DIR",
                           path, strerror(errno));
        fprintf(out, "def(\"vega-%s\",function(exports,module,require){\n", vega_modules[i]);
        char line[65536];
        size_t n;
        /* Copy, dropping the sourceMappingURL comment (nothing may be fetched) and breaking
         * any "</script" so the HTML parser cannot end the element early. */
        char *buf = NULL;
        size_t len = 0, cap = 0;
        while ((n = fread(line, 1, sizeof line, fp)) > 0) {
            if (len + n + 1 > cap) {
                cap = (len + n + 1) * 2;
                char *b = realloc(buf, cap);
                if (!b) {
                    free(buf);
                    fclose(fp);
                    return td_fail(TD_ERR_NOMEM, "%s: out of memory", path);
                }
                buf = b;
            }
            memcpy(buf + len, line, n);
            len += n;
        }
        fclose(fp);
        if (!buf)
            return td_fail(TD_ERR_FORMAT, "%s: is empty", path);
        buf[len] = '\0';
        char *map = strstr(buf, "//# sourceMappingURL=");
        if (map)
            *map = '\0';
        for (char *p = buf; *p; p++) {
            if (p[0] == '<' && p[1] == '/' && strncasecmp(p + 2, "script", 6) == 0) {
                fputs("<\\/", out);
                p++;
            } else {
                fputc(*p, out);
            }
        }
        free(buf);
        fputs("\n});\n", out);
    }
    fputs(vega_shim_tail, out);
    return TD_OK;
}

/* JSON text safe inside <script type="application/json">: every '<' becomes \u003c (a '<'
 * can only occur inside JSON strings, where the escape means the same). */
static void write_json_script(FILE *out, const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
    for (const char *p = text ? text : "null"; *p; p++) {
        if (*p == '<')
            fputs("\\u003c", out);
        else
            fputc(*p, out);
    }
    free(text);
}

static json_t *summary_row(const char *label, json_t *value, const char *note)
{
    return json_pack("[s,o,s]", label, value ? value : json_null(), note ? note : "");
}

static const char *front_source_text(rep_front_source s)
{
    switch (s) {
    case REP_FRONT_ARCHIVE:
        return "the archive's front table";
    case REP_FRONT_COMPUTED:
        return "computed by the report (the archive holds no front yet): the non-dominated "
               "feasible evaluations";
    default:
        return "no evaluation to build a front from";
    }
}

/* A hover text for a point: a few scalar metrics and the accelerator's scalars. */
static json_t *point_desc(const rep_run *r, const rep_eval *e)
{
    char buf[1024];
    size_t used = 0;
    int n = 0;
    const char *key;
    json_t *v;
    const json_t *hw = json_object_get(e->metrics, "hw");
    const json_t *sources[2] = {json_is_object(hw) ? hw : NULL, e->metrics};
    buf[0] = '\0';
    for (int s = 0; s < 2; s++) {
        if (!sources[s])
            continue;
        json_object_foreach((json_t *)sources[s], key, v)
        {
            if (n >= 14 || used >= sizeof buf - 64)
                break;
            bool is_obj = false;
            for (size_t k = 0; k < r->n_obj; k++)
                is_obj = is_obj || strcmp(r->objectives[k], key) == 0;
            if (is_obj)
                continue;
            if (json_is_integer(v))
                used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s=%lld", n ? ", " : "",
                                         key, (long long)json_integer_value(v));
            else if (json_is_real(v))
                used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s=%.4g", n ? ", " : "",
                                         key, json_real_value(v));
            else if (json_is_string(v) && strlen(json_string_value(v)) < 40)
                used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s=%s", n ? ", " : "",
                                         key, json_string_value(v));
            else
                continue;
            n++;
        }
    }
    return json_string(buf);
}

static json_t *count_hits(const rep_run *r, const char **note)
{
    static const char *const keys[] = {"accuracy_cached", "cache_hit"};
    int64_t hits = 0;
    bool recorded = false;
    for (size_t i = 0; i < r->n_evals; i++)
        for (size_t k = 0; k < 2; k++) {
            json_t *v = json_object_get(r->evals[i].metrics, keys[k]);
            if (json_is_boolean(v)) {
                recorded = true;
                hits += json_is_true(v);
            }
        }
    if (recorded) {
        *note = "evaluations whose accuracy came from the accuracy cache";
        return json_integer(hits);
    }
    json_t *m = json_object_get(r->meta, "cache_hits");
    if (m) {
        *note = "from the archive's meta table";
        return json_copy(m);
    }
    /* Derived: accuracy is cached per (network, bit width, budget, seed); within one run the
     * budget and seed are fixed, so a successful evaluation of the primary fidelity whose
     * (net_hash, bits) came up earlier in the run reused a trained network. */
    json_t *seen = json_object();
    bool have_bits = false;
    for (size_t i = 0; i < r->n_evals; i++) {
        const rep_eval *e = &r->evals[i];
        if (!e->ok || strcmp(e->fidelity, r->primary_fidelity) != 0)
            continue;
        json_t *bits = json_object_get(e->metrics, "bits");
        if (!json_is_integer(bits))
            bits = json_object_get(json_object_get(e->metrics, "hw"), "bits");
        if (!json_is_integer(bits))
            continue;
        have_bits = true;
        char key[64];
        snprintf(key, sizeof key, "%s/%lld", e->net_hash, (long long)json_integer_value(bits));
        if (json_object_get(seen, key))
            hits++;
        else
            json_object_set_new(seen, key, json_true());
    }
    json_decref(seen);
    if (have_bits) {
        *note = "derived, not recorded: evaluations whose (network, bit width) was evaluated "
                "earlier in the run, so its training was reused";
        return json_integer(hits);
    }
    *note = "not recorded in this archive (no accuracy_cached/cache_hit metric)";
    return json_string("not recorded");
}

static json_t *run_summary(const rep_run *r)
{
    json_t *s = json_array();
    size_t ok = 0, failed = 0, feasible = 0;
    json_t *by_fid = json_object();
    for (size_t i = 0; i < r->n_evals; i++) {
        const rep_eval *e = &r->evals[i];
        ok += e->ok;
        failed += !e->ok;
        feasible += e->ok && e->violation <= 0;
        json_t *c = json_object_get(by_fid, e->fidelity);
        json_object_set_new(by_fid, e->fidelity, json_integer(c ? json_integer_value(c) + 1 : 1));
    }
    char buf[512];
    json_array_append_new(s, summary_row("run", json_string(r->name ? r->name : ""), r->dir));
    json_array_append_new(s, summary_row("status", json_string(r->status ? r->status : ""),
                                         r->finished_at ? "finished" : "no finish time recorded"));
    json_array_append_new(
        s, summary_row("started", json_string(r->started_at ? r->started_at : ""), "UTC"));
    if (isfinite(r->wall_s)) {
        json_array_append_new(s, summary_row("wall time (s)", json_real(r->wall_s),
                                             r->finished_at ? r->finished_at : ""));
    } else {
        double last = r->n_gens ? r->gens[r->n_gens - 1].wall_s : NAN;
        json_array_append_new(
            s, summary_row("wall time (s)", isfinite(last) ? json_real(last) : json_null(),
                           isfinite(last) ? "run not finished: wall time at the last generation"
                                          : "run not finished: not recorded yet"));
    }
    json_array_append_new(s, summary_row("seed", json_integer(r->seed), "run.seed"));
    json_array_append_new(
        s, summary_row("evaluations", json_integer((json_int_t)r->n_evals), "all fidelities"));
    json_array_append_new(s, summary_row("evaluations ok", json_integer((json_int_t)ok), ""));
    json_array_append_new(s, summary_row("feasible", json_integer((json_int_t)feasible),
                                         "ok and no constraint violated"));
    json_array_append_new(s, summary_row("failures", json_integer((json_int_t)failed),
                                         "crashed, timed out or returned an error"));
    char *fid = json_dumps(by_fid, JSON_COMPACT);
    json_array_append_new(
        s, summary_row("by fidelity", json_string(fid ? fid : "{}"), "evaluations per fidelity"));
    free(fid);
    json_decref(by_fid);
    json_array_append_new(s, summary_row("generations", json_integer((json_int_t)r->n_gens),
                                         "finished generations in the archive"));
    const char *note = "";
    json_t *hits = count_hits(r, &note); /* sets note: evaluate it first */
    json_array_append_new(s, summary_row("accuracy cache hits", hits, note));
    json_array_append_new(s, summary_row("trained networks cached", json_integer(r->cache_entries),
                                         "accuracy_cache rows"));
    json_t *space = json_object_get(r->meta, "space_size");
    json_array_append_new(
        s, summary_row("search space size", space ? json_copy(space) : json_string("not recorded"),
                       space ? "from the archive's meta table"
                             : "the archive does not record it; the space keys are below"));
    size_t *idx = NULL;
    size_t n_front = rep_run_front(r, &idx);
    free(idx);
    json_array_append_new(s, summary_row("Pareto designs", json_integer((json_int_t)n_front),
                                         front_source_text(r->front_source)));
    json_array_append_new(s, summary_row("plotted fidelity", json_string(r->primary_fidelity), ""));
    json_array_append_new(s, summary_row("tandem (run)", json_string(r->version ? r->version : ""),
                                         "the version that ran the search"));
    snprintf(buf, sizeof buf, "tandem %s (%s), SQLite %s, jansson %s", TD_VERSION, TD_GIT,
             sqlite3_libversion(), JANSSON_VERSION);
    json_array_append_new(s, summary_row("report generator", json_string(buf), ""));
    if (r->config_note[0])
        json_array_append_new(s, summary_row("config", json_string("not read"), r->config_note));
    return s;
}

static json_t *design_json(const rep_run *r, const rep_eval *e)
{
    json_t *d = json_object();
    json_object_set_new(d, "id", json_integer(e->id));
    json_object_set_new(d, "candidate_hash", json_string(e->candidate_hash));
    json_object_set_new(d, "net_hash", json_string(e->net_hash));
    json_object_set_new(d, "hw_hash", json_string(e->hw_hash));
    json_object_set_new(d, "generation", json_integer(e->generation));
    json_object_set_new(d, "fidelity", json_string(e->fidelity));
    json_object_set_new(d, "violation", td_json_real(e->violation));
    json_object_set(d, "objectives", e->objectives);
    json_object_set(d, "metrics", e->metrics);
    json_t *genome = json_loads(e->genome ? e->genome : "null", JSON_DECODE_ANY, NULL);
    json_object_set_new(d, "genome", genome ? genome : json_string(e->genome ? e->genome : ""));
    char cmd[2600];
    rep_rtl_command(r, e->id, cmd, sizeof cmd);
    json_object_set_new(d, "rtl_command", json_string(cmd));
    json_t *other = json_array();
    for (size_t j = 0; j < r->n_evals; j++) {
        const rep_eval *o = &r->evals[j];
        if (o == e || strcmp(o->candidate_hash, e->candidate_hash) != 0 || !o->ok)
            continue;
        json_array_append_new(other, json_pack("{s:I,s:s,s:O,s:O}", "id", (json_int_t)o->id,
                                               "fidelity", o->fidelity, "objectives", o->objectives,
                                               "metrics", o->metrics));
    }
    json_object_set_new(d, "other_fidelities", other);
    return d;
}

static json_t *run_json(const rep_run *r)
{
    json_t *j = json_object();
    json_object_set_new(j, "name", json_string(r->name ? r->name : r->dir));
    json_object_set_new(j, "dir", json_string(r->dir));
    json_object_set_new(j, "seed", json_integer(r->seed));
    json_object_set_new(j, "status", json_string(r->status ? r->status : ""));
    json_object_set_new(j, "config_yaml", json_string(r->config_yaml ? r->config_yaml : ""));
    json_object_set_new(j, "config_note", json_string(r->config_note));
    json_object_set_new(j, "primary_fidelity", json_string(r->primary_fidelity));
    json_t *objs = json_array();
    for (size_t k = 0; k < r->n_obj; k++)
        json_array_append_new(objs, json_pack("{s:s,s:s}", "name", r->objectives[k], "unit",
                                              rep_unit_of(r->objectives[k])));
    json_object_set_new(j, "objectives", objs);
    json_object_set_new(j, "summary", run_summary(r));
    json_object_set(j, "space", r->space);
    json_object_set(j, "budget", r->budget);
    json_t *gens = json_array();
    for (size_t i = 0; i < r->n_gens; i++)
        json_array_append_new(gens, json_pack("[I,o,I,o]", (json_int_t)r->gens[i].gen,
                                              td_json_real(r->gens[i].hypervolume),
                                              (json_int_t)r->gens[i].evaluations,
                                              td_json_real(r->gens[i].wall_s)));
    json_object_set_new(j, "generations", gens);
    /* Plotted points: ok evaluations of the primary fidelity with every objective. */
    json_t *pts = json_array();
    json_t *designs = json_array();
    json_t *failures = json_object();
    for (size_t i = 0; i < r->n_evals; i++) {
        const rep_eval *e = &r->evals[i];
        if (!e->ok) {
            const char *why = e->failure ? e->failure : "(no reason recorded)";
            json_t *c = json_object_get(failures, why);
            json_object_set_new(failures, why, json_integer(c ? json_integer_value(c) + 1 : 1));
            continue;
        }
        if (strcmp(e->fidelity, r->primary_fidelity) != 0)
            continue;
        bool finite = true;
        for (size_t k = 0; k < r->n_obj; k++)
            finite = finite && isfinite(e->obj[k]);
        if (!finite)
            continue;
        json_t *p = json_array();
        json_array_append_new(p, json_integer(e->id));
        json_array_append_new(p, json_integer(e->generation));
        json_array_append_new(p, json_integer(e->on_front));
        json_array_append_new(p, td_json_real(e->violation));
        for (size_t k = 0; k < r->n_obj; k++)
            json_array_append_new(p, json_real(e->obj[k]));
        json_array_append_new(p, point_desc(r, e));
        json_array_append_new(pts, p);
        if (e->on_front)
            json_array_append_new(designs, design_json(r, e));
    }
    json_object_set_new(j, "points", pts);
    json_object_set_new(j, "designs", designs);
    json_t *fl = json_array();
    const char *why;
    json_t *c;
    json_object_foreach(failures, why, c)
    {
        json_array_append_new(fl, json_pack("[s,O]", why, c));
    }
    json_decref(failures);
    json_object_set_new(j, "failures", fl);
    return j;
}

td_status rep_html_write(rep_run *const *runs, size_t n_runs, const char *vega_dir,
                         const char *path)
{
    if (!vega_dir)
        vega_dir = getenv("TANDEM_VEGA_DIR");
    if (!vega_dir || !*vega_dir)
        vega_dir = REP_VEGA_DIR;
    json_t *doc = json_object();
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(doc, "generated_at", json_string(now));
    json_object_set_new(doc, "generator", json_string("tandem " TD_VERSION " (" TD_GIT ")"));
    json_object_set_new(doc, "vega_version", json_string("libjs-vega " REP_VEGA_VERSION));
    json_t *arr = json_array();
    for (size_t i = 0; i < n_runs; i++)
        json_array_append_new(arr, run_json(runs[i]));
    json_object_set_new(doc, "runs", arr);

    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        json_decref(doc);
        return td_fail(TD_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
    }
    fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
          out);
    fprintf(out, "<title>Tandem report: ");
    for (size_t i = 0; i < n_runs; i++)
        for (const char *p = runs[i]->name ? runs[i]->name : ""; *p; p++) {
            if (*p == '<')
                fputs("&lt;", out);
            else if (*p == '&')
                fputs("&amp;", out);
            else
                fputc(*p, out);
        }
    fprintf(out, "</title>\n<script>%s</script>\n<style>\n", prelude_js);
    fwrite(rep_asset_css, 1, rep_asset_css_len, out);
    fputs("</style></head>\n<body>\n<noscript>This report draws with JavaScript; the same data "
          "is in pareto.csv, evaluations.csv and pareto.json beside it.</noscript>\n"
          "<div id=\"app\"><p class=\"loading\">Loading report&hellip;</p></div>\n"
          "<script id=\"tandem-data\" type=\"application/json\">",
          out);
    write_json_script(out, doc);
    json_decref(doc);
    fputs("</script>\n<script>\n", out);
    td_status st = write_vega(out, vega_dir);
    fputs("</script>\n<script>\n", out);
    fwrite(rep_asset_js, 1, rep_asset_js_len, out);
    fputs("</script>\n</body></html>\n", out);
    bool bad = ferror(out);
    if (fclose(out) != 0 || bad) {
        if (st == TD_OK)
            st = td_fail(TD_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
    }
    if (st == TD_OK && rename(tmp, path) != 0)
        st = td_fail(TD_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
    if (st != TD_OK)
        remove(tmp);
    return st;
}
