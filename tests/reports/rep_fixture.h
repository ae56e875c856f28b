/* A plausible run directory for report tests and benchmarks, written through the
 * cs_archive API: n evaluations of a synthetic (network, accelerator) space with the
 * default objectives [error, latency_ms, energy_uj, area_mm2], per-layer breakdowns,
 * a few failures (with commas, quotes and newlines in their reasons), SystemC
 * evaluations of two front designs, generations with hypervolume, and the true front. */
#ifndef REP_FIXTURE_H
#define REP_FIXTURE_H

#include "td_status.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct rep_fixture_opts {
    int64_t evaluations; /* primary (analytical) evaluations, failures included */
    int64_t population;  /* per generation */
    uint64_t seed;
    bool store_front; /* false: leave the front table empty (a run that just started) */
    bool finished;    /* record the run as finished */
} rep_fixture_opts;

/* Creates dir (must not hold an archive) with config.yaml and archive.sqlite. */
td_status rep_fixture_make(const char *dir, const rep_fixture_opts *o);

#endif
