/* Levelled logging to stderr (stdout is reserved for --json results), optionally
 * tee'd to a run's log.txt with timestamps. */
#ifndef TD_LOG_H
#define TD_LOG_H

#include <stdio.h>

typedef enum td_log_level {
    TD_LOG_ERROR = 0,
    TD_LOG_WARN,
    TD_LOG_INFO,
    TD_LOG_DEBUG,
    TD_LOG_LEVEL_COUNT
} td_log_level;

void td_log_set_level(td_log_level level); /* messages above level are dropped on stderr */
td_log_level td_log_get_level(void);
void td_log_set_file(FILE *fp); /* every message at INFO or below also goes here; NULL stops */
void td_log(td_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define td_log_error(...) td_log(TD_LOG_ERROR, __VA_ARGS__)
#define td_log_warn(...) td_log(TD_LOG_WARN, __VA_ARGS__)
#define td_log_info(...) td_log(TD_LOG_INFO, __VA_ARGS__)
#define td_log_debug(...) td_log(TD_LOG_DEBUG, __VA_ARGS__)

#endif
