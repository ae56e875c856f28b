/* tandem regress: runs a regression suite (sim, docs/sim.md "Regression suites") through the
 * Verilated RTL core and the SystemC twin against the C integer reference. */
#include "cmd_common.h"
#include "commands.h"

#if __has_include("sim.h")
#include "sim.h"

#include <stdlib.h>

static const char usage[] =
    "usage: tandem regress SUITE.yaml [--junit out.xml] [-j N] [--json]\n"
    "\n"
    "Runs every case of the suite (a GEMM, a convolution or a network on an accelerator)\n"
    "on the Verilated RTL core and on the SystemC twin, checks every output against the C\n"
    "integer reference and that both cores take the same cycles, prints one line per case\n"
    "and the first mismatch (layer, tile, index, expected and actual), and exits 1 when any\n"
    "case fails. Suites: tests/regress/ci.yaml (short, run by CI) and\n"
    "tests/regress/default.yaml.\n"
    "\n"
    "  --junit FILE   also write JUnit XML that CI servers read\n"
    "  -j, --jobs N   run up to N cases in parallel (processes; default 1)\n"
    "  --json         print one JSON object with the results on stdout\n"
    "  -v, --verbose / -q, --quiet\n";

enum { OPT_JUNIT = CMD_OPT_COMMON_COUNT };

int cmd_regress(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"junit", required_argument, NULL, OPT_JUNIT},
        {"jobs", required_argument, NULL, 'j'},
        CMD_COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cmd_common c = {0};
    const char *junit = NULL;
    long long jobs = 1;
    int opt;
    cmd_getopt_init();
    while ((opt = getopt_long(argc, argv, ":j:" CMD_COMMON_SHORT_OPTIONS, longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_JUNIT:
            junit = optarg;
            break;
        case 'j':
            if (!cmd_parse_int("regress", "-j", optarg, 1, 256, &jobs))
                return 2;
            break;
        default:
            if (!cmd_common_option(&c, opt))
                return cmd_bad_option("regress", opt, argv);
        }
    }
    if (c.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (optind >= argc)
        return cmd_usage_error("regress", "a suite file is required");
    if (optind + 1 < argc)
        return cmd_usage_error("regress", "unexpected argument '%s'", argv[optind + 1]);
    sim_suite s;
    td_status st = sim_suite_load(argv[optind], &s);
    if (st != TD_OK)
        return cmd_fail("regress", st);
    sim_case_result *res = calloc(s.n_cases, sizeof *res);
    if (!res) {
        sim_suite_free(&s);
        return cmd_fail("regress", td_fail(TD_ERR_NOMEM, "out of memory"));
    }
    st = sim_suite_run(&s, (int)jobs, res);
    size_t failed = 0;
    if (st == TD_OK) {
        failed = sim_suite_report(&s, res, c.json ? stderr : stdout);
        if (junit)
            st = sim_suite_write_junit(&s, res, junit);
    }
    if (st == TD_OK && c.json) {
        json_t *o = json_object();
        json_object_set_new(o, "suite", json_string(s.name));
        json_object_set_new(o, "passed", json_integer((json_int_t)(s.n_cases - failed)));
        json_object_set_new(o, "failed", json_integer((json_int_t)failed));
        json_t *a = json_array();
        for (size_t i = 0; i < s.n_cases; i++) {
            json_t *ci = json_object();
            json_object_set_new(ci, "name", json_string(s.cases[i].name));
            json_object_set_new(ci, "pass", json_boolean(res[i].pass));
            json_object_set_new(ci, "seconds", td_json_real(res[i].seconds));
            for (int k = 0; k < SIM_CORE_COUNT; k++) {
                char key[32];
                snprintf(key, sizeof key, "%s_cycles", sim_core_name((sim_core_kind)k));
                if (res[i].cycles[k] >= 0)
                    json_object_set_new(ci, key, json_integer(res[i].cycles[k]));
            }
            if (!res[i].pass)
                json_object_set_new(ci, "message", json_string(res[i].message));
            json_array_append_new(a, ci);
        }
        json_object_set_new(o, "cases", a);
        st = td_json_print(o);
    }
    free(res);
    sim_suite_free(&s);
    if (st != TD_OK)
        return cmd_fail("regress", st);
    return failed ? 1 : 0;
}

#else

int cmd_regress(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cmd_not_built("regress", "regression suites (SystemC was not found at configure time)");
}

#endif
