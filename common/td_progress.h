/* Progress of long work: a redrawn bar with ETA on a terminal, plain periodic lines
 * otherwise (logs, CI). Always on stderr. */
#ifndef TD_PROGRESS_H
#define TD_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct td_progress {
    char label[64];
    int64_t total;
    int64_t done;
    double start_s;
    double last_draw_s;
    double line_interval_s; /* non-terminal: seconds between plain lines */
    bool tty;
    bool quiet;
} td_progress;

double td_now_s(void); /* monotonic seconds */

void td_progress_init(td_progress *p, const char *label, int64_t total);
/* Sets done (absolute) and an optional status text ("gen 3/10 hv 0.41"); draws when due. */
void td_progress_update(td_progress *p, int64_t done, const char *status);
void td_progress_finish(td_progress *p, const char *status);
/* Formats seconds as "1h02m", "3m05s" or "12s". */
void td_format_duration(double seconds, char *out, int out_size);

#endif
