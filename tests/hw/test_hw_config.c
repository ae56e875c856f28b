/* Accelerator config: presets, YAML loading and its error messages, validation, hash,
 * write-back round trip, the constant table's published points, the genome. */
#include "hw_calib.h"
#include "hw_config.h"
#include "hw_space.h"
#include "hw_tech.h"
#include "td_tolerances.h"
#include "nn_intmath.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void assert_msg_contains(const char *needle)
{
    const char *m = td_error_message();
    if (!strstr(m, needle)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", m, needle);
        fail();
    }
}

static void test_presets(void **state)
{
    (void)state;
    hw_config c;
    assert_int_equal(hw_preset("gemmini-16x16-int8", &c), TD_OK);
    assert_int_equal(c.rows, 16);
    assert_int_equal(c.cols, 16);
    assert_int_equal(c.dataflow, HW_DATAFLOW_WS);
    assert_int_equal(c.bits, 8);
    assert_int_equal(c.l1_input_kib + c.l1_weight_kib, 256); /* Gemmini's 256 KiB scratchpad */
    assert_int_equal(c.l1_acc_kib, 64);                      /* and 64 KiB accumulator */
    for (const char *const *p = hw_preset_names(); *p; p++) {
        assert_int_equal(hw_preset(*p, &c), TD_OK);
        assert_int_equal(hw_config_validate(&c, NULL), TD_OK);
        assert_string_equal(c.name, *p);
    }
    assert_int_equal(hw_preset("tpu", &c), TD_ERR_CONFIG);
    assert_msg_contains("unknown accelerator preset 'tpu' (presets: gemmini-16x16-int8");
}

static void test_yaml_defaults_and_values(void **state)
{
    (void)state;
    hw_config c, g;
    assert_int_equal(
        hw_config_load_string("rows: 32\ndataflow: os\nbits: 4\ndram_gbps: 100\n", "a.yaml", &c),
        TD_OK);
    assert_int_equal(hw_preset("gemmini-16x16-int8", &g), TD_OK);
    assert_int_equal(c.rows, 32);
    assert_int_equal(c.cols, 16); /* default = gemmini value */
    assert_int_equal(c.dataflow, HW_DATAFLOW_OS);
    assert_int_equal(c.bits, 4);
    assert_true(c.dram_gbps == 100.0);
    assert_int_equal(c.l1_acc_kib, g.l1_acc_kib);
    assert_true(c.clock_mhz == g.clock_mhz);
}

static void test_yaml_errors(void **state)
{
    (void)state;
    hw_config c;
    assert_int_equal(hw_config_load_string("rows: 16\nbits: 12\n", "a.yaml", &c), TD_ERR_CONFIG);
    assert_msg_contains("a.yaml:2:7: key 'bits': 12 is not one of 4, 8, 16, 32");
    assert_int_equal(hw_config_load_string("rows: 0\n", "b.yaml", &c), TD_ERR_CONFIG);
    assert_msg_contains("b.yaml:1:7: key 'rows'");
    assert_msg_contains("out of range");
    assert_int_equal(hw_config_load_string("colls: 8\n", "c.yaml", &c), TD_ERR_CONFIG);
    assert_msg_contains("unknown key 'colls' (did you mean 'cols'?)");
    assert_int_equal(hw_config_load_string("dataflow: rs\n", "d.yaml", &c), TD_ERR_CONFIG);
    assert_msg_contains("d.yaml:1:11: key 'dataflow'");
    assert_int_equal(hw_config_load_string("clock_mhz: fast\n", "e.yaml", &c), TD_ERR_CONFIG);
    assert_msg_contains("e.yaml:1:12: key 'clock_mhz'");
    /* buffers too small for one tile (the compiler's rule, rtl_hw_check): WS preloads a full
     * weight tile of 64 lines of 64 x 32 bits = 16 KiB */
    assert_int_equal(hw_config_load_string("rows: 64\ncols: 64\nbits: 32\nacc_bits: 80\n"
                                           "l1_weight_kib: 8\n",
                                           "f.yaml", &c),
                     TD_ERR_CONFIG);
    assert_msg_contains("f.yaml:5:16: key 'l1_weight_kib': l1_weight_kib: one ws tile needs 64 "
                        "weight lines of 2048 bits (16 KiB;");
    assert_msg_contains("has 8 (short by 8 KiB)");
    /* exactly one tile is enough (the old rule asked for two) */
    assert_int_equal(hw_config_load_string("rows: 64\ncols: 64\nbits: 32\nacc_bits: 80\n"
                                           "l1_weight_kib: 16\n",
                                           "f2.yaml", &c),
                     TD_OK);
    /* OS keeps a 64-line output tile in the accumulator buffer: 64 x 64 x 32 bits = 16 KiB */
    assert_int_equal(
        hw_config_load_string("rows: 64\ncols: 64\ndataflow: os\nl1_acc_kib: 8\n", "f3.yaml", &c),
        TD_ERR_CONFIG);
    assert_msg_contains("f3.yaml:4:13: key 'l1_acc_kib': l1_acc_kib: one os tile needs 64 "
                        "accumulator lines of 2048 bits (16 KiB;");
    /* the input buffer holds at least 2 lines (the core's minimum depth) of 1024 x 32 bits */
    assert_int_equal(hw_config_load_string("rows: 1024\ncols: 1\nbits: 32\nacc_bits: 80\n"
                                           "l1_input_kib: 4\n",
                                           "f4.yaml", &c),
                     TD_ERR_CONFIG);
    assert_msg_contains("f4.yaml:5:15: key 'l1_input_kib': l1_input_kib: one ws tile needs 1 "
                        "input line of 32768 bits (8 KiB; the core has at least 2 lines");
    /* a clock above the PE's fmax loads (it is a violation of the evaluation, not an error) */
    assert_int_equal(hw_config_load_string("clock_mhz: 5000\n", "f5.yaml", &c), TD_OK);
    /* an accumulator narrower than even a single product with a bias */
    assert_int_equal(hw_config_load_string("bits: 16\nacc_bits: 24\n", "g.yaml", &c),
                     TD_ERR_CONFIG);
    assert_msg_contains("g.yaml:2:11: key 'acc_bits': acc_bits: needs 32 bits, has 24");
    assert_int_equal(hw_config_load_string("rows: [1, 2]\n", "h.yaml", &c), TD_ERR_CONFIG);
    assert_msg_contains("h.yaml:1:1: key 'rows': expects an integer, got a list");
    assert_int_equal(hw_config_load_file("/nonexistent/acc.yaml", &c), TD_ERR_IO);
    assert_msg_contains("/nonexistent/acc.yaml");
}

static void test_resolve(void **state)
{
    (void)state;
    hw_config c;
    assert_int_equal(hw_config_resolve("cloud-64x64-int8", &c), TD_OK);
    assert_int_equal(c.rows, 64);
    assert_int_equal(hw_config_resolve("no-such-thing", &c), TD_ERR_CONFIG);
    assert_msg_contains("accelerator 'no-such-thing' is neither a preset (gemmini-16x16-int8, "
                        "edge-8x16-int8, cloud-64x64-int8) nor a readable file");
    assert_int_equal(hw_config_resolve("", &c), TD_ERR_USAGE);
    assert_msg_contains("--hw needs a preset name or a YAML file");
    /* a file */
    char path[] = "/tmp/tandem_hw_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs("name: mine\nrows: 8\ncols: 32\n", fp);
    fclose(fp);
    assert_int_equal(hw_config_resolve(path, &c), TD_OK);
    assert_string_equal(c.name, "mine");
    assert_int_equal(c.cols, 32);
    unlink(path);
}

static void test_hash_and_roundtrip(void **state)
{
    (void)state;
    hw_config a, b;
    assert_int_equal(hw_preset("edge-8x16-int8", &a), TD_OK);
    b = a;
    snprintf(b.name, sizeof b.name, "other name");
    assert_true(hw_config_hash(&a) == hw_config_hash(&b)); /* the name is not identity */
    b.l2_kib *= 2;
    assert_true(hw_config_hash(&a) != hw_config_hash(&b));
    b = a;
    b.dram_gbps += 0.5;
    assert_true(hw_config_hash(&a) != hw_config_hash(&b));

    /* write -> load gives the same config (odd values and a quote in the name) */
    a.dram_gbps = 123.456789;
    a.clock_mhz = 733.3333333333334;
    snprintf(a.name, sizeof a.name, "it's mine");
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_int_equal(hw_config_write(&a, fp), TD_OK);
    fclose(fp);
    assert_int_equal(hw_config_load_string(buf, "roundtrip", &b), TD_OK);
    free(buf);
    assert_string_equal(a.name, b.name);
    assert_true(hw_config_hash(&a) == hw_config_hash(&b));
    assert_true(a.dram_gbps == b.dram_gbps && a.clock_mhz == b.clock_mhz);

    /* a failing stream is reported */
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        assert_int_equal(hw_config_write(&a, full), TD_ERR_IO);
        assert_msg_contains("cannot write the accelerator config 'it's mine'");
        fclose(full);
    }
}

static void test_violations(void **state)
{
    (void)state;
    hw_config c;
    assert_int_equal(hw_preset("gemmini-16x16-int8", &c), TD_OK);
    hw_violations v = {0};
    hw_config_check(&c, hw_tech_default(), 3136, "fc", &v);
    assert_int_equal(v.n, 0);
    assert_true(v.total == 0);
    c.acc_bits = 20;
    c.l1_acc_kib = 0; /* below one row of accumulators */
    hw_config_check(&c, hw_tech_default(), 3136, "fc", &v);
    assert_int_equal(v.n, 2);
    assert_int_equal(v.v[0].kind, HW_VIOL_ACC_BITS);
    assert_true(v.v[0].required == nn_acc_bits_needed(8, 3136));
    assert_true(v.v[0].amount == nn_acc_bits_needed(8, 3136) - 20);
    assert_string_equal(v.v[0].layer, "fc");
    assert_int_equal(v.v[1].kind, HW_VIOL_L1_ACC);
    assert_true(v.v[1].required == 2.0 * 16 * 20 / 8192); /* KiB */
    assert_true(v.total > 0);
    char msg[256];
    hw_violation_format(&v.v[0], &c, msg, sizeof msg);
    assert_non_null(strstr(msg, "acc_bits: needs 28 bits for layer 'fc', has 20"));

    /* fmax: with a calibrated table the clock is checked */
    hw_tech_table t = *hw_tech_default();
    t.c[HW_C_FMAX_MHZ].value = 800;
    hw_violations f = {0};
    assert_int_equal(hw_preset("gemmini-16x16-int8", &c), TD_OK);
    hw_config_check(&c, &t, 16, NULL, &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.v[0].kind, HW_VIOL_FMAX);
    assert_true(f.v[0].amount == 200);
    hw_violation_format(&f.v[0], &c, msg, sizeof msg);
    assert_non_null(strstr(msg, "clock_mhz: 1000 MHz is above the PE's fmax 800 MHz"));
}

static void test_tech_table(void **state)
{
    (void)state;
    const hw_tech_table *t = hw_tech_default();
    /* the published 45 nm points come back out of the rules */
    const double rel = HW_TOL_PUBLISHED_POINT_REL;
    assert_true(fabs(hw_tech_mult_pj(t, 8) - 0.2) <= rel * 0.2);
    assert_true(fabs(hw_tech_mult_pj(t, 32) - 3.1) <= rel * 3.1);
    assert_true(fabs(hw_tech_add_pj(t, 8) - 0.03) <= rel * 0.03);
    assert_true(fabs(hw_tech_add_pj(t, 32) - 0.1) <= rel * 0.1);
    assert_true(fabs(hw_tech_mult_um2(t, 8) - 282) <= rel * 282);
    assert_true(fabs(hw_tech_mult_um2(t, 32) - 3495) <= rel * 3495);
    assert_true(fabs(hw_tech_sram_pj_per_bit(t, 8192) * 64 - 10) <= rel * 10);
    assert_true(fabs(hw_tech_sram_pj_per_bit(t, 32768) * 64 - 20) <= rel * 20);
    assert_true(fabs(hw_tech_sram_pj_per_bit(t, 1048576) * 64 - 100) <= rel * 100);
    /* monotone in width and size */
    assert_true(hw_tech_mult_pj(t, 4) < hw_tech_mult_pj(t, 8));
    assert_true(hw_tech_mult_pj(t, 16) < hw_tech_mult_pj(t, 32));
    assert_true(hw_tech_sram_pj_per_bit(t, 1024) < hw_tech_sram_pj_per_bit(t, 8192));
    assert_true(hw_tech_sram_pj_per_bit(t, 1048576) < hw_tech_sram_pj_per_bit(t, 8388608));
    assert_true(hw_tech_scale_energy(t, 45) == 1.0 && hw_tech_scale_area(t, 45) == 1.0);
    assert_true(hw_tech_scale_area(t, 22) < 1.0 && hw_tech_scale_energy(t, 180) > 1.0);
    /* every constant has a name, a unit and a source; names are unique */
    for (int i = 0; i < HW_CONST_COUNT; i++) {
        assert_non_null(t->c[i].name);
        assert_non_null(t->c[i].unit);
        assert_true(t->c[i].source && strlen(t->c[i].source) > 5);
        assert_int_equal(hw_tech_find(t->c[i].name), i);
    }
    assert_int_equal(hw_tech_find("nope"), -1);
    /* swappable: an override serves every node until removed */
    hw_tech_table cal = *t;
    cal.origin = "test calibration";
    hw_tech_set_active(&cal);
    assert_ptr_equal(hw_tech_active(), &cal);
    assert_ptr_equal(hw_tech_for_node(90), &cal);
    hw_tech_set_active(NULL);
    assert_ptr_equal(hw_tech_active(), hw_tech_for_node(45));
}

/* The selection: calibrated by default (the checked-in file, found through the source path
 * compiled into hw_model), published on request, fallback with a note when no file is found. */
static void test_tech_selection(void **state)
{
    (void)state;
    const hw_tech_table *t = hw_tech_active();
    assert_int_equal(hw_tech_selected_mode(), HW_TECH_MODE_CALIBRATED);
    assert_true(t->calibrated);
    assert_true(t->c[HW_C_REF_NM].value == 45);
    assert_true(t->c[HW_C_MULT8_UM2].origin == (HW_ORIGIN_SYNTHESIS | HW_ORIGIN_SCALED));
    assert_true(t->c[HW_C_SRAM8K_PJ].origin == HW_ORIGIN_PUBLISHED);
    assert_true(hw_tech_pe_fmax_mhz(t, HW_DATAFLOW_WS, 8, 45) > 500);
    assert_non_null(strstr(hw_tech_selection_note(), "osu018.json"));
    /* a node of the scaling table gets its own table; others use the 45 nm one */
    const hw_tech_table *t90 = hw_tech_for_node(90);
    assert_true(t90->c[HW_C_REF_NM].value == 90);
    assert_true(t90->c[HW_C_SRAM8K_PJ].origin == (HW_ORIGIN_PUBLISHED | HW_ORIGIN_SCALED));
    assert_ptr_equal(hw_tech_for_node(28), t);
    /* published */
    assert_int_equal(hw_tech_select(HW_TECH_MODE_PUBLISHED, NULL), TD_OK);
    assert_ptr_equal(hw_tech_active(), hw_tech_default());
    assert_ptr_equal(hw_tech_for_node(90), hw_tech_default());
    assert_true(hw_tech_pe_fmax_mhz(hw_tech_default(), HW_DATAFLOW_WS, 8, 45) == 0);
    /* a file the user names and that fails is an error; the selection stays */
    assert_int_equal(hw_tech_select(HW_TECH_MODE_CALIBRATED, "/nonexistent/cal.json"), TD_ERR_IO);
    assert_msg_contains("/nonexistent/cal.json: cannot open calibration file");
    assert_int_equal(hw_tech_selected_mode(), HW_TECH_MODE_PUBLISHED);
    /* the default file missing: published, with a note naming why */
    char path[1024];
    assert_int_equal(hw_calib_find_default(path, sizeof path), TD_OK);
    assert_non_null(strstr(path, "hw_model/calibration/osu018.json"));
    setenv("TANDEM_CALIBRATION", "/nonexistent/env.json", 1);
    td_status st = hw_calib_find_default(path, sizeof path);
    assert_int_equal(st, TD_ERR_IO); /* set: the only candidate */
    assert_msg_contains("no calibration file found (looked for /nonexistent/env.json "
                        "($TANDEM_CALIBRATION))");
    assert_int_equal(hw_tech_select(HW_TECH_MODE_CALIBRATED, NULL), TD_OK);
    unsetenv("TANDEM_CALIBRATION");
    assert_int_equal(hw_tech_selected_mode(), HW_TECH_MODE_PUBLISHED);
    assert_non_null(strstr(hw_tech_selection_note(), "/nonexistent/env.json"));
    /* the default file unreadable ($TANDEM_CALIBRATION names a broken one): published, one
     * warning, and the note says why */
    char bad[] = "/tmp/tandem-badcal-XXXXXX";
    int fd = mkstemp(bad);
    assert_true(fd >= 0);
    assert_true(write(fd, "{", 1) == 1);
    close(fd);
    setenv("TANDEM_CALIBRATION", bad, 1);
    assert_int_equal(hw_tech_select(HW_TECH_MODE_CALIBRATED, NULL), TD_OK);
    unsetenv("TANDEM_CALIBRATION");
    unlink(bad);
    assert_int_equal(hw_tech_selected_mode(), HW_TECH_MODE_PUBLISHED);
    assert_ptr_equal(hw_tech_active(), hw_tech_default());
    assert_non_null(strstr(hw_tech_selection_note(), "calibrated table not installed"));
    assert_non_null(strstr(hw_tech_selection_note(), bad));
    /* mode names */
    hw_tech_mode m;
    assert_int_equal(hw_tech_mode_parse("published", &m), TD_OK);
    assert_int_equal(m, HW_TECH_MODE_PUBLISHED);
    assert_int_equal(hw_tech_mode_parse("synth", &m), TD_ERR_CONFIG);
    assert_msg_contains("technology table 'synth' is neither 'calibrated' nor 'published'");
    /* back to the default */
    assert_int_equal(hw_tech_select(HW_TECH_MODE_CALIBRATED, NULL), TD_OK);
    assert_int_equal(hw_tech_selected_mode(), HW_TECH_MODE_CALIBRATED);
}

static void test_space_and_genome(void **state)
{
    (void)state;
    hw_space s;
    assert_int_equal(hw_space_default(&s), TD_OK);
    assert_int_equal(s.n_l1, 5);    /* 16..256 KiB */
    assert_int_equal(s.n_l2, 6);    /* 256..8192 KiB */
    assert_int_equal(s.n_lanes, 5); /* 4..64 */
    assert_true(s.dram_gbps[0] == 50.0 && s.dram_gbps[s.n_dram - 1] == 500.0);
    assert_true(s.clock_mhz[0] == 200.0 && s.clock_mhz[s.n_clock - 1] == 1000.0);
    int32_t hi[HW_GENE_COUNT];
    hw_genome_ranges(&s, hi);
    for (int i = 0; i < HW_GENE_COUNT; i++) {
        assert_true(hi[i] >= 0);
        assert_true(strcmp(hw_gene_name((hw_gene)i), "?") != 0);
    }
    td_rng rng;
    assert_int_equal(td_rng_init(&rng, 42), TD_OK);
    for (int it = 0; it < 5000; it++) {
        hw_config c, d;
        int32_t g[HW_GENE_COUNT], g2[HW_GENE_COUNT];
        hw_space_sample(&s, &rng, &c, g);
        int64_t macs = hw_config_macs(&c);
        assert_true(macs >= s.macs_min && macs <= s.macs_max);
        assert_true(c.bits == 4 || c.bits == 8 || c.bits == 16 || c.bits == 32);
        /* encode(decode(g)) decodes to the same config */
        hw_genome_encode(&s, &c, g2);
        hw_genome_decode(&s, g2, &d);
        assert_true(hw_config_hash(&c) == hw_config_hash(&d));
    }
    /* out-of-range genes are clamped, tiny arrays repaired into the MAC range */
    int32_t bad[HW_GENE_COUNT];
    for (int i = 0; i < HW_GENE_COUNT; i++)
        bad[i] = -5;
    hw_config c;
    hw_genome_decode(&s, bad, &c);
    assert_true(hw_config_macs(&c) >= 128);
    for (int i = 0; i < HW_GENE_COUNT; i++)
        bad[i] = 1000;
    hw_genome_decode(&s, bad, &c);
    assert_true(hw_config_macs(&c) <= 4096);
    td_rng_free(&rng);

    /* space errors name the key */
    const td_cfg_key *const tables[] = {hw_config_keys, NULL};
    td_config *cfg = NULL;
    assert_int_equal(td_config_init(&cfg, tables), TD_OK);
    assert_int_equal(td_config_merge_string(cfg, "space:\n  hw:\n    bits: [8, 12]\n", "s.yaml"),
                     TD_OK);
    assert_int_equal(hw_space_from_config(&s, cfg), TD_ERR_CONFIG);
    assert_msg_contains("key 'space.hw.bits': 12 is not one of 4, 8, 16, 32");
    assert_int_equal(td_config_merge_string(cfg,
                                            "space:\n  hw:\n    bits: [8]\n"
                                            "    l1_kib: [256, 16]\n",
                                            "t.yaml"),
                     TD_OK);
    assert_int_equal(hw_space_from_config(&s, cfg), TD_ERR_CONFIG);
    assert_msg_contains("t.yaml:4:5: key 'space.hw.l1_kib': min 256 is above max 16");
    assert_int_equal(td_config_merge_string(cfg,
                                            "space:\n  hw:\n    l1_kib: [16, 256]\n"
                                            "    dims: [4, 8]\n",
                                            "u.yaml"),
                     TD_OK);
    assert_int_equal(hw_space_from_config(&s, cfg), TD_ERR_CONFIG);
    assert_msg_contains("key 'space.hw.dims': rows x cols from these dims (16..64) cannot reach "
                        "the MAC range [128, 4096]");
    /* hw.tech selects the table the search evaluates with; hw.calibration names a file */
    assert_int_equal(td_config_merge_string(cfg,
                                            "space:\n  hw:\n    dims: [4, 8, 16, 32, 64]\n"
                                            "hw:\n  tech: published\n",
                                            "v.yaml"),
                     TD_OK);
    assert_int_equal(hw_space_from_config(&s, cfg), TD_OK);
    assert_int_equal(s.tech, HW_TECH_MODE_PUBLISHED);
    assert_ptr_equal(hw_tech_active(), hw_tech_default());
    assert_int_equal(td_config_merge_string(cfg, "hw:\n  tech: synthesized\n", "w.yaml"),
                     TD_ERR_CONFIG);
    assert_msg_contains("w.yaml:2:9: key 'hw.tech'");
    assert_int_equal(td_config_merge_string(cfg,
                                            "hw:\n  tech: calibrated\n"
                                            "  calibration: /nonexistent/c.json\n",
                                            "x.yaml"),
                     TD_OK);
    assert_int_equal(hw_space_from_config(&s, cfg), TD_ERR_IO);
    assert_msg_contains("x.yaml:3:16: key 'hw.calibration': /nonexistent/c.json: cannot open "
                        "calibration file");
    assert_int_equal(td_config_merge_string(cfg, "hw:\n  calibration: ''\n", "y.yaml"), TD_OK);
    assert_int_equal(hw_space_from_config(&s, cfg), TD_OK);
    assert_int_equal(hw_tech_selected_mode(), HW_TECH_MODE_CALIBRATED);
    td_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets),
        cmocka_unit_test(test_yaml_defaults_and_values),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_hash_and_roundtrip),
        cmocka_unit_test(test_violations),
        cmocka_unit_test(test_tech_table),
        cmocka_unit_test(test_tech_selection),
        cmocka_unit_test(test_space_and_genome),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
