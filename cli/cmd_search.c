#include "cmd_common.h"
#include "commands.h"
#include "cs_config.h"
#include "cs_cosearch.h"
#include "cs_mpi.h"
#include "rep_report.h"
#include "td_config.h"
#include "td_log.h"
#include "td_version.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: tandem search [-c CONFIG] [-o RUN_DIR] [-j N] [--set KEY=VALUE]... [--json]\n"
    "       tandem search --resume RUN_DIR [-j N] [--json]\n"
    "       tandem search [-c CONFIG] [--set KEY=VALUE]... --print-config\n"
    "\n"
    "Co-design search: NSGA-II over (network, accelerator) pairs. The config is merged over\n"
    "the built-in defaults; results go to RUN_DIR (default runs/<run.name or timestamp>):\n"
    "config.yaml, archive.sqlite, log.txt, report/ and models/ (the finalists' trained\n"
    "networks, for tandem rtl --run RUN_DIR --design ID). Hardware numbers come from the\n"
    "SystemC model by default (search.fidelity: systemc | analytical | analytical+systemc).\n"
    "\n"
    "  -c, --config FILE     YAML config merged over the defaults\n"
    "  -o, --out DIR         run directory\n"
    "  -j, --jobs N          local worker processes (search.workers)\n"
    "      --set KEY=VALUE   override one config key (repeatable), e.g. --set "
    "search.population=32\n"
    "      --resume DIR      continue a killed run; no finished evaluation is lost or redone\n"
    "      --print-config    print the resolved config as YAML and exit\n"
    "      --json            print one JSON object with the results on stdout\n"
    "  -v, --verbose / -q, --quiet\n";

enum { OPT_SET = CMD_OPT_COMMON_COUNT, OPT_RESUME, OPT_PRINT_CONFIG };

int cmd_search(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"out", required_argument, NULL, 'o'},
        {"jobs", required_argument, NULL, 'j'},
        {"set", required_argument, NULL, OPT_SET},
        {"resume", required_argument, NULL, OPT_RESUME},
        {"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
        CMD_COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cmd_common c = {0};
    const char *config_path = NULL, *out_dir = NULL, *resume = NULL;
    bool print_config = false;
    long long jobs = 0;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    size_t n_sets = 0;
    int opt, rc = 0;
    if (!sets)
        return 1;
    cmd_getopt_init();
    while ((opt = getopt_long(argc, argv, ":c:o:j:" CMD_COMMON_SHORT_OPTIONS, longopts, NULL)) !=
           -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'o':
            out_dir = optarg;
            break;
        case 'j':
            if (!cmd_parse_int("search", "-j", optarg, 1, 4096, &jobs))
                rc = 2;
            break;
        case OPT_SET:
            sets[n_sets++] = optarg;
            break;
        case OPT_RESUME:
            resume = optarg;
            break;
        case OPT_PRINT_CONFIG:
            print_config = true;
            break;
        default:
            if (!cmd_common_option(&c, opt))
                rc = cmd_bad_option("search", opt, argv);
        }
        if (rc)
            goto done;
    }
    if (c.help) {
        fputs(usage, stdout);
        goto done;
    }
    if (optind < argc) {
        rc = cmd_usage_error("search", "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (resume && (config_path || n_sets || out_dir)) {
        rc = cmd_usage_error("search", "--resume takes its config from the run directory; "
                                       "-c, -o and --set do not combine with it");
        goto done;
    }
    td_config *cfg = NULL;
    td_status st = cs_config_load(&cfg, config_path, sets, n_sets);
    if (st != TD_OK) {
        rc = cmd_fail("search", st);
        goto done;
    }
    if (jobs > 0) {
        char set[64];
        snprintf(set, sizeof set, "search.workers=%lld", jobs);
        td_config_set(cfg, set);
    }
    if (print_config) {
        st = td_config_write(cfg, stdout);
        rc = st == TD_OK ? 0 : cmd_fail("search", st);
        td_config_free(cfg);
        goto done;
    }
    cs_run_options ro = {.out_dir = out_dir,
                         .resume_dir = resume,
                         .pool = CS_POOL_INPROCESS,
                         .jobs = (size_t)td_config_int(cfg, "search.workers"),
                         .version = TD_VERSION};
    const char *stop_after = getenv("TANDEM_TEST_STOP_AFTER");
    if (stop_after)
        ro.stop_after = atoll(stop_after);
    if (cs_mpi_launched()) {
        /* mpirun -np N tandem search: rank 0 is the master, the other ranks train. */
        st = cs_mpi_init(&argc, &argv);
        if (st != TD_OK) {
            td_config_free(cfg);
            rc = cmd_fail("search", st);
            goto done;
        }
        ro.pool = CS_POOL_MPI;
    } else {
        /* Trainings run in worker processes even for -j 1, so that one that crashes or
         * hangs costs that evaluation only (search.eval_timeout_s). */
        ro.pool = CS_POOL_FORK;
    }
    json_t *summary = NULL;
    st = cs_cosearch_run(cfg, &ro, &summary);
    td_config_free(cfg);
    if (st == TD_OK && summary) {
        /* The report is part of the main job; its failure does not lose the run. */
        const char *run_dir = json_string_value(json_object_get(summary, "run_dir"));
        const char *dirs[1] = {run_dir};
        json_t *written = json_array();
        td_status rs = rep_report_write(dirs, 1, REP_FORMAT_ALL, NULL, written);
        if (rs != TD_OK)
            td_log_warn("report not written: %s (try: tandem report %s)", td_error_message(),
                        run_dir);
        else
            json_object_set_new(summary, "report", json_incref(json_array_get(written, 0)));
        json_decref(written);
        if (c.json) {
            td_json_print(summary);
        } else {
            printf("run %s: %lld evaluations, front of %lld designs, hypervolume %.6g, %.1f s\n",
                   run_dir, (long long)json_integer_value(json_object_get(summary, "evaluations")),
                   (long long)json_integer_value(json_object_get(summary, "front_size")),
                   json_real_value(json_object_get(summary, "hypervolume")),
                   json_real_value(json_object_get(summary, "wall_s")));
            printf("report: %s/report/index.html\n", run_dir);
            json_decref(summary);
        }
    } else if (st != TD_OK) {
        rc = cmd_fail("search", st);
    }
    if (ro.pool == CS_POOL_MPI)
        cs_mpi_finalize();
done:
    free(sets);
    return rc;
}
