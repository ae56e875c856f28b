/* CUDA training backend: the nn_backend table of nn_train.h on an NVIDIA GPU.
 *
 * Built where nvcc exists (CMake defines NN_HAVE_CUDA on nn_search); usable where a GPU is
 * present at run time: nn_backend_cuda_get() fails with TD_ERR_UNSUPPORTED naming the reason
 * otherwise ("no CUDA device found (cudaGetDeviceCount: ...)").
 *
 * Design (docs/cuda.md):
 *   - memory: one device arena per network, keyed by the `ctx` the engine passes to alloc
 *     (its td_arena); cudaMalloc'd in large zeroed blocks (64 MiB, then doubling) carved up;
 *     never managed memory. nn_backend_cuda_release(ctx) frees a network's arena.
 *   - streams: each host thread drives its own non-blocking stream, cuBLAS handle and scratch
 *     (im2col workspace, reduction partials, pinned staging buffers), created on first use
 *     and freed at thread exit. Networks trained from different threads therefore run
 *     concurrently on one GPU. A network must be driven by one thread at a time; to hand
 *     it to another thread, call nn_backend_cuda_status() on the old one first (it waits for
 *     that thread's queued work, e.g. the uploads of nn_net_init).
 *   - GEMMs: im2col (whole batch, chunked to the workspace limit) + cuBLAS SGEMM, FP32 by
 *     default (TANDEM_CUDA_TF32=1 in the environment enables TF32 tensor cores);
 *     depthwise convolutions use direct kernels.
 *   - determinism: no atomics; every reduction has a fixed order for a given shape, so a
 *     run repeats bit for bit on the same GPU model, toolkit and workspace limit.
 *   - errors: the table's functions return void, so the first CUDA/cuBLAS failure of a
 *     thread is recorded with its file and line (td_fail + one error log line); later calls
 *     of that thread do nothing, softmax_xent returns NaN (the engine stops), and
 *     nn_backend_cuda_status() returns the recorded failure. */
#ifndef NN_BACKEND_CUDA_H
#define NN_BACKEND_CUDA_H

#include <stddef.h>

/* The project headers are C without their own extern "C" guards. */
#ifdef __cplusplus
extern "C" {
#endif

#include "nn_data.h"
#include "nn_train.h"
#include "td_rng.h"
#include "td_status.h"

/* The CUDA backend, after checking that a device is present and can run this build's
 * kernels (sm_80 / sm_90 code, PTX for newer GPUs). TD_ERR_UNSUPPORTED with the reason
 * otherwise. */
td_status nn_backend_cuda_get(const nn_backend **out);

/* Number of CUDA devices (0 when none or no driver). */
int nn_cuda_device_count(void);
/* Name and compute capability of device 0, e.g. "NVIDIA H100 80GB HBM3 (sm_90)";
 * TD_ERR_UNSUPPORTED when there is none. */
td_status nn_cuda_device_name(char *buf, size_t len);

/* TD_OK, or the first CUDA/cuBLAS failure of the calling thread (message with file:line).
 * Also waits for the thread's queued GPU work, so it reports asynchronous kernel faults. */
td_status nn_backend_cuda_status(void);
/* Forgets the calling thread's recorded failure (tests; the context may be unusable after a
 * kernel fault, see docs/cuda.md). */
void nn_backend_cuda_clear_error(void);

/* Frees the device arena of the network whose alloc ctx this was (its &net->arena);
 * nn_net_free calls it for CUDA networks. Unknown ctx (e.g. already released): nothing. */
void nn_backend_cuda_release(void *ctx);
/* Bytes of device memory held by arenas (all networks) and by this thread's scratch. */
size_t nn_backend_cuda_arena_bytes(void);

/* Upper bound of the im2col workspace per thread in bytes (default 256 MiB); larger batches
 * are processed in chunks of images. Tests lower it to exercise chunking. */
void nn_backend_cuda_set_workspace_limit(size_t bytes);

/* ---- whole dataset resident on the device (engine hook, docs/cuda.md) ----
 * The engine's step uploads a host batch made by nn_batch_fill. With the dataset's pixels on
 * the device, the batch is gathered, normalized and augmented there instead: the host only
 * draws the augmentation (the same rng draws in the same order as nn_batch_fill, so the
 * batch is bit-identical) and sends 16 bytes per image. */
typedef struct nn_cuda_dataset {
    uint8_t *pixels; /* device copy of ds->pixels */
    int64_t n, c, h, w;
} nn_cuda_dataset;

/* Copies ds's pixels to the device if they take at most max_bytes (0: the free device memory
 * less 1 GiB); TD_ERR_NOMEM naming both sizes otherwise, and the caller keeps the host path. */
td_status nn_cuda_dataset_upload(nn_cuda_dataset *dd, const nn_dataset *ds, size_t max_bytes);
void nn_cuda_dataset_free(nn_cuda_dataset *dd);
/* nn_batch_fill into device memory x_dev (n x C x H x W floats) from the resident images
 * idx[0..n) of dd (a copy of ds, which supplies the labels into the host array y, may be
 * NULL); same normalization, augmentation and rng draws as nn_batch_fill, bit for bit.
 * Failures are recorded like the backend's (nn_backend_cuda_status). */
void nn_cuda_batch_fill(float *x_dev, int32_t *y, const nn_cuda_dataset *dd, const nn_dataset *ds,
                        const int64_t *idx, int64_t n, const nn_norm *norm, const nn_augment *aug,
                        td_rng *rng);

#ifdef __cplusplus
}
#endif

#endif
