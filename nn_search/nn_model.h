/* Saved models (.tdm, docs/formats.md "Saved model"): graph, float weights, input
 * normalization and integer models (one per bit width), versioned and checksummed; and the
 * resolution of a `--net` argument (built-in name, network YAML file, saved model). */
#ifndef NN_MODEL_H
#define NN_MODEL_H

#include "nn_data.h"
#include "nn_graph.h"
#include "nn_quant.h"
#include "nn_train.h"
#include "td_status.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define NN_MODEL_MAGIC "TDMODEL\0" /* 8 bytes */
#define NN_MODEL_VERSION 1

typedef struct nn_model {
    nn_graph graph;
    bool has_weights;
    float *params; /* n_params floats in nn_net order (nn_train.h) */
    int64_t n_params;
    float *stats; /* batch-norm running statistics, nn_net order */
    int64_t n_stats;
    nn_norm norm;     /* input normalization the weights were trained with */
    nn_qmodel *quant; /* integer models, one per bit width */
    int32_t n_quant;
} nn_model;

/* A model holding only a graph (copied). */
td_status nn_model_init_graph(nn_model *m, const nn_graph *g);
/* Graph and weights of a trained network (copied). */
td_status nn_model_init_net(nn_model *m, const nn_net *net, const nn_norm *norm);
/* Takes ownership of *q (left zeroed); replaces an existing model of the same bits. */
td_status nn_model_add_quant(nn_model *m, nn_qmodel *q);
/* The integer model at bits, or NULL. */
const nn_qmodel *nn_model_quant(const nn_model *m, int bits);
void nn_model_free(nn_model *m);

td_status nn_model_save(const nn_model *m, const char *path);
/* Errors name the file and what is wrong: not a model (magic), unsupported version,
 * truncated (byte offset and section), checksum mismatch, inconsistent graph. */
td_status nn_model_load(nn_model *m, const char *path);

/* Resolves a --net argument into a freshly allocated model (free with nn_model_free and
 * free()): a built-in name (nn_builtin_names(): graph only), a saved model (.tdm, recognised
 * by its magic: graph + weights + integer models), or a network YAML file (graph only;
 * docs/training.md "Network files"). */
td_status nn_net_resolve(const char *arg, nn_model **out);

/* Network YAML file -> graph. */
td_status nn_graph_load_yaml(nn_graph *g, const char *path);

/* {"net", "net_hash", "input": [c,h,w], "classes", "params", "macs", "layers": [{"name",
 * "op", "inputs": [node indices], "kernel", "stride", "pad", "groups" (where they apply),
 * "input": [c,h,w], "output": [c,h,w], "macs", "params"}]}; layers[0] is the input node. */
json_t *nn_graph_to_json(const nn_graph *g);

#endif
