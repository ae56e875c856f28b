/* A short real training run (label `train`): ref-cnn on 4000 Fashion-MNIST training images
 * for 2 epochs with the default recipe must clear NN_TOL_SHORT_TRAIN_MIN_ACC on 1000
 * validation images, its 8-bit integer reference must stay within
 * NN_TOL_SHORT_TRAIN_INT8_DROP of it, and the saved model must give the same integer
 * accuracy after a round trip. Skips (77) where the dataset package is missing. */
#include "nn_model.h"
#include "td_tolerances.h"
#include "td_progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, " (%s)\n", td_error_message());                                        \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    if (access(NN_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) != 0) {
        fprintf(stderr, "SKIP: %s not installed\n", NN_FASHION_MNIST_DIR);
        return 77;
    }
    double t0 = td_now_s();
    nn_data d;
    CHECK(nn_data_load(&d, NULL, 1000, 1) == TD_OK, "loading Fashion-MNIST");
    nn_graph g;
    CHECK(nn_builtin_graph(&g, "ref-cnn") == TD_OK, "ref-cnn");
    nn_recipe r;
    nn_recipe_default(&r);
    r.epochs = 2;
    r.images = 4000;
    nn_net net;
    CHECK(nn_net_init(&net, &g, r.batch, 2, nn_backend_cpu(), 1) == TD_OK, "net init");
    nn_train_result res;
    CHECK(nn_net_train(&net, &d.train, NULL, &d.norm, &r, NULL, NULL, &res) == TD_OK, "train");
    double acc;
    CHECK(nn_net_evaluate(&net, &d.val, &d.norm, 0, &acc) == TD_OK, "evaluate");
    nn_qmodel q;
    CHECK(nn_quantize(&q, &net, &d.train, &d.norm, 512, 8) == TD_OK, "quantize");
    double acc8;
    CHECK(nn_qmodel_evaluate(&q, &d.val, &d.norm, 0, true, 2, &acc8) == TD_OK, "int8");
    printf("ref-cnn, 2 epochs x 4000 images: val accuracy %.4f, int8 %.4f, %.0f images/s, "
           "%.1f s in all\n",
           acc, acc8, res.images_per_s, td_now_s() - t0);
    CHECK(acc >= NN_TOL_SHORT_TRAIN_MIN_ACC, "float accuracy %.4f below %.2f", acc,
          NN_TOL_SHORT_TRAIN_MIN_ACC);
    CHECK(acc - acc8 <= NN_TOL_SHORT_TRAIN_INT8_DROP, "int8 %.4f vs float %.4f", acc8, acc);
    /* the saved model scores the same */
    nn_model m, l;
    char path[] = "/tmp/tandem-test-train-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "temp file");
    close(fd);
    CHECK(nn_model_init_net(&m, &net, &d.norm) == TD_OK, "model");
    CHECK(nn_model_add_quant(&m, &q) == TD_OK, "model quant");
    CHECK(nn_model_save(&m, path) == TD_OK, "save");
    CHECK(nn_model_load(&l, path) == TD_OK, "load");
    unlink(path);
    double acc8b;
    CHECK(nn_qmodel_evaluate(nn_model_quant(&l, 8), &d.val, &d.norm, 0, false, 2, &acc8b) == TD_OK,
          "int8 reloaded");
    CHECK(acc8b == acc8, "reloaded int8 %.4f vs %.4f", acc8b, acc8);
    nn_model_free(&m);
    nn_model_free(&l);
    nn_net_free(&net);
    nn_graph_free(&g);
    nn_data_free(&d);
    return 0;
}
