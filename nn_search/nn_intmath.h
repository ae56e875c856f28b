/* The integer arithmetic contract (docs/arithmetic.md) as plain C: the one reference every
 * other implementation (fast paths, SystemC twin, RTL) is compared against. */
#ifndef NN_INTMATH_H
#define NN_INTMATH_H

#include "td_status.h"

#include <stdbool.h>
#include <stdint.h>

typedef __int128 nn_acc_t; /* wide enough for every bit width the contract allows */

/* Requantization multiplier: the real factor f > 0 as M * 2^-S, M in [2^30, 2^31), S in
 * [1, 126]. f == 0 gives M = 0, S = 1. Fails (TD_ERR_RANGE-like config error) when f is
 * negative, not finite, or outside what S can encode. */
typedef struct nn_requant {
    uint32_t mult; /* M */
    int32_t shift; /* S */
} nn_requant;

td_status nn_requant_from_real(double f, nn_requant *out);
/* The real factor a (M, S) pair encodes (for reports and tests). */
double nn_requant_to_real(nn_requant r);

/* Signed range of a b-bit integer: qmin = -2^(b-1), qmax = 2^(b-1) - 1. */
int64_t nn_qmin(int bits);
int64_t nn_qmax(int bits);

/* floor((acc * M + 2^(S-1)) / 2^S) clamped to [lo, hi]: round half up, then saturation
 * and activation as one clamp. */
int64_t nn_requantize(nn_acc_t acc, nn_requant r, int64_t lo, int64_t hi);

/* Residual add: clamp((a*Ma + b*Mb + 2^(S-1)) >> S, lo, hi) with a shared shift S. */
int64_t nn_requantize_add(int64_t a, uint32_t mult_a, int64_t b, uint32_t mult_b, int32_t shift,
                          int64_t lo, int64_t hi);

/* Rounds half away from zero (used only when quantizing floats, never inside the datapath). */
int64_t nn_round_half_away(double x);

/* Accumulator bits a reduction of length k needs at bit width b (docs/arithmetic.md §2),
 * including one bit for a bias. */
int nn_acc_bits_needed(int bits, int64_t k);

/* Plain reference GEMM with requantization, row-major:
 *   Y[m][n] = requant_n( bias[n] + sum_k X[m][k] * W[k][n] ), clamped to [lo, hi].
 * bias may be NULL. X, W hold b-bit values in int32; Y gets int32. */
void nn_int_gemm_ref(int32_t *y, const int32_t *x, const int32_t *w, const int64_t *bias,
                     const nn_requant *rq, int64_t lo, int64_t hi, int64_t m, int64_t k,
                     int64_t n);

#endif
