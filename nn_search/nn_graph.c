#include "nn_graph.h"

#include "td_hash.h"

#include <stdlib.h>
#include <string.h>

static const char *const op_names[NN_OP_COUNT] = {
    [NN_OP_INPUT] = "input",     [NN_OP_CONV] = "conv",
    [NN_OP_BATCHNORM] = "batchnorm", [NN_OP_RELU] = "relu",
    [NN_OP_RELU6] = "relu6",     [NN_OP_MAXPOOL] = "maxpool",
    [NN_OP_AVGPOOL] = "avgpool", [NN_OP_GLOBAL_AVGPOOL] = "global_avgpool",
    [NN_OP_FC] = "fc",           [NN_OP_ADD] = "add",
};

const char *nn_op_name(nn_op op)
{
    return (int)op >= 0 && op < NN_OP_COUNT ? op_names[op] : "?";
}

td_status nn_graph_init(nn_graph *g, const char *name, nn_shape input, int64_t classes)
{
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name ? name : "net");
    if (input.c <= 0 || input.h <= 0 || input.w <= 0)
        return td_fail(TD_ERR_CONFIG, "network '%s': input shape %lldx%lldx%lld is not positive",
                       g->name, (long long)input.c, (long long)input.h, (long long)input.w);
    if (classes < 2)
        return td_fail(TD_ERR_CONFIG, "network '%s': needs at least 2 classes, got %lld", g->name,
                       (long long)classes);
    g->input = input;
    g->classes = classes;
    g->cap = 16;
    g->nodes = calloc(g->cap, sizeof *g->nodes);
    if (!g->nodes)
        return td_fail(TD_ERR_NOMEM, "out of memory");
    nn_node *n = &g->nodes[0];
    n->op = NN_OP_INPUT;
    snprintf(n->name, sizeof n->name, "input");
    n->inputs[0] = n->inputs[1] = -1;
    n->in = n->out = input;
    g->n_nodes = 1;
    return TD_OK;
}

void nn_graph_free(nn_graph *g)
{
    free(g->nodes);
    memset(g, 0, sizeof *g);
}

td_status nn_graph_copy(nn_graph *dst, const nn_graph *src)
{
    *dst = *src;
    dst->nodes = malloc(src->cap * sizeof *dst->nodes);
    if (!dst->nodes)
        return td_fail(TD_ERR_NOMEM, "out of memory");
    memcpy(dst->nodes, src->nodes, src->n_nodes * sizeof *dst->nodes);
    return TD_OK;
}

/* Appends a node fed by `in`, with a unique name; fills in, inputs, and the defaults. */
static td_status graph_push(nn_graph *g, nn_node **out, int32_t in, nn_op op, const char *name)
{
    if (in < 0 || (size_t)in >= g->n_nodes)
        return td_fail(TD_ERR_INTERNAL, "network '%s': %s layer fed by missing node %d", g->name,
                       nn_op_name(op), in);
    if (g->n_nodes == g->cap) {
        size_t cap = 2 * g->cap;
        nn_node *p = realloc(g->nodes, cap * sizeof *p);
        if (!p)
            return td_fail(TD_ERR_NOMEM, "out of memory");
        g->nodes = p;
        g->cap = cap;
    }
    nn_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    if (name && *name)
        snprintf(n->name, sizeof n->name, "%s", name);
    else
        snprintf(n->name, sizeof n->name, "%s%zu", nn_op_name(op), g->n_nodes);
    for (size_t i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, n->name) == 0)
            return td_fail(TD_ERR_CONFIG, "network '%s': layer name '%s' is used twice", g->name,
                           n->name);
    n->inputs[0] = in;
    n->inputs[1] = -1;
    n->n_inputs = 1;
    n->in = g->nodes[in].out;
    n->out = n->in;
    n->groups = 1;
    *out = n;
    return TD_OK;
}

static int64_t out_dim(int64_t in, int32_t k, int32_t stride, int32_t pad)
{
    return (in + 2 * pad - k) / stride + 1;
}

static td_status check_window(const nn_graph *g, const nn_node *n, int32_t k, int32_t stride,
                              int32_t pad)
{
    if (k < 1 || stride < 1 || pad < 0)
        return td_fail(TD_ERR_CONFIG,
                       "network '%s', layer '%s': kernel %d, stride %d, pad %d are not valid",
                       g->name, n->name, k, stride, pad);
    if (pad >= k)
        return td_fail(TD_ERR_CONFIG, "network '%s', layer '%s': padding %d must be below kernel %d",
                       g->name, n->name, pad, k);
    if (n->in.h + 2 * pad < k || n->in.w + 2 * pad < k)
        return td_fail(TD_ERR_CONFIG,
                       "network '%s', layer '%s': %dx%d window does not fit the %lldx%lld input",
                       g->name, n->name, k, k, (long long)n->in.h, (long long)n->in.w);
    return TD_OK;
}

static td_status graph_commit(nn_graph *g, int32_t *id)
{
    if (id)
        *id = (int32_t)g->n_nodes;
    g->n_nodes++;
    return TD_OK;
}

td_status nn_graph_add_conv(nn_graph *g, int32_t *id, int32_t in, const char *name,
                            int64_t out_channels, int32_t k, int32_t stride, int32_t pad,
                            int32_t groups, bool bias)
{
    nn_node *n = NULL;
    td_status st = graph_push(g, &n, in, NN_OP_CONV, name);
    if (st != TD_OK)
        return st;
    if ((st = check_window(g, n, k, stride, pad)) != TD_OK)
        return st;
    if (groups < 1 || out_channels < 1 || n->in.c % groups || out_channels % groups)
        return td_fail(TD_ERR_CONFIG,
                       "network '%s', layer '%s': %lld input and %lld output channels do not "
                       "split into %d groups",
                       g->name, n->name, (long long)n->in.c, (long long)out_channels, groups);
    n->k_h = n->k_w = k;
    n->stride = stride;
    n->pad = pad;
    n->groups = groups;
    n->out_channels = out_channels;
    n->bias = bias;
    n->out.c = out_channels;
    n->out.h = out_dim(n->in.h, k, stride, pad);
    n->out.w = out_dim(n->in.w, k, stride, pad);
    int64_t k_red = (n->in.c / groups) * k * k;
    n->macs = n->out.h * n->out.w * out_channels * k_red;
    n->params = out_channels * k_red + (bias ? out_channels : 0);
    return graph_commit(g, id);
}

td_status nn_graph_add_batchnorm(nn_graph *g, int32_t *id, int32_t in, const char *name)
{
    nn_node *n = NULL;
    td_status st = graph_push(g, &n, in, NN_OP_BATCHNORM, name);
    if (st != TD_OK)
        return st;
    n->params = 2 * n->in.c;
    return graph_commit(g, id);
}

td_status nn_graph_add_relu(nn_graph *g, int32_t *id, int32_t in, const char *name, bool relu6)
{
    nn_node *n = NULL;
    td_status st = graph_push(g, &n, in, relu6 ? NN_OP_RELU6 : NN_OP_RELU, name);
    if (st != TD_OK)
        return st;
    return graph_commit(g, id);
}

td_status nn_graph_add_pool(nn_graph *g, int32_t *id, int32_t in, const char *name, nn_op op,
                            int32_t k, int32_t stride, int32_t pad)
{
    if (op != NN_OP_MAXPOOL && op != NN_OP_AVGPOOL)
        return td_fail(TD_ERR_INTERNAL, "nn_graph_add_pool: op %s is not a pool", nn_op_name(op));
    nn_node *n = NULL;
    td_status st = graph_push(g, &n, in, op, name);
    if (st != TD_OK)
        return st;
    if ((st = check_window(g, n, k, stride, pad)) != TD_OK)
        return st;
    n->k_h = n->k_w = k;
    n->stride = stride;
    n->pad = pad;
    n->out.h = out_dim(n->in.h, k, stride, pad);
    n->out.w = out_dim(n->in.w, k, stride, pad);
    return graph_commit(g, id);
}

td_status nn_graph_add_global_avgpool(nn_graph *g, int32_t *id, int32_t in, const char *name)
{
    nn_node *n = NULL;
    td_status st = graph_push(g, &n, in, NN_OP_GLOBAL_AVGPOOL, name);
    if (st != TD_OK)
        return st;
    n->k_h = (int32_t)n->in.h;
    n->k_w = (int32_t)n->in.w;
    n->stride = 1;
    n->out.h = n->out.w = 1;
    return graph_commit(g, id);
}

td_status nn_graph_add_fc(nn_graph *g, int32_t *id, int32_t in, const char *name,
                          int64_t out_features, bool bias)
{
    nn_node *n = NULL;
    td_status st = graph_push(g, &n, in, NN_OP_FC, name);
    if (st != TD_OK)
        return st;
    if (out_features < 1)
        return td_fail(TD_ERR_CONFIG, "network '%s', layer '%s': %lld output features", g->name,
                       n->name, (long long)out_features);
    int64_t k = n->in.c * n->in.h * n->in.w;
    n->out_channels = out_features;
    n->bias = bias;
    n->out.c = out_features;
    n->out.h = n->out.w = 1;
    n->k_h = n->k_w = 1;
    n->stride = 1;
    n->macs = k * out_features;
    n->params = k * out_features + (bias ? out_features : 0);
    return graph_commit(g, id);
}

td_status nn_graph_add_add(nn_graph *g, int32_t *id, int32_t a, int32_t b, const char *name)
{
    nn_node *n = NULL;
    td_status st = graph_push(g, &n, a, NN_OP_ADD, name);
    if (st != TD_OK)
        return st;
    if (b < 0 || (size_t)b >= g->n_nodes)
        return td_fail(TD_ERR_INTERNAL, "network '%s', layer '%s': second input %d is missing",
                       g->name, n->name, b);
    nn_shape sb = g->nodes[b].out;
    if (sb.c != n->in.c || sb.h != n->in.h || sb.w != n->in.w)
        return td_fail(TD_ERR_CONFIG,
                       "network '%s', layer '%s': residual add of %lldx%lldx%lld and "
                       "%lldx%lldx%lld",
                       g->name, n->name, (long long)n->in.c, (long long)n->in.h,
                       (long long)n->in.w, (long long)sb.c, (long long)sb.h, (long long)sb.w);
    n->inputs[1] = b;
    n->n_inputs = 2;
    return graph_commit(g, id);
}

int32_t nn_graph_output(const nn_graph *g)
{
    return (int32_t)g->n_nodes - 1;
}

int64_t nn_graph_macs(const nn_graph *g)
{
    int64_t s = 0;
    for (size_t i = 0; i < g->n_nodes; i++)
        s += g->nodes[i].macs;
    return s;
}

int64_t nn_graph_params(const nn_graph *g)
{
    int64_t s = 0;
    for (size_t i = 0; i < g->n_nodes; i++)
        s += g->nodes[i].params;
    return s;
}

uint64_t nn_graph_hash(const nn_graph *g)
{
    td_hasher h;
    if (td_hasher_init(&h, 0x6e6e67726170ull) != TD_OK)
        return 0;
    td_hasher_i64(&h, g->input.c);
    td_hasher_i64(&h, g->input.h);
    td_hasher_i64(&h, g->input.w);
    td_hasher_i64(&h, g->classes);
    for (size_t i = 0; i < g->n_nodes; i++) {
        const nn_node *n = &g->nodes[i];
        const int64_t f[] = {n->op,     n->inputs[0], n->inputs[1], n->k_h,
                             n->k_w,    n->stride,    n->pad,       n->groups,
                             n->out_channels, n->bias};
        for (size_t j = 0; j < sizeof f / sizeof f[0]; j++)
            td_hasher_i64(&h, f[j]);
    }
    uint64_t d = td_hasher_digest(&h);
    td_hasher_free(&h);
    return d;
}

void nn_graph_print(const nn_graph *g, FILE *fp)
{
    fprintf(fp, "network %s: input %lldx%lldx%lld, %lld classes\n", g->name,
            (long long)g->input.c, (long long)g->input.h, (long long)g->input.w,
            (long long)g->classes);
    fprintf(fp, "%4s  %-16s %-14s %-12s %-14s %-14s %12s %10s\n", "#", "layer", "op", "kernel",
            "input", "output", "MACs", "params");
    for (size_t i = 0; i < g->n_nodes; i++) {
        const nn_node *n = &g->nodes[i];
        char kern[32] = "", ins[32], outs[32];
        if (n->op == NN_OP_CONV)
            snprintf(kern, sizeof kern, "%dx%d/%d g%d", n->k_h, n->k_w, n->stride, n->groups);
        else if (n->op == NN_OP_MAXPOOL || n->op == NN_OP_AVGPOOL)
            snprintf(kern, sizeof kern, "%dx%d/%d", n->k_h, n->k_w, n->stride);
        snprintf(ins, sizeof ins, "%lldx%lldx%lld", (long long)n->in.c, (long long)n->in.h,
                 (long long)n->in.w);
        snprintf(outs, sizeof outs, "%lldx%lldx%lld", (long long)n->out.c, (long long)n->out.h,
                 (long long)n->out.w);
        fprintf(fp, "%4zu  %-16s %-14s %-12s %-14s %-14s %12lld %10lld\n", i, n->name,
                nn_op_name(n->op), kern, ins, outs, (long long)n->macs, (long long)n->params);
    }
    fprintf(fp, "total: %lld MACs, %lld parameters\n", (long long)nn_graph_macs(g),
            (long long)nn_graph_params(g));
}

/* ---------------------------------------------------------------- built-ins */

/* conv k x k (same padding) + batch norm + ReLU, named prefix.conv/.bn/.relu */
static td_status conv_bn_relu(nn_graph *g, int32_t *x, const char *prefix, int64_t c, int32_t k,
                              int32_t stride)
{
    char a[NN_NAME_MAX], b[NN_NAME_MAX], r[NN_NAME_MAX];
    snprintf(a, sizeof a, "%s.conv", prefix);
    snprintf(b, sizeof b, "%s.bn", prefix);
    snprintf(r, sizeof r, "%s.relu", prefix);
    td_status st = nn_graph_add_conv(g, x, *x, a, c, k, stride, k / 2, 1, false);
    if (st == TD_OK)
        st = nn_graph_add_batchnorm(g, x, *x, b);
    if (st == TD_OK)
        st = nn_graph_add_relu(g, x, *x, r, false);
    return st;
}

/* ref-cnn: the reference network for Fashion-MNIST (28x28x1, 10 classes). */
static td_status build_ref_cnn(nn_graph *g)
{
    nn_shape in = {1, 28, 28};
    td_status st = nn_graph_init(g, "ref-cnn", in, 10);
    int32_t x = 0;
    if (st == TD_OK)
        st = conv_bn_relu(g, &x, "c1", 32, 3, 1);
    if (st == TD_OK)
        st = nn_graph_add_pool(g, &x, x, "pool1", NN_OP_MAXPOOL, 2, 2, 0);
    if (st == TD_OK)
        st = conv_bn_relu(g, &x, "c2", 64, 3, 1);
    if (st == TD_OK)
        st = nn_graph_add_pool(g, &x, x, "pool2", NN_OP_MAXPOOL, 2, 2, 0);
    if (st == TD_OK)
        st = conv_bn_relu(g, &x, "c3", 64, 3, 1);
    if (st == TD_OK)
        st = nn_graph_add_fc(g, &x, x, "fc", 10, true);
    return st;
}

typedef struct builtin_net {
    const char *name;
    td_status (*build)(nn_graph *g);
} builtin_net;

static const builtin_net builtins[] = {
    {"ref-cnn", build_ref_cnn},
};

static const char *const builtin_name_list[] = {"ref-cnn", NULL};

const char *const *nn_builtin_names(void)
{
    return builtin_name_list;
}

td_status nn_builtin_graph(nn_graph *g, const char *name)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return builtins[i].build(g);
    char list[256] = "";
    for (const char *const *p = builtin_name_list; *p; p++) {
        strncat(list, *p, sizeof list - strlen(list) - 1);
        if (p[1])
            strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    return td_fail(TD_ERR_CONFIG, "unknown built-in network '%s' (built-ins: %s)", name, list);
}
