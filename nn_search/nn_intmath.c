#include "nn_intmath.h"

#include <math.h>

td_status nn_requant_from_real(double f, nn_requant *out)
{
    if (!isfinite(f) || f < 0)
        return td_fail(TD_ERR_CONFIG, "requantization factor %g is not a finite value >= 0", f);
    if (f == 0) {
        out->mult = 0;
        out->shift = 1;
        return TD_OK;
    }
    int e;
    double mant = frexp(f, &e); /* f = mant * 2^e, mant in [0.5, 1) */
    int64_t m = (int64_t)llround(mant * 2147483648.0); /* 2^31 */
    int shift = 31 - e;
    if (m == (int64_t)1 << 31) {
        m >>= 1;
        shift--;
    }
    if (shift < 1 || shift > 126)
        return td_fail(TD_ERR_CONFIG,
                       "requantization factor %g cannot be encoded (shift %d outside [1, 126])",
                       f, shift);
    out->mult = (uint32_t)m;
    out->shift = shift;
    return TD_OK;
}

double nn_requant_to_real(nn_requant r)
{
    return ldexp((double)r.mult, -r.shift);
}

int64_t nn_qmin(int bits)
{
    return -((int64_t)1 << (bits - 1));
}

int64_t nn_qmax(int bits)
{
    return ((int64_t)1 << (bits - 1)) - 1;
}

static int64_t clamp_acc(nn_acc_t v, int64_t lo, int64_t hi)
{
    if (v < (nn_acc_t)lo)
        return lo;
    if (v > (nn_acc_t)hi)
        return hi;
    return (int64_t)v;
}

int64_t nn_requantize(nn_acc_t acc, nn_requant r, int64_t lo, int64_t hi)
{
    /* |acc| < 2^95 and M < 2^31 keep the product inside 127 bits. */
    nn_acc_t prod = acc * (nn_acc_t)r.mult;
    nn_acc_t rounded = (prod + ((nn_acc_t)1 << (r.shift - 1))) >> r.shift;
    return clamp_acc(rounded, lo, hi);
}

int64_t nn_requantize_add(int64_t a, uint32_t mult_a, int64_t b, uint32_t mult_b, int32_t shift,
                          int64_t lo, int64_t hi)
{
    nn_acc_t sum = (nn_acc_t)a * mult_a + (nn_acc_t)b * mult_b;
    nn_acc_t rounded = (sum + ((nn_acc_t)1 << (shift - 1))) >> shift;
    return clamp_acc(rounded, lo, hi);
}

int64_t nn_round_half_away(double x)
{
    return (int64_t)llround(x);
}

int nn_acc_bits_needed(int bits, int64_t k)
{
    int log2k = 0;
    while (((int64_t)1 << log2k) < k)
        log2k++;
    return 2 * bits - 1 + log2k + 1;
}

void nn_int_gemm_ref(int32_t *y, const int32_t *x, const int32_t *w, const int64_t *bias,
                     const nn_requant *rq, int64_t lo, int64_t hi, int64_t m, int64_t k,
                     int64_t n)
{
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            nn_acc_t acc = bias ? bias[j] : 0;
            for (int64_t p = 0; p < k; p++)
                acc += (nn_acc_t)x[i * k + p] * w[p * n + j];
            y[i * n + j] = (int32_t)nn_requantize(acc, rq[j], lo, hi);
        }
    }
}
