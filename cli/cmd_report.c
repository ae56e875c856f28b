/* tandem report: the HTML report and the CSV/JSON exports of a run (reports/, issue #10). */
#include "cmd_common.h"
#include "commands.h"
#include "rep_report.h"
#include "td_log.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: tandem report RUN_DIR [--format all|html|csv|json] [-o DIR] [--json]\n"
    "       tandem report --compare RUN_A RUN_B [-o DIR] [--json]\n"
    "\n"
    "Writes the report of a run from its archive (read-only; a run still going can be\n"
    "reported): DIR/index.html, one self-contained page that opens offline, and the exports\n"
    "DIR/pareto.csv, DIR/evaluations.csv and DIR/pareto.json (docs/formats.md).\n"
    "DIR defaults to RUN_DIR/report (with --compare: RUN_A/report/vs-NAME_B).\n"
    "\n"
    "  -f, --format F        all (default), html, csv (pareto.csv and evaluations.csv), json\n"
    "  -o, --out DIR         output folder\n"
    "      --compare A B     overlay the fronts of two runs in one HTML report\n"
    "      --json            print one JSON object with the files written on stdout\n"
    "  -v, --verbose / -q, --quiet\n";

enum { OPT_COMPARE = CMD_OPT_COMMON_COUNT };

/* The position in the original argv of the word holding `p`, so that runs keep the order
 * the user wrote them in (getopt permutes argv). */
static int position_of(char **orig, int argc, const char *p)
{
    for (int i = 0; i < argc; i++)
        if (p >= orig[i] && p <= orig[i] + strlen(orig[i]))
            return i;
    return argc;
}

int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},
        {"compare", required_argument, NULL, OPT_COMPARE},
        CMD_COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cmd_common c = {0};
    rep_format format = REP_FORMAT_ALL;
    const char *out_dir = NULL, *compare = NULL;
    char **orig = malloc(((size_t)argc + 1) * sizeof *orig);
    int opt, rc = 0;
    if (!orig)
        return 1;
    memcpy(orig, argv, (size_t)argc * sizeof *orig);
    cmd_getopt_init();
    while ((opt = getopt_long(argc, argv, ":f:o:" CMD_COMMON_SHORT_OPTIONS, longopts, NULL)) !=
           -1) {
        switch (opt) {
        case 'f':
            if (!rep_format_parse(optarg, &format))
                rc = cmd_usage_error("report", "--format expects all, html, csv or json, got '%s'",
                                     optarg);
            break;
        case 'o':
            out_dir = optarg;
            break;
        case OPT_COMPARE:
            if (compare)
                rc = cmd_usage_error("report", "--compare is given twice");
            compare = optarg;
            break;
        default:
            if (!cmd_common_option(&c, opt))
                rc = cmd_bad_option("report", opt, argv);
        }
        if (rc)
            goto done;
    }
    if (c.help) {
        fputs(usage, stdout);
        goto done;
    }
    const char *runs[2];
    size_t n_runs = 0;
    int n_pos = argc - optind;
    if (!compare) {
        if (n_pos != 1) {
            rc = n_pos == 0 ? cmd_usage_error("report", "give the run directory (e.g. runs/NAME)")
                            : cmd_usage_error("report",
                                              "unexpected argument '%s'; compare two "
                                              "runs with --compare A B",
                                              argv[optind + 1]);
            goto done;
        }
        runs[n_runs++] = argv[optind];
    } else {
        if (n_pos != 1) {
            rc = cmd_usage_error("report", "--compare takes two run directories: "
                                           "--compare runs/A runs/B");
            goto done;
        }
        bool compare_first =
            position_of(orig, argc, compare) < position_of(orig, argc, argv[optind]);
        runs[0] = compare_first ? compare : argv[optind];
        runs[1] = compare_first ? argv[optind] : compare;
        n_runs = 2;
        if (format != REP_FORMAT_ALL && format != REP_FORMAT_HTML) {
            rc = cmd_usage_error("report", "--compare writes the HTML overlay only; export each "
                                           "run on its own with --format csv|json");
            goto done;
        }
    }
    json_t *written = json_array();
    td_status st = rep_report_write(runs, n_runs, format, out_dir, written);
    if (st != TD_OK) {
        json_decref(written);
        rc = cmd_fail("report", st);
        goto done;
    }
    if (c.json) {
        json_t *o = json_object();
        json_t *rl = json_array();
        for (size_t i = 0; i < n_runs; i++)
            json_array_append_new(rl, json_string(runs[i]));
        json_object_set_new(o, "runs", rl);
        json_object_set_new(o, "files", written);
        st = td_json_print(o);
        rc = st == TD_OK ? 0 : cmd_fail("report", st);
    } else {
        size_t i;
        json_t *f;
        json_array_foreach(written, i, f)
        {
            if (td_log_get_level() >= TD_LOG_INFO)
                printf("wrote %s\n", json_string_value(f));
        }
        json_decref(written);
    }
done:
    free(orig);
    return rc;
}
