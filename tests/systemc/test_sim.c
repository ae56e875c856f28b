/* sim: the SystemC twin against the Verilated RTL core (outputs, total and per-command cycles)
 * on the CI suite, under DRAM starvation and with an ideal memory; a whole network on both
 * cores; energy from counters; and the error messages of the C API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hw_eval.h"
#include "nn_intmath.h"
#include "rtl_testgen.h"
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_src[512];
static char g_tmp[256];

static void path_in_src(char *out, size_t size, const char *rel)
{
    snprintf(out, size, "%s/%s", g_src, rel);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static bool has_rtl(void)
{
    return sim_rtl_variants()[0] != NULL;
}

/* The CI suite: every case passes on both cores (values equal the C reference; rtl and twin
 * take the same cycles, per command). */
static void test_ci_suite_twin_equals_rtl(void **state)
{
    (void)state;
    if (!has_rtl())
        skip();
    char path[600];
    path_in_src(path, sizeof path, "tests/regress/ci.yaml");
    sim_suite s;
    assert_int_equal(sim_suite_load(path, &s), TD_OK);
    assert_true(s.n_cases >= 5);
    sim_case_result *res = calloc(s.n_cases, sizeof *res);
    assert_int_equal(sim_suite_run(&s, 2, res), TD_OK);
    for (size_t i = 0; i < s.n_cases; i++) {
        if (!res[i].pass)
            fprintf(stderr, "case %s: %s\n", s.cases[i].name, res[i].message);
        assert_true(res[i].pass);
        assert_true(res[i].cycles[SIM_CORE_RTL] > 0);
        assert_int_equal(res[i].cycles[SIM_CORE_RTL], res[i].cycles[SIM_CORE_TWIN]);
    }
    free(res);
    sim_suite_free(&s);
}

/* A program whose operands do not fit a 4 KiB L2 behind a 1 GB/s DRAM: blocks are evicted and
 * fetched again on demand, the core stalls; both cores still agree cycle for cycle. With no
 * config the memory is ideal (no stalls) and the run is shorter. */
static void test_starved_and_ideal_memory(void **state)
{
    (void)state;
    if (!has_rtl())
        skip();
    char dir[300], hwp[400], suite[400], text[1200];
    snprintf(dir, sizeof dir, "%s", g_tmp);
    snprintf(hwp, sizeof hwp, "%s/starved.yaml", dir);
    write_file(hwp, "name: starved\nrows: 4\ncols: 4\ndataflow: ws\nbits: 8\nacc_bits: 32\n"
                    "l1_input_kib: 1\nl1_weight_kib: 1\nl1_acc_kib: 1\nl2_kib: 4\n"
                    "dram_gbps: 1\nclock_mhz: 500\nvector_lanes: 4\n");
    snprintf(suite, sizeof suite, "%s/starved-suite.yaml", dir);
    snprintf(text, sizeof text,
             "suite: starved\ncases:\n"
             "  - {name: big, hw: starved.yaml, gemm: {m: 60, k: 40, n: 11}, seed: 3}\n");
    write_file(suite, text);
    sim_suite s;
    assert_int_equal(sim_suite_load(suite, &s), TD_OK);
    sim_case_result r;
    sim_case_run(&s, 0, &r);
    if (!r.pass)
        fprintf(stderr, "starved: %s\n", r.message);
    assert_true(r.pass);

    /* the same kind of program directly: stall counters, and the ideal memory */
    rtl_hw hw;
    assert_int_equal(sim_rtl_hw_from_config(&s.cases[0].cfg, &hw), TD_OK);
    rtl_program p;
    assert_int_equal(rtl_program_init(&p, &hw), TD_OK);
    enum { M = 60, K = 40, N = 11 };
    static int32_t x[M * K], w[K * N];
    nn_requant rq[N];
    for (int i = 0; i < M * K; i++)
        x[i] = (i * 37) % 200 - 100;
    for (int i = 0; i < K * N; i++)
        w[i] = (i * 53) % 250 - 125;
    for (int j = 0; j < N; j++)
        assert_int_equal(nn_requant_from_real(0.0005 * (j + 1), &rq[j]), TD_OK);
    rtl_gemm g = {.m = M, .k = K, .n = N, .x = x, .w = w, .rq = rq, .lo = -128, .hi = 127};
    rtl_gemm_out out;
    assert_int_equal(rtl_program_add_gemm(&p, &g, &out), TD_OK);
    sim_params prm = sim_params_default();
    sim_prog_result a, b, ideal;
    assert_int_equal(sim_run_program(&p, &s.cases[0].cfg, SIM_CORE_RTL, &prm, &a), TD_OK);
    assert_int_equal(sim_run_program(&p, &s.cases[0].cfg, SIM_CORE_TWIN, &prm, &b), TD_OK);
    assert_int_equal(sim_run_program(&p, NULL, SIM_CORE_TWIN, &prm, &ideal), TD_OK);
    assert_int_equal(a.cycles, b.cycles);
    assert_int_equal(a.cmd_cycles_hash, b.cmd_cycles_hash);
    assert_true(a.counters.stall_cycles[SIM_STALL_DRAM] > 0);
    assert_int_equal(a.counters.stall_cycles[SIM_STALL_DRAM],
                     b.counters.stall_cycles[SIM_STALL_DRAM]);
    assert_true(a.counters.dram_read_bytes > 0);
    assert_int_equal(ideal.counters.stall_cycles[SIM_STALL_DRAM], 0);
    assert_true(ideal.cycles < a.cycles);
    int32_t ya[M * N], yb[M * N], yi[M * N], yr[M * N];
    nn_int_gemm_ref(yr, x, w, NULL, rq, -128, 127, M, K, N);
    rtl_gemm_read(&p, &a.mem, &out, ya);
    rtl_gemm_read(&p, &b.mem, &out, yb);
    rtl_gemm_read(&p, &ideal.mem, &out, yi);
    assert_memory_equal(ya, yr, sizeof yr);
    assert_memory_equal(yb, yr, sizeof yr);
    assert_memory_equal(yi, yr, sizeof yr);
    assert_int_equal(a.counters.macs, (int64_t)M * K * N);
    assert_false(a.err_flag);
    sim_prog_result_free(&a);
    sim_prog_result_free(&b);
    sim_prog_result_free(&ideal);
    rtl_program_free(&p);
    sim_suite_free(&s);
}

/* ref-cnn on both cores: equal cycles and layer tables, outputs equal the reference, layer
 * cycles add up to the total, the compute part is hw_timing's, energy is positive. */
static void test_network_twin_equals_rtl(void **state)
{
    (void)state;
    if (!has_rtl())
        skip();
    char hwp[600];
    path_in_src(hwp, sizeof hwp, "tests/regress/hw/rtl-4x4-ws.yaml");
    hw_config cfg;
    assert_int_equal(hw_config_load_file(hwp, &cfg), TD_OK);
    nn_graph g;
    assert_int_equal(nn_builtin_graph(&g, "ref-cnn"), TD_OK);
    sim_options o;
    sim_options_default(&o);
    sim_result rt, tw;
    o.core = SIM_CORE_RTL;
    td_status st = sim_run_net(&g, &cfg, &o, &rt);
    if (st != TD_OK)
        fprintf(stderr, "%s\n", td_error_message());
    assert_int_equal(st, TD_OK);
    o.core = SIM_CORE_TWIN;
    assert_int_equal(sim_run_net(&g, &cfg, &o, &tw), TD_OK);
    assert_true(rt.values_match);
    assert_true(tw.values_match);
    assert_int_equal(rt.cycles, tw.cycles);
    assert_int_equal(rt.n_layers, tw.n_layers);
    int64_t sum = 0;
    for (size_t i = 0; i < tw.n_layers; i++) {
        assert_int_equal(rt.layers[i].cycles, tw.layers[i].cycles);
        assert_int_equal(rt.layers[i].compute_cycles, tw.layers[i].compute_cycles);
        sum += tw.layers[i].cycles;
        assert_int_equal(tw.layers[i].compute_cycles + tw.layers[i].memory_cycles +
                             tw.layers[i].vector_cycles,
                         tw.layers[i].cycles);
        assert_true(tw.layers[i].energy_uj > 0);
    }
    assert_int_equal(sum, tw.cycles);
    assert_int_equal(tw.counters.macs, nn_graph_macs(&g));
    assert_true(tw.energy_uj > 0 && tw.power_mw > 0);
    assert_float_equal(tw.latency_ms, (double)tw.cycles / (cfg.clock_mhz * 1000.0), 1e-12);
    sim_result_free(&rt);
    sim_result_free(&tw);
    nn_graph_free(&g);
}

/* The ops of the search space (depthwise / grouped conv through per-group GEMMs and host
 * scatters, global average pool, the vector unit's ADD) on both cores behind the DRAM model,
 * WS and OS: equal total and per-command cycles, every layer equal to the reference. */
static void test_new_ops_twin_equals_rtl(void **state)
{
    (void)state;
    if (!has_rtl())
        skip();
    const char *hws[2] = {"tests/regress/hw/rtl-4x4-ws.yaml", "tests/regress/hw/rtl-4x4-os.yaml"};
    for (int h = 0; h < 2; h++) {
        char hwp[600];
        path_in_src(hwp, sizeof hwp, hws[h]);
        hw_config cfg;
        assert_int_equal(hw_config_load_file(hwp, &cfg), TD_OK);
        rtl_hw rhw;
        assert_int_equal(sim_rtl_hw_from_config(&cfg, &rhw), TD_OK);
        for (int i = 0; i < 3; i++) {
            char name[16];
            snprintf(name, sizeof name, "ops:%d", i);
            td_rng rng;
            assert_int_equal(td_rng_init(&rng, 100 + (uint64_t)i), TD_OK);
            rtl_net_case nc;
            if (rtl_net_case_init(&nc, name, rhw.bits, &rng) != TD_OK)
                fail_msg("%s: %s", name, td_error_message());
            rtl_program p;
            rtl_net_io io;
            assert_int_equal(rtl_program_init(&p, &rhw), TD_OK);
            if (rtl_program_add_net(&p, nc.layers, nc.n_layers, nc.g.input, &io) != TD_OK)
                fail_msg("%s: %s", name, td_error_message());
            rtl_net_write_act(&p, &p.mem, io.input_addr, io.input, nc.input);
            bool has_add = false;
            for (size_t c = 0; c < p.n_cmds; c++)
                has_add = has_add || p.cmds[c].op == RTL_OP_ADD;
            assert_true(has_add || i == 1);
            sim_params prm = sim_params_default();
            sim_prog_result a, b;
            assert_int_equal(sim_run_program(&p, &cfg, SIM_CORE_RTL, &prm, &a), TD_OK);
            assert_int_equal(sim_run_program(&p, &cfg, SIM_CORE_TWIN, &prm, &b), TD_OK);
            assert_false(a.err_flag);
            assert_false(b.err_flag);
            assert_int_equal(a.cycles, b.cycles);
            assert_int_equal(a.cmd_cycles_hash, b.cmd_cycles_hash);
            for (int32_t l = 0; l < nc.n_layers; l++) {
                nn_shape sh = io.out_shape[l];
                int64_t n = sh.c * sh.h * sh.w;
                int32_t *ya = malloc((size_t)n * sizeof *ya), *yb = malloc((size_t)n * sizeof *yb);
                assert_true(ya && yb);
                rtl_net_read_act(&p, &a.mem, io.out_addr[l], sh, ya);
                rtl_net_read_act(&p, &b.mem, io.out_addr[l], sh, yb);
                for (int64_t e = 0; e < n; e++)
                    if (ya[e] != nc.ref[l][e] || yb[e] != nc.ref[l][e])
                        fail_msg("%s %s layer %s: output %lld rtl %d twin %d reference %d", hws[h],
                                 name, nc.layers[l].name, (long long)e, ya[e], yb[e], nc.ref[l][e]);
                free(ya);
                free(yb);
            }
            printf("%s %s: %d layers, %zu commands, %lld cycles on both cores\n", hws[h], name,
                   nc.n_layers, p.n_cmds, (long long)a.cycles);
            sim_prog_result_free(&a);
            sim_prog_result_free(&b);
            rtl_program_free(&p);
            rtl_net_case_free(&nc);
            td_rng_free(&rng);
        }
    }
}

static void test_energy_from_counters(void **state)
{
    (void)state;
    hw_config cfg;
    assert_int_equal(hw_preset("gemmini-16x16-int8", &cfg), TD_OK);
    sim_counters c;
    memset(&c, 0, sizeof c);
    sim_energy e;
    sim_energy_compute(&c, &cfg, hw_tech_default(), 1000, &e);
    assert_float_equal(e.total_uj, e.leak_uj, 1e-15);
    assert_true(e.leak_uj > 0);
    c.macs = 1000000;
    c.dram_read_bytes = 64;
    sim_energy_compute(&c, &cfg, hw_tech_default(), 1000, &e);
    /* one MAC = E_mult(8) + E_add(32) = 0.2 + 0.1 pJ at 45 nm (hw_tech table) */
    assert_float_equal(e.mac_uj, 1e6 * 0.3 * 1e-6, 1e-9);
    /* 64 bytes = 8 DRAM 64-bit accesses of 1950 pJ */
    assert_float_equal(e.dram_uj, 8 * 1950e-6, 1e-9);
}

static void expect_msg(td_status st, const char *needle)
{
    assert_int_not_equal(st, TD_OK);
    if (!strstr(td_error_message(), needle))
        fprintf(stderr, "message '%s' lacks '%s'\n", td_error_message(), needle);
    assert_non_null(strstr(td_error_message(), needle));
}

/* A trained integer model (built by hand here: conv+ReLU, max-pool, FC at 8 bits) runs with
 * its own weights; every layer equals nn_qmodel_infer_ref on both cores; the max-pool is fused
 * after the conv's REQUANTs as the compiler (and hw_model) do it, so the conv's array, vector
 * and port cycles equal hw_model's; a model of the wrong bit width is refused. */
static void test_trained_integer_model(void **state)
{
    (void)state;
    nn_graph g;
    int32_t x = 0;
    assert_int_equal(nn_graph_init(&g, "tiny", (nn_shape){2, 6, 6}, 5), TD_OK);
    assert_int_equal(nn_graph_add_conv(&g, &x, x, "c1", 4, 3, 1, 1, 1, true), TD_OK);
    assert_int_equal(nn_graph_add_relu(&g, &x, x, "r1", false), TD_OK);
    assert_int_equal(nn_graph_add_pool(&g, &x, x, "p1", NN_OP_MAXPOOL, 2, 2, 0), TD_OK);
    assert_int_equal(nn_graph_add_fc(&g, &x, x, "fc", 5, true), TD_OK);
    static int32_t w1[4 * 18], w2[5 * 36];
    static nn_acc_t b1[4], b2[5];
    static nn_requant rq1[4], rq2[5];
    for (int i = 0; i < 4 * 18; i++)
        w1[i] = (i * 29) % 255 - 127;
    for (int i = 0; i < 5 * 36; i++)
        w2[i] = (i * 41) % 255 - 127;
    for (int i = 0; i < 4; i++) {
        b1[i] = 1000 * i - 1500;
        assert_int_equal(nn_requant_from_real(0.003 + 0.001 * i, &rq1[i]), TD_OK);
    }
    for (int i = 0; i < 5; i++) {
        b2[i] = -700 * i;
        assert_int_equal(nn_requant_from_real(0.002 + 0.0005 * i, &rq2[i]), TD_OK);
    }
    nn_qlayer L[3];
    memset(L, 0, sizeof L);
    L[0] = (nn_qlayer){.op = NN_QOP_CONV,
                       .name = "c1",
                       .node = 2,
                       .in = {-1, -1},
                       .in_shape = {2, 6, 6},
                       .out_shape = {4, 6, 6},
                       .k = 3,
                       .stride = 1,
                       .pad = 1,
                       .groups = 1,
                       .out_channels = 4,
                       .w = w1,
                       .bias = b1,
                       .rq = rq1,
                       .lo = 0,
                       .hi = 127};
    L[1] = (nn_qlayer){.op = NN_QOP_MAXPOOL,
                       .name = "p1",
                       .node = 3,
                       .in = {0, -1},
                       .in_shape = {4, 6, 6},
                       .out_shape = {4, 3, 3},
                       .k = 2,
                       .stride = 2,
                       .lo = -128,
                       .hi = 127};
    L[2] = (nn_qlayer){.op = NN_QOP_FC,
                       .name = "fc",
                       .node = 4,
                       .in = {1, -1},
                       .in_shape = {4, 3, 3},
                       .out_shape = {5, 1, 1},
                       .k = 1,
                       .stride = 1,
                       .groups = 1,
                       .out_channels = 5,
                       .w = w2,
                       .bias = b2,
                       .rq = rq2,
                       .lo = -128,
                       .hi = 127};
    nn_qmodel q = {.bits = 8,
                   .input = {2, 6, 6},
                   .classes = 5,
                   .s_input = 1.0,
                   .layers = L,
                   .n_layers = 3,
                   .acc_bits = 24};
    hw_config cfg;
    assert_int_equal(hw_preset("edge-8x16-int8", &cfg), TD_OK);
    sim_options o;
    sim_options_default(&o);
    o.qmodel = &q;
    sim_result r;
    for (int k = 0; k < SIM_CORE_COUNT; k++) {
        o.core = (sim_core_kind)k;
        if (o.core == SIM_CORE_RTL) {
            char hwp[600];
            path_in_src(hwp, sizeof hwp, "tests/regress/hw/rtl-4x4-ws.yaml");
            assert_int_equal(hw_config_load_file(hwp, &cfg), TD_OK);
            if (!has_rtl())
                continue;
        }
        assert_int_equal(sim_run_net(&g, &cfg, &o, &r), TD_OK);
        if (!r.values_match)
            fprintf(stderr, "%s\n", r.first_mismatch);
        assert_true(r.values_match);
        assert_true(r.trained_weights);
        assert_int_equal(r.n_layers, 2); /* c1 (+ r1, p1 fused), fc */
        assert_string_equal(r.layers[0].name, "c1");
        assert_string_equal(r.layers[1].name, "fc");
        assert_int_equal(r.counters.macs, nn_graph_macs(&g));
        hw_result h;
        assert_int_equal(hw_result_init(&h, g.n_nodes), TD_OK);
        assert_int_equal(hw_evaluate(&g, &cfg, &h), TD_OK);
        assert_int_equal(r.layers[0].compute_cycles, h.layers[1].compute_cycles);
        assert_int_equal(r.layers[0].vector_cycles, h.layers[1].vector_cycles);
        hw_result_free(&h);
        sim_result_free(&r);
    }
    q.bits = 16;
    expect_msg(sim_run_net(&g, &cfg, &o, &r), "the integer model is 16-bit");
    nn_graph_free(&g);
}

/* A trained model's residual add and global average pool run on the core as the RTL compiler
 * lowers them (the ADD program with the model's multipliers, shift and clamp; the GAP as an
 * all-ones GEMM with its rq_pool) and equal nn_qmodel_infer_ref layer by layer; hw_model maps
 * both the same way, so each layer's cycles differ from hw_model's by DRAM timing only. */
static void test_trained_add_gap(void **state)
{
    (void)state;
    nn_graph g;
    int32_t x = 0, y;
    assert_int_equal(nn_graph_init(&g, "tiny2", (nn_shape){2, 6, 6}, 5), TD_OK);
    assert_int_equal(nn_graph_add_conv(&g, &x, x, "c1", 4, 3, 1, 1, 1, true), TD_OK);
    assert_int_equal(nn_graph_add_relu(&g, &x, x, "r1", false), TD_OK);
    assert_int_equal(nn_graph_add_add(&g, &y, x, x, "add"), TD_OK);
    assert_int_equal(nn_graph_add_global_avgpool(&g, &y, y, "gap"), TD_OK);
    assert_int_equal(nn_graph_add_fc(&g, &y, y, "fc", 5, true), TD_OK);
    static int32_t w1[4 * 18], w2[5 * 4];
    static nn_acc_t b1[4], b2[5];
    static nn_requant rq1[4], rq2[5], rqp[1];
    for (int i = 0; i < 4 * 18; i++)
        w1[i] = (i * 29) % 255 - 127;
    for (int i = 0; i < 5 * 4; i++)
        w2[i] = (i * 41) % 255 - 127;
    for (int i = 0; i < 4; i++) {
        b1[i] = 1000 * i - 1500;
        assert_int_equal(nn_requant_from_real(0.003 + 0.001 * i, &rq1[i]), TD_OK);
    }
    for (int i = 0; i < 5; i++) {
        b2[i] = -700 * i;
        assert_int_equal(nn_requant_from_real(0.01 + 0.002 * i, &rq2[i]), TD_OK);
    }
    assert_int_equal(nn_requant_from_real(2.0 / 36.0, &rqp[0]), TD_OK);
    uint32_t ma, mb;
    int32_t sh;
    assert_int_equal(nn_requant_add_from_real(0.7, 0.45, &ma, &mb, &sh), TD_OK);
    nn_qlayer L[4];
    memset(L, 0, sizeof L);
    L[0] = (nn_qlayer){.op = NN_QOP_CONV,
                       .name = "c1",
                       .node = 2,
                       .in = {-1, -1},
                       .in_shape = {2, 6, 6},
                       .out_shape = {4, 6, 6},
                       .k = 3,
                       .stride = 1,
                       .pad = 1,
                       .groups = 1,
                       .out_channels = 4,
                       .w = w1,
                       .bias = b1,
                       .rq = rq1,
                       .lo = 0,
                       .hi = 127};
    L[1] = (nn_qlayer){.op = NN_QOP_ADD,
                       .name = "add",
                       .node = 3,
                       .in = {0, 0},
                       .in_shape = {4, 6, 6},
                       .out_shape = {4, 6, 6},
                       .mult_a = ma,
                       .mult_b = mb,
                       .shift = sh,
                       .lo = -128,
                       .hi = 127};
    L[2] = (nn_qlayer){.op = NN_QOP_GAP,
                       .name = "gap",
                       .node = 4,
                       .in = {1, -1},
                       .in_shape = {4, 6, 6},
                       .out_shape = {4, 1, 1},
                       .rq_pool = rqp,
                       .n_rq_pool = 1,
                       .lo = -128,
                       .hi = 127};
    L[3] = (nn_qlayer){.op = NN_QOP_FC,
                       .name = "fc",
                       .node = 5,
                       .in = {2, -1},
                       .in_shape = {4, 1, 1},
                       .out_shape = {5, 1, 1},
                       .k = 1,
                       .stride = 1,
                       .groups = 1,
                       .out_channels = 5,
                       .w = w2,
                       .bias = b2,
                       .rq = rq2,
                       .lo = -128,
                       .hi = 127};
    nn_qmodel q = {.bits = 8,
                   .input = {2, 6, 6},
                   .classes = 5,
                   .s_input = 1.0,
                   .layers = L,
                   .n_layers = 4,
                   .acc_bits = 24};
    hw_config cfg;
    assert_int_equal(hw_preset("edge-8x16-int8", &cfg), TD_OK);
    sim_options o;
    sim_options_default(&o);
    o.qmodel = &q;
    sim_result r;
    assert_int_equal(sim_run_net(&g, &cfg, &o, &r), TD_OK);
    if (!r.values_match)
        fprintf(stderr, "%s\n", r.first_mismatch);
    assert_true(r.values_match);
    assert_int_equal(r.n_layers, 4);
    assert_string_equal(r.layers[2].name, "gap");
    assert_true(r.layers[2].on_array);
    hw_result h;
    assert_int_equal(hw_result_init(&h, g.n_nodes), TD_OK);
    assert_int_equal(hw_evaluate(&g, &cfg, &h), TD_OK);
    /* the add: ADD_CFG + ADD of 36 lines (one chunk) in both */
    assert_int_equal(r.layers[1].vector_cycles, h.layers[3].vector_cycles);
    /* the gap: the same GEMM's array commands */
    assert_int_equal(r.layers[2].compute_cycles, h.layers[4].compute_cycles);
    hw_result_free(&h);
    sim_result_free(&r);
    nn_graph_free(&g);
}

static void test_errors(void **state)
{
    (void)state;
    hw_config cfg;
    rtl_hw hw;
    assert_int_equal(hw_preset("gemmini-16x16-int8", &cfg), TD_OK);
    assert_int_equal(sim_rtl_hw_from_config(&cfg, &hw), TD_OK);
    expect_msg(sim_rtl_available(&hw), "no Verilated core for 16x16 ws 8-bit");
    nn_graph g;
    assert_int_equal(nn_builtin_graph(&g, "ref-cnn"), TD_OK);
    sim_options o;
    sim_options_default(&o);
    o.core = SIM_CORE_RTL;
    sim_result r;
    expect_msg(sim_run_net(&g, &cfg, &o, &r), "use --core twin");
    cfg.acc_bits = 100;
    expect_msg(sim_rtl_hw_from_config(&cfg, &hw), "acc_bits 100 outside [16, 96]");
    sim_core_kind k;
    expect_msg(sim_core_parse("verilog", &k), "'verilog' is neither 'rtl' nor 'twin'");
    nn_graph_free(&g);

    char p[400];
    sim_suite s;
    snprintf(p, sizeof p, "%s/missing.yaml", g_tmp);
    expect_msg(sim_suite_load(p, &s), "cannot open");
    snprintf(p, sizeof p, "%s/bad1.yaml", g_tmp);
    write_file(p, "suite: x\ncases: []\n");
    expect_msg(sim_suite_load(p, &s), "non-empty 'cases'");
    write_file(p, "cases:\n  - {name: a, hw: gemmini-16x16-int8, gem: {m: 1, k: 1, n: 1}}\n");
    expect_msg(sim_suite_load(p, &s), "bad1.yaml:2:39: unknown case key 'gem'");
    write_file(p, "cases:\n  - {name: a, hw: nope.yaml, gemm: {m: 1, k: 1, n: 1}}\n");
    expect_msg(sim_suite_load(p, &s), "case 'a': hw 'nope.yaml'");
    write_file(p, "cases:\n  - {name: a, hw: gemmini-16x16-int8, gemm: {m: 0, k: 1, n: 1}}\n");
    expect_msg(sim_suite_load(p, &s), "key 'm': 0 outside");
    write_file(p, "cases:\n  - {name: a, hw: gemmini-16x16-int8, gemm: {m: 1, n: 1}}\n");
    expect_msg(sim_suite_load(p, &s), "key 'k' is missing");
    write_file(p, "cases:\n  - {name: a, hw: gemmini-16x16-int8}\n");
    expect_msg(sim_suite_load(p, &s), "needs exactly one of gemm, conv, net");
    write_file(p, "cores: [rtl, vhdl]\ncases:\n  - {name: a, hw: gemmini-16x16-int8, net: "
                  "ref-cnn}\n");
    expect_msg(sim_suite_load(p, &s), "'vhdl' is neither rtl nor twin");
    write_file(p, "cases:\n  - {name: a, hw: gemmini-16x16-int8, net: ref-cnn}\n"
                  "  - {name: a, hw: gemmini-16x16-int8, net: ref-cnn}\n");
    expect_msg(sim_suite_load(p, &s), "case name 'a' repeats");
    write_file(p, "cases: [\n");
    expect_msg(sim_suite_load(p, &s), "not a valid YAML document");
    assert_non_null(strstr(td_error_message(), "bad1.yaml:2:1: "));

    /* a case that cannot run says why: no RTL for the 16x16 preset, unknown network */
    write_file(p, "cases:\n  - {name: big, hw: gemmini-16x16-int8, gemm: {m: 2, k: 2, n: 2}}\n"
                  "  - {name: nonet, hw: gemmini-16x16-int8, net: no-such-net}\n");
    assert_int_equal(sim_suite_load(p, &s), TD_OK);
    sim_case_result cr;
    sim_case_run(&s, 0, &cr);
    assert_false(cr.pass);
    assert_non_null(strstr(cr.message, "rtl core: no Verilated core"));
    sim_case_run(&s, 1, &cr);
    assert_false(cr.pass);
    assert_non_null(strstr(cr.message, "net 'no-such-net'"));
    sim_suite_free(&s);
}

int main(void)
{
    const char *src = getenv("TANDEM_SOURCE_DIR");
    snprintf(g_src, sizeof g_src, "%s", src ? src : ".");
    const char *tmp = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/tandem-test-sim-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(g_tmp))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ci_suite_twin_equals_rtl),
        cmocka_unit_test(test_starved_and_ideal_memory),
        cmocka_unit_test(test_network_twin_equals_rtl),
        cmocka_unit_test(test_new_ops_twin_equals_rtl),
        cmocka_unit_test(test_energy_from_counters),
        cmocka_unit_test(test_trained_integer_model),
        cmocka_unit_test(test_trained_add_gap),
        cmocka_unit_test(test_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_tmp);
    return rc;
}
