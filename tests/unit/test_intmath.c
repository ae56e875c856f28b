/* The integer contract's worked examples (docs/arithmetic.md §5) and encoding rules. */
#include "nn_intmath.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void test_worked_examples(void **state)
{
    (void)state;
    nn_requant a = {1610612736u, 35}, b = {1073741824u, 33}, c = {1073741824u, 31};
    assert_int_equal(nn_requantize(1000, a, -128, 127), 47);
    assert_int_equal(nn_requantize(-200, b, -128, 127), -25);
    assert_int_equal(nn_requantize(-20, b, -128, 127), -2); /* -2.5 rounds half up */
    assert_int_equal(nn_requantize(-21, b, -128, 127), -3); /* -2.625 */
    assert_int_equal(nn_requantize(20, b, -128, 127), 3);   /* 2.5 */
    assert_int_equal(nn_requantize(100000, c, -128, 127), 127);
    assert_int_equal(nn_requantize(-100000, c, -128, 127), -128);
    assert_int_equal(nn_requantize(-100000, c, 0, 127), 0); /* ReLU as a clamp */
}

static void test_multiplier_encoding(void **state)
{
    (void)state;
    const double fs[] = {0.75 / 16, 1e-6, 0.5, 1.0, 3.7, 123.456, 1.0 / 3.0};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) {
        nn_requant r;
        assert_int_equal(nn_requant_from_real(fs[i], &r), TD_OK);
        assert_true(r.mult >= (1u << 30) && r.mult < (1u << 31));
        double back = nn_requant_to_real(r);
        assert_true(back / fs[i] > 1 - 1e-9 && back / fs[i] < 1 + 1e-9);
    }
    nn_requant z;
    assert_int_equal(nn_requant_from_real(0, &z), TD_OK);
    assert_int_equal(z.mult, 0);
    assert_int_equal(nn_requant_from_real(-1, &z), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "is not a finite value >= 0"));
    assert_int_equal(nn_requant_from_real(1e60, &z), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "cannot be encoded"));
}

static void test_ranges_and_acc_bits(void **state)
{
    (void)state;
    assert_int_equal(nn_qmin(8), -128);
    assert_int_equal(nn_qmax(8), 127);
    assert_int_equal(nn_qmax(4), 7);
    assert_true(nn_qmin(32) == -2147483648LL);
    /* b = 8, K = 9: 2*8-1 + 4 + 1 (bias) = 20 bits */
    assert_int_equal(nn_acc_bits_needed(8, 9), 20);
    assert_int_equal(nn_acc_bits_needed(8, 1), 16);
    /* Worst case really fits: K products of (-128)*(-127)... */
    int bits = nn_acc_bits_needed(4, 16);
    nn_acc_t worst = (nn_acc_t)16 * 8 * 7 + 127; /* |x|<=8, |w|<=7, plus a bias */
    assert_true(worst < ((nn_acc_t)1 << (bits - 1)));
}

static void test_gemm_reference(void **state)
{
    (void)state;
    /* 2x3 times 3x2 with bias and unit requantization (M = 2^30, S = 30). */
    const int32_t x[] = {1, -2, 3, 4, 5, -6};
    const int32_t w[] = {1, 2, 3, 4, 5, 6};
    const int64_t bias[] = {10, -10};
    nn_requant rq[2] = {{1u << 30, 30}, {1u << 30, 30}};
    int32_t y[4];
    nn_int_gemm_ref(y, x, w, bias, rq, -128, 127, 2, 3, 2);
    /* row0: 1*1-2*3+3*5=10 (+10=20), 1*2-2*4+3*6=12 (-10=2)
     * row1: 4+15-30=-11 (+10=-1), 8+20-36=-8 (-10=-18) */
    assert_int_equal(y[0], 20);
    assert_int_equal(y[1], 2);
    assert_int_equal(y[2], -1);
    assert_int_equal(y[3], -18);
    nn_requantize_add(3, 1u << 30, 4, 1u << 30, 30, -128, 127);
    assert_int_equal(nn_requantize_add(3, 1u << 30, 4, 1u << 30, 30, -128, 127), 7);
    assert_int_equal(nn_requantize_add(100, 1u << 30, 100, 1u << 30, 30, -128, 127), 127);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_examples),
        cmocka_unit_test(test_multiplier_encoding),
        cmocka_unit_test(test_ranges_and_acc_bits),
        cmocka_unit_test(test_gemm_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
