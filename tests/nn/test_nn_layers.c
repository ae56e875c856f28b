/* Layer kernels: backward passes against central finite differences (double reference
 * kernels: relative error < TD_TOL_GRADCHECK_F64; float fast paths: < TD_TOL_GRADCHECK_F32),
 * and every fast path against its plain reference loop. Cases cover stride, padding, groups
 * (grouped and depthwise), 1x1 convs, pooling with padding and residual adds, and a whole
 * residual network through nn_net. */
#include "nn_layers.h"
#include "nn_train.h"
#include "td_rng.h"
#include "td_tolerances.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static double urand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static double *drand_vec(size_t n, uint64_t seed)
{
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = urand(&seed);
    return v;
}

/* Values away from 0 (and from each other, for max pooling): |v| in [0.1, 1.1]. */
static double *drand_vec_nz(size_t n, uint64_t seed)
{
    double *v = drand_vec(n, seed);
    for (size_t i = 0; i < n; i++)
        v[i] = (v[i] < 0 ? -0.1 : 0.1) + v[i] + 1e-3 * (double)(i % 97);
    return v;
}

static float *to_f32(const double *v, size_t n)
{
    float *f = malloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)v[i];
    return f;
}

/* ||a - b|| / max(||a||, ||b||, tiny) */
static double rel_err(const double *a, const double *b, size_t n)
{
    double d = 0, na = 0, nb = 0;
    for (size_t i = 0; i < n; i++) {
        d += (a[i] - b[i]) * (a[i] - b[i]);
        na += a[i] * a[i];
        nb += b[i] * b[i];
    }
    double m = sqrt(na > nb ? na : nb);
    return sqrt(d) / (m > 1e-30 ? m : 1e-30);
}

static double nmse_f(const float *a, const float *b, size_t n)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        s += (double)b[i] * b[i];
    }
    return s > 0 ? d / s : d;
}

/* ---------------------------------------------------------------- double gradient checks */

/* A layer as a function of one flattened "variable" vector (input or a parameter); the
 * loss is sum(y * r). */
typedef struct gc_case {
    const char *what;
    void (*fwd)(void *ctx, double *y, const double *var);
    void (*grad)(void *ctx, double *g, const double *var, const double *r); /* dL/dvar */
    void *ctx;
    size_t n_var, n_y;
} gc_case;

static double gc_loss(const gc_case *c, const double *var, const double *r, double *ybuf)
{
    c->fwd(c->ctx, ybuf, var);
    double s = 0;
    for (size_t i = 0; i < c->n_y; i++)
        s += ybuf[i] * r[i];
    return s;
}

static void gradcheck_f64(const gc_case *c, const double *var0, double h)
{
    double *var = malloc(c->n_var * sizeof *var);
    memcpy(var, var0, c->n_var * sizeof *var);
    double *r = drand_vec(c->n_y, 99);
    double *y = malloc(c->n_y * sizeof *y);
    double *ga = calloc(c->n_var, sizeof *ga), *gn = calloc(c->n_var, sizeof *gn);
    c->grad(c->ctx, ga, var, r);
    for (size_t i = 0; i < c->n_var; i++) {
        double v = var[i];
        var[i] = v + h;
        double lp = gc_loss(c, var, r, y);
        var[i] = v - h;
        double lm = gc_loss(c, var, r, y);
        var[i] = v;
        gn[i] = (lp - lm) / (2 * h);
    }
    double e = rel_err(ga, gn, c->n_var);
    if (!(e < TD_TOL_GRADCHECK_F64))
        print_error("%s: relative error %g\n", c->what, e);
    assert_true(e < TD_TOL_GRADCHECK_F64);
    free(var);
    free(r);
    free(y);
    free(ga);
    free(gn);
}

/* conv: variable 0 = x, 1 = w, 2 = b */
typedef struct conv_ctx {
    nn_conv_dims d;
    double *x, *w, *b;
    int which;
} conv_ctx;

static size_t conv_nx(const nn_conv_dims *d)
{
    return (size_t)(d->n * d->c * d->h * d->w);
}
static size_t conv_nw(const nn_conv_dims *d)
{
    return (size_t)(d->oc * (d->c / d->groups) * d->k * d->k);
}
static size_t conv_ny(const nn_conv_dims *d)
{
    return (size_t)(d->n * d->oc * d->oh * d->ow);
}

static void conv_fwd(void *p, double *y, const double *var)
{
    conv_ctx *c = p;
    const double *x = c->which == 0 ? var : c->x, *w = c->which == 1 ? var : c->w,
                 *b = c->which == 2 ? var : c->b;
    nn_conv_forward_ref_f64(y, x, w, b, &c->d);
}

static void conv_grad(void *p, double *g, const double *var, const double *r)
{
    conv_ctx *c = p;
    double *dx = calloc(conv_nx(&c->d), sizeof *dx), *dw = malloc(conv_nw(&c->d) * sizeof *dw),
           *db = malloc((size_t)c->d.oc * sizeof *db);
    const double *x = c->which == 0 ? var : c->x, *w = c->which == 1 ? var : c->w;
    nn_conv_backward_ref_f64(dx, dw, db, r, x, w, &c->d);
    const double *src = c->which == 0 ? dx : c->which == 1 ? dw : db;
    memcpy(g, src,
           (c->which == 0   ? conv_nx(&c->d)
            : c->which == 1 ? conv_nw(&c->d)
                            : (size_t)c->d.oc) *
               sizeof *g);
    free(dx);
    free(dw);
    free(db);
}

static void check_conv_f64(nn_conv_dims d, const char *what)
{
    conv_ctx c = {d, drand_vec(conv_nx(&d), 1), drand_vec(conv_nw(&d), 2),
                  drand_vec((size_t)d.oc, 3), 0};
    const double *vars[3] = {c.x, c.w, c.b};
    size_t ns[3] = {conv_nx(&d), conv_nw(&d), (size_t)d.oc};
    for (int v = 0; v < 3; v++) {
        char name[128];
        snprintf(name, sizeof name, "%s d%s", what, v == 0 ? "x" : v == 1 ? "w" : "b");
        c.which = v;
        gc_case gc = {name, conv_fwd, conv_grad, &c, ns[v], conv_ny(&d)};
        gradcheck_f64(&gc, vars[v], 1e-5);
    }
    free(c.x);
    free(c.w);
    free(c.b);
}

static void test_conv_gradcheck_f64(void **state)
{
    (void)state;
    check_conv_f64(nn_conv_dims_make(2, 3, 6, 6, 4, 3, 1, 1, 1), "conv 3x3 s1 p1");
    check_conv_f64(nn_conv_dims_make(2, 3, 7, 7, 4, 3, 2, 1, 1), "conv 3x3 s2 p1");
    check_conv_f64(nn_conv_dims_make(1, 4, 7, 6, 6, 5, 1, 2, 2), "conv 5x5 p2 groups 2");
    check_conv_f64(nn_conv_dims_make(2, 4, 6, 6, 4, 3, 2, 1, 4), "depthwise 3x3 s2");
    check_conv_f64(nn_conv_dims_make(2, 5, 4, 4, 3, 1, 1, 0, 1), "pointwise 1x1");
    check_conv_f64(nn_conv_dims_make(1, 2, 5, 5, 2, 2, 2, 0, 1), "conv 2x2 s2 p0");
}

/* batch norm: variable 0 = x, 1 = gamma, 2 = beta */
typedef struct bn_ctx {
    int64_t n, c, hw;
    double *x, *gamma, *beta;
    int which;
} bn_ctx;

static void bn_fwd(void *p, double *y, const double *var)
{
    bn_ctx *b = p;
    double mean[16], inv[16];
    nn_bn_forward_train_ref_f64(y, mean, inv, NULL, NULL, b->which == 0 ? var : b->x,
                                b->which == 1 ? var : b->gamma, b->which == 2 ? var : b->beta, b->n,
                                b->c, b->hw, 0.1, 1e-5);
}

static void bn_grad(void *p, double *g, const double *var, const double *r)
{
    bn_ctx *b = p;
    size_t nx = (size_t)(b->n * b->c * b->hw);
    double mean[16], inv[16], dg[16], dbt[16];
    double *y = malloc(nx * sizeof *y), *dx = calloc(nx, sizeof *dx);
    const double *x = b->which == 0 ? var : b->x, *gm = b->which == 1 ? var : b->gamma;
    nn_bn_forward_train_ref_f64(y, mean, inv, NULL, NULL, x, gm, b->which == 2 ? var : b->beta,
                                b->n, b->c, b->hw, 0.1, 1e-5);
    nn_bn_backward_ref_f64(dx, dg, dbt, r, x, mean, inv, gm, b->n, b->c, b->hw);
    if (b->which == 0)
        memcpy(g, dx, nx * sizeof *g);
    else
        memcpy(g, b->which == 1 ? dg : dbt, (size_t)b->c * sizeof *g);
    free(y);
    free(dx);
}

static void test_bn_gradcheck_f64(void **state)
{
    (void)state;
    bn_ctx b = {3, 4, 5, drand_vec(60, 4), drand_vec(4, 5), drand_vec(4, 6), 0};
    const double *vars[3] = {b.x, b.gamma, b.beta};
    size_t ns[3] = {60, 4, 4};
    const char *names[3] = {"batchnorm dx", "batchnorm dgamma", "batchnorm dbeta"};
    for (int v = 0; v < 3; v++) {
        b.which = v;
        gc_case gc = {names[v], bn_fwd, bn_grad, &b, ns[v], 60};
        gradcheck_f64(&gc, vars[v], 1e-5);
    }
    free(b.x);
    free(b.gamma);
    free(b.beta);
}

/* single-input layers without parameters */
typedef struct simple_ctx {
    int kind; /* 0 relu, 1 relu6, 2 maxpool, 3 avgpool, 4 gap, 5 fc dx, 6 fc dw, 7 add, 8 xent */
    int64_t n, c, h, w, oh, ow;
    int32_t k, stride, pad;
    double *other; /* fc weight / fc input / add second operand */
    int64_t fo;    /* fc outputs */
} simple_ctx;

static void simple_fwd(void *p, double *y, const double *var)
{
    simple_ctx *s = p;
    int64_t cnt = s->n * s->c * s->h * s->w;
    int32_t am[4096];
    switch (s->kind) {
    case 0:
        nn_relu_forward_ref_f64(y, var, cnt, 0);
        break;
    case 1:
        nn_relu_forward_ref_f64(y, var, cnt, 6);
        break;
    case 2:
        nn_maxpool_forward_ref_f64(y, am, var, s->n, s->c, s->h, s->w, s->k, s->stride, s->pad);
        break;
    case 3:
        nn_avgpool_forward_ref_f64(y, var, s->n, s->c, s->h, s->w, s->k, s->stride, s->pad);
        break;
    case 4:
        nn_gap_forward_ref_f64(y, var, s->n, s->c, s->h * s->w);
        break;
    case 5:
        nn_fc_forward_ref_f64(y, var, s->other, NULL, s->n, s->c * s->h * s->w, s->fo);
        break;
    case 6:
        nn_fc_forward_ref_f64(y, s->other, var, NULL, s->n, s->c * s->h * s->w, s->fo);
        break;
    case 7:
        nn_add_forward_ref_f64(y, var, s->other, cnt);
        break;
    case 8: {
        int32_t lab[8] = {1, 0, 3, 2, 1, 0, 2, 3};
        y[0] = nn_softmax_xent_ref_f64(NULL, NULL, var, lab, s->n, s->c);
        break;
    }
    }
}

static void simple_grad(void *p, double *g, const double *var, const double *r)
{
    simple_ctx *s = p;
    int64_t cnt = s->n * s->c * s->h * s->w, k = s->c * s->h * s->w;
    int32_t am[4096];
    double y[4096], tmp[4096];
    size_t nv = s->kind == 6 ? (size_t)(s->fo * k) : (size_t)cnt;
    memset(g, 0, nv * sizeof *g);
    switch (s->kind) {
    case 0:
        nn_relu_backward_ref_f64(g, r, var, cnt, 0);
        break;
    case 1:
        nn_relu_backward_ref_f64(g, r, var, cnt, 6);
        break;
    case 2:
        nn_maxpool_forward_ref_f64(y, am, var, s->n, s->c, s->h, s->w, s->k, s->stride, s->pad);
        nn_maxpool_backward_ref_f64(g, r, am, s->n, s->c, s->h, s->w, s->oh, s->ow);
        break;
    case 3:
        nn_avgpool_backward_ref_f64(g, r, s->n, s->c, s->h, s->w, s->k, s->stride, s->pad);
        break;
    case 4:
        nn_gap_backward_ref_f64(g, r, s->n, s->c, s->h * s->w);
        break;
    case 5:
        nn_fc_backward_ref_f64(g, tmp, NULL, r, var, s->other, s->n, k, s->fo);
        break;
    case 6:
        nn_fc_backward_ref_f64(NULL, g, NULL, r, s->other, var, s->n, k, s->fo);
        break;
    case 7:
        nn_add_backward_ref_f64(g, NULL, r, cnt);
        break;
    case 8: {
        int32_t lab[8] = {1, 0, 3, 2, 1, 0, 2, 3};
        nn_softmax_xent_ref_f64(g, NULL, var, lab, s->n, s->c);
        for (int64_t i = 0; i < cnt; i++)
            g[i] *= r[0];
        break;
    }
    }
}

static void check_simple(simple_ctx s, const char *what)
{
    int64_t cnt = s.n * s.c * s.h * s.w;
    size_t ny = (size_t)cnt, nv = (size_t)cnt;
    if (s.kind == 2 || s.kind == 3) {
        s.oh = (s.h + 2 * s.pad - s.k) / s.stride + 1;
        s.ow = (s.w + 2 * s.pad - s.k) / s.stride + 1;
        ny = (size_t)(s.n * s.c * s.oh * s.ow);
    } else if (s.kind == 4) {
        ny = (size_t)(s.n * s.c);
    } else if (s.kind == 5 || s.kind == 6) {
        ny = (size_t)(s.n * s.fo);
        s.other = drand_vec(s.kind == 5 ? (size_t)(s.fo * s.c * s.h * s.w) : (size_t)cnt, 7);
        if (s.kind == 6)
            nv = (size_t)(s.fo * s.c * s.h * s.w);
    } else if (s.kind == 7) {
        s.other = drand_vec((size_t)cnt, 8);
    } else if (s.kind == 8) {
        ny = 1;
    }
    double *var = s.kind == 2 || s.kind <= 1 ? drand_vec_nz(nv, 11) : drand_vec(nv, 11);
    if (s.kind == 1)
        for (size_t i = 0; i < nv; i++)
            var[i] *= 8.0; /* some values above the cap of 6 */
    gc_case gc = {what, simple_fwd, simple_grad, &s, nv, ny};
    gradcheck_f64(&gc, var, 1e-6);
    free(var);
    free(s.other);
}

static void test_simple_gradcheck_f64(void **state)
{
    (void)state;
    check_simple((simple_ctx){.kind = 0, .n = 2, .c = 3, .h = 4, .w = 4}, "relu");
    check_simple((simple_ctx){.kind = 1, .n = 2, .c = 3, .h = 4, .w = 4}, "relu6");
    check_simple((simple_ctx){.kind = 2, .n = 2, .c = 2, .h = 6, .w = 6, .k = 2, .stride = 2},
                 "maxpool 2x2 s2");
    check_simple(
        (simple_ctx){.kind = 2, .n = 1, .c = 2, .h = 7, .w = 7, .k = 3, .stride = 2, .pad = 1},
        "maxpool 3x3 s2 p1");
    check_simple(
        (simple_ctx){.kind = 3, .n = 2, .c = 2, .h = 7, .w = 7, .k = 3, .stride = 2, .pad = 1},
        "avgpool 3x3 s2 p1");
    check_simple((simple_ctx){.kind = 4, .n = 2, .c = 3, .h = 3, .w = 3}, "global avgpool");
    check_simple((simple_ctx){.kind = 5, .n = 3, .c = 2, .h = 2, .w = 2, .fo = 5}, "fc dx");
    check_simple((simple_ctx){.kind = 6, .n = 3, .c = 2, .h = 2, .w = 2, .fo = 5}, "fc dw");
    check_simple((simple_ctx){.kind = 7, .n = 2, .c = 2, .h = 3, .w = 3}, "residual add");
    check_simple((simple_ctx){.kind = 8, .n = 8, .c = 4, .h = 1, .w = 1}, "softmax xent");
}

/* ---------------------------------------------------------------- float: fast paths */

/* Float gradient check of the fast conv path: loss = sum(y * r) in double over float y. */
static double conv_loss_f(const nn_conv_dims *d, const float *x, const float *w, const float *b,
                          const float *r, float *y, float *work)
{
    nn_conv_forward(y, x, w, b, work, 2, d);
    double s = 0;
    for (size_t i = 0; i < conv_ny(d); i++)
        s += (double)y[i] * r[i];
    return s;
}

static void check_conv_fast(nn_conv_dims d, const char *what)
{
    size_t nx = conv_nx(&d), nw = conv_nw(&d), ny = conv_ny(&d);
    double *xd = drand_vec(nx, 21), *wd = drand_vec(nw, 22), *bd = drand_vec((size_t)d.oc, 23),
           *rd = drand_vec(ny, 24);
    float *x = to_f32(xd, nx), *w = to_f32(wd, nw), *b = to_f32(bd, (size_t)d.oc),
          *r = to_f32(rd, ny);
    float *y = malloc(ny * sizeof *y), *y2 = malloc(ny * sizeof *y2);
    float *work = malloc(nn_conv_work_floats(&d, 2) * sizeof *work);
    /* forward: fast vs reference */
    nn_conv_forward(y, x, w, b, work, 2, &d);
    nn_conv_forward_ref(y2, x, w, b, &d);
    double e = nmse_f(y, y2, ny);
    if (!(e < TD_TOL_FASTPATH_NMSE_F32))
        print_error("%s forward: nmse %g\n", what, e);
    assert_true(e < TD_TOL_FASTPATH_NMSE_F32);
    /* backward: fast vs reference (dx accumulates onto a nonzero start) */
    float *dx = malloc(nx * sizeof *dx), *dx2 = malloc(nx * sizeof *dx2);
    float *dw = malloc(nw * sizeof *dw), *dw2 = malloc(nw * sizeof *dw2);
    float *db = malloc((size_t)d.oc * sizeof *db), *db2 = malloc((size_t)d.oc * sizeof *db2);
    for (size_t i = 0; i < nx; i++)
        dx[i] = dx2[i] = 0.5f;
    nn_conv_backward(dx, dw, db, r, x, w, work, 2, &d);
    nn_conv_backward_ref(dx2, dw2, db2, r, x, w, &d);
    assert_true(nmse_f(dx, dx2, nx) < TD_TOL_FASTPATH_NMSE_F32);
    assert_true(nmse_f(dw, dw2, nw) < TD_TOL_FASTPATH_NMSE_F32);
    assert_true(nmse_f(db, db2, (size_t)d.oc) < TD_TOL_FASTPATH_NMSE_F32);
    /* finite differences in float on the fast path (dw and dx) */
    for (size_t i = 0; i < nx; i++)
        dx[i] = 0;
    nn_conv_backward(dx, dw, db, r, x, w, work, 2, &d);
    const float h = 3e-3f; /* float: rounding ~6e-8/h vs curvature ~h^2 */
    double *ga = malloc((nw + nx) * sizeof *ga), *gn = malloc((nw + nx) * sizeof *gn);
    for (size_t i = 0; i < nw; i++) {
        float v = w[i];
        w[i] = v + h;
        double lp = conv_loss_f(&d, x, w, b, r, y, work);
        w[i] = v - h;
        double lm = conv_loss_f(&d, x, w, b, r, y, work);
        w[i] = v;
        ga[i] = dw[i];
        gn[i] = (lp - lm) / (2.0 * h);
    }
    for (size_t i = 0; i < nx; i++) {
        float v = x[i];
        x[i] = v + h;
        double lp = conv_loss_f(&d, x, w, b, r, y, work);
        x[i] = v - h;
        double lm = conv_loss_f(&d, x, w, b, r, y, work);
        x[i] = v;
        ga[nw + i] = dx[i];
        gn[nw + i] = (lp - lm) / (2.0 * h);
    }
    e = rel_err(ga, gn, nw + nx);
    if (!(e < TD_TOL_GRADCHECK_F32))
        print_error("%s float gradcheck: relative error %g\n", what, e);
    assert_true(e < TD_TOL_GRADCHECK_F32);
    free(xd);
    free(wd);
    free(bd);
    free(rd);
    free(x);
    free(w);
    free(b);
    free(r);
    free(y);
    free(y2);
    free(work);
    free(dx);
    free(dx2);
    free(dw);
    free(dw2);
    free(db);
    free(db2);
    free(ga);
    free(gn);
}

static void test_conv_fast(void **state)
{
    (void)state;
    check_conv_fast(nn_conv_dims_make(3, 3, 8, 8, 5, 3, 1, 1, 1), "conv 3x3 s1 p1");
    check_conv_fast(nn_conv_dims_make(3, 4, 9, 9, 6, 3, 2, 1, 2), "conv 3x3 s2 p1 g2");
    check_conv_fast(nn_conv_dims_make(2, 4, 8, 8, 4, 5, 1, 2, 1), "conv 5x5 p2");
    check_conv_fast(nn_conv_dims_make(3, 6, 8, 8, 6, 3, 2, 1, 6), "depthwise 3x3 s2");
    check_conv_fast(nn_conv_dims_make(2, 6, 7, 7, 6, 5, 1, 2, 6), "depthwise 5x5");
    check_conv_fast(nn_conv_dims_make(2, 5, 9, 11, 5, 5, 2, 2, 5), "depthwise 5x5 s2 9x11");
    check_conv_fast(nn_conv_dims_make(2, 3, 6, 6, 3, 3, 1, 0, 3), "depthwise 3x3 no pad");
    check_conv_fast(nn_conv_dims_make(2, 3, 4, 5, 3, 5, 1, 3, 3), "depthwise pad > k/2");
    check_conv_fast(nn_conv_dims_make(3, 8, 5, 5, 4, 1, 1, 0, 1), "pointwise 1x1");
    check_conv_fast(nn_conv_dims_make(2, 4, 6, 6, 4, 1, 2, 0, 1), "1x1 stride 2");
}

static void test_fc_bn_fast(void **state)
{
    (void)state;
    int64_t n = 5, k = 37, o = 11;
    double *xd = drand_vec((size_t)(n * k), 31), *wd = drand_vec((size_t)(o * k), 32),
           *rd = drand_vec((size_t)(n * o), 33);
    float *x = to_f32(xd, (size_t)(n * k)), *w = to_f32(wd, (size_t)(o * k)),
          *r = to_f32(rd, (size_t)(n * o)), b[11] = {0};
    float y[55], y2[55], dw[407], dw2[407], db[11], db2[11], dx[185] = {0}, dx2[185] = {0};
    nn_fc_forward(y, x, w, b, n, k, o);
    nn_fc_forward_ref(y2, x, w, b, n, k, o);
    assert_true(nmse_f(y, y2, 55) < TD_TOL_FASTPATH_NMSE_F32);
    nn_fc_backward(dx, dw, db, r, x, w, n, k, o);
    nn_fc_backward_ref(dx2, dw2, db2, r, x, w, n, k, o);
    assert_true(nmse_f(dx, dx2, 185) < TD_TOL_FASTPATH_NMSE_F32);
    assert_true(nmse_f(dw, dw2, 407) < TD_TOL_FASTPATH_NMSE_F32);
    assert_true(nmse_f(db, db2, 11) < TD_TOL_FASTPATH_NMSE_F32);
    /* batch norm fast vs reference */
    int64_t bn = 4, c = 3, hw = 10;
    double *bx = drand_vec(120, 34), *bdy = drand_vec(120, 35);
    float *fx = to_f32(bx, 120), *fdy = to_f32(bdy, 120);
    float g[3] = {1.5f, 0.5f, -1.0f}, be[3] = {0.1f, -0.2f, 0.3f};
    float by[120], by2[120], m1[3], m2[3], i1[3], i2[3], rm1[3] = {0}, rm2[3] = {0},
                                                         rv1[3] = {1, 1, 1}, rv2[3] = {1, 1, 1};
    nn_bn_forward_train(by, m1, i1, rm1, rv1, fx, g, be, bn, c, hw, 0.1f, 1e-5f, 2);
    nn_bn_forward_train_ref(by2, m2, i2, rm2, rv2, fx, g, be, bn, c, hw, 0.1f, 1e-5f);
    assert_true(nmse_f(by, by2, 120) < TD_TOL_FASTPATH_NMSE_F32);
    assert_true(nmse_f(rv1, rv2, 3) < TD_TOL_FASTPATH_NMSE_F32);
    float bdx[120] = {0}, bdx2[120] = {0}, dg[3], dg2[3], dbb[3], dbb2[3];
    nn_bn_backward(bdx, dg, dbb, fdy, fx, m1, i1, g, bn, c, hw, 2);
    nn_bn_backward_ref(bdx2, dg2, dbb2, fdy, fx, m2, i2, g, bn, c, hw);
    assert_true(nmse_f(bdx, bdx2, 120) < TD_TOL_FASTPATH_NMSE_F32);
    assert_true(nmse_f(dg, dg2, 3) < TD_TOL_FASTPATH_NMSE_F32);
    assert_true(nmse_f(dbb, dbb2, 3) < TD_TOL_FASTPATH_NMSE_F32);
    free(xd);
    free(wd);
    free(rd);
    free(x);
    free(w);
    free(r);
    free(bx);
    free(bdy);
    free(fx);
    free(fdy);
}

/* Elementwise and pooling fast paths against their references: bit-identical (same
 * arithmetic per element) except the global average pool (SIMD partial sums). */
static void test_elementwise_fast(void **state)
{
    (void)state;
    size_t cnt = 2 * 3 * 10 * 9;
    double *xd = drand_vec(cnt, 41), *gd = drand_vec(cnt, 42);
    float *x = to_f32(xd, cnt), *g = to_f32(gd, cnt);
    for (size_t i = 0; i < cnt; i++)
        x[i] *= 8.0f; /* spans both ReLU6 edges */
    x[0] = 0.0f;
    x[1] = 6.0f;
    float *y = malloc(cnt * sizeof *y), *y2 = malloc(cnt * sizeof *y2);
    float *d = malloc(cnt * sizeof *d), *d2 = malloc(cnt * sizeof *d2);
    for (int cap = 0; cap <= 6; cap += 6) {
        nn_relu_forward(y, x, (int64_t)cnt, (float)cap);
        nn_relu_forward_ref(y2, x, (int64_t)cnt, (float)cap);
        assert_memory_equal(y, y2, cnt * sizeof *y);
        for (size_t i = 0; i < cnt; i++)
            d[i] = d2[i] = 0.25f;
        nn_relu_backward(d, g, x, (int64_t)cnt, (float)cap);
        nn_relu_backward_ref(d2, g, x, (int64_t)cnt, (float)cap);
        assert_memory_equal(d, d2, cnt * sizeof *d);
    }
    /* max pool 2x2/2 on odd and even sizes (ties: the first in window order) */
    int64_t shapes[2][2] = {{10, 9}, {8, 8}};
    for (int s = 0; s < 2; s++) {
        int64_t h = shapes[s][0], w = shapes[s][1], oh = h / 2, ow = w / 2;
        x[5] = x[4]; /* a tie */
        int32_t *a = malloc(cnt * sizeof *a), *a2 = malloc(cnt * sizeof *a2);
        nn_maxpool_forward(y, a, x, 2, 3, h, w, 2, 2, 0);
        nn_maxpool_forward_ref(y2, a2, x, 2, 3, h, w, 2, 2, 0);
        assert_memory_equal(y, y2, (size_t)(6 * oh * ow) * sizeof *y);
        assert_memory_equal(a, a2, (size_t)(6 * oh * ow) * sizeof *a);
        /* other windows take the reference path */
        nn_maxpool_forward(y, a, x, 2, 3, h, w, 3, 2, 1);
        nn_maxpool_forward_ref(y2, a2, x, 2, 3, h, w, 3, 2, 1);
        assert_memory_equal(a, a2, (size_t)(6 * ((h - 1) / 2 + 1) * ((w - 1) / 2 + 1)) * sizeof *a);
        free(a);
        free(a2);
    }
    nn_gap_forward(y, x, 2, 3, 90);
    nn_gap_forward_ref(y2, x, 2, 3, 90);
    assert_true(nmse_f(y, y2, 6) < TD_TOL_FASTPATH_NMSE_F32);
    free(xd);
    free(gd);
    free(x);
    free(g);
    free(y);
    free(y2);
    free(d);
    free(d2);
}

/* A small residual network through the whole engine (float): every parameter's gradient
 * against central differences of the mean loss. */
static void test_net_residual_gradcheck(void **state)
{
    (void)state;
    nn_graph g;
    int32_t x = 0, a, s;
    assert_int_equal(nn_graph_init(&g, "resnet-tiny", (nn_shape){2, 6, 6}, 3), TD_OK);
    assert_int_equal(nn_graph_add_conv(&g, &x, x, "stem", 4, 3, 1, 1, 1, false), TD_OK);
    assert_int_equal(nn_graph_add_batchnorm(&g, &x, x, "stem.bn"), TD_OK);
    assert_int_equal(nn_graph_add_relu(&g, &x, x, "stem.relu", false), TD_OK);
    assert_int_equal(nn_graph_add_conv(&g, &a, x, "b.dw", 4, 3, 1, 1, 4, false), TD_OK);
    assert_int_equal(nn_graph_add_relu(&g, &a, a, "b.relu6", true), TD_OK);
    assert_int_equal(nn_graph_add_conv(&g, &a, a, "b.pw", 4, 1, 1, 0, 1, true), TD_OK);
    assert_int_equal(nn_graph_add_add(&g, &s, a, x, "b.add"), TD_OK);
    assert_int_equal(nn_graph_add_pool(&g, &s, s, "pool", NN_OP_AVGPOOL, 3, 2, 1), TD_OK);
    assert_int_equal(nn_graph_add_conv(&g, &s, s, "c2", 6, 3, 2, 1, 2, true), TD_OK);
    assert_int_equal(nn_graph_add_global_avgpool(&g, &s, s, "gap"), TD_OK);
    assert_int_equal(nn_graph_add_fc(&g, &s, s, "fc", 3, true), TD_OK);
    nn_net net;
    assert_int_equal(nn_net_init(&net, &g, 4, 2, nn_backend_cpu(), 5), TD_OK);
    double *xd = drand_vec(4 * 72, 41);
    float *in = to_f32(xd, 4 * 72);
    int32_t lab[4] = {0, 2, 1, 2};
    /* nonzero biases so that every path carries gradient */
    for (int64_t i = 0; i < net.n_params; i++)
        net.params[i] += 0.05f * (float)((i % 7) - 3);
    nn_net_forward(&net, in, 4, true);
    nn_net_backward(&net, lab, 4, NULL);
    size_t np = (size_t)net.n_params;
    double *ga = malloc(np * sizeof *ga), *gn = malloc(np * sizeof *gn);
    const float h = 3e-3f; /* float: rounding ~6e-8/h vs curvature ~h^2 */
    for (size_t i = 0; i < np; i++) {
        ga[i] = net.grads[i];
        float v = net.params[i];
        net.params[i] = v + h;
        nn_net_forward(&net, in, 4, true);
        double lp = nn_net_backward(&net, lab, 4, NULL);
        net.params[i] = v - h;
        nn_net_forward(&net, in, 4, true);
        double lm = nn_net_backward(&net, lab, 4, NULL);
        net.params[i] = v;
        gn[i] = (lp - lm) / (2.0 * h);
    }
    double e = rel_err(ga, gn, np);
    if (!(e < TD_TOL_GRADCHECK_F32))
        print_error("residual net float gradcheck: relative error %g\n", e);
    assert_true(e < TD_TOL_GRADCHECK_F32);
    free(ga);
    free(gn);
    free(xd);
    free(in);
    nn_net_free(&net);
    nn_graph_free(&g);
}

/* Same seed and thread count: bit-identical parameters after a few steps. */
static void test_net_deterministic(void **state)
{
    (void)state;
    nn_graph g;
    assert_int_equal(nn_builtin_graph(&g, "ref-cnn"), TD_OK);
    nn_dataset ds;
    assert_int_equal(nn_dataset_alloc(&ds, 64, 1, 28, 28, 10), TD_OK);
    uint64_t s = 7;
    for (int64_t i = 0; i < 64 * 784; i++)
        ds.pixels[i] = (uint8_t)((urand(&s) + 1) * 127);
    for (int64_t i = 0; i < 64; i++)
        ds.labels[i] = (uint8_t)(i % 10);
    nn_norm norm;
    assert_int_equal(nn_norm_compute(&norm, &ds), TD_OK);
    nn_recipe r;
    nn_recipe_default(&r);
    r.epochs = 1;
    r.batch = 16;
    float *p[2];
    for (int k = 0; k < 2; k++) {
        nn_net net;
        nn_train_result res;
        assert_int_equal(nn_net_init(&net, &g, 16, 2, nn_backend_cpu(), 3), TD_OK);
        assert_int_equal(nn_net_train(&net, &ds, NULL, &norm, &r, NULL, NULL, &res), TD_OK);
        p[k] = malloc((size_t)net.n_params * sizeof(float));
        memcpy(p[k], net.params, (size_t)net.n_params * sizeof(float));
        if (k == 1)
            assert_memory_equal(p[0], p[1], (size_t)net.n_params * sizeof(float));
        nn_net_free(&net);
    }
    free(p[0]);
    free(p[1]);
    nn_dataset_free(&ds);
    nn_graph_free(&g);
}

static void test_lr_schedule(void **state)
{
    (void)state;
    /* warm-up: linear to the peak; then cosine from the peak to zero */
    assert_true(fabs(nn_lr_at(0.1, 0, 100, 10) - 0.01) < 1e-12);
    assert_true(fabs(nn_lr_at(0.1, 9, 100, 10) - 0.1) < 1e-12);
    assert_true(fabs(nn_lr_at(0.1, 10, 100, 10) - 0.1) < 1e-12);
    assert_true(fabs(nn_lr_at(0.1, 55, 100, 10) - 0.05) < 1e-12);
    assert_true(nn_lr_at(0.1, 100, 100, 10) < 1e-12);
}

static void test_backend_errors(void **state)
{
    (void)state;
    const nn_backend *be;
    td_status st = nn_backend_get(NN_DEVICE_CUDA, &be);
    if (st != TD_OK) { /* no CUDA build, or no usable GPU: says why */
        assert_int_equal(st, TD_ERR_UNSUPPORTED);
#ifndef NN_HAVE_CUDA
        assert_non_null(strstr(td_error_message(), "CUDA training backend is not built"));
#endif
        assert_true(strlen(td_error_message()) > 10);
    }
    nn_device d;
    assert_int_equal(nn_device_parse("tpu", &d), TD_ERR_USAGE);
    assert_non_null(strstr(td_error_message(), "device 'tpu' is not one of cpu, cuda"));
    nn_graph g;
    assert_int_equal(nn_graph_init(&g, "nohead", (nn_shape){1, 4, 4}, 3), TD_OK);
    int32_t x = 0;
    assert_int_equal(nn_graph_add_conv(&g, &x, x, "c", 3, 3, 1, 1, 1, false), TD_OK);
    nn_net net;
    assert_int_equal(nn_net_init(&net, &g, 2, 1, nn_backend_cpu(), 1), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "last layer 'c' gives 3x4x4, not 3 logits"));
    nn_graph_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_gradcheck_f64),
        cmocka_unit_test(test_bn_gradcheck_f64),
        cmocka_unit_test(test_simple_gradcheck_f64),
        cmocka_unit_test(test_conv_fast),
        cmocka_unit_test(test_fc_bn_fast),
        cmocka_unit_test(test_elementwise_fast),
        cmocka_unit_test(test_net_residual_gradcheck),
        cmocka_unit_test(test_net_deterministic),
        cmocka_unit_test(test_lr_schedule),
        cmocka_unit_test(test_backend_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
