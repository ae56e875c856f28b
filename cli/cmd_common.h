/* Shared pieces of the `tandem` subcommands: common flags, usage errors, JSON output. */
#ifndef CMD_COMMON_H
#define CMD_COMMON_H

#include "td_json.h"
#include "td_status.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* Flags every subcommand understands; long option ids start at CMD_OPT_BASE. */
enum {
    CMD_OPT_BASE = 1000,
    CMD_OPT_JSON = CMD_OPT_BASE,
    CMD_OPT_HELP,
    CMD_OPT_VERBOSE,
    CMD_OPT_QUIET,
    CMD_OPT_COMMON_COUNT
};

/* Options shared by every subcommand: --json, --help/-h, -v/--verbose, -q/--quiet. */
typedef struct cmd_common {
    bool json;
    bool help;
} cmd_common;

/* Handles one getopt_long result that belongs to the common flags; returns true if it
 * did. Use in the default branch of a subcommand's switch. */
bool cmd_common_option(cmd_common *c, int opt);

/* Long options of the common flags, to append to a subcommand's table
 * (CMD_COMMON_LONG_OPTIONS expands to the entries, without the terminator). */
#define CMD_COMMON_LONG_OPTIONS                                                                    \
    {"json", no_argument, NULL, CMD_OPT_JSON}, {"help", no_argument, NULL, 'h'},                   \
        {"verbose", no_argument, NULL, 'v'},                                                       \
    {                                                                                              \
        "quiet", no_argument, NULL, 'q'                                                            \
    }
/* Short options of the common flags, to append to a subcommand's optstring. */
#define CMD_COMMON_SHORT_OPTIONS "hvq" /* put after a leading ':' */

/* Reports a bad flag as one line "tandem CMD: REASON (see tandem CMD --help)" and returns 2.
 * getopt_long's own message is suppressed by setting opterr = 0 in cmd_getopt_init. */
int cmd_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Describes a failed getopt_long result and returns 2: opt ':' (missing value; optstrings
 * start with ':' so getopt reports it so) or '?' (unknown flag). */
int cmd_bad_option(const char *cmd, int opt, char **argv);
/* Resets getopt for a subcommand's parse (argv[0] is the subcommand name). */
void cmd_getopt_init(void);

/* Prints the error of a failed status as "tandem CMD: message" and returns its exit code. */
int cmd_fail(const char *cmd, td_status st);

/* Parses an integer / float flag value with range checking; on error prints a usage error
 * naming the flag and returns false. */
bool cmd_parse_int(const char *cmd, const char *flag, const char *text, long long min,
                   long long max, long long *out);
bool cmd_parse_double(const char *cmd, const char *flag, const char *text, double min, double max,
                      double *out);

/* A subcommand that is not built yet: says so on stderr, exit code 2. */
int cmd_not_built(const char *cmd, const char *what);

#endif
