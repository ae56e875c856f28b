/* The analytical model's array cycles against the RTL's own program compiler
 * (rtl_templates/rtl_program.h): for a GEMM, hw_model's compute cycles must equal the sum of
 * rtl_cmd_cycles over the array commands the compiler emits, and hw_model's port and
 * requantization cycles the sum over the compiler's loads, stores (hw_timing_port_cycles: the
 * ideal-memory cost rtl_cmd_cycles leaves to the memory) and REQUANTs, for the RTL core built
 * from the config as the sim builds it (whole L1 buffers, hw_timing_l1_lines; docs/models.md
 * §3). */
#include "hw_eval.h"
#include "hw_space.h"
#include "hw_timing.h"
#include "rtl_program.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Sum of the array commands' cycles (PRELOAD, COMPUTE, DRAIN) of a program. */
static int64_t array_cycles(const rtl_program *p)
{
    int64_t s = 0;
    for (size_t i = 0; i < p->n_cmds; i++) {
        int op = p->cmds[i].op;
        if (op == RTL_OP_PRELOAD || op == RTL_OP_COMPUTE || op == RTL_OP_DRAIN)
            s += rtl_cmd_cycles(&p->hw, &p->cmds[i]);
    }
    return s;
}

/* Sum of the memory-port commands' cycles on an ideal memory, and of the REQUANTs. */
static int64_t port_cycles(const rtl_program *p)
{
    int64_t s = 0;
    for (size_t i = 0; i < p->n_cmds; i++) {
        int op = p->cmds[i].op;
        if (op == RTL_OP_LD_X || op == RTL_OP_LD_W || op == RTL_OP_LD_P || op == RTL_OP_STORE)
            s += hw_timing_port_cycles(p->cmds[i].n);
    }
    return s;
}

static int64_t requant_cycles(const rtl_program *p)
{
    int64_t s = 0;
    for (size_t i = 0; i < p->n_cmds; i++)
        if (p->cmds[i].op == RTL_OP_REQUANT)
            s += rtl_cmd_cycles(&p->hw, &p->cmds[i]);
    return s;
}

typedef struct cyc3 {
    int64_t compute, port, requant;
} cyc3;

/* hw_model's cycles of GEMM M x K x N (as a 1x1 conv over a 1 x M "image"). */
static cyc3 model_cycles(const hw_config *c, int64_t m, int64_t k, int64_t n)
{
    nn_graph g;
    nn_shape in = {k, 1, m};
    int32_t x = 0;
    assert_int_equal(nn_graph_init(&g, "gemm", in, 10), TD_OK);
    assert_int_equal(nn_graph_add_conv(&g, &x, x, "gemm", n, 1, 1, 0, 1, false), TD_OK);
    hw_result r;
    assert_int_equal(hw_result_init(&r, g.n_nodes), TD_OK);
    assert_int_equal(hw_evaluate(&g, c, &r), TD_OK);
    assert_int_equal(r.layers[1].gemm_m, m);
    assert_int_equal(r.layers[1].gemm_k, k);
    assert_int_equal(r.layers[1].gemm_n, n);
    cyc3 cyc = {r.layers[1].compute_cycles,
                r.layers[1].port_cycles - hw_timing_program_start_cycles(),
                r.layers[1].vector_cycles};
    hw_result_free(&r);
    nn_graph_free(&g);
    return cyc;
}

static cyc3 rtl_cycles(const hw_config *c, int64_t m, int64_t k, int64_t n)
{
    rtl_hw h;
    td_status st = rtl_hw_from_config(c, &h);
    rtl_program p;
    if (st == TD_OK)
        st = rtl_program_init(&p, &h);
    if (st != TD_OK)
        fprintf(stderr, "%s\n", td_error_message());
    assert_int_equal(st, TD_OK);
    int32_t *x = calloc((size_t)(m * k), sizeof *x), *w = calloc((size_t)(k * n), sizeof *w);
    nn_requant *rq = calloc((size_t)n, sizeof *rq);
    assert_non_null(x);
    assert_non_null(w);
    assert_non_null(rq);
    for (int64_t i = 0; i < n; i++)
        assert_int_equal(nn_requant_from_real(0.01, &rq[i]), TD_OK);
    rtl_gemm g = {.m = m,
                  .k = k,
                  .n = n,
                  .x = x,
                  .w = w,
                  .rq = rq,
                  .lo = -(1LL << (c->bits - 1)),
                  .hi = (1LL << (c->bits - 1)) - 1};
    rtl_gemm_out out;
    st = rtl_program_add_gemm(&p, &g, &out);
    if (st != TD_OK)
        fprintf(stderr, "%s\n", td_error_message());
    assert_int_equal(st, TD_OK);
    cyc3 cyc = {array_cycles(&p), port_cycles(&p), requant_cycles(&p)};
    rtl_program_free(&p);
    free(x);
    free(w);
    free(rq);
    return cyc;
}

static void check(const hw_config *c, int64_t m, int64_t k, int64_t n)
{
    cyc3 a = model_cycles(c, m, k, n), b = rtl_cycles(c, m, k, n);
    if (a.compute != b.compute || a.port != b.port || a.requant != b.requant)
        fprintf(
            stderr,
            "%dx%d %s %d-bit acc %d L1 %d/%d/%d KiB, GEMM %lldx%lldx%lld: model %lld/%lld/%lld, "
            "rtl %lld/%lld/%lld (compute/port/requant)\n",
            c->rows, c->cols, hw_dataflow_name(c->dataflow), c->bits, c->acc_bits, c->l1_input_kib,
            c->l1_weight_kib, c->l1_acc_kib, (long long)m, (long long)k, (long long)n,
            (long long)a.compute, (long long)a.port, (long long)a.requant, (long long)b.compute,
            (long long)b.port, (long long)b.requant);
    assert_int_equal(a.compute, b.compute);
    assert_int_equal(a.port, b.port);
    assert_int_equal(a.requant, b.requant);
}

static void test_hand_cases(void **state)
{
    (void)state;
    hw_config c;
    assert_int_equal(hw_preset("gemmini-16x16-int8", &c), TD_OK);
    check(&c, 4, 8, 8);     /* one tile */
    check(&c, 64, 288, 40); /* many folds */
    c.l1_acc_kib = 3;       /* 48 lines -> 32: M split into 32 + 32 + 17 */
    check(&c, 81, 288, 40);
    c.l1_acc_kib = 1; /* 16 lines */
    check(&c, 64, 288, 40);
    assert_int_equal(hw_preset("gemmini-16x16-int8", &c), TD_OK);
    c.dataflow = HW_DATAFLOW_OS;
    check(&c, 4, 8, 8);
    check(&c, 64, 288, 40);
    c.l1_input_kib = 1; /* K streamed in chunks of 64 (4 x 64 + 32) */
    check(&c, 64, 288, 40);
}

static void test_random(void **state)
{
    (void)state;
    hw_space s;
    assert_int_equal(hw_space_default(&s), TD_OK);
    td_rng rng;
    assert_int_equal(td_rng_init(&rng, 7), TD_OK);
    int done = 0;
    for (int it = 0; it < 2000 && done < 300; it++) {
        hw_config c;
        hw_space_sample(&s, &rng, &c, NULL);
        c.acc_bits = 2 * c.bits + 16 > 96 ? 96 : 2 * c.bits + 16; /* legal for the RTL */
        if (c.bits == 32)
            c.acc_bits = 80;
        rtl_hw h;
        if (rtl_hw_from_config(&c, &h) != TD_OK)
            continue; /* a point the RTL cannot build (e.g. buffer too shallow) */
        int64_t m = td_rng_range(&rng, 1, 200), k = td_rng_range(&rng, 1, 300);
        int64_t n = td_rng_range(&rng, 1, 150);
        check(&c, m, k, n);
        done++;
    }
    assert_true(done >= 100);
    td_rng_free(&rng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_cases),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
