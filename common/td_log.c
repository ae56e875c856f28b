#include "td_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <time.h>

static td_log_level current_level = TD_LOG_INFO;
static FILE *log_file;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const level_names[TD_LOG_LEVEL_COUNT] = {"error", "warning", "info", "debug"};

void td_log_set_level(td_log_level level)
{
    current_level = level;
}

td_log_level td_log_get_level(void)
{
    return current_level;
}

void td_log_set_file(FILE *fp)
{
    pthread_mutex_lock(&log_lock);
    log_file = fp;
    pthread_mutex_unlock(&log_lock);
}

void td_log(td_log_level level, const char *fmt, ...)
{
    if (level > current_level && (log_file == NULL || level > TD_LOG_INFO))
        return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    if (level <= current_level) {
        if (level == TD_LOG_INFO)
            fprintf(stderr, "tandem: %s\n", msg);
        else
            fprintf(stderr, "tandem: %s: %s\n", level_names[level], msg);
    }
    if (log_file && level <= TD_LOG_INFO) {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(log_file, "%s %-7s %s\n", stamp, level_names[level], msg);
        fflush(log_file);
    }
    pthread_mutex_unlock(&log_lock);
}
