/* A small blocking thread pool for the training kernels (nn_layers.c).
 *
 * Why not OpenMP: the kernels of small networks run for tens of microseconds each, hundreds
 * of times per step. libgomp's worker threads spin between parallel regions (the default
 * wait policy, which a program cannot change after start-up), so on a shared machine the
 * spinning thread takes a core from the thread doing the serial work: proxy trainings ran
 * 2-3x slower with 2 threads than with 1 (docs/benchmarks.md, "Proxy evaluation time").
 * These workers block on a condition variable instead.
 *
 * nn_parallel(threads, fn, ctx) calls fn(ctx, t, threads) once for every t in
 * [0, threads), t = 0 on the calling thread, and returns when all calls have returned. There
 * is no barrier inside a call: a kernel with phases makes one nn_parallel call per phase.
 * When the pool is busy (another host thread is inside nn_parallel) the calls run one after
 * another on the caller, with the same (t, threads) arguments, so results stay identical:
 * every kernel partitions work by (t, threads) only and reduces partial sums in t order. */
#ifndef NN_PARALLEL_H
#define NN_PARALLEL_H

#include <stdint.h>

typedef void (*nn_parallel_fn)(void *ctx, int t, int nt);

/* Most threads a call uses (more are clamped to this). */
#define NN_PARALLEL_MAX 64

void nn_parallel(int threads, nn_parallel_fn fn, void *ctx);

/* Static split of [0, n) for thread t of nt: contiguous, the first n % nt threads one more. */
void nn_parallel_range(int64_t n, int t, int nt, int64_t *lo, int64_t *hi);

#endif
