/* tandem: one binary, one table of subcommands. */
#include "commands.h"
#include "td_config.h"
#include "td_version.h"

#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"search", cmd_search, "co-design search: NSGA-II over networks and accelerators"},
    {"train", cmd_train, "train a network (CPU or CUDA) and report float and integer accuracy"},
    {"eval", cmd_eval,
     "layer table of a network; with --hw, latency/energy/area on an accelerator"},
    {"sim", cmd_sim, "cycle-accurate SystemC simulation of a network on an accelerator"},
    {"rtl", cmd_rtl, "write the Verilog bundle of a design (RTL, testbench, program, scripts)"},
    {"regress", cmd_regress,
     "run a regression suite through RTL and SystemC against the C reference"},
    {"calibrate", cmd_calibrate,
     "synthesize the templates (Yosys, OpenSTA) and fit hw_model's tables"},
    {"report", cmd_report, "write a run's HTML report and CSV/JSON exports"},
    {"bench-moo", cmd_bench_moo, "run the optimizer on ZDT/DTLZ test problems"},
    {"version", cmd_version, "print version and build features"},
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static void print_usage(FILE *fp)
{
    fprintf(fp,
            "usage: tandem <command> [options]\n\n"
            "Hardware/neural-network co-design explorer (version %s).\n\ncommands:\n",
            TD_VERSION);
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp, "\nEvery command takes --help; commands that report results take --json and then\n"
                "print exactly one JSON object on stdout (logs go to stderr).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (strcmp(name, "help") == 0 && argc > 2) {
            char *sub[] = {argv[2], "--help", NULL};
            for (int i = 0; i < N_COMMANDS; i++)
                if (strcmp(commands[i].name, argv[2]) == 0)
                    return commands[i].run(2, sub);
        }
        print_usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0) {
        char *sub[] = {"version", NULL};
        return cmd_version(1, sub);
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (int i = 0; i < N_COMMANDS; i++) {
        size_t d = td_edit_distance(name, commands[i].name);
        if (d < best_d) {
            best_d = d;
            best = commands[i].name;
        }
    }
    if (name[0] == '-')
        fprintf(stderr, "tandem: unknown option '%s' (see 'tandem --help')\n", name);
    else if (best && best_d <= 2)
        fprintf(stderr, "tandem: unknown command '%s' (did you mean '%s'?)\n", name, best);
    else
        fprintf(stderr, "tandem: unknown command '%s' (see 'tandem --help')\n", name);
    return 2;
}
