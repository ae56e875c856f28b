#include "cmd_common.h"
#include "commands.h"
#include "td_version.h"

#include <sqlite3.h>

static const char usage[] = "usage: tandem version [--json]\n"
                            "Prints the version, the git revision and the features built in.\n";

int cmd_version(int argc, char **argv)
{
    static const struct option longopts[] = {CMD_COMMON_LONG_OPTIONS, {NULL, 0, NULL, 0}};
    cmd_common c = {0};
    int opt;
    cmd_getopt_init();
    while ((opt = getopt_long(argc, argv, ":" CMD_COMMON_SHORT_OPTIONS, longopts, NULL)) != -1)
        if (!cmd_common_option(&c, opt))
            return cmd_bad_option("version", opt, argv);
    if (c.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (optind < argc)
        return cmd_usage_error("version", "unexpected argument '%s'", argv[optind]);
    if (c.json) {
        json_t *o = json_object();
        json_object_set_new(o, "version", json_string(TD_VERSION));
        json_object_set_new(o, "git", json_string(TD_GIT));
        json_object_set_new(o, "cuda", json_boolean(TD_HAVE_CUDA));
        json_object_set_new(o, "sqlite", json_string(sqlite3_libversion()));
        return td_status_exit_code(td_json_print(o));
    }
    printf("tandem %s (git %s)\ncuda backend: %s\nsqlite %s\n", TD_VERSION, TD_GIT,
           TD_HAVE_CUDA ? "built" : "not built", sqlite3_libversion());
    return 0;
}
