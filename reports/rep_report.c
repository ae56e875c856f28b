/* `tandem report`: load the runs, write the report and the exports. */
#include "rep_report.h"

#include "cs_rundir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool rep_format_parse(const char *text, rep_format *out)
{
    static const char *const names[REP_FORMAT_COUNT] = {"all", "html", "csv", "json"};
    for (int i = 0; i < REP_FORMAT_COUNT; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = (rep_format)i;
            return true;
        }
    return false;
}

static const char *base_name(const char *dir)
{
    const char *slash = strrchr(dir, '/');
    return slash ? slash + 1 : dir;
}

static td_status write_one(const char *dir, const char *file, json_t *written,
                           td_status (*fn)(const rep_run *, const char *), const rep_run *r)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    td_status st = fn(r, path);
    if (st == TD_OK && written)
        json_array_append_new(written, json_string(path));
    return st;
}

td_status rep_report_write(const char *const *run_dirs, size_t n_runs, rep_format format,
                           const char *out_dir, json_t *written)
{
    if (n_runs < 1 || n_runs > 2)
        return td_fail(TD_ERR_USAGE, "a report covers one run, or two with --compare (got %zu)",
                       n_runs);
    if (n_runs > 1 && format != REP_FORMAT_ALL && format != REP_FORMAT_HTML)
        return td_fail(TD_ERR_USAGE, "--compare writes the HTML overlay only; export each run "
                                     "with its own `tandem report RUN --format csv|json`");
    rep_run runs[2];
    rep_run *ptrs[2] = {&runs[0], &runs[1]};
    size_t loaded = 0;
    td_status st = TD_OK;
    for (; loaded < n_runs; loaded++) {
        st = rep_run_load(&runs[loaded], run_dirs[loaded]);
        if (st != TD_OK)
            break;
    }
    char dir[1400];
    if (st == TD_OK) {
        if (out_dir)
            snprintf(dir, sizeof dir, "%s", out_dir);
        else if (n_runs == 1)
            snprintf(dir, sizeof dir, "%s/report", runs[0].dir);
        else
            snprintf(dir, sizeof dir, "%s/report/vs-%s", runs[0].dir, base_name(runs[1].dir));
        st = cs_mkdirs(dir);
    }
    if (st == TD_OK && (format == REP_FORMAT_ALL || format == REP_FORMAT_HTML)) {
        char path[1500];
        snprintf(path, sizeof path, "%s/index.html", dir);
        st = rep_html_write(ptrs, n_runs, NULL, path);
        if (st == TD_OK && written)
            json_array_append_new(written, json_string(path));
    }
    if (n_runs == 1 && st == TD_OK && (format == REP_FORMAT_ALL || format == REP_FORMAT_CSV)) {
        st = write_one(dir, "pareto.csv", written, rep_export_pareto_csv, &runs[0]);
        if (st == TD_OK)
            st = write_one(dir, "evaluations.csv", written, rep_export_evaluations_csv, &runs[0]);
    }
    if (n_runs == 1 && st == TD_OK && (format == REP_FORMAT_ALL || format == REP_FORMAT_JSON))
        st = write_one(dir, "pareto.json", written, rep_export_pareto_json, &runs[0]);
    for (size_t i = 0; i < loaded; i++)
        rep_run_free(&runs[i]);
    return st;
}
