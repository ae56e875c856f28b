/* Reports of a run: the self-contained HTML report (Vega inlined) and the CSV/JSON exports.
 * Everything is read from the run's archive (read-only, one consistent snapshot, so a run
 * that is still going can be reported). Formats in docs/formats.md "Exports (CSV, JSON)";
 * the report's sections and the metric keys it reads in docs/reports.md. */
#ifndef REP_REPORT_H
#define REP_REPORT_H

#include "td_status.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum rep_format {
    REP_FORMAT_ALL = 0, /* index.html and every export */
    REP_FORMAT_HTML,
    REP_FORMAT_CSV,  /* pareto.csv and evaluations.csv */
    REP_FORMAT_JSON, /* pareto.json */
    REP_FORMAT_COUNT
} rep_format;

/* "all", "html", "csv", "json"; returns false for anything else. */
bool rep_format_parse(const char *text, rep_format *out);

/* One evaluation row of the archive, decoded. */
typedef struct rep_eval {
    int64_t id;
    char candidate_hash[17], net_hash[17], hw_hash[17], seed[17];
    int64_t generation;
    char *fidelity;
    bool ok;
    char *failure;      /* NULL when ok */
    char *genome;       /* JSON text as stored */
    char *created_at;   /* UTC ISO-8601 */
    double *obj;        /* n_obj values in the run's objective order; NaN = missing/null */
    json_t *objectives; /* the stored JSON array */
    json_t *metrics;    /* the stored JSON object */
    double violation;
    double wall_s;
    bool on_front; /* in the front (the archive's, or computed when the archive has none) */
} rep_eval;

typedef struct rep_gen {
    int64_t gen;
    double hypervolume; /* NaN when NULL */
    int64_t evaluations;
    double wall_s;
} rep_gen;

typedef enum rep_front_source {
    REP_FRONT_ARCHIVE = 0, /* the archive's `front` table */
    REP_FRONT_COMPUTED,    /* the archive holds no front yet: non-dominated feasible points */
    REP_FRONT_NONE,        /* no evaluation to build one from */
    REP_FRONT_SOURCE_COUNT
} rep_front_source;

typedef struct rep_run {
    char dir[1024]; /* the run directory as given */
    char archive_path[1100];
    int64_t run_id; /* the latest run record of the archive */
    char *name, *config_yaml, *version, *started_at, *finished_at, *status;
    int64_t seed;
    double wall_s;     /* NaN while running (no value stored) */
    char **objectives; /* names, from the run's config (objectives_from_config) */
    size_t n_obj;
    bool objectives_from_config;
    char config_note[512]; /* why the config could not be read, "" when it could */
    json_t *space;         /* [[key, value text], ...] the space.* keys of the config */
    json_t *budget; /* [[key, value text], ...] constraints.*, search.population/generations */
    rep_eval *evals;
    size_t n_evals;
    rep_gen *gens;
    size_t n_gens;
    int64_t cache_entries;  /* rows of accuracy_cache */
    json_t *meta;           /* the meta table as an object */
    char *primary_fidelity; /* fidelity of the plotted points and exported front */
    rep_front_source front_source;
} rep_run;

/* Opens runs/NAME/archive.sqlite read-only and loads the latest run. Errors name the run
 * directory, the archive, and the evaluation id and column of a malformed row. */
td_status rep_run_load(rep_run *r, const char *run_dir);
void rep_run_free(rep_run *r);
/* Indices of the front evaluations (primary fidelity, ok), ascending id; caller frees. */
size_t rep_run_front(const rep_run *r, size_t **idx);
/* Unit of an objective or metric from its name ("ms", "uJ", "mW", "mm2", "fraction",
 * "count", "" when unknown). */
const char *rep_unit_of(const char *name);

/* Exports (docs/formats.md). */
td_status rep_export_pareto_csv(const rep_run *r, const char *path);
td_status rep_export_evaluations_csv(const rep_run *r, const char *path);
td_status rep_export_pareto_json(const rep_run *r, const char *path);
json_t *rep_pareto_json(const rep_run *r); /* the document pareto.json holds */
/* The `tandem rtl` command that generates a design's Verilog. */
void rep_rtl_command(const rep_run *r, int64_t eval_id, char *out, size_t size);

/* Writes one CSV field (quoted when it holds a comma, quote, CR/LF or edge spaces). */
void rep_csv_field(FILE *fp, const char *text, bool first);

/* The HTML report of one run, or of several overlaid (--compare). vega_dir holds Debian's
 * libjs-vega minified modules (NULL: $TANDEM_VEGA_DIR or /usr/share/javascript/vega). */
td_status rep_html_write(rep_run *const *runs, size_t n_runs, const char *vega_dir,
                         const char *path);

/* `tandem report`: loads the runs, writes the requested files into out_dir (NULL: the first
 * run's report/ folder, or report/vs-NAME/ with two runs). With several runs only the HTML
 * overlay is written. When `written` is not NULL it receives the paths written. */
td_status rep_report_write(const char *const *run_dirs, size_t n_runs, rep_format format,
                           const char *out_dir, json_t *written);

#endif
