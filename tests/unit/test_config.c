/* Config loading: defaults, merging, every error class with its message, round trip. */
#include "cs_config.h"
#include "td_config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static const td_cfg_key test_keys[] = {
    {"search.population", TD_CFG_INT, 2, 1000, NULL, "16", 0, 0, "population"},
    {"search.algorithm", TD_CFG_ENUM, 0, 0, "nsga2|random", "nsga2", 0, 0, "algorithm"},
    {"search.rate", TD_CFG_FLOAT, 0, 1, NULL, "0.5", 0, 0, "rate"},
    {"search.objectives", TD_CFG_ENUM_LIST, 0, 0, "error|latency_ms|area_mm2", "[error, area_mm2]",
     2, 3, "objectives"},
    {"run.name", TD_CFG_STRING, 0, 0, NULL, "''", 0, 0, "name"},
    {"run.verbose", TD_CFG_BOOL, 0, 0, NULL, "false", 0, 0, "flag"},
    {"space.hw.macs", TD_CFG_INT_LIST, 1, 100000, NULL, "[128, 4096]", 2, 2, "[min, max] macs"},
    {"space.hw.dram_gbps", TD_CFG_FLOAT_LIST, 0.1, 1000, NULL, "[50.0, 500.0]", 2, 2,
     "[min, max] bw"},
    TD_CFG_END,
};

static td_config *make_cfg(void)
{
    const td_cfg_key *const tables[] = {test_keys, NULL};
    td_config *cfg = NULL;
    assert_int_equal(td_config_init(&cfg, tables), TD_OK);
    return cfg;
}

/* Writes text to a temp file and returns its path (static buffer). */
static const char *temp_yaml(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/td_test_cfg_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* Merges text and expects failure whose message contains each of the given fragments. */
static void expect_error(const char *text, td_status want, const char *frag1, const char *frag2)
{
    td_config *cfg = make_cfg();
    const char *path = temp_yaml(text);
    td_status st = td_config_merge_file(cfg, path);
    const char *msg = td_error_message();
    if (st != want || !strstr(msg, frag1) || (frag2 && !strstr(msg, frag2)))
        fail_msg("yaml <<%s>>: status %d, message '%s'; wanted '%s' and '%s'", text, st, msg, frag1,
                 frag2 ? frag2 : "");
    /* nothing was changed by the failed merge */
    assert_int_equal(td_config_int(cfg, "search.population"), 16);
    unlink(path);
    td_config_free(cfg);
}

static void test_defaults(void **state)
{
    (void)state;
    td_config *cfg = make_cfg();
    assert_int_equal(td_config_int(cfg, "search.population"), 16);
    assert_string_equal(td_config_str(cfg, "search.algorithm"), "nsga2");
    assert_float_equal(td_config_float(cfg, "search.rate"), 0.5, 0);
    assert_int_equal(td_config_list_len(cfg, "search.objectives"), 2);
    assert_string_equal(td_config_list_str(cfg, "search.objectives", 1), "area_mm2");
    assert_string_equal(td_config_str(cfg, "run.name"), "");
    assert_false(td_config_bool(cfg, "run.verbose"));
    assert_int_equal(td_config_list_int(cfg, "space.hw.macs", 1), 4096);
    assert_string_equal(td_config_origin(cfg, "search.population"), "default");
    td_config_free(cfg);
}

static void test_merge(void **state)
{
    (void)state;
    td_config *cfg = make_cfg();
    const char *path = temp_yaml("# comment\nsearch:\n  population: 40\n  algorithm: random\n"
                                 "space:\n  hw:\n    macs: [256, 1024]\nrun:\n  verbose: yes\n");
    assert_int_equal(td_config_merge_file(cfg, path), TD_OK);
    assert_int_equal(td_config_int(cfg, "search.population"), 40);
    assert_string_equal(td_config_str(cfg, "search.algorithm"), "random");
    assert_int_equal(td_config_list_int(cfg, "space.hw.macs", 0), 256);
    assert_true(td_config_bool(cfg, "run.verbose"));
    assert_float_equal(td_config_float(cfg, "search.rate"), 0.5, 0); /* untouched */
    char want[128];
    snprintf(want, sizeof want, "%s:3:15", path); /* where the value stands */
    assert_string_equal(td_config_origin(cfg, "search.population"), want);
    unlink(path);
    assert_int_equal(td_config_set(cfg, "search.rate=0.25"), TD_OK);
    assert_float_equal(td_config_float(cfg, "search.rate"), 0.25, 0);
    assert_int_equal(td_config_set(cfg, "search.objectives=[latency_ms, error, area_mm2]"), TD_OK);
    assert_int_equal(td_config_list_len(cfg, "search.objectives"), 3);
    td_config_free(cfg);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("search:\n  populaton: 4\n", TD_ERR_CONFIG, ":2:3: unknown key 'search.populaton'",
                 "did you mean 'search.population'?");
    expect_error("serch:\n  population: 4\n", TD_ERR_CONFIG, ":1:1: unknown key 'serch'",
                 "did you mean 'search'?");
    expect_error("bogus_section_name: 1\n", TD_ERR_CONFIG, "unknown key 'bogus_section_name'",
                 NULL);
    expect_error("search:\n  population: many\n", TD_ERR_CONFIG,
                 ":2:15: key 'search.population': expects an integer, got 'many'", NULL);
    expect_error("search:\n  population: 1\n", TD_ERR_CONFIG,
                 "key 'search.population': value 1 is out of range [2, 1000]", NULL);
    expect_error("search:\n  rate: 1.5\n", TD_ERR_CONFIG,
                 "key 'search.rate': value 1.5 is out of range [0, 1]", NULL);
    expect_error("search:\n  algorithm: genetic\n", TD_ERR_CONFIG,
                 "key 'search.algorithm': 'genetic' is not one of nsga2|random", NULL);
    expect_error("search:\n  objectives: [error]\n", TD_ERR_CONFIG,
                 "key 'search.objectives': expects 2 to 3 elements, got 1", NULL);
    expect_error("search:\n  objectives: [error, speed]\n", TD_ERR_CONFIG,
                 ":2:23: key 'search.objectives': 'speed' is not one of", NULL);
    expect_error("space:\n  hw:\n    macs: 128\n", TD_ERR_CONFIG,
                 "key 'space.hw.macs': expects a list of integers like [a, b], got a single value",
                 NULL);
    expect_error("search: 5\n", TD_ERR_CONFIG, "key 'search' is a section and expects a mapping",
                 NULL);
    expect_error("run:\n  verbose: maybe\n", TD_ERR_CONFIG,
                 "key 'run.verbose': expects true or false, got 'maybe'", NULL);
    expect_error("search:\n  population: [1, 2]\n", TD_ERR_CONFIG,
                 "key 'search.population': expects an integer, got a list", NULL);
    expect_error("", TD_ERR_CONFIG, "config is empty", NULL);
    expect_error("# only a comment\n\n", TD_ERR_CONFIG, "config is empty", NULL);
    expect_error("- a\n- b\n", TD_ERR_CONFIG, "top level of a config must be a mapping", NULL);
    expect_error("search:\n  population: [1, 2\n", TD_ERR_PARSE, "invalid YAML", NULL);

    td_config *cfg = make_cfg();
    assert_int_equal(td_config_merge_file(cfg, "/nonexistent/x.yaml"), TD_ERR_IO);
    assert_non_null(strstr(td_error_message(), "/nonexistent/x.yaml: cannot open config"));
    assert_int_equal(td_config_set(cfg, "search.popsize=3"), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "--set: unknown key 'search.popsize'"));
    assert_int_equal(td_config_set(cfg, "noequals"), TD_ERR_USAGE);
    td_config_free(cfg);
}

static char *config_text(const td_config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_int_equal(td_config_write(cfg, fp), TD_OK);
    fclose(fp);
    return buf;
}

static void test_round_trip_full_default(void **state)
{
    (void)state;
    td_config *a = NULL, *b = NULL;
    assert_int_equal(cs_config_load(&a, NULL, NULL, 0), TD_OK);
    char *text_a = config_text(a);
    const char *path = temp_yaml(text_a);
    assert_int_equal(cs_config_load(&b, path, NULL, 0), TD_OK);
    char *text_b = config_text(b);
    assert_string_equal(text_a, text_b);
    /* Every value equal, key by key. */
    for (size_t i = 0; i < td_config_key_count(a); i++) {
        const td_cfg_key *k = td_config_key_at(a, i);
        switch (k->type) {
        case TD_CFG_INT:
            assert_int_equal(td_config_int(a, k->path), td_config_int(b, k->path));
            break;
        case TD_CFG_FLOAT:
            assert_true(td_config_float(a, k->path) == td_config_float(b, k->path));
            break;
        case TD_CFG_BOOL:
            assert_int_equal(td_config_bool(a, k->path), td_config_bool(b, k->path));
            break;
        case TD_CFG_STRING:
        case TD_CFG_ENUM:
            assert_string_equal(td_config_str(a, k->path), td_config_str(b, k->path));
            break;
        default:
            assert_int_equal(td_config_list_len(a, k->path), td_config_list_len(b, k->path));
        }
    }
    unlink(path);
    free(text_a);
    free(text_b);
    td_config_free(a);
    td_config_free(b);
}

static void test_round_trip_awkward_values(void **state)
{
    (void)state;
    td_config *a = make_cfg(), *b = make_cfg();
    assert_int_equal(td_config_set(a, "search.rate=0.1"), TD_OK);
    assert_int_equal(td_config_set(a, "run.name='yes: #not a comment'"), TD_OK);
    assert_int_equal(td_config_set(a, "space.hw.dram_gbps=[0.30000000000000004, 123.456]"), TD_OK);
    char *text = config_text(a);
    assert_int_equal(td_config_merge_string(b, text, "roundtrip"), TD_OK);
    assert_string_equal(td_config_str(b, "run.name"), "yes: #not a comment");
    assert_true(td_config_float(b, "search.rate") == 0.1);
    assert_true(td_config_list_float(b, "space.hw.dram_gbps", 0) == 0.30000000000000004);
    free(text);
    td_config_free(a);
    td_config_free(b);
}

static void test_cross_field_checks(void **state)
{
    (void)state;
    td_config *cfg = NULL;
    char *sets1[] = {"space.hw.macs=[4096, 128]"};
    assert_int_equal(cs_config_load(&cfg, NULL, sets1, 1), TD_ERR_CONFIG);
    assert_non_null(
        strstr(td_error_message(), "key 'space.hw.macs': range [4096, 128] has min above max"));
    char *sets2[] = {"space.hw.bits=[8, 12]"};
    assert_int_equal(cs_config_load(&cfg, NULL, sets2, 1), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "12 is not one of 4, 8, 16, 32"));
    char *sets3[] = {"search.reference_point=[1.0, 2.0]"};
    assert_int_equal(cs_config_load(&cfg, NULL, sets3, 1), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "has 2 values for 4 objectives"));
}

static void test_edit_distance(void **state)
{
    (void)state;
    assert_int_equal(td_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(td_edit_distance("", "abc"), 3);
    assert_int_equal(td_edit_distance("same", "same"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_round_trip_full_default),
        cmocka_unit_test(test_round_trip_awkward_values),
        cmocka_unit_test(test_cross_field_checks),
        cmocka_unit_test(test_edit_distance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
