/* tandem rtl: the Verilog bundle of a design (rtl_templates' generator), from a network and
 * an accelerator, or from a design of a search run's archive. */
#include "cmd_common.h"
#include "commands.h"
#include "cs_archive.h"
#include "cs_config.h"
#include "hw_config.h"
#include "hw_space.h"
#include "nn_data.h"
#include "nn_model.h"
#include "nn_space.h"
#include "rtl_gen.h"
#include "sim.h"
#include "td_log.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: tandem rtl --net NET --hw HW -o DIR [--images N] [--seed S] [--test] [--json]\n"
    "       tandem rtl --run runs/NAME --design ID -o DIR [--test] [--json]\n"
    "\n"
    "Writes a self-contained Verilog bundle: the RTL templates, a generated top with the\n"
    "design's parameter overrides, filelist.f, a Verilator testbench with the network's\n"
    "program, memory image, test images and expected outputs (the C integer reference),\n"
    "a Yosys script, SDC constraints, a README and a Makefile (make; make test).\n"
    "\n"
    "  --net NET        built-in network, genome:SEED (the default search space's network\n"
    "                   for the genome drawn with SEED), network YAML, or a trained .tdm\n"
    "                   model (its integer model at the accelerator's bit width gives the\n"
    "                   weights and the test images are real Fashion-MNIST test images);\n"
    "                   otherwise weights are random (seeded) and the bundle says so\n"
    "  --hw HW          accelerator preset or YAML file\n"
    "  --run DIR --design ID\n"
    "                   the design with evaluation id ID (see the run's report) of a search run,\n"
    "                   with its trained network: only finalists keep one (finalists.count)\n"
    "  -o, --out DIR    bundle directory\n"
    "  --images N       test images in the testbench (default 4)\n"
    "  --seed S         seed of random weights and images (default 1)\n"
    "  --test           then build the bundle and run its testbench (make test)\n"
    "  --json           one JSON object: files written and, with --test, the result\n";

enum {
    OPT_NET = CMD_OPT_COMMON_COUNT,
    OPT_HW,
    OPT_RUN,
    OPT_DESIGN,
    OPT_IMAGES,
    OPT_SEED,
    OPT_TEST
};

/* A search run's design: its network and accelerator decoded from the archived genome with
 * the run's own config. */
static td_status load_design(const char *run_dir, long long id, nn_graph *g, hw_config *hw)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/config.yaml", run_dir);
    td_config *cfg = NULL;
    td_status st = cs_config_load(&cfg, path, NULL, 0);
    if (st != TD_OK)
        return st;
    nn_space ns;
    hw_space hs;
    nn_shape input = {1, 28, 28};
    st = nn_space_from_config(&ns, cfg, input, 10);
    if (st == TD_OK)
        st = hw_space_from_config(&hs, cfg);
    td_config_free(cfg);
    if (st != TD_OK)
        return st;
    snprintf(path, sizeof path, "%s/archive.sqlite", run_dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        st = td_fail(TD_ERR_IO, "%s: cannot open the archive", path);
        sqlite3_close(db);
        return st;
    }
    sqlite3_stmt *s = NULL;
    char *genome = NULL;
    if (sqlite3_prepare_v2(db, "SELECT genome FROM evaluations WHERE id=?", -1, &s, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(s, 1, id);
        if (sqlite3_step(s) == SQLITE_ROW)
            genome = strdup((const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    if (!genome)
        return td_fail(TD_ERR_CONFIG,
                       "%s: no evaluation with id %lld (ids are in the run's "
                       "report and pareto.csv)",
                       path, id);
    int32_t n_net = nn_genome_length(&ns);
    int32_t *genes = calloc((size_t)n_net + HW_GENE_COUNT, sizeof *genes);
    json_error_t err;
    json_t *a = json_loads(genome, 0, &err);
    free(genome);
    if (!genes || !json_is_array(a) || (int32_t)json_array_size(a) != n_net + HW_GENE_COUNT) {
        free(genes);
        json_decref(a);
        return td_fail(TD_ERR_FORMAT,
                       "%s: evaluation %lld's genome does not fit the run's "
                       "search space",
                       path, id);
    }
    for (int32_t i = 0; i < n_net + HW_GENE_COUNT; i++)
        genes[i] = (int32_t)json_integer_value(json_array_get(a, (size_t)i));
    json_decref(a);
    hw_genome_decode(&hs, genes + n_net, hw);
    snprintf(hw->name, sizeof hw->name, "design-%lld", id);
    st = nn_genome_decode(&ns, genes, g);
    free(genes);
    return st;
}

/* The trained network of a search run's design: finalists keep theirs (their fidelity 'test'
 * evaluation names runs/NAME/models/<candidate>.tdm). Fails naming the designs that have
 * one when this design has none. */
static td_status load_design_model(const char *run_dir, long long id, const nn_graph *g,
                                   nn_model **out)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/archive.sqlite", run_dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return td_fail(TD_ERR_IO, "%s: cannot open the archive", path);
    }
    static const char q_model[] =
        "SELECT json_extract(t.metrics, '$.model') FROM evaluations e JOIN evaluations t "
        "ON t.run_id = e.run_id AND t.candidate_hash = e.candidate_hash "
        "WHERE e.id = ? AND t.fidelity = 'test' AND t.status = 'ok' "
        "AND json_extract(t.metrics, '$.model') IS NOT NULL";
    static const char q_list[] =
        "SELECT DISTINCT e.id FROM evaluations e JOIN evaluations t "
        "ON t.run_id = e.run_id AND t.candidate_hash = e.candidate_hash "
        "WHERE e.fidelity != 'test' AND t.fidelity = 'test' AND t.status = 'ok' "
        "AND json_extract(t.metrics, '$.model') IS NOT NULL ORDER BY e.id";
    char rel[256] = "", list[512] = "";
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, q_model, -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, id);
        if (sqlite3_step(s) == SQLITE_ROW)
            snprintf(rel, sizeof rel, "%s", (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    if (!rel[0] && sqlite3_prepare_v2(db, q_list, -1, &s, NULL) == SQLITE_OK) {
        size_t len = 0;
        while (sqlite3_step(s) == SQLITE_ROW && len + 24 < sizeof list)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%lld", len ? ", " : "",
                                    (long long)sqlite3_column_int64(s, 0));
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    if (!rel[0])
        return td_fail(TD_ERR_CONFIG,
                       "%s: design %lld has no trained model: only the finalists' networks are "
                       "kept (designs with a model: %s); pick one of those, or rerun the search "
                       "with a larger finalists.count",
                       path, id, list[0] ? list : "none");
    char mpath[1400];
    snprintf(mpath, sizeof mpath, "%s/%s", run_dir, rel);
    nn_model *m = calloc(1, sizeof *m);
    if (!m)
        return td_fail(TD_ERR_NOMEM, "out of memory");
    td_status st = nn_model_load(m, mpath);
    if (st == TD_OK && nn_graph_hash(&m->graph) != nn_graph_hash(g))
        st = td_fail(TD_ERR_FORMAT, "%s: the model's network is not design %lld's", mpath, id);
    if (st != TD_OK) {
        nn_model_free(m);
        free(m);
        return st;
    }
    td_log_info("design %lld: trained model %s", id, mpath);
    *out = m;
    return TD_OK;
}

/* Per-node weights from a trained integer model (nn_qlayer -> rtl_node_weights). */
static td_status weights_from_qmodel(const nn_qmodel *q, const nn_graph *g, rtl_node_weights *wt,
                                     int64_t **bias_store)
{
    for (int32_t i = 0; i < q->n_layers; i++) {
        const nn_qlayer *l = &q->layers[i];
        const bool gemm = l->op == NN_QOP_CONV || l->op == NN_QOP_FC;
        /* global average pools and residual adds carry their requantization too */
        if (!gemm && l->op != NN_QOP_GAP && l->op != NN_QOP_ADD)
            continue;
        size_t node = 0;
        while (node < g->n_nodes && strcmp(g->nodes[node].name, l->name) != 0)
            node++;
        if (node == g->n_nodes)
            return td_fail(TD_ERR_FORMAT, "integer model layer '%s' is not in the graph", l->name);
        wt[node].lo = l->lo;
        wt[node].hi = l->hi;
        if (!gemm) {
            if (l->op == NN_QOP_GAP && l->n_rq_pool > 0)
                wt[node].pool_rq = l->rq_pool[0];
            wt[node].mult_a = l->mult_a;
            wt[node].mult_b = l->mult_b;
            wt[node].shift = l->op == NN_QOP_ADD ? l->shift : 0;
            continue;
        }
        int64_t *b = calloc((size_t)l->out_channels, sizeof *b);
        if (!b)
            return td_fail(TD_ERR_NOMEM, "out of memory");
        bias_store[node] = b;
        for (int64_t o = 0; o < l->out_channels; o++) {
            nn_acc_t v = l->bias ? l->bias[o] : 0;
            if (v > INT64_MAX || v < INT64_MIN)
                return td_fail(TD_ERR_UNSUPPORTED,
                               "layer '%s': bias of channel %lld does not "
                               "fit 64 bits",
                               l->name, (long long)o);
            b[o] = (int64_t)v;
        }
        wt[node].w = l->w;
        wt[node].bias = b;
        wt[node].rq = l->rq;
    }
    return TD_OK;
}

/* Real test images, normalized as the model was trained and quantized with its input scale. */
static td_status test_images(const nn_model *m, const nn_qmodel *q, int32_t n, int32_t **out)
{
    nn_data d;
    td_status st = nn_data_load(&d, NULL, 100, 1);
    if (st != TD_OK)
        return st;
    int64_t size = q->input.c * q->input.h * q->input.w;
    float *x = malloc((size_t)(n * size) * sizeof *x);
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    int32_t *xq = malloc((size_t)(n * size) * sizeof *xq);
    if (!x || !idx || !xq) {
        st = td_fail(TD_ERR_NOMEM, "out of memory");
    } else {
        for (int32_t i = 0; i < n; i++)
            idx[i] = i;
        nn_batch_fill(x, NULL, &d.test, idx, n, &m->norm, NULL, NULL);
        nn_qmodel_quantize_input(q, xq, x, n);
    }
    free(x);
    free(idx);
    nn_data_free(&d);
    if (st != TD_OK) {
        free(xq);
        return st;
    }
    *out = xq;
    return TD_OK;
}

int cmd_rtl(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"net", required_argument, NULL, OPT_NET},
        {"hw", required_argument, NULL, OPT_HW},
        {"run", required_argument, NULL, OPT_RUN},
        {"design", required_argument, NULL, OPT_DESIGN},
        {"out", required_argument, NULL, 'o'},
        {"images", required_argument, NULL, OPT_IMAGES},
        {"seed", required_argument, NULL, OPT_SEED},
        {"test", no_argument, NULL, OPT_TEST},
        CMD_COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cmd_common c = {0};
    const char *net_arg = NULL, *hw_arg = NULL, *run_dir = NULL, *out = NULL;
    long long design = -1, images = 4, seed = 1;
    bool run_test = false;
    int opt;
    cmd_getopt_init();
    /* `--run` alone (last, or before another flag) asks for the testbench run, as --test. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--run") == 0 && (i + 1 == argc || argv[i + 1][0] == '-'))
            argv[i] = "--test";
    while ((opt = getopt_long(argc, argv, ":o:" CMD_COMMON_SHORT_OPTIONS, longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_NET:
            net_arg = optarg;
            break;
        case OPT_HW:
            hw_arg = optarg;
            break;
        case OPT_RUN:
            run_dir = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case OPT_TEST:
            run_test = true;
            break;
        case OPT_DESIGN:
            if (!cmd_parse_int("rtl", "--design", optarg, 1, INT64_MAX, &design))
                return 2;
            break;
        case OPT_IMAGES:
            if (!cmd_parse_int("rtl", "--images", optarg, 1, 64, &images))
                return 2;
            break;
        case OPT_SEED:
            if (!cmd_parse_int("rtl", "--seed", optarg, 0, INT64_MAX, &seed))
                return 2;
            break;
        default:
            if (!cmd_common_option(&c, opt))
                return cmd_bad_option("rtl", opt, argv);
        }
    }
    if (c.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (optind < argc)
        return cmd_usage_error("rtl", "unexpected argument '%s'", argv[optind]);
    if (!out)
        return cmd_usage_error("rtl", "-o DIR is required");
    if (run_dir ? (net_arg || hw_arg || design < 0) : (!net_arg || !hw_arg))
        return cmd_usage_error("rtl", "give --net and --hw, or --run DIR with --design ID");

    nn_model *model = NULL;
    nn_graph graph = {0};
    const nn_graph *g = NULL;
    hw_config hw;
    td_status st;
    if (run_dir) {
        st = load_design(run_dir, design, &graph, &hw);
        g = &graph;
        if (st == TD_OK)
            st = load_design_model(run_dir, design, &graph, &model);
    } else if (strncmp(net_arg, "genome:", 7) == 0) {
        /* a network of the default search space, named by the seed of its random genome */
        char *end = NULL;
        unsigned long long gs = strtoull(net_arg + 7, &end, 10);
        if (!net_arg[7] || *end)
            return cmd_usage_error("rtl", "--net '%s': genome:SEED needs a decimal seed", net_arg);
        st = rtl_net_genome_graph(&graph, gs);
        g = &graph;
        if (st == TD_OK)
            st = hw_config_resolve(hw_arg, &hw);
    } else {
        st = nn_net_resolve(net_arg, &model);
        if (st == TD_OK) {
            g = &model->graph;
            st = hw_config_resolve(hw_arg, &hw);
        }
    }
    rtl_hw rhw;
    if (st == TD_OK)
        st = sim_rtl_hw_from_config(&hw, &rhw);
    const nn_qmodel *q = model ? nn_model_quant(model, hw.bits) : NULL;
    if (st == TD_OK && run_dir && !q)
        st = td_fail(TD_ERR_FORMAT, "%s: design %lld's model has no %d-bit integer model", run_dir,
                     design, hw.bits);
    rtl_node_weights *wt = NULL;
    int64_t **bias_store = NULL;
    rtl_net_weights random_wt = {0};
    int32_t *imgs = NULL;
    if (st == TD_OK && q) {
        wt = calloc(g->n_nodes, sizeof *wt);
        bias_store = calloc(g->n_nodes, sizeof *bias_store);
        st = wt && bias_store ? weights_from_qmodel(q, g, wt, bias_store)
                              : td_fail(TD_ERR_NOMEM, "out of memory");
        if (st == TD_OK)
            st = test_images(model, q, (int32_t)images, &imgs);
    } else if (st == TD_OK) {
        td_log_warn("weights are random (seeded %lld), not a trained network: pass a trained "
                    ".tdm with --net for trained weights",
                    seed);
        st = rtl_net_weights_random(&random_wt, g, hw.bits, (uint64_t)seed);
        wt = random_wt.wt;
    }
    rtl_bundle_info info;
    memset(&info, 0, sizeof info);
    if (st == TD_OK) {
        rtl_bundle_opts bo = {.clock_mhz = hw.clock_mhz,
                              .n_images = (int32_t)images,
                              .images = imgs,
                              .seed = (uint64_t)seed,
                              .liberty = NULL};
        st = rtl_gen_bundle(out, &rhw, g, wt, &bo, &info);
    }
    int test_rc = -1;
    if (st == TD_OK && run_test) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "make -C '%s' test >&2", out);
        td_log_info("building and running the bundle's testbench: %s", cmd);
        int rc = system(cmd);
        test_rc = rc == -1 ? 127 : WEXITSTATUS(rc);
    }
    int exit_code = 0;
    if (st != TD_OK) {
        exit_code = cmd_fail("rtl", st);
    } else {
        if (c.json) {
            json_t *o = json_object();
            json_object_set_new(o, "dir", json_string(out));
            json_t *files = json_array();
            for (int32_t i = 0; i < info.n_files; i++)
                json_array_append_new(files, json_string(info.files[i]));
            json_object_set_new(o, "files", files);
            json_object_set_new(o, "layers", json_integer(info.n_layers));
            json_object_set_new(o, "commands", json_integer(info.n_commands));
            json_object_set_new(o, "compute_cycles", json_integer(info.compute_cycles));
            json_object_set_new(o, "macs", json_integer(info.macs));
            json_object_set_new(o, "trained_weights", json_boolean(q != NULL));
            if (run_test)
                json_object_set_new(o, "testbench",
                                    json_string(test_rc == 0 ? "passed" : "failed"));
            td_json_print(o);
        } else {
            printf("bundle written to %s (%d files, %d layers, %lld commands%s)\n", out,
                   info.n_files, info.n_layers, (long long)info.n_commands,
                   q ? ", trained weights" : ", random weights");
            if (run_test)
                printf("testbench: %s\n", test_rc == 0 ? "passed" : "FAILED");
        }
        if (run_test && test_rc != 0)
            exit_code = 1;
    }
    for (size_t i = 0; bias_store && i < g->n_nodes; i++)
        free(bias_store[i]);
    free(bias_store);
    if (q)
        free(wt);
    rtl_net_weights_free(&random_wt);
    free(imgs);
    if (model) {
        nn_model_free(model);
        free(model);
    }
    if (graph.nodes) /* --run or --net genome:SEED */
        nn_graph_free(&graph);
    return exit_code;
}
