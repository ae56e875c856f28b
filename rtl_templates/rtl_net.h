/* Compiles a network (a DAG of integer layers) into one tile-command program for the core.
 *
 * Input: the layer graph plus, per node, the quantized parameters as plain arrays
 * (rtl_node_weights; nn_qlayer carries the same fields: w [oc][K] in im2col order, bias, rq,
 * lo, hi; rq_pool[0] of a global average pool; mult_a, mult_b, shift of a residual add).
 *
 * Lowering (docs/rtl.md, "Compiler"):
 *  - conv [+ batchnorm (already folded into w/bias)] [+ relu/relu6 (folded into the clamp
 *    lo/hi)] [+ maxpool (fused on chip: REQUANT then POOL)] and fc [+ relu]: one host im2col
 *    step and one GEMM on the core. A grouped (depthwise: groups = channels) convolution is
 *    one im2col + GEMM per group, each group's output scattered into the layer's output by a
 *    host step (hw_model's per-group GEMM mapping).
 *  - global average pool: a GEMM M = C, K = H*W, N = 1 with all-ones weights, no bias and
 *    rq_pool[0] as the column's requantization (host transposes before and after).
 *  - add [+ relu/relu6]: the vector unit's ADD command (ADD_CFG + per chunk LD_W, LD_W, ADD,
 *    STORE), exactly nn_requantize_add.
 * Every layer's output stays in external memory, so a layer may read any earlier layer
 * (residual branches). Not compiled (the compiler fails naming the layer,
 * TD_ERR_UNSUPPORTED): average pools with a k x k window, padded max-pools, a batch norm /
 * activation / max-pool that does not directly follow its conv (or whose conv output has
 * another consumer). */
#ifndef RTL_NET_H
#define RTL_NET_H

#include "nn_graph.h"
#include "rtl_program.h"

/* Layers one program holds: the largest network nn_space can decode (8 stages of 16 blocks of
 * at most 4 layers: expand, depthwise, project, add; plus stem, GAP and fc) is 515. */
#define RTL_NET_MAX_LAYERS 600

typedef struct rtl_node_weights {
    /* conv / fc */
    const int32_t *w;     /* [out_channels][K], K = (C_in/groups)*k*k (im2col) or C*H*W (fc) */
    const int64_t *bias;  /* [out_channels], or NULL */
    const nn_requant *rq; /* [out_channels] */
    int64_t lo, hi;       /* clamp after requantization (saturation and activation) */
    /* global average pool: the sum's requantization (nn_qlayer.rq_pool[0]); shift 0 = unset */
    nn_requant pool_rq;
    /* add: clamp((a*mult_a + b*mult_b + 2^(shift-1)) >> shift, lo, hi); shift 0 = unset */
    uint32_t mult_a, mult_b;
    int32_t shift;
} rtl_node_weights;

typedef enum rtl_layer_op {
    RTL_LAYER_CONV = 0,
    RTL_LAYER_FC,
    RTL_LAYER_GAP, /* global average pool */
    RTL_LAYER_ADD, /* residual add */
    RTL_LAYER_COUNT
} rtl_layer_op;

/* One lowered layer: a GEMM (per group) with an optional fused max-pool, a global average
 * pool, or an add. */
typedef struct rtl_layer {
    rtl_layer_op op;
    char name[NN_NAME_MAX];
    int32_t src[2];             /* producing layers; -1 = the network input (add: two) */
    nn_shape in, conv_out, out; /* out = conv_out, or the pooled shape */
    int32_t k, stride, pad, groups;
    int32_t pool_k, pool_s; /* 0: no max-pool */
    rtl_node_weights wt;
} rtl_layer;

/* Lowers g into at most max_layers layers. weights is indexed by node index (entries of
 * nodes that have no parameters are ignored). */
td_status rtl_layers_from_graph(const nn_graph *g, const rtl_node_weights *weights,
                                rtl_layer *layers, int32_t max_layers, int32_t *n_layers);

/* Where a compiled network's tensors live in the memory image: the input (write it with
 * rtl_net_write_act before the run) and each layer's output, all in the line layout. */
typedef struct rtl_net_io {
    int64_t input_addr;
    nn_shape input;
    int64_t out_addr[RTL_NET_MAX_LAYERS];
    nn_shape out_shape[RTL_NET_MAX_LAYERS];
    int32_t n_layers;
} rtl_net_io;

td_status rtl_program_add_net(rtl_program *p, const rtl_layer *layers, int32_t n_layers,
                              nn_shape input, rtl_net_io *io);

/* Activation tensors (C x H x W, CHW order) to and from the line layout at addr. */
void rtl_net_write_act(const rtl_program *p, rtl_mem *mem, int64_t addr, nn_shape s,
                       const int32_t *x);
void rtl_net_read_act(const rtl_program *p, const rtl_mem *mem, int64_t addr, nn_shape s,
                      int32_t *x);

/* The integer reference of a lowered network by direct loops (grouped convolution, fc,
 * max-pool with nn_requantize, global average pool, nn_requantize_add), independent of the
 * compiler's im2col and of the C model of the core. outs[i] receives layer i's output (CHW,
 * caller-allocated). */
void rtl_net_reference(const rtl_layer *layers, int32_t n_layers, const int32_t *input,
                       int32_t *const *outs);

/* Random quantized parameters for every conv/fc/global-average-pool/add node of g (for tests
 * and structural bundles: not a trained network). Outputs spread over the b-bit range; ReLU
 * clamps on conv/fc except on the last layer (relu6 nodes clamp at 6/8 of the range), the
 * pool and the add saturate at both ends. */
typedef struct rtl_net_weights {
    rtl_node_weights *wt; /* per node */
    size_t n;
} rtl_net_weights;

/* The network of the default search space (nn_space_default: 28x28x1, 10 classes) for the
 * genome nn_genome_random draws from td_rng seeded with `seed`: how `tandem rtl --net
 * genome:SEED` names a search-space network. */
td_status rtl_net_genome_graph(nn_graph *g, uint64_t seed);

td_status rtl_net_weights_random(rtl_net_weights *nw, const nn_graph *g, int bits, uint64_t seed);
void rtl_net_weights_free(rtl_net_weights *nw);

#endif
