/* Hand-computed mapping and cycle cases (docs/models.md). Per-tile costs come from the
 * timing contract (hw_timing.h) so that an RTL-driven change there keeps these tests
 * meaningful; the fold counts, tile sizes, bytes and bounds are worked out by hand in the
 * comments. With the current contract a tile costs what the tile needs, not what the array
 * is: WS tile K_t x N_t streaming m rows = 1 + (K_t + 1) + (m + K_t + N_t), OS tile
 * M_t x N_t streaming k steps = 1 + (k + M_t + N_t - 1) + M_t; a load or store of n words 1 + 2n,
 * REQUANT of m lines 1 + m + 2, one cycle of program start per layer. The gemmini preset's L1
 * depths (hw_timing_l1_lines): input 128 KiB * 8192 / (16 * 8) = 8192 lines, weight 8192 lines,
 * accumulator 64 KiB * 8192 / (16 * 32) = 1024 lines: WS M_t <= 1024, OS K_c <= 8192. */
#include "hw_eval.h"
#include "hw_timing.h"
#include "td_tolerances.h"
#include "nn_intmath.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static hw_config base(hw_dataflow df)
{
    hw_config c;
    assert_int_equal(hw_preset("gemmini-16x16-int8", &c), TD_OK);
    c.dataflow = df;
    return c;
}

/* input C x H x W, then one conv k x k (same padding) with groups. */
static void one_conv(nn_graph *g, int64_t c, int64_t hw, int64_t out, int32_t k, int32_t groups)
{
    nn_shape in = {c, hw, hw};
    int32_t x = 0;
    assert_int_equal(nn_graph_init(g, "t", in, 10), TD_OK);
    assert_int_equal(nn_graph_add_conv(g, &x, x, "conv", out, k, 1, k / 2, groups, false), TD_OK);
}

static const hw_layer_result *eval1(const nn_graph *g, const hw_config *c, hw_result *r)
{
    assert_int_equal(hw_result_init(r, g->n_nodes), TD_OK);
    assert_int_equal(hw_evaluate(g, c, r), TD_OK);
    return &r->layers[1];
}

/* one WS COMPUTE (fused preload) of a k_t x n_t weight tile streaming m rows */
static int64_t ws_tile(int64_t k_t, int64_t n_t, int64_t m)
{
    return hw_timing_cmd_overhead_cycles() + hw_timing_ws_preload_cycles(k_t) +
           hw_timing_ws_stream_cycles(k_t, n_t, m);
}

/* one OS COMPUTE (fused drain) of an m_t x n_t output tile streaming k steps */
static int64_t os_tile(int64_t m_t, int64_t n_t, int64_t k)
{
    return hw_timing_cmd_overhead_cycles() + hw_timing_os_stream_cycles(m_t, n_t, k) +
           hw_timing_os_drain_cycles(m_t);
}

/* 1x1 conv 8 -> 8 channels on 2x2: GEMM M = 4, K = 8, N = 8: one tile on a 16x16 array. */
static void test_one_fold_ws(void **state)
{
    (void)state;
    nn_graph g;
    one_conv(&g, 8, 2, 8, 1, 1);
    hw_config c = base(HW_DATAFLOW_WS);
    hw_result r;
    const hw_layer_result *l = eval1(&g, &c, &r);
    assert_int_equal(l->unit, HW_UNIT_ARRAY);
    assert_int_equal(l->gemm_m, 4);
    assert_int_equal(l->gemm_k, 8);
    assert_int_equal(l->gemm_n, 8);
    assert_int_equal(l->folds_m * l->folds_k * l->folds_n, 1);
    assert_int_equal(l->commands, 1);
    /* K_t = 8, N_t = 8: 1 + (8 + 1) + (4 + 8 + 8) = 30 (the 16x16 array's size plays no part) */
    assert_int_equal(l->compute_cycles, ws_tile(8, 8, 4));
    assert_int_equal(l->compute_cycles, 30);
    assert_int_equal(l->macs, 4 * 8 * 8);
    /* DRAM, in the core's memory image (16-byte words: max(16 x 8, 32 + 39) bits):
     * input 32 B packed (fits the staging half of L2: fetched once); weights fn x (K + C) =
     * 1 x (8 weight lines + 16 parameter words) x 16 B = 384 B; output (last layer) fn x M
     * = 4 lines x 16 B = 64 B: 32 + 384 + 64 = 480 */
    assert_int_equal(l->dram_bytes, 32 + 384 + 64);
    assert_int_equal(l->loop, HW_LOOP_BOTH_FIT);
    /* 25.6 B/cycle: ceil(480 / 25.6 = 18.75) = 19 */
    assert_int_equal(l->memory_cycles, 19);
    /* the core's REQUANT of the 4-line block: 1 + 4 + 2 = 7 (serial, not overlapped) */
    assert_int_equal(l->vector_cycles, hw_timing_requant_cycles(4));
    assert_int_equal(l->vector_cycles, 7);
    /* port: program start 1 + LD_P(8) 17 + LD_W(8) 17 + LD_X(4) 9 + STORE(4) 9 = 53 */
    assert_int_equal(l->port_cycles, hw_timing_program_start_cycles() +
                                         hw_timing_port_cycles(8) * 2 +
                                         hw_timing_port_cycles(4) * 2);
    assert_int_equal(l->port_cycles, 53);
    assert_int_equal(l->bound, HW_BOUND_COMPUTE);
    /* prologue: the whole input 32 B, then the first group's N_t + K_t = 8 + 8 words x 16 B =
     * 256 B: ceil(288 / 25.6 = 11.25) = 12 */
    assert_int_equal(l->prologue_cycles, 12);
    /* epilogue: last STORE of 4 words: write-back ceil(64 / 25.6) = 3 <= its 9 port cycles:
     * 0. Serial core: 12 + (30 + 53 + 7) + 0 = 102 > memory 19 + tail 30 = 49 */
    assert_int_equal(l->cycles, 12 + l->compute_cycles + l->port_cycles + l->vector_cycles);
    assert_int_equal(l->cycles, 102);
    assert_int_equal(r.cycles, l->cycles);
    assert_true(r.energy_uj > 0 && r.area_mm2 > 0);
    hw_result_free(&r);
    nn_graph_free(&g);
}

/* Same GEMM, OS: one 4x8 output tile, K = 8 streamed, then drained. */
static void test_one_fold_os(void **state)
{
    (void)state;
    nn_graph g;
    one_conv(&g, 8, 2, 8, 1, 1);
    hw_config c = base(HW_DATAFLOW_OS);
    hw_result r;
    const hw_layer_result *l = eval1(&g, &c, &r);
    assert_int_equal(l->commands, 1);
    assert_int_equal(l->tile_k, 8);
    /* M_t = 4, N_t = 8: 1 + (8 + 4 + 8 - 1) + 4 = 24 */
    assert_int_equal(l->compute_cycles, os_tile(4, 8, 8));
    assert_int_equal(l->compute_cycles, 24);
    /* port: start 1 + LD_P(8) 17 + LD_X(8) 17 + LD_W(8) 17 + STORE(4) 9 = 61;
     * REQUANT(4) = 7; 24 + 61 + 7 = 92 busy, + prologue 12 (as WS: K_c = 8) = 104 */
    assert_int_equal(l->port_cycles, 61);
    assert_int_equal(l->vector_cycles, 7);
    assert_int_equal(l->cycles, 104);
    hw_result_free(&r);
    nn_graph_free(&g);
}

/* 3x3 conv 32 -> 40 on 8x8: M = 64, K = 288, N = 40.
 * WS 16x16: fk = 18 (all K_t = 16), fn = 3 (N_t = 16, 16, 8); M_t = min(x 8192, acc 1024,
 * out 1024 lines) = 1024 >= 64 -> all 64 rows in one tile: 54 tiles, 18 per column fold.
 * OS 16x16: fm = 4 (M_t = 16), fn = 3, K_c = min(8192, 8192) >= 288: 12 tiles. */
static void test_many_folds(void **state)
{
    (void)state;
    nn_graph g;
    one_conv(&g, 32, 8, 40, 3, 1);
    hw_config c = base(HW_DATAFLOW_WS);
    hw_result r;
    const hw_layer_result *l = eval1(&g, &c, &r);
    assert_int_equal(l->gemm_k, 288);
    assert_int_equal(l->folds_k, 18);
    assert_int_equal(l->folds_n, 3);
    assert_int_equal(l->folds_m, 1);
    assert_int_equal(l->tile_m, 64);
    assert_int_equal(l->commands, 54);
    assert_int_equal(l->compute_cycles, 18 * (2 * ws_tile(16, 16, 64) + ws_tile(16, 8, 64)));
    /* 18 x (2 x (1 + 17 + 96) + (1 + 17 + 88)) = 18 x 334 */
    assert_int_equal(l->compute_cycles, 6012);
    hw_result_free(&r);

    /* a 1 KiB accumulator holds 1 KiB*8192/(16*32) = 16 lines (the whole buffer, as the
     * RTL compiler uses it): M splits into 4 tiles of 16 */
    c.l1_acc_kib = 1;
    l = eval1(&g, &c, &r);
    assert_int_equal(l->tile_m, 16);
    assert_int_equal(l->folds_m, 4);
    assert_int_equal(l->commands, 18 * 3 * 4);
    assert_int_equal(l->compute_cycles, 18 * 4 * (2 * ws_tile(16, 16, 16) + ws_tile(16, 8, 16)));
    hw_result_free(&r);

    /* acc 3 KiB -> 48 lines, floored to a power of two: 32. On a 9x9 map M = 81: tiles of
     * 32, 32 and a last one of 17 */
    nn_graph g9;
    one_conv(&g9, 32, 9, 40, 3, 1);
    c.l1_acc_kib = 3;
    l = eval1(&g9, &c, &r);
    assert_int_equal(l->gemm_m, 81);
    assert_int_equal(l->tile_m, 32);
    assert_int_equal(l->folds_m, 3);
    assert_int_equal(l->compute_cycles, 18 * (2 * (2 * ws_tile(16, 16, 32) + ws_tile(16, 16, 17)) +
                                              (2 * ws_tile(16, 8, 32) + ws_tile(16, 8, 17))));
    /* port: start 1; LD_P: 2 x (1 + 2*16) + (1 + 2*8) = 83; per column fold (x3):
     * STORE 2 x 65 + 35 = 165, LD_X 18 x 165 = 2970, LD_W 3 x (17 x 33 + 1 x 33) = 1782
     * (288 = 18 x 16: every k-fold full) -> 4917; total 1 + 83 + 3 x 4917 = 14835 */
    assert_int_equal(l->port_cycles, 14835);
    /* REQUANT: 3 x (2 x (1 + 32 + 2) + (1 + 17 + 2)) = 3 x 90 = 270 */
    assert_int_equal(l->vector_cycles, 270);
    hw_result_free(&r);
    nn_graph_free(&g9);

    c = base(HW_DATAFLOW_OS);
    l = eval1(&g, &c, &r);
    assert_int_equal(l->folds_m, 4);
    assert_int_equal(l->folds_n, 3);
    assert_int_equal(l->folds_k, 1);
    assert_int_equal(l->compute_cycles, 4 * (2 * os_tile(16, 16, 288) + os_tile(16, 8, 288)));
    hw_result_free(&r);

    /* OS with a 1 KiB input buffer: K_c = 1 KiB*8192/(16*8) = 64 lines -> 288 = 4 chunks of
     * 64 and one of 32 per tile, one drain per tile */
    c.l1_input_kib = 1;
    l = eval1(&g, &c, &r);
    assert_int_equal(l->tile_k, 64);
    assert_int_equal(l->folds_k, 5);
    int64_t per_tile[2];
    for (int i = 0; i < 2; i++) { /* N_t = 16, then the last column fold's 8 */
        const int64_t n_t = i == 0 ? 16 : 8;
        per_tile[i] =
            4 * (hw_timing_cmd_overhead_cycles() + hw_timing_os_stream_cycles(16, n_t, 64)) +
            (hw_timing_cmd_overhead_cycles() + hw_timing_os_stream_cycles(16, n_t, 32)) +
            hw_timing_os_drain_cycles(16);
    }
    assert_int_equal(l->compute_cycles, 4 * (2 * per_tile[0] + per_tile[1]));
    hw_result_free(&r);
    nn_graph_free(&g);
}

/* FC 4096 -> 1000 at 8 bits with 1 GB/s at 1 GHz (1 byte per cycle), 16-byte memory words.
 * fn = 63 column folds (62 x 16 + 8). Weights as laid out for the core: 63 x (4096 weight
 * lines + 16 parameter words) x 16 B = 63 x 65,792 = 4,144,896 B; input 4096 B fits the
 * staging half (256 KiB): fetched once (both-fit). Output (last layer) 63 x 1 line x 16 B =
 * 1008 B. DRAM = 4096 + 4,144,896 + 1008 = 4,150,000 B = 4,150,000 memory cycles.
 * Core (WS): fk = 256 (K_t = 16), fm = 1: 16128 tiles, per k-fold 62 of ws_tile(16, 16, 1)
 * = 1 + 17 + 33 = 51 and one of ws_tile(16, 8, 1) = 43: 256 x 3205 = 820,480; port:
 * start 1 + LD_P (62 x 33 + 17 = 2063) + 63 x (STORE(1) 3 + 256 LD_X(1) 3 x 256 = 768 +
 * 256 LD_W(16) 33 x 256 = 8448 = 9219) = 1 + 2063 + 580,797 = 582,861; REQUANT 63 x 4 = 252:
 * busy 1,403,593; + prologue (4096 + (16 + 16) x 16 = 4608) + epilogue (16 - 3 = 13) =
 * 1,408,214 < memory + tail (820,480 / 16128 = 50) = 4,150,050: memory-bound. */
static void test_memory_bound_fc(void **state)
{
    (void)state;
    nn_graph g;
    nn_shape in = {4096, 1, 1};
    int32_t x = 0;
    assert_int_equal(nn_graph_init(&g, "fc", in, 1000), TD_OK);
    assert_int_equal(nn_graph_add_fc(&g, &x, x, "fc", 1000, true), TD_OK);
    hw_config c = base(HW_DATAFLOW_WS);
    c.dram_gbps = 1.0;
    hw_result r;
    const hw_layer_result *l = eval1(&g, &c, &r);
    assert_int_equal(l->gemm_m, 1);
    assert_int_equal(l->gemm_k, 4096);
    assert_int_equal(l->gemm_n, 1000);
    assert_int_equal(l->commands, 256 * 63);
    assert_int_equal(l->compute_cycles, 256 * (62 * ws_tile(16, 16, 1) + ws_tile(16, 8, 1)));
    assert_int_equal(l->compute_cycles, 820480);
    assert_int_equal(l->loop, HW_LOOP_BOTH_FIT);
    assert_int_equal(l->dram_bytes, 4150000);
    assert_int_equal(l->memory_cycles, 4150000);
    assert_int_equal(l->port_cycles, 582861);
    assert_int_equal(l->vector_cycles, 252);
    assert_int_equal(l->bound, HW_BOUND_MEMORY);
    assert_int_equal(l->prologue_cycles, 4608);
    assert_int_equal(l->cycles, 4150000 + 50);
    /* latency = cycles / 1 GHz */
    assert_true(r.latency_ms == (double)(4150000 + 50) / 1e6);
    hw_result_free(&r);
    /* OS: same traffic; compute = 63 column tiles (fm = 1) streaming K = 4096 in one chunk:
     * 62 x os_tile(1, 16, 4096) (1 + 4112 + 1 = 4114) + os_tile(1, 8, 4096) (4106) = 259,174
     * cycles: still memory-bound */
    c.dataflow = HW_DATAFLOW_OS;
    l = eval1(&g, &c, &r);
    assert_int_equal(l->dram_bytes, 4150000);
    assert_int_equal(l->folds_k, 1);
    assert_int_equal(l->compute_cycles, 62 * os_tile(1, 16, 4096) + os_tile(1, 8, 4096));
    assert_int_equal(l->compute_cycles, 259174);
    assert_int_equal(l->bound, HW_BOUND_MEMORY);
    c.dataflow = HW_DATAFLOW_WS;
    /* at 500 GB/s the same layer is compute-bound */
    hw_result_free(&r);
    c.dram_gbps = 500;
    l = eval1(&g, &c, &r);
    assert_int_equal(l->bound, HW_BOUND_COMPUTE);
    hw_result_free(&r);
    nn_graph_free(&g);

    /* An input larger than the staging half is re-streamed once per column fold: 1x1 conv
     * 8 -> 40 on 16x16 (input 2048 B) with a 1 KiB L2 (half 512 B). fn = 3: reads 3 x 2048
     * + weights 3 x (8 + 16) x 16 = 1152 -> 7296; output (last layer) 3 x 256 x 16 = 12288;
     * DRAM 19584. Prologue: 3 streams of ceil(2048 / 25.6) = 80 + ceil(min((16 + 8) x 16,
     * 1152) = 384 / 25.6) = 15 -> 255. */
    one_conv(&g, 8, 16, 40, 1, 1);
    c = base(HW_DATAFLOW_WS);
    c.l2_kib = 1;
    l = eval1(&g, &c, &r);
    assert_int_equal(l->loop, HW_LOOP_WEIGHTS_OUTER);
    assert_int_equal(l->dram_bytes, 19584);
    assert_int_equal(l->prologue_cycles, 255);
    hw_result_free(&r);
    nn_graph_free(&g);
}

/* Depthwise 3x3 on 32 x 8 x 8: 32 GEMMs of M = 64, K = 9, N = 1. WS 16x16: one tile per
 * group (9 of 16 rows, 1 of 16 columns busy): 32 tiles of ws_tile(9, 1, 64) = 1 + 10 + 74 =
 * 85, whatever the array's size. The dense 3x3
 * conv 32 -> 32 on the same input does 32x the MACs in 2 x 18 = 36 tiles: the model must
 * show depthwise mapping poorly. */
static void test_depthwise(void **state)
{
    (void)state;
    nn_graph g;
    one_conv(&g, 32, 8, 32, 3, 32);
    hw_config c = base(HW_DATAFLOW_WS);
    hw_result r;
    const hw_layer_result *l = eval1(&g, &c, &r);
    assert_int_equal(l->groups, 32);
    assert_int_equal(l->gemm_m, 64);
    assert_int_equal(l->gemm_k, 9);
    assert_int_equal(l->gemm_n, 1);
    assert_int_equal(l->commands, 32);
    assert_int_equal(l->compute_cycles, 32 * ws_tile(9, 1, 64));
    assert_int_equal(l->compute_cycles, 32 * 85);
    assert_int_equal(l->macs, 64 * 9 * 32);
    double dw_util = (double)l->macs / (256.0 * l->compute_cycles);
    assert_true(dw_util < 0.05);
    hw_result_free(&r);

    nn_graph d;
    one_conv(&d, 32, 8, 32, 3, 1);
    l = eval1(&d, &c, &r);
    assert_int_equal(l->commands, 36);
    double dense_util = (double)l->macs / (256.0 * l->compute_cycles);
    assert_true(dense_util > 10 * dw_util);
    hw_result_free(&r);

    /* OS: 32 groups x fm = 4 output tiles of one column each, K = 9 */
    c.dataflow = HW_DATAFLOW_OS;
    l = eval1(&g, &c, &r);
    assert_int_equal(l->commands, 32 * 4);
    assert_int_equal(l->compute_cycles, 32 * 4 * os_tile(16, 1, 9));
    hw_result_free(&r);
    nn_graph_free(&d);
    nn_graph_free(&g);
}

/* conv -> bn -> relu -> maxpool -> add(residual of pool with itself via a second conv path)
 * -> global avgpool -> fc: the layers mapped as the RTL compiler lowers them (max-pool fused
 * after its conv, add on the vector unit's ADD, global average pool as a GEMM). */
static void test_vector_and_fused(void **state)
{
    (void)state;
    nn_graph g;
    nn_shape in = {3, 16, 16};
    int32_t x = 0, p, y;
    assert_int_equal(nn_graph_init(&g, "v", in, 10), TD_OK);
    assert_int_equal(nn_graph_add_conv(&g, &x, x, "conv", 16, 3, 1, 1, 1, false), TD_OK);
    assert_int_equal(nn_graph_add_batchnorm(&g, &x, x, "bn"), TD_OK);
    assert_int_equal(nn_graph_add_relu(&g, &x, x, "relu", false), TD_OK);
    assert_int_equal(nn_graph_add_pool(&g, &p, x, "pool", NN_OP_MAXPOOL, 2, 2, 0), TD_OK);
    assert_int_equal(nn_graph_add_conv(&g, &y, p, "conv2", 16, 3, 1, 1, 1, false), TD_OK);
    assert_int_equal(nn_graph_add_add(&g, &y, y, p, "add"), TD_OK);
    assert_int_equal(nn_graph_add_global_avgpool(&g, &y, y, "gap"), TD_OK);
    assert_int_equal(nn_graph_add_fc(&g, &y, y, "fc", 10, true), TD_OK);
    hw_config c = base(HW_DATAFLOW_WS);
    hw_result r;
    assert_int_equal(hw_result_init(&r, g.n_nodes), TD_OK);
    assert_int_equal(hw_evaluate(&g, &c, &r), TD_OK);
    assert_int_equal(r.layers[2].unit, HW_UNIT_FUSED);
    assert_int_equal(r.layers[2].cycles, 0);
    assert_int_equal(r.layers[3].unit, HW_UNIT_FUSED);
    /* the max-pool is fused after the conv's REQUANTs, as the RTL compiler lowers it: the
     * conv (16x16 map, M 256, K 27, N 16; one WS m-block of 256, two k-folds 16 + 11, one band)
     * computes as before, then one POOL of 64 pooled pixels and one STORE of 64 lines */
    const hw_layer_result *pl = &r.layers[4];
    assert_int_equal(pl->unit, HW_UNIT_FUSED);
    assert_int_equal(pl->cycles, 0);
    const hw_layer_result *cl = &r.layers[1];
    assert_int_equal(cl->unit, HW_UNIT_ARRAY);
    /* oh + pre + stream per k-fold: (1 + 17 + (256 + 16 + 16)) + (1 + 12 + (256 + 11 + 16)) */
    assert_int_equal(cl->compute_cycles, (1 + 17 + 256 + 32) + (1 + 12 + 256 + 27));
    assert_int_equal(cl->vector_cycles, (1 + 256 + 2) + (1 + 64 * 4 + 1)); /* REQUANT + POOL */
    /* start + LD_P(16) + LD_W(16) + LD_W(11) + 2 LD_X(256) + STORE(64) */
    assert_int_equal(cl->port_cycles, 1 + 33 + 33 + 23 + 2 * 513 + 129);
    assert_true(cl->out_onchip); /* the pooled output (1 KiB) stays in L2 */
    assert_true(r.layers[5].in_onchip);
    /* add of 16x8x8: 64 lines, one chunk: ADD_CFG (1) + ADD (1 + 2 x 64 + 2); two LD_W and a
     * STORE of 64 lines, plus the program start */
    assert_int_equal(r.layers[6].unit, HW_UNIT_VECTOR);
    assert_int_equal(r.layers[6].compute_cycles, 0);
    assert_int_equal(r.layers[6].vector_cycles, 1 + 131);
    assert_int_equal(r.layers[6].port_cycles, 1 + 3 * 129);
    assert_int_equal(r.layers[6].commands, 5);
    /* global avgpool: a GEMM M 16 (channels), K 64 (pixels), N 1 on the array: four k-folds
     * of 16, REQUANT of 16 lines; LD_P(1) + 4 LD_W(16) + 4 LD_X(16) + STORE(16) + start */
    const hw_layer_result *gl = &r.layers[7];
    assert_int_equal(gl->unit, HW_UNIT_ARRAY);
    assert_int_equal(gl->gemm_m, 16);
    assert_int_equal(gl->gemm_k, 64);
    assert_int_equal(gl->gemm_n, 1);
    assert_int_equal(gl->compute_cycles, 4 * (1 + 17 + (16 + 16 + 1))); /* K_t 16, N_t 1 */
    assert_int_equal(gl->vector_cycles, 1 + 16 + 2);
    assert_int_equal(gl->port_cycles, 1 + 3 + 4 * 33 + 4 * 33 + 33);
    /* energy of the layers adds up to the total */
    double sum = 0;
    for (size_t i = 0; i < r.n_layers; i++)
        sum += r.layers[i].energy_uj;
    assert_true(fabs(sum - r.energy_uj) <= HW_TOL_ENERGY_SUM_REL * r.energy_uj);
    /* breakdown adds up too, and power = energy / latency */
    assert_true(r.power_mw * r.latency_ms <= r.energy_uj * (1 + HW_TOL_ENERGY_SUM_REL));
    assert_true(r.power_mw > r.leakage_mw);
    hw_result_free(&r);
    nn_graph_free(&g);
}

/* A max-pool the RTL compiler does not fuse (padded): the vector-unit estimate, one compare
 * per window element per lane per cycle. */
static void test_unfused_pool(void **state)
{
    (void)state;
    nn_graph g;
    nn_shape in = {3, 16, 16};
    int32_t x = 0;
    assert_int_equal(nn_graph_init(&g, "u", in, 10), TD_OK);
    assert_int_equal(nn_graph_add_conv(&g, &x, x, "conv", 16, 3, 1, 1, 1, false), TD_OK);
    assert_int_equal(nn_graph_add_pool(&g, &x, x, "pool", NN_OP_MAXPOOL, 3, 2, 1), TD_OK);
    hw_config c = base(HW_DATAFLOW_WS);
    hw_result r;
    assert_int_equal(hw_result_init(&r, g.n_nodes), TD_OK);
    assert_int_equal(hw_evaluate(&g, &c, &r), TD_OK);
    const hw_layer_result *pl = &r.layers[2];
    assert_int_equal(pl->unit, HW_UNIT_VECTOR);
    /* 16 x 8 x 8 outputs x 9 compares / 16 lanes */
    assert_int_equal(pl->vector_cycles, 16 * 64 * 9 / 16);
    assert_int_equal(r.layers[1].port_cycles, 1 + 33 + 33 + 23 + 2 * 513 + 513); /* STORE 256 */
    hw_result_free(&r);
    nn_graph_free(&g);
}

static void test_totals_and_json(void **state)
{
    (void)state;
    nn_graph g;
    assert_int_equal(nn_builtin_graph(&g, "ref-cnn"), TD_OK);
    hw_config c = base(HW_DATAFLOW_WS);
    c.clock_mhz = 800; /* below the calibrated 8-bit WS PE's fmax at 45 nm (865 MHz) */
    hw_result r;
    assert_int_equal(hw_result_init(&r, g.n_nodes), TD_OK);
    assert_int_equal(hw_evaluate(&g, &c, &r), TD_OK);
    assert_int_equal(r.macs, nn_graph_macs(&g));
    assert_true(r.peak_tops == 2.0 * 256 * 800 * 1e-6);
    assert_true(r.utilization > 0 && r.utilization <= 1);
    assert_true(r.effective_tops <= r.peak_tops);
    assert_true(r.inferences_per_s * r.latency_ms > 999.999 &&
                r.inferences_per_s * r.latency_ms < 1000.001);
    assert_int_equal(r.violations.n, 0);
    json_t *o = hw_result_to_json(&r, &g, &c, true);
    const char *keys[] = {"latency_ms", "inferences_per_s", "energy_uj",      "power_mw",
                          "area_mm2",   "peak_tops",        "effective_tops", "utilization",
                          "macs",       "layers",           "violations"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_non_null(json_object_get(o, keys[i]));
    json_t *l0 = json_array_get(json_object_get(o, "layers"), 0);
    const char *lkeys[] = {"cycles", "compute_cycles", "memory_cycles", "bound",     "energy_uj",
                           "gemm",   "tile",           "folds",         "loop_order"};
    for (size_t i = 0; i < sizeof lkeys / sizeof lkeys[0]; i++)
        assert_non_null(json_object_get(l0, lkeys[i]));
    assert_string_equal(json_string_value(json_object_get(l0, "bound")), "compute");
    /* every number says where it comes from */
    json_t *pv = json_object_get(o, "provenance");
    assert_non_null(pv);
    json_t *og = json_object_get(pv, "origins");
    const char *eparts[] = {"mac_uj",  "reg_uj",    "l1_uj",   "l2_uj",
                            "dram_uj", "vector_uj", "ctrl_uj", "leak_uj"};
    for (size_t i = 0; i < sizeof eparts / sizeof eparts[0]; i++) {
        assert_non_null(json_object_get(json_object_get(o, "energy_breakdown"), eparts[i]));
        assert_non_null(json_object_get(json_object_get(og, "energy_breakdown"), eparts[i]));
    }
    const char *aparts[] = {"pe_array_mm2", "l1_mm2", "l2_mm2", "vector_mm2", "ctrl_mm2"};
    for (size_t i = 0; i < sizeof aparts / sizeof aparts[0]; i++) {
        assert_non_null(json_object_get(json_object_get(o, "area_breakdown"), aparts[i]));
        assert_non_null(json_object_get(json_object_get(og, "area_breakdown"), aparts[i]));
    }
    /* calibrated by default: the PE from synthesis, SRAM from the published model */
    assert_string_equal(json_string_value(json_object_get(pv, "tech")), "calibrated");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(og, "area_breakdown"), "pe_array_mm2")),
        "synthesis+scaled");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(og, "area_breakdown"), "l2_mm2")),
        "published+assumption");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(og, "energy_breakdown"), "dram_uj")),
        "published");
    assert_true(json_array_size(json_object_get(o, "constants")) == HW_CONST_COUNT);
    assert_true(json_real_value(json_object_get(o, "pe_fmax_mhz")) > 800);
    json_decref(o);

    /* the clock is a checked constraint: above the PE's fmax a violation with its amount, not
     * an error */
    c.clock_mhz = 1000;
    assert_int_equal(hw_evaluate(&g, &c, &r), TD_OK);
    assert_int_equal(r.violations.n, 1);
    assert_int_equal(r.violations.v[0].kind, HW_VIOL_FMAX);
    const double fmax = hw_tech_pe_fmax_mhz(r.tech, HW_DATAFLOW_WS, 8, 45);
    assert_true(fabs(r.violations.v[0].amount - (1000 - fmax)) < 1e-9);
    char vm[320];
    hw_violation_format(&r.violations.v[0], &c, vm, sizeof vm);
    assert_non_null(strstr(vm, "clock_mhz: 1000 MHz is above the PE's fmax"));
    /* the published table has no fmax: no clock check */
    assert_int_equal(hw_evaluate_with(&g, &c, hw_tech_default(), &r), TD_OK);
    assert_int_equal(r.violations.n, 0);
    c.clock_mhz = 800;

    /* infeasible points are evaluated, with named violations */
    c.acc_bits = 20;
    assert_int_equal(hw_evaluate(&g, &c, &r), TD_OK);
    assert_int_equal(r.violations.n, 1);
    assert_int_equal(r.violations.v[0].kind, HW_VIOL_ACC_BITS);
    assert_string_equal(r.violations.v[0].layer, "fc"); /* K = 3136, the largest */
    assert_true(r.violations.v[0].required == nn_acc_bits_needed(8, 3136));
    assert_true(r.latency_ms > 0);

    /* a result too small for the graph is an error that says so */
    hw_result small;
    assert_int_equal(hw_result_init(&small, 2), TD_OK);
    assert_int_equal(hw_evaluate(&g, &c, &small), TD_ERR_INTERNAL);
    assert_non_null(strstr(td_error_message(), "result has room for 2 layers, network 'ref-cnn'"));
    hw_result_free(&small);
    /* a config with an illegal bit width is rejected, not evaluated */
    c.acc_bits = 32;
    c.bits = 6;
    assert_int_equal(hw_evaluate(&g, &c, &r), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "key 'bits': 6 is not one of 4, 8, 16, 32"));
    hw_result_free(&r);
    nn_graph_free(&g);
}

/* WS with several row blocks: the compiled loop re-reads a column fold's K weight lines once
 * per m-block; when they do not fit the L2 block cache (the staging half) each block fetches
 * them from DRAM again (docs/models.md section 4). */
static void test_weight_refetch(void **state)
{
    (void)state;
    nn_graph g;
    /* 3x3 conv 256 -> 16 channels on 32x32: M = 1024, K = 2304, N = 16 */
    one_conv(&g, 256, 32, 16, 3, 1);
    hw_config c = base(HW_DATAFLOW_WS);
    c.l1_input_kib = 2; /* x_depth = 2 KiB / (16 x 8 bits) = 128 lines: m-blocks of 128 */
    c.l2_kib = 64;      /* staging half 32 KiB < K x word = 2304 x 16 B = 36 KiB */
    hw_result r;
    const hw_layer_result *l = eval1(&g, &c, &r);
    assert_int_equal(l->folds_m, 8);
    const int64_t wb = 16, K = 2304, fn = 1;
    const int64_t w = fn * (K + 16) * wb, x = 256 * 32 * 32; /* packed 8-bit input */
    /* input larger than the staging half: weights-outer, input streamed once per column fold */
    assert_int_equal(l->loop, HW_LOOP_WEIGHTS_OUTER);
    const int64_t y = fn * 1024 * wb; /* the last layer's output goes to DRAM */
    assert_int_equal(l->dram_bytes, fn * x + w + (8 - 1) * K * wb + y);
    hw_result_free(&r);
    /* with a larger L2 the fold's weights stay cached: counted once */
    c.l2_kib = 8192;
    l = eval1(&g, &c, &r);
    assert_int_equal(l->loop, HW_LOOP_BOTH_FIT);
    assert_int_equal(l->dram_bytes, x + w + y);
    hw_result_free(&r);
    nn_graph_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_fold_ws),    cmocka_unit_test(test_one_fold_os),
        cmocka_unit_test(test_many_folds),     cmocka_unit_test(test_memory_bound_fc),
        cmocka_unit_test(test_depthwise),      cmocka_unit_test(test_vector_and_fused),
        cmocka_unit_test(test_unfused_pool),   cmocka_unit_test(test_totals_and_json),
        cmocka_unit_test(test_weight_refetch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
