/* Datasets: IDX files (MNIST format, gzip'd or plain), deterministic train/validation split,
 * per-channel normalization and augmentation (random crop with padding, horizontal flip).
 *
 * IDX layout (big endian): two zero bytes, a type byte (only 0x08 = unsigned byte is read),
 * the number of dimensions, one u32 per dimension, then the data. Images are 3-D (N, H, W)
 * or 4-D (N, C, H, W) files, labels 1-D (N). */
#ifndef NN_DATA_H
#define NN_DATA_H

#include "td_rng.h"
#include "td_status.h"

#include <stdbool.h>
#include <stdint.h>

#define NN_DATA_MAX_CHANNELS 16

/* Folder of the Debian dataset-fashion-mnist package. */
#define NN_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

typedef struct nn_dataset {
    int64_t n, c, h, w; /* images and their shape */
    int64_t classes;    /* max label + 1 (at least 2) */
    uint8_t *pixels;    /* n * c * h * w, NCHW */
    uint8_t *labels;    /* n */
} nn_dataset;

/* Per-channel normalization: x = (pixel / 255 - mean[c]) / std[c]. */
typedef struct nn_norm {
    int64_t c;
    float mean[NN_DATA_MAX_CHANNELS];
    float std[NN_DATA_MAX_CHANNELS];
} nn_norm;

typedef struct nn_augment {
    int32_t crop_pad; /* random crop from the image zero-padded by this many pixels (0: off) */
    bool flip;        /* random horizontal flip with probability 1/2 */
} nn_augment;

/* Reads one IDX file of unsigned bytes. dims gets up to 4 sizes; *data is malloc'd. */
td_status nn_idx_read(const char *path, int *ndims, int64_t dims[4], uint8_t **data);
/* Writes a (plain or, when the path ends in .gz, gzip'd) IDX file of unsigned bytes. */
td_status nn_idx_write(const char *path, int ndims, const int64_t *dims, const uint8_t *data);

/* Loads an image file and its label file; checks that the counts agree. classes = 0 takes
 * max label + 1; otherwise labels must be below classes. */
td_status nn_dataset_load_idx(nn_dataset *ds, const char *images_path, const char *labels_path,
                              int64_t classes);
/* Loads "<dir>/train-images-idx3-ubyte[.gz]" etc. (the MNIST file names); test may be NULL.
 * dir NULL or "" means NN_FASHION_MNIST_DIR. */
td_status nn_dataset_load_dir(nn_dataset *train, nn_dataset *test, const char *dir);
void nn_dataset_free(nn_dataset *ds);
td_status nn_dataset_alloc(nn_dataset *ds, int64_t n, int64_t c, int64_t h, int64_t w,
                           int64_t classes);

/* Deterministic split: a seeded permutation of src; the first n_val images go to val, the
 * rest to train (both copies). */
td_status nn_dataset_split(nn_dataset *train, nn_dataset *val, const nn_dataset *src, int64_t n_val,
                           uint64_t seed);
/* The first n images of src (a copy); n is clamped to src->n. */
td_status nn_dataset_head(nn_dataset *dst, const nn_dataset *src, int64_t n);

/* Mean and standard deviation per channel of pixel/255 over the whole set. */
td_status nn_norm_compute(nn_norm *norm, const nn_dataset *ds);

/* Builds a float batch (NCHW) from images idx[0..n): normalization, then augmentation when
 * aug is non-NULL (rng draws are taken per image in order, so batches are deterministic).
 * y may be NULL. */
void nn_batch_fill(float *x, int32_t *y, const nn_dataset *ds, const int64_t *idx, int64_t n,
                   const nn_norm *norm, const nn_augment *aug, td_rng *rng);

/* Data for search and training: train/val split of the training file, and the test set. */
typedef struct nn_data {
    nn_dataset train, val, test;
    nn_norm norm; /* computed on train */
} nn_data;

/* Loads dir (NULL/"": Fashion-MNIST), carves n_val validation images with the seed. */
td_status nn_data_load(nn_data *d, const char *dir, int64_t n_val, uint64_t seed);
void nn_data_free(nn_data *d);

#endif
