/* CPU emulation of the CUDA runtime and cuBLAS slice used by the CUDA backend; see
 * cuda_runtime.h. Test code only. */
#include "cublas_v2.h"
#include "cuda_runtime.h"

#include <cblas.h>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <ucontext.h>

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

/* The emulated device has this much memory (what cudaMemGetInfo reports as total). */
#define EMU_DEVICE_BYTES ((size_t)16 << 30)
#define EMU_MAX_THREADS 1024
#define EMU_STACK_BYTES (64 * 1024)

static cudaError_t last_error = cudaSuccess;

static cudaError_t emu_err(cudaError_t e)
{
    if (e != cudaSuccess)
        last_error = e;
    return e;
}

/* ---------------------------------------------------------------- kernels */

/* Fibers start with makecontext/swapcontext (one system call each, for the signal mask) and
 * then switch with GCC's __builtin_setjmp/__builtin_longjmp, which save only what a call
 * boundary needs and make no system call: a barrier costs two jumps per thread. */
static ucontext_t sched_ctx;
static ucontext_t fib_ctx[EMU_MAX_THREADS];
static void *fib_jmp[EMU_MAX_THREADS][5];
static void *sched_jmp[5];
static bool fib_done[EMU_MAX_THREADS], fib_started[EMU_MAX_THREADS];
static char *fib_stacks;
static unsigned fib_cur;
static bool fiber_mode;
static const std::function<void()> *body_now;
static jmp_buf direct_abort;
static std::set<const void *> syncing_kernels;
static double shfl_slots[EMU_MAX_THREADS];

void *emu_shfl_slots(void)
{
    return shfl_slots;
}

void __syncthreads(void)
{
    if (!fiber_mode)
        longjmp(direct_abort, 1); /* first barrier of a kernel run as plain calls */
    if (__builtin_setjmp(fib_jmp[fib_cur]) == 0)
        __builtin_longjmp(sched_jmp, 1);
}

static void fib_main(void)
{
    (*body_now)();
    fib_done[fib_cur] = true;
    __builtin_longjmp(sched_jmp, 1); /* never returns through uc_link */
}

/* Switches to fiber t until it reaches a barrier or ends. Not inlined: __builtin_setjmp
 * needs its own frame. */
static void __attribute__((noinline)) fib_resume(unsigned t)
{
    if (__builtin_setjmp(sched_jmp) == 0) {
        if (!fib_started[t]) {
            fib_started[t] = true;
            swapcontext(&sched_ctx, &fib_ctx[t]);
        } else {
            __builtin_longjmp(fib_jmp[t], 1);
        }
    }
}

/* One fiber per thread; a round runs each live fiber up to its next barrier or its end,
 * which is __syncthreads's semantics (threads that returned count as arrived). */
static void run_block_fibers(unsigned nt)
{
    if (!fib_stacks)
        fib_stacks = (char *)malloc((size_t)EMU_MAX_THREADS * EMU_STACK_BYTES);
    if (!fib_stacks)
        abort();
    for (unsigned t = 0; t < nt; t++) {
        getcontext(&fib_ctx[t]);
        fib_ctx[t].uc_stack.ss_sp = fib_stacks + (size_t)t * EMU_STACK_BYTES;
        fib_ctx[t].uc_stack.ss_size = EMU_STACK_BYTES;
        fib_ctx[t].uc_link = &sched_ctx;
        makecontext(&fib_ctx[t], fib_main, 0);
        fib_done[t] = false;
        fib_started[t] = false;
    }
    fiber_mode = true;
    for (bool live = true; live;) {
        live = false;
        for (unsigned t = 0; t < nt; t++) {
            if (fib_done[t])
                continue;
            fib_cur = t;
            threadIdx = {t, 0, 0};
            fib_resume(t);
            if (!fib_done[t])
                live = true;
        }
    }
    fiber_mode = false;
}

/* Runs the block's threads as plain calls; false when one reached a barrier. Only globals
 * live across the setjmp. */
static bool run_block_direct(void)
{
    threadIdx = {0, 0, 0};
    if (setjmp(direct_abort) != 0)
        return false;
    while (threadIdx.x < blockDim.x) {
        (*body_now)();
        threadIdx.x++;
    }
    return true;
}

/* Launches from several host threads (one stream each) run one at a time: the kernel-side
 * state above (indices, fibers, static "shared" memory) is global. */
static std::mutex launch_mutex;

void emu_launch(const void *kernel, dim3 grid, dim3 block, const std::function<void()> &body)
{
    std::lock_guard<std::mutex> lock(launch_mutex);
    if (block.x == 0 || block.x > EMU_MAX_THREADS || block.y != 1 || block.z != 1 || grid.x == 0 ||
        grid.y == 0 || grid.z == 0 || grid.y > 65535 || grid.z > 65535) {
        emu_err(cudaErrorInvalidValue);
        return;
    }
    gridDim = grid;
    blockDim = block;
    body_now = &body;
    bool sync = syncing_kernels.count(kernel) > 0;
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                blockIdx = {x, y, z};
                if (!sync) {
                    if (run_block_direct())
                        continue;
                    /* it synchronizes: before its first barrier a kernel only wrote shared
                     * memory, so the block reruns from the start with fibers */
                    syncing_kernels.insert(kernel);
                    sync = true;
                }
                run_block_fibers(block.x);
            }
}

/* ---------------------------------------------------------------- runtime */

cudaError_t cudaGetDeviceCount(int *count)
{
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int dev)
{
    (void)dev;
    memset(prop, 0, sizeof *prop);
    snprintf(prop->name, sizeof prop->name, "CPU emulation of a CUDA device (tests only)");
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes)
{
    *free_bytes = EMU_DEVICE_BYTES / 2;
    *total_bytes = EMU_DEVICE_BYTES;
    return cudaSuccess;
}

cudaError_t cudaGetLastError(void)
{
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}

const char *cudaGetErrorName(cudaError_t e)
{
    switch (e) {
    case cudaSuccess:
        return "cudaSuccess";
    case cudaErrorInvalidValue:
        return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
        return "cudaErrorMemoryAllocation";
    default:
        return "cudaErrorUnknown";
    }
}

const char *cudaGetErrorString(cudaError_t e)
{
    switch (e) {
    case cudaSuccess:
        return "no error";
    case cudaErrorInvalidValue:
        return "invalid argument";
    case cudaErrorMemoryAllocation:
        return "out of memory";
    default:
        return "unknown error";
    }
}

cudaError_t cudaMalloc(void **p, size_t bytes)
{
    *p = bytes > EMU_DEVICE_BYTES ? NULL : malloc(bytes ? bytes : 1);
    return *p ? cudaSuccess : emu_err(cudaErrorMemoryAllocation);
}

cudaError_t cudaFree(void *p)
{
    free(p);
    return cudaSuccess;
}

cudaError_t cudaHostAlloc(void **p, size_t bytes, unsigned flags)
{
    (void)flags;
    return cudaMalloc(p, bytes);
}

cudaError_t cudaFreeHost(void *p)
{
    return cudaFree(p);
}

cudaError_t cudaMemset(void *p, int v, size_t bytes)
{
    memset(p, v, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *p, int v, size_t bytes, cudaStream_t s)
{
    (void)s;
    return cudaMemset(p, v, bytes);
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t s)
{
    (void)kind;
    (void)s;
    memmove(dst, src, bytes);
    return cudaSuccess;
}

struct emu_stream {
    int unused;
};
struct emu_event {
    int unused;
};

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags)
{
    (void)flags;
    *s = new emu_stream();
    return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s)
{
    delete s;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s)
{
    (void)s;
    return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned flags)
{
    (void)flags;
    *e = new emu_event();
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e)
{
    delete e;
    return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s)
{
    (void)e;
    (void)s;
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e)
{
    (void)e;
    return cudaSuccess;
}

/* ---------------------------------------------------------------- cuBLAS */

struct emu_blas {
    int unused;
};

cublasStatus_t cublasCreate(cublasHandle_t *h)
{
    *h = new emu_blas();
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t h)
{
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s)
{
    (void)h;
    (void)s;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t m)
{
    (void)h;
    (void)m;
    return CUBLAS_STATUS_SUCCESS;
}

static int imax1(int a)
{
    return a > 1 ? a : 1;
}

/* cuBLAS's documented argument checks (column-major). */
static bool gemm_args_ok(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, int lda,
                         int ldb, int ldc)
{
    if (m < 0 || n < 0 || k < 0)
        return false;
    if (lda < imax1(ta == CUBLAS_OP_N ? m : k))
        return false;
    if (ldb < imax1(tb == CUBLAS_OP_N ? k : n))
        return false;
    return ldc >= imax1(m);
}

cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                           int n, int k, const float *alpha, const float *A, int lda,
                           const float *B, int ldb, const float *beta, float *C, int ldc)
{
    return cublasSgemmStridedBatched(h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc,
                                     0, 1);
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta,
                                         cublasOperation_t tb, int m, int n, int k,
                                         const float *alpha, const float *A, int lda, long long sA,
                                         const float *B, int ldb, long long sB, const float *beta,
                                         float *C, int ldc, long long sC, int batch)
{
    (void)h;
    if (!gemm_args_ok(ta, tb, m, n, k, lda, ldb, ldc) || batch < 0)
        return CUBLAS_STATUS_INVALID_VALUE;
    if (m == 0 || n == 0)
        return CUBLAS_STATUS_SUCCESS;
    for (int i = 0; i < batch; i++) {
        float *Ci = C + i * sC;
        if (*beta == 0.0f) /* cuBLAS does not read C when beta is 0 */
            for (int j = 0; j < n; j++)
                memset(Ci + (size_t)j * ldc, 0, (size_t)m * sizeof(float));
        cblas_sgemm(CblasColMajor, ta == CUBLAS_OP_N ? CblasNoTrans : CblasTrans,
                    tb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans, m, n, k, *alpha, A + i * sA, lda,
                    B + i * sB, ldb, *beta, Ci, ldc);
    }
    return CUBLAS_STATUS_SUCCESS;
}
