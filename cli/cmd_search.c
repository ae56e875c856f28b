#include "cmd_common.h"
#include "commands.h"
#include "cs_config.h"
#include "td_config.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: tandem search [-c CONFIG] [-o RUN_DIR] [-j N] [--set KEY=VALUE]... [--json]\n"
    "       tandem search --resume RUN_DIR [-j N] [--json]\n"
    "       tandem search [-c CONFIG] [--set KEY=VALUE]... --print-config\n"
    "\n"
    "Co-design search: NSGA-II over (network, accelerator) pairs. The config is merged over\n"
    "the built-in defaults; results go to RUN_DIR (default runs/<run.name or timestamp>):\n"
    "config.yaml, archive.sqlite, log.txt and report/.\n"
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
    td_config_free(cfg);
    rc = cmd_not_built("search", "the search loop (cosearch, issue #9) is being built; the "
                                 "config is valid (see --print-config)");
done:
    free(sets);
    return rc;
}
