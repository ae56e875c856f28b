/* Random integer GEMM and convolution cases for the rtl tests (C model and Verilator
 * testbenches): odd shapes, negative values, extreme operands and requantization factors
 * chosen so that outputs saturate at both ends. The expected outputs come from the C integer
 * reference (nn_int_gemm_ref, nn_requantize). */
#ifndef RTL_TESTGEN_H
#define RTL_TESTGEN_H

#include "nn_intmath.h"
#include "rtl_net.h"
#include "td_rng.h"

#include <stdint.h>

typedef struct rtl_case {
    int64_t m, k, n;
    int32_t *x, *w; /* m x k, k x n */
    int64_t *bias;  /* n */
    nn_requant *rq; /* n */
    int64_t lo, hi;
    int32_t *y_ref; /* m x n, from nn_int_gemm_ref */
} rtl_case;

/* A random GEMM at `bits` whose accumulator needs at most acc_bits (k is reduced if not). */
td_status rtl_case_gemm(rtl_case *c, td_rng *rng, int bits, int acc_bits, int64_t m, int64_t k,
                        int64_t n);
/* A random convolution (c_in x h x w image, c_out filters of k x k, stride, pad), lowered to a
 * GEMM by im2col (docs/arithmetic.md section 6); y_ref comes from a direct convolution loop. */
td_status rtl_case_conv(rtl_case *c, td_rng *rng, int bits, int64_t c_in, int64_t h, int64_t w,
                        int64_t c_out, int64_t k, int64_t stride, int64_t pad);
void rtl_case_free(rtl_case *c);
/* Number of outputs equal to lo and to hi (to check that saturation is exercised). */
void rtl_case_saturation(const rtl_case *c, int64_t *n_lo, int64_t *n_hi);

/* A built-in network (nn_builtin_graph), "genome:SEED" (rtl_net_genome_graph) or "ops:N" (small
 * graphs of depthwise / grouped conv, residual adds and global average pools), with random
 * quantized weights at `bits`, a random input image, and every layer's expected output from
 * rtl_net_reference (direct loops, independent of the compiler's im2col and of the C model). */
typedef struct rtl_net_case {
    nn_graph g;
    rtl_net_weights nw;
    const rtl_node_weights *wt; /* nw.wt: per node */
    rtl_layer layers[RTL_NET_MAX_LAYERS];
    int32_t n_layers;
    int32_t *input;
    int32_t *ref[RTL_NET_MAX_LAYERS]; /* per layer, CHW */
} rtl_net_case;

td_status rtl_net_case_init(rtl_net_case *c, const char *builtin, int bits, td_rng *rng);
void rtl_net_case_free(rtl_net_case *c);

#endif
