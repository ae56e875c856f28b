/* Training engine: a network instance (nn_net) built from a layer graph, its parameters,
 * gradients, optimizer state and activations in one td_arena, trained by minibatch SGD
 * (momentum / Nesterov, weight decay) or AdamW with a cosine learning-rate schedule and a
 * linear warm-up.
 *
 * Backend interface: every computation the engine does on tensors goes through a
 * `nn_backend`, a table of function pointers (layer forward/backward pairs, optimizer steps,
 * memory). The CPU backend (nn_backend_cpu) implements it on OpenBLAS + OpenMP with the
 * kernels of nn_layers.h. A CUDA backend implements the same table on device memory:
 * buffers come from `alloc` and host data crosses only through `upload`/`download`, so
 * the engine never dereferences a tensor pointer itself except through those two calls.
 * nn_backend_get(NN_DEVICE_CUDA) fails with TD_ERR_UNSUPPORTED while none is built. */
#ifndef NN_TRAIN_H
#define NN_TRAIN_H

#include "nn_data.h"
#include "nn_graph.h"
#include "nn_layers.h"
#include "td_arena.h"
#include "td_status.h"

#include <stdbool.h>
#include <stdint.h>

/* Batch-norm constants (the usual PyTorch defaults); quantization folds with the same eps. */
#define NN_BN_EPS 1e-5f
#define NN_BN_MOMENTUM 0.1f

typedef enum nn_device { NN_DEVICE_CPU = 0, NN_DEVICE_CUDA, NN_DEVICE_COUNT } nn_device;

typedef struct nn_backend {
    const char *name;
    /* memory: n floats (zeroed) owned by the network's arena or the device; copies */
    float *(*alloc)(void *ctx, size_t n);
    void (*upload)(float *dst_dev, const float *src_host, size_t n);
    void (*download)(float *dst_host, const float *src_dev, size_t n);
    void (*zero)(float *dev, size_t n);
    /* floats of the `work` buffer conv_forward/conv_backward need for a layer at `threads`
     * (the engine allocates the largest over all layers with alloc); NULL: the CPU's
     * nn_conv_work_floats */
    size_t (*conv_work_floats)(const nn_conv_dims *d, int threads);
    /* layers (semantics of nn_layers.h: parameter gradients overwritten, dx accumulated) */
    void (*conv_forward)(float *y, const float *x, const float *w, const float *b, float *work,
                         int threads, const nn_conv_dims *d);
    void (*conv_backward)(float *dx, float *dw, float *db, const float *dy, const float *x,
                          const float *w, float *work, int threads, const nn_conv_dims *d);
    void (*bn_forward_train)(float *y, float *mean, float *invstd, float *running_mean,
                             float *running_var, const float *x, const float *gamma,
                             const float *beta, int64_t n, int64_t c, int64_t hw, float momentum,
                             float eps, int threads);
    void (*bn_forward_eval)(float *y, const float *x, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, int64_t n,
                            int64_t c, int64_t hw, float eps);
    void (*bn_backward)(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                        const float *mean, const float *invstd, const float *gamma, int64_t n,
                        int64_t c, int64_t hw, int threads);
    void (*relu_forward)(float *y, const float *x, int64_t count, float cap);
    void (*relu_backward)(float *dx, const float *dy, const float *x, int64_t count, float cap);
    void (*maxpool_forward)(float *y, int32_t *argmax, const float *x, int64_t n, int64_t c,
                            int64_t h, int64_t w, int32_t k, int32_t stride, int32_t pad);
    /* the window (k, stride, pad) of the forward pass; argmax as it wrote it */
    void (*maxpool_backward)(float *dx, const float *dy, const int32_t *argmax, int64_t n,
                             int64_t c, int64_t h, int64_t w, int32_t k, int32_t stride,
                             int32_t pad);
    void (*avgpool_forward)(float *y, const float *x, int64_t n, int64_t c, int64_t h, int64_t w,
                            int32_t k, int32_t stride, int32_t pad);
    void (*avgpool_backward)(float *dx, const float *dy, int64_t n, int64_t c, int64_t h, int64_t w,
                             int32_t k, int32_t stride, int32_t pad);
    void (*gap_forward)(float *y, const float *x, int64_t n, int64_t c, int64_t hw);
    void (*gap_backward)(float *dx, const float *dy, int64_t n, int64_t c, int64_t hw);
    void (*fc_forward)(float *y, const float *x, const float *w, const float *b, int64_t n,
                       int64_t k, int64_t o);
    void (*fc_backward)(float *dx, float *dw, float *db, const float *dy, const float *x,
                        const float *w, int64_t n, int64_t k, int64_t o);
    void (*add_forward)(float *y, const float *a, const float *b, int64_t count);
    void (*add_backward)(float *da, float *db, const float *dy, int64_t count);
    /* logits on the device, labels on the host; dlogits overwritten */
    double (*softmax_xent)(float *dlogits, int64_t *correct, const float *logits,
                           const int32_t *labels, int64_t n, int64_t classes);
    /* optional (NULL on the CPU): the training set resident on the device. dataset_upload
     * returns a handle, or NULL when it does not fit (the engine then keeps the host path);
     * batch_fill is nn_batch_fill into device memory from it (same rng draws, same values) */
    void *(*dataset_upload)(const nn_dataset *ds);
    void (*dataset_free)(void *handle);
    void (*batch_fill)(float *x_dev, int32_t *y, void *handle, const nn_dataset *ds,
                       const int64_t *idx, int64_t n, const nn_norm *norm, const nn_augment *aug,
                       td_rng *rng);
    /* optimizers over n parameters; decay is a per-parameter 0/1 mask (weights decay, batch
     * norm parameters and biases do not) */
    void (*sgd_step)(float *p, float *vel, const float *g, const float *decay, int64_t n, float lr,
                     float momentum, float weight_decay, bool nesterov);
    void (*adamw_step)(float *p, float *m, float *v, const float *g, const float *decay, int64_t n,
                       float lr, float beta1, float beta2, float eps, float weight_decay,
                       int64_t t);
} nn_backend;

/* The backend of a device: TD_ERR_UNSUPPORTED naming the reason when not built here. */
td_status nn_backend_get(nn_device dev, const nn_backend **out);
const nn_backend *nn_backend_cpu(void);
/* "cpu" / "cuda" -> device; TD_ERR_USAGE otherwise. */
td_status nn_device_parse(const char *s, nn_device *out);

/* Per-node buffers of a network instance (pointers into the arena / device). */
typedef struct nn_layer {
    float *w, *b;         /* conv/fc weight and bias; batchnorm gamma and beta */
    float *dw, *db;       /* their gradients */
    float *rmean, *rvar;  /* batchnorm running statistics */
    float *mean, *invstd; /* batchnorm batch statistics (saved for backward) */
    int32_t *argmax;      /* maxpool */
    float *y, *dy;        /* output activation and its gradient, max_batch x out */
    int64_t out_size;     /* C*H*W of the output */
} nn_layer;

typedef struct nn_net {
    nn_graph g;
    const nn_backend *be;
    td_arena arena;
    int64_t max_batch;
    int threads;
    /* Parameters in one block, in node order: conv weight [oc][c/g][k][k] then bias [oc]
     * if any; batchnorm gamma [c] then beta [c]; fc weight [o][k] then bias [o]. */
    float *params, *grads, *decay, *opt_m, *opt_v;
    int64_t n_params;
    /* Buffers in node order: batchnorm running mean [c] then running variance [c]. */
    float *stats;
    int64_t n_stats;
    nn_layer *layers; /* one per graph node */
    float *work;
    size_t work_floats;
    float *dlogits;
    int64_t step;
    /* Quantization-aware training (nn_net_set_qat): 0 = off; else the forward pass
     * fake-quantizes exactly the tensors the integer model quantizes (nn_quant.h): conv/FC
     * weights per output channel, the input image, and the output of every requantizing
     * integer layer (conv[+bn][+relu], fc, add[+relu], avg pools) with that layer's scale
     * and clamp, taken from the integer model's own calibration (nn_net_qat_calibrate);
     * gradients pass straight through to the float weights. CPU only. */
    int qat_bits;
    int64_t qat_calib_images; /* calibration images per recalibration (default 512) */
    float *qat_w;             /* fake-quantized weights, same layout as params */
    /* per node: scale of its quantized output (0: not a quantization point), clamp in
     * levels, and rounding (1: half away from zero, the input; 0: half up, requantization) */
    float *qat_scale, *qat_lo, *qat_hi, *qat_away;
    bool qat_calibrated;
} nn_net;

/* Turns quantization-aware training at bits (4, 8, 16; 0 = off) on or off. Fails on a
 * device backend. Activation scales are unset until nn_net_qat_calibrate (nn_net_train
 * calibrates at the start of every epoch and every NN_QAT_RECALIB_STEPS steps on the first
 * qat_calib_images training images). */
td_status nn_net_set_qat(nn_net *net, int bits);
/* Steps between recalibrations of the activation scales during quantization-aware training
 * (the weights move; the final integer model is calibrated from the final weights). */
#define NN_QAT_RECALIB_STEPS 50
/* Calibrates the activation scales of quantization-aware training the way nn_quantize does
 * (fake quantization off, inference mode, first n_calib images of calib): the scales used
 * in training are those the integer model will get from the same weights. */
td_status nn_net_qat_calibrate(nn_net *net, const nn_dataset *calib, const nn_norm *norm,
                               int64_t n_calib);

/* Builds an instance for batches of up to max_batch images, parameters initialised with
 * He-normal weights (seeded), unit gamma, zero biases. */
td_status nn_net_init(nn_net *net, const nn_graph *g, int64_t max_batch, int threads,
                      const nn_backend *be, uint64_t seed);
void nn_net_free(nn_net *net);
/* Copies parameters and statistics in/out (host arrays of n_params / n_stats floats). */
td_status nn_net_set_weights(nn_net *net, const float *params, int64_t n_params, const float *stats,
                             int64_t n_stats);
void nn_net_get_weights(const nn_net *net, float *params, float *stats);

/* Forward pass of n <= max_batch images (host NCHW floats); train selects batch statistics.
 * Returns the logits (device pointer: n x classes). */
const float *nn_net_forward(nn_net *net, const float *x_host, int64_t n, bool train);
/* Backward pass from labels after nn_net_forward(train = true); returns the mean loss;
 * *correct counts argmax hits. Fills net->grads. */
double nn_net_backward(nn_net *net, const int32_t *labels, int64_t n, int64_t *correct);

/* Per-node activations of the last forward pass (for calibration). */
const float *nn_net_activation(const nn_net *net, size_t node);

typedef enum nn_optimizer { NN_OPT_SGD = 0, NN_OPT_ADAMW, NN_OPT_COUNT } nn_optimizer;

typedef struct nn_recipe {
    int32_t epochs;
    int64_t batch;
    int64_t images; /* training images per epoch (0 or more than the set: all) */
    nn_optimizer optimizer;
    double lr, momentum, weight_decay, warmup_epochs;
    bool nesterov;
    nn_augment augment;
    uint64_t seed;
    int threads;
} nn_recipe;

/* The default recipe (docs/training.md): SGD, Nesterov momentum 0.9, lr 0.05 at batch 128,
 * weight decay 5e-4, 0.3 warm-up epochs then cosine to zero, horizontal flips. */
void nn_recipe_default(nn_recipe *r);

/* Learning rate at a step of a schedule of total steps, warm-up steps. */
double nn_lr_at(double peak, int64_t step, int64_t total, int64_t warmup);

typedef struct nn_epoch_stats {
    int32_t epoch;                                   /* 1-based */
    double train_loss, train_accuracy, val_accuracy; /* val_accuracy < 0: no validation set */
    double lr, wall_s, images_per_s;
} nn_epoch_stats;

typedef void (*nn_epoch_fn)(void *ctx, const nn_epoch_stats *s);

typedef struct nn_train_result {
    double final_loss, train_accuracy, val_accuracy, wall_s, images_per_s;
    int64_t images_seen;
} nn_train_result;

/* Trains on `train` (normalized with norm) with the recipe; evaluates on val (may be NULL)
 * after each epoch and calls on_epoch (may be NULL). */
td_status nn_net_train(nn_net *net, const nn_dataset *train, const nn_dataset *val,
                       const nn_norm *norm, const nn_recipe *r, nn_epoch_fn on_epoch, void *ctx,
                       nn_train_result *out);
/* Float accuracy (BN in inference mode) on the first n images of ds (n <= 0: all). */
td_status nn_net_evaluate(nn_net *net, const nn_dataset *ds, const nn_norm *norm, int64_t n,
                          double *accuracy);

#endif
