/* Quantization and integer reference inference: the fast path equals the reference bit for
 * bit at 4/8/16/32 bits (grouped, depthwise, strided, padded convs, pools, residual adds,
 * ReLU6); 16-bit integers track the float model; lowering errors; add requantization. */
#include "nn_quant.h"
#include "td_tolerances.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void build_mixed(nn_graph *g)
{
    int32_t x = 0, a, s;
    assert_int_equal(nn_graph_init(g, "mixed", (nn_shape){2, 9, 9}, 4), TD_OK);
    assert_int_equal(nn_graph_add_conv(g, &x, x, "stem", 8, 3, 1, 1, 1, false), TD_OK);
    assert_int_equal(nn_graph_add_batchnorm(g, &x, x, "stem.bn"), TD_OK);
    assert_int_equal(nn_graph_add_relu(g, &x, x, "stem.relu", false), TD_OK);
    assert_int_equal(nn_graph_add_conv(g, &a, x, "dw", 8, 5, 1, 2, 8, false), TD_OK);
    assert_int_equal(nn_graph_add_batchnorm(g, &a, a, "dw.bn"), TD_OK);
    assert_int_equal(nn_graph_add_relu(g, &a, a, "dw.relu6", true), TD_OK);
    assert_int_equal(nn_graph_add_conv(g, &a, a, "pw", 8, 1, 1, 0, 1, true), TD_OK);
    assert_int_equal(nn_graph_add_add(g, &s, a, x, "add"), TD_OK);
    assert_int_equal(nn_graph_add_relu(g, &s, s, "add.relu", false), TD_OK);
    assert_int_equal(nn_graph_add_pool(g, &s, s, "maxp", NN_OP_MAXPOOL, 3, 2, 1), TD_OK);
    assert_int_equal(nn_graph_add_conv(g, &s, s, "g2", 12, 3, 2, 1, 4, true), TD_OK);
    assert_int_equal(nn_graph_add_relu(g, &s, s, "g2.relu", false), TD_OK);
    assert_int_equal(nn_graph_add_pool(g, &s, s, "avgp", NN_OP_AVGPOOL, 3, 1, 1), TD_OK);
    assert_int_equal(nn_graph_add_global_avgpool(g, &s, s, "gap"), TD_OK);
    assert_int_equal(nn_graph_add_fc(g, &s, s, "fc", 4, true), TD_OK);
}

static void make_data(nn_dataset *ds, int64_t n, nn_shape in)
{
    assert_int_equal(nn_dataset_alloc(ds, n, in.c, in.h, in.w, 4), TD_OK);
    uint64_t s = 12345;
    for (int64_t i = 0; i < n * in.c * in.h * in.w; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ds->pixels[i] = (uint8_t)(s >> 56);
    }
    for (int64_t i = 0; i < n; i++)
        ds->labels[i] = (uint8_t)(i % 4);
}

/* A trained-ish network: a few SGD steps so batch-norm statistics are not trivial. */
static void make_net(nn_net *net, const nn_graph *g, const nn_dataset *ds, nn_norm *norm)
{
    assert_int_equal(nn_net_init(net, g, 16, 2, nn_backend_cpu(), 9), TD_OK);
    assert_int_equal(nn_norm_compute(norm, ds), TD_OK);
    nn_recipe r;
    nn_recipe_default(&r);
    r.epochs = 2;
    r.batch = 16;
    nn_train_result res;
    assert_int_equal(nn_net_train(net, ds, NULL, norm, &r, NULL, NULL, &res), TD_OK);
}

static void test_fast_equals_ref(void **state)
{
    (void)state;
    nn_graph g;
    build_mixed(&g);
    nn_dataset ds;
    make_data(&ds, 48, g.input);
    nn_net net;
    nn_norm norm;
    make_net(&net, &g, &ds, &norm);
    const int bits[] = {4, 8, 16, 32};
    for (int bi = 0; bi < 4; bi++) {
        nn_qmodel q;
        assert_int_equal(nn_quantize(&q, &net, &ds, &norm, 32, bits[bi]), TD_OK);
        /* lowering: stem(conv+bn+relu), dw(+bn+relu6), pw, add(+relu), maxpool, g2(+relu),
         * avgpool, gap, fc */
        assert_int_equal(q.n_layers, 9);
        assert_int_equal(q.layers[0].op, NN_QOP_CONV);
        assert_int_equal(q.layers[0].lo, 0);
        assert_int_equal(q.layers[3].op, NN_QOP_ADD);
        assert_int_equal(q.layers[3].in[0], 2);
        assert_int_equal(q.layers[3].in[1], 0);
        assert_int_equal(q.layers[4].op, NN_QOP_MAXPOOL);
        assert_true(q.layers[4].s_out == q.layers[4].s_in);
        assert_int_equal(q.layers[6].n_rq_pool, 9);
        assert_int_equal(q.layers[8].op, NN_QOP_FC);
        assert_true(q.layers[1].hi <= nn_qmax(bits[bi])); /* relu6 bound */
        int32_t *a1[9], *a2[9];
        for (int i = 0; i < 9; i++) {
            a1[i] = malloc((size_t)nn_qlayer_out_size(&q.layers[i]) * sizeof(int32_t));
            a2[i] = malloc((size_t)nn_qlayer_out_size(&q.layers[i]) * sizeof(int32_t));
        }
        float x[162];
        int32_t xq[162];
        for (int64_t img = 0; img < 8; img++) {
            nn_batch_fill(x, NULL, &ds, &img, 1, &norm, NULL, NULL);
            nn_qmodel_quantize_input(&q, xq, x, 1);
            nn_qmodel_infer_ref(&q, a1, xq);
            nn_qmodel_infer_fast(&q, a2, xq);
            for (int i = 0; i < 9; i++)
                assert_memory_equal(a1[i], a2[i],
                                    (size_t)nn_qlayer_out_size(&q.layers[i]) * sizeof(int32_t));
            for (int i = 0; i < 9; i++)
                for (int64_t k = 0; k < nn_qlayer_out_size(&q.layers[i]); k++) {
                    assert_true(a1[i][k] >= q.layers[i].lo && a1[i][k] <= q.layers[i].hi);
                }
            if (bits[bi] == 16) {
                /* integer logits track the float model */
                const float *z = nn_net_forward(&net, x, 1, false);
                double err = 0, range = 0;
                for (int k = 0; k < 4; k++) {
                    double deq = a1[8][k] * q.layers[8].s_out;
                    err = fmax(err, fabs(deq - z[k]));
                    range = fmax(range, fabs(z[k]));
                }
                assert_true(err <= NN_TOL_INT16_VS_FLOAT_REL * fmax(range, 1e-3) + 1e-6);
            }
        }
        double acc_ref, acc_fast;
        assert_int_equal(nn_qmodel_evaluate(&q, &ds, &norm, 0, false, 2, &acc_ref), TD_OK);
        assert_int_equal(nn_qmodel_evaluate(&q, &ds, &norm, 0, true, 2, &acc_fast), TD_OK);
        assert_true(acc_ref == acc_fast);
        for (int i = 0; i < 9; i++) {
            free(a1[i]);
            free(a2[i]);
        }
        nn_qmodel copy;
        assert_int_equal(nn_qmodel_copy(&copy, &q), TD_OK);
        assert_memory_equal(copy.layers[0].w, q.layers[0].w, 8 * 18 * sizeof(int32_t));
        nn_qmodel_free(&copy);
        nn_qmodel_free(&q);
    }
    nn_net_free(&net);
    nn_dataset_free(&ds);
    nn_graph_free(&g);
}

static void test_quant_errors(void **state)
{
    (void)state;
    nn_graph g;
    int32_t x = 0;
    assert_int_equal(nn_graph_init(&g, "loose-bn", (nn_shape){1, 4, 4}, 4), TD_OK);
    assert_int_equal(nn_graph_add_conv(&g, &x, x, "c", 4, 3, 1, 1, 1, false), TD_OK);
    assert_int_equal(nn_graph_add_relu(&g, &x, x, "r", false), TD_OK);
    assert_int_equal(nn_graph_add_batchnorm(&g, &x, x, "late.bn"), TD_OK);
    assert_int_equal(nn_graph_add_global_avgpool(&g, &x, x, "gap"), TD_OK);
    assert_int_equal(nn_graph_add_fc(&g, &x, x, "fc", 4, true), TD_OK);
    nn_dataset ds;
    make_data(&ds, 8, g.input);
    nn_net net;
    nn_norm norm;
    assert_int_equal(nn_norm_compute(&norm, &ds), TD_OK);
    assert_int_equal(nn_net_init(&net, &g, 8, 1, nn_backend_cpu(), 1), TD_OK);
    nn_qmodel q;
    assert_int_equal(nn_quantize(&q, &net, &ds, &norm, 8, 8), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(),
                           "network 'loose-bn', layer 'late.bn': a batch norm must directly "
                           "follow a conv"));
    assert_int_equal(nn_quantize(&q, &net, &ds, &norm, 8, 12), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "bit width 12 is not one of 4, 8, 16, 32"));
    nn_net_free(&net);
    nn_dataset_free(&ds);
    nn_graph_free(&g);
}

static void test_add_requant(void **state)
{
    (void)state;
    uint32_t ma, mb;
    int32_t s;
    /* 0.75 and 0.375: the larger normalised, the smaller exactly half of it */
    assert_int_equal(nn_requant_add_from_real(0.75, 0.375, &ma, &mb, &s), TD_OK);
    assert_int_equal(ma, 1610612736u);
    assert_int_equal(mb, 805306368u);
    assert_int_equal(s, 31);
    /* a = 10, b = 4 -> 7.5 + 1.5 = 9 */
    assert_int_equal(nn_requantize_add(10, ma, 4, mb, s, -128, 127), 9);
    /* b larger */
    assert_int_equal(nn_requant_add_from_real(0.25, 1.5, &ma, &mb, &s), TD_OK);
    assert_int_equal(mb, 1610612736u);
    assert_int_equal(ma, 268435456u);
    assert_int_equal(s, 30);
    assert_int_equal(nn_requant_add_from_real(-1, 1, &ma, &mb, &s), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "-1"));
}

/* Quantization-aware training: ReLU outputs take at most 2^(b-1) levels, conv weights at
 * most 2^b - 1 per channel in the forward pass, and training runs deterministically. */
static void test_qat(void **state)
{
    (void)state;
    nn_graph g;
    build_mixed(&g);
    nn_dataset ds;
    make_data(&ds, 48, g.input);
    nn_net net;
    nn_norm norm;
    make_net(&net, &g, &ds, &norm);
    assert_int_equal(nn_net_set_qat(&net, 5), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "at 5 bits: use 4, 8 or 16"));
    assert_int_equal(nn_net_set_qat(&net, 4), TD_OK);
    nn_recipe r;
    nn_recipe_default(&r);
    r.epochs = 1;
    r.batch = 16;
    nn_train_result res;
    assert_int_equal(nn_net_train(&net, &ds, NULL, &norm, &r, NULL, NULL, &res), TD_OK);
    float x[16 * 162];
    int64_t idx[16];
    for (int i = 0; i < 16; i++)
        idx[i] = i;
    nn_batch_fill(x, NULL, &ds, idx, 16, &norm, NULL, NULL);
    nn_net_forward(&net, x, 16, false);
    /* node 3 is stem.relu: 8 x 9 x 9 per image */
    const float *y = nn_net_activation(&net, 3);
    float levels[64];
    int nl = 0;
    for (int64_t i = 0; i < 16 * 648; i++) {
        bool seen = false;
        for (int k = 0; k < nl; k++)
            seen = seen || levels[k] == y[i];
        if (!seen) {
            assert_true(nl < 8);
            levels[nl++] = y[i];
        }
    }
    /* weights of the first conv, channel 0: at most 15 distinct values */
    const float *w = net.qat_w;
    int nw = 0;
    float wl[32];
    for (int k = 0; k < 18; k++) {
        bool seen = false;
        for (int j = 0; j < nw; j++)
            seen = seen || wl[j] == w[k];
        if (!seen) {
            assert_true(nw < 15);
            wl[nw++] = w[k];
        }
    }
    assert_int_equal(nn_net_set_qat(&net, 0), TD_OK);
    nn_net_free(&net);
    nn_dataset_free(&ds);
    nn_graph_free(&g);
}

/* The fake quantization of QAT reproduces the integer model: after nn_net_qat_calibrate its
 * scales are the integer layers' output scales, every requantized tensor of the float
 * forward pass sits on the integer grid, and the integer activations agree with it level
 * for level up to rare one-level rounding differences (float vs exact integer sums,
 * quantized bias, fixed-point requantization). */
static void test_qat_matches_integer(void **state)
{
    (void)state;
    nn_graph g;
    build_mixed(&g);
    nn_dataset ds;
    make_data(&ds, 48, g.input);
    nn_net net;
    nn_norm norm;
    make_net(&net, &g, &ds, &norm);
    nn_qmodel q;
    assert_int_equal(nn_quantize(&q, &net, &ds, &norm, 32, 4), TD_OK);
    assert_int_equal(nn_net_set_qat(&net, 4), TD_OK);
    assert_int_equal(nn_net_qat_calibrate(&net, &ds, &norm, 32), TD_OK);
    assert_true(net.qat_scale[0] == (float)q.s_input);
    float x[16 * 162];
    int64_t idx[16];
    for (int i = 0; i < 16; i++)
        idx[i] = i;
    nn_batch_fill(x, NULL, &ds, idx, 16, &norm, NULL, NULL);
    nn_net_forward(&net, x, 16, false); /* fake-quantized, inference mode */
    int64_t same = 0, total = 0, far = 0;
    int32_t *acts[9];
    for (int i = 0; i < 9; i++)
        acts[i] = malloc((size_t)nn_qlayer_out_size(&q.layers[i]) * sizeof(int32_t));
    int32_t xq[162];
    for (int img = 0; img < 16; img++) {
        nn_qmodel_quantize_input(&q, xq, x + img * 162, 1);
        nn_qmodel_infer_ref(&q, acts, xq);
        for (int i = 0; i < q.n_layers; i++) {
            const nn_qlayer *l = &q.layers[i];
            if (l->op == NN_QOP_MAXPOOL || l->op == NN_QOP_RELU)
                continue;
            assert_true(net.qat_scale[l->node] == (float)l->s_out);
            int64_t sz = nn_qlayer_out_size(l);
            const float *y = nn_net_activation(&net, (size_t)l->node) + img * sz;
            for (int64_t k = 0; k < sz; k++) {
                double lv = (double)y[k] / net.qat_scale[l->node];
                assert_true(fabs(lv - nearbyint(lv)) < 1e-3); /* on the grid */
                int64_t d = llabs((int64_t)nearbyint(lv) - acts[i][k]);
                same += d == 0;
                far += d > 1;
                total++;
            }
        }
    }
    print_message("qat vs integer: %lld of %lld levels equal, %lld differ by more than one\n",
                  (long long)same, (long long)total, (long long)far);
    assert_true((double)same >= NN_TOL_QAT_LEVELS_EQUAL * (double)total);
    for (int i = 0; i < 9; i++)
        free(acts[i]);
    nn_qmodel_free(&q);
    assert_int_equal(nn_net_set_qat(&net, 0), TD_OK);
    assert_int_equal(nn_net_qat_calibrate(&net, &ds, &norm, 32), TD_ERR_USAGE);
    assert_non_null(
        strstr(td_error_message(), "network 'mixed': quantization-aware training is off"));
    nn_net_free(&net);
    nn_dataset_free(&ds);
    nn_graph_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_equals_ref),     cmocka_unit_test(test_quant_errors),
        cmocka_unit_test(test_add_requant),         cmocka_unit_test(test_qat),
        cmocka_unit_test(test_qat_matches_integer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
