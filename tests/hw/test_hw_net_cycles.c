/* hw_model against the RTL network compiler, layer by layer (issues #5, #7): networks of the
 * default search space (`tandem rtl --net genome:SEED`: rtl_net_genome_graph) are lowered by
 * rtl_layers_from_graph and each lowered layer is compiled alone by rtl_program_add_net; the
 * sum of its commands' cycles (rtl_cmd_cycles; loads and stores at hw_timing_port_cycles, the
 * ideal-memory cost rtl_cmd_cycles leaves to the memory) must equal hw_evaluate's cycles of
 * that layer exactly, in three parts:
 *   array   (PRELOAD, COMPUTE, DRAIN)          = compute_cycles
 *   vector  (REQUANT, POOL, ADD_CFG, ADD)       = vector_cycles
 *   port    (LD_X, LD_W, LD_P, STORE)           = port_cycles - program start
 * This covers grouped/depthwise convolution (one GEMM per group), max-pool fused after a conv
 * (REQUANT + POOL + STORE per band), global average pool (a GEMM M = C, K = H W, N = 1) and
 * the residual add (ADD_CFG + per chunk LD_W, LD_W, ADD, STORE).
 * What cannot be equal and is not compared: a layer's total cycles, which add the DRAM
 * (prologue, bandwidth, write-back; the system model's part, checked by the sim tests), and
 * the host steps (im2col, scatter, transpose), which cost no core cycles (rtl_cmd_cycles
 * returns -1 for RTL_OP_HOST; docs/models.md, "Agreement with the compiled program"). */
#include "hw_eval.h"
#include "hw_timing.h"
#include "rtl_net.h"
#include "rtl_program.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct parts {
    int64_t array, vector, port;
} parts;

/* The most POOL commands one column fold of a compiled layer had (bands). */
static int64_t max_bands;
/* A layer the compiler refuses as infeasible skips the test instead of failing it. */
static bool skip_infeasible;

/* One lowered layer compiled alone (its inputs the program's input), its command cycles. */
static parts compile_layer(const rtl_hw *h, const rtl_layer *src)
{
    rtl_layer l = *src;
    l.src[0] = -1;
    l.src[1] = -1;
    rtl_program p;
    assert_int_equal(rtl_program_init(&p, h), TD_OK);
    rtl_net_io *io = malloc(sizeof *io);
    assert_non_null(io);
    td_status st = rtl_program_add_net(&p, &l, 1, l.in, io);
    if (st == TD_ERR_INFEASIBLE && skip_infeasible) {
        fprintf(stderr, "skipped: this compiler refuses the layer (%s)\n", td_error_message());
        free(io);
        rtl_program_free(&p);
        skip();
    }
    if (st != TD_OK)
        fprintf(stderr, "%s\n", td_error_message());
    assert_int_equal(st, TD_OK);
    parts s = {0, 0, 0};
    int64_t pools = 0, ldp = 0;
    for (size_t i = 0; i < p.n_cmds; i++) {
        pools += p.cmds[i].op == RTL_OP_POOL;
        ldp += p.cmds[i].op == RTL_OP_LD_P;
        const rtl_cmd *c = &p.cmds[i];
        switch (c->op) {
        case RTL_OP_PRELOAD:
        case RTL_OP_COMPUTE:
        case RTL_OP_DRAIN:
            s.array += rtl_cmd_cycles(h, c);
            break;
        case RTL_OP_REQUANT:
        case RTL_OP_POOL:
        case RTL_OP_ADD_CFG:
        case RTL_OP_ADD:
            s.vector += rtl_cmd_cycles(h, c);
            break;
        case RTL_OP_LD_X:
        case RTL_OP_LD_W:
        case RTL_OP_LD_P:
        case RTL_OP_STORE:
            s.port += hw_timing_port_cycles(c->n);
            break;
        case RTL_OP_HOST:
            assert_int_equal(rtl_cmd_cycles(h, c), -1); /* no core cycles */
            break;
        default:
            fail_msg("layer %s: unexpected command %d", l.name, c->op);
        }
    }
    if (ldp > 0 && pools / ldp > max_bands)
        max_bands = pools / ldp;
    free(io);
    rtl_program_free(&p);
    return s;
}

/* Compares every lowered layer of genome:seed on cfg; returns the layers compared and counts
 * the ops seen (by rtl_layer_op, [RTL_LAYER_COUNT] = convs with a fused max-pool). */
static int check_net(const hw_config *cfg, uint64_t seed, int *seen)
{
    nn_graph g;
    assert_int_equal(rtl_net_genome_graph(&g, seed), TD_OK);
    rtl_net_weights nw;
    assert_int_equal(rtl_net_weights_random(&nw, &g, cfg->bits, seed), TD_OK);
    rtl_layer *layers = calloc(RTL_NET_MAX_LAYERS, sizeof *layers);
    assert_non_null(layers);
    int32_t nl = 0;
    td_status st = rtl_layers_from_graph(&g, nw.wt, layers, RTL_NET_MAX_LAYERS, &nl);
    if (st != TD_OK)
        fprintf(stderr, "genome:%llu: %s\n", (unsigned long long)seed, td_error_message());
    assert_int_equal(st, TD_OK);
    hw_result r;
    assert_int_equal(hw_result_init(&r, g.n_nodes), TD_OK);
    assert_int_equal(hw_evaluate(&g, cfg, &r), TD_OK);
    rtl_hw h; /* the core for the config (whole L1 buffers in full-width lines) */
    assert_int_equal(rtl_hw_from_config(cfg, &h), TD_OK);
    int compared = 0;
    for (int32_t i = 0; i < nl; i++) {
        const rtl_layer *l = &layers[i];
        int32_t node = -1;
        for (size_t k = 0; k < g.n_nodes && node < 0; k++)
            if (strcmp(g.nodes[k].name, l->name) == 0)
                node = (int32_t)k;
        assert_true(node >= 0);
        const hw_layer_result *m = &r.layers[node];
        const parts c = compile_layer(&h, l);
        const parts e = {m->compute_cycles, m->vector_cycles,
                         m->port_cycles - hw_timing_program_start_cycles()};
        if (c.array != e.array || c.vector != e.vector || c.port != e.port)
            fprintf(stderr,
                    "%s %s genome:%llu layer %s (%s%s): compiled array/vector/port "
                    "%lld/%lld/%lld, hw_eval %lld/%lld/%lld\n",
                    cfg->name, hw_dataflow_name(cfg->dataflow), (unsigned long long)seed, l->name,
                    nn_op_name(g.nodes[node].op), l->pool_k ? " + max-pool" : "",
                    (long long)c.array, (long long)c.vector, (long long)c.port, (long long)e.array,
                    (long long)e.vector, (long long)e.port);
        assert_int_equal(c.array, e.array);
        assert_int_equal(c.vector, e.vector);
        assert_int_equal(c.port, e.port);
        seen[l->op]++;
        if (l->pool_k)
            seen[RTL_LAYER_COUNT]++;
        compared++;
    }
    hw_result_free(&r);
    free(layers);
    rtl_net_weights_free(&nw);
    nn_graph_free(&g);
    return compared;
}

static void run_presets(hw_dataflow df)
{
    const char *presets[] = {"edge-8x16-int8", "gemmini-16x16-int8", "cloud-64x64-int8"};
    const uint64_t seeds[] = {23, 1, 7, 42};
    int seen[RTL_LAYER_COUNT + 1] = {0};
    for (size_t pi = 0; pi < sizeof presets / sizeof presets[0]; pi++)
        for (size_t si = 0; si < sizeof seeds / sizeof seeds[0]; si++) {
            hw_config c;
            assert_int_equal(hw_preset(presets[pi], &c), TD_OK);
            c.dataflow = df;
            assert_true(check_net(&c, seeds[si], seen) > 0);
        }
    /* the seeds exercise every kind of lowered layer */
    assert_true(seen[RTL_LAYER_CONV] > 0);
    assert_true(seen[RTL_LAYER_FC] > 0);
    assert_true(seen[RTL_LAYER_GAP] > 0);
    assert_true(seen[RTL_LAYER_ADD] > 0);
    assert_true(seen[RTL_LAYER_COUNT] > 0);
}

static void test_ws(void **state)
{
    (void)state;
    run_presets(HW_DATAFLOW_WS);
}

static void test_os(void **state)
{
    (void)state;
    run_presets(HW_DATAFLOW_OS);
}

/* A small output buffer splits the fused max-pool into bands (map rows on band edges
 * computed twice) and the residual add into chunks. */
static void test_small_buffers(void **state)
{
    (void)state;
    int seen[RTL_LAYER_COUNT + 1] = {0};
    max_bands = 0;
    for (int df = 0; df < HW_DATAFLOW_COUNT; df++) {
        hw_config c;
        assert_int_equal(hw_preset("edge-8x16-int8", &c), TD_OK);
        c.dataflow = (hw_dataflow)df;
        c.l1_acc_kib = 8;    /* 8 KiB / (16 x 32 bits) = 128 output lines */
        c.l1_weight_kib = 1; /* 64 lines: ADD chunks of 32 */
        assert_true(check_net(&c, 23, seen) > 0);
    }
    assert_true(max_bands > 1);
    assert_true(seen[RTL_LAYER_COUNT] > 0);
}

/* An output buffer of 64 lines (4 KiB / (16 x 32 bits)) holds no band of one pooled
 * row of the 28-pixel stem map (2 x 28 + 14 = 70 lines): the compiler pools in column strips
 * (rtl_pool_strips_plan), each map row's segment under a strip computed on its own. */
static void test_pool_strips(void **state)
{
    (void)state;
    int seen[RTL_LAYER_COUNT + 1] = {0};
    skip_infeasible = true;
    for (int df = 0; df < HW_DATAFLOW_COUNT; df++) {
        hw_config c;
        assert_int_equal(hw_preset("edge-8x16-int8", &c), TD_OK);
        c.dataflow = (hw_dataflow)df;
        c.l1_acc_kib = 4;
        assert_true(check_net(&c, 23, seen) > 0);
    }
    skip_infeasible = false;
    assert_true(seen[RTL_LAYER_COUNT] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ws),
        cmocka_unit_test(test_os),
        cmocka_unit_test(test_small_buffers),
        cmocka_unit_test(test_pool_strips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
