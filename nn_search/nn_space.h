/* The network search space and its genome (DESIGN.md §3), and the proxy evaluation search
 * calls per candidate network.
 *
 * A network is: stem (conv 3x3 + batch norm + ReLU, then a 2x2 max pool when the input is
 * at least 16x16), then 1..8 stages, each of `depth`
 * blocks with `channels` output channels, the first block of a stage optionally striding by
 * 2; then the head (global average pool + FC). A block is one of:
 *   conv3x3 / conv5x5      conv k x k + BN + ReLU
 *   dwsep3x3 / dwsep5x5    depthwise k x k + BN + ReLU, pointwise 1x1 + BN + ReLU
 *   mbconv3x3 / mbconv5x5  [pointwise expand x e + BN + ReLU6] (e > 1), depthwise k x k
 *                          + BN + ReLU6, pointwise project + BN (linear bottleneck)
 *   skip                   identity
 * with a residual add around the block when its gene asks for one and the shapes allow.
 *
 * Genome: fixed length for a space, integer genes each in [0, hi] (nn_genome_ranges):
 *   gene 0                 stem channel level
 *   gene 1                 number of stages - stages_min
 *   per stage s (stages_max of them, 3 genes): depth - depth_min, channel level, stride 2?
 *   per block (stages_max * depth_max of them, 3 genes): op index into the space's op
 *                          list, expansion index, residual?
 * Genes of stages/blocks beyond the decoded depth are inactive. Decoding never fails for
 * in-range genes (out-of-range genes are clamped): a skip that would change the shape
 * becomes the first non-skip op of the space, a stride that would shrink the feature map
 * below 2x2 becomes 1, a residual where shapes differ is dropped. Channel levels are
 * NN_SPACE_CHANNEL_LEVELS evenly spaced values in [channels_min, channels_max], rounded
 * down to a multiple of 4 (never below channels_min). */
#ifndef NN_SPACE_H
#define NN_SPACE_H

#include "nn_data.h"
#include "nn_graph.h"
#include "td_config.h"
#include "td_rng.h"
#include "td_status.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum nn_block_op {
    NN_BLOCK_CONV3 = 0,
    NN_BLOCK_CONV5,
    NN_BLOCK_DWSEP3,
    NN_BLOCK_DWSEP5,
    NN_BLOCK_MBCONV3,
    NN_BLOCK_MBCONV5,
    NN_BLOCK_SKIP,
    NN_BLOCK_COUNT
} nn_block_op;

/* "conv3x3", "dwsep5x5", ... (the names of the space.net.ops config key). */
const char *nn_block_op_name(nn_block_op op);

#define NN_SPACE_CHANNEL_LEVELS 32
#define NN_SPACE_MAX_STAGES 8
#define NN_SPACE_MAX_DEPTH 16

typedef struct nn_space {
    int32_t stages_min, stages_max;
    int32_t depth_min, depth_max;
    int32_t channels_min, channels_max;
    int32_t stem_min, stem_max;
    nn_block_op ops[NN_BLOCK_COUNT];
    int32_t n_ops;
    int32_t expansions[3];
    int32_t n_expansions;
    bool residual;
    nn_shape input;
    int64_t classes;
} nn_space;

/* The default space of nn_config.c, for 28x28x1 inputs and 10 classes. */
void nn_space_default(nn_space *s);
/* From the space.net.* keys of a config built with nn_config_keys; checks min <= max. */
td_status nn_space_from_config(nn_space *s, const td_config *cfg, nn_shape input, int64_t classes);

int32_t nn_genome_length(const nn_space *s);
/* lo[i] = 0 and hi[i] (inclusive) for each gene. */
void nn_genome_ranges(const nn_space *s, int32_t *lo, int32_t *hi);
/* Uniformly random genes within range. */
void nn_genome_random(const nn_space *s, td_rng *rng, int32_t *genes);
/* genes -> valid graph (named "net-<hash>"), by repair. */
td_status nn_genome_decode(const nn_space *s, const int32_t *genes, nn_graph *g);
/* The channel value of a level. */
int32_t nn_space_channels(int32_t min, int32_t max, int32_t level);

/* Proxy training budget. val_images: validation images scored (0: 2000). */
typedef struct nn_budget {
    int64_t images;
    int32_t epochs;
    int32_t batch;
    int64_t val_images;
} nn_budget;

typedef struct nn_proxy_result {
    double val_accuracy;     /* float model */
    double int_val_accuracy; /* integer reference at bits */
    double wall_s;           /* training + both evaluations */
    double train_s;
    int64_t params, macs;
} nn_proxy_result;

/* Trains g from scratch on data->train with the default recipe and the budget (no
 * augmentation), then scores data->val in float and as an integer model at bits (calibrated
 * on 256 training images). Deterministic for (g, budget, bits, seed, threads). */
td_status nn_proxy_evaluate(const nn_graph *g, const nn_data *data, const nn_budget *b, int bits,
                            uint64_t seed, int threads, nn_proxy_result *out);

#endif
