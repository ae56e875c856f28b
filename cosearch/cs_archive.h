/* The run archive: one SQLite database (WAL) per run directory holding the run, every
 * evaluation (committed as soon as it finishes), every generation's population, the front,
 * hypervolume per generation and the accuracy cache. Schema in docs/formats.md. */
#ifndef CS_ARCHIVE_H
#define CS_ARCHIVE_H

#include "td_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_ARCHIVE_SCHEMA_VERSION 1

typedef struct cs_archive {
    void *db; /* sqlite3* */
    char path[1024];
    int64_t run_id;
} cs_archive;

/* Opens (create: creating if missing) the archive at path. Fails with a clear message when
 * the file is not a Tandem archive or its schema is newer than this build supports. */
td_status cs_archive_open(cs_archive *a, const char *path, bool create);
void cs_archive_close(cs_archive *a);
int cs_archive_schema_version(const cs_archive *a);

/* Starts a run record (sets a->run_id), or picks up the latest run for --resume. */
td_status cs_archive_run_begin(cs_archive *a, const char *name, int64_t seed,
                               const char *config_yaml, const char *version);
td_status cs_archive_run_resume(cs_archive *a, int64_t *seed);
td_status cs_archive_run_finish(cs_archive *a, const char *status, double wall_s);

typedef enum cs_eval_status {
    CS_EVAL_OK = 0,
    CS_EVAL_FAILED, /* crashed, timed out, or returned an error: `failure` says why */
    CS_EVAL_STATUS_COUNT
} cs_eval_status;

/* One evaluation; the text fields are JSON documents (objectives: array of numbers in the
 * config's objective order; metrics: object of named values with units in the names). */
typedef struct cs_eval_record {
    int64_t id;              /* set by add */
    uint64_t candidate_hash; /* identity of (net genome, hw genome) after decoding */
    uint64_t net_hash;
    uint64_t hw_hash;
    int64_t generation;
    const char *fidelity; /* "analytical", "systemc", "test" ... */
    cs_eval_status status;
    const char *failure; /* NULL when ok */
    const char *genome_json;
    const char *objectives_json;
    const char *metrics_json;
    double violation; /* total constraint violation, 0 = feasible */
    uint64_t seed;
    double wall_s;
} cs_eval_record;

/* Inserts and commits at once. A second record for the same (candidate, fidelity) in the
 * run fails with TD_ERR_DB (callers look up first). */
td_status cs_archive_add_evaluation(cs_archive *a, cs_eval_record *r);
/* Looks up an evaluation of this run; *found false when none. Text fields of `out` point
 * into `buf` (buf_size bytes); TD_ERR_NOMEM if they do not fit. */
td_status cs_archive_find_evaluation(cs_archive *a, uint64_t candidate_hash, const char *fidelity,
                                     bool *found, cs_eval_record *out, char *buf, size_t buf_size);
int64_t cs_archive_evaluation_count(cs_archive *a);

/* A generation: its population (evaluation ids with rank and crowding) and hypervolume. */
td_status cs_archive_add_generation(cs_archive *a, int64_t gen, double hypervolume,
                                    int64_t evaluations, double wall_s, const int64_t *eval_ids,
                                    const int32_t *ranks, const double *crowding, int64_t n);
/* Highest generation stored for this run, -1 when none. */
int64_t cs_archive_last_generation(cs_archive *a);
/* Replaces the stored front of this run. */
td_status cs_archive_set_front(cs_archive *a, const int64_t *eval_ids, int64_t n);

/* Accuracy cache, keyed by (net hash, bit width, training budget hash, seed). */
td_status cs_archive_cache_get(cs_archive *a, uint64_t net_hash, int bits, uint64_t budget_hash,
                               uint64_t seed, bool *found, double *float_acc, double *int_acc);
td_status cs_archive_cache_put(cs_archive *a, uint64_t net_hash, int bits, uint64_t budget_hash,
                               uint64_t seed, double float_acc, double int_acc, double wall_s);

#endif
