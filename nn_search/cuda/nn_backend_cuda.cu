/* CUDA implementation of the training backend table (nn_train.h); design in
 * nn_backend_cuda.h and docs/cuda.md. One translation unit on purpose: nvcc is slow. */
#include "nn_backend_cuda.h"

extern "C" {
#include "td_log.h"
}

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ constants */

/* Threads per block of the elementwise and reduction kernels (a multiple of the warp). */
#define CU_BLOCK 256
/* Grid-stride loops cap the grid at this many blocks (enough to fill any current GPU). */
#define CU_MAX_BLOCKS 65535
/* First device arena block; later blocks double the arena (few cudaMallocs per network). */
#define CU_ARENA_FIRST_BYTES ((size_t)64 << 20)
/* Device allocations are aligned to 256 bytes (cudaMalloc's own alignment). */
#define CU_ALIGN 256
/* Default im2col workspace limit per thread. */
#define CU_WORK_LIMIT_DEFAULT ((size_t)256 << 20)
/* Uploads above this size bypass the pinned staging buffers (copied synchronously). */
#define CU_STAGE_MAX_BYTES ((size_t)64 << 20)
/* Batch-norm reductions split each channel into at most this many partial blocks. */
#define CU_BN_PARTS 32

/* ------------------------------------------------------------------ thread context */

typedef struct cu_ctx {
    bool ready;
    cudaStream_t stream;
    cublasHandle_t blas;
    float *work; /* im2col / transposes */
    size_t work_bytes;
    double *red; /* reduction partials and per-channel coefficients */
    size_t red_bytes;
    float *stage[2]; /* pinned upload staging, double-buffered */
    size_t stage_bytes[2];
    cudaEvent_t stage_done[2];
    int stage_next;
    void *rows_dev;  /* softmax per-row results (device) */
    void *rows_host; /* and their pinned host copy */
    size_t rows_bytes;
    int32_t *meta_host; /* batch-fill descriptors (host, grown) and their device copy */
    size_t meta_host_bytes;
    void *meta_dev;
    size_t meta_dev_bytes;
    td_status err; /* first failure of this thread, TD_OK when none */
    char msg[512];
} cu_ctx;

static pthread_key_t cu_key;
static pthread_once_t cu_key_once = PTHREAD_ONCE_INIT;
static size_t cu_work_limit = CU_WORK_LIMIT_DEFAULT;

static void cu_fail(cu_ctx *c, td_status s, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void cu_fail(cu_ctx *c, td_status s, const char *file, int line, const char *fmt, ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (c->err == TD_OK) {
        c->err = s;
        snprintf(c->msg, sizeof c->msg, "CUDA backend: %s:%d: %s", file, line, text);
        td_log_error("%s", c->msg);
    }
    td_fail(c->err, "%s", c->msg);
}

static td_status cu_status_of(cudaError_t e)
{
    switch (e) {
    case cudaErrorMemoryAllocation:
        return TD_ERR_NOMEM;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorInvalidDevice:
        return TD_ERR_UNSUPPORTED;
    default:
        return TD_ERR_INTERNAL;
    }
}

static bool cu_check(cu_ctx *c, cudaError_t e, const char *what, const char *file, int line)
{
    if (e == cudaSuccess)
        return true;
    cu_fail(c, cu_status_of(e), file, line, "%s: %s (%s)", what, cudaGetErrorString(e),
            cudaGetErrorName(e));
    return false;
}

static const char *cublas_name(cublasStatus_t s)
{
    switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED:
        return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
        return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
        return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
        return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
        return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
        return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
        return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
        return "CUBLAS_STATUS_NOT_SUPPORTED";
    default:
        return "cuBLAS error";
    }
}

static bool cublas_check(cu_ctx *c, cublasStatus_t s, const char *what, const char *file, int line)
{
    if (s == CUBLAS_STATUS_SUCCESS)
        return true;
    cu_fail(c, s == CUBLAS_STATUS_ALLOC_FAILED ? TD_ERR_NOMEM : TD_ERR_INTERNAL, file, line,
            "%s: %s (%d)", what, cublas_name(s), (int)s);
    return false;
}

#define CUDA_CHECK(c, call) cu_check((c), (call), #call, __FILE__, __LINE__)
#define CUBLAS_CHECK(c, call) cublas_check((c), (call), #call, __FILE__, __LINE__)
/* After a kernel launch: configuration errors show at once, faults at the next sync. */
#define LAUNCH_CHECK(c) cu_check((c), cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

static void cu_ctx_destroy(void *p)
{
    cu_ctx *c = (cu_ctx *)p;
    if (c->ready) {
        cudaStreamSynchronize(c->stream);
        cudaFree(c->work);
        cudaFree(c->red);
        cudaFree(c->rows_dev);
        cudaFreeHost(c->rows_host);
        cudaFree(c->meta_dev);
        for (int i = 0; i < 2; i++) {
            cudaFreeHost(c->stage[i]);
            cudaEventDestroy(c->stage_done[i]);
        }
        cublasDestroy(c->blas);
        cudaStreamDestroy(c->stream);
    }
    free(c->meta_host);
    free(c);
}

static void cu_key_make(void)
{
    pthread_key_create(&cu_key, cu_ctx_destroy);
}

/* The calling thread's context, created on first use; never NULL (a failed creation is
 * recorded in err). */
static cu_ctx *cu_get(void)
{
    static cu_ctx oom; /* returned when the context itself cannot be allocated */
    pthread_once(&cu_key_once, cu_key_make);
    cu_ctx *c = (cu_ctx *)pthread_getspecific(cu_key);
    if (c)
        return c;
    c = (cu_ctx *)calloc(1, sizeof *c);
    if (!c) {
        oom.err = TD_ERR_NOMEM;
        snprintf(oom.msg, sizeof oom.msg, "CUDA backend: out of host memory");
        td_fail(oom.err, "%s", oom.msg);
        return &oom;
    }
    pthread_setspecific(cu_key, c);
    if (!CUDA_CHECK(c, cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking)))
        return c;
    if (!CUBLAS_CHECK(c, cublasCreate(&c->blas))) {
        cudaStreamDestroy(c->stream);
        return c;
    }
    c->ready = true;
    CUBLAS_CHECK(c, cublasSetStream(c->blas, c->stream));
    const char *tf32 = getenv("TANDEM_CUDA_TF32");
    bool use_tf32 = tf32 && tf32[0] == '1';
    CUBLAS_CHECK(
        c, cublasSetMathMode(c->blas, use_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    for (int i = 0; i < 2; i++)
        CUDA_CHECK(c, cudaEventCreateWithFlags(&c->stage_done[i], cudaEventDisableTiming));
    return c;
}

/* Grows a device scratch buffer to at least bytes (waits for queued work that may use it). */
static void *cu_scratch(cu_ctx *c, void **buf, size_t *have, size_t bytes)
{
    if (bytes <= *have)
        return *buf;
    if (!CUDA_CHECK(c, cudaStreamSynchronize(c->stream)))
        return NULL;
    cudaFree(*buf);
    *buf = NULL;
    *have = 0;
    size_t want = bytes + bytes / 4;
    if (!CUDA_CHECK(c, cudaMalloc(buf, want)))
        return NULL;
    *have = want;
    return *buf;
}

/* ------------------------------------------------------------------ device arenas */

typedef struct cu_block {
    struct cu_block *next;
    char *base;
    size_t size, off;
} cu_block;

typedef struct cu_arena {
    struct cu_arena *next;
    const void *key;
    cu_block *blocks;
    size_t reserved;
} cu_arena;

static pthread_mutex_t cu_arenas_mu = PTHREAD_MUTEX_INITIALIZER;
static cu_arena *cu_arenas;

static float *cu_alloc(void *ctx, size_t n)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK)
        return NULL;
    size_t bytes = (n ? n : 1) * sizeof(float);
    bytes = (bytes + CU_ALIGN - 1) & ~(size_t)(CU_ALIGN - 1);
    float *out = NULL;
    pthread_mutex_lock(&cu_arenas_mu);
    cu_arena *a = cu_arenas;
    while (a && a->key != ctx)
        a = a->next;
    if (!a) {
        a = (cu_arena *)calloc(1, sizeof *a);
        if (!a) {
            pthread_mutex_unlock(&cu_arenas_mu);
            cu_fail(c, TD_ERR_NOMEM, __FILE__, __LINE__, "out of host memory");
            return NULL;
        }
        a->key = ctx;
        a->next = cu_arenas;
        cu_arenas = a;
    }
    cu_block *b = a->blocks;
    if (!b || b->off + bytes > b->size) {
        size_t size = a->reserved > CU_ARENA_FIRST_BYTES ? a->reserved : CU_ARENA_FIRST_BYTES;
        if (size < bytes)
            size = bytes;
        cu_block *nb = (cu_block *)calloc(1, sizeof *nb);
        void *base = NULL;
        if (nb && !CUDA_CHECK(c, cudaMalloc(&base, size)))
            base = NULL;
        /* fresh blocks are zeroed once, and waited for, so that the zeros land before any
         * later copy or kernel of any thread's stream; carved pieces are never reused */
        if (base && (!CUDA_CHECK(c, cudaMemsetAsync(base, 0, size, c->stream)) ||
                     !CUDA_CHECK(c, cudaStreamSynchronize(c->stream)))) {
            cudaFree(base);
            base = NULL;
        }
        if (!nb || !base) {
            free(nb);
            pthread_mutex_unlock(&cu_arenas_mu);
            if (!nb)
                cu_fail(c, TD_ERR_NOMEM, __FILE__, __LINE__, "out of host memory");
            return NULL;
        }
        nb->base = (char *)base;
        nb->size = size;
        nb->next = a->blocks;
        a->blocks = nb;
        a->reserved += size;
        b = nb;
    }
    out = (float *)(b->base + b->off);
    b->off += bytes;
    pthread_mutex_unlock(&cu_arenas_mu);
    return out;
}

extern "C" void nn_backend_cuda_release(void *ctx)
{
    pthread_mutex_lock(&cu_arenas_mu);
    cu_arena **pp = &cu_arenas;
    while (*pp && (*pp)->key != ctx)
        pp = &(*pp)->next;
    cu_arena *a = *pp;
    if (a)
        *pp = a->next;
    pthread_mutex_unlock(&cu_arenas_mu);
    if (!a)
        return;
    /* cudaFree waits for the device, so no queued kernel still uses the memory */
    for (cu_block *b = a->blocks; b;) {
        cu_block *next = b->next;
        cudaFree(b->base);
        free(b);
        b = next;
    }
    free(a);
}

extern "C" size_t nn_backend_cuda_arena_bytes(void)
{
    size_t total = 0;
    pthread_mutex_lock(&cu_arenas_mu);
    for (cu_arena *a = cu_arenas; a; a = a->next)
        total += a->reserved;
    pthread_mutex_unlock(&cu_arenas_mu);
    cu_ctx *c = (cu_ctx *)pthread_getspecific(cu_key);
    if (c)
        total += c->work_bytes + c->red_bytes + c->rows_bytes;
    return total;
}

extern "C" void nn_backend_cuda_set_workspace_limit(size_t bytes)
{
    cu_work_limit = bytes < ((size_t)1 << 16) ? ((size_t)1 << 16) : bytes;
}

/* ------------------------------------------------------------------ memory ops */

static void cu_upload(float *dst, const float *src, size_t n)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || n == 0)
        return;
    size_t bytes = n * sizeof(float);
    if (bytes > CU_STAGE_MAX_BYTES) {
        CUDA_CHECK(c, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream));
        CUDA_CHECK(c, cudaStreamSynchronize(c->stream));
        return;
    }
    /* Copy into a pinned slot and return at once: the host prepares the next batch while
     * the GPU computes. A slot is reused only after its previous copy has finished. */
    int s = c->stage_next;
    c->stage_next ^= 1;
    if (!CUDA_CHECK(c, cudaEventSynchronize(c->stage_done[s])))
        return;
    if (bytes > c->stage_bytes[s]) {
        cudaFreeHost(c->stage[s]);
        c->stage[s] = NULL;
        c->stage_bytes[s] = 0;
        if (!CUDA_CHECK(c, cudaHostAlloc((void **)&c->stage[s], bytes, cudaHostAllocDefault)))
            return;
        c->stage_bytes[s] = bytes;
    }
    memcpy(c->stage[s], src, bytes);
    CUDA_CHECK(c, cudaMemcpyAsync(dst, c->stage[s], bytes, cudaMemcpyHostToDevice, c->stream));
    CUDA_CHECK(c, cudaEventRecord(c->stage_done[s], c->stream));
}

static void cu_download(float *dst, const float *src, size_t n)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK) {
        memset(dst, 0, n * sizeof *dst);
        return;
    }
    if (n == 0)
        return;
    CUDA_CHECK(c, cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToHost, c->stream));
    if (!CUDA_CHECK(c, cudaStreamSynchronize(c->stream)))
        memset(dst, 0, n * sizeof *dst);
}

static void cu_zero(float *p, size_t n)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || n == 0)
        return;
    CUDA_CHECK(c, cudaMemsetAsync(p, 0, n * sizeof(float), c->stream));
}

/* ------------------------------------------------------------------ kernels */

static unsigned cu_blocks(int64_t n)
{
    int64_t b = (n + CU_BLOCK - 1) / CU_BLOCK;
    if (b < 1)
        b = 1;
    return (unsigned)(b > CU_MAX_BLOCKS ? CU_MAX_BLOCKS : b);
}

/* Kernel launches go through one macro so that tests can run the kernels on the CPU
 * (tests/gpu/emu: a fiber per GPU thread, cuBLAS on OpenBLAS) where no GPU exists. */
#ifdef NN_CUDA_EMULATE
#define LAUNCH(kernel, grid, block, stream, ...)                                                   \
    emu_launch((const void *)kernel, dim3(grid), dim3(block), [=]() { kernel(__VA_ARGS__); })
#else
#define LAUNCH(kernel, grid, block, stream, ...)                                                   \
    kernel<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__)
#endif

/* Kernels index with 32-bit integers (64-bit division is several times slower on a GPU);
 * every entry point checks with cu_fits that its tensors stay below CU_MAX_INDEX elements. */
typedef int ix_t;
#define CU_MAX_INDEX ((int64_t)INT32_MAX - (int64_t)CU_MAX_BLOCKS * CU_BLOCK)

#define GRID_LOOP(i, n)                                                                            \
    for (ix_t i = (ix_t)(blockIdx.x * blockDim.x + threadIdx.x); i < (n);                          \
         i += (ix_t)(blockDim.x * gridDim.x))

/* False (and the failure recorded) when a tensor of count elements is too large for the
 * kernels' 32-bit indexing. */
static bool cu_fits(cu_ctx *c, int64_t count, const char *what)
{
    if (count <= CU_MAX_INDEX)
        return true;
    cu_fail(c, TD_ERR_UNSUPPORTED, __FILE__, __LINE__,
            "%s has %lld elements, more than the CUDA kernels' 32-bit indexing allows (%lld); "
            "use a smaller batch",
            what, (long long)count, (long long)CU_MAX_INDEX);
    return false;
}

/* Tree reduction of one value per thread over a block of CU_BLOCK threads; fixed order. */
template <typename T> __device__ T block_sum(T v, T *sh)
{
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = CU_BLOCK / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s)
            sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    T r = sh[0];
    __syncthreads();
    return r;
}

/* im2col of images [n0, n0+nb) into col [c*k*k][nb*ohw] (column = image*ohw + pixel). */
__global__ void k_im2col(float *col, const float *x, ix_t n0, ix_t nb, ix_t c, ix_t h, ix_t w,
                         int32_t k, int32_t stride, int32_t pad, ix_t oh, ix_t ow)
{
    ix_t ohw = oh * ow, cols = nb * ohw, total = c * k * k * cols;
    GRID_LOOP(t, total)
    {
        ix_t r = t / cols, q = t - r * cols;
        ix_t i = q / ohw, p = q - i * ohw;
        ix_t ci = r / (k * k), kr = r - ci * k * k;
        ix_t ky = kr / k, kx = kr - ky * k;
        ix_t oy = p / ow, ox = p - oy * ow;
        ix_t iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
        float v = 0.0f;
        if (iy >= 0 && iy < h && ix >= 0 && ix < w)
            v = x[(((n0 + i) * c + ci) * h + iy) * w + ix];
        col[t] = v;
    }
}

/* dx[n0+i][ci][iy][ix] += sum of the dcol entries it was copied to (gather: no atomics). */
__global__ void k_col2im_add(float *dx, const float *dcol, ix_t n0, ix_t nb, ix_t c, ix_t h, ix_t w,
                             int32_t k, int32_t stride, int32_t pad, ix_t oh, ix_t ow)
{
    ix_t ohw = oh * ow, cols = nb * ohw, total = nb * c * h * w;
    GRID_LOOP(t, total)
    {
        ix_t ix = t % w, iy = (t / w) % h, ci = (t / (h * w)) % c, i = t / (c * h * w);
        float s = 0.0f;
        for (int32_t ky = 0; ky < k; ky++) {
            ix_t ty = iy + pad - ky;
            if (ty < 0 || ty % stride)
                continue;
            ix_t oy = ty / stride;
            if (oy >= oh)
                continue;
            for (int32_t kx = 0; kx < k; kx++) {
                ix_t tx = ix + pad - kx;
                if (tx < 0 || tx % stride)
                    continue;
                ix_t ox = tx / stride;
                if (ox >= ow)
                    continue;
                s += dcol[((ci * k + ky) * k + kx) * cols + i * ohw + oy * ow + ox];
            }
        }
        dx[(n0 * c) * h * w + t] += s;
    }
}

/* y[n0+i][o][p] = yt[o][i*ohw+p] + b[o] */
__global__ void k_untranspose_bias(float *y, const float *yt, const float *b, ix_t n0, ix_t nb,
                                   ix_t oc, ix_t ohw)
{
    ix_t total = nb * oc * ohw;
    GRID_LOOP(t, total)
    {
        ix_t p = t % ohw, o = (t / ohw) % oc, i = t / (oc * ohw);
        y[n0 * oc * ohw + t] = yt[o * nb * ohw + i * ohw + p] + (b ? b[o] : 0.0f);
    }
}

/* dyt[o][i*ohw+p] = dy[n0+i][o][p] */
__global__ void k_transpose_dy(float *dyt, const float *dy, ix_t n0, ix_t nb, ix_t oc, ix_t ohw)
{
    ix_t cols = nb * ohw, total = oc * cols;
    GRID_LOOP(t, total)
    {
        ix_t o = t / cols, q = t - o * cols;
        ix_t i = q / ohw, p = q - i * ohw;
        dyt[t] = dy[((n0 + i) * oc + o) * ohw + p];
    }
}

/* db[o] = sum over images and pixels of dy[n][o][p]; one block per channel. */
__global__ void k_channel_sum(float *db, const float *dy, ix_t n, ix_t oc, ix_t ohw)
{
    __shared__ float sh[CU_BLOCK];
    ix_t o = blockIdx.x, m = n * ohw;
    float s = 0.0f;
    for (ix_t e = threadIdx.x; e < m; e += CU_BLOCK) {
        ix_t i = e / ohw, p = e - i * ohw;
        s += dy[(i * oc + o) * ohw + p];
    }
    s = block_sum(s, sh);
    if (threadIdx.x == 0)
        db[o] = s;
}

/* Depthwise convolution (groups = c = oc), one thread per output. */
__global__ void k_dw_forward(float *y, const float *x, const float *f, const float *b, ix_t n,
                             ix_t c, ix_t h, ix_t w, int32_t k, int32_t stride, int32_t pad,
                             ix_t oh, ix_t ow)
{
    ix_t total = n * c * oh * ow;
    GRID_LOOP(t, total)
    {
        ix_t ox = t % ow, oy = (t / ow) % oh, pl = t / (oh * ow), ch = pl % c;
        const float *xp = x + pl * h * w, *fp = f + ch * k * k;
        float s = b ? b[ch] : 0.0f;
        for (int32_t ky = 0; ky < k; ky++) {
            ix_t iy = oy * stride - pad + ky;
            if (iy < 0 || iy >= h)
                continue;
            for (int32_t kx = 0; kx < k; kx++) {
                ix_t ix = ox * stride - pad + kx;
                if (ix >= 0 && ix < w)
                    s += xp[iy * w + ix] * fp[ky * k + kx];
            }
        }
        y[t] = s;
    }
}

/* Depthwise dx (gather over the outputs each input feeds). */
__global__ void k_dw_backward_dx(float *dx, const float *dy, const float *f, ix_t n, ix_t c, ix_t h,
                                 ix_t w, int32_t k, int32_t stride, int32_t pad, ix_t oh, ix_t ow)
{
    ix_t total = n * c * h * w;
    GRID_LOOP(t, total)
    {
        ix_t ix = t % w, iy = (t / w) % h, pl = t / (h * w), ch = pl % c;
        const float *gp = dy + pl * oh * ow, *fp = f + ch * k * k;
        float s = 0.0f;
        for (int32_t ky = 0; ky < k; ky++) {
            ix_t ty = iy + pad - ky;
            if (ty < 0 || ty % stride || ty / stride >= oh)
                continue;
            for (int32_t kx = 0; kx < k; kx++) {
                ix_t tx = ix + pad - kx;
                if (tx < 0 || tx % stride || tx / stride >= ow)
                    continue;
                s += gp[(ty / stride) * ow + tx / stride] * fp[ky * k + kx];
            }
        }
        dx[t] += s;
    }
}

/* Depthwise filter gradient: one block per (channel, ky, kx). */
__global__ void k_dw_backward_df(float *df, const float *dy, const float *x, ix_t n, ix_t c, ix_t h,
                                 ix_t w, int32_t k, int32_t stride, int32_t pad, ix_t oh, ix_t ow)
{
    __shared__ float sh[CU_BLOCK];
    ix_t wi = blockIdx.x, ch = wi / (k * k), kr = wi % (k * k);
    int32_t ky = (int32_t)(kr / k), kx = (int32_t)(kr % k);
    ix_t ohw = oh * ow, m = n * ohw;
    float s = 0.0f;
    for (ix_t e = threadIdx.x; e < m; e += CU_BLOCK) {
        ix_t i = e / ohw, p = e - i * ohw, oy = p / ow, ox = p - oy * ow;
        ix_t iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
        if (iy >= 0 && iy < h && ix >= 0 && ix < w)
            s += dy[(i * c + ch) * ohw + p] * x[((i * c + ch) * h + iy) * w + ix];
    }
    s = block_sum(s, sh);
    if (threadIdx.x == 0)
        df[wi] = s;
}

/* Per-channel partial sums over [n][c][hw] in double: grid (parts, c). mode 0: x and x^2;
 * mode 1 (bn backward): dy and dy * (x - mean) * invstd. */
__global__ void k_bn_partial(double *part, const float *x, const float *dy, const float *mean,
                             const float *invstd, ix_t n, ix_t c, ix_t hw, int mode)
{
    __shared__ double sh[CU_BLOCK];
    ix_t ch = blockIdx.y, parts = gridDim.x, m = n * hw;
    ix_t per = (m + parts - 1) / parts, lo = blockIdx.x * per;
    ix_t hi = lo + per < m ? lo + per : m;
    double s1 = 0, s2 = 0;
    float mu = mode ? mean[ch] : 0.0f, is = mode ? invstd[ch] : 0.0f;
    for (ix_t e = lo + threadIdx.x; e < hi; e += CU_BLOCK) {
        ix_t i = e / hw, j = e - i * hw, idx = (i * c + ch) * hw + j;
        double v = x[idx];
        if (mode == 0) {
            s1 += v;
            s2 += v * v;
        } else {
            double g = dy[idx];
            s1 += g;
            s2 += g * (v - (double)mu) * (double)is;
        }
    }
    s1 = block_sum(s1, sh);
    s2 = block_sum(s2, sh);
    if (threadIdx.x == 0) {
        part[(ch * parts + blockIdx.x) * 2] = s1;
        part[(ch * parts + blockIdx.x) * 2 + 1] = s2;
    }
}

/* Batch statistics, running statistics and the affine coefficients y = a x + b. */
__global__ void k_bn_finalize_fwd(float *coef, float *mean, float *invstd, float *rmean,
                                  float *rvar, const double *part, int parts, const float *gamma,
                                  const float *beta, ix_t c, double m, float momentum, float eps)
{
    ix_t ch = (ix_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c)
        return;
    double s = 0, ss = 0;
    for (int p = 0; p < parts; p++) {
        s += part[(ch * parts + p) * 2];
        ss += part[(ch * parts + p) * 2 + 1];
    }
    double mu = s / m, var = ss / m - mu * mu;
    if (var < 0)
        var = 0;
    double is = 1.0 / sqrt(var + (double)eps);
    mean[ch] = (float)mu;
    invstd[ch] = (float)is;
    if (rmean) {
        rmean[ch] = (float)((1 - momentum) * rmean[ch] + momentum * mu);
        rvar[ch] =
            (float)((1 - momentum) * rvar[ch] + momentum * (m > 1 ? var * m / (m - 1) : var));
    }
    coef[ch] = (float)(gamma[ch] * is);
    coef[c + ch] = (float)(beta[ch] - gamma[ch] * is * mu);
}

/* Eval-mode coefficients from running statistics (same float arithmetic as the CPU). */
__global__ void k_bn_eval_coef(float *coef, const float *gamma, const float *beta, const float *rm,
                               const float *rv, ix_t c, float eps)
{
    ix_t ch = (ix_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c)
        return;
    float a = gamma[ch] / sqrtf(rv[ch] + eps);
    coef[ch] = a;
    coef[c + ch] = beta[ch] - a * rm[ch];
}

__global__ void k_bn_apply(float *y, const float *x, const float *coef, ix_t total, ix_t c, ix_t hw)
{
    GRID_LOOP(t, total)
    {
        ix_t ch = (t / hw) % c;
        y[t] = coef[ch] * x[t] + coef[c + ch];
    }
}

/* dgamma, dbeta and the per-channel sums the dx kernel needs (mean of dy, of dy*xhat). */
__global__ void k_bn_finalize_bwd(float *dgamma, float *dbeta, float *coef, const double *part,
                                  int parts, ix_t c, double m)
{
    ix_t ch = (ix_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c)
        return;
    double sdy = 0, sdyx = 0;
    for (int p = 0; p < parts; p++) {
        sdy += part[(ch * parts + p) * 2];
        sdyx += part[(ch * parts + p) * 2 + 1];
    }
    dgamma[ch] = (float)sdyx;
    dbeta[ch] = (float)sdy;
    coef[ch] = (float)(sdy / m);
    coef[c + ch] = (float)(sdyx / m);
}

__global__ void k_bn_backward_dx(float *dx, const float *dy, const float *x, const float *mean,
                                 const float *invstd, const float *gamma, const float *coef,
                                 ix_t total, ix_t c, ix_t hw)
{
    GRID_LOOP(t, total)
    {
        ix_t ch = (t / hw) % c;
        float is = invstd[ch], xh = (x[t] - mean[ch]) * is;
        dx[t] += gamma[ch] * is * (dy[t] - coef[ch] - xh * coef[c + ch]);
    }
}

__global__ void k_relu_fwd(float *y, const float *x, ix_t n, float cap)
{
    GRID_LOOP(i, n)
    {
        float v = x[i] > 0 ? x[i] : 0.0f;
        y[i] = (cap > 0 && v > cap) ? cap : v;
    }
}

__global__ void k_relu_bwd(float *dx, const float *dy, const float *x, ix_t n, float cap)
{
    GRID_LOOP(i, n)
    {
        if (x[i] > 0 && (cap <= 0 || x[i] < cap))
            dx[i] += dy[i];
    }
}

__global__ void k_maxpool_fwd(float *y, int32_t *argmax, const float *x, ix_t planes, ix_t h,
                              ix_t w, int32_t k, int32_t stride, int32_t pad, ix_t oh, ix_t ow)
{
    ix_t total = planes * oh * ow;
    GRID_LOOP(t, total)
    {
        ix_t ox = t % ow, oy = (t / ow) % oh, pl = t / (oh * ow);
        const float *xp = x + pl * h * w;
        int32_t best = -1;
        float bv = 0.0f;
        for (int32_t ky = 0; ky < k; ky++) {
            ix_t iy = oy * stride - pad + ky;
            if (iy < 0 || iy >= h)
                continue;
            for (int32_t kx = 0; kx < k; kx++) {
                ix_t ix = ox * stride - pad + kx;
                if (ix < 0 || ix >= w)
                    continue;
                if (best < 0 || xp[iy * w + ix] > bv) {
                    best = (int32_t)(iy * w + ix);
                    bv = xp[best];
                }
            }
        }
        y[t] = bv;
        argmax[t] = best;
    }
}

/* Output window range [lo, hi) of the outputs whose window covers input coordinate i. */
__device__ void pool_range(ix_t i, int32_t k, int32_t stride, int32_t pad, ix_t on, ix_t *lo,
                           ix_t *hi)
{
    ix_t t = i + pad - k + 1; /* first output start that still covers i */
    ix_t a = t <= 0 ? 0 : (t + stride - 1) / stride;
    ix_t b = (i + pad) / stride + 1;
    *lo = a;
    *hi = b < on ? b : on;
}

__global__ void k_maxpool_bwd(float *dx, const float *dy, const int32_t *argmax, ix_t planes,
                              ix_t h, ix_t w, int32_t k, int32_t stride, int32_t pad, ix_t oh,
                              ix_t ow)
{
    ix_t total = planes * h * w;
    GRID_LOOP(t, total)
    {
        ix_t ix = t % w, iy = (t / w) % h, pl = t / (h * w);
        ix_t y0, y1, x0, x1;
        pool_range(iy, k, stride, pad, oh, &y0, &y1);
        pool_range(ix, k, stride, pad, ow, &x0, &x1);
        int32_t self = (int32_t)(iy * w + ix);
        float s = 0.0f;
        for (ix_t oy = y0; oy < y1; oy++)
            for (ix_t ox = x0; ox < x1; ox++) {
                ix_t o = (pl * oh + oy) * ow + ox;
                if (argmax[o] == self)
                    s += dy[o];
            }
        dx[t] += s;
    }
}

__global__ void k_avgpool_fwd(float *y, const float *x, ix_t planes, ix_t h, ix_t w, int32_t k,
                              int32_t stride, int32_t pad, ix_t oh, ix_t ow)
{
    ix_t total = planes * oh * ow;
    GRID_LOOP(t, total)
    {
        ix_t ox = t % ow, oy = (t / ow) % oh, pl = t / (oh * ow);
        const float *xp = x + pl * h * w;
        float s = 0.0f;
        ix_t cnt = 0;
        for (int32_t ky = 0; ky < k; ky++) {
            ix_t iy = oy * stride - pad + ky;
            if (iy < 0 || iy >= h)
                continue;
            for (int32_t kx = 0; kx < k; kx++) {
                ix_t ix = ox * stride - pad + kx;
                if (ix < 0 || ix >= w)
                    continue;
                s += xp[iy * w + ix];
                cnt++;
            }
        }
        y[t] = cnt ? s / (float)cnt : 0.0f;
    }
}

__global__ void k_avgpool_bwd(float *dx, const float *dy, ix_t planes, ix_t h, ix_t w, int32_t k,
                              int32_t stride, int32_t pad, ix_t oh, ix_t ow)
{
    ix_t total = planes * h * w;
    GRID_LOOP(t, total)
    {
        ix_t ix = t % w, iy = (t / w) % h, pl = t / (h * w);
        ix_t y0, y1, x0, x1;
        pool_range(iy, k, stride, pad, oh, &y0, &y1);
        pool_range(ix, k, stride, pad, ow, &x0, &x1);
        float s = 0.0f;
        for (ix_t oy = y0; oy < y1; oy++) {
            ix_t a0 = oy * stride - pad, ya = a0 < 0 ? 0 : a0, yb = a0 + k > h ? h : a0 + k;
            for (ix_t ox = x0; ox < x1; ox++) {
                ix_t b0 = ox * stride - pad, xa = b0 < 0 ? 0 : b0;
                ix_t xb = b0 + k > w ? w : b0 + k;
                ix_t cnt = (yb - ya) * (xb - xa);
                if (cnt > 0)
                    s += dy[(pl * oh + oy) * ow + ox] / (float)cnt;
            }
        }
        dx[t] += s;
    }
}

/* Global average pool: one warp per plane, lanes in a fixed shuffle order. */
__global__ void k_gap_fwd(float *y, const float *x, ix_t planes, ix_t hw)
{
    ix_t warp = ((ix_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (warp >= planes)
        return;
    const float *xp = x + warp * hw;
    float s = 0.0f;
    for (ix_t i = lane; i < hw; i += 32)
        s += xp[i];
    for (int off = 16; off > 0; off >>= 1)
        s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0)
        y[warp] = s / (float)hw;
}

__global__ void k_gap_bwd(float *dx, const float *dy, ix_t planes, ix_t hw)
{
    ix_t total = planes * hw;
    GRID_LOOP(t, total)
    {
        dx[t] += dy[t / hw] / (float)hw;
    }
}

/* y[i][j] += b[j] over rows of o */
__global__ void k_add_bias_rows(float *y, const float *b, ix_t n, ix_t o)
{
    ix_t total = n * o;
    GRID_LOOP(t, total)
    {
        y[t] += b[t % o];
    }
}

/* db[j] = sum over rows of dy[i][j], in row order (same order as the CPU reference). */
__global__ void k_col_sum(float *db, const float *dy, ix_t n, ix_t o)
{
    ix_t j = (ix_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= o)
        return;
    float s = 0.0f;
    for (ix_t i = 0; i < n; i++)
        s += dy[i * o + j];
    db[j] = s;
}

__global__ void k_add_fwd(float *y, const float *a, const float *b, ix_t n)
{
    GRID_LOOP(i, n)
    {
        y[i] = a[i] + b[i];
    }
}

__global__ void k_add_bwd(float *da, float *db, const float *dy, ix_t n)
{
    GRID_LOOP(i, n)
    {
        float g = dy[i];
        if (da)
            da[i] += g;
        if (db)
            db[i] += g;
    }
}

/* One thread per row, in double like the CPU reference; per-row loss and hit. */
__global__ void k_softmax_xent(float *dlogits, double *row_loss, int32_t *row_hit,
                               const float *logits, const int32_t *labels, ix_t n, ix_t classes)
{
    ix_t i = (ix_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    const float *z = logits + i * classes;
    int32_t lab = labels[i];
    ix_t best = 0;
    double mx = z[0];
    for (ix_t j = 1; j < classes; j++)
        if (z[j] > mx) {
            mx = z[j];
            best = j;
        }
    double s = 0;
    for (ix_t j = 0; j < classes; j++)
        s += exp((double)z[j] - mx);
    double lse = mx + log(s);
    bool ok = lab >= 0 && lab < classes;
    row_loss[i] = ok ? lse - (double)z[lab] : nan("");
    row_hit[i] = ok && best == lab;
    if (dlogits)
        for (ix_t j = 0; j < classes; j++)
            dlogits[i * classes + j] =
                (float)((exp((double)z[j] - lse) - (j == lab ? 1.0 : 0.0)) / (double)n);
}

__global__ void k_sgd(float *p, float *vel, const float *g, const float *decay, ix_t n, float lr,
                      float momentum, float wd, bool nesterov)
{
    GRID_LOOP(i, n)
    {
        float gi = g[i] + wd * decay[i] * p[i];
        float v = momentum * vel[i] + gi;
        vel[i] = v;
        p[i] -= lr * (nesterov ? gi + momentum * v : v);
    }
}

__global__ void k_adamw(float *p, float *m, float *v, const float *g, const float *decay, ix_t n,
                        float lr, float b1, float b2, float eps, float wd, float c1, float c2)
{
    GRID_LOOP(i, n)
    {
        float gi = g[i];
        float mi = b1 * m[i] + (1 - b1) * gi;
        float vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float mh = mi / c1, vh = vi / c2;
        p[i] -= lr * (mh / (sqrtf(vh) + eps) + wd * decay[i] * p[i]);
    }
}

/* ------------------------------------------------------------------ GEMM helper */

/* Row-major C[M][N] = alpha op(A)[M][K] op(B)[K][N] + beta C, `batch` times with element
 * strides sA, sB, sC (cuBLAS is column-major: computes C^T = op(B)^T op(A)^T). */
static bool gemm_rm(cu_ctx *c, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                    const float *A, int64_t lda, int64_t sA, const float *B, int64_t ldb,
                    int64_t sB, float beta, float *C, int64_t ldc, int64_t sC, int64_t batch)
{
    if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX || batch > INT32_MAX) {
        cu_fail(c, TD_ERR_UNSUPPORTED, __FILE__, __LINE__,
                "GEMM of %lldx%lldx%lld exceeds cuBLAS's 32-bit sizes", (long long)M, (long long)N,
                (long long)K);
        return false;
    }
    cublasOperation_t oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    if (batch == 1)
        return CUBLAS_CHECK(c, cublasSgemm(c->blas, ob, oa, (int)N, (int)M, (int)K, &alpha, B,
                                           (int)ldb, A, (int)lda, &beta, C, (int)ldc));
    return CUBLAS_CHECK(c, cublasSgemmStridedBatched(c->blas, ob, oa, (int)N, (int)M, (int)K,
                                                     &alpha, B, (int)ldb, sB, A, (int)lda, sA,
                                                     &beta, C, (int)ldc, sC, (int)batch));
}

/* ------------------------------------------------------------------ layers */

static bool conv_is_depthwise(const nn_conv_dims *d)
{
    return d->groups > 1 && d->groups == d->c && d->oc == d->c;
}

/* Images per im2col chunk so that `per_image` floats each stay within the workspace. */
static int64_t conv_chunk(const nn_conv_dims *d, int64_t per_image)
{
    int64_t cap = (int64_t)(cu_work_limit / sizeof(float)) / (per_image > 0 ? per_image : 1);
    if (cap < 1)
        cap = 1;
    return cap < d->n ? cap : d->n;
}

static void cu_conv_forward(float *y, const float *x, const float *w, const float *b, float *work,
                            int threads, const nn_conv_dims *d)
{
    (void)work;
    (void)threads;
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || d->n == 0)
        return;
    int64_t ohw = d->oh * d->ow;
    if (!cu_fits(c, d->n * d->c * d->h * d->w, "conv input") ||
        !cu_fits(c, d->n * d->oc * ohw, "conv output"))
        return;
    if (conv_is_depthwise(d)) {
        LAUNCH(k_dw_forward, cu_blocks(d->n * d->c * ohw), CU_BLOCK, c->stream, y, x, w, b, d->n,
               d->c, d->h, d->w, d->k, d->stride, d->pad, d->oh, d->ow);
        LAUNCH_CHECK(c);
        return;
    }
    int64_t G = d->groups, cg = d->c / G, og = d->oc / G, R = d->c * d->k * d->k;
    int64_t rg = cg * d->k * d->k;
    int64_t nb = conv_chunk(d, (R + d->oc) * ohw);
    if (!cu_fits(c, (R + d->oc) * nb * ohw, "conv im2col chunk"))
        return;
    float *col = (float *)cu_scratch(c, (void **)&c->work, &c->work_bytes,
                                     (size_t)((R + d->oc) * nb * ohw) * sizeof(float));
    if (!col)
        return;
    for (int64_t n0 = 0; n0 < d->n; n0 += nb) {
        int64_t m = d->n - n0 < nb ? d->n - n0 : nb, N = m * ohw;
        float *yt = col + R * N;
        LAUNCH(k_im2col, cu_blocks(R * N), CU_BLOCK, c->stream, col, x, n0, m, d->c, d->h, d->w,
               d->k, d->stride, d->pad, d->oh, d->ow);
        if (!LAUNCH_CHECK(c))
            return;
        /* per group: yt_g[og][N] = W_g[og][rg] col_g[rg][N] */
        if (!gemm_rm(c, false, false, og, N, rg, 1.0f, w, rg, og * rg, col, N, rg * N, 0.0f, yt, N,
                     og * N, G))
            return;
        LAUNCH(k_untranspose_bias, cu_blocks(m * d->oc * ohw), CU_BLOCK, c->stream, y, yt, b, n0, m,
               d->oc, ohw);
        if (!LAUNCH_CHECK(c))
            return;
    }
}

static void cu_conv_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                             const float *w, float *work, int threads, const nn_conv_dims *d)
{
    (void)work;
    (void)threads;
    cu_ctx *c = cu_get();
    if (c->err != TD_OK)
        return;
    int64_t ohw = d->oh * d->ow;
    if (!cu_fits(c, d->n * d->c * d->h * d->w, "conv input") ||
        !cu_fits(c, d->n * d->oc * ohw, "conv output"))
        return;
    if (d->n == 0) {
        CUDA_CHECK(c, cudaMemsetAsync(
                          dw, 0, (size_t)(d->oc * (d->c / d->groups) * d->k * d->k) * sizeof(float),
                          c->stream));
        if (db)
            CUDA_CHECK(c, cudaMemsetAsync(db, 0, (size_t)d->oc * sizeof(float), c->stream));
        return;
    }
    if (db) {
        LAUNCH(k_channel_sum, (unsigned)d->oc, CU_BLOCK, c->stream, db, dy, d->n, d->oc, ohw);
        if (!LAUNCH_CHECK(c))
            return;
    }
    if (conv_is_depthwise(d)) {
        LAUNCH(k_dw_backward_df, (unsigned)(d->c * d->k * d->k), CU_BLOCK, c->stream, dw, dy, x,
               d->n, d->c, d->h, d->w, d->k, d->stride, d->pad, d->oh, d->ow);
        if (!LAUNCH_CHECK(c) || !dx)
            return;
        LAUNCH(k_dw_backward_dx, cu_blocks(d->n * d->c * d->h * d->w), CU_BLOCK, c->stream, dx, dy,
               w, d->n, d->c, d->h, d->w, d->k, d->stride, d->pad, d->oh, d->ow);
        LAUNCH_CHECK(c);
        return;
    }
    int64_t G = d->groups, cg = d->c / G, og = d->oc / G, R = d->c * d->k * d->k;
    int64_t rg = cg * d->k * d->k;
    int64_t per = (2 * R + d->oc) * ohw;
    int64_t nb = conv_chunk(d, per);
    if (!cu_fits(c, per * nb, "conv im2col chunk"))
        return;
    float *col = (float *)cu_scratch(c, (void **)&c->work, &c->work_bytes,
                                     (size_t)(per * nb) * sizeof(float));
    if (!col)
        return;
    for (int64_t n0 = 0; n0 < d->n; n0 += nb) {
        int64_t m = d->n - n0 < nb ? d->n - n0 : nb, N = m * ohw;
        float *dyt = col + R * N, *dcol = dyt + d->oc * N;
        LAUNCH(k_im2col, cu_blocks(R * N), CU_BLOCK, c->stream, col, x, n0, m, d->c, d->h, d->w,
               d->k, d->stride, d->pad, d->oh, d->ow);
        if (!LAUNCH_CHECK(c))
            return;
        LAUNCH(k_transpose_dy, cu_blocks(d->oc * N), CU_BLOCK, c->stream, dyt, dy, n0, m, d->oc,
               ohw);
        if (!LAUNCH_CHECK(c))
            return;
        /* dW_g[og][rg] (+)= dyt_g[og][N] col_g[rg][N]^T; chunks accumulate in order */
        if (!gemm_rm(c, false, true, og, rg, N, 1.0f, dyt, N, og * N, col, N, rg * N,
                     n0 == 0 ? 0.0f : 1.0f, dw, rg, og * rg, G))
            return;
        if (!dx)
            continue;
        /* dcol_g[rg][N] = W_g[og][rg]^T dyt_g[og][N] */
        if (!gemm_rm(c, true, false, rg, N, og, 1.0f, w, rg, og * rg, dyt, N, og * N, 0.0f, dcol, N,
                     rg * N, G))
            return;
        LAUNCH(k_col2im_add, cu_blocks(m * d->c * d->h * d->w), CU_BLOCK, c->stream, dx, dcol, n0,
               m, d->c, d->h, d->w, d->k, d->stride, d->pad, d->oh, d->ow);
        if (!LAUNCH_CHECK(c))
            return;
    }
}

static int bn_parts(int64_t m)
{
    int64_t p = (m + CU_BLOCK * 16 - 1) / (CU_BLOCK * 16);
    return (int)(p < 1 ? 1 : p > CU_BN_PARTS ? CU_BN_PARTS : p);
}

/* Scratch for batch norm: partial sums (2 doubles per channel and part) then 2c floats. */
static double *bn_scratch(cu_ctx *c, int64_t ch, int parts, float **coef)
{
    size_t pb = (size_t)(ch * parts * 2) * sizeof(double);
    double *red = (double *)cu_scratch(c, (void **)&c->red, &c->red_bytes,
                                       pb + (size_t)(2 * ch) * sizeof(float));
    if (red)
        *coef = (float *)((char *)red + pb);
    return red;
}

static void cu_bn_forward_train(float *y, float *mean, float *invstd, float *running_mean,
                                float *running_var, const float *x, const float *gamma,
                                const float *beta, int64_t n, int64_t ch, int64_t hw,
                                float momentum, float eps, int threads)
{
    (void)threads;
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || n * hw == 0 || !cu_fits(c, n * ch * hw, "batch norm input"))
        return;
    int parts = bn_parts(n * hw);
    float *coef;
    double *part = bn_scratch(c, ch, parts, &coef);
    if (!part)
        return;
    LAUNCH(k_bn_partial, dim3((unsigned)parts, (unsigned)ch), CU_BLOCK, c->stream, part, x, NULL,
           NULL, NULL, n, ch, hw, 0);
    if (!LAUNCH_CHECK(c))
        return;
    LAUNCH(k_bn_finalize_fwd, cu_blocks(ch), CU_BLOCK, c->stream, coef, mean, invstd, running_mean,
           running_var, part, parts, gamma, beta, ch, (double)(n * hw), momentum, eps);
    if (!LAUNCH_CHECK(c))
        return;
    LAUNCH(k_bn_apply, cu_blocks(n * ch * hw), CU_BLOCK, c->stream, y, x, coef, n * ch * hw, ch,
           hw);
    LAUNCH_CHECK(c);
}

static void cu_bn_forward_eval(float *y, const float *x, const float *gamma, const float *beta,
                               const float *running_mean, const float *running_var, int64_t n,
                               int64_t ch, int64_t hw, float eps)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || n * hw == 0 || !cu_fits(c, n * ch * hw, "batch norm input"))
        return;
    float *coef;
    if (!bn_scratch(c, ch, 0, &coef))
        return;
    LAUNCH(k_bn_eval_coef, cu_blocks(ch), CU_BLOCK, c->stream, coef, gamma, beta, running_mean,
           running_var, ch, eps);
    if (!LAUNCH_CHECK(c))
        return;
    LAUNCH(k_bn_apply, cu_blocks(n * ch * hw), CU_BLOCK, c->stream, y, x, coef, n * ch * hw, ch,
           hw);
    LAUNCH_CHECK(c);
}

static void cu_bn_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                           const float *mean, const float *invstd, const float *gamma, int64_t n,
                           int64_t ch, int64_t hw, int threads)
{
    (void)threads;
    cu_ctx *c = cu_get();
    if (c->err != TD_OK)
        return;
    if (n * hw == 0) {
        CUDA_CHECK(c, cudaMemsetAsync(dgamma, 0, (size_t)ch * sizeof(float), c->stream));
        CUDA_CHECK(c, cudaMemsetAsync(dbeta, 0, (size_t)ch * sizeof(float), c->stream));
        return;
    }
    if (!cu_fits(c, n * ch * hw, "batch norm input"))
        return;
    int parts = bn_parts(n * hw);
    float *coef;
    double *part = bn_scratch(c, ch, parts, &coef);
    if (!part)
        return;
    LAUNCH(k_bn_partial, dim3((unsigned)parts, (unsigned)ch), CU_BLOCK, c->stream, part, x, dy,
           mean, invstd, n, ch, hw, 1);
    if (!LAUNCH_CHECK(c))
        return;
    LAUNCH(k_bn_finalize_bwd, cu_blocks(ch), CU_BLOCK, c->stream, dgamma, dbeta, coef, part, parts,
           ch, (double)(n * hw));
    if (!LAUNCH_CHECK(c) || !dx)
        return;
    LAUNCH(k_bn_backward_dx, cu_blocks(n * ch * hw), CU_BLOCK, c->stream, dx, dy, x, mean, invstd,
           gamma, coef, n * ch * hw, ch, hw);
    LAUNCH_CHECK(c);
}

static void cu_relu_forward(float *y, const float *x, int64_t count, float cap)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || count == 0 || !cu_fits(c, count, "relu input"))
        return;
    LAUNCH(k_relu_fwd, cu_blocks(count), CU_BLOCK, c->stream, y, x, count, cap);
    LAUNCH_CHECK(c);
}

static void cu_relu_backward(float *dx, const float *dy, const float *x, int64_t count, float cap)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || count == 0 || !dx || !cu_fits(c, count, "relu input"))
        return;
    LAUNCH(k_relu_bwd, cu_blocks(count), CU_BLOCK, c->stream, dx, dy, x, count, cap);
    LAUNCH_CHECK(c);
}

static int64_t pool_out(int64_t i, int32_t k, int32_t stride, int32_t pad)
{
    return (i + 2 * pad - k) / stride + 1;
}

static void cu_maxpool_forward(float *y, int32_t *argmax, const float *x, int64_t n, int64_t ch,
                               int64_t h, int64_t w, int32_t k, int32_t stride, int32_t pad)
{
    cu_ctx *c = cu_get();
    int64_t oh = pool_out(h, k, stride, pad), ow = pool_out(w, k, stride, pad);
    if (c->err != TD_OK || n * ch * oh * ow <= 0 || !cu_fits(c, n * ch * h * w, "max pool input") ||
        !cu_fits(c, n * ch * oh * ow, "max pool output"))
        return;
    LAUNCH(k_maxpool_fwd, cu_blocks(n * ch * oh * ow), CU_BLOCK, c->stream, y, argmax, x, n * ch, h,
           w, k, stride, pad, oh, ow);
    LAUNCH_CHECK(c);
}

static void cu_avgpool_forward(float *y, const float *x, int64_t n, int64_t ch, int64_t h,
                               int64_t w, int32_t k, int32_t stride, int32_t pad)
{
    cu_ctx *c = cu_get();
    int64_t oh = pool_out(h, k, stride, pad), ow = pool_out(w, k, stride, pad);
    if (c->err != TD_OK || n * ch * oh * ow <= 0 || !cu_fits(c, n * ch * h * w, "avg pool input") ||
        !cu_fits(c, n * ch * oh * ow, "avg pool output"))
        return;
    LAUNCH(k_avgpool_fwd, cu_blocks(n * ch * oh * ow), CU_BLOCK, c->stream, y, x, n * ch, h, w, k,
           stride, pad, oh, ow);
    LAUNCH_CHECK(c);
}

static void cu_avgpool_backward(float *dx, const float *dy, int64_t n, int64_t ch, int64_t h,
                                int64_t w, int32_t k, int32_t stride, int32_t pad)
{
    cu_ctx *c = cu_get();
    int64_t oh = pool_out(h, k, stride, pad), ow = pool_out(w, k, stride, pad);
    if (c->err != TD_OK || !dx || n * ch * h * w == 0 || oh <= 0 || ow <= 0 ||
        !cu_fits(c, n * ch * h * w, "avg pool input") ||
        !cu_fits(c, n * ch * oh * ow, "avg pool output"))
        return;
    LAUNCH(k_avgpool_bwd, cu_blocks(n * ch * h * w), CU_BLOCK, c->stream, dx, dy, n * ch, h, w, k,
           stride, pad, oh, ow);
    LAUNCH_CHECK(c);
}

static void cu_gap_forward(float *y, const float *x, int64_t n, int64_t ch, int64_t hw)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || n * ch == 0 || hw == 0 || !cu_fits(c, n * ch * hw, "global pool input"))
        return;
    int64_t threads = n * ch * 32;
    LAUNCH(k_gap_fwd, (unsigned)((threads + CU_BLOCK - 1) / CU_BLOCK), CU_BLOCK, c->stream, y, x,
           n * ch, hw);
    LAUNCH_CHECK(c);
}

static void cu_gap_backward(float *dx, const float *dy, int64_t n, int64_t ch, int64_t hw)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || !dx || n * ch * hw == 0 || !cu_fits(c, n * ch * hw, "global pool input"))
        return;
    LAUNCH(k_gap_bwd, cu_blocks(n * ch * hw), CU_BLOCK, c->stream, dx, dy, n * ch, hw);
    LAUNCH_CHECK(c);
}

static void cu_fc_forward(float *y, const float *x, const float *w, const float *b, int64_t n,
                          int64_t k, int64_t o)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || n == 0 || !cu_fits(c, n * o, "fc output"))
        return;
    /* y[n][o] = x[n][k] w[o][k]^T */
    if (!gemm_rm(c, false, true, n, o, k, 1.0f, x, k, 0, w, k, 0, 0.0f, y, o, 0, 1))
        return;
    if (b) {
        LAUNCH(k_add_bias_rows, cu_blocks(n * o), CU_BLOCK, c->stream, y, b, n, o);
        LAUNCH_CHECK(c);
    }
}

static void cu_fc_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                           const float *w, int64_t n, int64_t k, int64_t o)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK)
        return;
    if (n == 0) {
        CUDA_CHECK(c, cudaMemsetAsync(dw, 0, (size_t)(o * k) * sizeof(float), c->stream));
        if (db)
            CUDA_CHECK(c, cudaMemsetAsync(db, 0, (size_t)o * sizeof(float), c->stream));
        return;
    }
    if (!cu_fits(c, n * o, "fc output"))
        return;
    /* dw[o][k] = dy[n][o]^T x[n][k] */
    if (!gemm_rm(c, true, false, o, k, n, 1.0f, dy, o, 0, x, k, 0, 0.0f, dw, k, 0, 1))
        return;
    if (db) {
        LAUNCH(k_col_sum, cu_blocks(o), CU_BLOCK, c->stream, db, dy, n, o);
        if (!LAUNCH_CHECK(c))
            return;
    }
    /* dx[n][k] += dy[n][o] w[o][k] */
    if (dx)
        gemm_rm(c, false, false, n, k, o, 1.0f, dy, o, 0, w, k, 0, 1.0f, dx, k, 0, 1);
}

static void cu_add_forward(float *y, const float *a, const float *b, int64_t count)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || count == 0 || !cu_fits(c, count, "add input"))
        return;
    LAUNCH(k_add_fwd, cu_blocks(count), CU_BLOCK, c->stream, y, a, b, count);
    LAUNCH_CHECK(c);
}

static void cu_add_backward(float *da, float *db, const float *dy, int64_t count)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || count == 0 || (!da && !db) || !cu_fits(c, count, "add input"))
        return;
    LAUNCH(k_add_bwd, cu_blocks(count), CU_BLOCK, c->stream, da, db, dy, count);
    LAUNCH_CHECK(c);
}

static double cu_softmax_xent(float *dlogits, int64_t *correct, const float *logits,
                              const int32_t *labels, int64_t n, int64_t classes)
{
    cu_ctx *c = cu_get();
    if (correct)
        *correct = 0;
    if (c->err != TD_OK)
        return NAN;
    if (n == 0)
        return 0.0;
    if (!cu_fits(c, n * classes, "logits"))
        return NAN;
    /* device rows: labels (int32), then per-row loss (double) and hit (int32) */
    size_t lab_b = (size_t)n * sizeof(int32_t), loss_b = (size_t)n * sizeof(double);
    size_t lab_off = 0, loss_off = (lab_b + 15) & ~(size_t)15, hit_off = loss_off + loss_b;
    size_t bytes = hit_off + (size_t)n * sizeof(int32_t);
    if (bytes > c->rows_bytes) {
        if (!CUDA_CHECK(c, cudaStreamSynchronize(c->stream)))
            return NAN;
        cudaFree(c->rows_dev);
        cudaFreeHost(c->rows_host);
        c->rows_dev = c->rows_host = NULL;
        c->rows_bytes = 0;
        if (!CUDA_CHECK(c, cudaMalloc(&c->rows_dev, bytes)) ||
            !CUDA_CHECK(c, cudaHostAlloc(&c->rows_host, bytes, cudaHostAllocDefault)))
            return NAN;
        c->rows_bytes = bytes;
    }
    char *dev = (char *)c->rows_dev, *host = (char *)c->rows_host;
    /* the previous call's host copy is complete (it was synchronized), so reuse is safe */
    memcpy(host + lab_off, labels, lab_b);
    CUDA_CHECK(c, cudaMemcpyAsync(dev + lab_off, host + lab_off, lab_b, cudaMemcpyHostToDevice,
                                  c->stream));
    LAUNCH(k_softmax_xent, cu_blocks(n), CU_BLOCK, c->stream, dlogits, (double *)(dev + loss_off),
           (int32_t *)(dev + hit_off), logits, (const int32_t *)(dev + lab_off), n, classes);
    if (!LAUNCH_CHECK(c))
        return NAN;
    CUDA_CHECK(c, cudaMemcpyAsync(host + loss_off, dev + loss_off, bytes - loss_off,
                                  cudaMemcpyDeviceToHost, c->stream));
    if (!CUDA_CHECK(c, cudaStreamSynchronize(c->stream)))
        return NAN;
    const double *loss = (const double *)(host + loss_off);
    const int32_t *hit = (const int32_t *)(host + hit_off);
    double sum = 0;
    int64_t hits = 0;
    for (int64_t i = 0; i < n; i++) {
        sum += loss[i];
        hits += hit[i];
    }
    if (correct)
        *correct = hits;
    return sum / (double)n;
}

static void cu_sgd_step(float *p, float *vel, const float *g, const float *decay, int64_t n,
                        float lr, float momentum, float weight_decay, bool nesterov)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || n == 0 || !cu_fits(c, n, "parameter block"))
        return;
    LAUNCH(k_sgd, cu_blocks(n), CU_BLOCK, c->stream, p, vel, g, decay, n, lr, momentum,
           weight_decay, nesterov);
    LAUNCH_CHECK(c);
}

static void cu_adamw_step(float *p, float *m, float *v, const float *g, const float *decay,
                          int64_t n, float lr, float beta1, float beta2, float eps,
                          float weight_decay, int64_t t)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || n == 0 || !cu_fits(c, n, "parameter block"))
        return;
    /* bias corrections on the host, as the CPU backend computes them */
    float c1 = 1.0f - powf(beta1, (float)t), c2 = 1.0f - powf(beta2, (float)t);
    LAUNCH(k_adamw, cu_blocks(n), CU_BLOCK, c->stream, p, m, v, g, decay, n, lr, beta1, beta2, eps,
           weight_decay, c1, c2);
    LAUNCH_CHECK(c);
}

/* Max-pool backward: per input, a gather over the outputs whose window (passed by the
 * engine, the forward pass's) covers it and whose argmax is that input. */
static void cu_maxpool_backward(float *dx, const float *dy, const int32_t *argmax, int64_t n,
                                int64_t ch, int64_t h, int64_t w, int32_t k, int32_t stride,
                                int32_t pad)
{
    cu_ctx *c = cu_get();
    int64_t oh = pool_out(h, k, stride, pad), ow = pool_out(w, k, stride, pad);
    if (c->err != TD_OK || !dx || n * ch * oh * ow <= 0 ||
        !cu_fits(c, n * ch * h * w, "max pool input") ||
        !cu_fits(c, n * ch * oh * ow, "max pool output"))
        return;
    int64_t planes = n * ch;
    LAUNCH(k_maxpool_bwd, cu_blocks(planes * h * w), CU_BLOCK, c->stream, dx, dy, argmax, planes,
           h, w, k, stride, pad, oh, ow);
    LAUNCH_CHECK(c);
}

/* Table entries of the resident training set (engine hook 3, docs/cuda.md). */
static void *cu_dataset_upload_h(const nn_dataset *ds)
{
    nn_cuda_dataset *dd = (nn_cuda_dataset *)calloc(1, sizeof *dd);
    if (!dd)
        return NULL;
    if (nn_cuda_dataset_upload(dd, ds, 0) != TD_OK) {
        free(dd);
        return NULL;
    }
    return dd;
}

static void cu_dataset_free_h(void *h)
{
    if (!h)
        return;
    nn_cuda_dataset_free((nn_cuda_dataset *)h);
    free(h);
}

static void cu_batch_fill_h(float *x_dev, int32_t *y, void *h, const nn_dataset *ds,
                            const int64_t *idx, int64_t n, const nn_norm *norm,
                            const nn_augment *aug, td_rng *rng)
{
    nn_cuda_batch_fill(x_dev, y, (const nn_cuda_dataset *)h, ds, idx, n, norm, aug, rng);
}

/* The convolutions keep their im2col workspace per thread (cu_ctx); the engine's `work`
 * buffer is unused here, so it asks for one float. */
static size_t cu_conv_work_floats(const nn_conv_dims *d, int threads)
{
    (void)d;
    (void)threads;
    return 1;
}

/* ------------------------------------------------------------------ resident dataset */

typedef struct cu_norm {
    float mean[NN_DATA_MAX_CHANNELS], inv[NN_DATA_MAX_CHANNELS];
} cu_norm;

/* One thread per output value; meta per image: index, dy, dx, flip. The arithmetic is
 * nn_batch_fill's with rounding per operation (no FMA contraction), so x is bit-identical. */
__global__ void k_batch_fill(float *x, const uint8_t *pixels, const int32_t *meta, ix_t n, ix_t C,
                             ix_t H, ix_t W, cu_norm nm)
{
    ix_t total = n * C * H * W;
    GRID_LOOP(t, total)
    {
        ix_t j = t % W, i = (t / W) % H, c = (t / (H * W)) % C, b = t / (C * H * W);
        const int32_t *mt = meta + 4 * b;
        ix_t si = i + mt[1], sj = (mt[3] ? W - 1 - j : j) + mt[2];
        float m = nm.mean[c], inv = nm.inv[c];
        float v;
        if (si < 0 || si >= H || sj < 0 || sj >= W) {
            v = __fmul_rn(__fsub_rn(0.0f, m), inv);
        } else {
            float p = (float)pixels[(((int64_t)mt[0] * C + c) * H + si) * W + sj];
            v = __fmul_rn(__fsub_rn(__fmul_rn(p, 1.0f / 255.0f), m), inv);
        }
        x[t] = v;
    }
}

extern "C" td_status nn_cuda_dataset_upload(nn_cuda_dataset *dd, const nn_dataset *ds,
                                            size_t max_bytes)
{
    memset(dd, 0, sizeof *dd);
    cu_ctx *c = cu_get();
    if (c->err != TD_OK)
        return td_fail(c->err, "%s", c->msg);
    size_t bytes = (size_t)(ds->n * ds->c * ds->h * ds->w);
    if (max_bytes == 0) {
        size_t free_b = 0, total_b = 0;
        if (!CUDA_CHECK(c, cudaMemGetInfo(&free_b, &total_b)))
            return c->err;
        max_bytes = free_b > ((size_t)1 << 30) ? free_b - ((size_t)1 << 30) : 0;
    }
    if (bytes > max_bytes)
        return td_fail(TD_ERR_NOMEM,
                       "dataset of %lld images (%zu bytes) does not fit the %zu bytes allowed on "
                       "the GPU; batches are made on the host",
                       (long long)ds->n, bytes, max_bytes);
    if (ds->c > NN_DATA_MAX_CHANNELS || !cu_fits(c, (int64_t)bytes, "dataset"))
        return td_fail(TD_ERR_UNSUPPORTED, "dataset too large for the GPU batch fill");
    void *p = NULL;
    if (!CUDA_CHECK(c, cudaMalloc(&p, bytes ? bytes : 1)))
        return c->err;
    if (!CUDA_CHECK(c, cudaMemcpyAsync(p, ds->pixels, bytes, cudaMemcpyHostToDevice, c->stream)) ||
        !CUDA_CHECK(c, cudaStreamSynchronize(c->stream))) {
        cudaFree(p);
        return c->err;
    }
    dd->pixels = (uint8_t *)p;
    dd->n = ds->n;
    dd->c = ds->c;
    dd->h = ds->h;
    dd->w = ds->w;
    return TD_OK;
}

extern "C" void nn_cuda_dataset_free(nn_cuda_dataset *dd)
{
    if (dd->pixels)
        cudaFree(dd->pixels);
    memset(dd, 0, sizeof *dd);
}

extern "C" void nn_cuda_batch_fill(float *x_dev, int32_t *y, const nn_cuda_dataset *dd,
                                   const nn_dataset *ds, const int64_t *idx, int64_t n,
                                   const nn_norm *norm, const nn_augment *aug, td_rng *rng)
{
    cu_ctx *c = cu_get();
    if (c->err != TD_OK || n <= 0 || !cu_fits(c, n * dd->c * dd->h * dd->w, "batch"))
        return;
    size_t mb = (size_t)n * 4 * sizeof(int32_t);
    if (mb > c->meta_host_bytes) {
        int32_t *m = (int32_t *)realloc(c->meta_host, mb);
        if (!m) {
            cu_fail(c, TD_ERR_NOMEM, __FILE__, __LINE__, "out of host memory");
            return;
        }
        c->meta_host = m;
        c->meta_host_bytes = mb;
    }
    /* the draws of nn_batch_fill, in its order */
    for (int64_t b = 0; b < n; b++) {
        int64_t dy = 0, dx = 0;
        bool flip = false;
        if (aug && rng) {
            if (aug->crop_pad > 0) {
                dy = td_rng_range(rng, -aug->crop_pad, aug->crop_pad);
                dx = td_rng_range(rng, -aug->crop_pad, aug->crop_pad);
            }
            if (aug->flip)
                flip = td_rng_uniform(rng) < 0.5;
        }
        if (idx[b] < 0 || idx[b] >= dd->n) {
            cu_fail(c, TD_ERR_INTERNAL, __FILE__, __LINE__,
                    "batch image %lld is index %lld, outside the resident dataset of %lld",
                    (long long)b, (long long)idx[b], (long long)dd->n);
            return;
        }
        int32_t *mt = c->meta_host + 4 * b;
        mt[0] = (int32_t)idx[b];
        mt[1] = (int32_t)dy;
        mt[2] = (int32_t)dx;
        mt[3] = flip;
        if (y)
            y[b] = ds->labels[idx[b]];
    }
    void *meta = cu_scratch(c, &c->meta_dev, &c->meta_dev_bytes, mb);
    if (!meta)
        return;
    /* through the pinned staging of upload: asynchronous, and safe to reuse meta_host now */
    cu_upload((float *)meta, (const float *)c->meta_host, (size_t)n * 4);
    cu_norm nm;
    memset(&nm, 0, sizeof nm);
    for (int64_t ch = 0; ch < dd->c; ch++) {
        nm.mean[ch] = norm->mean[ch];
        nm.inv[ch] = 1.0f / norm->std[ch];
    }
    LAUNCH(k_batch_fill, cu_blocks(n * dd->c * dd->h * dd->w), CU_BLOCK, c->stream, x_dev,
           dd->pixels, (const int32_t *)meta, n, dd->c, dd->h, dd->w, nm);
    LAUNCH_CHECK(c);
}

/* ------------------------------------------------------------------ table and probes */

/* The table, filled by member name (robust to members added to nn_backend: they stay
 * NULL) once per process. */
static nn_backend cuda_backend;

static void cu_table_fill(void)
{
    cuda_backend.name = "cuda";
    cuda_backend.alloc = cu_alloc;
    cuda_backend.upload = cu_upload;
    cuda_backend.download = cu_download;
    cuda_backend.zero = cu_zero;
    cuda_backend.conv_forward = cu_conv_forward;
    cuda_backend.conv_backward = cu_conv_backward;
    cuda_backend.bn_forward_train = cu_bn_forward_train;
    cuda_backend.bn_forward_eval = cu_bn_forward_eval;
    cuda_backend.bn_backward = cu_bn_backward;
    cuda_backend.relu_forward = cu_relu_forward;
    cuda_backend.relu_backward = cu_relu_backward;
    cuda_backend.maxpool_forward = cu_maxpool_forward;
    cuda_backend.maxpool_backward = cu_maxpool_backward;
    cuda_backend.conv_work_floats = cu_conv_work_floats;
    cuda_backend.dataset_upload = cu_dataset_upload_h;
    cuda_backend.dataset_free = cu_dataset_free_h;
    cuda_backend.batch_fill = cu_batch_fill_h;
    cuda_backend.avgpool_forward = cu_avgpool_forward;
    cuda_backend.avgpool_backward = cu_avgpool_backward;
    cuda_backend.gap_forward = cu_gap_forward;
    cuda_backend.gap_backward = cu_gap_backward;
    cuda_backend.fc_forward = cu_fc_forward;
    cuda_backend.fc_backward = cu_fc_backward;
    cuda_backend.add_forward = cu_add_forward;
    cuda_backend.add_backward = cu_add_backward;
    cuda_backend.softmax_xent = cu_softmax_xent;
    cuda_backend.sgd_step = cu_sgd_step;
    cuda_backend.adamw_step = cu_adamw_step;
}

extern "C" int nn_cuda_device_count(void)
{
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess)
        return 0;
    return count;
}

static td_status cu_probe_device(int *count_out)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess)
        return td_fail(TD_ERR_UNSUPPORTED, "no CUDA device found (cudaGetDeviceCount: %s, %s)",
                       cudaGetErrorName(e), cudaGetErrorString(e));
    if (count == 0)
        return td_fail(TD_ERR_UNSUPPORTED,
                       "no CUDA device found (cudaGetDeviceCount: 0 devices; check "
                       "CUDA_VISIBLE_DEVICES)");
    *count_out = count;
    return TD_OK;
}

extern "C" td_status nn_cuda_device_name(char *buf, size_t len)
{
    int count;
    td_status st = cu_probe_device(&count);
    if (st != TD_OK)
        return st;
    cudaDeviceProp prop;
    cudaError_t e = cudaGetDeviceProperties(&prop, 0);
    if (e != cudaSuccess)
        return td_fail(TD_ERR_UNSUPPORTED, "cudaGetDeviceProperties: %s", cudaGetErrorString(e));
    snprintf(buf, len, "%s (sm_%d%d)", prop.name, prop.major, prop.minor);
    return TD_OK;
}

/* One info line per process naming the GPU the backend trains on. */
static void cu_log_device(void)
{
    char name[300];
    if (nn_cuda_device_name(name, sizeof name) == TD_OK)
        td_log_info("CUDA backend on %s%s", name,
                    getenv("TANDEM_CUDA_TF32") && getenv("TANDEM_CUDA_TF32")[0] == '1'
                        ? ", TF32 GEMMs"
                        : "");
}

extern "C" td_status nn_backend_cuda_get(const nn_backend **out)
{
    int count;
    td_status st = cu_probe_device(&count);
    if (st != TD_OK)
        return st;
    cudaFuncAttributes fa;
    cudaError_t e = cudaFuncGetAttributes(&fa, k_relu_fwd);
    if (e != cudaSuccess) {
        cudaGetLastError();
        char name[300] = "device 0";
        cudaDeviceProp prop;
        if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
            snprintf(name, sizeof name, "'%s' (sm_%d%d)", prop.name, prop.major, prop.minor);
        return td_fail(TD_ERR_UNSUPPORTED,
                       "the CUDA backend cannot run on GPU %s: %s (this build has code for "
                       "sm_80 and sm_90 and PTX for newer GPUs)",
                       name, cudaGetErrorString(e));
    }
    cu_ctx *c = cu_get();
    if (c->err != TD_OK)
        return td_fail(c->err, "%s", c->msg);
    static pthread_once_t logged = PTHREAD_ONCE_INIT, filled = PTHREAD_ONCE_INIT;
    pthread_once(&logged, cu_log_device);
    pthread_once(&filled, cu_table_fill);
    *out = &cuda_backend;
    return TD_OK;
}

extern "C" td_status nn_backend_cuda_status(void)
{
    pthread_once(&cu_key_once, cu_key_make);
    cu_ctx *c = (cu_ctx *)pthread_getspecific(cu_key);
    if (!c)
        return TD_OK;
    if (c->err == TD_OK && c->ready)
        CUDA_CHECK(c, cudaStreamSynchronize(c->stream));
    if (c->err != TD_OK)
        return td_fail(c->err, "%s", c->msg);
    return TD_OK;
}

extern "C" void nn_backend_cuda_clear_error(void)
{
    pthread_once(&cu_key_once, cu_key_make);
    cu_ctx *c = (cu_ctx *)pthread_getspecific(cu_key);
    if (c && c->ready) {
        c->err = TD_OK;
        c->msg[0] = 0;
        cudaGetLastError();
    }
}
