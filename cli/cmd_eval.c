/* tandem eval: evaluate a network on an accelerator with the analytical model (hw_model),
 * or print a network's layer table, or print an accelerator config as YAML. */
#include "cmd_common.h"
#include "commands.h"
#include "hw_calib.h"
#include "hw_config.h"
#include "hw_eval.h"
#include "nn_graph.h"
#include "nn_model.h"

#include <stdlib.h>

static const char usage[] =
    "usage: tandem eval --net NET --hw HW [--mapping] [--tech T] [--calibration F] [--json]\n"
    "       tandem eval --net NET [--json]\n"
    "       tandem eval --hw HW --print-hw\n"
    "\n"
    "Evaluates network NET on accelerator HW with the analytical model: latency, throughput,\n"
    "energy, power, area, utilization and per-layer cycles (docs/models.md). Without --hw,\n"
    "prints the network's layer table (params, MACs, layers).\n"
    "\n"
    "  --net NET     built-in network (ref-cnn, ...), network YAML file or saved model\n"
    "                (.tdm)\n"
    "  --hw HW       accelerator preset (gemmini-16x16-int8, edge-8x16-int8,\n"
    "                cloud-64x64-int8) or accelerator YAML file (docs/formats.md)\n"
    "  --mapping     also show how each layer maps onto the array (GEMM, tiles, folds,\n"
    "                loop order)\n"
    "  --tech T      constant table: calibrated (default: synthesis of our RTL, scaled\n"
    "                to the config's node; the clock is checked against the PE's fmax)\n"
    "                or published (Horowitz 45 nm; no clock check); docs/calibration.md\n"
    "  --calibration F  calibration file for --tech calibrated (default: the checked-in\n"
    "                hw_model/calibration/osu018.json, or $TANDEM_CALIBRATION)\n"
    "  --print-hw    print the resolved accelerator config as YAML and exit\n"
    "  --json        print one JSON object on stdout\n"
    "  -v, --verbose / -q, --quiet\n";

enum { OPT_NET = CMD_OPT_COMMON_COUNT, OPT_HW, OPT_MAPPING, OPT_PRINT_HW, OPT_TECH, OPT_CALIB };

int cmd_eval(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"net", required_argument, NULL, OPT_NET},
        {"hw", required_argument, NULL, OPT_HW},
        {"mapping", no_argument, NULL, OPT_MAPPING},
        {"print-hw", no_argument, NULL, OPT_PRINT_HW},
        {"tech", required_argument, NULL, OPT_TECH},
        {"calibration", required_argument, NULL, OPT_CALIB},
        CMD_COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cmd_common c = {0};
    const char *net = NULL, *hw = NULL, *tech = NULL, *calib = NULL;
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
        case OPT_TECH:
            tech = optarg;
            break;
        case OPT_CALIB:
            calib = optarg;
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
    if (tech || calib) {
        hw_tech_mode mode = HW_TECH_MODE_CALIBRATED;
        if (tech && (st = hw_tech_mode_parse(tech, &mode)) != TD_OK)
            return cmd_usage_error("eval", "--tech: %s", td_error_message());
        if (calib && mode != HW_TECH_MODE_CALIBRATED)
            return cmd_usage_error("eval", "--calibration needs --tech calibrated");
        if ((st = hw_tech_select(mode, calib)) != TD_OK)
            return cmd_fail("eval", st);
    }

    nn_model *model = NULL;
    if ((st = nn_net_resolve(net, &model)) != TD_OK)
        return cmd_fail("eval", st);
    const nn_graph *g = &model->graph;
    int rc = 0;
    if (!hw) {
        if (c.json)
            st = td_json_print(nn_graph_to_json(g));
        else
            nn_graph_print(g, stdout);
    } else {
        hw_result r;
        if ((st = hw_result_init(&r, g->n_nodes)) == TD_OK &&
            (st = hw_evaluate(g, &cfg, &r)) == TD_OK) {
            if (c.json)
                st = td_json_print(hw_result_to_json(&r, g, &cfg, mapping));
            else
                hw_result_print(&r, g, &cfg, mapping, stdout);
        }
        hw_result_free(&r);
    }
    rc = st == TD_OK ? 0 : cmd_fail("eval", st);
    nn_model_free(model);
    free(model);
    return rc;
}
