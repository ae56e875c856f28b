/* GPU layer tests (label gpu, issue #4): every entry of the CUDA backend table against the
 * CPU backend on the same random inputs, forward and backward, with the tolerances of
 * td_tolerances.h; the gradient conventions (parameter gradients overwritten, dx
 * accumulated, NULL dx), im2col chunking, determinism and the error path of a failed
 * allocation. Exits 77 (skipped) where the CUDA backend is not built or no GPU is present. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "td_tolerances.h"
#include "nn_data.h"
#include "nn_layers.h"
#include "nn_train.h"
#include "td_rng.h"
#include "td_status.h"

#ifdef NN_HAVE_CUDA
#include "nn_backend_cuda.h"

static const nn_backend *cpu, *gpu;
static int gpu_key; /* alloc ctx of this test's device arena */
static td_rng rng;

static float *host_rand(size_t n, double scale)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((td_rng_uniform(&rng) * 2.0 - 1.0) * scale);
    return p;
}

static float *host_copy(const float *src, size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    memcpy(p, src, n * sizeof *p);
    return p;
}

static float *dev_from(const float *h, size_t n)
{
    float *d = gpu->alloc(&gpu_key, n);
    assert_non_null(d);
    gpu->upload(d, h, n);
    return d;
}

static float *dev_garbage(size_t n)
{
    float *h = host_rand(n, 100.0);
    float *d = dev_from(h, n);
    free(h);
    return d;
}

static float *host_from(const float *d, size_t n)
{
    float *h = malloc((n ? n : 1) * sizeof *h);
    assert_non_null(h);
    gpu->download(h, d, n);
    return h;
}

static double nmse(const float *a, const float *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)a[i] - (double)ref[i];
        num += e * e;
        den += (double)ref[i] * ref[i];
    }
    if (den == 0)
        return num;
    return num / den;
}

/* Downloads d and compares with ref; prints the figure so that failures show the margin. */
static void expect_close(const char *what, const float *d, const float *ref, size_t n, double tol)
{
    float *h = host_from(d, n);
    double e = nmse(h, ref, n);
    if (e > tol)
        print_error("%s: normalized MSE %.3g exceeds %.3g\n", what, e, tol);
    assert_true(e <= tol);
    free(h);
    assert_int_equal(nn_backend_cuda_status(), TD_OK);
}

/* ---------------------------------------------------------------- convolution */

typedef struct conv_case {
    int64_t n, c, h, w, oc;
    int32_t k, stride, pad, groups;
    const char *name;
} conv_case;

static const conv_case conv_cases[] = {
    {4, 3, 9, 9, 8, 3, 1, 1, 1, "3x3 s1 p1"},
    {3, 4, 10, 10, 6, 3, 2, 1, 1, "3x3 s2 p1"},
    {2, 8, 7, 7, 16, 1, 1, 0, 1, "1x1 pointwise"},
    {3, 5, 11, 7, 4, 3, 2, 0, 1, "3x3 s2 p0 non-square"},
    {2, 8, 6, 6, 12, 3, 1, 1, 2, "grouped g=2"},
    {2, 8, 8, 8, 8, 3, 1, 1, 8, "depthwise 3x3 s1"},
    {2, 6, 9, 9, 6, 5, 2, 2, 6, "depthwise 5x5 s2"},
    {8, 16, 12, 12, 32, 3, 1, 1, 1, "3x3 batch 8 (chunked when the limit is low)"},
};

static void run_conv_case(const conv_case *cc, bool bias)
{
    nn_conv_dims d = nn_conv_dims_make(cc->n, cc->c, cc->h, cc->w, cc->oc, cc->k, cc->stride,
                                       cc->pad, cc->groups);
    size_t nx = (size_t)(d.n * d.c * d.h * d.w), ny = (size_t)(d.n * d.oc * d.oh * d.ow);
    size_t nw = (size_t)(d.oc * (d.c / d.groups) * d.k * d.k), nb = (size_t)d.oc;
    float *x = host_rand(nx, 1.0), *w = host_rand(nw, 0.5), *b = host_rand(nb, 0.5);
    float *dy = host_rand(ny, 1.0), *dx0 = host_rand(nx, 1.0);
    size_t nwork = nn_conv_work_floats(&d, 1);
    float *work = malloc((nwork ? nwork : 1) * sizeof *work);
    float *y = malloc(ny * sizeof *y), *dw = malloc(nw * sizeof *dw);
    float *db = malloc(nb * sizeof *db), *dx = host_copy(dx0, nx);
    assert_true(work && y && dw && db);
    cpu->conv_forward(y, x, w, bias ? b : NULL, work, 1, &d);
    cpu->conv_backward(dx, dw, bias ? db : NULL, dy, x, w, work, 1, &d);

    float *gx = dev_from(x, nx), *gw = dev_from(w, nw), *gb = dev_from(b, nb);
    float *gdy = dev_from(dy, ny), *gdx = dev_from(dx0, nx);
    float *gy = dev_garbage(ny), *gdw = dev_garbage(nw), *gdb = dev_garbage(nb);
    gpu->conv_forward(gy, gx, gw, bias ? gb : NULL, NULL, 1, &d);
    gpu->conv_backward(gdx, gdw, bias ? gdb : NULL, gdy, gx, gw, NULL, 1, &d);
    char what[160];
    snprintf(what, sizeof what, "conv %s%s y", cc->name, bias ? " +bias" : "");
    expect_close(what, gy, y, ny, GPU_TOL_NMSE_GEMM);
    snprintf(what, sizeof what, "conv %s dx (accumulated)", cc->name);
    expect_close(what, gdx, dx, nx, GPU_TOL_NMSE_GEMM);
    snprintf(what, sizeof what, "conv %s dw (overwritten)", cc->name);
    expect_close(what, gdw, dw, nw, GPU_TOL_NMSE_GEMM);
    if (bias) {
        snprintf(what, sizeof what, "conv %s db", cc->name);
        expect_close(what, gdb, db, nb, GPU_TOL_NMSE_GEMM);
    }
    /* dx NULL: only parameter gradients */
    float *gdw2 = dev_garbage(nw);
    gpu->conv_backward(NULL, gdw2, NULL, gdy, gx, gw, NULL, 1, &d);
    snprintf(what, sizeof what, "conv %s dw with dx NULL", cc->name);
    expect_close(what, gdw2, dw, nw, GPU_TOL_NMSE_GEMM);
    free(x), free(w), free(b), free(dy), free(dx0), free(work), free(y), free(dw), free(db);
    free(dx);
}

static void test_conv(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
        run_conv_case(&conv_cases[i], true);
        run_conv_case(&conv_cases[i], false);
    }
}

/* A workspace limit far below one batch forces several im2col chunks per layer. */
static void test_conv_chunked(void **state)
{
    (void)state;
    nn_backend_cuda_set_workspace_limit((size_t)64 << 10);
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++)
        run_conv_case(&conv_cases[i], true);
    nn_backend_cuda_set_workspace_limit((size_t)256 << 20);
}

/* Same inputs twice: bit-identical gradients (no atomics, fixed reduction orders). */
static void test_conv_deterministic(void **state)
{
    (void)state;
    const conv_case *cc = &conv_cases[7];
    nn_conv_dims d = nn_conv_dims_make(cc->n, cc->c, cc->h, cc->w, cc->oc, cc->k, cc->stride,
                                       cc->pad, cc->groups);
    size_t nx = (size_t)(d.n * d.c * d.h * d.w), ny = (size_t)(d.n * d.oc * d.oh * d.ow);
    size_t nw = (size_t)(d.oc * d.c * d.k * d.k);
    float *x = host_rand(nx, 1.0), *w = host_rand(nw, 0.5), *dy = host_rand(ny, 1.0);
    float *gx = dev_from(x, nx), *gw = dev_from(w, nw), *gdy = dev_from(dy, ny);
    float *r[2][2];
    for (int t = 0; t < 2; t++) {
        float *gdx = gpu->alloc(&gpu_key, nx), *gdw = gpu->alloc(&gpu_key, nw);
        gpu->conv_backward(gdx, gdw, NULL, gdy, gx, gw, NULL, 1, &d);
        r[t][0] = host_from(gdx, nx);
        r[t][1] = host_from(gdw, nw);
    }
    assert_memory_equal(r[0][0], r[1][0], nx * sizeof(float));
    assert_memory_equal(r[0][1], r[1][1], nw * sizeof(float));
    for (int t = 0; t < 2; t++)
        free(r[t][0]), free(r[t][1]);
    free(x), free(w), free(dy);
}

/* ---------------------------------------------------------------- batch norm */

static void test_batchnorm(void **state)
{
    (void)state;
    int64_t n = 5, c = 6, hw = 49;
    size_t nx = (size_t)(n * c * hw);
    float *x = host_rand(nx, 2.0), *gamma = host_rand((size_t)c, 1.0);
    float *beta = host_rand((size_t)c, 1.0), *dy = host_rand(nx, 1.0), *dx0 = host_rand(nx, 1.0);
    for (size_t i = 0; i < nx; i++)
        x[i] += 0.5f; /* non-zero mean */
    float *rm = host_rand((size_t)c, 0.1), *rv = host_rand((size_t)c, 0.1);
    for (int64_t i = 0; i < c; i++)
        rv[i] += 1.0f;
    float *grm = dev_from(rm, (size_t)c), *grv = dev_from(rv, (size_t)c);
    float *y = malloc(nx * sizeof *y), *mean = malloc((size_t)c * sizeof *mean);
    float *invstd = malloc((size_t)c * sizeof *invstd), *dg = malloc((size_t)c * sizeof *dg);
    float *dbt = malloc((size_t)c * sizeof *dbt), *dx = host_copy(dx0, nx);
    float *ye = malloc(nx * sizeof *ye);
    cpu->bn_forward_train(y, mean, invstd, rm, rv, x, gamma, beta, n, c, hw, 0.1f, 1e-5f, 1);
    cpu->bn_backward(dx, dg, dbt, dy, x, mean, invstd, gamma, n, c, hw, 1);
    cpu->bn_forward_eval(ye, x, gamma, beta, rm, rv, n, c, hw, 1e-5f);

    float *gx = dev_from(x, nx), *gg = dev_from(gamma, (size_t)c), *gbe = dev_from(beta, (size_t)c);
    float *gdy = dev_from(dy, nx), *gdx = dev_from(dx0, nx), *gy = dev_garbage(nx);
    float *gmean = dev_garbage((size_t)c), *ginv = dev_garbage((size_t)c);
    float *gdg = dev_garbage((size_t)c), *gdb = dev_garbage((size_t)c), *gye = dev_garbage(nx);
    gpu->bn_forward_train(gy, gmean, ginv, grm, grv, gx, gg, gbe, n, c, hw, 0.1f, 1e-5f, 1);
    gpu->bn_backward(gdx, gdg, gdb, gdy, gx, gmean, ginv, gg, n, c, hw, 1);
    gpu->bn_forward_eval(gye, gx, gg, gbe, grm, grv, n, c, hw, 1e-5f);
    expect_close("bn train y", gy, y, nx, GPU_TOL_NMSE_BN);
    expect_close("bn mean", gmean, mean, (size_t)c, GPU_TOL_NMSE_BN);
    expect_close("bn invstd", ginv, invstd, (size_t)c, GPU_TOL_NMSE_BN);
    expect_close("bn running mean", grm, rm, (size_t)c, GPU_TOL_NMSE_BN);
    expect_close("bn running var", grv, rv, (size_t)c, GPU_TOL_NMSE_BN);
    expect_close("bn dx (accumulated)", gdx, dx, nx, GPU_TOL_NMSE_BN);
    expect_close("bn dgamma", gdg, dg, (size_t)c, GPU_TOL_NMSE_BN);
    expect_close("bn dbeta", gdb, dbt, (size_t)c, GPU_TOL_NMSE_BN);
    expect_close("bn eval y", gye, ye, nx, GPU_TOL_NMSE_BN);
    free(x), free(gamma), free(beta), free(dy), free(dx0), free(rm), free(rv), free(y);
    free(mean), free(invstd), free(dg), free(dbt), free(dx), free(ye);
}

/* ---------------------------------------------------------------- elementwise */

static void test_relu_add(void **state)
{
    (void)state;
    size_t n = 3000;
    for (int relu6 = 0; relu6 < 2; relu6++) {
        float cap = relu6 ? 6.0f : 0.0f;
        float *x = host_rand(n, 10.0), *dy = host_rand(n, 1.0), *dx0 = host_rand(n, 1.0);
        float *y = malloc(n * sizeof *y), *dx = host_copy(dx0, n);
        cpu->relu_forward(y, x, (int64_t)n, cap);
        cpu->relu_backward(dx, dy, x, (int64_t)n, cap);
        float *gx = dev_from(x, n), *gy = dev_garbage(n), *gdy = dev_from(dy, n);
        float *gdx = dev_from(dx0, n);
        gpu->relu_forward(gy, gx, (int64_t)n, cap);
        gpu->relu_backward(gdx, gdy, gx, (int64_t)n, cap);
        expect_close(relu6 ? "relu6 y" : "relu y", gy, y, n, GPU_TOL_NMSE_EXACT);
        expect_close(relu6 ? "relu6 dx" : "relu dx", gdx, dx, n, GPU_TOL_NMSE_EXACT);
        free(x), free(dy), free(dx0), free(y), free(dx);
    }
    float *a = host_rand(n, 1.0), *b = host_rand(n, 1.0), *dy = host_rand(n, 1.0);
    float *da0 = host_rand(n, 1.0), *db0 = host_rand(n, 1.0);
    float *y = malloc(n * sizeof *y), *da = host_copy(da0, n), *db = host_copy(db0, n);
    cpu->add_forward(y, a, b, (int64_t)n);
    cpu->add_backward(da, db, dy, (int64_t)n);
    float *ga = dev_from(a, n), *gb = dev_from(b, n), *gy = dev_garbage(n);
    float *gdy = dev_from(dy, n), *gda = dev_from(da0, n), *gdb = dev_from(db0, n);
    gpu->add_forward(gy, ga, gb, (int64_t)n);
    gpu->add_backward(gda, gdb, gdy, (int64_t)n);
    expect_close("add y", gy, y, n, GPU_TOL_NMSE_EXACT);
    expect_close("add da", gda, da, n, GPU_TOL_NMSE_EXACT);
    expect_close("add db", gdb, db, n, GPU_TOL_NMSE_EXACT);
    /* NULL second gradient (the input image) */
    float *gda2 = dev_from(da0, n);
    gpu->add_backward(gda2, NULL, gdy, (int64_t)n);
    expect_close("add da with db NULL", gda2, da, n, GPU_TOL_NMSE_EXACT);
    free(a), free(b), free(dy), free(da0), free(db0), free(y), free(da), free(db);
}

/* ---------------------------------------------------------------- pools */

typedef struct pool_case {
    int64_t n, c, h, w;
    int32_t k, stride, pad;
} pool_case;

static const pool_case pool_cases[] = {
    {3, 4, 8, 8, 2, 2, 0},
    {2, 3, 9, 9, 3, 2, 1}, /* overlapping windows */
    {2, 3, 7, 5, 3, 1, 1},
    {2, 2, 7, 7, 2, 2, 0}, /* odd size: last row/column dropped */
};

static void test_pools(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof pool_cases / sizeof pool_cases[0]; t++) {
        const pool_case *pc = &pool_cases[t];
        int64_t oh = (pc->h + 2 * pc->pad - pc->k) / pc->stride + 1;
        int64_t ow = (pc->w + 2 * pc->pad - pc->k) / pc->stride + 1;
        size_t nx = (size_t)(pc->n * pc->c * pc->h * pc->w), ny = (size_t)(pc->n * pc->c * oh * ow);
        float *x = host_rand(nx, 1.0), *dy = host_rand(ny, 1.0), *dx0 = host_rand(nx, 1.0);
        float *y = malloc(ny * sizeof *y), *dx = host_copy(dx0, nx);
        int32_t *am = malloc(ny * sizeof *am);
        /* max pool */
        cpu->maxpool_forward(y, am, x, pc->n, pc->c, pc->h, pc->w, pc->k, pc->stride, pc->pad);
        cpu->maxpool_backward(dx, dy, am, pc->n, pc->c, pc->h, pc->w, pc->k, pc->stride,
                              pc->pad);
        float *gx = dev_from(x, nx), *gy = dev_garbage(ny), *gdy = dev_from(dy, ny);
        float *gdx = dev_from(dx0, nx);
        int32_t *gam = (int32_t *)gpu->alloc(&gpu_key, ny);
        gpu->maxpool_forward(gy, gam, gx, pc->n, pc->c, pc->h, pc->w, pc->k, pc->stride, pc->pad);
        gpu->maxpool_backward(gdx, gdy, gam, pc->n, pc->c, pc->h, pc->w, pc->k, pc->stride,
                              pc->pad);
        expect_close("maxpool y", gy, y, ny, GPU_TOL_NMSE_EXACT);
        int32_t *ham = (int32_t *)host_from((const float *)gam, ny);
        assert_memory_equal(ham, am, ny * sizeof *am);
        expect_close("maxpool dx", gdx, dx, nx, GPU_TOL_NMSE_ELEMENTWISE);
        /* the window comes from the arguments: an argmax buffer the forward pass never saw
         * (the CPU's, copied) gives the same gradient */
        int32_t *gam2 = (int32_t *)dev_from((const float *)am, ny);
        float *gdx2 = dev_from(dx0, nx);
        gpu->maxpool_backward(gdx2, gdy, gam2, pc->n, pc->c, pc->h, pc->w, pc->k, pc->stride,
                              pc->pad);
        expect_close("maxpool dx (argmax from the CPU)", gdx2, dx, nx, GPU_TOL_NMSE_ELEMENTWISE);
        free(ham);
        /* average pool */
        memcpy(dx, dx0, nx * sizeof *dx);
        cpu->avgpool_forward(y, x, pc->n, pc->c, pc->h, pc->w, pc->k, pc->stride, pc->pad);
        cpu->avgpool_backward(dx, dy, pc->n, pc->c, pc->h, pc->w, pc->k, pc->stride, pc->pad);
        float *gdx3 = dev_from(dx0, nx);
        gpu->avgpool_forward(gy, gx, pc->n, pc->c, pc->h, pc->w, pc->k, pc->stride, pc->pad);
        gpu->avgpool_backward(gdx3, gdy, pc->n, pc->c, pc->h, pc->w, pc->k, pc->stride, pc->pad);
        expect_close("avgpool y", gy, y, ny, GPU_TOL_NMSE_ELEMENTWISE);
        expect_close("avgpool dx", gdx3, dx, nx, GPU_TOL_NMSE_ELEMENTWISE);
        free(x), free(dy), free(dx0), free(y), free(dx), free(am);
    }
    /* global average pool */
    int64_t n = 4, c = 5, hw = 37;
    size_t nx = (size_t)(n * c * hw), ny = (size_t)(n * c);
    float *x = host_rand(nx, 1.0), *dy = host_rand(ny, 1.0), *dx0 = host_rand(nx, 1.0);
    float *y = malloc(ny * sizeof *y), *dx = host_copy(dx0, nx);
    cpu->gap_forward(y, x, n, c, hw);
    cpu->gap_backward(dx, dy, n, c, hw);
    float *gx = dev_from(x, nx), *gy = dev_garbage(ny), *gdy = dev_from(dy, ny);
    float *gdx = dev_from(dx0, nx);
    gpu->gap_forward(gy, gx, n, c, hw);
    gpu->gap_backward(gdx, gdy, n, c, hw);
    expect_close("gap y", gy, y, ny, GPU_TOL_NMSE_ELEMENTWISE);
    expect_close("gap dx", gdx, dx, nx, GPU_TOL_NMSE_ELEMENTWISE);
    free(x), free(dy), free(dx0), free(y), free(dx);
}

/* ---------------------------------------------------------------- fully connected */

static void test_fc(void **state)
{
    (void)state;
    int64_t shapes[][3] = {{7, 50, 10}, {128, 3136, 10}, {3, 17, 33}};
    for (size_t t = 0; t < 3; t++) {
        int64_t n = shapes[t][0], k = shapes[t][1], o = shapes[t][2];
        for (int bias = 0; bias < 2; bias++) {
            float *x = host_rand((size_t)(n * k), 1.0), *w = host_rand((size_t)(o * k), 0.1);
            float *b = host_rand((size_t)o, 1.0), *dy = host_rand((size_t)(n * o), 1.0);
            float *dx0 = host_rand((size_t)(n * k), 1.0), *dx = host_copy(dx0, (size_t)(n * k));
            float *y = malloc((size_t)(n * o) * sizeof *y),
                  *dw = malloc((size_t)(o * k) * sizeof(float));
            float *db = malloc((size_t)o * sizeof *db);
            cpu->fc_forward(y, x, w, bias ? b : NULL, n, k, o);
            cpu->fc_backward(dx, dw, bias ? db : NULL, dy, x, w, n, k, o);
            float *gx = dev_from(x, (size_t)(n * k)), *gw = dev_from(w, (size_t)(o * k));
            float *gb = dev_from(b, (size_t)o), *gdy = dev_from(dy, (size_t)(n * o));
            float *gdx = dev_from(dx0, (size_t)(n * k)), *gy = dev_garbage((size_t)(n * o));
            float *gdw = dev_garbage((size_t)(o * k)), *gdb = dev_garbage((size_t)o);
            gpu->fc_forward(gy, gx, gw, bias ? gb : NULL, n, k, o);
            gpu->fc_backward(gdx, gdw, bias ? gdb : NULL, gdy, gx, gw, n, k, o);
            expect_close("fc y", gy, y, (size_t)(n * o), GPU_TOL_NMSE_GEMM);
            expect_close("fc dx (accumulated)", gdx, dx, (size_t)(n * k), GPU_TOL_NMSE_GEMM);
            expect_close("fc dw (overwritten)", gdw, dw, (size_t)(o * k), GPU_TOL_NMSE_GEMM);
            if (bias)
                expect_close("fc db", gdb, db, (size_t)o, GPU_TOL_NMSE_GEMM);
            free(x), free(w), free(b), free(dy), free(dx0), free(dx), free(y), free(dw);
            free(db);
        }
    }
}

/* ---------------------------------------------------------------- loss and optimizers */

static void test_softmax_xent(void **state)
{
    (void)state;
    int64_t n = 77, classes = 10;
    size_t nz = (size_t)(n * classes);
    float *z = host_rand(nz, 4.0), *dz = malloc(nz * sizeof *dz);
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    for (int64_t i = 0; i < n; i++)
        labels[i] = (int32_t)td_rng_uniform_int(&rng, (uint64_t)classes);
    int64_t hits_c = -1, hits_g = -1;
    double loss_c = cpu->softmax_xent(dz, &hits_c, z, labels, n, classes);
    float *gz = dev_from(z, nz), *gdz = dev_garbage(nz);
    double loss_g = gpu->softmax_xent(gdz, &hits_g, gz, labels, n, classes);
    assert_int_equal(hits_g, hits_c);
    assert_true(fabs(loss_g - loss_c) <= GPU_TOL_REL_LOSS * fabs(loss_c));
    expect_close("softmax dlogits", gdz, dz, nz, GPU_TOL_NMSE_ELEMENTWISE);
    /* NULL dlogits and correct */
    double loss_g2 = gpu->softmax_xent(NULL, NULL, gz, labels, n, classes);
    assert_true(fabs(loss_g2 - loss_c) <= GPU_TOL_REL_LOSS * fabs(loss_c));
    free(z), free(dz), free(labels);
}

static void test_optimizers(void **state)
{
    (void)state;
    size_t n = 5000;
    float *decay = host_rand(n, 1.0);
    for (size_t i = 0; i < n; i++)
        decay[i] = decay[i] > 0 ? 1.0f : 0.0f;
    float *gdecay = dev_from(decay, n);
    for (int opt = 0; opt < 3; opt++) {
        float *p = host_rand(n, 1.0), *m = calloc(n, sizeof *m), *v = calloc(n, sizeof *v);
        float *gp = dev_from(p, n), *gm = gpu->alloc(&gpu_key, n), *gv = gpu->alloc(&gpu_key, n);
        for (int64_t step = 1; step <= 4; step++) {
            float *g = host_rand(n, 1.0), *gg = dev_from(g, n);
            if (opt < 2) {
                cpu->sgd_step(p, m, g, decay, (int64_t)n, 0.05f, 0.9f, 5e-4f, opt == 1);
                gpu->sgd_step(gp, gm, gg, gdecay, (int64_t)n, 0.05f, 0.9f, 5e-4f, opt == 1);
            } else {
                cpu->adamw_step(p, m, v, g, decay, (int64_t)n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f,
                                step);
                gpu->adamw_step(gp, gm, gv, gg, gdecay, (int64_t)n, 1e-3f, 0.9f, 0.999f, 1e-8f,
                                0.01f, step);
            }
            free(g);
        }
        const char *names[] = {"sgd params", "sgd nesterov params", "adamw params"};
        expect_close(names[opt], gp, p, n, GPU_TOL_NMSE_ELEMENTWISE);
        expect_close("optimizer first moment / velocity", gm, m, n, GPU_TOL_NMSE_ELEMENTWISE);
        if (opt == 2)
            expect_close("adamw second moment", gv, v, n, GPU_TOL_NMSE_ELEMENTWISE);
        free(p), free(m), free(v);
    }
    free(decay);
}

/* ---------------------------------------------------------------- memory and errors */

static void test_memory(void **state)
{
    (void)state;
    int key2;
    float *a = gpu->alloc(&key2, 1000);
    assert_non_null(a);
    float *h = host_from(a, 1000); /* alloc returns zeroed memory */
    for (int i = 0; i < 1000; i++)
        assert_true(h[i] == 0.0f);
    float *r = host_rand(1000, 1.0);
    gpu->upload(a, r, 1000);
    gpu->zero(a, 500);
    gpu->download(h, a, 1000);
    for (int i = 0; i < 500; i++)
        assert_true(h[i] == 0.0f);
    assert_memory_equal(h + 500, r + 500, 500 * sizeof(float));
    size_t before = nn_backend_cuda_arena_bytes();
    nn_backend_cuda_release(&key2);
    assert_true(nn_backend_cuda_arena_bytes() < before);
    nn_backend_cuda_release(&key2); /* unknown ctx: nothing happens */
    free(h), free(r);
}

/* A failed cudaMalloc: NULL, a message naming the call, file and line, the status kept
 * until cleared, and later calls doing nothing. */
static void test_alloc_failure_message(void **state)
{
    (void)state;
    int key3;
    float *p = gpu->alloc(&key3, (size_t)1 << 46); /* 256 TiB */
    assert_null(p);
    const char *msg = td_error_message();
    assert_non_null(strstr(msg, "nn_backend_cuda")); /* file:line (.cu, or the emulated copy) */
    assert_non_null(strstr(msg, "cudaMalloc"));
    assert_int_equal(nn_backend_cuda_status(), TD_ERR_NOMEM);
    assert_non_null(strstr(td_error_message(), "cudaMalloc"));
    /* later calls are no-ops; softmax reports NaN so the training loop stops */
    float z[10] = {0};
    int32_t lab[1] = {0};
    assert_true(isnan(gpu->softmax_xent(NULL, NULL, z, lab, 1, 10)));
    nn_backend_cuda_clear_error();
    assert_int_equal(nn_backend_cuda_status(), TD_OK);
    nn_backend_cuda_release(&key3);
}

/* ---------------------------------------------------------------- resident dataset */

/* The device batch fill equals nn_batch_fill bit for bit and draws the same random numbers. */
static void test_batch_fill(void **state)
{
    (void)state;
    nn_dataset ds;
    assert_int_equal(nn_dataset_alloc(&ds, 20, 3, 5, 7, 10), TD_OK);
    for (int64_t i = 0; i < 20 * 3 * 5 * 7; i++)
        ds.pixels[i] = (uint8_t)td_rng_uniform_int(&rng, 256);
    for (int64_t i = 0; i < 20; i++)
        ds.labels[i] = (uint8_t)td_rng_uniform_int(&rng, 10);
    nn_norm norm = {3, {0.2f, 0.5f, 0.7f}, {0.3f, 0.25f, 0.9f}};
    nn_cuda_dataset dd;
    assert_int_equal(nn_cuda_dataset_upload(&dd, &ds, 0), TD_OK);
    int64_t idx[9] = {3, 0, 19, 7, 7, 12, 1, 5, 18};
    size_t nx = 9 * 3 * 5 * 7;
    float *x = malloc(nx * sizeof *x), *gx = gpu->alloc(&gpu_key, nx);
    int32_t y[9], gy[9];
    for (int mode = 0; mode < 3; mode++) {
        nn_augment aug = {mode == 2 ? 2 : 0, mode >= 1};
        td_rng r1, r2;
        assert_int_equal(td_rng_init(&r1, 99), TD_OK);
        assert_int_equal(td_rng_init(&r2, 99), TD_OK);
        nn_batch_fill(x, y, &ds, idx, 9, &norm, mode ? &aug : NULL, &r1);
        nn_cuda_batch_fill(gx, gy, &dd, &ds, idx, 9, &norm, mode ? &aug : NULL, &r2);
        float *h = host_from(gx, nx);
        assert_memory_equal(h, x, nx * sizeof *x);
        assert_memory_equal(gy, y, sizeof y);
        assert_true(td_rng_uniform(&r1) == td_rng_uniform(&r2));
        free(h);
        td_rng_free(&r1);
        td_rng_free(&r2);
    }
    /* an index outside the resident set */
    int64_t bad[1] = {20};
    nn_cuda_batch_fill(gx, NULL, &dd, &ds, bad, 1, &norm, NULL, NULL);
    assert_int_equal(nn_backend_cuda_status(), TD_ERR_INTERNAL);
    assert_non_null(strstr(td_error_message(), "index 20, outside the resident dataset of 20"));
    nn_backend_cuda_clear_error();
    /* a dataset over the allowed size stays on the host */
    nn_cuda_dataset small;
    assert_int_equal(nn_cuda_dataset_upload(&small, &ds, 100), TD_ERR_NOMEM);
    assert_non_null(strstr(td_error_message(), "(2100 bytes) does not fit the 100 bytes"));
    assert_null(small.pixels);
    nn_cuda_dataset_free(&dd);
    nn_dataset_free(&ds);
    free(x);
}

/* A tensor past the kernels' 32-bit indexing is refused before any launch, with a message. */
static void test_index_limit_message(void **state)
{
    (void)state;
    float *buf = gpu->alloc(&gpu_key, 16);
    gpu->relu_forward(buf, buf, (int64_t)1 << 32, 0.0f); /* sizes only: nothing is touched */
    assert_int_equal(nn_backend_cuda_status(), TD_ERR_UNSUPPORTED);
    const char *msg = td_error_message();
    assert_non_null(strstr(msg, "relu input has 4294967296 elements"));
    assert_non_null(strstr(msg, "32-bit indexing"));
    nn_backend_cuda_clear_error();
    assert_int_equal(nn_backend_cuda_status(), TD_OK);
}

int main(void)
{
    if (nn_cuda_device_count() == 0) {
        const nn_backend *b;
        td_status st = nn_backend_cuda_get(&b);
        printf("skipped: %s\n", st == TD_OK ? "no device" : td_error_message());
        return 77;
    }
    unsetenv("TANDEM_CUDA_TF32"); /* the tolerances assume FP32 GEMMs */
    if (nn_backend_cuda_get(&gpu) != TD_OK) {
        fprintf(stderr, "CUDA backend unusable: %s\n", td_error_message());
        return 1;
    }
    char name[256];
    if (nn_cuda_device_name(name, sizeof name) == TD_OK)
        printf("device: %s\n", name);
    cpu = nn_backend_cpu();
    if (td_rng_init(&rng, 20261123) != TD_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_conv_chunked),
        cmocka_unit_test(test_conv_deterministic),
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_relu_add),
        cmocka_unit_test(test_pools),
        cmocka_unit_test(test_fc),
        cmocka_unit_test(test_softmax_xent),
        cmocka_unit_test(test_optimizers),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_alloc_failure_message),
        cmocka_unit_test(test_index_limit_message),
        cmocka_unit_test(test_batch_fill),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nn_backend_cuda_release(&gpu_key);
    td_rng_free(&rng);
    return rc;
}

#else

int main(void)
{
    printf("skipped: the CUDA backend is not built (no nvcc, or TANDEM_CUDA=OFF)\n");
    return 77;
}

#endif
