#include "rtl_net.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_quant.h"
#include "nn_space.h"
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
    int32_t *node_layer = malloc(g->n_nodes * sizeof *node_layer);
    int32_t *consumers = calloc(g->n_nodes, sizeof *consumers);
    td_status st = TD_OK;
    if (!node_layer || !consumers) {
        st = td_fail(TD_ERR_NOMEM, "rtl net: out of memory");
        goto done;
    }
    node_layer[0] = -1;
    for (size_t i = 1; i < g->n_nodes; i++)
        for (int32_t j = 0; j < g->nodes[i].n_inputs; j++)
            if (g->nodes[i].inputs[j] >= 0)
                consumers[g->nodes[i].inputs[j]]++;
    for (size_t i = 1; i < g->n_nodes && st == TD_OK; i++) {
        const nn_node *nd = &g->nodes[i];
        const rtl_node_weights *w = &weights[i];
        switch (nd->op) {
        case NN_OP_CONV:
        case NN_OP_FC:
        case NN_OP_GLOBAL_AVGPOOL:
        case NN_OP_ADD: {
            if (n == max_layers) {
                st = td_fail(TD_ERR_CONFIG, "layer %s: more than %d layers", nd->name, max_layers);
                break;
            }
            if (nd->op == NN_OP_CONV || nd->op == NN_OP_FC) {
                if (!w->w || !w->rq)
                    st = td_fail(TD_ERR_CONFIG, "layer %s: no quantized weights", nd->name);
                else if (nd->op == NN_OP_CONV &&
                         (nd->groups < 1 || nd->in.c % nd->groups || nd->out.c % nd->groups))
                    st = td_fail(TD_ERR_CONFIG,
                                 "layer %s: %lld input and %lld output channels do not "
                                 "split into %d groups",
                                 nd->name, (long long)nd->in.c, (long long)nd->out.c, nd->groups);
            } else if (nd->op == NN_OP_GLOBAL_AVGPOOL && w->pool_rq.shift < 1) {
                st = td_fail(TD_ERR_CONFIG, "layer %s: no quantized pool requantization", nd->name);
            } else if (nd->op == NN_OP_ADD && (w->shift < 1 || nd->n_inputs != 2)) {
                st = td_fail(TD_ERR_CONFIG,
                             nd->n_inputs != 2 ? "layer %s: an add needs two inputs"
                                               : "layer %s: no quantized add multipliers",
                             nd->name);
            }
            if (st != TD_OK)
                break;
            cur = &layers[n];
            memset(cur, 0, sizeof *cur);
            cur->op = nd->op == NN_OP_CONV             ? RTL_LAYER_CONV
                      : nd->op == NN_OP_FC             ? RTL_LAYER_FC
                      : nd->op == NN_OP_GLOBAL_AVGPOOL ? RTL_LAYER_GAP
                                                       : RTL_LAYER_ADD;
            snprintf(cur->name, sizeof cur->name, "%s", nd->name);
            cur->src[0] = node_layer[nd->inputs[0]];
            cur->src[1] = nd->op == NN_OP_ADD ? node_layer[nd->inputs[1]] : -1;
            cur->in = nd->in;
            cur->conv_out = nd->out;
            cur->out = nd->out;
            cur->k = nd->op == NN_OP_CONV ? nd->k_h : 0;
            cur->stride = nd->op == NN_OP_CONV ? nd->stride : 1;
            cur->pad = nd->op == NN_OP_CONV ? nd->pad : 0;
            cur->groups = nd->op == NN_OP_CONV ? nd->groups : 1;
            cur->wt = *w;
            if (nd->op == NN_OP_GLOBAL_AVGPOOL)
                cur->wt.bias = NULL;
            node_layer[i] = n++;
            break;
        }
        case NN_OP_BATCHNORM: /* folded into the conv's weights and bias by the quantizer */
        case NN_OP_RELU:      /* folded into the clamp [lo, hi] */
        case NN_OP_RELU6:
            if (!cur || cur->pool_k || nd->inputs[0] != (int32_t)i - 1 || consumers[i - 1] != 1 ||
                (nd->op == NN_OP_BATCHNORM && cur->op != RTL_LAYER_CONV) ||
                cur->op == RTL_LAYER_GAP) {
                st = td_fail(TD_ERR_UNSUPPORTED,
                             "layer %s: %s must directly follow a conv, fc or add (its only "
                             "consumer) to be compiled for the RTL core",
                             nd->name, nn_op_name(nd->op));
                break;
            }
            node_layer[i] = n - 1;
            break;
        case NN_OP_MAXPOOL:
            if (!cur || cur->op != RTL_LAYER_CONV || cur->pool_k ||
                nd->inputs[0] != (int32_t)i - 1 || consumers[i - 1] != 1) {
                st = td_fail(TD_ERR_UNSUPPORTED,
                             "layer %s: a max-pool is compiled only "
                             "fused after a conv",
                             nd->name);
                break;
            }
            if (nd->pad != 0 || nd->k_h != nd->k_w) {
                st = td_fail(TD_ERR_UNSUPPORTED,
                             "layer %s: padded or non-square max-pool "
                             "is not compiled for the RTL core yet",
                             nd->name);
                break;
            }
            cur->pool_k = nd->k_h;
            cur->pool_s = nd->stride;
            cur->out = nd->out;
            node_layer[i] = n - 1;
            break;
        default:
            st = td_fail(TD_ERR_UNSUPPORTED,
                         "layer %s: %s is not compiled for the RTL core "
                         "yet",
                         nd->name, nn_op_name(nd->op));
        }
    }
    if (st == TD_OK)
        *n_layers = n;
done:
    free(node_layer);
    free(consumers);
    return st;
}

/* One GEMM on the core: host im2col of channels [c0, c0 + c) of the tensor at src, the
 * weights and parameters placed, the result (pooled when fused) at *y. */
typedef struct gemm_job {
    int64_t src;
    nn_shape s; /* the source tensor */
    int64_t c0, c;
    int32_t k_h, k_w, stride, pad;
    int64_t n;
    const int32_t *w; /* [n][K] */
    const int64_t *bias;
    const nn_requant *rq;
    int64_t lo, hi;
    int32_t pool_k, pool_s;
    nn_shape out; /* pooled output shape (channels n) */
} gemm_job;

static td_status emit_gemm_job(rtl_program *p, const gemm_job *j, int64_t *y)
{
    const rtl_hw *hw = &p->hw;
    const int64_t C = hw->cols;
    rtl_host_op im = {.kind = RTL_HOST_IM2COL,
                      .src = j->src,
                      .c = j->c,
                      .h = j->s.h,
                      .w = j->s.w,
                      .k_h = j->k_h,
                      .k_w = j->k_w,
                      .stride = j->stride,
                      .pad = j->pad,
                      .c0 = j->c0};
    const int64_t oh = (j->s.h + 2 * im.pad - im.k_h) / im.stride + 1,
                  ow = (j->s.w + 2 * im.pad - im.k_w) / im.stride + 1;
    const int64_t M = oh * ow, K = j->c * im.k_h * im.k_w, N = j->n;
    rtl_gemm_plan plan = {.m = M,
                          .k = K,
                          .n = N,
                          .lo = j->lo,
                          .hi = j->hi,
                          .pool_k = j->pool_k,
                          .pool_s = j->pool_s,
                          .map_h = oh,
                          .map_w = ow};
    /* The checks of rtl_program_add_gemm, operands included. */
    rtl_gemm chk = {.m = M,
                    .k = K,
                    .n = N,
                    .x = NULL,
                    .w = j->w,
                    .bias = j->bias,
                    .rq = j->rq,
                    .lo = j->lo,
                    .hi = j->hi};
    td_status st = rtl_gemm_check(hw, &chk);
    rtl_x_layout xl = {0};
    if (st == TD_OK && (st = rtl_x_layout_init(&xl, hw, &plan)) == TD_OK) {
        st = rtl_mem_alloc(&p->mem, xl.lines, &im.dst);
        if (st == TD_OK)
            st = rtl_program_add_x_ranges(p, &xl, &im);
        rtl_x_layout_free(&xl);
    }
    if (st == TD_OK)
        st = rtl_program_place_weights(p, K, N, j->w, true, j->bias, j->rq, &plan.w_addr,
                                       &plan.p_addr);
    if (st == TD_OK)
        st = rtl_mem_alloc(&p->mem, cdiv(N, C) * j->out.h * j->out.w, &plan.y_addr);
    if (st == TD_OK)
        st = rtl_program_emit_host(p, &im);
    plan.x_addr = im.dst;
    if (st == TD_OK)
        st = rtl_program_emit_gemm(p, &plan);
    *y = plan.y_addr;
    return st;
}

/* A residual add of two tensors of `lines` words (docs/rtl.md): ADD_CFG, then per chunk
 * LD_W (A), LD_W (B), ADD, STORE. */
static td_status emit_add(rtl_program *p, const rtl_layer *l, int64_t a, int64_t b, int64_t y,
                          int64_t lines)
{
    const rtl_hw *hw = &p->hw;
    const int bits = hw->bits;
    if (l->wt.shift < 1 || l->wt.shift > 126)
        return td_fail(TD_ERR_CONFIG, "rtl add: shift %d outside [1, 126]", l->wt.shift);
    if (l->wt.lo != 0 && l->wt.lo != nn_qmin(bits))
        return td_fail(TD_ERR_CONFIG, "rtl add: lower clamp %lld is neither 0 nor %lld",
                       (long long)l->wt.lo, (long long)nn_qmin(bits));
    if (l->wt.hi < 0 || l->wt.hi > nn_qmax(bits))
        return td_fail(TD_ERR_CONFIG, "rtl add: upper clamp %lld outside [0, %lld]",
                       (long long)l->wt.hi, (long long)nn_qmax(bits));
    const int64_t nc = hw_timing_add_chunk_max(hw->w_depth, hw->out_depth);
    td_status st = rtl_program_emit(p, rtl_cmd_add_cfg(l->wt.mult_a, l->wt.mult_b, l->wt.shift));
    for (int64_t l0 = 0; l0 < lines && st == TD_OK; l0 += nc) {
        const int64_t n = lines - l0 < nc ? lines - l0 : nc;
        rtl_cmd ld = {.op = RTL_OP_LD_W, .a = 0, .n = (uint16_t)n, .x = (uint32_t)(a + l0)};
        st = rtl_program_emit(p, ld);
        ld.a = (uint16_t)n;
        ld.x = (uint32_t)(b + l0);
        if (st == TD_OK)
            st = rtl_program_emit(p, ld);
        if (st == TD_OK)
            st = rtl_program_emit(
                p, rtl_cmd_add(0, (uint16_t)n, 0, (uint16_t)n, l->wt.lo == 0, l->wt.hi));
        rtl_cmd sto = {.op = RTL_OP_STORE, .a = 0, .n = (uint16_t)n, .x = (uint32_t)(y + l0)};
        if (st == TD_OK)
            st = rtl_program_emit(p, sto);
    }
    return st;
}

static bool shape_eq(nn_shape a, nn_shape b)
{
    return a.c == b.c && a.h == b.h && a.w == b.w;
}

td_status rtl_program_add_net(rtl_program *p, const rtl_layer *layers, int32_t n_layers,
                              nn_shape input, rtl_net_io *io)
{
    const rtl_hw *hw = &p->hw;
    const int64_t C = hw->cols;
    if (n_layers < 1 || n_layers > RTL_NET_MAX_LAYERS)
        return td_fail(TD_ERR_CONFIG, "rtl net: %d layers (1 to %d are compiled)", n_layers,
                       RTL_NET_MAX_LAYERS);
    memset(io, 0, sizeof *io);
    io->input = input;
    io->n_layers = n_layers;
    td_status st = rtl_mem_alloc(&p->mem, cdiv(input.c, C) * input.h * input.w, &io->input_addr);
    for (int32_t i = 0; i < n_layers && st == TD_OK; i++) {
        const rtl_layer *l = &layers[i];
        int64_t src[2];
        nn_shape ss[2];
        for (int j = 0; j < (l->op == RTL_LAYER_ADD ? 2 : 1); j++) {
            if (l->src[j] >= i)
                return td_fail(TD_ERR_CONFIG, "layer %s: input %d is layer %d, not an earlier one",
                               l->name, j, l->src[j]);
            src[j] = l->src[j] < 0 ? io->input_addr : io->out_addr[l->src[j]];
            ss[j] = l->src[j] < 0 ? input : io->out_shape[l->src[j]];
        }
        const nn_shape s = ss[0];
        if (l->in.c * l->in.h * l->in.w != s.c * s.h * s.w ||
            (l->op != RTL_LAYER_FC && !shape_eq(l->in, s)) ||
            (l->op == RTL_LAYER_ADD && (!shape_eq(ss[1], s) || !shape_eq(l->out, s))))
            return td_fail(TD_ERR_CONFIG,
                           "layer %s: input %lldx%lldx%lld, its producer's output "
                           "%lldx%lldx%lld",
                           l->name, (long long)l->in.c, (long long)l->in.h, (long long)l->in.w,
                           (long long)s.c, (long long)s.h, (long long)s.w);
        int64_t y = 0;
        if (l->op == RTL_LAYER_ADD) {
            const int64_t lines = cdiv(s.c, C) * s.h * s.w;
            st = rtl_mem_alloc(&p->mem, lines, &y);
            if (st == TD_OK)
                st = emit_add(p, l, src[0], src[1], y, lines);
        } else if (l->op == RTL_LAYER_GAP) {
            /* X[c][p] = in[c][p]: transpose to an (h*w)-channel tensor of c pixels, im2col 1x1;
             * Y (c rows, one column) transposed back to c channels of one pixel */
            const int64_t HW = s.h * s.w;
            int64_t t = 0, ones_n = HW;
            rtl_host_op tr = {
                .kind = RTL_HOST_TRANSPOSE, .src = src[0], .c = s.c, .h = s.h, .w = s.w};
            int32_t *ones = malloc((size_t)ones_n * sizeof *ones);
            if (!ones)
                return td_fail(TD_ERR_NOMEM, "layer %s: out of memory", l->name);
            for (int64_t k = 0; k < ones_n; k++)
                ones[k] = 1;
            st = rtl_mem_alloc(&p->mem, cdiv(HW, C) * s.c, &t);
            tr.dst = t;
            if (st == TD_OK)
                st = rtl_program_emit_host(p, &tr);
            gemm_job j = {.src = t,
                          .s = {HW, s.c, 1},
                          .c0 = 0,
                          .c = HW,
                          .k_h = 1,
                          .k_w = 1,
                          .stride = 1,
                          .n = 1,
                          .w = ones,
                          .bias = NULL,
                          .rq = &l->wt.pool_rq,
                          .lo = l->wt.lo,
                          .hi = l->wt.hi,
                          .out = {1, s.c, 1}};
            int64_t yt = 0;
            if (st == TD_OK)
                st = emit_gemm_job(p, &j, &yt);
            free(ones);
            if (st == TD_OK)
                st = rtl_mem_alloc(&p->mem, cdiv(s.c, C), &y);
            rtl_host_op back = {
                .kind = RTL_HOST_TRANSPOSE, .src = yt, .dst = y, .c = 1, .h = s.c, .w = 1};
            if (st == TD_OK)
                st = rtl_program_emit_host(p, &back);
        } else {
            const bool conv = l->op == RTL_LAYER_CONV;
            const int32_t G = conv ? l->groups : 1;
            const int64_t cg = s.c / G, og = l->conv_out.c / G;
            gemm_job j = {.s = s,
                          .c = cg,
                          .k_h = conv ? l->k : (int32_t)s.h,
                          .k_w = conv ? l->k : (int32_t)s.w,
                          .stride = conv ? l->stride : 1,
                          .pad = conv ? l->pad : 0,
                          .n = og,
                          .lo = l->wt.lo,
                          .hi = l->wt.hi,
                          .pool_k = l->pool_k,
                          .pool_s = l->pool_s,
                          .out = {og, l->out.h, l->out.w}};
            if (!conv) { /* fc: the whole C*H*W input, whatever its producer's shape */
                j.s = l->in;
                j.c = l->in.c;
                j.k_h = (int32_t)l->in.h;
                j.k_w = (int32_t)l->in.w;
            }
            const int64_t oh = (j.s.h + 2 * j.pad - j.k_h) / j.stride + 1,
                          ow = (j.s.w + 2 * j.pad - j.k_w) / j.stride + 1;
            if (oh != l->conv_out.h || ow != l->conv_out.w)
                return td_fail(TD_ERR_CONFIG,
                               "layer %s: output %lldx%lld does not match its "
                               "convolution (%lldx%lld)",
                               l->name, (long long)l->conv_out.h, (long long)l->conv_out.w,
                               (long long)oh, (long long)ow);
            const int64_t K = cg * j.k_h * j.k_w, pix = l->out.h * l->out.w;
            if (G > 1)
                st = rtl_mem_alloc(&p->mem, cdiv(l->out.c, C) * pix, &y);
            for (int32_t gi = 0; gi < G && st == TD_OK; gi++) {
                int64_t yg = 0;
                j.src = src[0];
                j.c0 = gi * cg;
                j.w = l->wt.w + gi * og * K;
                j.bias = l->wt.bias ? l->wt.bias + gi * og : NULL;
                j.rq = l->wt.rq + gi * og;
                st = emit_gemm_job(p, &j, &yg);
                if (st == TD_OK && G == 1)
                    y = yg;
                rtl_host_op sc = {.kind = RTL_HOST_SCATTER,
                                  .src = yg,
                                  .dst = y,
                                  .c = og,
                                  .h = l->out.h,
                                  .w = l->out.w,
                                  .c0 = gi * og};
                if (st == TD_OK && G > 1)
                    st = rtl_program_emit_host(p, &sc);
                if (st != TD_OK && G > 1)
                    td_fail_context(st, "group %d: ", gi);
            }
        }
        if (st != TD_OK)
            return td_fail_context(st, "layer %s: ", l->name);
        io->out_addr[i] = y;
        io->out_shape[i] = l->out;
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

static void ref_layer(const rtl_layer *l, const int32_t *in, const int32_t *in2, int32_t *out)
{
    const nn_shape s = l->in, co = l->conv_out;
    if (l->op == RTL_LAYER_GAP) {
        for (int64_t c = 0; c < s.c; c++) {
            nn_acc_t sum = 0;
            for (int64_t i = 0; i < s.h * s.w; i++)
                sum += in[c * s.h * s.w + i];
            out[c] = (int32_t)nn_requantize(sum, l->wt.pool_rq, l->wt.lo, l->wt.hi);
        }
        return;
    }
    if (l->op == RTL_LAYER_ADD) {
        for (int64_t i = 0; i < s.c * s.h * s.w; i++)
            out[i] = (int32_t)nn_requantize_add(in[i], l->wt.mult_a, in2[i], l->wt.mult_b,
                                                l->wt.shift, l->wt.lo, l->wt.hi);
        return;
    }
    const bool conv = l->op == RTL_LAYER_CONV;
    const int64_t kh = conv ? l->k : s.h, kw = conv ? l->k : s.w;
    const int64_t stride = conv ? l->stride : 1, pad = conv ? l->pad : 0;
    const int64_t G = conv ? l->groups : 1, cg = s.c / G, og = co.c / G;
    const int64_t K = cg * kh * kw;
    int32_t *map = l->pool_k ? malloc((size_t)(co.c * co.h * co.w) * sizeof *map) : out;
    for (int64_t o = 0; o < co.c; o++)
        for (int64_t oy = 0; oy < co.h; oy++)
            for (int64_t ox = 0; ox < co.w; ox++) {
                nn_acc_t acc = l->wt.bias ? l->wt.bias[o] : 0;
                for (int64_t ci = 0; ci < cg; ci++)
                    for (int64_t ky = 0; ky < kh; ky++)
                        for (int64_t kx = 0; kx < kw; kx++) {
                            int64_t iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                            if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w)
                                continue;
                            acc += (nn_acc_t)in[((o / og * cg + ci) * s.h + iy) * s.w + ix] *
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
    for (int32_t i = 0; i < n_layers; i++) {
        const rtl_layer *l = &layers[i];
        const int32_t *a = l->src[0] < 0 ? input : outs[l->src[0]];
        const int32_t *b = l->op != RTL_LAYER_ADD ? NULL : l->src[1] < 0 ? input : outs[l->src[1]];
        ref_layer(l, a, b, outs[i]);
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
        /* the activation folded into this node's clamp: [bn] then relu / relu6 */
        size_t an = i + 1;
        if (an < g->n_nodes && g->nodes[an].op == NN_OP_BATCHNORM)
            an++;
        const nn_op act = an < g->n_nodes ? g->nodes[an].op : NN_OP_INPUT;
        const bool relu = (int32_t)i != last && (act == NN_OP_RELU || act == NN_OP_RELU6);
        nw->wt[i].lo = relu ? 0 : qmin;
        nw->wt[i].hi = act == NN_OP_RELU6 ? qmax * 3 / 4 : qmax;
        if (nd->op == NN_OP_GLOBAL_AVGPOOL) {
            /* the mean of H*W values, scaled up 1x..4x (saturates at both ends) */
            double f = ldexp(1.0, (int)td_rng_range(&rng, 0, 2)) / (double)(nd->in.h * nd->in.w);
            st = nn_requant_from_real(f, &nw->wt[i].pool_rq);
            continue;
        }
        if (nd->op == NN_OP_ADD) {
            /* scales 1/16 .. 4 each: sums saturate at both ends, small ones round */
            st = nn_requant_add_from_real(exp2(-4.0 + 6.0 * td_rng_uniform(&rng)),
                                          exp2(-4.0 + 6.0 * td_rng_uniform(&rng)),
                                          &nw->wt[i].mult_a, &nw->wt[i].mult_b, &nw->wt[i].shift);
            continue;
        }
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
    }
    td_rng_free(&rng);
    if (st != TD_OK)
        rtl_net_weights_free(nw);
    return st;
}

td_status rtl_net_genome_graph(nn_graph *g, uint64_t seed)
{
    nn_space sp;
    nn_space_default(&sp);
    const int32_t n = nn_genome_length(&sp);
    int32_t *genes = malloc((size_t)n * sizeof *genes);
    if (!genes)
        return td_fail(TD_ERR_NOMEM, "genome %llu: out of memory", (unsigned long long)seed);
    td_rng rng;
    td_status st = td_rng_init(&rng, seed);
    if (st == TD_OK) {
        nn_genome_random(&sp, &rng, genes);
        td_rng_free(&rng);
        st = nn_genome_decode(&sp, genes, g);
    }
    free(genes);
    if (st != TD_OK)
        return td_fail_context(st, "genome %llu: ", (unsigned long long)seed);
    return TD_OK;
}
