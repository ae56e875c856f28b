#include "nn_quant.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static const char *const qop_names[NN_QOP_COUNT] = {
    [NN_QOP_CONV] = "conv",          [NN_QOP_FC] = "fc",
    [NN_QOP_MAXPOOL] = "maxpool",    [NN_QOP_AVGPOOL] = "avgpool",
    [NN_QOP_GAP] = "global_avgpool", [NN_QOP_ADD] = "add",
    [NN_QOP_RELU] = "relu",
};

const char *nn_qop_name(nn_qop op)
{
    return (int)op >= 0 && op < NN_QOP_COUNT ? qop_names[op] : "?";
}

bool nn_bits_valid(int bits)
{
    return bits == 4 || bits == 8 || bits == 16 || bits == 32;
}

int64_t nn_qlayer_out_size(const nn_qlayer *l)
{
    return l->out_shape.c * l->out_shape.h * l->out_shape.w;
}

td_status nn_requant_add_from_real(double fa, double fb, uint32_t *ma, uint32_t *mb, int32_t *shift)
{
    double f = fa > fb ? fa : fb;
    nn_requant r;
    td_status st = nn_requant_from_real(f, &r);
    if (st != TD_OK)
        return st;
    if (!isfinite(fa) || !isfinite(fb) || fa < 0 || fb < 0)
        return td_fail(TD_ERR_CONFIG, "residual add factors %g, %g are not finite values >= 0", fa,
                       fb);
    double sa = ldexp(fa, r.shift), sb = ldexp(fb, r.shift);
    /* the larger is r.mult; the smaller rounds half away at the same shift */
    *ma = fa >= fb ? r.mult : (uint32_t)llround(sa);
    *mb = fa >= fb ? (uint32_t)llround(sb) : r.mult;
    *shift = r.shift;
    return TD_OK;
}

void nn_qmodel_free(nn_qmodel *q)
{
    if (q->layers)
        for (int32_t i = 0; i < q->n_layers; i++) {
            nn_qlayer *l = &q->layers[i];
            free(l->w);
            free(l->bias);
            free(l->s_w);
            free(l->rq);
            free(l->rq_pool);
        }
    free(q->layers);
    memset(q, 0, sizeof *q);
}

static void *dup_mem(const void *p, size_t n)
{
    if (!p)
        return NULL;
    void *d = malloc(n ? n : 1);
    if (d)
        memcpy(d, p, n);
    return d;
}

td_status nn_qmodel_copy(nn_qmodel *dst, const nn_qmodel *src)
{
    *dst = *src;
    dst->layers = calloc((size_t)src->n_layers + 1, sizeof *dst->layers);
    if (!dst->layers)
        return td_fail(TD_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < src->n_layers; i++) {
        const nn_qlayer *s = &src->layers[i];
        nn_qlayer *d = &dst->layers[i];
        *d = *s;
        int64_t kk = s->op == NN_QOP_FC
                         ? s->in_shape.c * s->in_shape.h * s->in_shape.w
                         : (s->in_shape.c / (s->groups ? s->groups : 1)) * s->k * s->k;
        size_t oc = (size_t)s->out_channels;
        d->w = dup_mem(s->w, oc * (size_t)kk * sizeof *s->w);
        d->bias = dup_mem(s->bias, oc * sizeof *s->bias);
        d->s_w = dup_mem(s->s_w, oc * sizeof *s->s_w);
        d->rq = dup_mem(s->rq, oc * sizeof *s->rq);
        d->rq_pool = dup_mem(s->rq_pool, (size_t)s->n_rq_pool * sizeof *s->rq_pool);
    }
    return TD_OK;
}

/* ---------------------------------------------------------------- quantization */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static double scale_of(double maxabs, int bits)
{
    return maxabs > 0 ? maxabs / (double)nn_qmax(bits) : 1.0;
}

/* Output clamp for an activation node (or none) at output scale s. */
static void act_clamp(nn_op act, double s, int bits, int64_t *lo, int64_t *hi)
{
    *lo = nn_qmin(bits);
    *hi = nn_qmax(bits);
    if (act == NN_OP_RELU || act == NN_OP_RELU6)
        *lo = 0;
    if (act == NN_OP_RELU6) {
        int64_t six = nn_round_half_away(6.0 / s);
        if (six < *hi)
            *hi = six;
    }
}

td_status nn_quantize(nn_qmodel *q, nn_net *net, const nn_dataset *calib, const nn_norm *norm,
                      int64_t n_calib, int bits)
{
    memset(q, 0, sizeof *q);
    const nn_graph *g = &net->g;
    if (!nn_bits_valid(bits))
        return td_fail(TD_ERR_CONFIG, "bit width %d is not one of 4, 8, 16, 32", bits);
    if (n_calib <= 0 || n_calib > calib->n)
        n_calib = calib->n;
    if (n_calib < 1)
        return td_fail(TD_ERR_CONFIG, "quantization needs at least one calibration image");
    size_t nn = g->n_nodes;
    int64_t in_size = g->input.c * g->input.h * g->input.w;
    if (calib->c * calib->h * calib->w != in_size)
        return td_fail(TD_ERR_CONFIG, "network '%s': calibration images do not fit its input",
                       g->name);
    /* 1. calibration: max |activation| per node over the calibration images */
    double *maxabs = calloc(nn, sizeof *maxabs);
    int32_t *consumers = calloc(nn, sizeof *consumers);
    int32_t *qidx = malloc(nn * sizeof *qidx);
    int64_t B = net->max_batch;
    float *x = malloc((size_t)(B * in_size) * sizeof *x);
    int64_t *idx = malloc((size_t)B * sizeof *idx);
    float *host = NULL;
    int64_t max_out = 0;
    for (size_t i = 0; i < nn; i++)
        if (net->layers[i].out_size > max_out)
            max_out = net->layers[i].out_size;
    host = malloc((size_t)(B * max_out) * sizeof *host);
    q->layers = calloc(nn, sizeof *q->layers);
    td_status st = TD_OK;
    if (!maxabs || !consumers || !qidx || !x || !idx || !host || !q->layers) {
        st = td_fail(TD_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int64_t s = 0; s < n_calib; s += B) {
        int64_t m = n_calib - s < B ? n_calib - s : B;
        for (int64_t i = 0; i < m; i++)
            idx[i] = s + i;
        nn_batch_fill(x, NULL, calib, idx, m, norm, NULL, NULL);
        nn_net_forward(net, x, m, false);
        for (size_t i = 0; i < nn; i++) {
            int64_t cnt = m * net->layers[i].out_size;
            net->be->download(host, net->layers[i].y, (size_t)cnt);
            double mx = maxabs[i];
            for (int64_t k = 0; k < cnt; k++) {
                double v = fabs((double)host[k]);
                if (v > mx)
                    mx = v;
            }
            maxabs[i] = mx;
        }
    }
    /* 2. lowering */
    for (size_t i = 1; i < nn; i++)
        for (int j = 0; j < g->nodes[i].n_inputs; j++)
            consumers[g->nodes[i].inputs[j]]++;
    for (size_t i = 0; i < nn; i++)
        qidx[i] = -1;
    q->bits = bits;
    q->input = g->input;
    q->classes = g->classes;
    q->s_input = scale_of(maxabs[0], bits);
    int64_t qmax = nn_qmax(bits);
    float *hparams = malloc((size_t)(net->n_params ? net->n_params : 1) * sizeof *hparams);
    float *hstats = malloc((size_t)(net->n_stats + 1) * sizeof *hstats);
    if (!hparams || !hstats) {
        free(hparams);
        free(hstats);
        st = td_fail(TD_ERR_NOMEM, "out of memory");
        goto done;
    }
    nn_net_get_weights(net, hparams, hstats);
    for (size_t i = 1; i < nn && st == TD_OK; i++) {
        const nn_node *nd = &g->nodes[i];
        nn_qlayer *l = &q->layers[q->n_layers];
        memset(l, 0, sizeof *l);
        snprintf(l->name, sizeof l->name, "%s", nd->name);
        l->in[0] = nd->inputs[0] == 0 ? -1 : qidx[nd->inputs[0]];
        l->in[1] = -1;
        l->s_in = l->in[0] < 0 ? q->s_input : q->layers[l->in[0]].s_out;
        l->in_shape = nd->in;
        l->k = nd->k_h;
        l->stride = nd->stride;
        l->pad = nd->pad;
        l->groups = nd->groups ? nd->groups : 1;
        l->out_channels = nd->out_channels;
        size_t last = i;
        int32_t bn = -1;
        nn_op act = NN_OP_INPUT;
        switch (nd->op) {
        case NN_OP_CONV:
        case NN_OP_FC:
        case NN_OP_ADD:
            if (nd->op == NN_OP_CONV && last + 1 < nn && g->nodes[last + 1].op == NN_OP_BATCHNORM &&
                g->nodes[last + 1].inputs[0] == (int32_t)last && consumers[last] == 1) {
                bn = (int32_t)(last + 1);
                last++;
            }
            if (last + 1 < nn &&
                (g->nodes[last + 1].op == NN_OP_RELU || g->nodes[last + 1].op == NN_OP_RELU6) &&
                g->nodes[last + 1].inputs[0] == (int32_t)last && consumers[last] == 1) {
                act = g->nodes[last + 1].op;
                last++;
            }
            l->op = nd->op == NN_OP_CONV ? NN_QOP_CONV
                    : nd->op == NN_OP_FC ? NN_QOP_FC
                                         : NN_QOP_ADD;
            l->s_out = scale_of(maxabs[last], bits);
            break;
        case NN_OP_BATCHNORM:
            st = td_fail(TD_ERR_CONFIG,
                         "network '%s', layer '%s': a batch norm must directly follow a conv "
                         "(its only consumer) to be folded for integer inference",
                         g->name, nd->name);
            continue;
        case NN_OP_RELU:
        case NN_OP_RELU6:
            l->op = NN_QOP_RELU;
            act = nd->op;
            l->s_out = l->s_in;
            break;
        case NN_OP_MAXPOOL:
            l->op = NN_QOP_MAXPOOL;
            l->s_out = l->s_in;
            break;
        case NN_OP_AVGPOOL:
        case NN_OP_GLOBAL_AVGPOOL:
            l->op = nd->op == NN_OP_AVGPOOL ? NN_QOP_AVGPOOL : NN_QOP_GAP;
            l->s_out = scale_of(maxabs[i], bits);
            break;
        case NN_OP_INPUT:
        case NN_OP_COUNT:
            st = td_fail(TD_ERR_INTERNAL, "layer '%s': unexpected op", nd->name);
            continue;
        }
        l->node = (int32_t)last;
        l->out_shape = g->nodes[last].out;
        act_clamp(act, l->s_out, bits, &l->lo, &l->hi);
        for (size_t j = i; j <= last; j++)
            qidx[j] = q->n_layers;
        /* parameters */
        if (l->op == NN_QOP_CONV || l->op == NN_QOP_FC) {
            const nn_layer *L = &net->layers[i];
            const float *W = hparams + (L->w - net->params);
            const float *Bv = L->b ? hparams + (L->b - net->params) : NULL;
            int64_t oc = nd->out_channels;
            int64_t kk = l->op == NN_QOP_FC ? nd->in.c * nd->in.h * nd->in.w
                                            : (nd->in.c / nd->groups) * nd->k_h * nd->k_w;
            l->out_channels = oc;
            l->w = malloc((size_t)(oc * kk) * sizeof *l->w);
            l->bias = malloc((size_t)oc * sizeof *l->bias);
            l->s_w = malloc((size_t)oc * sizeof *l->s_w);
            l->rq = malloc((size_t)oc * sizeof *l->rq);
            double *wf = malloc((size_t)kk * sizeof *wf);
            if (!l->w || !l->bias || !l->s_w || !l->rq || !wf) {
                free(wf);
                st = td_fail(TD_ERR_NOMEM, "out of memory");
                q->n_layers++;
                continue;
            }
            for (int64_t o = 0; o < oc && st == TD_OK; o++) {
                double a = 1.0, bf = Bv ? Bv[o] : 0.0;
                if (bn >= 0) {
                    const nn_layer *N = &net->layers[bn];
                    double gam = hparams[N->w - net->params + o];
                    double bet = hparams[N->b - net->params + o];
                    double rm = hstats[N->rmean - net->stats + o];
                    double rv = hstats[N->rvar - net->stats + o];
                    a = gam / sqrt(rv + (double)NN_BN_EPS);
                    bf = (bf - rm) * a + bet;
                }
                double mx = 0;
                for (int64_t k = 0; k < kk; k++) {
                    wf[k] = W[o * kk + k] * a;
                    if (fabs(wf[k]) > mx)
                        mx = fabs(wf[k]);
                }
                double sw = mx > 0 ? mx / (double)qmax : 1.0;
                l->s_w[o] = sw;
                for (int64_t k = 0; k < kk; k++)
                    l->w[o * kk + k] =
                        (int32_t)clamp64(nn_round_half_away(wf[k] / sw), -qmax, qmax);
                double bq = bf / (l->s_in * sw);
                if (!(fabs(bq) < 0x1p100)) {
                    st = td_fail(TD_ERR_CONFIG,
                                 "network '%s', layer '%s': bias %g of channel %lld does not fit "
                                 "the accumulator at %d-bit scales",
                                 g->name, nd->name, bf, (long long)o, bits);
                    break;
                }
                /* round half away; above 2^53 the double is already an integer */
                l->bias[o] = fabs(bq) < 0x1p62
                                 ? (nn_acc_t)nn_round_half_away(bq)
                                 : (nn_acc_t)(bq < 0 ? -floor(-bq + 0.5) : floor(bq + 0.5));
                st = nn_requant_from_real(l->s_in * sw / l->s_out, &l->rq[o]);
                if (st != TD_OK)
                    td_fail_context(st, "network '%s', layer '%s': ", g->name, nd->name);
            }
            free(wf);
        } else if (l->op == NN_QOP_AVGPOOL || l->op == NN_QOP_GAP) {
            int32_t cnt = l->op == NN_QOP_GAP ? 1 : l->k * l->k;
            l->n_rq_pool = cnt;
            l->rq_pool = malloc((size_t)cnt * sizeof *l->rq_pool);
            if (!l->rq_pool) {
                st = td_fail(TD_ERR_NOMEM, "out of memory");
            } else {
                for (int32_t c = 0; c < cnt && st == TD_OK; c++) {
                    double n = l->op == NN_QOP_GAP ? (double)(nd->in.h * nd->in.w) : c + 1.0;
                    st = nn_requant_from_real(l->s_in / (n * l->s_out), &l->rq_pool[c]);
                }
            }
        } else if (l->op == NN_QOP_ADD) {
            l->in[1] = nd->inputs[1] == 0 ? -1 : qidx[nd->inputs[1]];
            l->s_in2 = l->in[1] < 0 ? q->s_input : q->layers[l->in[1]].s_out;
            st = nn_requant_add_from_real(l->s_in / l->s_out, l->s_in2 / l->s_out, &l->mult_a,
                                          &l->mult_b, &l->shift);
        }
        q->n_layers++;
        i = last;
    }
    free(hparams);
    free(hstats);
    if (st == TD_OK) {
        /* widest reduction */
        int need = 0;
        for (int32_t i = 0; i < q->n_layers; i++) {
            const nn_qlayer *l = &q->layers[i];
            int64_t kk = 0;
            if (l->op == NN_QOP_FC)
                kk = l->in_shape.c * l->in_shape.h * l->in_shape.w;
            else if (l->op == NN_QOP_CONV)
                kk = (l->in_shape.c / l->groups) * l->k * l->k;
            if (kk && nn_acc_bits_needed(bits, kk) > need)
                need = nn_acc_bits_needed(bits, kk);
        }
        q->acc_bits = need;
    }
done:
    free(maxabs);
    free(consumers);
    free(qidx);
    free(x);
    free(idx);
    free(host);
    if (st != TD_OK)
        nn_qmodel_free(q);
    return st;
}

/* ---------------------------------------------------------------- integer inference */

void nn_qmodel_quantize_input(const nn_qmodel *q, int32_t *x_q, const float *x, int64_t n)
{
    int64_t cnt = n * q->input.c * q->input.h * q->input.w;
    int64_t lo = nn_qmin(q->bits), hi = nn_qmax(q->bits);
    for (int64_t i = 0; i < cnt; i++)
        x_q[i] = (int32_t)clamp64(nn_round_half_away((double)x[i] / q->s_input), lo, hi);
}

static int32_t requant_clamp(nn_acc_t acc, nn_requant r, int64_t lo, int64_t hi)
{
    return (int32_t)nn_requantize(acc, r, lo, hi);
}

/* conv, reference: direct loops; accumulator int64 for bits <= 16, __int128 for 32 */
static void qconv_ref(const nn_qlayer *l, int bits, int32_t *y, const int32_t *x)
{
    int64_t C = l->in_shape.c, H = l->in_shape.h, W = l->in_shape.w;
    int64_t OC = l->out_channels, OH = l->out_shape.h, OW = l->out_shape.w;
    int64_t cg = C / l->groups, og = OC / l->groups, k = l->k, kk = cg * k * k;
    for (int64_t o = 0; o < OC; o++) {
        int64_t g = o / og;
        const int32_t *wo = l->w + o * kk;
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++) {
                nn_acc_t acc;
                if (bits <= 16) {
                    int64_t a = (int64_t)l->bias[o];
                    for (int64_t ci = 0; ci < cg; ci++)
                        for (int64_t ky = 0; ky < k; ky++) {
                            int64_t iy = oy * l->stride - l->pad + ky;
                            if (iy < 0 || iy >= H)
                                continue;
                            for (int64_t kx = 0; kx < k; kx++) {
                                int64_t ix = ox * l->stride - l->pad + kx;
                                if (ix < 0 || ix >= W)
                                    continue;
                                a += (int64_t)x[((g * cg + ci) * H + iy) * W + ix] *
                                     wo[(ci * k + ky) * k + kx];
                            }
                        }
                    acc = a;
                } else {
                    acc = l->bias[o];
                    for (int64_t ci = 0; ci < cg; ci++)
                        for (int64_t ky = 0; ky < k; ky++) {
                            int64_t iy = oy * l->stride - l->pad + ky;
                            if (iy < 0 || iy >= H)
                                continue;
                            for (int64_t kx = 0; kx < k; kx++) {
                                int64_t ix = ox * l->stride - l->pad + kx;
                                if (ix < 0 || ix >= W)
                                    continue;
                                acc += (nn_acc_t)x[((g * cg + ci) * H + iy) * W + ix] *
                                       wo[(ci * k + ky) * k + kx];
                            }
                        }
                }
                y[(o * OH + oy) * OW + ox] = requant_clamp(acc, l->rq[o], l->lo, l->hi);
            }
    }
}

static void qfc_ref(const nn_qlayer *l, int bits, int32_t *y, const int32_t *x)
{
    int64_t K = l->in_shape.c * l->in_shape.h * l->in_shape.w;
    for (int64_t o = 0; o < l->out_channels; o++) {
        const int32_t *wo = l->w + o * K;
        nn_acc_t acc;
        if (bits <= 16) {
            int64_t a = (int64_t)l->bias[o];
            for (int64_t k = 0; k < K; k++)
                a += (int64_t)x[k] * wo[k];
            acc = a;
        } else {
            acc = l->bias[o];
            for (int64_t k = 0; k < K; k++)
                acc += (nn_acc_t)x[k] * wo[k];
        }
        y[o] = requant_clamp(acc, l->rq[o], l->lo, l->hi);
    }
}

static void qpool(const nn_qlayer *l, int32_t *y, const int32_t *x)
{
    int64_t C = l->in_shape.c, H = l->in_shape.h, W = l->in_shape.w;
    int64_t OH = l->out_shape.h, OW = l->out_shape.w;
    if (l->op == NN_QOP_GAP) {
        for (int64_t c = 0; c < C; c++) {
            int64_t s = 0;
            for (int64_t i = 0; i < H * W; i++)
                s += x[c * H * W + i];
            y[c] = requant_clamp(s, l->rq_pool[0], l->lo, l->hi);
        }
        return;
    }
    for (int64_t c = 0; c < C; c++)
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++) {
                int64_t s = 0, n = 0, mx = INT64_MIN;
                for (int64_t ky = 0; ky < l->k; ky++) {
                    int64_t iy = oy * l->stride - l->pad + ky;
                    if (iy < 0 || iy >= H)
                        continue;
                    for (int64_t kx = 0; kx < l->k; kx++) {
                        int64_t ix = ox * l->stride - l->pad + kx;
                        if (ix < 0 || ix >= W)
                            continue;
                        int64_t v = x[(c * H + iy) * W + ix];
                        s += v;
                        n++;
                        if (v > mx)
                            mx = v;
                    }
                }
                int32_t *o = &y[(c * OH + oy) * OW + ox];
                if (l->op == NN_QOP_MAXPOOL)
                    *o = (int32_t)mx;
                else
                    *o = requant_clamp(s, l->rq_pool[n - 1], l->lo, l->hi);
            }
}

static void qelementwise(const nn_qlayer *l, int32_t *y, const int32_t *a, const int32_t *b)
{
    int64_t cnt = nn_qlayer_out_size(l);
    if (l->op == NN_QOP_RELU) {
        for (int64_t i = 0; i < cnt; i++)
            y[i] = (int32_t)clamp64(a[i], l->lo, l->hi);
        return;
    }
    for (int64_t i = 0; i < cnt; i++)
        y[i] = (int32_t)nn_requantize_add(a[i], l->mult_a, b[i], l->mult_b, l->shift, l->lo, l->hi);
}

static void qlayer_run_ref(const nn_qmodel *q, int32_t i, int32_t *const *acts, const int32_t *x_q)
{
    const nn_qlayer *l = &q->layers[i];
    const int32_t *a = l->in[0] < 0 ? x_q : acts[l->in[0]];
    const int32_t *b = l->in[1] < 0 ? x_q : acts[l->in[1]];
    switch (l->op) {
    case NN_QOP_CONV:
        qconv_ref(l, q->bits, acts[i], a);
        break;
    case NN_QOP_FC:
        qfc_ref(l, q->bits, acts[i], a);
        break;
    case NN_QOP_MAXPOOL:
    case NN_QOP_AVGPOOL:
    case NN_QOP_GAP:
        qpool(l, acts[i], a);
        break;
    case NN_QOP_ADD:
    case NN_QOP_RELU:
        qelementwise(l, acts[i], a, b);
        break;
    case NN_QOP_COUNT:
        break;
    }
}

void nn_qmodel_infer_ref(const nn_qmodel *q, int32_t *const *acts, const int32_t *x_q)
{
    for (int32_t i = 0; i < q->n_layers; i++)
        qlayer_run_ref(q, i, acts, x_q);
}

/* Exact in double when every partial sum stays below 2^53. */
/* Exact in double when every partial sum stays below 2^53. For 32 bits every value is split
 * into a signed high and an unsigned low 16-bit half, x = xh * 2^16 + xl, and the product is
 * assembled from four exact GEMMs: xh*wh << 32 + (xh*wl + xl*wh) << 16 + xl*wl, each
 * partial sum below K * 2^32 (K < 2^20 keeps them below 2^53). */
static bool dgemm_exact(int bits, int64_t kk)
{
    if (bits > 16)
        return bits == 32 && kk < ((int64_t)1 << 20);
    double bound = (double)kk * ldexp(1.0, 2 * bits - 2);
    return bound < ldexp(1.0, 53);
}

/* im2col of one group into col (doubles); part: 0 = whole value, 1 = high half (signed),
 * 2 = low half (unsigned) */
static void qim2col(double *col, const nn_qlayer *l, const int32_t *x, int64_t g, int part)
{
    int64_t C = l->in_shape.c, H = l->in_shape.h, W = l->in_shape.w;
    int64_t OH = l->out_shape.h, OW = l->out_shape.w, M = OH * OW;
    int64_t cg = C / l->groups, k = l->k;
    for (int64_t ci = 0; ci < cg; ci++)
        for (int64_t ky = 0; ky < k; ky++)
            for (int64_t kx = 0; kx < k; kx++) {
                double *row = col + ((ci * k + ky) * k + kx) * M;
                for (int64_t oy = 0; oy < OH; oy++) {
                    int64_t iy = oy * l->stride - l->pad + ky;
                    for (int64_t ox = 0; ox < OW; ox++) {
                        int64_t ix = ox * l->stride - l->pad + kx;
                        int32_t v = (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                        ? 0
                                        : x[((g * cg + ci) * H + iy) * W + ix];
                        row[oy * OW + ox] = part == 0   ? (double)v
                                            : part == 1 ? (double)(v >> 16)
                                                        : (double)(v & 0xffff);
                    }
                }
            }
}

static void qweights(double *wd, const int32_t *w, int64_t n, int part)
{
    for (int64_t i = 0; i < n; i++)
        wd[i] = part == 0   ? (double)w[i]
                : part == 1 ? (double)(w[i] >> 16)
                            : (double)(w[i] & 0xffff);
}

static void qconv_fast(const nn_qlayer *l, int bits, int32_t *y, const int32_t *x, double *buf)
{
    int64_t OC = l->out_channels, M = l->out_shape.h * l->out_shape.w;
    int64_t cg = l->in_shape.c / l->groups, og = OC / l->groups, kk = cg * l->k * l->k;
    int halves = bits > 16 ? 2 : 1;
    double *col[2], *wd[2], *acc[4];
    double *p = buf;
    for (int h = 0; h < halves; h++) {
        col[h] = p;
        p += kk * M;
        wd[h] = p;
        p += og * kk;
    }
    for (int h = 0; h < halves * halves; h++) {
        acc[h] = p;
        p += og * M;
    }
    for (int64_t g = 0; g < l->groups; g++) {
        for (int h = 0; h < halves; h++) {
            qim2col(col[h], l, x, g, halves == 1 ? 0 : h + 1);
            qweights(wd[h], l->w + g * og * kk, og * kk, halves == 1 ? 0 : h + 1);
        }
        /* acc[2*hw + hx] = W_hw . X_hx */
        for (int hw = 0; hw < halves; hw++)
            for (int hx = 0; hx < halves; hx++)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)og, (int)M, (int)kk,
                            1.0, wd[hw], (int)kk, col[hx], (int)M, 0.0, acc[2 * hw + hx], (int)M);
        for (int64_t o = 0; o < og; o++) {
            int64_t oo = g * og + o;
            for (int64_t i = 0; i < M; i++) {
                nn_acc_t a;
                if (halves == 1) {
                    a = (nn_acc_t)(int64_t)acc[0][o * M + i];
                } else {
                    nn_acc_t hh = (int64_t)acc[0][o * M + i], hl = (int64_t)acc[1][o * M + i],
                             lh = (int64_t)acc[2][o * M + i], ll = (int64_t)acc[3][o * M + i];
                    a = hh * ((nn_acc_t)1 << 32) + (hl + lh) * 65536 + ll;
                }
                y[oo * M + i] = requant_clamp(a + l->bias[oo], l->rq[oo], l->lo, l->hi);
            }
        }
    }
}

/* doubles of scratch the fast path needs for one image */
static size_t qfast_buf_doubles(const nn_qmodel *q)
{
    size_t mx = 1;
    int halves = q->bits > 16 ? 2 : 1;
    for (int32_t i = 0; i < q->n_layers; i++) {
        const nn_qlayer *l = &q->layers[i];
        if (l->op != NN_QOP_CONV)
            continue;
        int64_t M = l->out_shape.h * l->out_shape.w;
        int64_t kk = (l->in_shape.c / l->groups) * l->k * l->k, og = l->out_channels / l->groups;
        size_t need = (size_t)(halves * (kk * M + og * kk) + halves * halves * og * M);
        if (need > mx)
            mx = need;
    }
    return mx;
}

static void infer_fast_buf(const nn_qmodel *q, int32_t *const *acts, const int32_t *x_q,
                           double *buf)
{
    for (int32_t i = 0; i < q->n_layers; i++) {
        const nn_qlayer *l = &q->layers[i];
        bool dw = l->groups > 1 && l->groups == l->in_shape.c;
        if (l->op == NN_QOP_CONV && !dw &&
            dgemm_exact(q->bits, (l->in_shape.c / l->groups) * l->k * l->k))
            qconv_fast(l, q->bits, acts[i], l->in[0] < 0 ? x_q : acts[l->in[0]], buf);
        else
            qlayer_run_ref(q, i, acts, x_q);
    }
}

void nn_qmodel_infer_fast(const nn_qmodel *q, int32_t *const *acts, const int32_t *x_q)
{
    double *buf = malloc(qfast_buf_doubles(q) * sizeof *buf);
    if (!buf) {
        nn_qmodel_infer_ref(q, acts, x_q);
        return;
    }
    infer_fast_buf(q, acts, x_q, buf);
    free(buf);
}

td_status nn_qmodel_evaluate(const nn_qmodel *q, const nn_dataset *ds, const nn_norm *norm,
                             int64_t n, bool fast, int threads, double *accuracy)
{
    if (n <= 0 || n > ds->n)
        n = ds->n;
    int64_t in_size = q->input.c * q->input.h * q->input.w;
    if (ds->c * ds->h * ds->w != in_size)
        return td_fail(TD_ERR_CONFIG, "integer model input %lldx%lldx%lld does not fit the data",
                       (long long)q->input.c, (long long)q->input.h, (long long)q->input.w);
    if (q->n_layers < 1)
        return td_fail(TD_ERR_CONFIG, "integer model has no layers");
    int64_t hits = 0;
    bool fail = false;
    size_t nbuf = qfast_buf_doubles(q);
#pragma omp parallel num_threads(threads) reduction(+ : hits)
    {
        int32_t **acts = calloc((size_t)q->n_layers, sizeof *acts);
        float *x = malloc((size_t)in_size * sizeof *x);
        int32_t *xq = malloc((size_t)in_size * sizeof *xq);
        double *buf = fast ? malloc(nbuf * sizeof *buf) : NULL;
        bool ok = acts && x && xq && (!fast || buf);
        for (int32_t i = 0; ok && i < q->n_layers; i++)
            ok = (acts[i] = malloc((size_t)nn_qlayer_out_size(&q->layers[i]) * sizeof **acts)) !=
                 NULL;
        if (!ok) {
#pragma omp atomic write
            fail = true;
        }
        const nn_qlayer *last = &q->layers[q->n_layers - 1];
        int64_t classes = nn_qlayer_out_size(last);
#pragma omp for schedule(static)
        for (int64_t i = 0; i < n; i++) {
            if (!ok)
                continue;
            int32_t y;
            nn_batch_fill(x, &y, ds, &i, 1, norm, NULL, NULL);
            nn_qmodel_quantize_input(q, xq, x, 1);
            if (fast)
                infer_fast_buf(q, acts, xq, buf);
            else
                nn_qmodel_infer_ref(q, acts, xq);
            const int32_t *z = acts[q->n_layers - 1];
            int64_t best = 0;
            for (int64_t j = 1; j < classes; j++)
                if (z[j] > z[best])
                    best = j;
            hits += best == y;
        }
        if (acts)
            for (int32_t i = 0; i < q->n_layers; i++)
                free(acts[i]);
        free(acts);
        free(x);
        free(xq);
        free(buf);
    }
    if (fail)
        return td_fail(TD_ERR_NOMEM, "out of memory for integer inference");
    *accuracy = (double)hits / (double)n;
    return TD_OK;
}
