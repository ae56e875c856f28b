#include "rtl_testgen.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static td_status alloc_case(rtl_case *c, int64_t m, int64_t k, int64_t n)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    c->k = k;
    c->n = n;
    c->x = calloc((size_t)(m * k), sizeof *c->x);
    c->w = calloc((size_t)(k * n), sizeof *c->w);
    c->bias = calloc((size_t)n, sizeof *c->bias);
    c->rq = calloc((size_t)n, sizeof *c->rq);
    c->y_ref = calloc((size_t)(m * n), sizeof *c->y_ref);
    if (!c->x || !c->w || !c->bias || !c->rq || !c->y_ref) {
        rtl_case_free(c);
        return td_fail(TD_ERR_NOMEM, "rtl test case: out of memory");
    }
    return TD_OK;
}

void rtl_case_free(rtl_case *c)
{
    free(c->x);
    free(c->w);
    free(c->bias);
    free(c->rq);
    free(c->y_ref);
    memset(c, 0, sizeof *c);
}

/* Operands: mostly uniform, some rows/columns at the extremes (qmin inputs, +-qmax weights). */
static void fill_operands(rtl_case *c, td_rng *rng, int bits)
{
    const int64_t qmin = nn_qmin(bits), qmax = nn_qmax(bits);
    for (int64_t i = 0; i < c->m * c->k; i++) {
        int64_t row = i / c->k;
        c->x[i] = (int32_t)(row % 5 == 4 ? qmin : td_rng_range(rng, qmin, qmax));
    }
    for (int64_t i = 0; i < c->k * c->n; i++) {
        int64_t col = i % c->n;
        c->w[i] = (int32_t)(col % 7 == 6 ? (td_rng_uniform(rng) < 0.5 ? -qmax : qmax)
                                         : td_rng_range(rng, -qmax, qmax));
    }
}

/* Per-column requantization: a factor near qmax / typical|acc| times 2^[-1, 3] (so that many
 * outputs saturate at both ends), one column with a tiny factor (shift near 126, the
 * shift-beyond-product path), bias up to a few typical accumulators. */
static td_status fill_requant(rtl_case *c, td_rng *rng, int bits)
{
    const double qmax = (double)nn_qmax(bits);
    const double typical = sqrt((double)c->k) * qmax * qmax / 3.0 + 1.0;
    for (int64_t j = 0; j < c->n; j++) {
        double f = qmax / typical * ldexp(1.0, (int)td_rng_range(rng, -1, 3));
        if (j % 11 == 10)
            f = ldexp(1.0, -90);
        td_status st = nn_requant_from_real(f, &c->rq[j]);
        if (st != TD_OK)
            return st;
        double b = td_rng_gaussian(rng, typical);
        c->bias[j] = (int64_t)b;
    }
    c->lo = td_rng_uniform(rng) < 0.5 ? 0 : nn_qmin(bits);
    c->hi = td_rng_uniform(rng) < 0.8 ? nn_qmax(bits) : nn_qmax(bits) / 2;
    return TD_OK;
}

td_status rtl_case_gemm(rtl_case *c, td_rng *rng, int bits, int acc_bits, int64_t m, int64_t k,
                        int64_t n)
{
    while (k > 1 && nn_acc_bits_needed(bits, k) - 1 > acc_bits)
        k /= 2;
    td_status st = alloc_case(c, m, k, n);
    if (st != TD_OK)
        return st;
    fill_operands(c, rng, bits);
    st = fill_requant(c, rng, bits);
    if (st != TD_OK) {
        rtl_case_free(c);
        return st;
    }
    if (acc_bits < 64) { /* the bias must fit the accumulator word it is loaded as */
        int64_t lim = ((int64_t)1 << (acc_bits - 2));
        for (int64_t j = 0; j < n; j++)
            c->bias[j] = c->bias[j] % lim;
    }
    nn_int_gemm_ref(c->y_ref, c->x, c->w, c->bias, c->rq, c->lo, c->hi, m, k, n);
    return TD_OK;
}

td_status rtl_case_conv(rtl_case *c, td_rng *rng, int bits, int64_t c_in, int64_t h, int64_t w,
                        int64_t c_out, int64_t k, int64_t stride, int64_t pad)
{
    const int64_t oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
    const int64_t K = c_in * k * k, M = oh * ow;
    td_status st = alloc_case(c, M, K, c_out);
    if (st != TD_OK)
        return st;
    int32_t *img = malloc((size_t)(c_in * h * w) * sizeof *img);
    int32_t *filt = malloc((size_t)(c_out * K) * sizeof *filt);
    if (!img || !filt) {
        free(img);
        free(filt);
        rtl_case_free(c);
        return td_fail(TD_ERR_NOMEM, "rtl test case: out of memory");
    }
    const int64_t qmin = nn_qmin(bits), qmax = nn_qmax(bits);
    for (int64_t i = 0; i < c_in * h * w; i++)
        img[i] = (int32_t)(i % 13 == 0 ? qmin : td_rng_range(rng, qmin, qmax));
    for (int64_t i = 0; i < c_out * K; i++)
        filt[i] = (int32_t)td_rng_range(rng, -qmax, qmax);
    /* im2col: row (oy, ox), column (ci, ky, kx) channel-major; padding gives zeros */
    for (int64_t oy = 0; oy < oh; oy++)
        for (int64_t ox = 0; ox < ow; ox++)
            for (int64_t ci = 0; ci < c_in; ci++)
                for (int64_t ky = 0; ky < k; ky++)
                    for (int64_t kx = 0; kx < k; kx++) {
                        int64_t iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                        int32_t v = (iy < 0 || iy >= h || ix < 0 || ix >= w)
                                        ? 0
                                        : img[(ci * h + iy) * w + ix];
                        c->x[(oy * ow + ox) * K + (ci * k + ky) * k + kx] = v;
                    }
    for (int64_t co = 0; co < c_out; co++)
        for (int64_t kk = 0; kk < K; kk++)
            c->w[kk * c_out + co] = filt[co * K + kk];
    st = fill_requant(c, rng, bits);
    /* expected output by a direct convolution, independent of the im2col above */
    for (int64_t co = 0; co < c_out && st == TD_OK; co++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++) {
                nn_acc_t acc = c->bias[co];
                for (int64_t ci = 0; ci < c_in; ci++)
                    for (int64_t ky = 0; ky < k; ky++)
                        for (int64_t kx = 0; kx < k; kx++) {
                            int64_t iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                                continue;
                            acc += (nn_acc_t)img[(ci * h + iy) * w + ix] *
                                   filt[((co * c_in + ci) * k + ky) * k + kx];
                        }
                c->y_ref[(oy * ow + ox) * c_out + co] =
                    (int32_t)nn_requantize(acc, c->rq[co], c->lo, c->hi);
            }
    free(img);
    free(filt);
    if (st != TD_OK)
        rtl_case_free(c);
    return st;
}

void rtl_case_saturation(const rtl_case *c, int64_t *n_lo, int64_t *n_hi)
{
    *n_lo = *n_hi = 0;
    for (int64_t i = 0; i < c->m * c->n; i++) {
        *n_lo += c->y_ref[i] == c->lo;
        *n_hi += c->y_ref[i] == c->hi;
    }
}

/* ---- networks ---- */

void rtl_net_case_free(rtl_net_case *c)
{
    rtl_net_weights_free(&c->nw);
    free(c->input);
    for (int i = 0; i < RTL_NET_MAX_LAYERS; i++)
        free(c->ref[i]);
    nn_graph_free(&c->g);
    memset(c, 0, sizeof *c);
}

/* Small graphs of the ops the search space adds to conv/fc chains ("ops:N"):
 *  0: depthwise 3x3 + relu6, pointwise 1x1 (linear), residual add, GAP, fc (MBConv-like)
 *  1: grouped conv (2 groups, 4 -> 6 channels, 3x3 stride 2) + relu, GAP, fc
 *  2: residual adds with the network input as an operand, relu after an add, a chain of two
 *     adds, depthwise 5x5 stride 2 with 7 channels, GAP, fc
 *  3: fused max-pools on 10x10 and 9x9 maps (conv 3x3 + relu + max-pool 2x2 stride 1, i.e.
 *     overlapping windows; conv 1x1 + relu + max-pool 2x2 stride 2 with a map row and column
 *     no window reads), GAP, fc: with output buffers of fewer than 25 lines the pools run in
 *     column strips (docs/rtl.md)
 *  4: conv 1x1 + relu on a 1x16x16 input, GAP over 256 pixels, fc: the GAP sets the accumulator
 *     width (4 + 9 bits at 4-bit operands: the all-ones weights' bound, not 2*4 - 1 + 8) */
static td_status op_graph(nn_graph *g, int which)
{
    td_status st;
    int32_t x = 0, a = 0, b = 0;
    if (which == 0) {
        st = nn_graph_init(g, "ops0", (nn_shape){5, 6, 6}, 3);
        if (st == TD_OK)
            st = nn_graph_add_conv(g, &a, 0, "stem", 5, 3, 1, 1, 1, false);
        if (st == TD_OK)
            st = nn_graph_add_relu(g, &a, a, "stem.relu", false);
        if (st == TD_OK)
            st = nn_graph_add_conv(g, &x, a, "dw", 5, 3, 1, 1, 5, false);
        if (st == TD_OK)
            st = nn_graph_add_batchnorm(g, &x, x, "dw.bn");
        if (st == TD_OK)
            st = nn_graph_add_relu(g, &x, x, "dw.relu6", true);
        if (st == TD_OK)
            st = nn_graph_add_conv(g, &x, x, "pw", 5, 1, 1, 0, 1, false);
        if (st == TD_OK)
            st = nn_graph_add_add(g, &x, x, a, "add");
    } else if (which == 1) {
        st = nn_graph_init(g, "ops1", (nn_shape){4, 5, 5}, 3);
        if (st == TD_OK)
            st = nn_graph_add_conv(g, &x, 0, "gconv", 6, 3, 2, 1, 2, true);
        if (st == TD_OK)
            st = nn_graph_add_relu(g, &x, x, "gconv.relu", false);
    } else if (which == 3) {
        st = nn_graph_init(g, "ops3", (nn_shape){2, 10, 10}, 3);
        if (st == TD_OK)
            st = nn_graph_add_conv(g, &x, 0, "c1", 4, 3, 1, 1, 1, true);
        if (st == TD_OK)
            st = nn_graph_add_relu(g, &x, x, "c1.relu", false);
        if (st == TD_OK)
            st = nn_graph_add_pool(g, &x, x, "c1.pool", NN_OP_MAXPOOL, 2, 1, 0);
        if (st == TD_OK)
            st = nn_graph_add_conv(g, &x, x, "c2", 6, 1, 1, 0, 1, true);
        if (st == TD_OK)
            st = nn_graph_add_relu(g, &x, x, "c2.relu", false);
        if (st == TD_OK)
            st = nn_graph_add_pool(g, &x, x, "c2.pool", NN_OP_MAXPOOL, 2, 2, 0);
    } else if (which == 4) {
        st = nn_graph_init(g, "ops4", (nn_shape){1, 16, 16}, 3);
        if (st == TD_OK)
            st = nn_graph_add_conv(g, &x, 0, "pw", 3, 1, 1, 0, 1, true);
        if (st == TD_OK)
            st = nn_graph_add_relu(g, &x, x, "pw.relu", false);
    } else {
        st = nn_graph_init(g, "ops2", (nn_shape){7, 5, 5}, 4);
        if (st == TD_OK)
            st = nn_graph_add_conv(g, &a, 0, "c1", 7, 3, 1, 1, 1, true);
        if (st == TD_OK)
            st = nn_graph_add_add(g, &a, 0, a, "add1");
        if (st == TD_OK)
            st = nn_graph_add_relu(g, &a, a, "add1.relu", false);
        if (st == TD_OK)
            st = nn_graph_add_conv(g, &b, a, "c2", 7, 1, 1, 0, 1, true);
        if (st == TD_OK)
            st = nn_graph_add_add(g, &b, a, b, "add2");
        if (st == TD_OK)
            st = nn_graph_add_add(g, &x, b, 0, "add3");
        if (st == TD_OK)
            st = nn_graph_add_conv(g, &x, x, "dw5", 7, 5, 2, 2, 7, false);
    }
    if (st == TD_OK)
        st = nn_graph_add_global_avgpool(g, &x, x, "gap");
    if (st == TD_OK)
        st = nn_graph_add_fc(g, &x, x, "fc", g->classes, true);
    return st;
}

td_status rtl_net_case_init(rtl_net_case *c, const char *builtin, int bits, td_rng *rng)
{
    memset(c, 0, sizeof *c);
    td_status st = strncmp(builtin, "genome:", 7) == 0
                       ? rtl_net_genome_graph(&c->g, strtoull(builtin + 7, NULL, 10))
                   : strncmp(builtin, "ops:", 4) == 0 ? op_graph(&c->g, atoi(builtin + 4))
                                                      : nn_builtin_graph(&c->g, builtin);
    if (st == TD_OK)
        st = rtl_net_weights_random(&c->nw, &c->g, bits, td_rng_range(rng, 1, 1 << 30));
    c->wt = c->nw.wt;
    if (st == TD_OK)
        st = rtl_layers_from_graph(&c->g, c->wt, c->layers, RTL_NET_MAX_LAYERS, &c->n_layers);
    const nn_shape in = c->g.input;
    if (st == TD_OK && !(c->input = malloc((size_t)(in.c * in.h * in.w) * sizeof *c->input)))
        st = td_fail(TD_ERR_NOMEM, "rtl net case: out of memory");
    for (int64_t i = 0; st == TD_OK && i < in.c * in.h * in.w; i++)
        c->input[i] = (int32_t)td_rng_range(rng, nn_qmin(bits), nn_qmax(bits));
    for (int32_t i = 0; st == TD_OK && i < c->n_layers; i++) {
        const nn_shape o = c->layers[i].out;
        if (!(c->ref[i] = malloc((size_t)(o.c * o.h * o.w) * sizeof *c->ref[i])))
            st = td_fail(TD_ERR_NOMEM, "rtl net case: out of memory");
    }
    if (st == TD_OK)
        rtl_net_reference(c->layers, c->n_layers, c->input, c->ref);
    if (st != TD_OK)
        rtl_net_case_free(c);
    return st;
}
