/* Tile-command format, compiler and the C model of the core: round trips, every error path
 * with its message, and GEMMs/convolutions over a matrix of configs checked against the C
 * integer reference (no Verilator needed; the Verilator testbenches run the same programs). */
#include "nn_quant.h"
#include "rtl_gen.h"
#include "rtl_program.h"
#include "rtl_testgen.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static rtl_hw hw_make(int rows, int cols, int bits, int acc_bits, hw_dataflow df, int64_t depth)
{
    rtl_hw hw = {.rows = rows,
                 .cols = cols,
                 .bits = bits,
                 .acc_bits = acc_bits,
                 .dataflow = df,
                 .x_depth = depth,
                 .w_depth = depth,
                 .acc_depth = depth,
                 .out_depth = depth};
    return hw;
}

static void test_cmd_roundtrip(void **state)
{
    (void)state;
    td_rng rng;
    assert_int_equal(td_rng_init(&rng, 7), TD_OK);
    for (int i = 0; i < 1000; i++) {
        rtl_cmd c = {.op = (uint8_t)td_rng_range(&rng, 0, RTL_OP_COUNT - 1),
                     .flags = (uint8_t)td_rng_range(&rng, 0, 15),
                     .a = (uint16_t)td_rng_range(&rng, 0, 65535),
                     .b = (uint16_t)td_rng_range(&rng, 0, 65535),
                     .n = (uint16_t)td_rng_range(&rng, 0, 65535),
                     .t = (uint16_t)td_rng_range(&rng, 0, 65535),
                     .x = (uint32_t)td_rng_uniform_int(&rng, (uint64_t)1 << 32)};
        uint32_t w[RTL_CMD_WORDS];
        rtl_cmd_pack(&c, w);
        rtl_cmd back;
        assert_int_equal(rtl_cmd_unpack(w, &back), TD_OK);
        assert_true(c.op == back.op && c.flags == back.flags && c.a == back.a && c.b == back.b &&
                    c.n == back.n && c.t == back.t && c.x == back.x);
    }
    td_rng_free(&rng);
    /* field positions, docs/formats.md */
    rtl_cmd c = {
        .op = 5, .flags = 0x9, .a = 0x1234, .b = 0xABCD, .n = 0x0102, .t = 0x0304, .x = 0xDEADBEEF};
    uint32_t w[RTL_CMD_WORDS];
    rtl_cmd_pack(&c, w);
    assert_int_equal(w[0], 0xCD123495u);
    assert_int_equal(w[1], 0x040102ABu);
    assert_int_equal(w[2], 0xADBEEF03u);
    assert_int_equal(w[3], 0x000000DEu);
    assert_string_equal(rtl_opcode_name(RTL_OP_REQUANT), "REQUANT");
    assert_string_equal(rtl_opcode_name(99), "?");
}

static void test_cmd_unpack_errors(void **state)
{
    (void)state;
    rtl_cmd c;
    uint32_t bad_op[RTL_CMD_WORDS] = {0xF, 0, 0, 0};
    assert_int_equal(rtl_cmd_unpack(bad_op, &c), TD_ERR_FORMAT);
    assert_non_null(strstr(td_error_message(), "unknown opcode 15"));
    uint32_t reserved[RTL_CMD_WORDS] = {1, 0, 0, 0x100};
    assert_int_equal(rtl_cmd_unpack(reserved, &c), TD_ERR_FORMAT);
    assert_non_null(strstr(td_error_message(), "reserved bits [127:104]"));
}

static void test_hw_check_errors(void **state)
{
    (void)state;
    struct {
        rtl_hw hw;
        const char *msg;
    } cases[] = {
        {hw_make(0, 2, 8, 32, HW_DATAFLOW_WS, 16), "rows 0 outside [1, 64]"},
        {hw_make(2, 65, 8, 32, HW_DATAFLOW_WS, 16), "cols 65 outside [1, 64]"},
        {hw_make(2, 2, 6, 32, HW_DATAFLOW_WS, 16), "bits 6 is not 4, 8, 16 or 32"},
        {hw_make(2, 2, 8, 15, HW_DATAFLOW_WS, 16), "acc_bits 15 outside [16, 96]"},
        {hw_make(2, 2, 32, 97, HW_DATAFLOW_WS, 16), "acc_bits 97 outside [64, 96]"},
        {hw_make(2, 2, 8, 32, HW_DATAFLOW_COUNT, 16), "dataflow 2 is neither WS nor OS"},
        {hw_make(2, 2, 8, 32, HW_DATAFLOW_WS, 1), "x_depth 1 outside [2, 65536]"},
        {hw_make(4, 2, 8, 32, HW_DATAFLOW_WS, 2), "w_depth 2 below rows 4"},
        {hw_make(4, 2, 8, 32, HW_DATAFLOW_OS, 2), "acc_depth and out_depth must hold rows 4"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rtl_program p;
        assert_int_equal(rtl_program_init(&p, &cases[i].hw), TD_ERR_CONFIG);
        assert_non_null(strstr(td_error_message(), cases[i].msg));
    }
    rtl_hw ok = hw_make(2, 3, 8, 32, HW_DATAFLOW_OS, 16);
    assert_int_equal(rtl_hw_check(&ok), TD_OK);
    assert_int_equal(rtl_hw_mem_bits(&ok), 71); /* a parameter word: 32 + 39 */
    ok = hw_make(16, 8, 32, 80, HW_DATAFLOW_WS, 16);
    assert_int_equal(rtl_hw_mem_bits(&ok), 512); /* a line of 16 x 32 bits */
}

static void test_gemm_errors(void **state)
{
    (void)state;
    rtl_hw hw = hw_make(2, 2, 4, 8, HW_DATAFLOW_WS, 16);
    rtl_program p;
    assert_int_equal(rtl_program_init(&p, &hw), TD_OK);
    int32_t x[4] = {1, 2, 3, 8}, w[4] = {1, 1, 1, 1};
    nn_requant rq[2] = {{1u << 30, 31}, {1u << 30, 31}};
    rtl_gemm g = {.m = 2, .k = 2, .n = 2, .x = x, .w = w, .rq = rq, .lo = -8, .hi = 7};
    rtl_gemm_out out;
    assert_int_equal(rtl_program_add_gemm(&p, &g, &out), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "x[3] = 8 does not fit 4-bit signed"));
    x[3] = 1;
    g.lo = -3;
    assert_int_equal(rtl_program_add_gemm(&p, &g, &out), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "lower clamp -3 is neither 0 nor -8"));
    g.lo = 0;
    g.hi = 8;
    assert_int_equal(rtl_program_add_gemm(&p, &g, &out), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "upper clamp 8 outside [0, 7]"));
    g.hi = 7;
    g.k = 8;
    int32_t xb[16] = {0}, wb[16];
    for (int i = 0; i < 16; i++)
        wb[i] = i == 5 ? -7 : 1;
    g.x = xb;
    g.w = wb;
    assert_int_equal(rtl_program_add_gemm(&p, &g, &out), TD_ERR_INFEASIBLE);
    assert_non_null(strstr(td_error_message(), "k = 8 needs 10 accumulator bits"));
    /* all-ones weights (a global average pool): |sum| <= 8 * 2^3 fits 4 + 4 = 8 bits */
    wb[5] = 1;
    assert_int_equal(rtl_program_add_gemm(&p, &g, &out), TD_OK);
    g.k = 2;
    rq[1].shift = 0;
    assert_int_equal(rtl_program_add_gemm(&p, &g, &out), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "column 1 shift 0 outside [1, 126]"));
    rq[1].shift = 31;
    g.m = 0;
    assert_int_equal(rtl_program_add_gemm(&p, &g, &out), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "has an empty dimension"));
    rtl_program_free(&p);
}

static void test_execute_errors(void **state)
{
    (void)state;
    rtl_hw hw = hw_make(2, 2, 8, 32, HW_DATAFLOW_WS, 4);
    rtl_program p;
    assert_int_equal(rtl_program_init(&p, &hw), TD_OK);
    int64_t base;
    assert_int_equal(rtl_mem_alloc(&p.mem, 2, &base), TD_OK);
    rtl_cmd ld = {.op = RTL_OP_LD_X, .a = 3, .n = 2, .x = 0};
    assert_int_equal(rtl_program_emit(&p, ld), TD_OK);
    rtl_mem mem;
    assert_int_equal(rtl_mem_copy(&mem, &p.mem), TD_OK);
    assert_int_equal(rtl_program_execute(&p, &mem), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "command 0 addresses LD_X line 4 of 4"));
    p.cmds[0].a = 0;
    p.cmds[0].x = 1;
    assert_int_equal(rtl_program_execute(&p, &mem), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "command 0 addresses memory word 2 of 2"));
    rtl_cmd drain = {.op = RTL_OP_DRAIN, .n = 1, .t = 1};
    p.cmds[0] = drain;
    assert_int_equal(rtl_program_execute(&p, &mem), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "command 0 is DRAIN on a WS core"));
    rtl_cmd pool = {
        .op = RTL_OP_POOL, .a = 0, .b = 0, .n = 4, .t = 1, .x = 2u << 24 | 2u << 16 | 1};
    p.cmds[0] = pool;
    assert_int_equal(rtl_program_execute(&p, &mem), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "command 0 addresses output line 4 of 4"));
    rtl_cmd store = {.op = RTL_OP_STORE, .a = 0, .n = 1, .x = 5};
    p.cmds[0] = store;
    assert_int_equal(rtl_program_execute(&p, &mem), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "command 0 addresses memory word 5 of 2"));
    rtl_mem_free(&mem);
    rtl_program_free(&p);
}

static void test_cycles_are_hw_timing(void **state)
{
    (void)state;
    for (int df = 0; df < HW_DATAFLOW_COUNT; df++) {
        rtl_hw hw = hw_make(3, 5, 8, 32, (hw_dataflow)df, 16);
        const int64_t oh = hw_timing_cmd_overhead_cycles();
        for (uint16_t t = 0; t < 20; t++)
            for (uint16_t kt_mt = 1; kt_mt <= 3; kt_mt++)
                for (uint16_t n_t = 1; n_t <= 5; n_t++) {
                    /* the tile's K_t (WS) or M_t (OS) and N_t set the cycles, not 3 x 5 */
                    rtl_cmd c = df == HW_DATAFLOW_WS
                                    ? rtl_cmd_compute_ws(0, 0, t, n_t, false, true, 0, kt_mt)
                                    : rtl_cmd_compute_os(0, 0, t, n_t, true, true, 0, kt_mt, false);
                    int64_t want = df == HW_DATAFLOW_WS
                                       ? oh + hw_timing_ws_preload_cycles(kt_mt) +
                                             hw_timing_ws_stream_cycles(kt_mt, n_t, t)
                                       : oh + hw_timing_os_stream_cycles(kt_mt, n_t, t) +
                                             hw_timing_os_drain_cycles(kt_mt);
                    assert_int_equal(rtl_cmd_cycles(&hw, &c), want);
                    /* by hand: WS 1 + (K_t + 1) + (t + K_t + N_t), OS 1 + (t + M_t + N_t - 1) + M_t
                     */
                    assert_int_equal(want, df == HW_DATAFLOW_WS ? 2 + t + 2 * kt_mt + n_t
                                                                : t + 2 * kt_mt + n_t);
                }
    }
}

/* The vector-unit commands' cycles are hw_timing's, and a compiled residual add costs what
 * hw_timing_add_layer_cycles says (ADD_CFG + ADDs, and the LD_W/STORE port cycles). */
static void test_add_pool_cycles(void **state)
{
    (void)state;
    rtl_hw hw = hw_make(2, 3, 8, 32, HW_DATAFLOW_WS, 16);
    for (uint16_t n = 0; n < 9; n++) {
        rtl_cmd add = rtl_cmd_add(0, 4, 0, n, true, 100);
        assert_int_equal(rtl_cmd_cycles(&hw, &add), hw_timing_add_cycles(n));
        assert_int_equal(hw_timing_add_cycles(n), 1 + 2 * n + 2);
        rtl_cmd rq = {.op = RTL_OP_REQUANT, .n = n};
        assert_int_equal(rtl_cmd_cycles(&hw, &rq), hw_timing_requant_cycles(n));
        rtl_cmd pool = {.op = RTL_OP_POOL, .n = 8, .t = 2, .x = 3u | 2u << 16 | 2u << 24};
        assert_int_equal(rtl_cmd_cycles(&hw, &pool), hw_timing_pool_cycles(6, 2));
    }
    rtl_cmd cfg = rtl_cmd_add_cfg(0x80000000u, 0x12345678u, 33);
    assert_int_equal(rtl_cmd_cycles(&hw, &cfg), hw_timing_cmd_overhead_cycles());
    assert_int_equal(cfg.a, 0x5678);
    assert_int_equal(cfg.b, 0x1234);
    assert_int_equal(cfg.n, 33);
    /* a 7-channel 5x5 add on 3 columns: 3 tiles x 25 pixels = 75 lines, chunks of 8 */
    nn_graph g;
    int32_t id;
    assert_int_equal(nn_graph_init(&g, "add", (nn_shape){7, 5, 5}, 2), TD_OK);
    assert_int_equal(nn_graph_add_add(&g, &id, 0, 0, "a"), TD_OK);
    rtl_net_weights nw;
    assert_int_equal(rtl_net_weights_random(&nw, &g, 8, 3), TD_OK);
    rtl_layer layers[2];
    int32_t nl;
    assert_int_equal(rtl_layers_from_graph(&g, nw.wt, layers, 2, &nl), TD_OK);
    rtl_program p;
    rtl_net_io io;
    assert_int_equal(rtl_program_init(&p, &hw), TD_OK);
    assert_int_equal(rtl_program_add_net(&p, layers, nl, g.input, &io), TD_OK);
    int64_t vec = 0, port = 0, adds = 0;
    for (size_t i = 0; i < p.n_cmds; i++) {
        const rtl_cmd *c = &p.cmds[i];
        if (c->op == RTL_OP_ADD || c->op == RTL_OP_ADD_CFG)
            vec += rtl_cmd_cycles(&hw, c);
        else
            port += hw_timing_port_cycles(c->n);
        adds += c->op == RTL_OP_ADD;
    }
    hw_timing_core core = {.rows = 2,
                           .cols = 3,
                           .dataflow = HW_DATAFLOW_WS,
                           .x_depth = 16,
                           .w_depth = 16,
                           .acc_depth = 16,
                           .out_depth = 16};
    hw_timing_add ta;
    hw_timing_add_layer_cycles(&core, 75, &ta);
    assert_int_equal(ta.chunks, 10);
    assert_int_equal(adds, ta.chunks);
    assert_int_equal(vec, ta.vector_cycles);
    assert_int_equal(port, ta.port_cycles);
    rtl_program_free(&p);
    rtl_net_weights_free(&nw);
    nn_graph_free(&g);
}

/* Compiles a case, runs the C model, compares every output with the reference. */
static void run_case(const rtl_hw *hw, const rtl_case *c)
{
    rtl_program p;
    assert_int_equal(rtl_program_init(&p, hw), TD_OK);
    rtl_gemm g = {.m = c->m,
                  .k = c->k,
                  .n = c->n,
                  .x = c->x,
                  .w = c->w,
                  .bias = c->bias,
                  .rq = c->rq,
                  .lo = c->lo,
                  .hi = c->hi};
    rtl_gemm_out out;
    assert_int_equal(rtl_program_add_gemm(&p, &g, &out), TD_OK);
    rtl_mem mem;
    assert_int_equal(rtl_mem_copy(&mem, &p.mem), TD_OK);
    td_status st = rtl_program_execute(&p, &mem);
    if (st != TD_OK)
        fail_msg("execute: %s", td_error_message());
    int32_t *y = calloc((size_t)(c->m * c->n), sizeof *y);
    assert_non_null(y);
    rtl_gemm_read(&p, &mem, &out, y);
    for (int64_t i = 0; i < c->m * c->n; i++)
        if (y[i] != c->y_ref[i])
            fail_msg("%dx%d b%d %s gemm %lldx%lldx%lld: y[%lld][%lld] = %d, reference %d", hw->rows,
                     hw->cols, hw->bits, hw->dataflow == HW_DATAFLOW_WS ? "WS" : "OS",
                     (long long)c->m, (long long)c->k, (long long)c->n, (long long)(i / c->n),
                     (long long)(i % c->n), y[i], c->y_ref[i]);
    free(y);
    rtl_mem_free(&mem);
    rtl_program_free(&p);
}

static void test_model_gemm_matrix(void **state)
{
    (void)state;
    td_rng rng;
    assert_int_equal(td_rng_init(&rng, 42), TD_OK);
    const int dims[] = {1, 2, 3, 8};
    const int bits[] = {4, 8, 16, 32};
    int64_t sat_lo = 0, sat_hi = 0;
    for (int df = 0; df < HW_DATAFLOW_COUNT; df++)
        for (size_t r = 0; r < 4; r++)
            for (size_t cc = 0; cc < 4; cc++)
                for (size_t b = 0; b < 4; b++) {
                    int acc = 2 * bits[b] + 12 > 96 ? 96 : 2 * bits[b] + 12;
                    rtl_hw hw = hw_make(dims[r], dims[cc], bits[b], acc, (hw_dataflow)df, 8);
                    if (hw.rows > 8)
                        continue;
                    rtl_case c;
                    int64_t m = td_rng_range(&rng, 1, 21), k = td_rng_range(&rng, 1, 19),
                            n = td_rng_range(&rng, 1, 13);
                    assert_int_equal(rtl_case_gemm(&c, &rng, bits[b], acc, m, k, n), TD_OK);
                    int64_t lo, hi;
                    rtl_case_saturation(&c, &lo, &hi);
                    sat_lo += lo;
                    sat_hi += hi;
                    run_case(&hw, &c);
                    rtl_case_free(&c);
                }
    assert_true(sat_lo > 0 && sat_hi > 0); /* both ends of the clamp were exercised */
    td_rng_free(&rng);
}

/* A GEMM with a max-pool fused after its REQUANTs (rtl_program_add_gemm with pool_k > 0):
 * outputs equal the pooled reference on both dataflows, with an output buffer that holds the
 * whole map (one band), a few pooled rows (bands) or not one pooled row (column strips). On OS
 * the X layout has one row range per band or strip segment, and its tiles start at each
 * range's first row (docs/formats.md, "X layout"). */
static void test_model_pooled_gemm(void **state)
{
    (void)state;
    td_rng rng;
    assert_int_equal(td_rng_init(&rng, 11), TD_OK);
    const int64_t mh = 7, mw = 9, K = 13, N = 5, M = mh * mw;
    const int32_t pk = 3, ps = 2;
    const int64_t ph = (mh - pk) / ps + 1, pw = (mw - pk) / ps + 1;
    const int64_t depths[] = {1024, 64, 16}; /* one band, bands, strips */
    for (int df = 0; df < HW_DATAFLOW_COUNT; df++)
        for (int d = 0; d < 3; d++) {
            rtl_hw hw = hw_make(3, 2, 8, 32, (hw_dataflow)df, 1024);
            hw.out_depth = depths[d];
            rtl_case c;
            assert_int_equal(rtl_case_gemm(&c, &rng, 8, 32, M, K, N), TD_OK);
            rtl_program p;
            assert_int_equal(rtl_program_init(&p, &hw), TD_OK);
            rtl_gemm g = {.m = M,
                          .k = K,
                          .n = N,
                          .x = c.x,
                          .w = c.w,
                          .bias = c.bias,
                          .rq = c.rq,
                          .lo = c.lo,
                          .hi = c.hi,
                          .pool_k = pk,
                          .pool_s = ps,
                          .map_h = mh,
                          .map_w = mw};
            rtl_gemm_out out;
            assert_int_equal(rtl_program_add_gemm(&p, &g, &out), TD_OK);
            assert_int_equal(out.m, ph * pw);
            rtl_gemm_plan plan = {.m = g.m, .k = g.k, .n = g.n, .lo = g.lo, .hi = g.hi};
            plan.pool_k = g.pool_k, plan.pool_s = g.pool_s;
            plan.map_h = g.map_h, plan.map_w = g.map_w;
            rtl_x_layout xl;
            assert_int_equal(rtl_x_layout_init(&xl, &hw, &plan), TD_OK);
            assert_int_equal(xl.lines, out.x_lines);
            if (df == HW_DATAFLOW_OS) {
                int64_t lines = 0, rows = 0;
                for (int64_t i = 0; i < xl.n_ranges; i++) {
                    const int64_t lo = xl.range[2 * i], hi = xl.range[2 * i + 1];
                    assert_true(0 <= lo && lo < hi && hi <= M);
                    lines += (hi - lo + 2) / 3 * K;
                    rows += hi - lo;
                }
                assert_int_equal(xl.lines, lines);
                /* one band covers the map; bands and strips recompute rows on their edges */
                if (d == 0)
                    assert_true(xl.n_ranges == 1 && rows == M);
                else
                    assert_true(xl.n_ranges > 1 && rows > M);
            } else {
                assert_int_equal(xl.lines, (K + 2) / 3 * M);
            }
            rtl_x_layout_free(&xl);
            rtl_mem mem;
            assert_int_equal(rtl_mem_copy(&mem, &p.mem), TD_OK);
            assert_int_equal(rtl_program_execute(&p, &mem), TD_OK);
            int32_t *y = malloc((size_t)(ph * pw * N) * sizeof *y);
            assert_non_null(y);
            rtl_gemm_read(&p, &mem, &out, y);
            for (int64_t oy = 0; oy < ph; oy++)
                for (int64_t ox = 0; ox < pw; ox++)
                    for (int64_t n = 0; n < N; n++) {
                        int32_t best = INT32_MIN;
                        for (int32_t ky = 0; ky < pk; ky++)
                            for (int32_t kx = 0; kx < pk; kx++) {
                                int32_t v = c.y_ref[((oy * ps + ky) * mw + ox * ps + kx) * N + n];
                                best = v > best ? v : best;
                            }
                        if (y[(oy * pw + ox) * N + n] != best)
                            fail_msg("%s out_depth %lld: pooled (%lld, %lld) column %lld is %d, "
                                     "want %d",
                                     df == HW_DATAFLOW_WS ? "WS" : "OS", (long long)depths[d],
                                     (long long)oy, (long long)ox, (long long)n,
                                     y[(oy * pw + ox) * N + n], best);
                    }
            free(y);
            rtl_mem_free(&mem);
            rtl_program_free(&p);
            rtl_case_free(&c);
        }
    td_rng_free(&rng);

    /* recorded ranges are checked: a range outside the GEMM, an im2col naming ranges the
     * program does not have */
    rtl_hw hw = hw_make(3, 2, 8, 32, HW_DATAFLOW_OS, 16);
    rtl_x_layout xl;
    const int64_t bad[] = {0, 10, 12, 11};
    assert_int_equal(rtl_x_layout_from_ranges(&xl, &hw, 20, 4, bad, 2), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "row range 1 [12, 11) is not within the GEMM's 20"));
    const int64_t good[] = {0, 10, 8, 20};
    assert_int_equal(rtl_x_layout_from_ranges(&xl, &hw, 20, 4, good, 2), TD_OK);
    assert_int_equal(xl.lines, (4 + 4) * 4); /* 10 rows: 4 tiles of 3; 12 rows: 4 */
    rtl_x_layout_free(&xl);
    rtl_program p;
    assert_int_equal(rtl_program_init(&p, &hw), TD_OK);
    int64_t base;
    assert_int_equal(rtl_mem_alloc(&p.mem, 64, &base), TD_OK);
    rtl_host_op im = {.kind = RTL_HOST_IM2COL,
                      .c = 1,
                      .h = 4,
                      .w = 4,
                      .k_h = 1,
                      .k_w = 1,
                      .stride = 1,
                      .xr_first = 0,
                      .xr_n = 2};
    assert_int_equal(rtl_host_op_execute(&p, &im, &p.mem), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "im2col step names X row ranges [0, 2) of 0"));
    rtl_program_free(&p);
}

static void test_model_conv(void **state)
{
    (void)state;
    td_rng rng;
    assert_int_equal(td_rng_init(&rng, 5), TD_OK);
    for (int df = 0; df < HW_DATAFLOW_COUNT; df++) {
        rtl_hw hw = hw_make(3, 2, 8, 32, (hw_dataflow)df, 16);
        rtl_case c;
        assert_int_equal(rtl_case_conv(&c, &rng, 8, 3, 7, 6, 5, 3, 2, 1), TD_OK);
        run_case(&hw, &c);
        rtl_case_free(&c);
        assert_int_equal(rtl_case_conv(&c, &rng, 8, 2, 5, 5, 3, 1, 1, 0), TD_OK);
        run_case(&hw, &c);
        rtl_case_free(&c);
    }
    td_rng_free(&rng);
}

/* The lowered network as nn_search's integer model (nn_qmodel: a fused max-pool is its own
 * qlayer), run by nn_qmodel_infer_ref: the reference independent of rtl_net's own loops.
 * Checks every layer's output against ref[] (rtl_net_reference). */
static void check_qmodel(const rtl_net_case *nc, int bits)
{
    nn_qmodel q = {.bits = bits, .input = nc->g.input};
    nn_qlayer *ql = calloc(2 * (size_t)nc->n_layers, sizeof *ql);
    int32_t *qi = calloc((size_t)nc->n_layers, sizeof *qi); /* rtl layer -> its last qlayer */
    nn_acc_t *bias_store[RTL_NET_MAX_LAYERS] = {0};
    assert_true(ql && qi);
    int32_t n = 0;
    for (int32_t i = 0; i < nc->n_layers; i++) {
        const rtl_layer *l = &nc->layers[i];
        nn_qlayer *x = &ql[n];
        x->in[0] = l->src[0] < 0 ? -1 : qi[l->src[0]];
        x->in[1] = l->op == RTL_LAYER_ADD ? (l->src[1] < 0 ? -1 : qi[l->src[1]]) : -1;
        x->in_shape = l->in;
        x->out_shape = l->conv_out;
        x->lo = l->wt.lo;
        x->hi = l->wt.hi;
        if (l->op == RTL_LAYER_CONV || l->op == RTL_LAYER_FC) {
            x->op = l->op == RTL_LAYER_CONV ? NN_QOP_CONV : NN_QOP_FC;
            x->k = l->op == RTL_LAYER_CONV ? l->k : 1;
            x->stride = l->stride;
            x->pad = l->pad;
            x->groups = l->op == RTL_LAYER_CONV ? l->groups : 1;
            x->out_channels = l->conv_out.c;
            x->w = (int32_t *)l->wt.w;
            bias_store[i] = calloc((size_t)x->out_channels, sizeof(nn_acc_t));
            assert_non_null(bias_store[i]);
            for (int64_t o = 0; l->wt.bias && o < x->out_channels; o++)
                bias_store[i][o] = l->wt.bias[o];
            x->bias = bias_store[i];
            x->rq = (nn_requant *)l->wt.rq;
        } else if (l->op == RTL_LAYER_GAP) {
            x->op = NN_QOP_GAP;
            x->rq_pool = (nn_requant *)&l->wt.pool_rq;
            x->n_rq_pool = 1;
        } else {
            x->op = NN_QOP_ADD;
            x->mult_a = l->wt.mult_a;
            x->mult_b = l->wt.mult_b;
            x->shift = l->wt.shift;
        }
        n++;
        if (l->pool_k) {
            nn_qlayer *mp = &ql[n];
            mp->op = NN_QOP_MAXPOOL;
            mp->in[0] = n - 1;
            mp->in[1] = -1;
            mp->in_shape = l->conv_out;
            mp->out_shape = l->out;
            mp->k = l->pool_k;
            mp->stride = l->pool_s;
            n++;
        }
        qi[i] = n - 1;
    }
    q.layers = ql;
    q.n_layers = n;
    int32_t **acts = calloc((size_t)n, sizeof *acts);
    assert_non_null(acts);
    for (int32_t i = 0; i < n; i++) {
        acts[i] = calloc((size_t)nn_qlayer_out_size(&ql[i]), sizeof **acts);
        assert_non_null(acts[i]);
    }
    nn_qmodel_infer_ref(&q, acts, nc->input);
    for (int32_t i = 0; i < nc->n_layers; i++) {
        const nn_shape o = nc->layers[i].out;
        for (int64_t e = 0; e < o.c * o.h * o.w; e++)
            if (acts[qi[i]][e] != nc->ref[i][e])
                fail_msg("layer %s: nn_qmodel_infer_ref %d, rtl_net_reference %d at %lld",
                         nc->layers[i].name, acts[qi[i]][e], nc->ref[i][e], (long long)e);
    }
    for (int32_t i = 0; i < n; i++)
        free(acts[i]);
    for (int32_t i = 0; i < RTL_NET_MAX_LAYERS; i++)
        free(bias_store[i]);
    free(acts);
    free(ql);
    free(qi);
}

/* A network through the compiler and the C model, every layer's output checked. */
static void run_net(const char *name, rtl_hw hw, uint64_t seed)
{
    td_rng rng;
    assert_int_equal(td_rng_init(&rng, seed), TD_OK);
    rtl_net_case nc;
    if (rtl_net_case_init(&nc, name, hw.bits, &rng) != TD_OK)
        fail_msg("net case: %s", td_error_message());
    check_qmodel(&nc, hw.bits);
    rtl_program p;
    assert_int_equal(rtl_program_init(&p, &hw), TD_OK);
    rtl_net_io io;
    if (rtl_program_add_net(&p, nc.layers, nc.n_layers, nc.g.input, &io) != TD_OK)
        fail_msg("compile: %s", td_error_message());
    rtl_mem mem;
    assert_int_equal(rtl_mem_copy(&mem, &p.mem), TD_OK);
    rtl_net_write_act(&p, &mem, io.input_addr, io.input, nc.input);
    if (rtl_program_execute(&p, &mem) != TD_OK)
        fail_msg("execute: %s", td_error_message());
    for (int32_t l = 0; l < nc.n_layers; l++) {
        nn_shape s = io.out_shape[l];
        int64_t n = s.c * s.h * s.w;
        int32_t *y = malloc((size_t)n * sizeof *y);
        assert_non_null(y);
        rtl_net_read_act(&p, &mem, io.out_addr[l], s, y);
        for (int64_t i = 0; i < n; i++)
            if (y[i] != nc.ref[l][i])
                fail_msg("%s layer %s: output %lld = %d, reference %d", name, nc.layers[l].name,
                         (long long)i, y[i], nc.ref[l][i]);
        free(y);
    }
    rtl_mem_free(&mem);
    rtl_program_free(&p);
    rtl_net_case_free(&nc);
    td_rng_free(&rng);
}

static void test_model_ref_cnn(void **state)
{
    (void)state;
    run_net("ref-cnn", hw_make(8, 8, 8, 32, HW_DATAFLOW_WS, 1024), 1);
    run_net("ref-cnn", hw_make(8, 8, 8, 32, HW_DATAFLOW_OS, 1024), 2);
    run_net("ref-cnn", hw_make(3, 5, 4, 24, HW_DATAFLOW_WS, 1024), 3);
    /* output buffers smaller than a map: the fused max-pool runs in bands of rows */
    rtl_hw small = hw_make(8, 8, 8, 32, HW_DATAFLOW_WS, 1024);
    small.out_depth = 128;
    run_net("ref-cnn", small, 4);
    small = hw_make(3, 2, 8, 32, HW_DATAFLOW_OS, 1024);
    small.out_depth = 100;
    run_net("ref-cnn", small, 5);
    /* not even 2 map rows of 28 pixels and 14 pooled ones: column strips (the default search's
     * finalist: 8x16 16-bit, out_depth 64) */
    small = hw_make(8, 16, 16, 48, HW_DATAFLOW_WS, 1024);
    small.out_depth = 64;
    run_net("ref-cnn", small, 6);
    small = hw_make(4, 3, 8, 32, HW_DATAFLOW_OS, 1024);
    small.out_depth = 16;
    run_net("ref-cnn", small, 7);
}

/* Networks of the default search space (depthwise-separable, MBConv with expansion, residual
 * adds, global average pool + fc): every op the search produces, on several cores. */
static void test_model_genome(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "ops:%d", i);
        run_net(name, hw_make(2, 3, 8, 32, HW_DATAFLOW_WS, 16), 10 + (uint64_t)i);
        run_net(name, hw_make(3, 2, 4, 16, HW_DATAFLOW_OS, 64), 20 + (uint64_t)i);
        run_net(name, hw_make(1, 1, 32, 96, HW_DATAFLOW_WS, 8), 30 + (uint64_t)i);
        run_net(name, hw_make(5, 3, 16, 48, HW_DATAFLOW_OS, 32), 40 + (uint64_t)i);
    }
    /* the GAP's all-ones reduction over 256 pixels at the narrowest accumulator it allows */
    run_net("ops:4", hw_make(2, 3, 4, 13, HW_DATAFLOW_WS, 16), 50);
    run_net("ops:4", hw_make(3, 2, 4, 13, HW_DATAFLOW_OS, 16), 51);
    rtl_hw edge = hw_make(8, 16, 8, 32, HW_DATAFLOW_WS, 1024); /* edge-8x16-int8's core */
    edge.x_depth = 2048;
    edge.acc_depth = 256;
    edge.out_depth = 256;
    run_net("genome:23", edge, 4);
    run_net("genome:23", hw_make(3, 5, 8, 32, HW_DATAFLOW_OS, 1024), 5);
    run_net("genome:60", hw_make(4, 4, 4, 24, HW_DATAFLOW_WS, 1024), 6);
    run_net("genome:8", hw_make(2, 3, 16, 48, HW_DATAFLOW_OS, 2048), 7);
    run_net("genome:14", hw_make(8, 8, 8, 32, HW_DATAFLOW_WS, 1024), 8);
}

static void test_net_errors(void **state)
{
    (void)state;
    nn_graph g;
    assert_int_equal(nn_builtin_graph(&g, "ref-cnn"), TD_OK);
    rtl_node_weights *wt = calloc(g.n_nodes, sizeof *wt);
    assert_non_null(wt);
    rtl_layer layers[8];
    int32_t n;
    assert_int_equal(rtl_layers_from_graph(&g, wt, layers, 8, &n), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "layer c1.conv: no quantized weights"));
    nn_graph_free(&g);
    /* an average pool is not compiled yet */
    nn_shape in = {2, 4, 4};
    assert_int_equal(nn_graph_init(&g, "t", in, 2), TD_OK);
    int32_t id;
    assert_int_equal(nn_graph_add_pool(&g, &id, 0, "ap", NN_OP_AVGPOOL, 2, 2, 0), TD_OK);
    assert_int_equal(rtl_layers_from_graph(&g, wt, layers, 8, &n), TD_ERR_UNSUPPORTED);
    assert_non_null(strstr(td_error_message(), "layer ap: avgpool is not compiled"));
    nn_graph_free(&g);
    free(wt);
    /* the fused max-pool needs at least one window and its pooled pixel in the output buffer
     * (a column strip one pooled pixel wide) */
    rtl_hw hw = hw_make(2, 2, 8, 32, HW_DATAFLOW_WS, 16);
    hw.out_depth = 4;
    rtl_program p;
    assert_int_equal(rtl_program_init(&p, &hw), TD_OK);
    rtl_gemm_plan plan = {.m = 20,
                          .k = 2,
                          .n = 2,
                          .lo = 0,
                          .hi = 127,
                          .pool_k = 2,
                          .pool_s = 2,
                          .map_h = 2,
                          .map_w = 10};
    assert_int_equal(rtl_program_emit_gemm(&p, &plan), TD_ERR_INFEASIBLE);
    assert_non_null(strstr(td_error_message(), "needs 2 map rows of 2 pixels and one pooled "
                                               "pixel in the output buffer (out_depth 4)"));
    rtl_program_free(&p);
}

/* The error paths of the new ops: every message names the layer. */
static void test_net_op_errors(void **state)
{
    (void)state;
    nn_graph g;
    int32_t c1, r, gap, add;
    assert_int_equal(nn_graph_init(&g, "t", (nn_shape){4, 4, 4}, 2), TD_OK);
    assert_int_equal(nn_graph_add_conv(&g, &c1, 0, "c1", 4, 3, 1, 1, 1, true), TD_OK);
    assert_int_equal(nn_graph_add_relu(&g, &r, c1, "r1", false), TD_OK);
    assert_int_equal(nn_graph_add_add(&g, &add, r, 0, "add"), TD_OK);
    assert_int_equal(nn_graph_add_global_avgpool(&g, &gap, add, "gap"), TD_OK);
    rtl_net_weights nw;
    assert_int_equal(rtl_net_weights_random(&nw, &g, 8, 5), TD_OK);
    rtl_layer layers[8];
    int32_t n;
    assert_int_equal(rtl_layers_from_graph(&g, nw.wt, layers, 8, &n), TD_OK);
    assert_int_equal(n, 3);
    assert_int_equal(layers[1].src[0], 0);
    assert_int_equal(layers[1].src[1], -1);
    /* missing parameters */
    rtl_node_weights keep = nw.wt[gap];
    nw.wt[gap].pool_rq.shift = 0;
    assert_int_equal(rtl_layers_from_graph(&g, nw.wt, layers, 8, &n), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "layer gap: no quantized pool requantization"));
    nw.wt[gap] = keep;
    keep = nw.wt[add];
    nw.wt[add].shift = 0;
    assert_int_equal(rtl_layers_from_graph(&g, nw.wt, layers, 8, &n), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "layer add: no quantized add multipliers"));
    nw.wt[add] = keep;
    g.nodes[add].n_inputs = 1;
    assert_int_equal(rtl_layers_from_graph(&g, nw.wt, layers, 8, &n), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "layer add: an add needs two inputs"));
    g.nodes[add].n_inputs = 2;
    g.nodes[c1].groups = 3;
    assert_int_equal(rtl_layers_from_graph(&g, nw.wt, layers, 8, &n), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "layer c1: 4 input and 4 output channels do not "
                                               "split into 3 groups"));
    g.nodes[c1].groups = 1;
    /* an activation whose producer has another consumer cannot be folded */
    g.nodes[add].inputs[1] = c1;
    assert_int_equal(rtl_layers_from_graph(&g, nw.wt, layers, 8, &n), TD_ERR_UNSUPPORTED);
    assert_non_null(strstr(td_error_message(), "layer r1: relu must directly follow a conv, fc "
                                               "or add (its only consumer)"));
    g.nodes[add].inputs[1] = 0;
    /* the add's requantization and clamps, at compile time */
    assert_int_equal(rtl_layers_from_graph(&g, nw.wt, layers, 8, &n), TD_OK);
    rtl_hw hw = hw_make(2, 2, 8, 32, HW_DATAFLOW_WS, 64);
    const struct {
        int32_t shift;
        int64_t lo, hi;
        const char *msg;
    } bad[] = {{127, -128, 127, "layer add: rtl add: shift 127 outside [1, 126]"},
               {20, -5, 127, "layer add: rtl add: lower clamp -5 is neither 0 nor -128"},
               {20, 0, 128, "layer add: rtl add: upper clamp 128 outside [0, 127]"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rtl_layer l2[3];
        memcpy(l2, layers, sizeof l2);
        l2[1].wt.shift = bad[i].shift;
        l2[1].wt.lo = bad[i].lo;
        l2[1].wt.hi = bad[i].hi;
        rtl_program p;
        rtl_net_io io;
        assert_int_equal(rtl_program_init(&p, &hw), TD_OK);
        assert_int_equal(rtl_program_add_net(&p, l2, 3, g.input, &io), TD_ERR_CONFIG);
        if (!strstr(td_error_message(), bad[i].msg))
            fail_msg("'%s' lacks '%s'", td_error_message(), bad[i].msg);
        rtl_program_free(&p);
    }
    /* a layer reading a later layer; an add of two different shapes */
    {
        rtl_layer l2[3];
        memcpy(l2, layers, sizeof l2);
        l2[1].src[1] = 2;
        rtl_program p;
        rtl_net_io io;
        assert_int_equal(rtl_program_init(&p, &hw), TD_OK);
        assert_int_equal(rtl_program_add_net(&p, l2, 3, g.input, &io), TD_ERR_CONFIG);
        assert_non_null(strstr(td_error_message(), "layer add: input 1 is layer 2, not an "
                                                   "earlier one"));
        l2[1].src[1] = -1;
        l2[0].out.c = 2;
        l2[0].conv_out.c = 2;
        assert_int_equal(rtl_program_add_net(&p, l2, 3, g.input, &io), TD_ERR_CONFIG);
        assert_non_null(strstr(td_error_message(), "layer add: input 4x4x4, its producer's "
                                                   "output 2x4x4"));
        rtl_program_free(&p);
    }
    /* host moves beyond the image; ADD with a zero shift in the C model */
    {
        rtl_program p;
        assert_int_equal(rtl_program_init(&p, &hw), TD_OK);
        int64_t base;
        assert_int_equal(rtl_mem_alloc(&p.mem, 4, &base), TD_OK);
        rtl_host_op tr = {.kind = RTL_HOST_TRANSPOSE, .src = 0, .dst = 3, .c = 2, .h = 2, .w = 1};
        assert_int_equal(rtl_host_op_execute(&p, &tr, &p.mem), TD_ERR_CONFIG);
        assert_non_null(strstr(td_error_message(), "transpose step reaches beyond memory word 4"));
        rtl_host_op sc = {
            .kind = RTL_HOST_SCATTER, .src = 0, .dst = 0, .c = 1, .h = 2, .w = 1, .c0 = 4};
        assert_int_equal(rtl_host_op_execute(&p, &sc, &p.mem), TD_ERR_CONFIG);
        assert_non_null(strstr(td_error_message(), "scatter step reaches beyond memory word 4"));
        assert_string_equal(rtl_host_kind_name(RTL_HOST_SCATTER), "scatter");
        assert_string_equal(rtl_host_kind_name(7), "?");
        rtl_cmd cfg = rtl_cmd_add_cfg(1u << 30, 1u << 30, 0);
        assert_int_equal(rtl_program_emit(&p, cfg), TD_OK);
        assert_int_equal(rtl_program_emit(&p, rtl_cmd_add(0, 1, 0, 1, false, 127)), TD_OK);
        rtl_mem mem;
        assert_int_equal(rtl_mem_copy(&mem, &p.mem), TD_OK);
        assert_int_equal(rtl_program_execute(&p, &mem), TD_ERR_CONFIG);
        assert_non_null(strstr(td_error_message(), "command 1 is ADD with shift 0"));
        rtl_mem_free(&mem);
        rtl_program_free(&p);
    }
    rtl_net_weights_free(&nw);
    nn_graph_free(&g);
}

static void test_bundle_errors(void **state)
{
    (void)state;
    nn_graph g;
    assert_int_equal(nn_builtin_graph(&g, "ref-cnn"), TD_OK);
    rtl_net_weights nw;
    assert_int_equal(rtl_net_weights_random(&nw, &g, 8, 1), TD_OK);
    rtl_hw hw = hw_make(4, 4, 8, 32, HW_DATAFLOW_WS, 1024);
    rtl_bundle_opts opts = {.clock_mhz = 0, .n_images = 1};
    assert_int_equal(rtl_gen_bundle("/tmp/unused", &hw, &g, nw.wt, &opts, NULL), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "clock_mhz must be > 0"));
    opts.clock_mhz = 100;
    opts.n_images = 0;
    assert_int_equal(rtl_gen_bundle("/tmp/unused", &hw, &g, nw.wt, &opts, NULL), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "n_images 0 outside [1, 64]"));
    opts.n_images = 1;
    int32_t *img = calloc(28 * 28, sizeof *img);
    assert_non_null(img);
    img[5] = 128;
    opts.images = img;
    assert_int_equal(rtl_gen_bundle("/tmp/unused", &hw, &g, nw.wt, &opts, NULL), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "image value 5 = 128 does not fit 8 bits"));
    img[5] = 0;
    assert_int_equal(rtl_gen_bundle("/proc/tandem-no/bundle", &hw, &g, nw.wt, &opts, NULL),
                     TD_ERR_IO);
    assert_non_null(strstr(td_error_message(), "/proc/tandem-no: cannot create directory"));
    hw.out_depth = 4; /* not even one 2x2 window of c1's map and its pooled pixel */
    assert_int_equal(rtl_gen_bundle("/tmp/unused", &hw, &g, nw.wt, &opts, NULL), TD_ERR_INFEASIBLE);
    assert_non_null(strstr(td_error_message(), "layer c1.conv: rtl gemm: the fused max-pool"));
    free(img);
    rtl_net_weights_free(&nw);
    nn_graph_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_roundtrip),     cmocka_unit_test(test_cmd_unpack_errors),
        cmocka_unit_test(test_hw_check_errors),   cmocka_unit_test(test_gemm_errors),
        cmocka_unit_test(test_execute_errors),    cmocka_unit_test(test_cycles_are_hw_timing),
        cmocka_unit_test(test_add_pool_cycles),   cmocka_unit_test(test_model_gemm_matrix),
        cmocka_unit_test(test_model_conv),        cmocka_unit_test(test_model_ref_cnn),
        cmocka_unit_test(test_model_pooled_gemm), cmocka_unit_test(test_model_genome),
        cmocka_unit_test(test_net_errors),        cmocka_unit_test(test_net_op_errors),
        cmocka_unit_test(test_bundle_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
