#include "nn_parallel.h"

#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    pthread_mutex_t busy; /* one caller at a time */
    int workers;          /* started worker threads (indices 1..workers) */
    pid_t pid;            /* process that started them (a forked child has none) */
    unsigned long gen;    /* incremented per call */
    int pending;          /* workers of the current call still running */
    nn_parallel_fn fn;
    void *ctx;
    int nt;
} pool = {PTHREAD_MUTEX_INITIALIZER,
          PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER,
          PTHREAD_MUTEX_INITIALIZER,
          0,
          0,
          0,
          0,
          NULL,
          NULL,
          0};

void nn_parallel_range(int64_t n, int t, int nt, int64_t *lo, int64_t *hi)
{
    int64_t q = n / nt, r = n % nt;
    *lo = (int64_t)t * q + (t < r ? t : r);
    *hi = *lo + q + (t < r ? 1 : 0);
}

/* pool.gen when worker i was started */
static unsigned long start_gen[NN_PARALLEL_MAX];

static void *worker_main(void *arg)
{
    int me = (int)(intptr_t)arg;
    pthread_mutex_lock(&pool.mu);
    unsigned long seen = start_gen[me]; /* not pool.gen: a call may have started already */
    for (;;) {
        while (pool.gen == seen)
            pthread_cond_wait(&pool.work, &pool.mu);
        seen = pool.gen;
        if (me >= pool.nt)
            continue; /* not part of this call */
        nn_parallel_fn fn = pool.fn;
        void *ctx = pool.ctx;
        int nt = pool.nt;
        pthread_mutex_unlock(&pool.mu);
        fn(ctx, me, nt);
        pthread_mutex_lock(&pool.mu);
        if (--pool.pending == 0)
            pthread_cond_signal(&pool.done);
    }
    return NULL;
}

/* Starts workers up to index nt - 1 (called with pool.busy held). false: could not. */
static bool ensure_workers(int nt)
{
    pid_t me = getpid();
    if (pool.pid != me) { /* first use, or a forked child: the parent's threads are gone */
        pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
        pthread_cond_t c = PTHREAD_COND_INITIALIZER;
        pool.mu = m;
        pool.work = c;
        pool.done = c;
        pool.workers = 0;
        pool.gen = 0;
        pool.pid = me;
    }
    while (pool.workers < nt - 1) {
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_mutex_lock(&pool.mu);
        start_gen[pool.workers + 1] = pool.gen;
        int rc = pthread_create(&th, &at, worker_main, (void *)(intptr_t)(pool.workers + 1));
        if (rc == 0)
            pool.workers++;
        pthread_mutex_unlock(&pool.mu);
        pthread_attr_destroy(&at);
        if (rc != 0)
            return false;
    }
    return true;
}

void nn_parallel(int threads, nn_parallel_fn fn, void *ctx)
{
    int nt = threads < 1 ? 1 : threads > NN_PARALLEL_MAX ? NN_PARALLEL_MAX : threads;
    if (nt == 1) {
        fn(ctx, 0, 1);
        return;
    }
    bool own = pthread_mutex_trylock(&pool.busy) == 0;
    if (!own || !ensure_workers(nt)) {
        if (own)
            pthread_mutex_unlock(&pool.busy);
        for (int t = 0; t < nt; t++) /* busy (or no threads): the same partition here */
            fn(ctx, t, nt);
        return;
    }
    pthread_mutex_lock(&pool.mu);
    pool.fn = fn;
    pool.ctx = ctx;
    pool.nt = nt;
    pool.pending = nt - 1;
    pool.gen++;
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.mu);
    fn(ctx, 0, nt);
    pthread_mutex_lock(&pool.mu);
    while (pool.pending > 0)
        pthread_cond_wait(&pool.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
    pthread_mutex_unlock(&pool.busy);
}
