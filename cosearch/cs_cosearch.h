/* The co-design search (`tandem search`): NSGA-II (or a baseline) over the joint genome
 * (net genes from nn_space, then hw genes from hw_space). Per candidate: the network's
 * accuracy at the accelerator's bit width (proxy training in the evaluator pool, cached in
 * the archive by (net hash, bits, budget, seed)), and the accelerator's latency, energy,
 * power and area from hw_model. Every evaluation is committed to the run archive at once;
 * --resume replays the finished ones from it. */
#ifndef CS_COSEARCH_H
#define CS_COSEARCH_H

#include "cs_pool.h"
#include "td_config.h"
#include "td_status.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct cs_run_options {
    const char *out_dir;    /* run directory (NULL: run.dir/run.name or a timestamp) */
    const char *resume_dir; /* continue this run (its config.yaml is the config) */
    cs_pool_kind pool;      /* INPROCESS (-j 1), FORK (-j N), MPI (under mpirun) */
    size_t jobs;
    const char *version;
    /* Testing hook: stop (as if killed) after this many new evaluations; 0 = never. */
    int64_t stop_after;
} cs_run_options;

/* Runs the search described by cfg (ignored when resuming). On success *summary holds the
 * JSON result (evaluations, front_size, hypervolume, wall_s, run_dir, front). Under MPI, on
 * ranks other than 0 it serves evaluations and returns TD_OK with *summary NULL. */
td_status cs_cosearch_run(const td_config *cfg, const cs_run_options *o, json_t **summary);

#endif
