#define _GNU_SOURCE /* sigabbrev_np, strsignal */
#include "cs_pool.h"

#include "cs_mpi.h"
#include "td_log.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Result message header, worker -> master. */
typedef struct cs_pool_msg {
    uint32_t status; /* 0: result follows; 1: error message follows */
    uint32_t pad;
    uint64_t len;
} cs_pool_msg;

static const char *const cs_pool_kind_names[CS_POOL_KIND_COUNT] = {"inprocess", "fork", "mpi"};
static const char *const cs_pool_outcome_names[CS_POOL_OUTCOME_COUNT] = {"ok", "error", "crash",
                                                                         "timeout"};

const char *cs_pool_kind_name(cs_pool_kind k)
{
    return k >= 0 && k < CS_POOL_KIND_COUNT ? cs_pool_kind_names[k] : "?";
}

td_status cs_pool_kind_parse(const char *name, cs_pool_kind *out)
{
    for (int i = 0; i < CS_POOL_KIND_COUNT; i++)
        if (strcmp(name, cs_pool_kind_names[i]) == 0) {
            *out = (cs_pool_kind)i;
            return TD_OK;
        }
    return td_fail(TD_ERR_CONFIG, "unknown evaluator pool '%s' (inprocess, fork, mpi)", name);
}

const char *cs_pool_outcome_name(cs_pool_outcome o)
{
    return o >= 0 && o < CS_POOL_OUTCOME_COUNT ? cs_pool_outcome_names[o] : "?";
}

void cs_pool_job_clear(cs_pool_job *j)
{
    free(j->result);
    j->result = NULL;
    j->result_len = 0;
    j->outcome = CS_POOL_OUTCOME_OK;
    j->reason[0] = '\0';
    j->wall_s = 0.0;
}

void cs_pool_describe_status(int wstatus, char *buf, size_t len)
{
    if (WIFSIGNALED(wstatus)) {
        int sig = WTERMSIG(wstatus);
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev)
            snprintf(buf, len, "killed by signal SIG%s (%s)", abbrev, strsignal(sig));
        else
            snprintf(buf, len, "killed by signal %d", sig);
    } else if (WIFEXITED(wstatus)) {
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(wstatus));
    } else {
        snprintf(buf, len, "stopped (wait status 0x%x)", (unsigned)wstatus);
    }
}

static double cs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Whole-buffer read/write that retry on EINTR and short counts; false on EOF or error. */
static bool cs_read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        len -= (size_t)r;
    }
    return true;
}

static bool cs_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t r = write(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        len -= (size_t)r;
    }
    return true;
}

/* Runs the work function on one task, in this process. */
static void cs_pool_run_here(cs_pool *pool, cs_pool_job *j)
{
    double t0 = cs_now();
    void *res = NULL;
    size_t res_len = 0;
    td_error_clear();
    td_status st = pool->fn(pool->ctx, j->task, j->task_len, &res, &res_len);
    j->wall_s = cs_now() - t0;
    if (st != TD_OK) {
        free(res);
        j->outcome = CS_POOL_OUTCOME_ERROR;
        snprintf(j->reason, sizeof j->reason, "%s",
                 *td_error_message() ? td_error_message() : td_status_name(st));
        return;
    }
    j->outcome = CS_POOL_OUTCOME_OK;
    j->result = res;
    j->result_len = res_len;
}

/* ---- worker process ------------------------------------------------------------------- */

static void cs_worker_main(cs_pool *pool, int in_fd, int out_fd, pid_t parent)
{
    signal(SIGINT, SIG_IGN); /* Ctrl-C is the master's to handle; it then closes our pipe */
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    /* a crash is reported by its signal, whatever handlers the master installed */
    const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal(fatal[i], SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0);
    dup2(STDERR_FILENO, STDOUT_FILENO); /* stdout belongs to the master's --json result */
    for (;;) {
        uint64_t len;
        if (!cs_read_all(in_fd, &len, sizeof len))
            _exit(0); /* the master closed the pipe: done */
        void *task = malloc(len ? len : 1);
        if (!task || !cs_read_all(in_fd, task, len))
            _exit(3);
        void *res = NULL;
        size_t res_len = 0;
        td_error_clear();
        td_status st = pool->fn(pool->ctx, task, len, &res, &res_len);
        free(task);
        cs_pool_msg m = {0, 0, 0};
        const void *body = res;
        if (st != TD_OK) {
            free(res);
            res = NULL;
            body = *td_error_message() ? td_error_message() : td_status_name(st);
            m.status = 1;
            m.len = strlen(body);
        } else {
            m.len = res_len;
        }
        bool ok = cs_write_all(out_fd, &m, sizeof m) && cs_write_all(out_fd, body, m.len);
        free(res);
        if (!ok)
            _exit(0);
    }
}

static td_status cs_worker_start(cs_pool *pool, size_t k)
{
    int to[2], from[2];
    if (pipe(to) != 0)
        return td_fail(TD_ERR_IO, "evaluator pool: cannot make a pipe: %s", strerror(errno));
    if (pipe(from) != 0) {
        close(to[0]);
        close(to[1]);
        return td_fail(TD_ERR_IO, "evaluator pool: cannot make a pipe: %s", strerror(errno));
    }
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(to[0]);
        close(to[1]);
        close(from[0]);
        close(from[1]);
        return td_fail(TD_ERR_IO, "evaluator pool: cannot start worker %zu: %s", k,
                       strerror(errno));
    }
    if (pid == 0) {
        close(to[1]);
        close(from[0]);
        /* the master's ends of the other workers' pipes, so that their EOFs still work */
        for (size_t i = 0; i < pool->n_workers; i++) {
            if (i == k)
                continue;
            if (pool->workers[i].to_fd >= 0)
                close(pool->workers[i].to_fd);
            if (pool->workers[i].from_fd >= 0)
                close(pool->workers[i].from_fd);
        }
        cs_worker_main(pool, to[0], from[1], parent);
        _exit(0);
    }
    close(to[0]);
    close(from[1]);
    cs_pool_worker *w = &pool->workers[k];
    w->pid = pid;
    w->to_fd = to[1];
    w->from_fd = from[0];
    w->job = -1;
    return TD_OK;
}

/* Ends worker k (kill when asked, then reap); writes how it ended to why. */
static void cs_worker_stop(cs_pool *pool, size_t k, bool kill_it, char *why, size_t why_len)
{
    cs_pool_worker *w = &pool->workers[k];
    if (w->to_fd >= 0)
        close(w->to_fd);
    if (w->from_fd >= 0)
        close(w->from_fd);
    w->to_fd = w->from_fd = -1;
    if (w->pid > 0) {
        if (kill_it)
            kill(w->pid, SIGKILL);
        int ws = 0;
        pid_t r;
        do
            r = waitpid(w->pid, &ws, 0);
        while (r < 0 && errno == EINTR);
        if (why)
            cs_pool_describe_status(ws, why, why_len);
    }
    w->pid = 0;
    w->job = -1;
}

/* The worker on job j died or hung: record the outcome and start a fresh worker. */
static td_status cs_worker_lost(cs_pool *pool, size_t k, cs_pool_job *j, bool timeout)
{
    char why[CS_REASON_MAX - 32];
    double t0 = pool->workers[k].start;
    cs_worker_stop(pool, k, true, why, sizeof why);
    j->wall_s = cs_now() - t0;
    if (timeout) {
        j->outcome = CS_POOL_OUTCOME_TIMEOUT;
        snprintf(j->reason, sizeof j->reason, "timeout after %g s", pool->opt.timeout_s);
    } else {
        j->outcome = CS_POOL_OUTCOME_CRASH;
        snprintf(j->reason, sizeof j->reason, "worker %s", why);
    }
    td_log_warn("evaluator pool: task %s (%s); restarting worker %zu", j->reason,
                cs_pool_outcome_name(j->outcome), k);
    pool->restarts++;
    return cs_worker_start(pool, k);
}

static td_status cs_fork_run(cs_pool *pool, cs_pool_job *jobs, size_t n, cs_pool_done_fn done_fn,
                             void *done_ctx)
{
    size_t next = 0, done = 0, nw = pool->n_workers;
    struct pollfd *pfd = calloc(nw, sizeof *pfd);
    size_t *pk = calloc(nw, sizeof *pk);
    if (!pfd || !pk) {
        free(pfd);
        free(pk);
        return td_fail(TD_ERR_NOMEM, "evaluator pool: cannot allocate");
    }
    td_status st = TD_OK;
    while (done < n && st == TD_OK) {
        /* hand out */
        for (size_t k = 0; k < nw && next < n && st == TD_OK; k++) {
            cs_pool_worker *w = &pool->workers[k];
            if (w->job >= 0)
                continue;
            cs_pool_job *j = &jobs[next];
            w->job = (long)next++;
            w->start = cs_now();
            uint64_t len = j->task_len;
            if (!cs_write_all(w->to_fd, &len, sizeof len) ||
                !cs_write_all(w->to_fd, j->task, j->task_len)) {
                size_t ji = (size_t)w->job;
                st = cs_worker_lost(pool, k, j, false); /* died before its task */
                done++;
                if (st == TD_OK && done_fn)
                    st = done_fn(done_ctx, ji, j);
            }
        }
        if (st != TD_OK || done >= n)
            break;
        /* wait for a result or the nearest deadline */
        size_t np = 0;
        double now = cs_now(), wait_s = -1.0;
        for (size_t k = 0; k < nw; k++) {
            if (pool->workers[k].job < 0)
                continue;
            pfd[np].fd = pool->workers[k].from_fd;
            pfd[np].events = POLLIN;
            pfd[np].revents = 0;
            pk[np++] = k;
            if (pool->opt.timeout_s > 0.0) {
                double left = pool->workers[k].start + pool->opt.timeout_s - now;
                if (wait_s < 0.0 || left < wait_s)
                    wait_s = left > 0.0 ? left : 0.0;
            }
        }
        int timeout_ms = wait_s < 0.0 ? -1 : (int)ceil(wait_s * 1000.0);
        int r = poll(pfd, np, timeout_ms);
        if (r < 0 && errno != EINTR) {
            st = td_fail(TD_ERR_IO, "evaluator pool: poll failed: %s", strerror(errno));
            break;
        }
        for (size_t i = 0; i < np && r > 0 && st == TD_OK; i++) {
            if (!pfd[i].revents)
                continue;
            size_t k = pk[i];
            cs_pool_worker *w = &pool->workers[k];
            cs_pool_job *j = &jobs[w->job];
            cs_pool_msg m;
            void *body = NULL;
            bool ok = cs_read_all(w->from_fd, &m, sizeof m);
            if (ok) {
                body = malloc(m.len + 1);
                ok = body && cs_read_all(w->from_fd, body, m.len);
            }
            size_t ji = (size_t)w->job;
            if (!ok) {
                free(body);
                st = cs_worker_lost(pool, k, j, false);
                done++;
                if (st == TD_OK && done_fn)
                    st = done_fn(done_ctx, ji, j);
                continue;
            }
            j->wall_s = cs_now() - w->start;
            if (m.status == 0) {
                j->outcome = CS_POOL_OUTCOME_OK;
                j->result = body;
                j->result_len = m.len;
            } else {
                ((char *)body)[m.len] = '\0';
                j->outcome = CS_POOL_OUTCOME_ERROR;
                snprintf(j->reason, sizeof j->reason, "%s", (char *)body);
                free(body);
            }
            w->job = -1;
            done++;
            if (done_fn)
                st = done_fn(done_ctx, ji, j);
        }
        /* deadlines */
        if (pool->opt.timeout_s > 0.0) {
            now = cs_now();
            for (size_t k = 0; k < nw && st == TD_OK; k++) {
                cs_pool_worker *w = &pool->workers[k];
                if (w->job >= 0 && now - w->start >= pool->opt.timeout_s) {
                    size_t ji = (size_t)w->job;
                    st = cs_worker_lost(pool, k, &jobs[ji], true);
                    done++;
                    if (st == TD_OK && done_fn)
                        st = done_fn(done_ctx, ji, &jobs[ji]);
                }
            }
        }
    }
    /* stopped early: drop the tasks still running, with fresh workers for the next run */
    for (size_t k = 0; k < nw; k++) {
        if (pool->workers[k].job < 0)
            continue;
        cs_worker_stop(pool, k, true, NULL, 0);
        td_status rs = cs_worker_start(pool, k);
        if (st == TD_OK)
            st = rs;
    }
    free(pfd);
    free(pk);
    return st;
}

/* ---- pool ------------------------------------------------------------------------------ */

td_status cs_pool_init(cs_pool *pool, const cs_pool_options *opt, cs_pool_work_fn fn, void *ctx)
{
    memset(pool, 0, sizeof *pool);
    if (!fn)
        return td_fail(TD_ERR_CONFIG, "evaluator pool: no work function");
    if (opt->kind < 0 || opt->kind >= CS_POOL_KIND_COUNT)
        return td_fail(TD_ERR_CONFIG, "evaluator pool: unknown kind %d", (int)opt->kind);
    if (isnan(opt->timeout_s))
        return td_fail(TD_ERR_CONFIG, "evaluator pool: timeout is NaN");
    pool->opt = *opt;
    pool->fn = fn;
    pool->ctx = ctx;
    switch (opt->kind) {
    case CS_POOL_INPROCESS:
        return TD_OK;
    case CS_POOL_FORK: {
        if (opt->jobs < 1 || opt->jobs > 4096)
            return td_fail(TD_ERR_CONFIG, "evaluator pool: %zu workers, expected 1..4096",
                           opt->jobs);
        pool->workers = calloc(opt->jobs, sizeof(cs_pool_worker));
        struct sigaction *old = calloc(1, sizeof *old);
        if (!pool->workers || !old) {
            free(pool->workers);
            free(old);
            pool->workers = NULL;
            return td_fail(TD_ERR_NOMEM, "evaluator pool: cannot allocate %zu workers", opt->jobs);
        }
        struct sigaction ign;
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &ign, old); /* a dead worker's pipe gives EPIPE, not death */
        pool->old_sigpipe = old;
        pool->n_workers = opt->jobs;
        for (size_t k = 0; k < opt->jobs; k++) {
            pool->workers[k].to_fd = pool->workers[k].from_fd = -1;
            pool->workers[k].job = -1;
        }
        for (size_t k = 0; k < opt->jobs; k++) {
            td_status st = cs_worker_start(pool, k);
            if (st != TD_OK) {
                cs_pool_free(pool);
                return st;
            }
        }
        return TD_OK;
    }
    case CS_POOL_MPI: {
        if (!cs_mpi_available())
            return td_fail(TD_ERR_NOT_BUILT, "evaluator pool: this tandem was built without "
                                             "MPI support (cosearch not linked with OpenMPI)");
        pool->mpi_size = cs_mpi_size();
        if (pool->mpi_size < 2)
            return td_fail(TD_ERR_CONFIG,
                           "evaluator pool: MPI needs at least 2 ranks (master "
                           "and a worker), got %d; start with mpirun -np N",
                           pool->mpi_size);
        if (cs_mpi_rank() == 0)
            return TD_OK;
        td_status st = cs_mpi_pool_serve(pool);
        pool->mpi_worker_done = true;
        return st;
    }
    default:
        return TD_OK;
    }
}

bool cs_pool_is_mpi_worker(const cs_pool *pool)
{
    return pool->mpi_worker_done;
}

td_status cs_pool_run(cs_pool *pool, cs_pool_job *jobs, size_t n)
{
    return cs_pool_run_each(pool, jobs, n, NULL, NULL);
}

td_status cs_pool_run_each(cs_pool *pool, cs_pool_job *jobs, size_t n, cs_pool_done_fn done,
                           void *done_ctx)
{
    for (size_t i = 0; i < n; i++) {
        jobs[i].result = NULL;
        jobs[i].result_len = 0;
        jobs[i].outcome = CS_POOL_OUTCOME_OK;
        jobs[i].reason[0] = '\0';
        jobs[i].wall_s = 0.0;
    }
    if (n == 0)
        return TD_OK;
    switch (pool->opt.kind) {
    case CS_POOL_INPROCESS:
        for (size_t i = 0; i < n; i++) {
            cs_pool_run_here(pool, &jobs[i]);
            td_status st = done ? done(done_ctx, i, &jobs[i]) : TD_OK;
            if (st != TD_OK)
                return st;
        }
        return TD_OK;
    case CS_POOL_FORK:
        return cs_fork_run(pool, jobs, n, done, done_ctx);
    case CS_POOL_MPI:
        if (pool->mpi_worker_done)
            return td_fail(TD_ERR_INTERNAL, "evaluator pool: run called on an MPI worker rank");
        return cs_mpi_pool_run(pool, jobs, n, done, done_ctx);
    default:
        return td_fail(TD_ERR_INTERNAL, "evaluator pool: unknown kind");
    }
}

void cs_pool_free(cs_pool *pool)
{
    if (pool->opt.kind == CS_POOL_FORK && pool->workers) {
        for (size_t k = 0; k < pool->n_workers; k++)
            cs_worker_stop(pool, k, false, NULL, 0); /* EOF: the worker exits */
        free(pool->workers);
    }
    if (pool->old_sigpipe) {
        sigaction(SIGPIPE, pool->old_sigpipe, NULL);
        free(pool->old_sigpipe);
    }
    if (pool->opt.kind == CS_POOL_MPI && !pool->mpi_worker_done && pool->mpi_size > 1)
        cs_mpi_pool_stop(pool);
    memset(pool, 0, sizeof *pool);
}

/* ---- the optimizer on a pool ------------------------------------------------------------ */

td_status cs_problem_pool_work(void *ctx, const void *task, size_t task_len, void **result,
                               size_t *result_len)
{
    const cs_problem *p = ctx;
    uint64_t hdr[2];
    if (task_len < sizeof hdr)
        return td_fail(TD_ERR_FORMAT, "%s: task of %zu bytes is too short", p->name, task_len);
    memcpy(hdr, task, sizeof hdr);
    if (hdr[1] != p->n_genes || task_len != sizeof hdr + p->n_genes * sizeof(double))
        return td_fail(TD_ERR_FORMAT, "%s: task has %llu genes in %zu bytes, expected %zu genes",
                       p->name, (unsigned long long)hdr[1], task_len, p->n_genes);
    double genes[p->n_genes];
    memcpy(genes, (const char *)task + sizeof hdr, sizeof genes);
    size_t nres = p->n_obj + p->n_con;
    double *res = calloc(nres ? nres : 1, sizeof(double));
    if (!res)
        return td_fail(TD_ERR_NOMEM, "%s: cannot allocate a result", p->name);
    td_status st = p->evaluate(p->ctx, genes, hdr[0], res, res + p->n_obj);
    if (st != TD_OK) {
        free(res);
        return st;
    }
    *result = res;
    *result_len = nres * sizeof(double);
    return TD_OK;
}

/* Per-job completion inside cs_pool_evaluate_batch: fills the candidate, passes it on. */
typedef struct cs_pool_batch {
    const cs_problem *p;
    cs_candidate **cands;
    cs_eval_done_fn done;
    void *done_ctx;
} cs_pool_batch;

static td_status cs_pool_batch_done(void *ctx, size_t i, cs_pool_job *job)
{
    cs_pool_batch *b = ctx;
    const cs_problem *p = b->p;
    cs_candidate *c = b->cands[i];
    size_t want = (p->n_obj + p->n_con) * sizeof(double);
    if (job->outcome != CS_POOL_OUTCOME_OK) {
        cs_candidate_set_failed(c, p, job->reason);
    } else if (job->result_len != want) {
        char why[96];
        snprintf(why, sizeof why, "result of %zu bytes, expected %zu", job->result_len, want);
        cs_candidate_set_failed(c, p, why);
    } else {
        const double *r = job->result;
        memcpy(c->obj, r, p->n_obj * sizeof(double));
        if (p->n_con)
            memcpy(c->viol, r + p->n_obj, p->n_con * sizeof(double));
        c->failed = false;
    }
    cs_pool_job_clear(job);
    return b->done ? b->done(b->done_ctx, p, c) : TD_OK;
}

td_status cs_pool_evaluate_batch(void *ctx, const cs_problem *p, cs_candidate **cands, size_t n,
                                 cs_eval_done_fn done, void *done_ctx)
{
    cs_pool *pool = ctx;
    size_t tlen = 2 * sizeof(uint64_t) + p->n_genes * sizeof(double);
    char *tasks = malloc(n * tlen + 1);
    cs_pool_job *jobs = calloc(n ? n : 1, sizeof *jobs);
    if (!tasks || !jobs) {
        free(tasks);
        free(jobs);
        return td_fail(TD_ERR_NOMEM, "evaluator pool: cannot allocate a batch of %zu", n);
    }
    for (size_t i = 0; i < n; i++) {
        char *t = tasks + i * tlen;
        uint64_t hdr[2] = {cands[i]->seed, p->n_genes};
        memcpy(t, hdr, sizeof hdr);
        memcpy(t + sizeof hdr, cands[i]->genes, p->n_genes * sizeof(double));
        jobs[i].task = t;
        jobs[i].task_len = tlen;
    }
    cs_pool_batch b = {p, cands, done, done_ctx};
    td_status st = cs_pool_run_each(pool, jobs, n, cs_pool_batch_done, &b);
    for (size_t i = 0; i < n; i++)
        cs_pool_job_clear(&jobs[i]);
    free(jobs);
    free(tasks);
    return st;
}
