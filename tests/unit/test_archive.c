/* The run archive: write, reopen, schema version checks, resume, cache, run directory. */
#include "cs_archive.h"
#include "cs_config.h"
#include "cs_rundir.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/td_test_archive_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static void test_write_reopen(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/a.sqlite", dir);
    cs_archive a;
    assert_int_equal(cs_archive_open(&a, path, true), TD_OK);
    assert_int_equal(cs_archive_schema_version(&a), CS_ARCHIVE_SCHEMA_VERSION);
    assert_int_equal(cs_archive_run_begin(&a, "t", 7, "run: {}\n", "0.1.0"), TD_OK);
    cs_eval_record r = {.candidate_hash = 0xabcull,
                        .net_hash = 1,
                        .hw_hash = 2,
                        .generation = 0,
                        .fidelity = "analytical",
                        .status = CS_EVAL_OK,
                        .genome_json = "[1,2,3]",
                        .objectives_json = "[0.1,2.5]",
                        .metrics_json = "{\"latency_ms\":2.5}",
                        .violation = 0,
                        .seed = 99,
                        .wall_s = 0.5};
    assert_int_equal(cs_archive_add_evaluation(&a, &r), TD_OK);
    assert_true(r.id > 0);
    /* The same candidate and fidelity twice is refused. */
    assert_int_equal(cs_archive_add_evaluation(&a, &r), TD_ERR_DB);
    cs_eval_record f = {.candidate_hash = 0xdefull,
                        .fidelity = "analytical",
                        .status = CS_EVAL_FAILED,
                        .failure = "timeout after 900 s"};
    assert_int_equal(cs_archive_add_evaluation(&a, &f), TD_OK);
    int64_t ids[2] = {r.id, f.id};
    int32_t ranks[2] = {0, 1};
    double crowd[2] = {1.0 / 0.0, 0.5};
    assert_int_equal(cs_archive_add_generation(&a, 0, 0.75, 2, 1.0, ids, ranks, crowd, 2), TD_OK);
    assert_int_equal(cs_archive_set_front(&a, ids, 1), TD_OK);
    assert_int_equal(cs_archive_cache_put(&a, 5, 8, 6, 7, 0.9, 0.89, 3.0), TD_OK);
    cs_archive_close(&a);

    /* Reopen: everything is there, and resume picks up the run. */
    assert_int_equal(cs_archive_open(&a, path, false), TD_OK);
    int64_t seed = 0;
    assert_int_equal(cs_archive_run_resume(&a, &seed), TD_OK);
    assert_int_equal(seed, 7);
    assert_int_equal(cs_archive_evaluation_count(&a), 2);
    assert_int_equal(cs_archive_last_generation(&a), 0);
    bool found;
    cs_eval_record out;
    char buf[1024];
    assert_int_equal(
        cs_archive_find_evaluation(&a, 0xabcull, "analytical", &found, &out, buf, sizeof buf),
        TD_OK);
    assert_true(found);
    assert_string_equal(out.genome_json, "[1,2,3]");
    assert_string_equal(out.metrics_json, "{\"latency_ms\":2.5}");
    assert_true(out.seed == 99 && out.net_hash == 1 && out.hw_hash == 2);
    assert_int_equal(
        cs_archive_find_evaluation(&a, 0xdefull, "analytical", &found, &out, buf, sizeof buf),
        TD_OK);
    assert_true(found);
    assert_int_equal(out.status, CS_EVAL_FAILED);
    assert_string_equal(out.failure, "timeout after 900 s");
    assert_int_equal(
        cs_archive_find_evaluation(&a, 0x1ull, "analytical", &found, &out, buf, sizeof buf), TD_OK);
    assert_false(found);
    double fa, ia;
    assert_int_equal(cs_archive_cache_get(&a, 5, 8, 6, 7, &found, &fa, &ia), TD_OK);
    assert_true(found && fa == 0.9 && ia == 0.89);
    assert_int_equal(cs_archive_cache_get(&a, 5, 4, 6, 7, &found, &fa, &ia), TD_OK);
    assert_false(found);
    assert_int_equal(cs_archive_run_finish(&a, "finished", 12.0), TD_OK);
    cs_archive_close(&a);
}

static void test_schema_checks(void **state)
{
    (void)state;
    char path[128];
    cs_archive a;
    /* Newer schema: clear refusal. */
    snprintf(path, sizeof path, "%s/new.sqlite", dir);
    assert_int_equal(cs_archive_open(&a, path, true), TD_OK);
    cs_archive_close(&a);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(cs_archive_open(&a, path, false), TD_ERR_FORMAT);
    assert_non_null(strstr(td_error_message(),
                           "archive schema version 99 is newer than this tandem supports (1)"));
    /* Some other SQLite database. */
    snprintf(path, sizeof path, "%s/other.sqlite", dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE x(y)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(cs_archive_open(&a, path, false), TD_ERR_FORMAT);
    assert_non_null(strstr(td_error_message(), "is an SQLite database but not a Tandem archive"));
    /* Not a database at all. */
    snprintf(path, sizeof path, "%s/text.sqlite", dir);
    FILE *fp = fopen(path, "w");
    fputs("this is not a database, just some text that is long enough to look like one......"
          "................................................................................",
          fp);
    fclose(fp);
    assert_int_not_equal(cs_archive_open(&a, path, false), TD_OK);
    assert_non_null(strstr(td_error_message(), path));
    /* Missing archive. */
    snprintf(path, sizeof path, "%s/none/archive.sqlite", dir);
    assert_int_equal(cs_archive_open(&a, path, false), TD_ERR_IO);
    assert_non_null(strstr(td_error_message(), "no archive here"));
}

static void test_rundir(void **state)
{
    (void)state;
    td_config *cfg = NULL;
    assert_int_equal(cs_config_load(&cfg, NULL, NULL, 0), TD_OK);
    char run[128], p[160];
    snprintf(run, sizeof run, "%s/runs/r1", dir);
    cs_rundir r;
    assert_int_equal(cs_rundir_create(&r, run, cfg, "0.1.0"), TD_OK);
    cs_rundir_close(&r);
    snprintf(p, sizeof p, "%s/config.yaml", run);
    assert_int_equal(access(p, R_OK), 0);
    snprintf(p, sizeof p, "%s/log.txt", run);
    assert_int_equal(access(p, R_OK), 0);
    /* A second create on the same directory is refused, pointing at --resume. */
    assert_int_equal(cs_rundir_create(&r, run, cfg, "0.1.0"), TD_ERR_USAGE);
    assert_non_null(strstr(td_error_message(), "already holds a run; continue it with --resume"));
    td_config *back = NULL;
    assert_int_equal(cs_rundir_resume(&r, run, &back), TD_OK);
    assert_int_equal(td_config_int(back, "search.population"),
                     td_config_int(cfg, "search.population"));
    cs_rundir_close(&r);
    td_config_free(back);
    td_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_reopen),
        cmocka_unit_test(test_schema_checks),
        cmocka_unit_test(test_rundir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
