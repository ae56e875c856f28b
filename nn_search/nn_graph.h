/* The layer graph: the network IR every module reads (DESIGN.md §3). Nodes are stored in
 * topological order; a node's inputs are indices of earlier nodes. Shapes are per image
 * (C, H, W); the batch dimension belongs to the engine, not the graph. */
#ifndef NN_GRAPH_H
#define NN_GRAPH_H

#include "td_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum nn_op {
    NN_OP_INPUT = 0,
    NN_OP_CONV,           /* k_h x k_w, stride, pad, groups (depthwise: groups = C_in = C_out) */
    NN_OP_BATCHNORM,      /* per channel; folded into the preceding conv for inference */
    NN_OP_RELU,
    NN_OP_RELU6,
    NN_OP_MAXPOOL,        /* k x k, stride, pad */
    NN_OP_AVGPOOL,        /* k x k, stride, pad (padding excluded from the count) */
    NN_OP_GLOBAL_AVGPOOL, /* C x H x W -> C x 1 x 1 */
    NN_OP_FC,             /* flattens its input: C*H*W -> out_channels */
    NN_OP_ADD,            /* residual: two inputs of equal shape */
    NN_OP_COUNT
} nn_op;

typedef struct nn_shape {
    int64_t c, h, w;
} nn_shape;

#define NN_NAME_MAX 48

typedef struct nn_node {
    nn_op op;
    char name[NN_NAME_MAX]; /* unique, e.g. "s2.b1.dw" */
    int32_t inputs[2];      /* producer node indices; -1 when unused */
    int32_t n_inputs;
    nn_shape in;            /* shape of inputs[0] */
    nn_shape out;
    int32_t k_h, k_w, stride, pad, groups; /* conv and pooling */
    int64_t out_channels;                  /* conv, fc */
    bool bias;                             /* conv, fc */
    int64_t macs;   /* multiply-accumulates per image */
    int64_t params; /* trainable parameters (BN: gamma and beta) */
} nn_node;

typedef struct nn_graph {
    char name[64];
    nn_shape input;
    int64_t classes;
    nn_node *nodes;
    size_t n_nodes;
    size_t cap;
} nn_graph;

const char *nn_op_name(nn_op op);

/* Creates a graph holding only its input node (index 0). */
td_status nn_graph_init(nn_graph *g, const char *name, nn_shape input, int64_t classes);
void nn_graph_free(nn_graph *g);
td_status nn_graph_copy(nn_graph *dst, const nn_graph *src);

/* Builders: append a node fed by `in` (an earlier node index), return its index in *id.
 * Each checks shapes and names the layer in its error. name may be NULL (auto-named). */
td_status nn_graph_add_conv(nn_graph *g, int32_t *id, int32_t in, const char *name,
                            int64_t out_channels, int32_t k, int32_t stride, int32_t pad,
                            int32_t groups, bool bias);
td_status nn_graph_add_batchnorm(nn_graph *g, int32_t *id, int32_t in, const char *name);
td_status nn_graph_add_relu(nn_graph *g, int32_t *id, int32_t in, const char *name, bool relu6);
td_status nn_graph_add_pool(nn_graph *g, int32_t *id, int32_t in, const char *name, nn_op op,
                            int32_t k, int32_t stride, int32_t pad);
td_status nn_graph_add_global_avgpool(nn_graph *g, int32_t *id, int32_t in, const char *name);
td_status nn_graph_add_fc(nn_graph *g, int32_t *id, int32_t in, const char *name,
                          int64_t out_features, bool bias);
td_status nn_graph_add_add(nn_graph *g, int32_t *id, int32_t a, int32_t b, const char *name);

/* Index of the last node (the logits). */
int32_t nn_graph_output(const nn_graph *g);
int64_t nn_graph_macs(const nn_graph *g);
int64_t nn_graph_params(const nn_graph *g);
/* Identity: a stable hash of the structure (ops, shapes, hyper-parameters; not names). */
uint64_t nn_graph_hash(const nn_graph *g);

/* Per-layer table for humans. */
void nn_graph_print(const nn_graph *g, FILE *fp);

/* Built-in networks by name ("ref-cnn", ...); TD_ERR_CONFIG with the list of names when
 * unknown. */
td_status nn_builtin_graph(nn_graph *g, const char *name);
/* NULL-terminated list of built-in names. */
const char *const *nn_builtin_names(void);

#endif
