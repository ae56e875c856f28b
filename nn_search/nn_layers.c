#include "nn_layers.h"

#include "nn_parallel.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* ---- reference kernels: float and double instances of one source ---- */
#define T float
#define FN(x) x
#include "nn_layers_ref.inc"
#undef T
#undef FN
#define T double
#define FN(x) x##_f64
#include "nn_layers_ref.inc"
#undef T
#undef FN

nn_conv_dims nn_conv_dims_make(int64_t n, int64_t c, int64_t h, int64_t w, int64_t oc, int32_t k,
                               int32_t stride, int32_t pad, int32_t groups)
{
    nn_conv_dims d = {
        n, c,      h,   w,     oc, (h + 2 * pad - k) / stride + 1, (w + 2 * pad - k) / stride + 1,
        k, stride, pad, groups};
    return d;
}

static bool conv_is_depthwise(const nn_conv_dims *d)
{
    return d->groups > 1 && d->groups == d->c && d->oc == d->c;
}

static bool conv_is_pointwise(const nn_conv_dims *d)
{
    return d->k == 1 && d->stride == 1 && d->pad == 0;
}

size_t nn_conv_work_floats(const nn_conv_dims *d, int threads)
{
    int64_t cg = d->c / d->groups;
    int64_t kk = cg * d->k * d->k;
    int64_t wsize = d->oc * kk;
    if (conv_is_depthwise(d))
        return (size_t)(threads * wsize);
    return (size_t)threads * (size_t)(kk * d->oh * d->ow + wsize);
}

/* First output index o >= 0 with o * s >= a (a window tap at offset -a is inside). */
static int64_t tap_lo(int64_t a, int32_t s)
{
    return a <= 0 ? 0 : (a + s - 1) / s;
}

/* One past the last output index o < n with o * s <= b. */
static int64_t tap_hi(int64_t b, int32_t s, int64_t n)
{
    if (b < 0)
        return 0;
    int64_t e = b / s + 1;
    return e < n ? e : n;
}

void nn_im2col(float *col, const float *x, int64_t cg, int64_t h, int64_t w, int32_t k,
               int32_t stride, int32_t pad, int64_t oh, int64_t ow)
{
    for (int64_t ci = 0; ci < cg; ci++)
        for (int32_t ky = 0; ky < k; ky++)
            for (int32_t kx = 0; kx < k; kx++) {
                float *row = col + ((ci * k + ky) * k + kx) * oh * ow;
                const float *xp = x + ci * h * w;
                for (int64_t oy = 0; oy < oh; oy++) {
                    int64_t iy = oy * stride - pad + ky;
                    float *r = row + oy * ow;
                    if (iy < 0 || iy >= h) {
                        memset(r, 0, (size_t)ow * sizeof *r);
                        continue;
                    }
                    const float *xr = xp + iy * w;
                    if (stride == 1) {
                        int64_t off = kx - pad;
                        int64_t lo = off < 0 ? -off : 0;
                        int64_t hi = w - off < ow ? w - off : ow;
                        if (hi < lo)
                            hi = lo;
                        for (int64_t ox = 0; ox < lo; ox++)
                            r[ox] = 0;
                        if (hi > lo)
                            memcpy(r + lo, xr + lo + off, (size_t)(hi - lo) * sizeof *r);
                        for (int64_t ox = hi; ox < ow; ox++)
                            r[ox] = 0;
                    } else {
                        for (int64_t ox = 0; ox < ow; ox++) {
                            int64_t ix = ox * stride - pad + kx;
                            r[ox] = (ix < 0 || ix >= w) ? 0.0f : xr[ix];
                        }
                    }
                }
            }
}

void nn_col2im_add(float *dx, const float *col, int64_t cg, int64_t h, int64_t w, int32_t k,
                   int32_t stride, int32_t pad, int64_t oh, int64_t ow)
{
    /* the valid output columns of a tap are computed once, so the inner loop is a plain
     * (stride 1: contiguous) add; each dx element receives the same adds in the same order
     * as a loop over every column with a bounds check */
    for (int64_t ci = 0; ci < cg; ci++)
        for (int32_t ky = 0; ky < k; ky++)
            for (int32_t kx = 0; kx < k; kx++) {
                const float *row = col + ((ci * k + ky) * k + kx) * oh * ow;
                float *xp = dx + ci * h * w;
                int64_t ox0 = tap_lo(pad - kx, stride), ox1 = tap_hi(w - 1 + pad - kx, stride, ow);
                for (int64_t oy = 0; oy < oh; oy++) {
                    int64_t iy = oy * stride - pad + ky;
                    if (iy < 0 || iy >= h)
                        continue;
                    float *restrict xr = xp + iy * w - pad + kx;
                    const float *restrict r = row + oy * ow;
                    if (stride == 1)
                        for (int64_t ox = ox0; ox < ox1; ox++)
                            xr[ox] += r[ox];
                    else
                        for (int64_t ox = ox0; ox < ox1; ox++)
                            xr[ox * stride] += r[ox];
                }
            }
}

/* Depthwise conv, one plane: y [oh][ow] from x [h][w] and a k x k filter. Tap by tap: for
 * each (ky, kx) the rows of outputs whose input is inside the image get fv * x added, so the
 * inner loops are contiguous (stride 1) and free of bounds checks; each output still sums
 * bias + taps in (ky, kx) order, as the reference does. */
static void dw_plane_forward(float *restrict y, const float *restrict x, const float *f, float bias,
                             const nn_conv_dims *d)
{
    int k = d->k, s = d->stride, p = d->pad;
    int64_t oh = d->oh, ow = d->ow, h = d->h, w = d->w;
    for (int64_t i = 0; i < oh * ow; i++)
        y[i] = bias;
    for (int ky = 0; ky < k; ky++) {
        int64_t oy0 = tap_lo(p - ky, s), oy1 = tap_hi(h - 1 + p - ky, s, oh);
        for (int kx = 0; kx < k; kx++) {
            float fv = f[ky * k + kx];
            int64_t ox0 = tap_lo(p - kx, s), ox1 = tap_hi(w - 1 + p - kx, s, ow);
            for (int64_t oy = oy0; oy < oy1; oy++) {
                float *restrict yr = y + oy * ow;
                const float *restrict xr = x + (oy * s - p + ky) * w - p + kx;
                if (s == 1)
                    for (int64_t ox = ox0; ox < ox1; ox++)
                        yr[ox] += fv * xr[ox];
                else
                    for (int64_t ox = ox0; ox < ox1; ox++)
                        yr[ox] += fv * xr[ox * s];
            }
        }
    }
}

/* Backward of one channel over all images, tap by tap: df[tap] += sum over images and rows
 * of dy * x, dx (may be NULL) += fv * dy over the same rows. The products of a tap are summed
 * column-wise into `lane` over every row of every image (vector adds, no horizontal sum per
 * row or plane), then lane is summed in order. Planes of image i start at i * xs (x, dx) and
 * i * ys (dy). */
#define NN_DW_LANES 256
static void dw_channel_backward(float *restrict dx, float *restrict df, const float *restrict dy,
                                const float *restrict x, const float *f, int64_t xs, int64_t ys,
                                const nn_conv_dims *d)
{
    int k = d->k, s = d->stride, p = d->pad;
    int64_t oh = d->oh, ow = d->ow, h = d->h, w = d->w;
    float lane[NN_DW_LANES];
    for (int ky = 0; ky < k; ky++) {
        int64_t oy0 = tap_lo(p - ky, s), oy1 = tap_hi(h - 1 + p - ky, s, oh);
        for (int kx = 0; kx < k; kx++) {
            float fv = f[ky * k + kx];
            int64_t ox0 = tap_lo(p - kx, s), ox1 = tap_hi(w - 1 + p - kx, s, ow);
            float acc = 0;
            for (int64_t c0 = ox0; c0 < ox1; c0 += NN_DW_LANES) {
                int64_t c1 = c0 + NN_DW_LANES < ox1 ? c0 + NN_DW_LANES : ox1, nl = c1 - c0;
                for (int64_t i = 0; i < nl; i++)
                    lane[i] = 0;
                for (int64_t img = 0; img < d->n; img++)
                    for (int64_t oy = oy0; oy < oy1; oy++) {
                        const float *restrict gr = dy + img * ys + oy * ow + c0;
                        int64_t off = img * xs + (oy * s - p + ky) * w - p + kx + c0 * s;
                        const float *restrict xr = x + off;
                        if (s == 1) {
                            for (int64_t i = 0; i < nl; i++)
                                lane[i] += gr[i] * xr[i];
                            if (dx) {
                                float *restrict dr = dx + off;
                                for (int64_t i = 0; i < nl; i++)
                                    dr[i] += fv * gr[i];
                            }
                        } else {
                            for (int64_t i = 0; i < nl; i++)
                                lane[i] += gr[i] * xr[i * s];
                            if (dx) {
                                float *restrict dr = dx + off;
                                for (int64_t i = 0; i < nl; i++)
                                    dr[i * s] += fv * gr[i];
                            }
                        }
                    }
                for (int64_t i = 0; i < nl; i++)
                    acc += lane[i];
            }
            df[ky * k + kx] += acc;
        }
    }
}

typedef struct conv_job {
    float *y, *dx, *dw, *db, *work;
    const float *x, *w, *b, *dy;
    const nn_conv_dims *d;
    int nt;
} conv_job;

static void conv_forward_part(void *arg, int t, int nt)
{
    const conv_job *j = arg;
    const nn_conv_dims *d = j->d;
    int64_t cg = d->c / d->groups, og = d->oc / d->groups;
    int64_t kk = cg * d->k * d->k, m = d->oh * d->ow;
    int64_t lo, hi;
    if (conv_is_depthwise(d)) {
        int64_t kk2 = (int64_t)d->k * d->k;
        nn_parallel_range(d->n * d->c, t, nt, &lo, &hi);
        for (int64_t p = lo; p < hi; p++) {
            int64_t c = p % d->c;
            dw_plane_forward(j->y + p * m, j->x + p * d->h * d->w, j->w + c * kk2,
                             j->b ? j->b[c] : 0.0f, d);
        }
        return;
    }
    bool direct = conv_is_pointwise(d);
    float *col = j->work + (size_t)t * (size_t)(kk * m + d->oc * kk);
    nn_parallel_range(d->n, t, nt, &lo, &hi);
    for (int64_t n = lo; n < hi; n++)
        for (int64_t g = 0; g < d->groups; g++) {
            const float *xg = j->x + (n * d->c + g * cg) * d->h * d->w;
            const float *src = xg;
            if (!direct) {
                nn_im2col(col, xg, cg, d->h, d->w, d->k, d->stride, d->pad, d->oh, d->ow);
                src = col;
            }
            float *yg = j->y + (n * d->oc + g * og) * m;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)og, (int)m, (int)kk, 1.0f,
                        j->w + g * og * kk, (int)kk, src, (int)m, 0.0f, yg, (int)m);
            if (j->b)
                for (int64_t o = 0; o < og; o++) {
                    float bv = j->b[g * og + o];
                    for (int64_t i = 0; i < m; i++)
                        yg[o * m + i] += bv;
                }
        }
}

void nn_conv_forward(float *y, const float *x, const float *w, const float *b, float *work,
                     int threads, const nn_conv_dims *d)
{
    conv_job j = {.y = y, .x = x, .w = w, .b = b, .work = work, .d = d};
    nn_parallel(threads, conv_forward_part, &j);
}

/* Floats between two threads' slots of the work buffer in the backward pass. */
static size_t conv_bwd_slot(const nn_conv_dims *d)
{
    int64_t kk = (d->c / d->groups) * d->k * d->k, wsize = d->oc * kk;
    return conv_is_depthwise(d) ? (size_t)wsize : (size_t)(kk * d->oh * d->ow + wsize);
}

/* Phase 1: thread t's partial weight gradient (in its slot) and its share of dx. */
static void conv_backward_part(void *arg, int t, int nt)
{
    const conv_job *j = arg;
    const nn_conv_dims *d = j->d;
    int64_t cg = d->c / d->groups, og = d->oc / d->groups;
    int64_t kk = cg * d->k * d->k, m = d->oh * d->ow;
    int64_t wsize = d->oc * kk;
    bool dwise = conv_is_depthwise(d);
    bool direct = conv_is_pointwise(d);
    float *col = j->work + (size_t)t * conv_bwd_slot(d);
    float *dwp = dwise ? col : col + kk * m;
    float *dx = j->dx;
    const float *x = j->x, *dy = j->dy, *w = j->w;
    memset(dwp, 0, (size_t)wsize * sizeof *dwp);
    int64_t lo, hi;
    if (dwise) {
        int64_t kk2 = (int64_t)d->k * d->k;
        /* channels over threads: each thread owns its channels' df and dx planes */
        nn_parallel_range(d->c, t, nt, &lo, &hi);
        for (int64_t c = lo; c < hi; c++)
            dw_channel_backward(dx ? dx + c * d->h * d->w : NULL, dwp + c * kk2, dy + c * m,
                                x + c * d->h * d->w, w + c * kk2, d->c * d->h * d->w, d->c * m, d);
        return;
    }
    nn_parallel_range(d->n, t, nt, &lo, &hi);
    for (int64_t n = lo; n < hi; n++)
        for (int64_t g = 0; g < d->groups; g++) {
            const float *xg = x + (n * d->c + g * cg) * d->h * d->w;
            const float *dyg = dy + (n * d->oc + g * og) * m;
            const float *src = xg;
            if (!direct) {
                nn_im2col(col, xg, cg, d->h, d->w, d->k, d->stride, d->pad, d->oh, d->ow);
                src = col;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)og, (int)kk, (int)m, 1.0f,
                        dyg, (int)m, src, (int)m, 1.0f, dwp + g * og * kk, (int)kk);
            if (!dx)
                continue;
            float *dxg = dx + (n * d->c + g * cg) * d->h * d->w;
            if (direct) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)kk, (int)m, (int)og, 1.0f,
                            w + g * og * kk, (int)kk, dyg, (int)m, 1.0f, dxg, (int)m);
            } else {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)kk, (int)m, (int)og, 1.0f,
                            w + g * og * kk, (int)kk, dyg, (int)m, 0.0f, col, (int)m);
                nn_col2im_add(dxg, col, cg, d->h, d->w, d->k, d->stride, d->pad, d->oh, d->ow);
            }
        }
}

/* Phase 2: dw = the partial sums in thread order; db. */
static void conv_backward_reduce(void *arg, int t, int nt)
{
    const conv_job *j = arg;
    const nn_conv_dims *d = j->d;
    int64_t kk = (d->c / d->groups) * d->k * d->k, m = d->oh * d->ow;
    int64_t wsize = d->oc * kk;
    size_t slot = conv_bwd_slot(d);
    size_t off = conv_is_depthwise(d) ? 0 : (size_t)(kk * m);
    int64_t lo, hi;
    nn_parallel_range(wsize, t, nt, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        float s = 0;
        for (int tt = 0; tt < j->nt; tt++)
            s += j->work[(size_t)tt * slot + off + (size_t)i];
        j->dw[i] = s;
    }
    if (j->db) {
        nn_parallel_range(d->oc, t, nt, &lo, &hi);
        for (int64_t o = lo; o < hi; o++) {
            float s = 0;
            for (int64_t n = 0; n < d->n; n++) {
                const float *p = j->dy + (n * d->oc + o) * m;
                for (int64_t i = 0; i < m; i++)
                    s += p[i];
            }
            j->db[o] = s;
        }
    }
}

void nn_conv_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                      const float *w, float *work, int threads, const nn_conv_dims *d)
{
    int nt = threads < 1 ? 1 : threads > NN_PARALLEL_MAX ? NN_PARALLEL_MAX : threads;
    conv_job j = {
        .dx = dx, .dw = dw, .db = db, .dy = dy, .x = x, .w = w, .work = work, .d = d, .nt = nt};
    nn_parallel(nt, conv_backward_part, &j);
    nn_parallel(nt, conv_backward_reduce, &j);
}

void nn_fc_forward(float *y, const float *x, const float *w, const float *b, int64_t n, int64_t k,
                   int64_t o)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)o, (int)k, 1.0f, x, (int)k, w,
                (int)k, 0.0f, y, (int)o);
    if (b)
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < o; j++)
                y[i * o + j] += b[j];
}

void nn_fc_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                    const float *w, int64_t n, int64_t k, int64_t o)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)o, (int)k, (int)n, 1.0f, dy, (int)o,
                x, (int)k, 0.0f, dw, (int)k);
    if (db)
        for (int64_t j = 0; j < o; j++) {
            float s = 0;
            for (int64_t i = 0; i < n; i++)
                s += dy[i * o + j];
            db[j] = s;
        }
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)k, (int)o, 1.0f, dy,
                    (int)o, w, (int)k, 1.0f, dx, (int)k);
}

typedef struct bn_job {
    float *y, *mean, *invstd, *running_mean, *running_var, *dx, *dgamma, *dbeta;
    const float *x, *gamma, *beta, *dy, *cmean, *cinvstd;
    int64_t n, c, hw;
    float momentum, eps;
} bn_job;

static void bn_forward_part(void *arg, int t, int nt)
{
    const bn_job *j = arg;
    int64_t n = j->n, c = j->c, hw = j->hw, lo, hi;
    double m = (double)(n * hw);
    nn_parallel_range(c, t, nt, &lo, &hi);
    for (int64_t ch = lo; ch < hi; ch++) {
        double s = 0, s2 = 0;
        for (int64_t i = 0; i < n; i++) {
            const float *p = j->x + (i * c + ch) * hw;
            float a = 0, a2 = 0;
#pragma omp simd reduction(+ : a, a2)
            for (int64_t k = 0; k < hw; k++) {
                a += p[k];
                a2 += p[k] * p[k];
            }
            s += a;
            s2 += a2;
        }
        double mu = s / m;
        double var = s2 / m - mu * mu;
        if (var < 0)
            var = 0;
        double is = 1.0 / sqrt(var + j->eps);
        j->mean[ch] = (float)mu;
        j->invstd[ch] = (float)is;
        if (j->running_mean) {
            float mo = j->momentum;
            j->running_mean[ch] = (float)((1 - mo) * j->running_mean[ch] + mo * mu);
            j->running_var[ch] =
                (float)((1 - mo) * j->running_var[ch] + mo * (m > 1 ? var * m / (m - 1) : var));
        }
        float a = (float)(j->gamma[ch] * is), bb = (float)(j->beta[ch] - j->gamma[ch] * is * mu);
        for (int64_t i = 0; i < n; i++) {
            const float *p = j->x + (i * c + ch) * hw;
            float *q = j->y + (i * c + ch) * hw;
            for (int64_t k = 0; k < hw; k++)
                q[k] = a * p[k] + bb;
        }
    }
}

void nn_bn_forward_train(float *y, float *mean, float *invstd, float *running_mean,
                         float *running_var, const float *x, const float *gamma, const float *beta,
                         int64_t n, int64_t c, int64_t hw, float momentum, float eps, int threads)
{
    bn_job j = {.y = y,
                .mean = mean,
                .invstd = invstd,
                .running_mean = running_mean,
                .running_var = running_var,
                .x = x,
                .gamma = gamma,
                .beta = beta,
                .n = n,
                .c = c,
                .hw = hw,
                .momentum = momentum,
                .eps = eps};
    nn_parallel(threads, bn_forward_part, &j);
}

static void bn_backward_part(void *arg, int t, int nt)
{
    const bn_job *j = arg;
    int64_t n = j->n, c = j->c, hw = j->hw, lo, hi;
    double m = (double)(n * hw);
    nn_parallel_range(c, t, nt, &lo, &hi);
    for (int64_t ch = lo; ch < hi; ch++) {
        double sdy = 0, sdyx = 0;
        float mu = j->cmean[ch], is = j->cinvstd[ch];
        for (int64_t i = 0; i < n; i++) {
            const float *g = j->dy + (i * c + ch) * hw, *p = j->x + (i * c + ch) * hw;
            float a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
            for (int64_t k = 0; k < hw; k++) {
                a += g[k];
                b += g[k] * (p[k] - mu);
            }
            sdy += a;
            sdyx += b;
        }
        sdyx *= is;
        j->dgamma[ch] = (float)sdyx;
        j->dbeta[ch] = (float)sdy;
        if (!j->dx)
            continue;
        float k1 = (float)(j->gamma[ch] * is), k2 = (float)(sdy / m), k3 = (float)(sdyx / m * is);
        for (int64_t i = 0; i < n; i++) {
            const float *g = j->dy + (i * c + ch) * hw, *p = j->x + (i * c + ch) * hw;
            float *q = j->dx + (i * c + ch) * hw;
            for (int64_t k = 0; k < hw; k++)
                q[k] += k1 * (g[k] - k2 - (p[k] - mu) * k3);
        }
    }
}

void nn_bn_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                    const float *mean, const float *invstd, const float *gamma, int64_t n,
                    int64_t c, int64_t hw, int threads)
{
    bn_job j = {.dx = dx,
                .dgamma = dgamma,
                .dbeta = dbeta,
                .dy = dy,
                .x = x,
                .cmean = mean,
                .cinvstd = invstd,
                .gamma = gamma,
                .n = n,
                .c = c,
                .hw = hw};
    nn_parallel(threads, bn_backward_part, &j);
}

void nn_relu_forward(float *restrict y, const float *restrict x, int64_t count, float cap)
{
    if (cap > 0)
        for (int64_t i = 0; i < count; i++) {
            float v = x[i] > 0 ? x[i] : 0.0f;
            y[i] = v < cap ? v : cap;
        }
    else
        for (int64_t i = 0; i < count; i++)
            y[i] = x[i] > 0 ? x[i] : 0.0f;
}

void nn_relu_backward(float *restrict dx, const float *restrict dy, const float *restrict x,
                      int64_t count, float cap)
{
    /* loads before the select, so that the loop vectorises (a masked add) */
    if (cap > 0)
        for (int64_t i = 0; i < count; i++) {
            float g = dy[i], v = x[i];
            dx[i] += (v > 0 && v < cap) ? g : 0.0f;
        }
    else
        for (int64_t i = 0; i < count; i++) {
            float g = dy[i];
            dx[i] += x[i] > 0 ? g : 0.0f;
        }
}

void nn_maxpool_forward(float *restrict y, int32_t *restrict argmax, const float *restrict x,
                        int64_t n, int64_t c, int64_t h, int64_t w, int32_t k, int32_t stride,
                        int32_t pad)
{
    if (k != 2 || stride != 2 || pad != 0) {
        nn_maxpool_forward_ref(y, argmax, x, n, c, h, w, k, stride, pad);
        return;
    }
    /* 2x2/2 without padding: the first maximum in (ky, kx) order, as the reference */
    int64_t oh = (h - 2) / 2 + 1, ow = (w - 2) / 2 + 1;
    for (int64_t p = 0; p < n * c; p++) {
        const float *xp = x + p * h * w;
        float *yp = y + p * oh * ow;
        int32_t *ap = argmax + p * oh * ow;
        for (int64_t oy = 0; oy < oh; oy++) {
            const float *r0 = xp + 2 * oy * w, *r1 = r0 + w;
            for (int64_t ox = 0; ox < ow; ox++) {
                int32_t i0 = (int32_t)(2 * oy * w + 2 * ox);
                int32_t best = i0;
                float bv = r0[2 * ox];
                if (r0[2 * ox + 1] > bv) {
                    bv = r0[2 * ox + 1];
                    best = i0 + 1;
                }
                if (r1[2 * ox] > bv) {
                    bv = r1[2 * ox];
                    best = i0 + (int32_t)w;
                }
                if (r1[2 * ox + 1] > bv) {
                    bv = r1[2 * ox + 1];
                    best = i0 + (int32_t)w + 1;
                }
                yp[oy * ow + ox] = bv;
                ap[oy * ow + ox] = best;
            }
        }
    }
}

void nn_gap_forward(float *restrict y, const float *restrict x, int64_t n, int64_t c, int64_t hw)
{
    for (int64_t p = 0; p < n * c; p++) {
        const float *xp = x + p * hw;
        float s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < hw; i++)
            s += xp[i];
        y[p] = s / (float)hw;
    }
}
