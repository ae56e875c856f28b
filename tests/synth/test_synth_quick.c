/* Quality bar of issue #8 (label synth): a short calibration (`tandem calibrate --quick`: the
 * 8-bit WS PE, the 8-bit WS 2x2 array with timing and power, the 8-bit multiplier and 32-bit
 * adder) reproduces the checked-in hw_model/calibration/osu018.json within 2 %: every
 * component's area, fmax and energy per MAC, and every table entry both files have.
 * Exit code 77 (skipped) where yosys, sta or verilator is missing. Usage: test_synth_quick
 * TANDEM_BINARY (TANDEM_SOURCE_DIR from CTest). */
#include "hw_calib.h"
#include "synth_tolerances.h"

#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static const char *tandem_bin, *src_dir;

static bool on_path(const char *tool)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s > /dev/null 2>&1", tool);
    return system(cmd) == 0;
}

static json_t *find_component(json_t *root, const char *name)
{
    json_t *comps = json_object_get(root, "components"), *c;
    size_t i;
    json_array_foreach(comps, i, c)
    {
        json_t *n = json_object_get(c, "name");
        if (json_is_string(n) && strcmp(json_string_value(n), name) == 0)
            return c;
    }
    return NULL;
}

static int compared;

static void compare(const char *what, const char *key, json_t *got, json_t *want)
{
    if (!json_is_number(want))
        return;
    assert_true(json_is_number(got));
    double g = json_number_value(got), w = json_number_value(want);
    double rel = fabs(g - w) / fabs(w);
    printf("  %-28s %-18s got %-12.6g checked-in %-12.6g (%+.3f %%)\n", what, key, g, w,
           100 * (g - w) / w);
    if (rel > SYNTH_TOL_REPRODUCE_REL)
        fail_msg("%s %s: %g differs from the checked-in %g by %.2f %% (bar %.0f %%)", what, key, g,
                 w, 100 * rel, 100 * SYNTH_TOL_REPRODUCE_REL);
    compared++;
}

static void test_quick_reproduces(void **state)
{
    (void)state;
    char work[] = "/tmp/test_synth_quick.XXXXXX";
    assert_non_null(mkdtemp(work));
    char out[256], cmd[2048], ref[1024];
    snprintf(out, sizeof out, "%s/quick.json", work);
    snprintf(ref, sizeof ref, "%s/hw_model/calibration/osu018.json", src_dir);
    snprintf(cmd, sizeof cmd, "TANDEM_SOURCE_DIR='%s' '%s' calibrate --quick -o '%s' --work '%s'",
             src_dir, tandem_bin, out, work);
    printf("%s\n", cmd);
    int rc = system(cmd);
    assert_int_equal(rc, 0);
    json_error_t err;
    json_t *got = json_load_file(out, 0, &err), *want = json_load_file(ref, 0, &err);
    assert_non_null(got);
    if (!want)
        fail_msg("%s: %s", ref, err.text);
    /* the quick file loads as a calibration too */
    hw_calib c;
    assert_int_equal(hw_calib_load(&c, out), TD_OK);

    json_t *comps = json_object_get(got, "components"), *g;
    size_t i;
    json_array_foreach(comps, i, g)
    {
        const char *name = json_string_value(json_object_get(g, "name"));
        json_t *w = find_component(want, name);
        if (!w)
            fail_msg("component %s is not in %s", name, ref);
        compare(name, "area_um2", json_object_get(g, "area_um2"), json_object_get(w, "area_um2"));
        compare(name, "fmax_mhz", json_object_get(g, "fmax_mhz"), json_object_get(w, "fmax_mhz"));
        json_t *gp = json_object_get(g, "power"), *wp = json_object_get(w, "power");
        if (wp) {
            compare(name, "power.mac_pj", json_object_get(gp, "mac_pj"),
                    json_object_get(wp, "mac_pj"));
            compare(name, "power.leakage_mw", json_object_get(gp, "leakage_mw"),
                    json_object_get(wp, "leakage_mw"));
        }
    }
    const char *key;
    json_t *e;
    json_object_foreach(json_object_get(got, "table"), key, e)
    {
        json_t *we = json_object_get(json_object_get(want, "table"), key);
        if (we)
            compare("table", key, json_object_get(e, "value"), json_object_get(we, "value"));
    }
    assert_true(compared >= 8);
    json_decref(got);
    json_decref(want);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", work);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_synth_quick TANDEM_BINARY\n");
        return 2;
    }
    tandem_bin = argv[1];
    src_dir = getenv("TANDEM_SOURCE_DIR");
    if (!src_dir)
        src_dir = ".";
    static const char *const tools[] = {"yosys", "sta", "verilator"};
    for (size_t i = 0; i < 3; i++)
        if (!on_path(tools[i])) {
            printf("skipped: %s not on PATH\n", tools[i]);
            return 77;
        }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quick_reproduces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
