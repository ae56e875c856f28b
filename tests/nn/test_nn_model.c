/* Saved models (.tdm): round trip of graph, weights, normalization and integer models;
 * every load error (missing, bad magic, version, truncation at any byte, corruption);
 * --net resolution (built-in, .tdm, YAML network files and their errors); graph JSON. */
#include "nn_model.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256];

static const char *path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void write_text(const char *p, const char *text)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static unsigned char *read_all(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *d = malloc(*len);
    assert_int_equal(fread(d, 1, *len, f), *len);
    fclose(f);
    return d;
}

static void write_bytes(const char *p, const void *d, size_t n)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fwrite(d, 1, n, f);
    fclose(f);
}

static void expect(td_status got, td_status want, const char *text)
{
    assert_int_equal(got, want);
    if (!strstr(td_error_message(), text))
        print_error("message '%s' lacks '%s'\n", td_error_message(), text);
    assert_non_null(strstr(td_error_message(), text));
}

/* A small trained model with an 8-bit integer model, saved to path("m.tdm"). */
static void make_model(nn_model *m)
{
    nn_graph g;
    assert_int_equal(nn_builtin_graph(&g, "ref-cnn"), TD_OK);
    nn_dataset ds;
    assert_int_equal(nn_dataset_alloc(&ds, 32, 1, 28, 28, 10), TD_OK);
    for (int64_t i = 0; i < 32 * 784; i++)
        ds.pixels[i] = (uint8_t)((i * 7919) % 251);
    for (int64_t i = 0; i < 32; i++)
        ds.labels[i] = (uint8_t)(i % 10);
    nn_norm norm;
    assert_int_equal(nn_norm_compute(&norm, &ds), TD_OK);
    nn_net net;
    assert_int_equal(nn_net_init(&net, &g, 16, 2, nn_backend_cpu(), 4), TD_OK);
    nn_recipe r;
    nn_recipe_default(&r);
    r.epochs = 1;
    r.batch = 16;
    nn_train_result res;
    assert_int_equal(nn_net_train(&net, &ds, NULL, &norm, &r, NULL, NULL, &res), TD_OK);
    assert_int_equal(nn_model_init_net(m, &net, &norm), TD_OK);
    int bits[] = {8, 32};
    for (int i = 0; i < 2; i++) {
        nn_qmodel q;
        assert_int_equal(nn_quantize(&q, &net, &ds, &norm, 16, bits[i]), TD_OK);
        assert_int_equal(nn_model_add_quant(m, &q), TD_OK);
    }
    nn_net_free(&net);
    nn_dataset_free(&ds);
    nn_graph_free(&g);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tandem-test-nn-model-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"m.tdm", "bad.tdm", "net.yaml", "bad.yaml", "op.yaml", NULL};
    for (int i = 0; names[i]; i++)
        unlink(path(names[i]));
    rmdir(dir);
    return 0;
}

static void test_roundtrip(void **state)
{
    (void)state;
    nn_model m, l;
    make_model(&m);
    assert_int_equal(nn_model_save(&m, path("m.tdm")), TD_OK);
    assert_int_equal(nn_model_load(&l, path("m.tdm")), TD_OK);
    assert_int_equal(nn_graph_hash(&l.graph), nn_graph_hash(&m.graph));
    assert_string_equal(l.graph.name, "ref-cnn");
    assert_true(l.has_weights);
    assert_int_equal(l.n_params, m.n_params);
    assert_memory_equal(l.params, m.params, (size_t)m.n_params * sizeof(float));
    assert_memory_equal(l.stats, m.stats, (size_t)m.n_stats * sizeof(float));
    assert_memory_equal(l.norm.mean, m.norm.mean, sizeof(float));
    assert_int_equal(l.n_quant, 2);
    for (int b = 0; b < 2; b++) {
        const nn_qmodel *a = nn_model_quant(&m, b ? 32 : 8), *c = nn_model_quant(&l, b ? 32 : 8);
        assert_non_null(c);
        assert_int_equal(a->n_layers, c->n_layers);
        assert_true(a->s_input == c->s_input);
        for (int32_t i = 0; i < a->n_layers; i++) {
            const nn_qlayer *x = &a->layers[i], *y = &c->layers[i];
            assert_int_equal(x->op, y->op);
            assert_string_equal(x->name, y->name);
            assert_int_equal(x->lo, y->lo);
            assert_int_equal(x->hi, y->hi);
            if (x->w) {
                assert_memory_equal(x->rq, y->rq, (size_t)x->out_channels * sizeof *x->rq);
                for (int64_t o = 0; o < x->out_channels; o++)
                    assert_true(x->bias[o] == y->bias[o]); /* 128-bit biases at 32 bits */
            }
        }
    }
    assert_null(nn_model_quant(&l, 4));
    /* resolve: by magic */
    nn_model *r;
    assert_int_equal(nn_net_resolve(path("m.tdm"), &r), TD_OK);
    assert_true(r->has_weights);
    nn_model_free(r);
    free(r);
    nn_model_free(&l);
    nn_model_free(&m);
}

static void test_load_errors(void **state)
{
    (void)state;
    nn_model m, l;
    expect(nn_model_load(&l, path("missing.tdm")), TD_ERR_IO, "missing.tdm: cannot open");
    write_text(path("bad.tdm"), "hello world, not a model");
    expect(nn_model_load(&l, path("bad.tdm")), TD_ERR_FORMAT,
           "bad.tdm: not a Tandem saved model (bad magic");
    make_model(&m);
    assert_int_equal(nn_model_save(&m, path("m.tdm")), TD_OK);
    nn_model_free(&m);
    size_t len;
    unsigned char *d = read_all(path("m.tdm"), &len);
    /* version */
    d[8] = 99;
    write_bytes(path("bad.tdm"), d, len);
    expect(nn_model_load(&l, path("bad.tdm")), TD_ERR_FORMAT,
           "model format version 99 is not supported (this build reads version 1)");
    d[8] = 1;
    /* truncation at many places: always an error naming truncation or the checksum */
    size_t cuts[] = {9, 16, 40, 100, 1000, len / 2, len - 9, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_bytes(path("bad.tdm"), d, cuts[i]);
        td_status st = nn_model_load(&l, path("bad.tdm"));
        assert_int_equal(st, TD_ERR_FORMAT);
        const char *msg = td_error_message();
        if (!strstr(msg, "truncated") && !strstr(msg, "checksum") && !strstr(msg, "inconsistent"))
            print_error("cut %zu: %s\n", cuts[i], msg);
        assert_true(strstr(msg, "truncated") || strstr(msg, "checksum") ||
                    strstr(msg, "inconsistent"));
    }
    write_bytes(path("bad.tdm"), d, len / 2);
    expect(nn_model_load(&l, path("bad.tdm")), TD_ERR_FORMAT, "truncated at byte");
    /* a flipped bit in the weights */
    d[len / 2] ^= 0x10;
    write_bytes(path("bad.tdm"), d, len);
    expect(nn_model_load(&l, path("bad.tdm")), TD_ERR_FORMAT,
           "checksum mismatch: the file is corrupt");
    free(d);
}

static void test_resolve_yaml_json(void **state)
{
    (void)state;
    nn_model *m;
    assert_int_equal(nn_net_resolve("ref-cnn", &m), TD_OK);
    assert_false(m->has_weights);
    assert_string_equal(m->graph.name, "ref-cnn");
    json_t *j = nn_graph_to_json(&m->graph);
    assert_int_equal(json_integer_value(json_object_get(j, "params")), nn_graph_params(&m->graph));
    assert_int_equal(json_integer_value(json_object_get(j, "macs")), nn_graph_macs(&m->graph));
    json_t *layers = json_object_get(j, "layers");
    assert_int_equal(json_array_size(layers), m->graph.n_nodes);
    json_t *c1 = json_array_get(layers, 1);
    assert_string_equal(json_string_value(json_object_get(c1, "op")), "conv");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(c1, "output"), 0)), 32);
    json_decref(j);
    nn_model_free(m);
    free(m);
    expect(nn_net_resolve("no-such-net", &m), TD_ERR_CONFIG,
           "--net 'no-such-net' is neither a built-in network (ref-cnn");
    write_text(path("net.yaml"), "name: tiny-res\n"
                                 "input: [1, 8, 8]\n"
                                 "classes: 3\n"
                                 "layers:\n"
                                 "  - {op: conv, name: c1, out: 4}\n"
                                 "  - {op: batchnorm}\n"
                                 "  - {op: relu, name: r1}\n"
                                 "  - {op: conv, name: dw, groups: 4, k: 5}\n"
                                 "  - {op: add, inputs: [dw, r1]}\n"
                                 "  - {op: maxpool}\n"
                                 "  - {op: global_avgpool}\n"
                                 "  - {op: fc}\n");
    assert_int_equal(nn_net_resolve(path("net.yaml"), &m), TD_OK);
    assert_string_equal(m->graph.name, "tiny-res");
    assert_int_equal(m->graph.n_nodes, 9);
    assert_int_equal(m->graph.nodes[4].groups, 4);
    assert_int_equal(m->graph.nodes[4].pad, 2);
    assert_int_equal(m->graph.nodes[5].op, NN_OP_ADD);
    assert_int_equal(m->graph.nodes[6].out.h, 4);
    assert_int_equal(m->graph.nodes[8].out.c, 3);
    nn_model_free(m);
    free(m);
    write_text(path("op.yaml"), "input: [1, 8, 8]\nlayers:\n  - {op: lstm}\n");
    expect(nn_net_resolve(path("op.yaml"), &m), TD_ERR_CONFIG,
           "op.yaml: layer 1: op 'lstm' is not one of conv");
    write_text(path("bad.yaml"), "input: [1, 8]\nlayers: []\n");
    expect(nn_net_resolve(path("bad.yaml"), &m), TD_ERR_CONFIG,
           "bad.yaml: key 'input' must be a list [channels, height, width]");
    write_text(
        path("bad.yaml"),
        "input: [1, 8, 8]\nlayers:\n  - {op: conv, out: 4}\n  - {op: add, inputs: [x, y]}\n");
    expect(nn_net_resolve(path("bad.yaml"), &m), TD_ERR_CONFIG,
           "bad.yaml: layer 2: input 'x' is not an earlier layer");
    write_text(path("bad.yaml"), "input: [1, 8, 8]\nlayers:\n  - {op: conv, out: 3, groups: 2}\n");
    expect(nn_net_resolve(path("bad.yaml"), &m), TD_ERR_CONFIG, "do not split into 2 groups");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_resolve_yaml_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
