/* Reports: CSV quoting, CSV/JSON round trips of the exports against the archive, the computed
 * front of a run without one, the HTML page's structure, --compare, and every error path. */
#include "cs_archive.h"
#include "rep_fixture.h"
#include "rep_report.h"

#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/td_test_reports_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static void make_run(const char *name, int64_t n, bool front, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", dir, name);
    rep_fixture_opts o = {
        .evaluations = n, .population = 20, .seed = 7, .store_front = front, .finished = true};
    assert_int_equal(rep_fixture_make(out, &o), TD_OK);
}

/* ---- a strict RFC 4180 reader for the round trip ---- */
typedef struct csv_table {
    char ***rows; /* rows[r][c] */
    size_t *n_cols;
    size_t n_rows;
} csv_table;

static void csv_read(const char *path, csv_table *t)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    memset(t, 0, sizeof *t);
    size_t cap_rows = 0, cap_cols = 0, cap_field = 0, len = 0;
    char *field = NULL, **row = NULL;
    size_t n_cols = 0;
    bool quoted = false, was_quoted = false, at_start = true;
    int c;
#define PUSH_CHAR(ch)                                                                              \
    do {                                                                                           \
        if (len + 2 > cap_field) {                                                                 \
            cap_field = cap_field ? 2 * cap_field : 64;                                            \
            field = realloc(field, cap_field);                                                     \
        }                                                                                          \
        field[len++] = (char)(ch);                                                                 \
    } while (0)
#define END_FIELD()                                                                                \
    do {                                                                                           \
        PUSH_CHAR(0);                                                                              \
        if (n_cols == cap_cols) {                                                                  \
            cap_cols = cap_cols ? 2 * cap_cols : 16;                                               \
            row = realloc(row, cap_cols * sizeof *row);                                            \
        }                                                                                          \
        row[n_cols++] = strdup(field);                                                             \
        len = 0;                                                                                   \
        was_quoted = false;                                                                        \
        at_start = true;                                                                           \
    } while (0)
    while ((c = fgetc(fp)) != EOF) {
        if (quoted) {
            if (c == '"') {
                int d = fgetc(fp);
                if (d == '"') {
                    PUSH_CHAR('"');
                } else {
                    quoted = false;
                    if (d != EOF)
                        ungetc(d, fp);
                }
            } else {
                PUSH_CHAR(c);
            }
            continue;
        }
        if (c == '"' && at_start) {
            quoted = was_quoted = true;
            at_start = false;
        } else if (c == ',') {
            END_FIELD();
        } else if (c == '\r') {
            int d = fgetc(fp);
            assert_int_equal(d, '\n'); /* CRLF line ends */
            END_FIELD();
            if (t->n_rows == cap_rows) {
                cap_rows = cap_rows ? 2 * cap_rows : 64;
                t->rows = realloc(t->rows, cap_rows * sizeof *t->rows);
                t->n_cols = realloc(t->n_cols, cap_rows * sizeof *t->n_cols);
            }
            t->rows[t->n_rows] = row;
            t->n_cols[t->n_rows++] = n_cols;
            row = NULL;
            n_cols = cap_cols = 0;
        } else {
            assert_false(was_quoted); /* nothing may follow a closing quote but , or CRLF */
            PUSH_CHAR(c);
            at_start = false;
        }
    }
    assert_false(quoted);
    assert_int_equal(n_cols, 0); /* the file ends with CRLF */
    free(row);
    free(field);
    fclose(fp);
#undef PUSH_CHAR
#undef END_FIELD
}

static void csv_free(csv_table *t)
{
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols[r]; c++)
            free(t->rows[r][c]);
        free(t->rows[r]);
    }
    free(t->rows);
    free(t->n_cols);
}

static int col_of(const csv_table *t, const char *name)
{
    for (size_t c = 0; c < t->n_cols[0]; c++)
        if (strcmp(t->rows[0][c], name) == 0)
            return (int)c;
    return -1;
}

/* ---- the archive, read directly (independently of reports/) ---- */
typedef struct arch_row {
    int64_t id;
    char *fidelity, *status, *failure, *genome;
    json_t *objectives, *metrics;
} arch_row;

static size_t arch_rows(const char *run, const char *where, arch_row **out)
{
    char path[256], sql[512];
    snprintf(path, sizeof path, "%s/archive.sqlite", run);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    snprintf(sql, sizeof sql,
             "SELECT id, fidelity, status, failure, genome, objectives, metrics FROM evaluations"
             " WHERE %s ORDER BY id",
             where);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    size_t n = 0, cap = 16;
    arch_row *rows = malloc(cap * sizeof *rows);
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (n == cap)
            rows = realloc(rows, (cap *= 2) * sizeof *rows);
        arch_row *r = &rows[n++];
        r->id = sqlite3_column_int64(s, 0);
        r->fidelity = strdup((const char *)sqlite3_column_text(s, 1));
        r->status = strdup((const char *)sqlite3_column_text(s, 2));
        const unsigned char *f = sqlite3_column_text(s, 3);
        r->failure = f ? strdup((const char *)f) : NULL;
        r->genome = strdup((const char *)sqlite3_column_text(s, 4));
        r->objectives = json_loads((const char *)sqlite3_column_text(s, 5), 0, NULL);
        r->metrics = json_loads((const char *)sqlite3_column_text(s, 6), 0, NULL);
        assert_non_null(r->objectives);
        assert_non_null(r->metrics);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    *out = rows;
    return n;
}

static void arch_free(arch_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].fidelity);
        free(rows[i].status);
        free(rows[i].failure);
        free(rows[i].genome);
        json_decref(rows[i].objectives);
        json_decref(rows[i].metrics);
    }
    free(rows);
}

static const char *const objectives[] = {"error", "latency_ms", "energy_uj", "area_mm2"};
static const char *const front_where =
    "fidelity='analytical' AND status='ok' AND id IN (SELECT evaluation_id FROM front)";

/* A CSV cell against a scalar JSON value: numbers exactly (shortest round-trip text is
 * not required, the value is), strings byte for byte. */
static void assert_cell_equals(const char *cell, const json_t *v)
{
    if (!v || json_is_null(v)) {
        assert_string_equal(cell, "");
    } else if (json_is_integer(v)) {
        assert_int_equal(strtoll(cell, NULL, 10), json_integer_value(v));
    } else if (json_is_real(v)) {
        /* exact: numbers are written with 17 significant digits, which read back to the
         * same double (no tolerance involved) */
        assert_true(strtod(cell, NULL) == json_real_value(v));
    } else if (json_is_string(v)) {
        assert_string_equal(cell, json_string_value(v));
    } else if (json_is_boolean(v)) {
        assert_string_equal(cell, json_is_true(v) ? "true" : "false");
    }
}

static void test_csv_quoting(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    rep_csv_field(fp, "plain", true);
    rep_csv_field(fp, "a,b", false);
    rep_csv_field(fp, "say \"hi\"", false);
    rep_csv_field(fp, "two\nlines", false);
    rep_csv_field(fp, " edge", false);
    rep_csv_field(fp, NULL, false);
    rep_csv_field(fp, "", false);
    fclose(fp);
    assert_string_equal(buf, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" edge\",,");
    free(buf);
}

static void test_pareto_csv_roundtrip(void **state)
{
    (void)state;
    char run[128], out[192], path[256];
    make_run("csv", 150, true, run, sizeof run);
    snprintf(out, sizeof out, "%s/out-csv", dir);
    const char *runs[] = {run};
    assert_int_equal(rep_report_write(runs, 1, REP_FORMAT_CSV, out, NULL), TD_OK);
    snprintf(path, sizeof path, "%s/pareto.csv", out);
    csv_table t;
    csv_read(path, &t);
    arch_row *rows;
    size_t n = arch_rows(run, front_where, &rows);
    assert_true(n >= 3);
    assert_int_equal(t.n_rows, n + 1); /* header + one row per front design */
    int c_id = col_of(&t, "id"), c_genome = col_of(&t, "genome"), c_fid = col_of(&t, "fidelity");
    assert_true(c_id >= 0 && c_genome >= 0 && c_fid >= 0);
    for (size_t i = 0; i < n; i++) {
        char **row = t.rows[i + 1];
        assert_int_equal(t.n_cols[i + 1], t.n_cols[0]);
        assert_int_equal(strtoll(row[c_id], NULL, 10), rows[i].id);
        assert_string_equal(row[c_genome], rows[i].genome);
        assert_string_equal(row[c_fid], rows[i].fidelity);
        for (size_t k = 0; k < 4; k++) {
            int c = col_of(&t, objectives[k]);
            assert_true(c >= 0);
            assert_cell_equals(row[c], json_array_get(rows[i].objectives, k));
        }
        /* every scalar metric that is not an objective has its column and value */
        const char *key;
        json_t *v;
        json_object_foreach(rows[i].metrics, key, v)
        {
            bool is_obj = false;
            for (size_t k = 0; k < 4; k++)
                is_obj = is_obj || strcmp(key, objectives[k]) == 0;
            if (is_obj || json_is_object(v) || json_is_array(v))
                continue;
            int c = col_of(&t, key);
            assert_true(c >= 0);
            assert_cell_equals(row[c], v);
        }
    }
    /* the metric holding commas and quotes survived */
    assert_true(col_of(&t, "note") >= 0);
    assert_string_equal(t.rows[1][col_of(&t, "note")], "synthetic, \"fixture\", not a model");
    arch_free(rows, n);
    csv_free(&t);
}

static void test_evaluations_csv_roundtrip(void **state)
{
    (void)state;
    char run[128], out[192], path[256];
    make_run("evals", 120, true, run, sizeof run);
    snprintf(out, sizeof out, "%s/out-evals", dir);
    const char *runs[] = {run};
    assert_int_equal(rep_report_write(runs, 1, REP_FORMAT_CSV, out, NULL), TD_OK);
    snprintf(path, sizeof path, "%s/evaluations.csv", out);
    csv_table t;
    csv_read(path, &t);
    arch_row *rows;
    size_t n = arch_rows(run, "1", &rows);
    assert_int_equal(t.n_rows, n + 1);
    int c_status = col_of(&t, "status"), c_fail = col_of(&t, "failure");
    int c_front = col_of(&t, "on_front"), c_fid = col_of(&t, "fidelity");
    size_t failures = 0, multiline = 0;
    for (size_t i = 0; i < n; i++) {
        char **row = t.rows[i + 1];
        assert_int_equal(t.n_cols[i + 1], t.n_cols[0]);
        assert_string_equal(row[c_status], rows[i].status);
        assert_string_equal(row[c_fid], rows[i].fidelity);
        assert_string_equal(row[c_fail], rows[i].failure ? rows[i].failure : "");
        failures += rows[i].failure != NULL;
        multiline += rows[i].failure && strchr(rows[i].failure, '\n');
        assert_true(strcmp(row[c_front], "0") == 0 || strcmp(row[c_front], "1") == 0);
        for (size_t k = 0; k < 4; k++)
            assert_cell_equals(row[col_of(&t, objectives[k])],
                               json_array_get(rows[i].objectives, k));
    }
    assert_true(failures > 0 && multiline > 0); /* the quoting paths were exercised */
    arch_free(rows, n);
    csv_free(&t);
}

static void test_pareto_json_roundtrip(void **state)
{
    (void)state;
    char run[128], out[192], path[256];
    make_run("json", 150, true, run, sizeof run);
    snprintf(out, sizeof out, "%s/out-json", dir);
    const char *runs[] = {run};
    assert_int_equal(rep_report_write(runs, 1, REP_FORMAT_JSON, out, NULL), TD_OK);
    snprintf(path, sizeof path, "%s/pareto.json", out);
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "format")), "tandem-pareto");
    assert_string_equal(json_string_value(json_object_get(doc, "front_source")), "archive");
    json_t *objs = json_object_get(doc, "objectives");
    assert_int_equal(json_array_size(objs), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(objs, 1), "unit")), "ms");
    json_t *designs = json_object_get(doc, "designs");
    arch_row *rows;
    size_t n = arch_rows(run, front_where, &rows);
    assert_int_equal(json_array_size(designs), n);
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_array_get(designs, i);
        assert_int_equal(json_integer_value(json_object_get(d, "id")), rows[i].id);
        for (size_t k = 0; k < 4; k++) {
            json_t *v = json_object_get(json_object_get(d, "objectives"), objectives[k]);
            assert_true(json_number_value(v) ==
                        json_number_value(json_array_get(rows[i].objectives, k)));
        }
        assert_true(json_equal(json_object_get(d, "metrics"), rows[i].metrics));
        json_t *genome = json_loads(rows[i].genome, 0, NULL);
        assert_true(json_equal(json_object_get(d, "genome"), genome));
        json_decref(genome);
        const char *cmd = json_string_value(json_object_get(d, "rtl_command"));
        char want[256];
        snprintf(want, sizeof want, "tandem rtl --run %s --design %lld -o ", run,
                 (long long)rows[i].id);
        assert_non_null(strstr(cmd, want));
    }
    arch_free(rows, n);
    json_decref(doc);
}

/* A run whose archive has no front yet gets the non-dominated feasible points: the same
 * set the fixture stored in the other run. */
static void test_computed_front(void **state)
{
    (void)state;
    char with[128], without[128];
    make_run("with-front", 100, true, with, sizeof with);
    make_run("no-front", 100, false, without, sizeof without);
    rep_run a, b;
    assert_int_equal(rep_run_load(&a, with), TD_OK);
    assert_int_equal(rep_run_load(&b, without), TD_OK);
    assert_int_equal(a.front_source, REP_FRONT_ARCHIVE);
    assert_int_equal(b.front_source, REP_FRONT_COMPUTED);
    size_t *ia, *ib;
    size_t na = rep_run_front(&a, &ia), nb = rep_run_front(&b, &ib);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_int_equal(a.evals[ia[i]].id, b.evals[ib[i]].id);
    assert_string_equal(a.primary_fidelity, "analytical");
    free(ia);
    free(ib);
    rep_run_free(&a);
    rep_run_free(&b);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void test_html_structure(void **state)
{
    (void)state;
    char run[128], path[256];
    make_run("html", 60, true, run, sizeof run);
    /* a failure reason that tries to end the data element early */
    snprintf(path, sizeof path, "%s/archive.sqlite", run);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE evaluations SET failure='</script><script>alert(1)"
                                  "</script>' WHERE status='failed'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    const char *runs[] = {run};
    json_t *written = json_array();
    assert_int_equal(rep_report_write(runs, 1, REP_FORMAT_ALL, NULL, written), TD_OK);
    assert_int_equal(json_array_size(written), 4);
    snprintf(path, sizeof path, "%s/report/index.html", run);
    assert_string_equal(json_string_value(json_array_get(written, 0)), path);
    json_decref(written);
    char *html = slurp(path);
    assert_non_null(strstr(html, "Content-Security-Policy\" content=\"default-src 'none'"));
    assert_null(strstr(html, "unsafe-eval"));
    assert_null(strstr(html, "<script src"));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "sourceMappingURL"));
    assert_null(strstr(html, "<script>alert(1)"));
    assert_non_null(strstr(html, "\\u003c/script>\\u003cscript>alert(1)"));
    assert_non_null(strstr(html, "def(\"vega-view\""));
    /* the inlined data parses and holds the run */
    const char *open = "<script id=\"tandem-data\" type=\"application/json\">";
    char *start = strstr(html, open);
    assert_non_null(start);
    start += strlen(open);
    char *end = strstr(start, "</script>");
    assert_non_null(end);
    *end = '\0';
    json_t *doc = json_loads(start, 0, NULL);
    assert_non_null(doc);
    json_t *r0 = json_array_get(json_object_get(doc, "runs"), 0);
    assert_string_equal(json_string_value(json_object_get(r0, "name")), "fixture");
    assert_true(json_array_size(json_object_get(r0, "points")) > 10);
    assert_true(json_array_size(json_object_get(r0, "designs")) > 0);
    json_decref(doc);
    free(html);
}

static void test_compare(void **state)
{
    (void)state;
    char a[128], b[128], path[256];
    make_run("cmpA", 40, true, a, sizeof a);
    make_run("cmpB", 50, false, b, sizeof b);
    const char *runs[] = {a, b};
    assert_int_equal(rep_report_write(runs, 2, REP_FORMAT_ALL, NULL, NULL), TD_OK);
    snprintf(path, sizeof path, "%s/report/vs-cmpB/index.html", a);
    char *html = slurp(path);
    assert_non_null(strstr(html, b)); /* the second run's directory is in the data */
    free(html);
    assert_int_equal(rep_report_write(runs, 2, REP_FORMAT_CSV, NULL, NULL), TD_ERR_USAGE);
    assert_non_null(strstr(td_error_message(), "--compare writes the HTML overlay only"));
}

static void test_errors(void **state)
{
    (void)state;
    char path[256], run[256];
    rep_run r;
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(rep_run_load(&r, path), TD_ERR_IO);
    assert_non_null(strstr(td_error_message(), "no such run directory"));

    snprintf(run, sizeof run, "%s/empty", dir);
    mkdir(run, 0755);
    assert_int_equal(rep_run_load(&r, run), TD_ERR_IO);
    assert_non_null(strstr(td_error_message(), "no archive.sqlite here"));

    snprintf(path, sizeof path, "%s/archive.sqlite", run);
    FILE *fp = fopen(path, "w");
    fputs("this is not a database, just text that is long enough to be a header.........\n", fp);
    fclose(fp);
    assert_int_equal(rep_run_load(&r, run), TD_ERR_FORMAT);
    assert_non_null(strstr(td_error_message(), "not a Tandem archive"));

    /* schema newer than this build */
    char good[128];
    make_run("newer", 10, true, good, sizeof good);
    snprintf(path, sizeof path, "%s/archive.sqlite", good);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(rep_run_load(&r, good), TD_ERR_FORMAT);
    assert_non_null(strstr(td_error_message(), "schema version 99 is newer"));

    /* a malformed metrics column names the evaluation and the column */
    make_run("badjson", 10, true, good, sizeof good);
    snprintf(path, sizeof path, "%s/archive.sqlite", good);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "UPDATE evaluations SET metrics='{broken' WHERE id=3", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(rep_run_load(&r, good), TD_ERR_PARSE);
    assert_non_null(strstr(td_error_message(), "evaluation 3: column 'metrics'"));

    /* an archive with no run record */
    make_run("norun", 5, true, good, sizeof good);
    snprintf(path, sizeof path, "%s/archive.sqlite", good);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA foreign_keys=OFF; DELETE FROM population; DELETE FROM "
                                  "front; DELETE FROM evaluations; DELETE FROM generations; "
                                  "DELETE FROM runs",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(rep_run_load(&r, good), TD_ERR_FORMAT);
    assert_non_null(strstr(td_error_message(), "holds no run record"));

    /* Vega missing */
    make_run("novega", 10, true, good, sizeof good);
    rep_run ok;
    assert_int_equal(rep_run_load(&ok, good), TD_OK);
    rep_run *runs[] = {&ok};
    snprintf(path, sizeof path, "%s/novega.html", dir);
    assert_int_equal(rep_html_write(runs, 1, "/nonexistent/vega", path), TD_ERR_IO);
    assert_non_null(strstr(td_error_message(), "install Debian's libjs-vega"));
    assert_int_equal(access(path, F_OK), -1); /* no half-written report left behind */
    rep_run_free(&ok);

    /* unwritable output */
    const char *one[] = {good};
    assert_int_equal(rep_report_write(one, 1, REP_FORMAT_CSV, "/proc/tandem-no", NULL), TD_ERR_IO);
    rep_format f;
    assert_false(rep_format_parse("pdf", &f));
    assert_true(rep_format_parse("csv", &f) && f == REP_FORMAT_CSV);
}

/* A run still going: the report reads the committed evaluations while the search holds an
 * open write transaction, and sees the new one once it commits. */
static void test_running_run(void **state)
{
    (void)state;
    char run[128], path[256];
    snprintf(run, sizeof run, "%s/live", dir);
    rep_fixture_opts o = {.evaluations = 30, .population = 10, .seed = 3, .store_front = true};
    assert_int_equal(rep_fixture_make(run, &o), TD_OK);
    snprintf(path, sizeof path, "%s/archive.sqlite", run);
    cs_archive a;
    assert_int_equal(cs_archive_open(&a, path, false), TD_OK);
    assert_int_equal(cs_archive_run_resume(&a, NULL), TD_OK);
    int64_t before = cs_archive_evaluation_count(&a);
    assert_int_equal(sqlite3_exec((sqlite3 *)a.db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    cs_eval_record r = {.candidate_hash = 0x1234,
                        .fidelity = "analytical",
                        .status = CS_EVAL_OK,
                        .generation = 3,
                        .genome_json = "[1]",
                        .objectives_json = "[0.1,0.2,0.3,0.4]",
                        .metrics_json = "{}"};
    assert_int_equal(cs_archive_add_evaluation(&a, &r), TD_OK);
    rep_run rr;
    assert_int_equal(rep_run_load(&rr, run), TD_OK);
    assert_int_equal((int64_t)rr.n_evals, before);
    assert_string_equal(rr.status, "running");
    assert_true(isnan(rr.wall_s));
    rep_run_free(&rr);
    const char *runs[] = {run};
    assert_int_equal(rep_report_write(runs, 1, REP_FORMAT_ALL, NULL, NULL), TD_OK);
    assert_int_equal(sqlite3_exec((sqlite3 *)a.db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(rep_run_load(&rr, run), TD_OK);
    assert_int_equal((int64_t)rr.n_evals, before + 1);
    rep_run_free(&rr);
    cs_archive_close(&a);
}

/* An empty run (started, nothing evaluated yet) still reports: sections say so. */
static void test_empty_run(void **state)
{
    (void)state;
    char run[128], path[256];
    snprintf(run, sizeof run, "%s/fresh", dir);
    rep_fixture_opts o = {.evaluations = 0, .population = 4, .seed = 1, .store_front = true};
    assert_int_equal(rep_fixture_make(run, &o), TD_OK);
    const char *runs[] = {run};
    assert_int_equal(rep_report_write(runs, 1, REP_FORMAT_ALL, NULL, NULL), TD_OK);
    rep_run r;
    assert_int_equal(rep_run_load(&r, run), TD_OK);
    assert_int_equal(r.n_evals, 0);
    assert_int_equal(r.front_source, REP_FRONT_NONE);
    rep_run_free(&r);
    snprintf(path, sizeof path, "%s/report/pareto.csv", run);
    csv_table t;
    csv_read(path, &t);
    assert_int_equal(t.n_rows, 1); /* the header only */
    csv_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_pareto_csv_roundtrip),
        cmocka_unit_test(test_evaluations_csv_roundtrip),
        cmocka_unit_test(test_pareto_json_roundtrip),
        cmocka_unit_test(test_computed_front),
        cmocka_unit_test(test_html_structure),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_empty_run),
        cmocka_unit_test(test_running_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
