/* Compiles a network (a chain of integer layers) into one tile-command program for the core.
 *
 * Input: the layer graph plus, per conv/fc node, the quantized weights as plain arrays
 * (rtl_node_weights). This is the interface until nn_search's quantized-model type is wired
 * in: nn_qlayer carries the same fields (w [oc][K] in im2col order, bias, rq, lo, hi).
 *
 * Lowering: conv [+ batchnorm (already folded into w/bias)] [+ relu/relu6 (folded into the
 * clamp lo/hi)] [+ maxpool (fused on chip: REQUANT then POOL)] and fc [+ relu] each become
 * one host im2col step and one GEMM on the core. Other ops (avgpool, global avgpool,
 * residual add, grouped convolution, padded max-pool) are not compiled yet: the compiler
 * fails naming the layer (TD_ERR_UNSUPPORTED). */
#ifndef RTL_NET_H
#define RTL_NET_H

#include "nn_graph.h"
#include "rtl_program.h"

typedef struct rtl_node_weights {
    const int32_t *w;     /* [out_channels][K], K = C_in*k*k (im2col order) or C*H*W (fc) */
    const int64_t *bias;  /* [out_channels], or NULL */
    const nn_requant *rq; /* [out_channels] */
    int64_t lo, hi;       /* clamp after requantization (saturation and activation) */
} rtl_node_weights;

typedef enum rtl_layer_op { RTL_LAYER_CONV = 0, RTL_LAYER_FC, RTL_LAYER_COUNT } rtl_layer_op;

/* One lowered layer: a GEMM with an optional fused max-pool. */
typedef struct rtl_layer {
    rtl_layer_op op;
    char name[NN_NAME_MAX];
    nn_shape in, conv_out, out; /* out = conv_out, or the pooled shape */
    int32_t k, stride, pad;
    int32_t pool_k, pool_s; /* 0: no max-pool */
    rtl_node_weights wt;
} rtl_layer;

/* Lowers g into at most max_layers layers. weights is indexed by node index (entries of
 * non-conv/fc nodes are ignored). */
td_status rtl_layers_from_graph(const nn_graph *g, const rtl_node_weights *weights,
                                rtl_layer *layers, int32_t max_layers, int32_t *n_layers);

/* Where a compiled network's tensors live in the memory image: the input (write it with
 * rtl_net_write_act before the run) and each layer's output, all in the line layout. */
typedef struct rtl_net_io {
    int64_t input_addr;
    nn_shape input;
    int64_t out_addr[64];
    nn_shape out_shape[64];
    int32_t n_layers;
} rtl_net_io;

td_status rtl_program_add_net(rtl_program *p, const rtl_layer *layers, int32_t n_layers,
                              nn_shape input, rtl_net_io *io);

/* Activation tensors (C x H x W, CHW order) to and from the line layout at addr. */
void rtl_net_write_act(const rtl_program *p, rtl_mem *mem, int64_t addr, nn_shape s,
                       const int32_t *x);
void rtl_net_read_act(const rtl_program *p, const rtl_mem *mem, int64_t addr, nn_shape s,
                      int32_t *x);

/* The integer reference of a lowered network by direct loops (convolution, fc, max-pool with
 * nn_requantize), independent of the compiler's im2col and of the C model of the core.
 * outs[i] receives layer i's output (CHW, caller-allocated). */
void rtl_net_reference(const rtl_layer *layers, int32_t n_layers, const int32_t *input,
                       int32_t *const *outs);

/* Random quantized weights for every conv/fc node of g (for tests and structural bundles:
 * not a trained network). Outputs spread over the b-bit range; ReLU clamps except on the
 * last layer. */
typedef struct rtl_net_weights {
    rtl_node_weights *wt; /* per node */
    size_t n;
} rtl_net_weights;

td_status rtl_net_weights_random(rtl_net_weights *nw, const nn_graph *g, int bits, uint64_t seed);
void rtl_net_weights_free(rtl_net_weights *nw);

#endif
