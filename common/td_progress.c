#include "td_progress.h"

#include "td_log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double td_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void td_format_duration(double seconds, char *out, int out_size)
{
    if (seconds < 0 || seconds != seconds) {
        snprintf(out, (size_t)out_size, "?");
        return;
    }
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(out, (size_t)out_size, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
    else if (s >= 60)
        snprintf(out, (size_t)out_size, "%ldm%02lds", s / 60, s % 60);
    else
        snprintf(out, (size_t)out_size, "%lds", s);
}

void td_progress_init(td_progress *p, const char *label, int64_t total)
{
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
    p->start_s = td_now_s();
    p->last_draw_s = -1e9;
    p->line_interval_s = 10.0;
    p->tty = isatty(STDERR_FILENO) == 1;
    p->quiet = td_log_get_level() < TD_LOG_INFO;
}

static void progress_draw(td_progress *p, const char *status, bool final)
{
    double now = td_now_s();
    double elapsed = now - p->start_s;
    double frac = p->total > 0 ? (double)p->done / (double)p->total : 0.0;
    if (frac > 1.0)
        frac = 1.0;
    char eta[32], el[32];
    td_format_duration(frac > 0 ? elapsed * (1.0 - frac) / frac : -1, eta, sizeof eta);
    td_format_duration(elapsed, el, sizeof el);
    if (p->tty) {
        enum { WIDTH = 28 };
        char bar[WIDTH + 1];
        int fill = (int)(frac * WIDTH);
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r\033[K%s [%s] %lld/%lld %s elapsed %s ETA %s", p->label, bar,
                (long long)p->done, (long long)p->total, status ? status : "", el,
                final ? "0s" : eta);
        if (final)
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "tandem: %s %lld/%lld (%.0f%%) %s elapsed %s ETA %s\n", p->label,
                (long long)p->done, (long long)p->total, 100.0 * frac, status ? status : "", el,
                final ? "0s" : eta);
    }
    fflush(stderr);
    p->last_draw_s = now;
}

void td_progress_update(td_progress *p, int64_t done, const char *status)
{
    p->done = done;
    if (p->quiet)
        return;
    double interval = p->tty ? 0.1 : p->line_interval_s;
    if (td_now_s() - p->last_draw_s >= interval)
        progress_draw(p, status, false);
}

void td_progress_finish(td_progress *p, const char *status)
{
    if (p->quiet)
        return;
    progress_draw(p, status, true);
}
