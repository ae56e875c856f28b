#include "rtl_net.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_rng.h"

static int64_t cdiv(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

td_status rtl_layers_from_graph(const nn_graph *g, const rtl_node_weights *weights,
                                rtl_layer *layers, int32_t max_layers, int32_t *n_layers)
{
    int32_t n = 0;
    rtl_layer *cur = NULL; /* the layer later relu/bn/maxpool nodes fold into */
    for (size_t i = 1; i < g->n_nodes; i++) {
        const nn_node *nd = &g->nodes[i];
        switch (nd->op) {
        case NN_OP_CONV:
        case NN_OP_FC: {
            if (nd->op == NN_OP_CONV && nd->groups != 1)
                return td_fail(TD_ERR_UNSUPPORTED,
                               "layer %s: grouped convolution (groups %d) "
                               "is not compiled for the RTL core yet",
                               nd->name, nd->groups);
            if (n == max_layers)
                return td_fail(TD_ERR_CONFIG, "layer %s: more than %d layers", nd->name,
                               max_layers);
            if (nd->inputs[0] != (int32_t)i - 1 && !(cur == NULL && nd->inputs[0] == 0))
                return td_fail(TD_ERR_UNSUPPORTED,
                               "layer %s: only chains are compiled for the "
                               "RTL core (its input is not the previous layer)",
                               nd->name);
            const rtl_node_weights *w = &weights[i];
            if (!w->w || !w->rq)
                return td_fail(TD_ERR_CONFIG, "layer %s: no quantized weights", nd->name);
            cur = &layers[n++];
            memset(cur, 0, sizeof *cur);
            cur->op = nd->op == NN_OP_CONV ? RTL_LAYER_CONV : RTL_LAYER_FC;
            snprintf(cur->name, sizeof cur->name, "%s", nd->name);
            cur->in = nd->in;
            cur->conv_out = nd->out;
            cur->out = nd->out;
            cur->k = nd->op == NN_OP_CONV ? nd->k_h : 0;
            cur->stride = nd->op == NN_OP_CONV ? nd->stride : 1;
            cur->pad = nd->op == NN_OP_CONV ? nd->pad : 0;
            cur->wt = *w;
            break;
        }
        case NN_OP_BATCHNORM: /* folded into the conv's weights and bias by the quantizer */
        case NN_OP_RELU:      /* folded into the clamp [lo, hi] */
        case NN_OP_RELU6:
            if (!cur || cur->pool_k)
                return td_fail(TD_ERR_UNSUPPORTED,
                               "layer %s: %s must directly follow a conv "
                               "or fc to be compiled for the RTL core",
                               nd->name, nn_op_name(nd->op));
            break;
        case NN_OP_MAXPOOL:
            if (!cur || cur->op != RTL_LAYER_CONV || cur->pool_k)
                return td_fail(TD_ERR_UNSUPPORTED,
                               "layer %s: a max-pool is compiled only "
                               "fused after a conv",
                               nd->name);
            if (nd->pad != 0 || nd->k_h != nd->k_w)
                return td_fail(TD_ERR_UNSUPPORTED,
                               "layer %s: padded or non-square max-pool "
                               "is not compiled for the RTL core yet",
                               nd->name);
            cur->pool_k = nd->k_h;
            cur->pool_s = nd->stride;
            cur->out = nd->out;
            break;
        default:
            return td_fail(TD_ERR_UNSUPPORTED,
                           "layer %s: %s is not compiled for the RTL core "
                           "yet",
                           nd->name, nn_op_name(nd->op));
        }
    }
    *n_layers = n;
    return TD_OK;
}

td_status rtl_program_add_net(rtl_program *p, const rtl_layer *layers, int32_t n_layers,
                              nn_shape input, rtl_net_io *io)
{
    const rtl_hw *hw = &p->hw;
    const int64_t R = hw->rows, C = hw->cols;
    if (n_layers < 1 || n_layers > 64)
        return td_fail(TD_ERR_CONFIG, "rtl net: %d layers (1 to 64 are compiled)", n_layers);
    memset(io, 0, sizeof *io);
    io->input = input;
    io->n_layers = n_layers;
    td_status st = rtl_mem_alloc(&p->mem, cdiv(input.c, C) * input.h * input.w, &io->input_addr);
    int64_t act = io->input_addr;
    nn_shape s = input;
    for (int32_t i = 0; i < n_layers && st == TD_OK; i++) {
        const rtl_layer *l = &layers[i];
        if (l->in.c * l->in.h * l->in.w != s.c * s.h * s.w ||
            (l->op == RTL_LAYER_CONV && (l->in.c != s.c || l->in.h != s.h || l->in.w != s.w)))
            return td_fail(TD_ERR_CONFIG,
                           "layer %s: input %lldx%lldx%lld, previous output "
                           "%lldx%lldx%lld",
                           l->name, (long long)l->in.c, (long long)l->in.h, (long long)l->in.w,
                           (long long)s.c, (long long)s.h, (long long)s.w);
        rtl_host_op im = {.kind = RTL_HOST_IM2COL, .src = act, .c = s.c, .h = s.h, .w = s.w};
        if (l->op == RTL_LAYER_CONV) {
            im.k_h = im.k_w = l->k;
            im.stride = l->stride;
            im.pad = l->pad;
        } else {
            im.k_h = (int32_t)s.h;
            im.k_w = (int32_t)s.w;
            im.stride = 1;
        }
        const int64_t M = l->conv_out.h * l->conv_out.w, K = s.c * im.k_h * im.k_w,
                      N = l->conv_out.c;
        int64_t oh = (s.h + 2 * im.pad - im.k_h) / im.stride + 1,
                ow = (s.w + 2 * im.pad - im.k_w) / im.stride + 1;
        if (oh * ow != M)
            return td_fail(TD_ERR_CONFIG,
                           "layer %s: output %lldx%lld does not match its "
                           "convolution (%lldx%lld)",
                           l->name, (long long)l->conv_out.h, (long long)l->conv_out.w,
                           (long long)oh, (long long)ow);
        const bool ws = hw->dataflow == HW_DATAFLOW_WS;
        rtl_gemm_plan plan = {.m = M,
                              .k = K,
                              .n = N,
                              .lo = l->wt.lo,
                              .hi = l->wt.hi,
                              .pool_k = l->pool_k,
                              .pool_s = l->pool_s,
                              .map_h = oh,
                              .map_w = ow};
        /* The checks of rtl_program_add_gemm, operands included. */
        rtl_gemm chk = {.m = M,
                        .k = K,
                        .n = N,
                        .x = NULL,
                        .w = l->wt.w,
                        .bias = l->wt.bias,
                        .rq = l->wt.rq,
                        .lo = l->wt.lo,
                        .hi = l->wt.hi};
        st = rtl_gemm_check(hw, &chk);
        if (st == TD_OK)
            st = rtl_mem_alloc(&p->mem, ws ? cdiv(K, R) * M : cdiv(M, R) * K, &im.dst);
        if (st == TD_OK)
            st = rtl_program_place_weights(p, K, N, l->wt.w, true, l->wt.bias, l->wt.rq,
                                           &plan.w_addr, &plan.p_addr);
        const int64_t pix = l->out.h * l->out.w;
        if (st == TD_OK)
            st = rtl_mem_alloc(&p->mem, cdiv(N, C) * pix, &plan.y_addr);
        if (st == TD_OK)
            st = rtl_program_emit_host(p, &im);
        plan.x_addr = im.dst;
        if (st == TD_OK)
            st = rtl_program_emit_gemm(p, &plan);
        if (st != TD_OK)
            return td_fail_context(st, "layer %s: ", l->name);
        act = plan.y_addr;
        s = l->out;
        io->out_addr[i] = act;
        io->out_shape[i] = s;
    }
    return st;
}

void rtl_net_write_act(const rtl_program *p, rtl_mem *mem, int64_t addr, nn_shape s,
                       const int32_t *x)
{
    const int64_t C = p->hw.cols, b = p->hw.bits, hw_ = s.h * s.w;
    for (int64_t c = 0; c < s.c; c++)
        for (int64_t i = 0; i < hw_; i++)
            rtl_mem_set(mem, addr + (c / C) * hw_ + i, (int32_t)((c % C) * b), (int32_t)b,
                        x[c * hw_ + i]);
}

void rtl_net_read_act(const rtl_program *p, const rtl_mem *mem, int64_t addr, nn_shape s,
                      int32_t *x)
{
    const int64_t C = p->hw.cols, b = p->hw.bits, hw_ = s.h * s.w;
    for (int64_t c = 0; c < s.c; c++)
        for (int64_t i = 0; i < hw_; i++)
            x[c * hw_ + i] = (int32_t)rtl_mem_get(mem, addr + (c / C) * hw_ + i,
                                                  (int32_t)((c % C) * b), (int32_t)b, true);
}

/* ---- reference and random weights ---- */

static void ref_layer(const rtl_layer *l, const int32_t *in, int32_t *out)
{
    const nn_shape s = l->in, co = l->conv_out;
    const int64_t kh = l->op == RTL_LAYER_CONV ? l->k : s.h,
                  kw = l->op == RTL_LAYER_CONV ? l->k : s.w;
    const int64_t stride = l->op == RTL_LAYER_CONV ? l->stride : 1,
                  pad = l->op == RTL_LAYER_CONV ? l->pad : 0;
    const int64_t K = s.c * kh * kw;
    int32_t *map = l->pool_k ? malloc((size_t)(co.c * co.h * co.w) * sizeof *map) : out;
    for (int64_t o = 0; o < co.c; o++)
        for (int64_t oy = 0; oy < co.h; oy++)
            for (int64_t ox = 0; ox < co.w; ox++) {
                nn_acc_t acc = l->wt.bias ? l->wt.bias[o] : 0;
                for (int64_t ci = 0; ci < s.c; ci++)
                    for (int64_t ky = 0; ky < kh; ky++)
                        for (int64_t kx = 0; kx < kw; kx++) {
                            int64_t iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                            if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w)
                                continue;
                            acc += (nn_acc_t)in[(ci * s.h + iy) * s.w + ix] *
                                   l->wt.w[o * K + (ci * kh + ky) * kw + kx];
                        }
                map[(o * co.h + oy) * co.w + ox] =
                    (int32_t)nn_requantize(acc, l->wt.rq[o], l->wt.lo, l->wt.hi);
            }
    if (!l->pool_k)
        return;
    const nn_shape po = l->out;
    for (int64_t o = 0; o < po.c; o++)
        for (int64_t y = 0; y < po.h; y++)
            for (int64_t x = 0; x < po.w; x++) {
                int32_t best = INT32_MIN;
                for (int64_t ky = 0; ky < l->pool_k; ky++)
                    for (int64_t kx = 0; kx < l->pool_k; kx++) {
                        int32_t v =
                            map[(o * co.h + y * l->pool_s + ky) * co.w + x * l->pool_s + kx];
                        best = v > best ? v : best;
                    }
                out[(o * po.h + y) * po.w + x] = best;
            }
    free(map);
}

void rtl_net_reference(const rtl_layer *layers, int32_t n_layers, const int32_t *input,
                       int32_t *const *outs)
{
    const int32_t *cur = input;
    for (int32_t i = 0; i < n_layers; i++) {
        ref_layer(&layers[i], cur, outs[i]);
        cur = outs[i];
    }
}

void rtl_net_weights_free(rtl_net_weights *nw)
{
    for (size_t i = 0; nw->wt && i < nw->n; i++) {
        free((void *)nw->wt[i].w);
        free((void *)nw->wt[i].bias);
        free((void *)nw->wt[i].rq);
    }
    free(nw->wt);
    memset(nw, 0, sizeof *nw);
}

td_status rtl_net_weights_random(rtl_net_weights *nw, const nn_graph *g, int bits, uint64_t seed)
{
    memset(nw, 0, sizeof *nw);
    if (bits != 4 && bits != 8 && bits != 16 && bits != 32)
        return td_fail(TD_ERR_CONFIG, "rtl net: bits %d is not 4, 8, 16 or 32", bits);
    td_rng rng;
    td_status st = td_rng_init(&rng, seed);
    if (st != TD_OK)
        return st;
    nw->n = g->n_nodes;
    nw->wt = calloc(g->n_nodes, sizeof *nw->wt);
    if (!nw->wt) {
        td_rng_free(&rng);
        return td_fail(TD_ERR_NOMEM, "rtl net: out of memory");
    }
    const int64_t qmin = nn_qmin(bits), qmax = nn_qmax(bits);
    int32_t last = nn_graph_output(g);
    for (size_t i = 1; i < g->n_nodes && st == TD_OK; i++) {
        const nn_node *nd = &g->nodes[i];
        if (nd->op != NN_OP_CONV && nd->op != NN_OP_FC)
            continue;
        const int64_t N = nd->out_channels;
        const int64_t K = nd->op == NN_OP_CONV ? (nd->in.c / nd->groups) * nd->k_h * nd->k_w
                                               : nd->in.c * nd->in.h * nd->in.w;
        int32_t *w = malloc((size_t)(N * K) * sizeof *w);
        int64_t *b = malloc((size_t)N * sizeof *b);
        nn_requant *rq = malloc((size_t)N * sizeof *rq);
        nw->wt[i].w = w;
        nw->wt[i].bias = b;
        nw->wt[i].rq = rq;
        if (!w || !b || !rq) {
            st = td_fail(TD_ERR_NOMEM, "rtl net: out of memory");
            break;
        }
        for (int64_t j = 0; j < N * K; j++)
            w[j] = (int32_t)td_rng_range(&rng, -qmax, qmax);
        /* outputs spread over the b-bit range: typical |acc| of K products of uniform values */
        const double typical = sqrt((double)K) * (double)qmax * (double)qmax / 4.0 + 1.0;
        for (int64_t j = 0; j < N && st == TD_OK; j++) {
            b[j] = (int64_t)td_rng_gaussian(&rng, typical / 4);
            st = nn_requant_from_real(
                (double)qmax / typical * ldexp(1.0, (int)td_rng_range(&rng, 0, 2)), &rq[j]);
        }
        nw->wt[i].lo = (int32_t)i == last ? qmin : 0; /* ReLU except on the logits */
        nw->wt[i].hi = qmax;
    }
    td_rng_free(&rng);
    if (st != TD_OK)
        rtl_net_weights_free(nw);
    return st;
}
