/* CPU emulation of the slice of the CUDA runtime the CUDA backend uses, for tests on
 * machines without a GPU (test_gpu_emulated). Device memory is host memory, streams and
 * events are synchronous, and a kernel launch runs every GPU thread of every block on the
 * CPU: plain calls while a kernel never synchronizes, one fiber per GPU thread (ucontext)
 * once it calls __syncthreads or a warp shuffle; launches from several host threads are
 * serialized. This checks the kernels' indexing and
 * the host code's logic; it says nothing about GPU timing, memory ordering or races. */
#ifndef EMU_CUDA_RUNTIME_H
#define EMU_CUDA_RUNTIME_H

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>

#define __global__
#define __device__
#define __host__
#define __shared__ static

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 {
    unsigned x, y, z;
};
extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;

typedef enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInsufficientDriver = 35,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidDevice = 101,
    cudaErrorNoKernelImageForDevice = 209,
} cudaError_t;

typedef struct emu_stream *cudaStream_t;
typedef struct emu_event *cudaEvent_t;
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2 };
#define cudaStreamNonBlocking 0x01
#define cudaEventDisableTiming 0x02
#define cudaHostAllocDefault 0x00

struct cudaDeviceProp {
    char name[256];
    int major, minor;
};
struct cudaFuncAttributes {
    int maxThreadsPerBlock;
};

cudaError_t cudaGetDeviceCount(int *count);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int dev);
template <typename F> cudaError_t cudaFuncGetAttributes(cudaFuncAttributes *a, F)
{
    a->maxThreadsPerBlock = 1024;
    return cudaSuccess;
}
cudaError_t cudaGetLastError(void);
const char *cudaGetErrorString(cudaError_t e);
const char *cudaGetErrorName(cudaError_t e);
cudaError_t cudaMalloc(void **p, size_t bytes);
cudaError_t cudaFree(void *p);
cudaError_t cudaHostAlloc(void **p, size_t bytes, unsigned flags);
cudaError_t cudaFreeHost(void *p);
cudaError_t cudaMemset(void *p, int v, size_t bytes);
cudaError_t cudaMemsetAsync(void *p, int v, size_t bytes, cudaStream_t s);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t s);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s);
cudaError_t cudaEventSynchronize(cudaEvent_t e);

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes);

/* Kernel side. */
inline float __fmul_rn(float a, float b)
{
    return a * b;
}
inline float __fsub_rn(float a, float b)
{
    return a - b;
}
void __syncthreads(void);
void *emu_shfl_slots(void); /* one slot per thread of the block, 8 bytes each */
template <typename T> T __shfl_down_sync(unsigned mask, T v, int off)
{
    (void)mask;
    T *slot = (T *)emu_shfl_slots();
    slot[threadIdx.x] = v;
    __syncthreads();
    unsigned src = threadIdx.x + (unsigned)off;
    T r = ((threadIdx.x % 32) + (unsigned)off < 32 && src < blockDim.x) ? slot[src] : v;
    __syncthreads();
    return r;
}
/* Runs body for every thread of every block; kernel identifies the kernel (it remembers
 * which kernels synchronize). */
void emu_launch(const void *kernel, dim3 grid, dim3 block, const std::function<void()> &body);

#endif
