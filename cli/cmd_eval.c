/* tandem eval: evaluate a network on an accelerator with the analytical model (hw_model),
 * or print a network's layer table, or print an accelerator config as YAML. */
#include "cmd_common.h"
#include "commands.h"
#include "hw_config.h"
#include "hw_eval.h"
#include "nn_graph.h"
#include "td_hash.h"

#include <string.h>

static const char usage[] =
    "usage: tandem eval --net NET --hw HW [--mapping] [--json]\n"
    "       tandem eval --net NET [--json]\n"
    "       tandem eval --hw HW --print-hw\n"
    "\n"
    "Evaluates network NET on accelerator HW with the analytical model: latency, throughput,\n"
    "energy, power, area, utilization and per-layer cycles (docs/models.md). Without --hw,\n"
    "prints the network's layer table (params, MACs, layers).\n"
    "\n"
    "  --net NET     built-in network (ref-cnn, ...)\n"
    "  --hw HW       accelerator preset (gemmini-16x16-int8, edge-8x16-int8,\n"
    "                cloud-64x64-int8) or accelerator YAML file (docs/formats.md)\n"
    "  --mapping     also show how each layer maps onto the array (GEMM, tiles, folds,\n"
    "                loop order)\n"
    "  --print-hw    print the resolved accelerator config as YAML and exit\n"
    "  --json        print one JSON object on stdout\n"
    "  -v, --verbose / -q, --quiet\n";

enum { OPT_NET = CMD_OPT_COMMON_COUNT, OPT_HW, OPT_MAPPING, OPT_PRINT_HW };

/* The network's layer table as JSON (until nn_search provides nn_graph_to_json). */
static json_t *graph_json(const nn_graph *g)
{
    char hex[17];
    json_t *o = json_object();
    json_object_set_new(o, "net", json_string(g->name));
    td_hash_hex(nn_graph_hash(g), hex);
    json_object_set_new(o, "net_hash", json_string(hex));
    json_t *in = json_array();
    json_array_append_new(in, json_integer(g->input.c));
    json_array_append_new(in, json_integer(g->input.h));
    json_array_append_new(in, json_integer(g->input.w));
    json_object_set_new(o, "input", in);
    json_object_set_new(o, "classes", json_integer(g->classes));
    json_object_set_new(o, "params", json_integer(nn_graph_params(g)));
    json_object_set_new(o, "macs", json_integer(nn_graph_macs(g)));
    json_t *la = json_array();
    for (size_t i = 0; i < g->n_nodes; i++) {
        const nn_node *n = &g->nodes[i];
        json_t *l = json_object();
        json_object_set_new(l, "name", json_string(n->name));
        json_object_set_new(l, "op", json_string(nn_op_name(n->op)));
        json_t *ins = json_array();
        for (int32_t j = 0; j < n->n_inputs; j++)
            json_array_append_new(ins, json_integer(n->inputs[j]));
        json_object_set_new(l, "inputs", ins);
        if (n->op == NN_OP_CONV || n->op == NN_OP_MAXPOOL || n->op == NN_OP_AVGPOOL) {
            json_object_set_new(l, "kernel", json_integer(n->k_h));
            json_object_set_new(l, "stride", json_integer(n->stride));
            json_object_set_new(l, "pad", json_integer(n->pad));
        }
        if (n->op == NN_OP_CONV)
            json_object_set_new(l, "groups", json_integer(n->groups));
        json_t *os = json_array();
        json_array_append_new(os, json_integer(n->out.c));
        json_array_append_new(os, json_integer(n->out.h));
        json_array_append_new(os, json_integer(n->out.w));
        json_object_set_new(l, "output", os);
        json_object_set_new(l, "macs", json_integer(n->macs));
        json_object_set_new(l, "params", json_integer(n->params));
        json_array_append_new(la, l);
    }
    json_object_set_new(o, "layers", la);
    return o;
}

int cmd_eval(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"net", required_argument, NULL, OPT_NET},
        {"hw", required_argument, NULL, OPT_HW},
        {"mapping", no_argument, NULL, OPT_MAPPING},
        {"print-hw", no_argument, NULL, OPT_PRINT_HW},
        CMD_COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cmd_common c = {0};
    const char *net = NULL, *hw = NULL;
    bool mapping = false, print_hw = false;
    int opt;
    cmd_getopt_init();
    while ((opt = getopt_long(argc, argv, ":" CMD_COMMON_SHORT_OPTIONS, longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_NET:
            net = optarg;
            break;
        case OPT_HW:
            hw = optarg;
            break;
        case OPT_MAPPING:
            mapping = true;
            break;
        case OPT_PRINT_HW:
            print_hw = true;
            break;
        default:
            if (!cmd_common_option(&c, opt))
                return cmd_bad_option("eval", opt, argv);
        }
    }
    if (c.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (optind < argc)
        return cmd_usage_error("eval", "unexpected argument '%s'", argv[optind]);

    hw_config cfg;
    td_status st;
    if (print_hw) {
        if (!hw)
            return cmd_usage_error("eval", "--print-hw needs --hw");
        if ((st = hw_config_resolve(hw, &cfg)) != TD_OK)
            return cmd_fail("eval", st);
        st = hw_config_write(&cfg, stdout);
        return st == TD_OK ? 0 : cmd_fail("eval", st);
    }
    if (!net)
        return cmd_usage_error("eval", "--net is required");
    if (mapping && !hw)
        return cmd_usage_error("eval", "--mapping needs --hw");
    if (hw && (st = hw_config_resolve(hw, &cfg)) != TD_OK)
        return cmd_fail("eval", st);

    nn_graph g;
    if ((st = nn_builtin_graph(&g, net)) != TD_OK)
        return cmd_fail("eval", st);
    int rc = 0;
    if (!hw) {
        if (c.json)
            st = td_json_print(graph_json(&g));
        else
            nn_graph_print(&g, stdout);
        rc = st == TD_OK ? 0 : cmd_fail("eval", st);
        nn_graph_free(&g);
        return rc;
    }
    hw_result r;
    if ((st = hw_result_init(&r, g.n_nodes)) == TD_OK &&
        (st = hw_evaluate(&g, &cfg, &r)) == TD_OK) {
        if (c.json)
            st = td_json_print(hw_result_to_json(&r, &g, &cfg, mapping));
        else
            hw_result_print(&r, &g, &cfg, mapping, stdout);
    }
    rc = st == TD_OK ? 0 : cmd_fail("eval", st);
    hw_result_free(&r);
    nn_graph_free(&g);
    return rc;
}
