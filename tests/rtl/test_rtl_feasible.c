/* Property (issues #6/#9): every (network, accelerator) pair of the default search space that
 * hw_model calls feasible compiles to the RTL core. Draws random pairs (nn_space_default +
 * hw_space_default, several seeds), evaluates each with hw_evaluate and, when it has no
 * violation, builds the rtl_hw the way `tandem rtl` does (rtl_hw_from_config) and compiles the
 * network with random weights (rtl_layers_from_graph + rtl_program_add_net). Compile only: no
 * Verilator, no execution. Every failure is classed by its message (digits dropped) and the
 * classes are printed with their counts before the test fails. */
#include "hw_eval.h"
#include "hw_space.h"
#include "nn_space.h"
#include "rtl_net.h"
#include "rtl_testgen.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define N_SEEDS 20
#define PAIRS_PER_SEED 100
#define MAX_CLASSES 32

typedef struct fail_class {
    char key[256];     /* the message with digits dropped */
    char example[512]; /* the first message of the class, with its pair */
    int count;
} fail_class;

static void class_add(fail_class *cl, int *n, const char *msg, const char *pair)
{
    char key[256];
    size_t k = 0;
    for (const char *s = msg; *s && k + 1 < sizeof key; s++)
        if (!isdigit((unsigned char)*s))
            key[k++] = *s;
    key[k] = 0;
    for (int i = 0; i < *n; i++)
        if (strcmp(cl[i].key, key) == 0) {
            cl[i].count++;
            return;
        }
    if (*n == MAX_CLASSES)
        return;
    snprintf(cl[*n].key, sizeof cl[*n].key, "%s", key);
    snprintf(cl[*n].example, sizeof cl[*n].example, "%s: %s", pair, msg);
    cl[(*n)++].count = 1;
}

/* Compiles g for cfg; TD_OK or the compiler's error (message in td_error_message()). */
static td_status compile_pair(const nn_graph *g, const hw_config *cfg, uint64_t wseed,
                              int64_t *n_cmds)
{
    rtl_hw hw;
    td_status st = rtl_hw_from_config(cfg, &hw);
    if (st != TD_OK)
        return st;
    rtl_net_weights nw;
    st = rtl_net_weights_random(&nw, g, hw.bits, wseed);
    if (st != TD_OK)
        return st;
    rtl_layer *layers = calloc(RTL_NET_MAX_LAYERS, sizeof *layers);
    rtl_net_io *io = calloc(1, sizeof *io);
    int32_t n = 0;
    rtl_program p;
    memset(&p, 0, sizeof p);
    if (!layers || !io)
        st = td_fail(TD_ERR_NOMEM, "out of memory");
    if (st == TD_OK)
        st = rtl_layers_from_graph(g, nw.wt, layers, RTL_NET_MAX_LAYERS, &n);
    if (st == TD_OK)
        st = rtl_program_init(&p, &hw);
    if (st == TD_OK)
        st = rtl_program_add_net(&p, layers, n, g->input, io);
    *n_cmds = (int64_t)p.n_cmds;
    rtl_program_free(&p);
    free(io);
    free(layers);
    rtl_net_weights_free(&nw);
    return st;
}

static void test_feasible_compiles(void **state)
{
    (void)state;
    nn_space ns;
    nn_space_default(&ns);
    hw_space hs;
    assert_int_equal(hw_space_default(&hs), TD_OK);
    const int32_t len = nn_genome_length(&ns);
    int32_t *genes = malloc((size_t)len * sizeof *genes);
    assert_non_null(genes);
    hw_result r;
    assert_int_equal(hw_result_init(&r, 1024), TD_OK);
    fail_class cl[MAX_CLASSES];
    int n_cl = 0, feasible = 0, failed = 0, pairs = 0;
    int64_t cmds = 0;
    for (uint64_t seed = 1; seed <= N_SEEDS; seed++) {
        td_rng rng;
        assert_int_equal(td_rng_init(&rng, 1000 + seed), TD_OK);
        for (int i = 0; i < PAIRS_PER_SEED; i++) {
            nn_genome_random(&ns, &rng, genes);
            hw_config cfg;
            hw_space_sample(&hs, &rng, &cfg, NULL);
            nn_graph g;
            assert_int_equal(nn_genome_decode(&ns, genes, &g), TD_OK);
            pairs++;
            assert_int_equal(hw_evaluate(&g, &cfg, &r), TD_OK);
            if (r.violations.n == 0) {
                feasible++;
                int64_t nc = 0;
                if (compile_pair(&g, &cfg, seed * 1000 + (uint64_t)i, &nc) != TD_OK) {
                    char pair[160];
                    snprintf(pair, sizeof pair,
                             "seed %llu pair %d (%dx%d %s %d-bit acc %d, L1 %d/%d/%d KiB)",
                             (unsigned long long)seed, i, cfg.rows, cfg.cols,
                             hw_dataflow_name(cfg.dataflow), cfg.bits, cfg.acc_bits,
                             cfg.l1_input_kib, cfg.l1_weight_kib, cfg.l1_acc_kib);
                    class_add(cl, &n_cl, td_error_message(), pair);
                    failed++;
                }
                cmds += nc;
            }
            nn_graph_free(&g);
        }
        td_rng_free(&rng);
    }
    printf("rtl feasibility: %d pairs, %d feasible by hw_model, %d of them do not compile "
           "(%lld commands compiled)\n",
           pairs, feasible, failed, (long long)cmds);
    for (int i = 0; i < n_cl; i++)
        printf("  class %d: %d x  e.g. %s\n", i + 1, cl[i].count, cl[i].example);
    hw_result_free(&r);
    free(genes);
    assert_true(feasible > 0);
    assert_int_equal(failed, 0);
}

/* The accumulator at every width from 2*bits up (the search space's widths are a coarse
 * grid, so the random draw seldom lands on the boundary): at the narrowest width hw_model
 * calls feasible, and at every width above it, the network compiles. */
static void test_acc_boundary(void **state)
{
    (void)state;
    nn_space ns;
    nn_space_default(&ns);
    hw_space hs;
    assert_int_equal(hw_space_default(&hs), TD_OK);
    const int32_t len = nn_genome_length(&ns);
    int32_t *genes = malloc((size_t)len * sizeof *genes);
    assert_non_null(genes);
    hw_result r;
    assert_int_equal(hw_result_init(&r, 1024), TD_OK);
    fail_class cl[MAX_CLASSES];
    int n_cl = 0, feasible = 0, failed = 0;
    td_rng rng;
    assert_int_equal(td_rng_init(&rng, 77), TD_OK);
    for (int i = 0; i < 24; i++) {
        nn_genome_random(&ns, &rng, genes);
        nn_graph g;
        assert_int_equal(nn_genome_decode(&ns, genes, &g), TD_OK);
        hw_config cfg;
        assert_int_equal(hw_preset("edge-8x16-int8", &cfg), TD_OK);
        cfg.bits = 4 << (i % 4);
        cfg.dataflow = (hw_dataflow)(i / 4 % 2);
        cfg.l1_input_kib = cfg.l1_weight_kib = cfg.l1_acc_kib = 256;
        cfg.clock_mhz = 200;
        for (int32_t acc = 2 * cfg.bits; acc <= 96; acc++) {
            cfg.acc_bits = acc;
            assert_int_equal(hw_evaluate(&g, &cfg, &r), TD_OK);
            if (r.violations.n)
                continue;
            feasible++;
            int64_t nc = 0;
            if (compile_pair(&g, &cfg, (uint64_t)i, &nc) != TD_OK) {
                char pair[160];
                snprintf(pair, sizeof pair, "net %d %s %d-bit acc %d", i,
                         hw_dataflow_name(cfg.dataflow), cfg.bits, acc);
                class_add(cl, &n_cl, td_error_message(), pair);
                failed++;
            }
            break; /* the narrowest feasible width; wider ones only relax the check */
        }
        nn_graph_free(&g);
    }
    td_rng_free(&rng);
    printf("rtl feasibility at the accumulator boundary: %d networks feasible at some width, "
           "%d of them do not compile at the narrowest\n",
           feasible, failed);
    for (int i = 0; i < n_cl; i++)
        printf("  class %d: %d x  e.g. %s\n", i + 1, cl[i].count, cl[i].example);
    hw_result_free(&r);
    free(genes);
    assert_true(feasible > 0);
    assert_int_equal(failed, 0);
}

/* A global average pool that sets the accumulator width (ops:4: conv 1x1 on 1x16x16, GAP over
 * 256 pixels, fc over 3): at every width from 2*bits, hw_model feasible => compiles. */
static void test_gap_acc(void **state)
{
    (void)state;
    td_rng rng;
    assert_int_equal(td_rng_init(&rng, 5), TD_OK);
    rtl_net_case *nc = malloc(sizeof *nc);
    assert_non_null(nc);
    assert_int_equal(rtl_net_case_init(nc, "ops:4", 4, &rng), TD_OK);
    hw_config cfg;
    assert_int_equal(hw_preset("edge-8x16-int8", &cfg), TD_OK);
    cfg.bits = 4;
    cfg.clock_mhz = 200;
    hw_result r;
    assert_int_equal(hw_result_init(&r, 64), TD_OK);
    int feasible = 0;
    for (int32_t acc = 8; acc <= 20; acc++) {
        cfg.acc_bits = acc;
        assert_int_equal(hw_evaluate(&nc->g, &cfg, &r), TD_OK);
        int64_t n_cmds = 0;
        td_status st = compile_pair(&nc->g, &cfg, 3, &n_cmds);
        if (r.violations.n == 0 && st != TD_OK)
            fail_msg("acc_bits %d: hw_model feasible, compiler: %s", acc, td_error_message());
        if (r.violations.n == 0)
            feasible++;
        if (acc == 12) { /* the GAP needs 4 + bitlen(256) = 13 bits */
            assert_int_not_equal(st, TD_OK);
            assert_true(r.violations.n > 0 && r.violations.v[0].kind == HW_VIOL_ACC_BITS);
            char msg[512];
            hw_violation_format(&r.violations.v[0], &cfg, msg, sizeof msg);
            assert_non_null(strstr(msg, "acc_bits: needs 13 bits for layer 'gap', has 12"));
        }
    }
    assert_int_equal(feasible, 20 - 13 + 1);
    hw_result_free(&r);
    rtl_net_case_free(nc);
    free(nc);
    td_rng_free(&rng);
}

/* An output buffer shallower than one 2x2 window and its pooled pixel (5 lines): the core
 * cannot run the stem's max-pool at all (not even in 1-pixel column strips, and it cannot pool
 * from external memory), so hw_model must call the design infeasible, naming the layer. */
static void test_pool_room(void **state)
{
    (void)state;
    nn_graph g;
    assert_int_equal(rtl_net_genome_graph(&g, 23), TD_OK);
    hw_config cfg;
    assert_int_equal(hw_preset("edge-8x16-int8", &cfg), TD_OK);
    cfg.rows = 2;
    cfg.cols = 64;
    cfg.acc_bits = 96;
    cfg.l1_acc_kib = 3; /* 3 KiB of 6144-bit lines: 4 lines */
    cfg.clock_mhz = 200;
    hw_result r;
    assert_int_equal(hw_result_init(&r, 1024), TD_OK);
    assert_int_equal(hw_evaluate(&g, &cfg, &r), TD_OK);
    int64_t nc = 0;
    assert_int_equal(compile_pair(&g, &cfg, 1, &nc), TD_ERR_INFEASIBLE);
    assert_non_null(strstr(td_error_message(), "the fused max-pool needs 2 map rows of 2 pixels"));
    assert_int_equal(r.violations.n, 1);
    assert_int_equal(r.violations.v[0].kind, HW_VIOL_L1_ACC);
    char msg[512];
    hw_violation_format(&r.violations.v[0], &cfg, msg, sizeof msg);
    assert_non_null(strstr(msg, "l1_acc_kib: the max-pool fused after layer 'stem.conv' needs 8 "
                                "output-buffer lines of 6144 bits"));
    assert_non_null(strstr(msg, "has 3 (short by 3 KiB)"));
    cfg.l1_acc_kib = 6; /* 8 lines: 1-pixel column strips */
    assert_int_equal(hw_evaluate(&g, &cfg, &r), TD_OK);
    assert_int_equal(r.violations.n, 0);
    assert_int_equal(compile_pair(&g, &cfg, 1, &nc), TD_OK);
    hw_result_free(&r);
    nn_graph_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feasible_compiles),
        cmocka_unit_test(test_acc_boundary),
        cmocka_unit_test(test_gap_acc),
        cmocka_unit_test(test_pool_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
