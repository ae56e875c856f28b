#include "td_status.h"

#include <stdio.h>
#include <string.h>

#define TD_ERROR_MAX 2048

static _Thread_local char error_message[TD_ERROR_MAX];

static const char *const status_names[TD_STATUS_COUNT] = {
    [TD_OK] = "ok",
    [TD_ERR_USAGE] = "usage",
    [TD_ERR_IO] = "io",
    [TD_ERR_PARSE] = "parse",
    [TD_ERR_CONFIG] = "config",
    [TD_ERR_FORMAT] = "format",
    [TD_ERR_NOMEM] = "nomem",
    [TD_ERR_UNSUPPORTED] = "unsupported",
    [TD_ERR_INFEASIBLE] = "infeasible",
    [TD_ERR_DB] = "db",
    [TD_ERR_NOT_BUILT] = "not-built",
    [TD_ERR_INTERNAL] = "internal",
};

const char *td_status_name(td_status s)
{
    if ((int)s < 0 || s >= TD_STATUS_COUNT)
        return "unknown";
    return status_names[s];
}

td_status td_fail(td_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_message, sizeof error_message, fmt, ap);
    va_end(ap);
    return s;
}

td_status td_fail_context(td_status s, const char *fmt, ...)
{
    char prefix[512];
    char old[TD_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, error_message, sizeof old);
    size_t np = strlen(prefix), no = strlen(old);
    if (np > TD_ERROR_MAX - 1)
        np = TD_ERROR_MAX - 1;
    if (no > TD_ERROR_MAX - 1 - np)
        no = TD_ERROR_MAX - 1 - np;
    memcpy(error_message, prefix, np);
    memcpy(error_message + np, old, no);
    error_message[np + no] = '\0';
    return s;
}

const char *td_error_message(void)
{
    return error_message;
}

void td_error_clear(void)
{
    error_message[0] = '\0';
}

int td_status_exit_code(td_status s)
{
    if (s == TD_OK)
        return 0;
    if (s == TD_ERR_USAGE || s == TD_ERR_NOT_BUILT)
        return 2;
    return 1;
}
