/* ref-cnn trained on the GPU reaches the CPU's accuracy band (label gpu, issue #4): one
 * epoch of 12,000 Fashion-MNIST images with the default recipe on both backends from the
 * same seed; the validation accuracies must agree within GPU_TOL_REFCNN_ACC_DIFF and the
 * GPU's must reach GPU_REFCNN_MIN_ACCURACY. Two short GPU runs with the same seed must give
 * the same weights bit for bit. Exits 77 where the CUDA backend is not built or no GPU is
 * present. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpu_tolerances.h"
#include "nn_data.h"
#include "nn_graph.h"
#include "nn_train.h"
#include "td_status.h"

#ifdef NN_HAVE_CUDA
#include "nn_backend_cuda.h"

static nn_data data;
static nn_graph graph;
static const nn_backend *gpu;

/* Trains ref-cnn on be for one epoch of `images` images with recipe r0; returns the
 * validation accuracy and (optionally) the weights then statistics. */
static double train_refcnn_recipe(const nn_backend *be, const nn_recipe *r0, int64_t images,
                                  float **weights, int64_t *np)
{
    nn_recipe r = *r0;
    r.epochs = 1;
    r.images = images;
    r.threads = 4;
    r.seed = 7;
    nn_net net;
    td_status st = nn_net_init(&net, &graph, r.batch, r.threads, be, 11);
    if (st != TD_OK)
        print_error("nn_net_init on %s: %s\n", be->name, td_error_message());
    assert_int_equal(st, TD_OK);
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
    return train_refcnn_recipe(be, &r, images, weights, np);
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

/* A few SGD steps through the whole engine (nn_net_train) on both backends from the same
 * weights and batches: the parameters and batch-norm statistics stay within
 * GPU_TOL_NMSE_TRAIN_STEPS of each other. */
static void test_refcnn_few_steps(void **state)
{
    (void)state;
    float *wg, *wc;
    int64_t ng, nc;
    nn_recipe r;
    nn_recipe_default(&r);
#ifdef NN_CUDA_EMULATE
    r.batch = 8; /* the emulation runs a fiber per GPU thread: keep it to seconds */
#else
    r.batch = 32;
#endif
    train_refcnn_recipe(gpu, &r, 3 * r.batch, &wg, &ng);
    train_refcnn_recipe(nn_backend_cpu(), &r, 3 * r.batch, &wc, &nc);
    assert_int_equal(ng, nc);
    double e = nmse(wg, wc, ng);
    print_message("weights after 3 steps: normalized MSE %.3g (bound %.3g)\n", e,
                  GPU_TOL_NMSE_TRAIN_STEPS);
    assert_true(e <= GPU_TOL_NMSE_TRAIN_STEPS);
    free(wg);
    free(wc);
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
    if (nn_data_load(&data, NULL, 2000, 1) != TD_OK ||
        nn_builtin_graph(&graph, "ref-cnn") != TD_OK) {
        fprintf(stderr, "setup: %s\n", td_error_message());
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refcnn_few_steps),
#ifndef NN_CUDA_EMULATE /* too slow on the CPU emulation, and trivially deterministic there */
        cmocka_unit_test(test_refcnn_accuracy_band),
        cmocka_unit_test(test_refcnn_deterministic),
#endif
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nn_graph_free(&graph);
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
