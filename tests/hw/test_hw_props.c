/* Property tests over thousands of random valid configs from the default space
 * (docs/models.md, "Properties"): bandwidth, bits and array size move the model's outputs
 * only in the physically right direction; energy and area are positive and finite. */
#include "hw_eval.h"
#include "hw_space.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N_CONFIGS 3000

/* A network from the default net space's kinds of layers: stem conv, depthwise-separable
 * block with a residual add, an MBConv-like expansion, pooling, global average pool, FC. */
static void build_mixed(nn_graph *g)
{
    nn_shape in = {1, 28, 28};
    int32_t x = 0, s, y;
    assert_int_equal(nn_graph_init(g, "mixed", in, 10), TD_OK);
    assert_int_equal(nn_graph_add_conv(g, &x, x, "stem", 24, 3, 1, 1, 1, false), TD_OK);
    assert_int_equal(nn_graph_add_relu(g, &x, x, "stem.relu", false), TD_OK);
    s = x;
    assert_int_equal(nn_graph_add_conv(g, &y, x, "b1.dw", 24, 3, 1, 1, 24, false), TD_OK);
    assert_int_equal(nn_graph_add_conv(g, &y, y, "b1.pw", 24, 1, 1, 0, 1, false), TD_OK);
    assert_int_equal(nn_graph_add_add(g, &x, y, s, "b1.add"), TD_OK);
    assert_int_equal(nn_graph_add_pool(g, &x, x, "pool", NN_OP_MAXPOOL, 2, 2, 0), TD_OK);
    assert_int_equal(nn_graph_add_conv(g, &x, x, "b2.exp", 144, 1, 1, 0, 1, false), TD_OK);
    assert_int_equal(nn_graph_add_relu(g, &x, x, "b2.relu", true), TD_OK);
    assert_int_equal(nn_graph_add_conv(g, &x, x, "b2.dw", 144, 5, 2, 2, 144, false), TD_OK);
    assert_int_equal(nn_graph_add_conv(g, &x, x, "b2.pw", 48, 1, 1, 0, 1, false), TD_OK);
    assert_int_equal(nn_graph_add_conv(g, &x, x, "c3", 96, 3, 1, 1, 1, false), TD_OK);
    assert_int_equal(nn_graph_add_global_avgpool(g, &x, x, "gap"), TD_OK);
    assert_int_equal(nn_graph_add_fc(g, &x, x, "fc", 10, true), TD_OK);
}

typedef struct fixture {
    nn_graph nets[2];
    hw_space space;
    hw_result a, b;
    td_rng rng;
} fixture;

static int setup(void **state)
{
    static fixture f;
    memset(&f, 0, sizeof f);
    assert_int_equal(nn_builtin_graph(&f.nets[0], "ref-cnn"), TD_OK);
    build_mixed(&f.nets[1]);
    assert_int_equal(hw_space_default(&f.space), TD_OK);
    assert_int_equal(hw_result_init(&f.a, 64), TD_OK);
    assert_int_equal(hw_result_init(&f.b, 64), TD_OK);
    assert_int_equal(td_rng_init(&f.rng, 20261123), TD_OK);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    nn_graph_free(&f->nets[0]);
    nn_graph_free(&f->nets[1]);
    hw_result_free(&f->a);
    hw_result_free(&f->b);
    td_rng_free(&f->rng);
    return 0;
}

static void eval(const nn_graph *g, const hw_config *c, hw_result *r)
{
    td_status st = hw_evaluate(g, c, r);
    if (st != TD_OK)
        fprintf(stderr, "%s\n", td_error_message());
    assert_int_equal(st, TD_OK);
}

static void test_positive_finite(void **state)
{
    fixture *f = *state;
    for (int it = 0; it < N_CONFIGS; it++) {
        hw_config c;
        hw_space_sample(&f->space, &f->rng, &c, NULL);
        for (int n = 0; n < 2; n++) {
            eval(&f->nets[n], &c, &f->a);
            const hw_result *r = &f->a;
            assert_true(isfinite(r->energy_uj) && r->energy_uj > 0);
            assert_true(isfinite(r->area_mm2) && r->area_mm2 > 0);
            assert_true(isfinite(r->latency_ms) && r->latency_ms > 0);
            assert_true(isfinite(r->power_mw) && r->power_mw > 0);
            assert_true(r->utilization > 0 && r->utilization <= 1);
            assert_true(r->effective_tops <= r->peak_tops);
            for (size_t i = 0; i < r->n_layers; i++) {
                const hw_layer_result *l = &r->layers[i];
                assert_true(isfinite(l->energy_uj) && l->energy_uj >= 0);
                assert_true(l->cycles >= l->compute_cycles && l->cycles >= l->memory_cycles);
            }
        }
    }
}

static void test_bandwidth_never_raises_latency(void **state)
{
    fixture *f = *state;
    for (int it = 0; it < N_CONFIGS; it++) {
        hw_config c, d;
        hw_space_sample(&f->space, &f->rng, &c, NULL);
        d = c;
        d.dram_gbps = c.dram_gbps * (1.0 + 3.0 * td_rng_uniform(&f->rng)) + 0.001;
        for (int n = 0; n < 2; n++) {
            eval(&f->nets[n], &c, &f->a);
            eval(&f->nets[n], &d, &f->b);
            assert_true(f->b.cycles <= f->a.cycles);
            assert_true(f->b.latency_ms <= f->a.latency_ms);
            for (size_t i = 0; i < f->a.n_layers; i++)
                assert_true(f->b.layers[i].cycles <= f->a.layers[i].cycles);
        }
    }
}

static void test_bits_never_lower_energy_or_area(void **state)
{
    fixture *f = *state;
    static const int32_t widths[] = {4, 8, 16, 32};
    for (int it = 0; it < N_CONFIGS; it++) {
        hw_config c, d;
        hw_space_sample(&f->space, &f->rng, &c, NULL);
        int w = (int)td_rng_range(&f->rng, 0, 2);
        c.bits = widths[w];
        d = c;
        d.bits = widths[w + 1 + (int)td_rng_range(&f->rng, 0, 2 - w)];
        for (int n = 0; n < 2; n++) {
            eval(&f->nets[n], &c, &f->a);
            eval(&f->nets[n], &d, &f->b);
            if (!(f->b.energy_uj >= f->a.energy_uj))
                fprintf(stderr, "energy %g at %d bits < %g at %d bits\n", f->b.energy_uj, d.bits,
                        f->a.energy_uj, c.bits);
            assert_true(f->b.energy_uj >= f->a.energy_uj);
            assert_true(f->b.area_mm2 >= f->a.area_mm2);
        }
    }
}

/* More MACs: the array grows (rows and/or cols to the next allowed dim). For every array
 * layer neither the number of tile commands nor the compute cycles rise: the RTL's array
 * commands cost what their tile needs (K_t / M_t rows, N_t columns), not what the array is
 * (docs/rtl.md, "Partial tiles"; docs/models.md, "Properties"). The buffers are held fixed
 * in lines, not bytes, which is what "the same accelerator with more MACs" means for the
 * tiling: once ample (tiles not limited by L1), once at the sampled sizes with the larger
 * array's KiB scaled by its wider lines (dims are powers of two, so the depths are equal). */
static void test_more_macs_never_raise_compute(void **state)
{
    fixture *f = *state;
    int64_t checked = 0, partial = 0;
    for (int it = 0; it < N_CONFIGS; it++) {
        hw_config c, d;
        int32_t genes[HW_GENE_COUNT];
        hw_space_sample(&f->space, &f->rng, &c, genes);
        d = c;
        /* grow rows and/or cols by one allowed dim each */
        int grow = (int)td_rng_range(&f->rng, 1, 3);
        int32_t ri = genes[HW_GENE_ROWS], ci = genes[HW_GENE_COLS];
        for (size_t i = 0; i < f->space.n_dims; i++) {
            if (f->space.dims[i] == c.rows)
                ri = (int32_t)i;
            if (f->space.dims[i] == c.cols)
                ci = (int32_t)i;
        }
        if ((grow & 1) && ri + 1 < (int32_t)f->space.n_dims)
            d.rows = f->space.dims[ri + 1];
        if ((grow & 2) && ci + 1 < (int32_t)f->space.n_dims)
            d.cols = f->space.dims[ci + 1];
        if (d.rows == c.rows && d.cols == c.cols)
            continue;
        if (it % 2 == 0) { /* ample L1 */
            c.l1_input_kib = c.l1_weight_kib = c.l1_acc_kib = 4096;
            d.l1_input_kib = d.l1_weight_kib = d.l1_acc_kib = 4096;
        } else { /* the sampled depths, kept in lines */
            d.l1_input_kib = c.l1_input_kib * (d.rows / c.rows);
            d.l1_weight_kib = c.l1_weight_kib * (d.cols / c.cols);
            d.l1_acc_kib = c.l1_acc_kib * (d.cols / c.cols);
        }
        for (int n = 0; n < 2; n++) {
            const nn_graph *g = &f->nets[n];
            eval(g, &c, &f->a);
            eval(g, &d, &f->b);
            for (size_t i = 0; i < f->a.n_layers; i++) {
                const hw_layer_result *la = &f->a.layers[i], *lb = &f->b.layers[i];
                if (la->unit != HW_UNIT_ARRAY)
                    continue;
                checked++;
                /* tiles that do not fill the larger array: the case a full-height timing
                 * would get wrong */
                if (c.dataflow == HW_DATAFLOW_WS ? la->gemm_k % d.rows || la->gemm_n % d.cols
                                                 : la->gemm_m % d.rows || la->gemm_n % d.cols)
                    partial++;
                if (lb->compute_cycles > la->compute_cycles || lb->commands > la->commands)
                    fprintf(stderr, "%s %s: %dx%d -> %dx%d raises compute %lld -> %lld\n",
                            hw_dataflow_name(c.dataflow), g->nodes[i].name, c.rows, c.cols, d.rows,
                            d.cols, (long long)la->compute_cycles, (long long)lb->compute_cycles);
                assert_true(lb->commands <= la->commands);
                assert_true(lb->compute_cycles <= la->compute_cycles);
            }
        }
    }
    fprintf(stderr,
            "more MACs: %lld array layers checked, %lld with tiles that do not fill the "
            "larger array\n",
            (long long)checked, (long long)partial);
    assert_true(checked > 1000 && partial > 1000);
}

/* The cases that were counterexamples while the array's commands cost its full height and
 * width (docs/models.md, "Properties"), worked by hand. */
static void test_more_macs_small_layers(void **state)
{
    fixture *f = *state;
    hw_config c;
    assert_int_equal(hw_preset("gemmini-16x16-int8", &c), TD_OK);
    c.l1_input_kib = c.l1_weight_kib = c.l1_acc_kib = 4096; /* tiles not limited by L1 */
    hw_config d = c;

    /* FC K = 96, M = 1, N = 10 (WS). 32x8: k-folds 32, 32, 32 and n-folds 8, 2: per k-fold
     * (1 + 33 + (1 + 32 + 8)) + (1 + 33 + (1 + 32 + 2)) = 75 + 69 -> 432. 64x8: k-folds 64, 32:
     * (139 + 133) + (75 + 69) = 416. */
    nn_graph fc;
    nn_shape in = {96, 1, 1};
    int32_t x = 0;
    assert_int_equal(nn_graph_init(&fc, "fc96", in, 10), TD_OK);
    assert_int_equal(nn_graph_add_fc(&fc, &x, x, "fc", 10, true), TD_OK);
    c.rows = 32;
    c.cols = 8;
    d = c;
    d.rows = 64;
    eval(&fc, &c, &f->a);
    eval(&fc, &d, &f->b);
    assert_int_equal(f->a.layers[1].folds_k, 3);
    assert_int_equal(f->b.layers[1].folds_k, 2);
    assert_int_equal(f->a.layers[1].compute_cycles, 432);
    assert_int_equal(f->b.layers[1].compute_cycles, 416);
    nn_graph_free(&fc);

    /* 3x3 depthwise on a 28x28 map, 32 channels (M = 784, K = 9, N = 1 per channel). WS: one
     * 9 x 1 tile per channel on 16x16 and on 32x32 alike, 1 + 10 + (784 + 9 + 1) = 805.
     * OS: 49 tiles of 16 rows, 1 + (9 + 16 + 1 - 1) + 16 = 42 each -> 2058 per channel; on
     * 32x32 24 tiles of 32 rows (1 + 41 + 32 = 74) and one of 16 (42) -> 1818. */
    nn_graph dwg;
    nn_shape din = {32, 28, 28};
    x = 0;
    assert_int_equal(nn_graph_init(&dwg, "dw28", din, 10), TD_OK);
    assert_int_equal(nn_graph_add_conv(&dwg, &x, x, "dw", 32, 3, 1, 1, 32, false), TD_OK);
    c.rows = c.cols = 16;
    d = c;
    d.rows = d.cols = 32;
    eval(&dwg, &c, &f->a);
    eval(&dwg, &d, &f->b);
    assert_int_equal(f->a.layers[1].compute_cycles, 32 * 805);
    assert_int_equal(f->b.layers[1].compute_cycles, 32 * 805);
    c.dataflow = d.dataflow = HW_DATAFLOW_OS;
    eval(&dwg, &c, &f->a);
    eval(&dwg, &d, &f->b);
    assert_int_equal(f->a.layers[1].compute_cycles, 32 * 49 * 42);
    assert_int_equal(f->b.layers[1].compute_cycles, 32 * (24 * 74 + 42));
    nn_graph_free(&dwg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positive_finite),
        cmocka_unit_test(test_bandwidth_never_raises_latency),
        cmocka_unit_test(test_bits_never_lower_energy_or_area),
        cmocka_unit_test(test_more_macs_never_raise_compute),
        cmocka_unit_test(test_more_macs_small_layers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
