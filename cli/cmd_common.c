#include "cmd_common.h"

#include "td_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

bool cmd_common_option(cmd_common *c, int opt)
{
    switch (opt) {
    case CMD_OPT_JSON:
        c->json = true;
        return true;
    case 'h':
        c->help = true;
        return true;
    case 'v':
        td_log_set_level(td_log_get_level() < TD_LOG_DEBUG ? td_log_get_level() + 1 : TD_LOG_DEBUG);
        return true;
    case 'q':
        td_log_set_level(TD_LOG_WARN);
        return true;
    default:
        return false;
    }
}

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "tandem %s: %s (see 'tandem %s --help')\n", cmd, msg, cmd);
    return 2;
}

int cmd_bad_option(const char *cmd, int opt, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (opt == ':')
        return cmd_usage_error(cmd, "option '%s' needs a value", arg);
    if (optopt > 0 && optopt < 128 && strncmp(arg, "--", 2) != 0)
        return cmd_usage_error(cmd, "unknown option '-%c'", optopt);
    return cmd_usage_error(cmd, "unknown option '%s'", arg);
}

void cmd_getopt_init(void)
{
    optind = 1;
    opterr = 0;
    optopt = 0;
}

int cmd_fail(const char *cmd, td_status st)
{
    const char *msg = td_error_message();
    fprintf(stderr, "tandem %s: %s\n", cmd, *msg ? msg : td_status_name(st));
    return td_status_exit_code(st);
}

bool cmd_parse_int(const char *cmd, const char *flag, const char *text, long long min,
                   long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || end == text) {
        cmd_usage_error(cmd, "%s expects an integer, got '%s'", flag, text);
        return false;
    }
    if (v < min || v > max) {
        cmd_usage_error(cmd, "%s %lld is out of range [%lld, %lld]", flag, v, min, max);
        return false;
    }
    *out = v;
    return true;
}

bool cmd_parse_double(const char *cmd, const char *flag, const char *text, double min, double max,
                      double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || end == text || v != v) {
        cmd_usage_error(cmd, "%s expects a number, got '%s'", flag, text);
        return false;
    }
    if (v < min || v > max) {
        cmd_usage_error(cmd, "%s %g is out of range [%g, %g]", flag, v, min, max);
        return false;
    }
    *out = v;
    return true;
}

int cmd_not_built(const char *cmd, const char *what)
{
    fprintf(stderr, "tandem %s: not built yet: %s\n", cmd, what);
    return 2;
}
