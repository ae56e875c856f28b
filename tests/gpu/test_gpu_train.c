/* Training through the engine on the GPU (label gpu, issue #4):
 *   - three optimizer steps of ref-cnn (SGD) and of a small network with every op (SGD and
 *     AdamW) on both backends end within GPU_TOL_NMSE_TRAIN_STEPS of each other;
 *   - ref-cnn, one epoch of 12,000 Fashion-MNIST images with the default recipe on both
 *     backends from the same seed: validation accuracies within GPU_TOL_REFCNN_ACC_DIFF, the
 *     GPU's at least GPU_REFCNN_MIN_ACCURACY;
 *   - two GPU runs with the same seed give the same weights bit for bit, and so do three
 *     networks training at once from three threads (streams) and one trained alone.
 * Exits 77 where the CUDA backend is not built or no GPU is present. Built against the CPU
 * emulation of CUDA (test_gpu_emulated_train), the all-ops network's three-step tests and
 * the concurrency test run. */
#include <math.h>
#include <pthread.h>
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
#include "nn_graph.h"
#include "nn_train.h"
#include "td_rng.h"
#include "td_status.h"

#ifdef NN_HAVE_CUDA
#include "nn_backend_cuda.h"

static nn_data data;
static nn_graph graph, mixed;
static const nn_backend *gpu;

/* A small network with every op the engine has: strided conv with bias, batch norm, ReLU6,
 * depthwise and pointwise convs, a residual add, overlapping max pool, padded avg pool, a
 * grouped conv, global average pool and fc. */
static td_status build_mixed(nn_graph *g)
{
    nn_shape in = {1, 28, 28};
    int32_t x, a, b;
    td_status st = nn_graph_init(g, "mixed", in, 10);
    if (st == TD_OK)
        st = nn_graph_add_conv(g, &x, 0, "stem", 8, 3, 2, 1, 1, true);
    if (st == TD_OK)
        st = nn_graph_add_batchnorm(g, &x, x, "stem.bn");
    if (st == TD_OK)
        st = nn_graph_add_relu(g, &a, x, "stem.relu6", true);
    if (st == TD_OK)
        st = nn_graph_add_conv(g, &x, a, "dw", 8, 3, 1, 1, 8, false);
    if (st == TD_OK)
        st = nn_graph_add_batchnorm(g, &x, x, "dw.bn");
    if (st == TD_OK)
        st = nn_graph_add_relu(g, &x, x, "dw.relu", false);
    if (st == TD_OK)
        st = nn_graph_add_conv(g, &x, x, "pw", 8, 1, 1, 0, 1, false);
    if (st == TD_OK)
        st = nn_graph_add_batchnorm(g, &b, x, "pw.bn");
    if (st == TD_OK)
        st = nn_graph_add_add(g, &x, a, b, "res");
    if (st == TD_OK)
        st = nn_graph_add_pool(g, &x, x, "maxpool", NN_OP_MAXPOOL, 3, 2, 1);
    if (st == TD_OK)
        st = nn_graph_add_pool(g, &x, x, "avgpool", NN_OP_AVGPOOL, 3, 1, 1);
    if (st == TD_OK)
        st = nn_graph_add_conv(g, &x, x, "grouped", 16, 3, 1, 1, 2, true);
    if (st == TD_OK)
        st = nn_graph_add_relu(g, &x, x, "grouped.relu", false);
    if (st == TD_OK)
        st = nn_graph_add_global_avgpool(g, &x, x, "gap");
    if (st == TD_OK)
        st = nn_graph_add_fc(g, &x, x, "fc", 10, true);
    return st;
}

/* Trains g on be for one epoch of `images` images with recipe r0; returns the validation
 * accuracy and (optionally) the weights then statistics, before (initial) and after
 * (weights) training. */
static double train_net(const nn_graph *g, const nn_backend *be, const nn_recipe *r0,
                        int64_t images, float **weights, float **initial, int64_t *np)
{
    nn_recipe r = *r0;
    r.epochs = 1;
    r.images = images;
    r.threads = 4;
    r.seed = 7;
    nn_net net;
    td_status st = nn_net_init(&net, g, r.batch, r.threads, be, 11);
    if (st != TD_OK)
        print_error("nn_net_init on %s: %s\n", be->name, td_error_message());
    assert_int_equal(st, TD_OK);
    if (initial) {
        *initial = malloc((size_t)(net.n_params + net.n_stats) * sizeof **initial);
        assert_non_null(*initial);
        nn_net_get_weights(&net, *initial, *initial + net.n_params);
    }
    nn_train_result res;
    st = nn_net_train(&net, &data.train, images >= 1000 ? &data.val : NULL, &data.norm, &r, NULL,
                      NULL, &res);
    if (st != TD_OK)
        print_error("training on %s: %s\n", be->name, td_error_message());
    assert_int_equal(st, TD_OK);
    if (be == gpu)
        assert_int_equal(nn_backend_cuda_status(), TD_OK);
    print_message("%s: loss %.4f, train accuracy %.4f, val accuracy %.4f, %.0f images/s\n",
                  be->name, res.final_loss, res.train_accuracy, res.val_accuracy, res.images_per_s);
    if (weights) {
        *np = net.n_params;
        *weights = malloc((size_t)(net.n_params + net.n_stats) * sizeof **weights);
        assert_non_null(*weights);
        nn_net_get_weights(&net, *weights, *weights + net.n_params);
        *np += net.n_stats;
    }
    if (be == gpu)
        nn_backend_cuda_release(&net.arena);
    nn_net_free(&net);
    return res.val_accuracy;
}

#ifndef NN_CUDA_EMULATE
static double train_refcnn(const nn_backend *be, int64_t images, float **weights, int64_t *np)
{
    nn_recipe r;
    nn_recipe_default(&r);
    return train_net(&graph, be, &r, images, weights, NULL, np);
}
#endif

static double nmse(const float *a, const float *ref, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = (double)a[i] - (double)ref[i];
        num += e * e;
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? num / den : num;
}

/* A few optimizer steps through the whole engine (nn_net_train) on both backends from the
 * same weights and batches: the parameters and batch-norm statistics stay within
 * GPU_TOL_NMSE_TRAIN_STEPS of each other. */
static void few_steps(const nn_graph *g, nn_optimizer opt)
{
    float *wg, *wc, *w0g, *w0c;
    int64_t ng, nc;
    nn_recipe r;
    nn_recipe_default(&r);
    r.optimizer = opt;
    if (opt == NN_OPT_ADAMW)
        r.lr = 1e-3;
#ifdef NN_CUDA_EMULATE
    r.batch = 8; /* the emulation runs a fiber per GPU thread: keep it to seconds */
#else
    r.batch = 32;
#endif
    train_net(g, gpu, &r, 3 * r.batch, &wg, &w0g, &ng);
    train_net(g, nn_backend_cpu(), &r, 3 * r.batch, &wc, &w0c, &nc);
    assert_int_equal(ng, nc);
    assert_memory_equal(w0g, w0c, (size_t)ng * sizeof *w0g); /* same start */
    /* compare what training changed, which a wrong gradient changes most */
    for (int64_t i = 0; i < ng; i++) {
        wg[i] -= w0g[i];
        wc[i] -= w0c[i];
    }
    double e = nmse(wg, wc, ng);
    double tol = opt == NN_OPT_SGD ? GPU_TOL_NMSE_TRAIN_STEPS : GPU_TOL_NMSE_TRAIN_STEPS_ADAMW;
    print_message("%s, %s: change of the weights in 3 steps: normalized MSE %.3g (bound %.3g)\n",
                  g->name, opt == NN_OPT_SGD ? "sgd" : "adamw", e, tol);
    assert_true(e <= tol);
    free(wg), free(wc), free(w0g), free(w0c);
}

/* Several networks training at once from separate threads (one stream each): every one ends
 * with the same weights, bit for bit, as when trained alone. */
typedef struct job {
    float *w;
    int64_t n;
} job;

static void *job_train(void *arg)
{
    job *j = arg;
    nn_recipe r;
    nn_recipe_default(&r);
    r.batch = 8;
    train_net(&mixed, gpu, &r, 2 * r.batch, &j->w, NULL, &j->n);
    return NULL;
}

static void test_concurrent_networks(void **state)
{
    (void)state;
    job alone, jobs[3];
    job_train(&alone);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, job_train, &jobs[i]), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(jobs[i].n, alone.n);
        assert_memory_equal(jobs[i].w, alone.w, (size_t)alone.n * sizeof(float));
        free(jobs[i].w);
    }
    free(alone.w);
}

#ifndef NN_CUDA_EMULATE
static void test_refcnn_few_steps(void **state)
{
    (void)state;
    few_steps(&graph, NN_OPT_SGD);
}
#endif

static void test_mixed_few_steps(void **state)
{
    (void)state;
    few_steps(&mixed, NN_OPT_SGD);
    few_steps(&mixed, NN_OPT_ADAMW);
}

#ifndef NN_CUDA_EMULATE
static void test_refcnn_accuracy_band(void **state)
{
    (void)state;
    double acc_gpu = train_refcnn(gpu, 12000, NULL, NULL);
    double acc_cpu = train_refcnn(nn_backend_cpu(), 12000, NULL, NULL);
    print_message("val accuracy: cuda %.4f, cpu %.4f\n", acc_gpu, acc_cpu);
    assert_true(acc_gpu >= GPU_REFCNN_MIN_ACCURACY);
    assert_true(fabs(acc_gpu - acc_cpu) <= GPU_TOL_REFCNN_ACC_DIFF);
}

static void test_refcnn_deterministic(void **state)
{
    (void)state;
    float *w1, *w2;
    int64_t n1, n2;
    train_refcnn(gpu, 2048, &w1, &n1);
    train_refcnn(gpu, 2048, &w2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(w1, w2, (size_t)n1 * sizeof *w1);
    free(w1);
    free(w2);
}
#endif

/* Fashion-MNIST; on the CPU emulation (three-step tests only) 64 random 28x28 images, which
 * is all those tests need and spares loading 70,000 images under sanitizers. */
static td_status load_data(void)
{
#ifdef NN_CUDA_EMULATE
    memset(&data, 0, sizeof data);
    td_rng rng;
    td_status st = nn_dataset_alloc(&data.train, 64, 1, 28, 28, 10);
    if (st == TD_OK)
        st = td_rng_init(&rng, 5);
    if (st != TD_OK)
        return st;
    for (int64_t i = 0; i < 64 * 28 * 28; i++)
        data.train.pixels[i] = (uint8_t)td_rng_uniform_int(&rng, 256);
    for (int64_t i = 0; i < 64; i++)
        data.train.labels[i] = (uint8_t)(i % 10);
    td_rng_free(&rng);
    return nn_norm_compute(&data.norm, &data.train);
#else
    return nn_data_load(&data, NULL, 2000, 1);
#endif
}

int main(void)
{
    if (nn_cuda_device_count() == 0) {
        const nn_backend *b;
        td_status st = nn_backend_cuda_get(&b);
        printf("skipped: %s\n", st == TD_OK ? "no device" : td_error_message());
        return 77;
    }
    unsetenv("TANDEM_CUDA_TF32");
    if (nn_backend_cuda_get(&gpu) != TD_OK) {
        fprintf(stderr, "CUDA backend unusable: %s\n", td_error_message());
        return 1;
    }
    if (load_data() != TD_OK || nn_builtin_graph(&graph, "ref-cnn") != TD_OK ||
        build_mixed(&mixed) != TD_OK) {
        fprintf(stderr, "setup: %s\n", td_error_message());
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_few_steps),      cmocka_unit_test(test_concurrent_networks),
#ifndef NN_CUDA_EMULATE /* too slow on the CPU emulation (the mixed network covers its ops) */
        cmocka_unit_test(test_refcnn_few_steps),     cmocka_unit_test(test_refcnn_accuracy_band),
        cmocka_unit_test(test_refcnn_deterministic),
#endif
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nn_graph_free(&graph);
    nn_graph_free(&mixed);
    nn_data_free(&data);
    return rc;
}

#else

int main(void)
{
    printf("skipped: the CUDA backend is not built (no nvcc, or TANDEM_CUDA=OFF)\n");
    return 77;
}

#endif
