/* Layer kernels of the training engine: NCHW tensors, `<layer>_forward` / `<layer>_backward`
 * pairs, outputs first, then inputs, then dimensions; gradients are prefixed `d`.
 *
 * Every kernel has a plain reference loop implementation (`*_ref`, in float and, for the
 * gradient checks, in double: `*_ref_f64`). Fast paths (im2col + OpenBLAS sgemm, direct
 * depthwise loops, OpenMP over images) sit beside them and are tested against them
 * (tests/nn/test_nn_layers.c).
 *
 * Gradient conventions, shared by every backward kernel:
 *   - parameter gradients (dw, db, dgamma, dbeta) are OVERWRITTEN;
 *   - input gradients (dx) are ACCUMULATED (dx += ...), so that a tensor that feeds several
 *     layers (residual connections) sums their contributions; dx may be NULL (not needed).
 * Multi-threaded kernels take `threads` and split work statically, and reduce per-thread
 * partial sums in thread order: results are deterministic for a given thread count. */
#ifndef NN_LAYERS_H
#define NN_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nn_conv_dims {
    int64_t n, c, h, w; /* input: batch, channels, height, width */
    int64_t oc, oh, ow; /* output channels and size */
    int32_t k, stride, pad, groups;
} nn_conv_dims;

/* Fills the output size from the input and the window. Weight layout: [oc][c/groups][k][k]. */
nn_conv_dims nn_conv_dims_make(int64_t n, int64_t c, int64_t h, int64_t w, int64_t oc, int32_t k,
                               int32_t stride, int32_t pad, int32_t groups);
/* Floats of scratch memory nn_conv_forward / nn_conv_backward need for `threads` threads. */
size_t nn_conv_work_floats(const nn_conv_dims *d, int threads);

/* ---- reference kernels (plain loops), float ---- */

/* y[n][oc][oh][ow] = b[oc] + sum w[oc][ci][ky][kx] * x[n][g*cg+ci][oy*s-p+ky][ox*s-p+kx];
 * b may be NULL. */
void nn_conv_forward_ref(float *y, const float *x, const float *w, const float *b,
                         const nn_conv_dims *d);
/* dw [oc][c/g][k][k], db [oc] (may be NULL), dx [n][c][h][w] += */
void nn_conv_backward_ref(float *dx, float *dw, float *db, const float *dy, const float *x,
                          const float *w, const nn_conv_dims *d);
/* Batch norm in training mode, x/y [n][c][hw]: batch statistics; mean and invstd [c] are
 * saved for the backward pass; running_mean/var [c] are updated with `momentum` (unbiased
 * variance) when non-NULL. */
void nn_bn_forward_train_ref(float *y, float *mean, float *invstd, float *running_mean,
                             float *running_var, const float *x, const float *gamma,
                             const float *beta, int64_t n, int64_t c, int64_t hw, float momentum,
                             float eps);
/* Batch norm in inference mode with running statistics. */
void nn_bn_forward_eval_ref(float *y, const float *x, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, int64_t n,
                            int64_t c, int64_t hw, float eps);
void nn_bn_backward_ref(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                        const float *mean, const float *invstd, const float *gamma, int64_t n,
                        int64_t c, int64_t hw);
/* ReLU (cap = 0) or ReLU6 (cap = 6) over count values. */
void nn_relu_forward_ref(float *y, const float *x, int64_t count, float cap);
void nn_relu_backward_ref(float *dx, const float *dy, const float *x, int64_t count, float cap);
/* Max pool, x [n][c][h][w] -> y [n][c][oh][ow]; argmax [n][c][oh][ow] holds the index of
 * the chosen input inside its plane (padding is never chosen). */
void nn_maxpool_forward_ref(float *y, int32_t *argmax, const float *x, int64_t n, int64_t c,
                            int64_t h, int64_t w, int32_t k, int32_t stride, int32_t pad);
void nn_maxpool_backward_ref(float *dx, const float *dy, const int32_t *argmax, int64_t n,
                             int64_t c, int64_t h, int64_t w, int64_t oh, int64_t ow);
/* Average pool; padding cells are excluded from the count. Global average pool is
 * k = h = w (square inputs) or use nn_gap_*. */
void nn_avgpool_forward_ref(float *y, const float *x, int64_t n, int64_t c, int64_t h, int64_t w,
                            int32_t k, int32_t stride, int32_t pad);
void nn_avgpool_backward_ref(float *dx, const float *dy, int64_t n, int64_t c, int64_t h, int64_t w,
                             int32_t k, int32_t stride, int32_t pad);
void nn_gap_forward_ref(float *y, const float *x, int64_t n, int64_t c, int64_t hw);
void nn_gap_backward_ref(float *dx, const float *dy, int64_t n, int64_t c, int64_t hw);
/* Fully connected: x [n][k] (flattened), w [o][k], b [o] (may be NULL), y [n][o]. */
void nn_fc_forward_ref(float *y, const float *x, const float *w, const float *b, int64_t n,
                       int64_t k, int64_t o);
void nn_fc_backward_ref(float *dx, float *dw, float *db, const float *dy, const float *x,
                        const float *w, int64_t n, int64_t k, int64_t o);
/* Residual add y = a + b; backward accumulates dy into both da and db. */
void nn_add_forward_ref(float *y, const float *a, const float *b, int64_t count);
void nn_add_backward_ref(float *da, float *db, const float *dy, int64_t count);
/* Mean softmax cross-entropy over n rows of `classes` logits; dlogits (may be NULL) is
 * OVERWRITTEN with d(mean loss)/d(logits); *correct (may be NULL) counts argmax hits. */
double nn_softmax_xent_ref(float *dlogits, int64_t *correct, const float *logits,
                           const int32_t *labels, int64_t n, int64_t classes);

/* ---- the same reference kernels in double precision (gradient checks) ---- */
void nn_conv_forward_ref_f64(double *y, const double *x, const double *w, const double *b,
                             const nn_conv_dims *d);
void nn_conv_backward_ref_f64(double *dx, double *dw, double *db, const double *dy, const double *x,
                              const double *w, const nn_conv_dims *d);
void nn_bn_forward_train_ref_f64(double *y, double *mean, double *invstd, double *running_mean,
                                 double *running_var, const double *x, const double *gamma,
                                 const double *beta, int64_t n, int64_t c, int64_t hw,
                                 double momentum, double eps);
void nn_bn_backward_ref_f64(double *dx, double *dgamma, double *dbeta, const double *dy,
                            const double *x, const double *mean, const double *invstd,
                            const double *gamma, int64_t n, int64_t c, int64_t hw);
void nn_relu_forward_ref_f64(double *y, const double *x, int64_t count, double cap);
void nn_relu_backward_ref_f64(double *dx, const double *dy, const double *x, int64_t count,
                              double cap);
void nn_maxpool_forward_ref_f64(double *y, int32_t *argmax, const double *x, int64_t n, int64_t c,
                                int64_t h, int64_t w, int32_t k, int32_t stride, int32_t pad);
void nn_maxpool_backward_ref_f64(double *dx, const double *dy, const int32_t *argmax, int64_t n,
                                 int64_t c, int64_t h, int64_t w, int64_t oh, int64_t ow);
void nn_avgpool_forward_ref_f64(double *y, const double *x, int64_t n, int64_t c, int64_t h,
                                int64_t w, int32_t k, int32_t stride, int32_t pad);
void nn_avgpool_backward_ref_f64(double *dx, const double *dy, int64_t n, int64_t c, int64_t h,
                                 int64_t w, int32_t k, int32_t stride, int32_t pad);
void nn_gap_forward_ref_f64(double *y, const double *x, int64_t n, int64_t c, int64_t hw);
void nn_gap_backward_ref_f64(double *dx, const double *dy, int64_t n, int64_t c, int64_t hw);
void nn_fc_forward_ref_f64(double *y, const double *x, const double *w, const double *b, int64_t n,
                           int64_t k, int64_t o);
void nn_fc_backward_ref_f64(double *dx, double *dw, double *db, const double *dy, const double *x,
                            const double *w, int64_t n, int64_t k, int64_t o);
void nn_add_forward_ref_f64(double *y, const double *a, const double *b, int64_t count);
void nn_add_backward_ref_f64(double *da, double *db, const double *dy, int64_t count);
double nn_softmax_xent_ref_f64(double *dlogits, int64_t *correct, const double *logits,
                               const int32_t *labels, int64_t n, int64_t classes);

/* ---- fast paths (float): same contracts as the reference kernels ---- */

/* im2col + sgemm per image and group (1x1 stride-1 convs skip im2col; depthwise convs use
 * direct loops); OpenMP over images. work: nn_conv_work_floats(d, threads) floats. */
void nn_conv_forward(float *y, const float *x, const float *w, const float *b, float *work,
                     int threads, const nn_conv_dims *d);
void nn_conv_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                      const float *w, float *work, int threads, const nn_conv_dims *d);
/* sgemm. */
void nn_fc_forward(float *y, const float *x, const float *w, const float *b, int64_t n, int64_t k,
                   int64_t o);
void nn_fc_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                    const float *w, int64_t n, int64_t k, int64_t o);
/* Batch norm with OpenMP over channels (same arithmetic as the reference per channel). */
void nn_bn_forward_train(float *y, float *mean, float *invstd, float *running_mean,
                         float *running_var, const float *x, const float *gamma, const float *beta,
                         int64_t n, int64_t c, int64_t hw, float momentum, float eps, int threads);
void nn_bn_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                    const float *mean, const float *invstd, const float *gamma, int64_t n,
                    int64_t c, int64_t hw, int threads);

/* Elementwise and pooling fast paths (vectorisable loops; the max pool specialises 2x2/2
 * without padding and otherwise calls the reference; global average pool sums in SIMD
 * lanes). */
void nn_relu_forward(float *y, const float *x, int64_t count, float cap);
void nn_relu_backward(float *dx, const float *dy, const float *x, int64_t count, float cap);
void nn_maxpool_forward(float *y, int32_t *argmax, const float *x, int64_t n, int64_t c, int64_t h,
                        int64_t w, int32_t k, int32_t stride, int32_t pad);
void nn_gap_forward(float *y, const float *x, int64_t n, int64_t c, int64_t hw);

/* im2col of one image and one group: col [cg*k*k][oh*ow] from x [cg][h][w] (zeros for
 * padding); col2im adds col back into dx. */
void nn_im2col(float *col, const float *x, int64_t cg, int64_t h, int64_t w, int32_t k,
               int32_t stride, int32_t pad, int64_t oh, int64_t ow);
void nn_col2im_add(float *dx, const float *col, int64_t cg, int64_t h, int64_t w, int32_t k,
                   int32_t stride, int32_t pad, int64_t oh, int64_t ow);

#endif
