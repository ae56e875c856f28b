/* A deliberately broken RTL: a copy of rtl_templates/sv whose vector unit rounds with the
 * constant 0 instead of 2^(S-1) (truncation instead of round half up), Verilated into its own
 * sim library (tests/systemc/CMakeLists.txt). The CI suite's WS cases must fail on the rtl
 * core with a readable first mismatch naming the layer, the tile, the index, the expected and
 * the actual value, while the twin still passes. This is the code `tandem regress` runs
 * (cli/cmd_regress.c calls the same sim_suite_* functions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_broken_rounding_is_caught(void **state)
{
    (void)state;
#ifdef SIM_BROKEN_NOT_PATCHED
    fail_msg("rtl_vector_unit.sv no longer holds the rounding expression the test patches "
             "('(RndBits'(1) << (shift - 7'd1))'): update tests/systemc/CMakeLists.txt");
#endif
    const char *src = getenv("TANDEM_SOURCE_DIR");
    char path[600];
    snprintf(path, sizeof path, "%s/tests/regress/ci.yaml", src ? src : ".");
    sim_suite s;
    assert_int_equal(sim_suite_load(path, &s), TD_OK);
    /* only the cases on the broken (WS) parameter set */
    size_t n = 0;
    for (size_t i = 0; i < s.n_cases; i++)
        if (s.cases[i].cfg.dataflow == HW_DATAFLOW_WS && s.cases[i].kind != SIM_CASE_NET)
            s.cases[n++] = s.cases[i];
    s.n_cases = n;
    assert_true(n >= 2);
    sim_case_result *res = calloc(n, sizeof *res);
    assert_int_equal(sim_suite_run(&s, 1, res), TD_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    size_t failed = sim_suite_report(&s, res, fp);
    fclose(fp);
    fputs(buf, stderr);
    assert_true(failed >= 1);
    /* the first mismatch line names layer, tile, index, expected and actual */
    const char *fm = strstr(buf, "first mismatch: case '");
    assert_non_null(fm);
    assert_non_null(strstr(fm, "rtl core: layer '"));
    assert_non_null(strstr(fm, "' tile (m "));
    assert_non_null(strstr(fm, ") index ["));
    assert_non_null(strstr(fm, ": expected "));
    assert_non_null(strstr(fm, ", actual "));
    assert_non_null(strstr(buf, " failed\n"));
    /* JUnit carries the failure */
    char junit[] = "/tmp/tandem-broken-junit-XXXXXX";
    int fd = mkstemp(junit);
    assert_true(fd >= 0);
    assert_int_equal(sim_suite_write_junit(&s, res, junit), TD_OK);
    FILE *jf = fopen(junit, "r");
    char xml[8192] = "";
    size_t got = fread(xml, 1, sizeof xml - 1, jf);
    xml[got] = '\0';
    fclose(jf);
    remove(junit);
    assert_non_null(strstr(xml, "<failure message=\"rtl core: layer"));
    free(buf);
    free(res);
    sim_suite_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broken_rounding_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
