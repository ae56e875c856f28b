/* tandem sim: cycle-accurate SystemC simulation of one inference of a network on an
 * accelerator (sim, docs/sim.md), with hw_model's analytical numbers beside it. */
#include "cmd_common.h"
#include "commands.h"

#if __has_include("sim.h")
#include "hw_config.h"
#include "hw_eval.h"
#include "nn_graph.h"
#include "nn_model.h"
#include "sim.h"

#include <stdlib.h>

static const char usage[] =
    "usage: tandem sim --net NET --hw HW [--core rtl|twin] [--trace out.vcd] [--seed N] "
    "[--json]\n"
    "\n"
    "Simulates one inference of network NET on accelerator HW with the SystemC model of the\n"
    "whole accelerator (DRAM channel, DMA, banked L2, command sequencer with double\n"
    "buffering) around the core, and prints per layer the cycles (compute, memory stall,\n"
    "vector), utilization and energy, with hw_model's analytical cycles and energy beside\n"
    "them and the error in %. Conv and FC layers run as compiled tile-command programs on\n"
    "the core; every output is checked against the C integer reference. A saved model\n"
    "(.tdm) with an integer model at the accelerator's bit width runs with its trained\n"
    "weights (checked layer by layer against nn_qmodel_infer_ref); otherwise weights are\n"
    "random (seeded) quantized integers, and the output says so. The input image is random.\n"
    "\n"
    "  --net NET        built-in network (ref-cnn, ...), network YAML file or saved model\n"
    "  --hw HW          accelerator preset or accelerator YAML file\n"
    "  --core KIND      twin (SystemC behavioural twin, default) or rtl (the Verilated\n"
    "                   rtl_top; only the parameter sets built in, see docs/sim.md)\n"
    "  --trace FILE     write a VCD trace of the core's ports and the system\n"
    "  --seed N         seed of the random weights and input (default 2026)\n"
    "  --json           print one JSON object: cycles, latency_ms, energy_uj,\n"
    "                   analytical_latency_ms, error_pct, layers\n"
    "  -v, --verbose / -q, --quiet\n";

enum { OPT_NET = CMD_OPT_COMMON_COUNT, OPT_HW, OPT_CORE, OPT_TRACE, OPT_SEED };

int cmd_sim(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"net", required_argument, NULL, OPT_NET},
        {"hw", required_argument, NULL, OPT_HW},
        {"core", required_argument, NULL, OPT_CORE},
        {"trace", required_argument, NULL, OPT_TRACE},
        {"seed", required_argument, NULL, OPT_SEED},
        CMD_COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cmd_common c = {0};
    const char *net = NULL, *hw = NULL;
    sim_options o;
    sim_options_default(&o);
    long long seed = 0;
    int opt;
    td_status st;
    cmd_getopt_init();
    while ((opt = getopt_long(argc, argv, ":" CMD_COMMON_SHORT_OPTIONS, longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_NET:
            net = optarg;
            break;
        case OPT_HW:
            hw = optarg;
            break;
        case OPT_CORE:
            if ((st = sim_core_parse(optarg, &o.core)) != TD_OK)
                return cmd_usage_error("sim", "%s", td_error_message());
            break;
        case OPT_TRACE:
            o.trace_path = optarg;
            break;
        case OPT_SEED:
            if (!cmd_parse_int("sim", "--seed", optarg, 0, 0x7fffffffffffffffLL, &seed))
                return 2;
            o.seed = (uint64_t)seed;
            break;
        default:
            if (!cmd_common_option(&c, opt))
                return cmd_bad_option("sim", opt, argv);
        }
    }
    if (c.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (optind < argc)
        return cmd_usage_error("sim", "unexpected argument '%s'", argv[optind]);
    if (!net)
        return cmd_usage_error("sim", "--net is required");
    if (!hw)
        return cmd_usage_error("sim", "--hw is required");
    hw_config cfg;
    if ((st = hw_config_resolve(hw, &cfg)) != TD_OK)
        return cmd_fail("sim", st);
    nn_model *model = NULL;
    if ((st = nn_net_resolve(net, &model)) != TD_OK)
        return cmd_fail("sim", st);
    const nn_graph *g = &model->graph;
    /* A saved model's integer weights at the accelerator's bit width, when it has them. */
    o.qmodel = nn_model_quant(model, cfg.bits);
    if (!o.qmodel && model->n_quant > 0 && !c.json)
        fprintf(stderr,
                "tandem sim: '%s' has no %d-bit integer model; using random weights (tandem "
                "train --bits %d adds one)\n",
                net, cfg.bits, cfg.bits);
    hw_result hr;
    sim_result sr = {0};
    bool have_hr = false;
    if ((st = hw_result_init(&hr, g->n_nodes)) == TD_OK) {
        have_hr = true;
        st = hw_evaluate(g, &cfg, &hr);
    }
    if (st == TD_OK)
        st = sim_run_net(g, &cfg, &o, &sr);
    if (st == TD_OK) {
        if (c.json)
            st = td_json_print(sim_result_to_json(&sr, g, &cfg, &hr));
        else
            sim_result_print(&sr, g, &cfg, &hr, stdout);
    }
    int rc = st == TD_OK ? 0 : cmd_fail("sim", st);
    if (rc == 0 && !sr.values_match) {
        fprintf(stderr, "tandem sim: output differs from the C integer reference: %s\n",
                sr.first_mismatch);
        rc = 1;
    }
    sim_result_free(&sr);
    if (have_hr)
        hw_result_free(&hr);
    nn_model_free(model);
    free(model);
    return rc;
}

#else

int cmd_sim(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cmd_not_built("sim", "SystemC simulation (SystemC was not found at configure time)");
}

#endif
