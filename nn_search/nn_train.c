#include "nn_train.h"

#include "nn_quant.h"
#include "td_log.h"
#include "td_progress.h"
#include "td_rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef NN_HAVE_CUDA
#include "nn_backend_cuda.h"
#endif

/* AdamW constants (Loshchilov & Hutter 2019 defaults). */
#define NN_ADAM_BETA1 0.9f
#define NN_ADAM_BETA2 0.999f
#define NN_ADAM_EPS 1e-8f

/* OpenBLAS's own threads would fight the engine's OpenMP threads (which split images); the
 * engine calls sgemm from each thread single-threaded. */
extern void openblas_set_num_threads(int);

/* ---------------------------------------------------------------- CPU backend */

static float *cpu_alloc(void *ctx, size_t n)
{
    return td_arena_floats((td_arena *)ctx, n ? n : 1);
}

static void cpu_copy(float *dst, const float *src, size_t n)
{
    memcpy(dst, src, n * sizeof *dst);
}

static void cpu_zero(float *p, size_t n)
{
    memset(p, 0, n * sizeof *p);
}

static void cpu_bn_eval(float *y, const float *x, const float *gamma, const float *beta,
                        const float *rm, const float *rv, int64_t n, int64_t c, int64_t hw,
                        float eps)
{
    for (int64_t ch = 0; ch < c; ch++) {
        float a = gamma[ch] / sqrtf(rv[ch] + eps), b = beta[ch] - a * rm[ch];
        for (int64_t i = 0; i < n; i++) {
            const float *p = x + (i * c + ch) * hw;
            float *q = y + (i * c + ch) * hw;
            for (int64_t j = 0; j < hw; j++)
                q[j] = a * p[j] + b;
        }
    }
}

static void cpu_maxpool_backward(float *dx, const float *dy, const int32_t *argmax, int64_t n,
                                 int64_t c, int64_t h, int64_t w, int32_t k, int32_t stride,
                                 int32_t pad)
{
    nn_maxpool_backward_ref(dx, dy, argmax, n, c, h, w, (h + 2 * pad - k) / stride + 1,
                            (w + 2 * pad - k) / stride + 1);
}

static void cpu_sgd(float *p, float *vel, const float *g, const float *decay, int64_t n, float lr,
                    float momentum, float wd, bool nesterov)
{
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i] + wd * decay[i] * p[i];
        vel[i] = momentum * vel[i] + gi;
        p[i] -= lr * (nesterov ? gi + momentum * vel[i] : vel[i]);
    }
}

static void cpu_adamw(float *p, float *m, float *v, const float *g, const float *decay, int64_t n,
                      float lr, float b1, float b2, float eps, float wd, int64_t t)
{
    float c1 = 1.0f - powf(b1, (float)t), c2 = 1.0f - powf(b2, (float)t);
    for (int64_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        float mh = m[i] / c1, vh = v[i] / c2;
        p[i] -= lr * (mh / (sqrtf(vh) + eps) + wd * decay[i] * p[i]);
    }
}

static const nn_backend cpu_backend = {
    .name = "cpu",
    .alloc = cpu_alloc,
    .upload = cpu_copy,
    .download = cpu_copy,
    .zero = cpu_zero,
    .conv_work_floats = nn_conv_work_floats,
    .conv_forward = nn_conv_forward,
    .conv_backward = nn_conv_backward,
    .bn_forward_train = nn_bn_forward_train,
    .bn_forward_eval = cpu_bn_eval,
    .bn_backward = nn_bn_backward,
    .relu_forward = nn_relu_forward,
    .relu_backward = nn_relu_backward,
    .maxpool_forward = nn_maxpool_forward,
    .maxpool_backward = cpu_maxpool_backward,
    .avgpool_forward = nn_avgpool_forward_ref,
    .avgpool_backward = nn_avgpool_backward_ref,
    .gap_forward = nn_gap_forward,
    .gap_backward = nn_gap_backward_ref,
    .fc_forward = nn_fc_forward,
    .fc_backward = nn_fc_backward,
    .add_forward = nn_add_forward_ref,
    .add_backward = nn_add_backward_ref,
    .softmax_xent = nn_softmax_xent_ref,
    .sgd_step = cpu_sgd,
    .adamw_step = cpu_adamw,
};

const nn_backend *nn_backend_cpu(void)
{
    return &cpu_backend;
}

td_status nn_backend_get(nn_device dev, const nn_backend **out)
{
    if (dev == NN_DEVICE_CPU) {
        *out = &cpu_backend;
        return TD_OK;
    }
#ifdef NN_HAVE_CUDA
    return nn_backend_cuda_get(out); /* TD_ERR_UNSUPPORTED with the reason */
#else
    return td_fail(TD_ERR_UNSUPPORTED,
                   "the CUDA training backend is not built in this binary (built without "
                   "nvcc); use --device cpu");
#endif
}

td_status nn_device_parse(const char *s, nn_device *out)
{
    if (strcmp(s, "cpu") == 0)
        *out = NN_DEVICE_CPU;
    else if (strcmp(s, "cuda") == 0)
        *out = NN_DEVICE_CUDA;
    else
        return td_fail(TD_ERR_USAGE, "device '%s' is not one of cpu, cuda", s);
    return TD_OK;
}

/* ---------------------------------------------------------------- network instance */

static nn_conv_dims node_conv_dims(const nn_node *nd, int64_t n)
{
    return nn_conv_dims_make(n, nd->in.c, nd->in.h, nd->in.w, nd->out_channels, nd->k_h, nd->stride,
                             nd->pad, nd->groups);
}

static int64_t shape_size(nn_shape s)
{
    return s.c * s.h * s.w;
}

td_status nn_net_init(nn_net *net, const nn_graph *g, int64_t max_batch, int threads,
                      const nn_backend *be, uint64_t seed)
{
    memset(net, 0, sizeof *net);
    if (max_batch < 1 || threads < 1)
        return td_fail(TD_ERR_CONFIG, "network '%s': batch %lld and threads %d must be >= 1",
                       g->name, (long long)max_batch, threads);
    if (g->n_nodes < 2)
        return td_fail(TD_ERR_CONFIG, "network '%s' has no layers", g->name);
    const nn_node *last = &g->nodes[g->n_nodes - 1];
    if (last->out.c != g->classes || last->out.h != 1 || last->out.w != 1)
        return td_fail(TD_ERR_CONFIG,
                       "network '%s': last layer '%s' gives %lldx%lldx%lld, not %lld logits",
                       g->name, last->name, (long long)last->out.c, (long long)last->out.h,
                       (long long)last->out.w, (long long)g->classes);
    td_status st = nn_graph_copy(&net->g, g);
    if (st != TD_OK)
        return st;
    openblas_set_num_threads(1);
    net->be = be;
    net->max_batch = max_batch;
    net->threads = threads;
    td_arena_init(&net->arena, (size_t)16 << 20, 0);
    size_t nn = g->n_nodes;
    net->layers = td_arena_alloc(&net->arena, nn * sizeof *net->layers, 64);
    if (!net->layers)
        goto nomem;
    /* count parameters and statistics */
    for (size_t i = 0; i < nn; i++) {
        const nn_node *nd = &g->nodes[i];
        if (nd->op == NN_OP_BATCHNORM)
            net->n_stats += 2 * nd->in.c;
        net->n_params += nd->params;
    }
    void *ctx = &net->arena;
    size_t np = (size_t)net->n_params;
    net->params = be->alloc(ctx, np);
    net->grads = be->alloc(ctx, np);
    net->decay = be->alloc(ctx, np);
    net->opt_m = be->alloc(ctx, np);
    net->opt_v = be->alloc(ctx, np);
    net->stats = be->alloc(ctx, (size_t)net->n_stats);
    net->dlogits = be->alloc(ctx, (size_t)(max_batch * g->classes));
    if (!net->params || !net->grads || !net->decay || !net->opt_m || !net->opt_v || !net->stats ||
        !net->dlogits)
        goto nomem;
    float *hp = calloc(np ? np : 1, sizeof *hp), *hd = calloc(np ? np : 1, sizeof *hd);
    float *hs = calloc((size_t)net->n_stats + 1, sizeof *hs);
    td_rng rng;
    if (!hp || !hd || !hs || td_rng_init(&rng, seed) != TD_OK) {
        free(hp);
        free(hd);
        free(hs);
        td_fail(TD_ERR_NOMEM, "out of memory for the initial parameters");
        goto nomem;
    }
    int64_t po = 0, so = 0;
    size_t work = 0;
    for (size_t i = 0; i < nn; i++) {
        const nn_node *nd = &g->nodes[i];
        nn_layer *L = &net->layers[i];
        L->out_size = shape_size(nd->out);
        L->y = be->alloc(ctx, (size_t)(max_batch * L->out_size));
        L->dy = be->alloc(ctx, (size_t)(max_batch * L->out_size));
        if (!L->y || !L->dy)
            break;
        if (nd->op == NN_OP_CONV || nd->op == NN_OP_FC) {
            int64_t fan_in = nd->op == NN_OP_CONV ? (nd->in.c / nd->groups) * nd->k_h * nd->k_w
                                                  : shape_size(nd->in);
            int64_t wn = nd->params - (nd->bias ? nd->out_channels : 0);
            double sd = sqrt(2.0 / (double)fan_in);
            L->w = net->params + po;
            L->dw = net->grads + po;
            for (int64_t k = 0; k < wn; k++) {
                hp[po + k] = (float)td_rng_gaussian(&rng, sd);
                hd[po + k] = 1.0f;
            }
            po += wn;
            if (nd->bias) {
                L->b = net->params + po;
                L->db = net->grads + po;
                po += nd->out_channels;
            }
            if (nd->op == NN_OP_CONV) {
                nn_conv_dims d = node_conv_dims(nd, max_batch);
                size_t wf = be->conv_work_floats ? be->conv_work_floats(&d, threads)
                                                 : nn_conv_work_floats(&d, threads);
                if (wf > work)
                    work = wf;
            }
        } else if (nd->op == NN_OP_BATCHNORM) {
            int64_t c = nd->in.c;
            L->w = net->params + po;
            L->dw = net->grads + po;
            L->b = net->params + po + c;
            L->db = net->grads + po + c;
            for (int64_t k = 0; k < c; k++)
                hp[po + k] = 1.0f;
            po += 2 * c;
            L->rmean = net->stats + so;
            L->rvar = net->stats + so + c;
            for (int64_t k = 0; k < c; k++)
                hs[so + c + k] = 1.0f;
            so += 2 * c;
            L->mean = be->alloc(ctx, (size_t)c);
            L->invstd = be->alloc(ctx, (size_t)c);
        } else if (nd->op == NN_OP_MAXPOOL) {
            L->argmax = (int32_t *)be->alloc(ctx, (size_t)(max_batch * L->out_size));
        }
    }
    td_rng_free(&rng);
    be->upload(net->params, hp, np);
    be->upload(net->decay, hd, np);
    be->upload(net->stats, hs, (size_t)net->n_stats);
    free(hp);
    free(hd);
    free(hs);
    net->work_floats = work;
    net->work = be->alloc(ctx, work);
    if (!net->work || !net->layers[nn - 1].y)
        goto nomem;
    return TD_OK;
nomem:
    nn_net_free(net);
    return td_fail_context(TD_ERR_NOMEM, "network '%s', batch %lld: ", g->name,
                           (long long)max_batch);
}

static bool backend_is_cuda(const nn_backend *be)
{
    return be && strcmp(be->name, "cuda") == 0;
}

/* Errors a device backend queued asynchronously (TD_OK on the CPU). */
static td_status backend_status(const nn_backend *be)
{
#ifdef NN_HAVE_CUDA
    if (backend_is_cuda(be))
        return nn_backend_cuda_status();
#endif
    (void)be;
    return TD_OK;
}

void nn_net_free(nn_net *net)
{
#ifdef NN_HAVE_CUDA
    if (backend_is_cuda(net->be))
        nn_backend_cuda_release(&net->arena);
#endif
    (void)backend_is_cuda;
    td_arena_free(&net->arena);
    nn_graph_free(&net->g);
    memset(net, 0, sizeof *net);
}

td_status nn_net_set_weights(nn_net *net, const float *params, int64_t n_params, const float *stats,
                             int64_t n_stats)
{
    if (n_params != net->n_params || n_stats != net->n_stats)
        return td_fail(TD_ERR_FORMAT,
                       "network '%s' needs %lld parameters and %lld statistics, the weights "
                       "have %lld and %lld",
                       net->g.name, (long long)net->n_params, (long long)net->n_stats,
                       (long long)n_params, (long long)n_stats);
    net->be->upload(net->params, params, (size_t)n_params);
    net->be->upload(net->stats, stats, (size_t)n_stats);
    return TD_OK;
}

void nn_net_get_weights(const nn_net *net, float *params, float *stats)
{
    net->be->download(params, net->params, (size_t)net->n_params);
    net->be->download(stats, net->stats, (size_t)net->n_stats);
}

const float *nn_net_activation(const nn_net *net, size_t node)
{
    return net->layers[node].y;
}

td_status nn_net_set_qat(nn_net *net, int bits)
{
    if (bits != 0 && bits != 4 && bits != 8 && bits != 16)
        return td_fail(TD_ERR_CONFIG, "quantization-aware training at %d bits: use 4, 8 or 16",
                       bits);
    if (bits && net->be != &cpu_backend)
        return td_fail(TD_ERR_UNSUPPORTED,
                       "quantization-aware training runs on the CPU backend only");
    if (bits && !net->qat_w) {
        size_t nn = net->g.n_nodes;
        net->qat_w = td_arena_floats(&net->arena, (size_t)(net->n_params + 1));
        net->qat_scale = td_arena_floats(&net->arena, 4 * nn);
        if (!net->qat_w || !net->qat_scale)
            return td_fail_context(TD_ERR_NOMEM, "quantization-aware training: ");
        net->qat_lo = net->qat_scale + nn;
        net->qat_hi = net->qat_scale + 2 * nn;
        net->qat_away = net->qat_scale + 3 * nn;
    }
    if (net->qat_scale)
        memset(net->qat_scale, 0, 4 * net->g.n_nodes * sizeof *net->qat_scale);
    if (net->qat_calib_images <= 0)
        net->qat_calib_images = 512;
    net->qat_calibrated = false;
    net->qat_bits = bits;
    return TD_OK;
}

td_status nn_net_qat_calibrate(nn_net *net, const nn_dataset *calib, const nn_norm *norm,
                               int64_t n_calib)
{
    int bits = net->qat_bits;
    if (!bits)
        return td_fail(TD_ERR_USAGE, "network '%s': quantization-aware training is off",
                       net->g.name);
    nn_qmodel q;
    net->qat_bits = 0; /* calibrate as nn_quantize will: plain float forward */
    td_status st = nn_quantize(&q, net, calib, norm, n_calib, bits);
    net->qat_bits = bits;
    if (st != TD_OK)
        return td_fail_context(st, "quantization-aware training: ");
    size_t nn = net->g.n_nodes;
    memset(net->qat_scale, 0, 4 * nn * sizeof *net->qat_scale);
    net->qat_scale[0] = (float)q.s_input;
    net->qat_lo[0] = (float)nn_qmin(bits);
    net->qat_hi[0] = (float)nn_qmax(bits);
    net->qat_away[0] = 1;
    for (int32_t i = 0; i < q.n_layers; i++) {
        const nn_qlayer *l = &q.layers[i];
        if (l->op == NN_QOP_MAXPOOL || l->op == NN_QOP_RELU)
            continue; /* same scale as the input, values stay on its grid */
        net->qat_scale[l->node] = (float)l->s_out;
        net->qat_lo[l->node] = (float)l->lo;
        net->qat_hi[l->node] = (float)l->hi;
    }
    nn_qmodel_free(&q);
    net->qat_calibrated = true;
    return TD_OK;
}

/* Fake quantization of one layer's weights, per output channel, symmetric, as
 * docs/quantization.md (the per-channel scale makes it commute with batch-norm folding). */
static const float *qat_weights(nn_net *net, const nn_node *nd, const nn_layer *L)
{
    int64_t oc = nd->out_channels;
    int64_t wn = nd->params - (nd->bias ? oc : 0);
    int64_t kk = wn / oc;
    float *q = net->qat_w + (L->w - net->params);
    double qmax = (double)(((int64_t)1 << (net->qat_bits - 1)) - 1);
    for (int64_t o = 0; o < oc; o++) {
        const float *w = L->w + o * kk;
        double mx = 0;
        for (int64_t k = 0; k < kk; k++)
            mx = fmax(mx, fabs((double)w[k]));
        double sc = mx > 0 ? mx / qmax : 1.0;
        for (int64_t k = 0; k < kk; k++) {
            double v = round(w[k] / sc); /* round half away from zero */
            v = v > qmax ? qmax : v < -qmax ? -qmax : v;
            q[o * kk + k] = (float)(v * sc);
        }
    }
    return q;
}

/* Fake quantization of a node's output in place, with the integer layer's scale, clamp
 * and rounding (straight-through: the backward pass ignores it). */
static void qat_activation(const nn_net *net, size_t node, float *y, int64_t count)
{
    double s = net->qat_scale[node];
    if (!(s > 0))
        return;
    double lo = net->qat_lo[node], hi = net->qat_hi[node], inv = 1.0 / s;
    bool away = net->qat_away[node] != 0;
    for (int64_t i = 0; i < count; i++) {
        double v = (double)y[i] * inv;
        v = away ? round(v) : floor(v + 0.5);
        v = v < lo ? lo : v > hi ? hi : v;
        y[i] = (float)(v * s);
    }
}

static const float *forward_from_input(nn_net *net, int64_t n, bool train);

const float *nn_net_forward(nn_net *net, const float *x_host, int64_t n, bool train)
{
    net->be->upload(net->layers[0].y, x_host, (size_t)(n * net->layers[0].out_size));
    return forward_from_input(net, n, train);
}

/* The forward pass from the batch already in layers[0].y. */
static const float *forward_from_input(nn_net *net, int64_t n, bool train)
{
    const nn_backend *be = net->be;
    const nn_graph *g = &net->g;
    bool fq = net->qat_bits && net->qat_calibrated;
    if (fq)
        qat_activation(net, 0, net->layers[0].y, n * net->layers[0].out_size);
    for (size_t i = 1; i < g->n_nodes; i++) {
        const nn_node *nd = &g->nodes[i];
        nn_layer *L = &net->layers[i];
        const nn_layer *src = &net->layers[nd->inputs[0]];
        int64_t hw = nd->in.h * nd->in.w;
        switch (nd->op) {
        case NN_OP_CONV: {
            nn_conv_dims d = node_conv_dims(nd, n);
            const float *w = net->qat_bits ? qat_weights(net, nd, L) : L->w;
            be->conv_forward(L->y, src->y, w, L->b, net->work, net->threads, &d);
            break;
        }
        case NN_OP_BATCHNORM:
            if (train)
                be->bn_forward_train(L->y, L->mean, L->invstd, L->rmean, L->rvar, src->y, L->w,
                                     L->b, n, nd->in.c, hw, NN_BN_MOMENTUM, NN_BN_EPS,
                                     net->threads);
            else
                be->bn_forward_eval(L->y, src->y, L->w, L->b, L->rmean, L->rvar, n, nd->in.c, hw,
                                    NN_BN_EPS);
            break;
        case NN_OP_RELU:
        case NN_OP_RELU6:
            be->relu_forward(L->y, src->y, n * L->out_size, nd->op == NN_OP_RELU6 ? 6.0f : 0.0f);
            break;
        case NN_OP_MAXPOOL:
            be->maxpool_forward(L->y, L->argmax, src->y, n, nd->in.c, nd->in.h, nd->in.w, nd->k_h,
                                nd->stride, nd->pad);
            break;
        case NN_OP_AVGPOOL:
            be->avgpool_forward(L->y, src->y, n, nd->in.c, nd->in.h, nd->in.w, nd->k_h, nd->stride,
                                nd->pad);
            break;
        case NN_OP_GLOBAL_AVGPOOL:
            be->gap_forward(L->y, src->y, n, nd->in.c, hw);
            break;
        case NN_OP_FC:
            be->fc_forward(L->y, src->y, net->qat_bits ? qat_weights(net, nd, L) : L->w, L->b, n,
                           shape_size(nd->in), nd->out_channels);
            break;
        case NN_OP_ADD:
            be->add_forward(L->y, src->y, net->layers[nd->inputs[1]].y, n * L->out_size);
            break;
        case NN_OP_INPUT:
        case NN_OP_COUNT:
            break;
        }
        if (fq)
            qat_activation(net, i, L->y, n * L->out_size);
    }
    return net->layers[g->n_nodes - 1].y;
}

double nn_net_backward(nn_net *net, const int32_t *labels, int64_t n, int64_t *correct)
{
    const nn_backend *be = net->be;
    const nn_graph *g = &net->g;
    size_t last = g->n_nodes - 1;
    double loss =
        be->softmax_xent(net->layers[last].dy, correct, net->layers[last].y, labels, n, g->classes);
    for (size_t i = 1; i < last; i++)
        be->zero(net->layers[i].dy, (size_t)(n * net->layers[i].out_size));
    for (size_t i = last; i >= 1; i--) {
        const nn_node *nd = &g->nodes[i];
        nn_layer *L = &net->layers[i];
        int32_t in0 = nd->inputs[0];
        nn_layer *src = &net->layers[in0];
        float *dx = in0 == 0 ? NULL : src->dy; /* the input image needs no gradient */
        int64_t hw = nd->in.h * nd->in.w;
        switch (nd->op) {
        case NN_OP_CONV: {
            nn_conv_dims d = node_conv_dims(nd, n);
            /* QAT: dx through the fake-quantized weights of the forward pass, dw straight
             * through to the float weights */
            const float *w = net->qat_bits ? net->qat_w + (L->w - net->params) : L->w;
            be->conv_backward(dx, L->dw, L->db, L->dy, src->y, w, net->work, net->threads, &d);
            break;
        }
        case NN_OP_BATCHNORM:
            be->bn_backward(dx, L->dw, L->db, L->dy, src->y, L->mean, L->invstd, L->w, n, nd->in.c,
                            hw, net->threads);
            break;
        case NN_OP_RELU:
        case NN_OP_RELU6:
            if (dx)
                be->relu_backward(dx, L->dy, src->y, n * L->out_size,
                                  nd->op == NN_OP_RELU6 ? 6.0f : 0.0f);
            break;
        case NN_OP_MAXPOOL:
            if (dx)
                be->maxpool_backward(dx, L->dy, L->argmax, n, nd->in.c, nd->in.h, nd->in.w, nd->k_h,
                                     nd->stride, nd->pad);
            break;
        case NN_OP_AVGPOOL:
            if (dx)
                be->avgpool_backward(dx, L->dy, n, nd->in.c, nd->in.h, nd->in.w, nd->k_h,
                                     nd->stride, nd->pad);
            break;
        case NN_OP_GLOBAL_AVGPOOL:
            if (dx)
                be->gap_backward(dx, L->dy, n, nd->in.c, hw);
            break;
        case NN_OP_FC:
            be->fc_backward(dx, L->dw, L->db, L->dy, src->y,
                            net->qat_bits ? net->qat_w + (L->w - net->params) : L->w, n,
                            shape_size(nd->in), nd->out_channels);
            break;
        case NN_OP_ADD: {
            int32_t in1 = nd->inputs[1];
            be->add_backward(dx, in1 == 0 ? NULL : net->layers[in1].dy, L->dy, n * L->out_size);
            break;
        }
        case NN_OP_INPUT:
        case NN_OP_COUNT:
            break;
        }
    }
    return loss;
}

/* ---------------------------------------------------------------- training */

void nn_recipe_default(nn_recipe *r)
{
    memset(r, 0, sizeof *r);
    r->epochs = 10;
    r->batch = 128;
    r->images = 0;
    r->optimizer = NN_OPT_SGD;
    r->lr = 0.05;
    r->momentum = 0.9;
    r->weight_decay = 5e-4;
    r->warmup_epochs = 0.3;
    r->nesterov = true;
    r->augment.flip = true;
    r->augment.crop_pad = 0;
    r->seed = 1;
    r->threads = 2;
}

double nn_lr_at(double peak, int64_t step, int64_t total, int64_t warmup)
{
    if (warmup > 0 && step < warmup)
        return peak * (double)(step + 1) / (double)warmup;
    int64_t span = total - warmup;
    if (span <= 0)
        return peak;
    double t = (double)(step - warmup) / (double)span;
    if (t > 1)
        t = 1;
    return 0.5 * peak * (1.0 + cos(M_PI * t));
}

td_status nn_net_evaluate(nn_net *net, const nn_dataset *ds, const nn_norm *norm, int64_t n,
                          double *accuracy)
{
    if (n <= 0 || n > ds->n)
        n = ds->n;
    int64_t in_size = net->layers[0].out_size;
    if (ds->c * ds->h * ds->w != in_size)
        return td_fail(TD_ERR_CONFIG,
                       "network '%s' takes %lldx%lldx%lld inputs, the data is "
                       "%lldx%lldx%lld",
                       net->g.name, (long long)net->g.input.c, (long long)net->g.input.h,
                       (long long)net->g.input.w, (long long)ds->c, (long long)ds->h,
                       (long long)ds->w);
    int64_t B = net->max_batch, classes = net->g.classes;
    float *x = malloc((size_t)(B * in_size) * sizeof *x);
    float *logits = malloc((size_t)(B * classes) * sizeof *logits);
    int32_t *y = malloc((size_t)B * sizeof *y);
    int64_t *idx = malloc((size_t)B * sizeof *idx);
    if (!x || !logits || !y || !idx) {
        free(x);
        free(logits);
        free(y);
        free(idx);
        return td_fail(TD_ERR_NOMEM, "out of memory");
    }
    int64_t hits = 0;
    for (int64_t s = 0; s < n; s += B) {
        int64_t m = n - s < B ? n - s : B;
        for (int64_t i = 0; i < m; i++)
            idx[i] = s + i;
        nn_batch_fill(x, y, ds, idx, m, norm, NULL, NULL);
        const float *z = nn_net_forward(net, x, m, false);
        net->be->download(logits, z, (size_t)(m * classes));
        for (int64_t i = 0; i < m; i++) {
            int64_t best = 0;
            for (int64_t j = 1; j < classes; j++)
                if (logits[i * classes + j] > logits[i * classes + best])
                    best = j;
            hits += best == y[i];
        }
    }
    *accuracy = (double)hits / (double)n;
    free(x);
    free(logits);
    free(y);
    free(idx);
    return backend_status(net->be);
}

td_status nn_net_train(nn_net *net, const nn_dataset *train, const nn_dataset *val,
                       const nn_norm *norm, const nn_recipe *r, nn_epoch_fn on_epoch, void *ctx,
                       nn_train_result *out)
{
    memset(out, 0, sizeof *out);
    out->val_accuracy = -1;
    int64_t in_size = net->layers[0].out_size;
    if (train->c * train->h * train->w != in_size)
        return td_fail(TD_ERR_CONFIG,
                       "network '%s' takes %lldx%lldx%lld inputs, the data is "
                       "%lldx%lldx%lld",
                       net->g.name, (long long)net->g.input.c, (long long)net->g.input.h,
                       (long long)net->g.input.w, (long long)train->c, (long long)train->h,
                       (long long)train->w);
    if (train->classes > net->g.classes)
        return td_fail(TD_ERR_CONFIG, "network '%s' has %lld classes, the data has %lld",
                       net->g.name, (long long)net->g.classes, (long long)train->classes);
    if (r->batch < 1 || r->batch > net->max_batch || r->epochs < 1)
        return td_fail(TD_ERR_CONFIG, "batch %lld (max %lld) and epochs %d are not valid",
                       (long long)r->batch, (long long)net->max_batch, r->epochs);
    int64_t n_img = (r->images > 0 && r->images < train->n) ? r->images : train->n;
    int64_t B = r->batch;
    int64_t steps_per_epoch = (n_img + B - 1) / B;
    int64_t total = steps_per_epoch * r->epochs;
    int64_t warm = (int64_t)llround(r->warmup_epochs * (double)steps_per_epoch);
    float *x = malloc((size_t)(B * in_size) * sizeof *x);
    int32_t *y = malloc((size_t)B * sizeof *y);
    int64_t *perm = malloc((size_t)train->n * sizeof *perm);
    if (!x || !y || !perm) {
        free(x);
        free(y);
        free(perm);
        return td_fail(TD_ERR_NOMEM, "out of memory");
    }
    td_rng rng;
    td_status st = td_rng_init(&rng, td_seed_derive(r->seed, 0x747261696e));
    if (st != TD_OK) {
        free(x);
        free(y);
        free(perm);
        return st;
    }
    for (int64_t i = 0; i < train->n; i++)
        perm[i] = i;
    /* a device backend keeps the training set resident when it fits: batches are then made
     * on the device (bit-identical to nn_batch_fill's) and only indices cross */
    void *resident = NULL;
    if (net->be->dataset_upload && net->be->batch_fill && !net->qat_bits) {
        resident = net->be->dataset_upload(train);
        if (!resident)
            td_log_info("network '%s': the training set stays on the host (%s)", net->g.name,
                        td_error_message());
    }
    double t0 = td_now_s(), train_total_s = 0;
    int64_t sched_step = 0; /* the schedule restarts per call; net->step counts all steps */
    const nn_backend *be = net->be;
    for (int32_t ep = 1; ep <= r->epochs; ep++) {
        double te = td_now_s();
        /* a fresh shuffle each epoch; the first n_img of it are this epoch's images */
        for (int64_t i = train->n - 1; i > 0; i--) {
            int64_t j = (int64_t)td_rng_uniform_int(&rng, (uint64_t)i + 1);
            int64_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        double loss_sum = 0;
        int64_t hits = 0;
        double lr = 0;
        for (int64_t s = 0; s < n_img; s += B) {
            int64_t m = n_img - s < B ? n_img - s : B;
            if (net->qat_bits && (s / B) % NN_QAT_RECALIB_STEPS == 0 &&
                (st = nn_net_qat_calibrate(net, train, norm, net->qat_calib_images)) != TD_OK)
                break;
            if (resident) {
                net->be->batch_fill(net->layers[0].y, y, resident, train, perm + s, m, norm,
                                    &r->augment, &rng);
                forward_from_input(net, m, true);
            } else {
                nn_batch_fill(x, y, train, perm + s, m, norm, &r->augment, &rng);
                nn_net_forward(net, x, m, true);
            }
            int64_t c = 0;
            double loss = nn_net_backward(net, y, m, &c);
            if (!isfinite(loss)) {
                if (resident)
                    net->be->dataset_free(resident);
                td_rng_free(&rng);
                free(x);
                free(y);
                free(perm);
                td_status bs = backend_status(be); /* a device error reads as a NaN loss */
                if (bs != TD_OK)
                    return bs;
                return td_fail(TD_ERR_INFEASIBLE,
                               "network '%s': training diverged (loss %g) at epoch %d; lower "
                               "the learning rate",
                               net->g.name, loss, ep);
            }
            loss_sum += loss * (double)m;
            hits += c;
            lr = nn_lr_at(r->lr, sched_step++, total, warm);
            net->step++;
            if (r->optimizer == NN_OPT_SGD)
                be->sgd_step(net->params, net->opt_m, net->grads, net->decay, net->n_params,
                             (float)lr, (float)r->momentum, (float)r->weight_decay, r->nesterov);
            else
                be->adamw_step(net->params, net->opt_m, net->opt_v, net->grads, net->decay,
                               net->n_params, (float)lr, NN_ADAM_BETA1, NN_ADAM_BETA2, NN_ADAM_EPS,
                               (float)r->weight_decay, net->step);
        }
        if (st != TD_OK)
            break; /* a failed recalibration (quantization-aware training) */
        double train_s = td_now_s() - te;
        train_total_s += train_s;
        if ((st = backend_status(be)) != TD_OK)
            break;
        nn_epoch_stats es = {ep, loss_sum / (double)n_img, (double)hits / (double)n_img, -1, lr,
                             0,  (double)n_img / train_s};
        if (val && val->n > 0) {
            if ((st = nn_net_evaluate(net, val, norm, 0, &es.val_accuracy)) != TD_OK)
                break;
        }
        es.wall_s = td_now_s() - t0;
        out->final_loss = es.train_loss;
        out->train_accuracy = es.train_accuracy;
        out->val_accuracy = es.val_accuracy;
        out->images_seen += n_img;
        out->images_per_s = (double)out->images_seen / train_total_s;
        if (on_epoch)
            on_epoch(ctx, &es);
    }
    out->wall_s = td_now_s() - t0;
    if (resident)
        net->be->dataset_free(resident);
    td_rng_free(&rng);
    free(x);
    free(y);
    free(perm);
    return st;
}
