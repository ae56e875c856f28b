/* Post-training quantization to the integer contract (docs/arithmetic.md) at 4, 8, 16 or 32
 * bits, and the integer reference inference: pure C, exact, what the accelerator computes.
 *
 * Lowering of a float graph to integer layers (docs/quantization.md):
 *   conv [+ batchnorm (folded)] [+ relu/relu6 (clamp)]  -> NN_QOP_CONV
 *   fc [+ relu/relu6]                                    -> NN_QOP_FC
 *   add [+ relu/relu6]                                   -> NN_QOP_ADD
 *   maxpool / avgpool / global avgpool / lone relu       -> NN_QOP_MAXPOOL / AVGPOOL / GAP / RELU
 * A batch norm that does not directly follow a conv cannot be folded: quantization fails
 * naming the layer. */
#ifndef NN_QUANT_H
#define NN_QUANT_H

#include "nn_data.h"
#include "nn_graph.h"
#include "nn_intmath.h"
#include "nn_train.h"
#include "td_status.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum nn_qop {
    NN_QOP_CONV = 0,
    NN_QOP_FC,
    NN_QOP_MAXPOOL,
    NN_QOP_AVGPOOL,
    NN_QOP_GAP,
    NN_QOP_ADD,
    NN_QOP_RELU,
    NN_QOP_COUNT
} nn_qop;

const char *nn_qop_name(nn_qop op);

typedef struct nn_qlayer {
    nn_qop op;
    char name[NN_NAME_MAX]; /* name of the graph node it starts from (conv, fc, add, pool) */
    int32_t node;           /* graph node whose output it produces (last of the fused group) */
    int32_t in[2];          /* producing qlayer indices; -1 = the network input */
    nn_shape in_shape, out_shape;
    int32_t k, stride, pad, groups; /* conv / pools (fc: k = 1) */
    int64_t out_channels;
    double s_in, s_in2, s_out; /* activation scales (s_in2: second add operand) */
    /* conv/fc: w [oc][K] (K = (C_in/groups)*k*k in im2col order, or C*H*W for fc), b-bit
     * signed in [-qmax, qmax]; bias [oc] in the accumulator domain; s_w [oc]; rq [oc] */
    int32_t *w;
    nn_acc_t *bias;
    double *s_w;
    nn_requant *rq;
    /* avgpool: rq_pool[n - 1] encodes s_in / (n * s_out) for a window of n cells
     * (n = 1..k*k, padding excluded); gap: rq_pool[0] for n = H*W */
    nn_requant *rq_pool;
    int32_t n_rq_pool;
    /* add: y = clamp((a*mult_a + b*mult_b + 2^(shift-1)) >> shift, lo, hi) */
    uint32_t mult_a, mult_b;
    int32_t shift;
    int64_t lo, hi; /* output clamp (saturation and activation) */
} nn_qlayer;

typedef struct nn_qmodel {
    int bits;
    nn_shape input;
    int64_t classes;
    double s_input; /* x_q = clamp(round_half_away(x / s_input), qmin, qmax) */
    nn_qlayer *layers;
    int32_t n_layers;
    int acc_bits; /* accumulator bits the widest reduction needs (docs/arithmetic.md §2) */
} nn_qmodel;

/* Bit widths the contract allows. */
bool nn_bits_valid(int bits);

/* Calibrates activation scales on the first n_calib images of calib (training images, never
 * test images) and quantizes the network at `bits`. */
td_status nn_quantize(nn_qmodel *q, nn_net *net, const nn_dataset *calib, const nn_norm *norm,
                      int64_t n_calib, int bits);
void nn_qmodel_free(nn_qmodel *q);
/* Deep copy. */
td_status nn_qmodel_copy(nn_qmodel *dst, const nn_qmodel *src);

/* Elements of one image's output of qlayer i. */
int64_t nn_qlayer_out_size(const nn_qlayer *l);

/* Quantizes n normalized float images (the host step). */
void nn_qmodel_quantize_input(const nn_qmodel *q, int32_t *x_q, const float *x, int64_t n);

/* Integer reference inference of one image: acts[i] receives qlayer i's output (caller
 * allocates nn_qlayer_out_size each); the last is the integer logits. Plain loops,
 * accumulators int64_t (bits <= 16) or __int128 (bits = 32). */
void nn_qmodel_infer_ref(const nn_qmodel *q, int32_t *const *acts, const int32_t *x_q);
/* Fast path with the same results bit for bit: conv/fc as exact dgemm on integer-valued
 * doubles when every partial sum stays below 2^53 (bits <= 16), else the reference. */
void nn_qmodel_infer_fast(const nn_qmodel *q, int32_t *const *acts, const int32_t *x_q);

/* Integer accuracy on the first n images of ds (n <= 0: all), OpenMP over images. */
td_status nn_qmodel_evaluate(const nn_qmodel *q, const nn_dataset *ds, const nn_norm *norm,
                             int64_t n, bool fast, int threads, double *accuracy);

/* Requantization of a residual add: multipliers for fa = s_a/s_y and fb = s_b/s_y with one
 * shift, the larger multiplier normalised to [2^30, 2^31) (docs/quantization.md). */
td_status nn_requant_add_from_real(double fa, double fb, uint32_t *ma, uint32_t *mb,
                                   int32_t *shift);

#endif
