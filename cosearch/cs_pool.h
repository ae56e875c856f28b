/* Evaluator pool: the master hands out tasks (opaque byte blobs) to workers and gets back
 * one result blob per task. Three kinds behind one interface:
 *   CS_POOL_INPROCESS  the work function runs in this process, one task at a time (-j 1);
 *                      no protection: a crash ends the process, a hang hangs it.
 *   CS_POOL_FORK       N worker processes made by fork(), talking over pipes (-j N); a
 *                      worker that crashes or runs past the per-task timeout costs that
 *                      task only (outcome CRASH / TIMEOUT with its reason) and is restarted.
 *   CS_POOL_MPI        rank 0 is the master, every other rank a worker; tasks go to workers
 *                      as they free up. Each worker rank runs its tasks in a one-process
 *                      fork pool of its own, so crashes and timeouts are handled the same way.
 * Results are stored by task index, never by completion order. See docs/search.md. */
#ifndef CS_POOL_H
#define CS_POOL_H

#include "cs_nsga2.h"
#include "td_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum cs_pool_kind {
    CS_POOL_INPROCESS = 0,
    CS_POOL_FORK,
    CS_POOL_MPI,
    CS_POOL_KIND_COUNT
} cs_pool_kind;

/* "inprocess", "fork", "mpi"; parse returns TD_ERR_CONFIG naming the bad value. */
const char *cs_pool_kind_name(cs_pool_kind k);
td_status cs_pool_kind_parse(const char *name, cs_pool_kind *out);

/* The work function, run by the workers (in the worker process for FORK and MPI, so any
 * state it needs must be set up before cs_pool_init on every rank). It sets *result to a
 * malloc'd blob (the pool frees it; NULL with length 0 is allowed). An error status makes
 * the task's outcome CS_POOL_OUTCOME_ERROR with td_error_message() as its reason. */
typedef td_status (*cs_pool_work_fn)(void *ctx, const void *task, size_t task_len, void **result,
                                     size_t *result_len);

typedef enum cs_pool_outcome {
    CS_POOL_OUTCOME_OK = 0,
    CS_POOL_OUTCOME_ERROR,   /* the work function returned an error */
    CS_POOL_OUTCOME_CRASH,   /* the worker died (signal or exit) while on this task */
    CS_POOL_OUTCOME_TIMEOUT, /* the task ran past the timeout; the worker was killed */
    CS_POOL_OUTCOME_COUNT
} cs_pool_outcome;

const char *cs_pool_outcome_name(cs_pool_outcome o); /* "ok", "error", "crash", "timeout" */

/* One task and, after cs_pool_run, its outcome. result is malloc'd (cs_pool_job_clear). */
typedef struct cs_pool_job {
    const void *task;
    size_t task_len;
    cs_pool_outcome outcome;
    void *result;
    size_t result_len;
    char reason[CS_REASON_MAX]; /* "killed by signal SIGSEGV (Segmentation fault)",
                                   "timeout after 2 s", the work function's message */
    double wall_s;              /* seconds from hand-out to result, as the master saw it */
} cs_pool_job;

void cs_pool_job_clear(cs_pool_job *j);

typedef struct cs_pool_options {
    cs_pool_kind kind;
    size_t jobs;      /* FORK: worker processes (>= 1); others: ignored */
    double timeout_s; /* per task, FORK and MPI; <= 0: none */
} cs_pool_options;

typedef struct cs_pool_worker {
    pid_t pid;
    int to_fd;    /* master -> worker: tasks */
    int from_fd;  /* worker -> master: results */
    long job;     /* task index it is on, -1 when idle */
    double start; /* monotonic seconds at hand-out */
} cs_pool_worker;

typedef struct cs_pool {
    cs_pool_options opt;
    cs_pool_work_fn fn;
    void *ctx;
    cs_pool_worker *workers; /* FORK */
    size_t n_workers;
    int mpi_size;         /* MPI: ranks, master included */
    bool mpi_worker_done; /* MPI: this rank was a worker and the master has finished */
    int64_t restarts;     /* FORK: workers restarted after a crash or timeout */
    void *old_sigpipe;    /* FORK: the SIGPIPE disposition before init */
} cs_pool;

/* FORK: forks the workers now (do it before this process starts threads, e.g. OpenMP or
 * OpenBLAS, since a forked child inherits none of them). MPI: needs cs_mpi_init first; on
 * ranks other than 0 it serves tasks until the master calls cs_pool_free, then returns
 * TD_OK with cs_pool_is_mpi_worker() true: that rank should then free the pool, call
 * cs_mpi_finalize and exit. */
td_status cs_pool_init(cs_pool *pool, const cs_pool_options *opt, cs_pool_work_fn fn, void *ctx);
bool cs_pool_is_mpi_worker(const cs_pool *pool);
/* Runs jobs[0..n) and fills their outcomes; the status is not OK only when the pool
 * itself fails (a pipe cannot be made, a worker cannot be restarted, MPI fails). */
td_status cs_pool_run(cs_pool *pool, cs_pool_job *jobs, size_t n);

/* Called with each job's index as soon as its outcome is in (completion order). A non-OK
 * status stops the run: no further job is handed out, the jobs still running are dropped
 * (FORK: their workers are restarted; MPI: their results are received and discarded) and
 * cs_pool_run_each returns that status. */
typedef td_status (*cs_pool_done_fn)(void *ctx, size_t index, cs_pool_job *job);
td_status cs_pool_run_each(cs_pool *pool, cs_pool_job *jobs, size_t n, cs_pool_done_fn done,
                           void *done_ctx);
/* Stops the workers (MPI: tells every worker rank to return from cs_pool_init). */
void cs_pool_free(cs_pool *pool);

/* "killed by signal SIGSEGV (Segmentation fault)" / "exited with status 3" for a waitpid
 * status. */
void cs_pool_describe_status(int wstatus, char *buf, size_t len);

/* ---- the optimizer on a pool ---------------------------------------------------------- */

/* The work function that evaluates one candidate of a cs_problem (ctx: the cs_problem).
 * Task blob: seed (u64), n_genes (u64), the genes (doubles). Result blob: n_obj + n_con
 * doubles. Use it as the pool's work function and cs_pool_evaluate_batch as the search's
 * evaluator, and the search runs on the pool. */
td_status cs_problem_pool_work(void *ctx, const void *task, size_t task_len, void **result,
                               size_t *result_len);
/* cs_evaluator.evaluate_batch over a pool (ctx: the cs_pool whose work function is
 * cs_problem_pool_work for the same problem). A task that is not OK marks its candidate
 * failed with the reason; each candidate goes to done as soon as its task finishes. */
td_status cs_pool_evaluate_batch(void *ctx, const cs_problem *p, cs_candidate **cands, size_t n,
                                 cs_eval_done_fn done, void *done_ctx);

#endif
