/* Search space and genome: ranges, decoding always gives a valid graph (random, clamped
 * and degenerate genomes), repair rules, the 5-50 layer / 16-512 channel expressibility,
 * config parsing and its errors, and the proxy evaluation's determinism. */
#include "nn_config.h"
#include "nn_space.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int weight_layers(const nn_graph *g)
{
    int n = 0;
    for (size_t i = 0; i < g->n_nodes; i++)
        n += g->nodes[i].op == NN_OP_CONV || g->nodes[i].op == NN_OP_FC;
    return n;
}

static void check_valid(const nn_graph *g, const nn_space *s)
{
    const nn_node *last = &g->nodes[g->n_nodes - 1];
    assert_int_equal(last->op, NN_OP_FC);
    assert_int_equal(last->out.c, s->classes);
    assert_int_equal(g->nodes[g->n_nodes - 2].op, NN_OP_GLOBAL_AVGPOOL);
    for (size_t i = 1; i < g->n_nodes; i++) {
        assert_true(g->nodes[i].out.h >= 1);
        assert_true(g->nodes[i].inputs[0] < (int32_t)i);
    }
}

static void test_default_space(void **state)
{
    (void)state;
    nn_space s;
    nn_space_default(&s);
    int32_t n = nn_genome_length(&s);
    assert_int_equal(n, 2 + 3 * 3 + 3 * 3 * 3);
    int32_t lo[64], hi[64], genes[64];
    nn_genome_ranges(&s, lo, hi);
    assert_int_equal(hi[1], 1);  /* stages 2..3 */
    assert_int_equal(hi[2], 2);  /* depth 1..3 */
    assert_int_equal(hi[11], 6); /* 7 ops */
    assert_int_equal(hi[12], 2); /* 3 expansions */
    td_rng rng;
    assert_int_equal(td_rng_init(&rng, 77), TD_OK);
    for (int t = 0; t < 300; t++) {
        nn_genome_random(&s, &rng, genes);
        for (int32_t i = 0; i < n; i++)
            assert_true(genes[i] >= lo[i] && genes[i] <= hi[i]);
        nn_graph g, g2;
        assert_int_equal(nn_genome_decode(&s, genes, &g), TD_OK);
        check_valid(&g, &s);
        assert_int_equal(nn_genome_decode(&s, genes, &g2), TD_OK);
        assert_int_equal(nn_graph_hash(&g), nn_graph_hash(&g2));
        assert_string_equal(g.name, g2.name);
        nn_graph_free(&g);
        nn_graph_free(&g2);
    }
    td_rng_free(&rng);
    /* out-of-range genes are clamped */
    for (int v = -1000; v <= 1000; v += 2000) {
        for (int32_t i = 0; i < n; i++)
            genes[i] = v;
        nn_graph g;
        assert_int_equal(nn_genome_decode(&s, genes, &g), TD_OK);
        check_valid(&g, &s);
        nn_graph_free(&g);
    }
}

static void test_repair(void **state)
{
    (void)state;
    nn_space s;
    nn_space_default(&s);
    int32_t n = nn_genome_length(&s), genes[64], hi[64], lo[64];
    nn_genome_ranges(&s, lo, hi);
    memset(genes, 0, sizeof genes);
    /* 3 stages, depth 3, every block skip: only the first block of each stage, which changes
     * the shape, is repaired to conv3x3; residual genes on */
    genes[1] = 1;
    for (int st = 0; st < 3; st++) {
        genes[2 + 3 * st] = 2;
        genes[2 + 3 * st + 1] = 31 - 10 * st; /* different channels per stage */
        genes[2 + 3 * st + 2] = 1;            /* stride 2 */
    }
    for (int b = 0; b < 9; b++) {
        genes[11 + 3 * b] = 6; /* skip */
        genes[11 + 3 * b + 2] = 1;
    }
    (void)n;
    nn_graph g;
    assert_int_equal(nn_genome_decode(&s, genes, &g), TD_OK);
    assert_int_equal(weight_layers(&g), 1 + 3 + 1);
    /* strides: 28 -> stem pool 14 -> 7 -> 4 -> 2; a fourth stride-2 stage would stay at 2
     * (a map below 4x4 is not strided) */
    assert_int_equal(g.nodes[g.n_nodes - 2].in.h, 2);
    nn_graph_free(&g);
    /* a space of only skip: the fallback is conv3x3 */
    s.ops[0] = NN_BLOCK_SKIP;
    s.n_ops = 1;
    assert_int_equal(nn_genome_decode(&s, genes, &g), TD_OK);
    assert_int_equal(weight_layers(&g), 5);
    nn_graph_free(&g);
}

static void test_expressible(void **state)
{
    (void)state;
    td_config *cfg;
    const td_cfg_key *const tables[] = {nn_config_keys, NULL};
    assert_int_equal(td_config_init(&cfg, tables), TD_OK);
    assert_int_equal(td_config_merge_string(cfg,
                                            "space:\n  net:\n    stages: [1, 8]\n"
                                            "    depth: [1, 16]\n    channels: [16, 512]\n",
                                            "test"),
                     TD_OK);
    nn_space s;
    assert_int_equal(nn_space_from_config(&s, cfg, (nn_shape){1, 28, 28}, 10), TD_OK);
    int32_t n = nn_genome_length(&s);
    int32_t *lo = malloc((size_t)n * sizeof *lo), *hi = malloc((size_t)n * sizeof *hi);
    int32_t *genes = calloc((size_t)n, sizeof *genes);
    nn_genome_ranges(&s, lo, hi);
    /* smallest: 1 stage of 1 conv3x3 block at 16 channels -> stem, conv, fc */
    nn_graph g;
    assert_int_equal(nn_genome_decode(&s, genes, &g), TD_OK);
    assert_true(weight_layers(&g) <= 5);
    assert_int_equal(g.nodes[g.n_nodes - 1].in.c, 16);
    nn_graph_free(&g);
    /* deep and wide: 8 stages x 16 dwsep blocks, 512 channels */
    genes[1] = hi[1];
    for (int st = 0; st < 8; st++) {
        genes[2 + 3 * st] = hi[2 + 3 * st];
        genes[2 + 3 * st + 1] = hi[2 + 3 * st + 1];
    }
    for (int b = 0; b < 8 * 16; b++)
        genes[2 + 24 + 3 * b] = 2; /* dwsep3x3 */
    assert_int_equal(nn_genome_decode(&s, genes, &g), TD_OK);
    assert_true(weight_layers(&g) >= 50);
    assert_int_equal(g.nodes[g.n_nodes - 1].in.c, 512);
    nn_graph_free(&g);
    /* errors */
    assert_int_equal(td_config_set(cfg, "space.net.depth=[4, 2]"), TD_OK);
    assert_int_equal(nn_space_from_config(&s, cfg, (nn_shape){1, 28, 28}, 10), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "key 'space.net.depth'"));
    assert_non_null(strstr(td_error_message(), "has min > max"));
    free(lo);
    free(hi);
    free(genes);
    td_config_free(cfg);
}

static void test_proxy_deterministic(void **state)
{
    (void)state;
    /* synthetic 3-class data: the class sets which third of the image is bright */
    nn_data d;
    memset(&d, 0, sizeof d);
    nn_dataset *sets[2] = {&d.train, &d.val};
    int64_t counts[2] = {300, 100};
    uint64_t r = 5;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(nn_dataset_alloc(sets[k], counts[k], 1, 12, 12, 3), TD_OK);
        for (int64_t i = 0; i < counts[k]; i++) {
            int c = (int)(i % 3);
            sets[k]->labels[i] = (uint8_t)c;
            for (int p = 0; p < 144; p++) {
                r = r * 6364136223846793005ull + 1442695040888963407ull;
                int noise = (int)(r >> 58);
                sets[k]->pixels[i * 144 + p] = (uint8_t)((p % 12) / 4 == c ? 150 + noise : noise);
            }
        }
    }
    assert_int_equal(nn_norm_compute(&d.norm, &d.train), TD_OK);
    nn_space s;
    nn_space_default(&s);
    s.input = (nn_shape){1, 12, 12};
    s.classes = 3;
    /* a small member of the space (keeps the test short): stem 8, two stages of one
     * block, the second an MBConv with a residual-free stride */
    int32_t genes[64] = {0};
    genes[20] = 4; /* stage 2 block 1 (genes 11 + 3 * (1 * 3 + 0)): mbconv3x3 */
    genes[21] = 1; /* expansion 3 */
    nn_graph g;
    assert_int_equal(nn_genome_decode(&s, genes, &g), TD_OK);
    nn_budget b = {300, 1, 32, 100};
    nn_proxy_result a, c;
    assert_int_equal(nn_proxy_evaluate(&g, &d, &b, 8, 11, 2, &a), TD_OK);
    assert_int_equal(nn_proxy_evaluate(&g, &d, &b, 8, 11, 2, &c), TD_OK);
    assert_true(a.val_accuracy == c.val_accuracy);
    assert_true(a.int_val_accuracy == c.int_val_accuracy);
    assert_true(a.val_accuracy >= 0 && a.val_accuracy <= 1);
    assert_true(a.wall_s > 0);
    assert_int_equal(a.macs, nn_graph_macs(&g));
    nn_budget bad = {300, 0, 32, 100};
    assert_int_equal(nn_proxy_evaluate(&g, &d, &bad, 8, 11, 2, &a), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "epochs 0"));
    assert_int_equal(nn_proxy_evaluate(&g, &d, &b, 7, 11, 2, &a), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "bit width 7"));
    nn_graph_free(&g);
    nn_dataset_free(&d.train);
    nn_dataset_free(&d.val);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_space),
        cmocka_unit_test(test_repair),
        cmocka_unit_test(test_expressible),
        cmocka_unit_test(test_proxy_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
