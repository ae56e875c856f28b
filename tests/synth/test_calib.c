/* hw_calib unit tests: loading a calibration file and its error messages, Stillmaker & Baas
 * node scaling, the calibrated hw_tech table, the per-bit-width clock check, least squares.
 * Fixtures are written by the test; the checked-in file is loaded when the source dir is set. */
#include "hw_calib.h"
#include "hw_eval.h"
#include "synth_tolerances.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char fixture_path[256];

static const char fixture[] =
    "{\"format\": \"tandem-calibration\", \"version\": 1,\n"
    " \"library\": {\"name\": \"osu018\", \"node_nm\": 180, \"vdd_v\": 1.8},\n"
    " \"tools\": {\"yosys\": \"Yosys 0.23\"},\n"
    " \"pe\": [{\"dataflow\": \"ws\", \"bits\": 8, \"acc_bits\": 32, \"area_um2\": 28000,\n"
    "          \"fmax_mhz\": 200, \"mac_pj\": 5, \"mac_seq_pj\": 3, \"mac_comb_pj\": 2}],\n"
    " \"fits\": {\"array_area_ws\": {\"coef\": [100, 28000, -50, -20], \"rms_rel\": 0.01}},\n"
    " \"table\": {\"mult8_um2\": {\"value\": 19000, \"source\": \"synthesis\"},\n"
    "           \"mult8_pj\": {\"value\": 1.5}}}\n";

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int setup(void **state)
{
    (void)state;
    snprintf(fixture_path, sizeof fixture_path, "/tmp/test_calib_%d.json", (int)getpid());
    write_file(fixture_path, fixture);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(fixture_path);
    return 0;
}

static void test_load_fixture(void **state)
{
    (void)state;
    hw_calib c;
    assert_int_equal(hw_calib_load(&c, fixture_path), TD_OK);
    assert_int_equal(c.lib_nm, 180);
    assert_string_equal(c.library, "osu018");
    assert_true(c.pe[HW_DATAFLOW_WS][1].have_fmax);
    assert_false(c.pe[HW_DATAFLOW_WS][0].have_fmax);
    assert_true(c.array_area[HW_DATAFLOW_WS].have);
    assert_false(c.array_area[HW_DATAFLOW_OS].have);
    double a;
    assert_int_equal(hw_calib_array_area_um2(&c, HW_DATAFLOW_WS, 2, 3, &a), TD_OK);
    assert_true(fabs(a - (100 + 28000 * 6 - 50 * 2 - 20 * 3)) < 1e-9);
    assert_int_equal(hw_calib_array_area_um2(&c, HW_DATAFLOW_OS, 2, 3, &a), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "no array area fit for os"));
}

/* 180 -> 45 nm from the polynomials (evaluated here by hand). */
static void test_scaling(void **state)
{
    (void)state;
    double sa, se, sd;
    assert_int_equal(hw_calib_scale(180, 45, &sa, &se, &sd), TD_OK);
    const double e180 = 24.64 * 1.8 - 17.98, e45 = 1.018 - 0.3107 + 0.1539;
    const double d180 = 97.09 * 1.8 * 1.8 - 356.7 * 1.8 + 406.5;
    const double d45 = -501.6 + 1567 - 1619 + 566.1;
    assert_true(fabs(sa - 0.053) < SYNTH_TOL_SCALE_REL);
    assert_true(fabs(se / (e45 / e180) - 1) < SYNTH_TOL_SCALE_REL);
    assert_true(fabs(sd / (d45 / d180) - 1) < SYNTH_TOL_SCALE_REL);
    /* the paper's erratum example: 32 nm HP energy factor at 0.9 V is 0.4571 */
    const double e32 = 0.8367 * 0.81 - 0.4341 * 0.9 + 0.1701;
    assert_true(fabs(e32 - 0.4571) < SYNTH_TOL_ERRATUM_ABS);
    assert_int_equal(hw_calib_scale(180, 32, &sa, &se, &sd), TD_OK);
    assert_true(fabs(se / (e32 / e180) - 1) < SYNTH_TOL_SCALE_REL);
    assert_int_equal(hw_calib_scale(32, 32, &sa, &se, &sd), TD_OK);
    assert_true(fabs(se - 1) < SYNTH_TOL_SCALE_REL);
    assert_int_equal(hw_calib_scale(180, 28, &sa, &se, &sd), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "technology node 28 nm: not in the scaling table"));
}

static void test_table(void **state)
{
    (void)state;
    hw_calib c;
    assert_int_equal(hw_calib_load(&c, fixture_path), TD_OK);
    hw_tech_table t;
    assert_int_equal(hw_calib_table(&c, 45, &t), TD_OK);
    double sa, se;
    assert_int_equal(hw_calib_scale(180, 45, &sa, &se, NULL), TD_OK);
    assert_true(fabs(t.c[HW_C_REF_NM].value - 45) < 1e-12);
    assert_true(fabs(t.c[HW_C_MULT8_UM2].value - 19000 * sa) < 1e-9);
    assert_true(fabs(t.c[HW_C_MULT8_PJ].value - 1.5 * se) < 1e-12);
    /* not calibrated: the published 45 nm value, unchanged at 45 nm */
    assert_true(fabs(t.c[HW_C_SRAM8K_PJ].value - hw_tech_default()->c[HW_C_SRAM8K_PJ].value) <
                1e-12);
    assert_true(t.c[HW_C_FMAX_MHZ].value == 0);
    assert_non_null(strstr(t.c[HW_C_MULT8_UM2].source, "Stillmaker"));
    assert_non_null(strstr(t.origin, "SRAM, DRAM and command energy stay on the published"));
    /* at 90 nm the published SRAM figure moves by hw_model's classical rule */
    assert_int_equal(hw_calib_table(&c, 90, &t), TD_OK);
    assert_true(fabs(t.c[HW_C_SRAM8K_PJ].value - 2 * hw_tech_default()->c[HW_C_SRAM8K_PJ].value) <
                1e-12);
}

static void test_clock_check(void **state)
{
    (void)state;
    hw_calib c;
    assert_int_equal(hw_calib_load(&c, fixture_path), TD_OK);
    hw_config cfg;
    assert_int_equal(hw_preset("gemmini-16x16-int8", &cfg), TD_OK);
    cfg.bits = 8;
    cfg.dataflow = HW_DATAFLOW_WS;
    cfg.tech_nm = 45;
    double sd;
    assert_int_equal(hw_calib_scale(180, 45, NULL, NULL, &sd), TD_OK);
    const double fmax45 = 200 / sd;
    hw_violations v = {0};
    double f;
    cfg.clock_mhz = fmax45 * 0.9;
    assert_int_equal(hw_calib_check_clock(&c, &cfg, &v, &f), TD_OK);
    assert_true(fabs(f - fmax45) < 1e-9);
    assert_int_equal(v.n, 0);
    cfg.clock_mhz = fmax45 + 100;
    assert_int_equal(hw_calib_check_clock(&c, &cfg, &v, &f), TD_OK);
    assert_int_equal(v.n, 1);
    assert_int_equal(v.v[0].kind, HW_VIOL_FMAX);
    assert_true(fabs(v.v[0].amount - 100) < 1e-9);
    char buf[200];
    hw_violation_format(&v.v[0], &cfg, buf, sizeof buf);
    assert_non_null(strstr(buf, "above the PE's fmax"));
    assert_non_null(strstr(buf, "by 100 MHz"));
    /* no fmax for 32 bits in the fixture: an error naming the file and width */
    cfg.bits = 32;
    assert_int_equal(hw_calib_check_clock(&c, &cfg, &v, &f), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "no fmax for ws PEs at 32 bits"));
}

static void test_fit(void **state)
{
    (void)state;
    /* y = 3 + 2x + 0.5x^2 exactly */
    double X[5 * 3], y[5], r[5];
    for (int i = 0; i < 5; i++) {
        double x = i + 1;
        X[i * 3] = 1;
        X[i * 3 + 1] = x;
        X[i * 3 + 2] = x * x;
        y[i] = 3 + 2 * x + 0.5 * x * x;
    }
    hw_calib_fit f;
    assert_int_equal(hw_calib_fit_linear(X, y, 5, 3, &f, r), TD_OK);
    assert_true(fabs(f.coef[0] - 3) < SYNTH_TOL_FIT_EXACT);
    assert_true(fabs(f.coef[1] - 2) < SYNTH_TOL_FIT_EXACT);
    assert_true(fabs(f.coef[2] - 0.5) < SYNTH_TOL_FIT_EXACT);
    assert_true(f.rms_rel < SYNTH_TOL_FIT_EXACT);
    assert_int_equal(hw_calib_fit_linear(X, y, 2, 3, &f, r), TD_ERR_INTERNAL);
    assert_non_null(strstr(td_error_message(), "2 points for 3 coefficients"));
}

static void load_error(const char *text, const char *want)
{
    char path[256];
    snprintf(path, sizeof path, "/tmp/test_calib_bad_%d.json", (int)getpid());
    write_file(path, text);
    hw_calib c;
    td_status st = hw_calib_load(&c, path);
    unlink(path);
    assert_int_not_equal(st, TD_OK);
    if (!strstr(td_error_message(), want))
        fail_msg("wanted '%s' in '%s'", want, td_error_message());
    assert_non_null(strstr(td_error_message(), path));
}

static void test_load_errors(void **state)
{
    (void)state;
    hw_calib c;
    assert_int_equal(hw_calib_load(&c, "/nonexistent/x.json"), TD_ERR_IO);
    assert_non_null(strstr(td_error_message(), "/nonexistent/x.json: cannot open calibration"));
    load_error("{", ":1:");
    load_error("[]", "top level must be an object");
    load_error("{\"format\": \"x\"}", "'format' must be \"tandem-calibration\"");
    load_error("{\"format\": \"tandem-calibration\", \"version\": 2}", "'version' must be 1");
    load_error("{\"format\": \"tandem-calibration\", \"version\": 1, \"library\": {}}",
               "library: 'node_nm' is missing or not a number");
    load_error("{\"format\": \"tandem-calibration\", \"version\": 1, \"library\": {\"node_nm\": "
               "28, \"vdd_v\": 1}, \"pe\": [], \"table\": {}}",
               "library.node_nm 28 is not in the scaling table");
    const char *head = "{\"format\": \"tandem-calibration\", \"version\": 1, \"library\": "
                       "{\"node_nm\": 180, \"vdd_v\": 1.8}, ";
    char buf[512];
    snprintf(buf, sizeof buf, "%s\"pe\": [{\"dataflow\": \"xs\"}], \"table\": {}}", head);
    load_error(buf, "pe[0]: 'dataflow' must be \"ws\" or \"os\"");
    snprintf(buf, sizeof buf,
             "%s\"pe\": [{\"dataflow\": \"ws\", \"bits\": 7, \"acc_bits\": 32}], \"table\": {}}",
             head);
    load_error(buf, "pe[0]: bits 7 is not 4, 8, 16 or 32");
    snprintf(buf, sizeof buf, "%s\"pe\": [], \"table\": {\"nosuch\": {\"value\": 1}}}", head);
    load_error(buf, "table.nosuch: unknown constant");
    snprintf(buf, sizeof buf, "%s\"pe\": [], \"table\": {\"mult8_pj\": {}}}", head);
    load_error(buf, "table.mult8_pj: 'value' is missing or not a number");
    snprintf(buf, sizeof buf,
             "%s\"pe\": [], \"fits\": {\"array_area_ws\": {\"coef\": [1]}}, \"table\": {}}", head);
    load_error(buf, "fits.array_area_ws.coef must be an array of 4 numbers");
    snprintf(buf, sizeof buf, "%s\"table\": {}}", head);
    load_error(buf, "'pe' is missing or not an array");
}

/* The checked-in calibration loads and gives a table at 45 nm with an fmax per bit width. */
static void test_checked_in(void **state)
{
    (void)state;
    const char *src = getenv("TANDEM_SOURCE_DIR");
    if (!src)
        skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/hw_model/calibration/osu018.json", src);
    if (access(path, R_OK) != 0)
        skip();
    hw_calib c;
    assert_int_equal(hw_calib_load(&c, path), TD_OK);
    hw_tech_table t;
    assert_int_equal(hw_calib_table(&c, HW_CALIB_DEFAULT_NODE_NM, &t), TD_OK);
    static const int bits[] = {4, 8, 16, 32};
    for (int df = 0; df < 2; df++)
        for (int b = 0; b < 4; b++) {
            double f;
            assert_int_equal(hw_calib_fmax_mhz(&c, df, bits[b], 45, &f), TD_OK);
            assert_true(f > 0);
        }
    double f4, f32;
    assert_int_equal(hw_calib_fmax_mhz(&c, HW_DATAFLOW_WS, 4, 45, &f4), TD_OK);
    assert_int_equal(hw_calib_fmax_mhz(&c, HW_DATAFLOW_WS, 32, 45, &f32), TD_OK);
    assert_true(f4 > f32); /* wider multipliers are slower */
    hw_config cfg;
    assert_int_equal(hw_preset("gemmini-16x16-int8", &cfg), TD_OK);
    cfg.tech_nm = 45;
    assert_true(hw_area_mm2(&cfg, &t, NULL) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_fixture), cmocka_unit_test(test_scaling),
        cmocka_unit_test(test_table),        cmocka_unit_test(test_clock_check),
        cmocka_unit_test(test_fit),          cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_checked_in),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
