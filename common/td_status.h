/* Status codes and the thread-local error message every failing function leaves behind. */
#ifndef TD_STATUS_H
#define TD_STATUS_H

#include <stdarg.h>

typedef enum td_status {
    TD_OK = 0,
    TD_ERR_USAGE,       /* bad command line: exit code 2 */
    TD_ERR_IO,          /* file missing, unreadable, unwritable */
    TD_ERR_PARSE,       /* malformed YAML/JSON/IDX */
    TD_ERR_CONFIG,      /* unknown key, wrong type, out of range */
    TD_ERR_FORMAT,      /* wrong magic, version, truncated data */
    TD_ERR_NOMEM,       /* allocation or arena exhausted */
    TD_ERR_UNSUPPORTED, /* feature not built here (e.g. CUDA without a GPU) */
    TD_ERR_INFEASIBLE,  /* a design point violates a hard rule */
    TD_ERR_DB,          /* SQLite failure */
    TD_ERR_NOT_BUILT,   /* subcommand or feature not built yet: exit code 2 */
    TD_ERR_INTERNAL,    /* a bug: an invariant failed */
    TD_STATUS_COUNT
} td_status;

/* Short stable name, e.g. "config". */
const char *td_status_name(td_status s);

/* Records a formatted message for the calling thread and returns s, so that
 *   return td_fail(TD_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
 * reports and propagates in one line. */
td_status td_fail(td_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends context ("layer conv3: ") to the current message; returns s. */
td_status td_fail_context(td_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The calling thread's last message ("" when none). */
const char *td_error_message(void);
void td_error_clear(void);

/* Process exit code for a status: 0 ok, 2 usage/not built, 1 otherwise. */
int td_status_exit_code(td_status s);

#endif
