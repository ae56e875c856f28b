#include "cs_mpi.h"

#include "td_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool cs_mpi_launched(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 1)
            return true;
    }
    return false;
}

#ifdef TANDEM_HAVE_MPI

#include <mpi.h>

/* Message tags between the master (rank 0) and the workers. */
enum {
    CS_MPI_TAG_TASK = 1, /* master -> worker: u64 job index, task bytes */
    CS_MPI_TAG_RESULT,   /* worker -> master: cs_mpi_result_hdr, result bytes */
    CS_MPI_TAG_STOP      /* master -> worker: no body */
};

typedef struct cs_mpi_result_hdr {
    uint64_t job;
    uint32_t outcome;
    uint32_t pad;
    double wall_s;
    char reason[CS_REASON_MAX];
} cs_mpi_result_hdr;

static bool cs_mpi_started;

bool cs_mpi_available(void)
{
    return true;
}

td_status cs_mpi_init(int *argc, char ***argv)
{
    int inited = 0;
    MPI_Initialized(&inited);
    if (inited)
        return TD_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return td_fail(TD_ERR_IO, "MPI_Init failed");
    cs_mpi_started = true;
    return TD_OK;
}

void cs_mpi_finalize(void)
{
    int fin = 0;
    MPI_Finalized(&fin);
    if (cs_mpi_started && !fin)
        MPI_Finalize();
    cs_mpi_started = false;
}

int cs_mpi_rank(void)
{
    int inited = 0, r = 0;
    MPI_Initialized(&inited);
    if (inited)
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int cs_mpi_size(void)
{
    int inited = 0, n = 1;
    MPI_Initialized(&inited);
    if (inited)
        MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

static td_status cs_mpi_fail(int rc, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return td_fail(TD_ERR_IO, "MPI %s failed: %s", what, msg);
}

td_status cs_mpi_pool_serve(cs_pool *pool)
{
    /* each task runs in a one-process fork pool: crashes and timeouts cost that task */
    cs_pool sub;
    cs_pool_options so = {CS_POOL_FORK, 1, pool->opt.timeout_s};
    td_status st = cs_pool_init(&sub, &so, pool->fn, pool->ctx);
    if (st != TD_OK)
        return st;
    for (;;) {
        MPI_Status ms;
        int rc = MPI_Probe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &ms);
        if (rc != MPI_SUCCESS) {
            st = cs_mpi_fail(rc, "probe");
            break;
        }
        int count = 0;
        MPI_Get_count(&ms, MPI_BYTE, &count);
        char *buf = malloc(count > 0 ? (size_t)count : 1);
        if (!buf) {
            st = td_fail(TD_ERR_NOMEM, "MPI worker: cannot allocate %d bytes", count);
            break;
        }
        rc = MPI_Recv(buf, count, MPI_BYTE, 0, ms.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) {
            free(buf);
            st = cs_mpi_fail(rc, "receive");
            break;
        }
        if (ms.MPI_TAG == CS_MPI_TAG_STOP) {
            free(buf);
            break;
        }
        cs_mpi_result_hdr h;
        memset(&h, 0, sizeof h);
        memcpy(&h.job, buf, sizeof h.job);
        cs_pool_job job = {.task = buf + sizeof h.job, .task_len = (size_t)count - sizeof h.job};
        st = cs_pool_run(&sub, &job, 1);
        free(buf);
        if (st != TD_OK)
            break;
        h.outcome = (uint32_t)job.outcome;
        h.wall_s = job.wall_s;
        snprintf(h.reason, sizeof h.reason, "%s", job.reason);
        size_t len = sizeof h + job.result_len;
        char *out = malloc(len);
        if (!out) {
            cs_pool_job_clear(&job);
            st = td_fail(TD_ERR_NOMEM, "MPI worker: cannot allocate %zu bytes", len);
            break;
        }
        memcpy(out, &h, sizeof h);
        if (job.result_len)
            memcpy(out + sizeof h, job.result, job.result_len);
        cs_pool_job_clear(&job);
        rc = MPI_Send(out, (int)len, MPI_BYTE, 0, CS_MPI_TAG_RESULT, MPI_COMM_WORLD);
        free(out);
        if (rc != MPI_SUCCESS) {
            st = cs_mpi_fail(rc, "send");
            break;
        }
    }
    cs_pool_free(&sub);
    return st;
}

static td_status cs_mpi_send_task(cs_pool_job *jobs, size_t i, int rank)
{
    size_t len = sizeof(uint64_t) + jobs[i].task_len;
    char *buf = malloc(len);
    if (!buf)
        return td_fail(TD_ERR_NOMEM, "MPI master: cannot allocate %zu bytes", len);
    uint64_t idx = i;
    memcpy(buf, &idx, sizeof idx);
    memcpy(buf + sizeof idx, jobs[i].task, jobs[i].task_len);
    int rc = MPI_Send(buf, (int)len, MPI_BYTE, rank, CS_MPI_TAG_TASK, MPI_COMM_WORLD);
    free(buf);
    return rc == MPI_SUCCESS ? TD_OK : cs_mpi_fail(rc, "send");
}

td_status cs_mpi_pool_run(cs_pool *pool, cs_pool_job *jobs, size_t n, cs_pool_done_fn done_fn,
                          void *done_ctx)
{
    size_t next = 0, done = 0, sent = 0;
    td_status st = TD_OK;
    /* one task per worker to start; then the next task to whichever worker answers */
    for (int r = 1; r < pool->mpi_size && next < n && st == TD_OK; r++) {
        st = cs_mpi_send_task(jobs, next++, r);
        sent += st == TD_OK;
    }
    td_status stop = TD_OK; /* a done_fn error: receive what is out, hand out nothing more */
    while (done < sent && st == TD_OK) {
        MPI_Status ms;
        int rc = MPI_Probe(MPI_ANY_SOURCE, CS_MPI_TAG_RESULT, MPI_COMM_WORLD, &ms);
        if (rc != MPI_SUCCESS)
            return cs_mpi_fail(rc, "probe");
        int count = 0;
        MPI_Get_count(&ms, MPI_BYTE, &count);
        char *buf = malloc(count > 0 ? (size_t)count : 1);
        if (!buf)
            return td_fail(TD_ERR_NOMEM, "MPI master: cannot allocate %d bytes", count);
        rc = MPI_Recv(buf, count, MPI_BYTE, ms.MPI_SOURCE, CS_MPI_TAG_RESULT, MPI_COMM_WORLD,
                      MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS || (size_t)count < sizeof(cs_mpi_result_hdr)) {
            free(buf);
            return rc != MPI_SUCCESS ? cs_mpi_fail(rc, "receive")
                                     : td_fail(TD_ERR_FORMAT,
                                               "MPI master: short result "
                                               "message of %d bytes from rank %d",
                                               count, ms.MPI_SOURCE);
        }
        cs_mpi_result_hdr h;
        memcpy(&h, buf, sizeof h);
        if (h.job >= n || h.outcome >= CS_POOL_OUTCOME_COUNT) {
            free(buf);
            return td_fail(TD_ERR_FORMAT, "MPI master: rank %d answered job %llu of %zu",
                           ms.MPI_SOURCE, (unsigned long long)h.job, n);
        }
        done++;
        if (stop != TD_OK) {
            free(buf);
            continue;
        }
        cs_pool_job *j = &jobs[h.job];
        j->outcome = (cs_pool_outcome)h.outcome;
        j->wall_s = h.wall_s;
        h.reason[sizeof h.reason - 1] = '\0';
        snprintf(j->reason, sizeof j->reason, "%s", h.reason);
        j->result_len = (size_t)count - sizeof h;
        if (j->outcome == CS_POOL_OUTCOME_OK && j->result_len) {
            memmove(buf, buf + sizeof h, j->result_len);
            j->result = buf;
        } else {
            free(buf);
            j->result = NULL;
        }
        if (done_fn)
            stop = done_fn(done_ctx, (size_t)h.job, j);
        if (next < n && stop == TD_OK) {
            st = cs_mpi_send_task(jobs, next++, ms.MPI_SOURCE);
            sent += st == TD_OK;
        }
    }
    return st != TD_OK ? st : stop;
}

void cs_mpi_pool_stop(cs_pool *pool)
{
    for (int r = 1; r < pool->mpi_size; r++)
        MPI_Send(NULL, 0, MPI_BYTE, r, CS_MPI_TAG_STOP, MPI_COMM_WORLD);
}

#else /* built without MPI */

bool cs_mpi_available(void)
{
    return false;
}

td_status cs_mpi_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return td_fail(TD_ERR_NOT_BUILT, "this tandem was built without MPI support (cosearch not "
                                     "linked with OpenMPI)");
}

void cs_mpi_finalize(void) {}

int cs_mpi_rank(void)
{
    return 0;
}

int cs_mpi_size(void)
{
    return 1;
}

td_status cs_mpi_pool_serve(cs_pool *pool)
{
    (void)pool;
    return td_fail(TD_ERR_NOT_BUILT, "this tandem was built without MPI");
}

td_status cs_mpi_pool_run(cs_pool *pool, cs_pool_job *jobs, size_t n, cs_pool_done_fn done_fn,
                          void *done_ctx)
{
    (void)pool;
    (void)jobs;
    (void)n;
    (void)done_fn;
    (void)done_ctx;
    return td_fail(TD_ERR_NOT_BUILT, "this tandem was built without MPI");
}

void cs_mpi_pool_stop(cs_pool *pool)
{
    (void)pool;
}

#endif
