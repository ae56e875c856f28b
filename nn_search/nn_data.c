#include "nn_data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Reads exactly len bytes; names what was being read when the file ends early. */
static td_status gz_read_exact(gzFile f, const char *path, void *buf, size_t len, size_t offset,
                               const char *what)
{
    size_t got = 0;
    while (got < len) {
        unsigned chunk = (unsigned)((len - got) > (1u << 30) ? (1u << 30) : (len - got));
        int r = gzread(f, (char *)buf + got, chunk);
        if (r < 0) {
            int err;
            const char *msg = gzerror(f, &err);
            return td_fail(TD_ERR_FORMAT, "%s: corrupt data at byte %zu (%s): %s", path,
                           offset + got, what, msg);
        }
        if (r == 0) {
            int err;
            const char *msg = gzerror(f, &err);
            if (err != Z_OK && err != Z_BUF_ERROR)
                return td_fail(TD_ERR_FORMAT, "%s: corrupt data at byte %zu (%s): %s", path,
                               offset + got, what, msg);
            return td_fail(TD_ERR_FORMAT,
                           "%s: truncated: file ends at byte %zu while reading %s (%zu bytes "
                           "expected)",
                           path, offset + got, what, offset + len);
        }
        got += (size_t)r;
    }
    return TD_OK;
}

td_status nn_idx_read(const char *path, int *ndims, int64_t dims[4], uint8_t **data)
{
    *data = NULL;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return td_fail(TD_ERR_IO, "%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
    unsigned char hdr[4];
    td_status st = gz_read_exact(f, path, hdr, 4, 0, "the IDX header");
    if (st != TD_OK)
        goto done;
    if (hdr[0] != 0 || hdr[1] != 0 || hdr[3] < 1 || hdr[3] > 4) {
        st = td_fail(TD_ERR_FORMAT,
                     "%s: not an IDX file: magic 0x%02x%02x%02x%02x (expected 0x000008NN with "
                     "1..4 dimensions, e.g. 0x00000803 for images)",
                     path, hdr[0], hdr[1], hdr[2], hdr[3]);
        goto done;
    }
    if (hdr[2] != 0x08) {
        st = td_fail(TD_ERR_FORMAT,
                     "%s: IDX element type 0x%02x is not supported (only 0x08, unsigned byte)",
                     path, hdr[2]);
        goto done;
    }
    *ndims = hdr[3];
    unsigned char dimb[16];
    if ((st = gz_read_exact(f, path, dimb, 4 * (size_t)*ndims, 4, "the IDX dimensions")) != TD_OK)
        goto done;
    size_t total = 1;
    for (int i = 0; i < *ndims; i++) {
        const unsigned char *b = dimb + 4 * i;
        dims[i] = ((int64_t)b[0] << 24) | ((int64_t)b[1] << 16) | ((int64_t)b[2] << 8) | b[3];
        if (dims[i] <= 0 || dims[i] > (1 << 28)) {
            st = td_fail(TD_ERR_FORMAT, "%s: dimension %d is %lld (corrupt header)", path, i,
                         (long long)dims[i]);
            goto done;
        }
        total *= (size_t)dims[i];
        if (total > ((size_t)1 << 34)) {
            st = td_fail(TD_ERR_FORMAT, "%s: header announces more than 16 GiB (corrupt header)",
                         path);
            goto done;
        }
    }
    *data = malloc(total ? total : 1);
    if (!*data) {
        st = td_fail(TD_ERR_NOMEM, "%s: out of memory for %zu bytes", path, total);
        goto done;
    }
    size_t off = 4 + 4 * (size_t)*ndims;
    if ((st = gz_read_exact(f, path, *data, total, off, "the data")) != TD_OK)
        goto done;
    unsigned char extra;
    int r = gzread(f, &extra, 1);
    if (r < 0) {
        int err;
        st = td_fail(TD_ERR_FORMAT, "%s: corrupt data after byte %zu: %s", path, off + total,
                     gzerror(f, &err));
    } else if (r > 0) {
        st = td_fail(TD_ERR_FORMAT,
                     "%s: file is longer than its header says (%zu bytes expected): corrupt or "
                     "not an IDX file",
                     path, off + total);
    }
done:
    gzclose(f);
    if (st != TD_OK) {
        free(*data);
        *data = NULL;
    }
    return st;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

td_status nn_idx_write(const char *path, int ndims, const int64_t *dims, const uint8_t *data)
{
    gzFile f = gzopen(path, ends_with(path, ".gz") ? "wb6" : "wbT");
    if (!f)
        return td_fail(TD_ERR_IO, "%s: cannot create: %s", path, strerror(errno ? errno : EIO));
    unsigned char hdr[4 + 16] = {0, 0, 0x08, (unsigned char)ndims};
    size_t total = 1;
    for (int i = 0; i < ndims; i++) {
        uint32_t v = (uint32_t)dims[i];
        hdr[4 + 4 * i] = (unsigned char)(v >> 24);
        hdr[5 + 4 * i] = (unsigned char)(v >> 16);
        hdr[6 + 4 * i] = (unsigned char)(v >> 8);
        hdr[7 + 4 * i] = (unsigned char)v;
        total *= (size_t)dims[i];
    }
    bool ok = gzwrite(f, hdr, 4 + 4 * (unsigned)ndims) == (int)(4 + 4 * ndims);
    if (ok && total)
        ok = gzwrite(f, data, (unsigned)total) == (int)total;
    if (gzclose(f) != Z_OK)
        ok = false;
    return ok ? TD_OK : td_fail(TD_ERR_IO, "%s: write failed", path);
}

td_status nn_dataset_alloc(nn_dataset *ds, int64_t n, int64_t c, int64_t h, int64_t w,
                           int64_t classes)
{
    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->c = c;
    ds->h = h;
    ds->w = w;
    ds->classes = classes;
    ds->pixels = malloc((size_t)(n * c * h * w) + 1);
    ds->labels = malloc((size_t)n + 1);
    if (!ds->pixels || !ds->labels) {
        nn_dataset_free(ds);
        return td_fail(TD_ERR_NOMEM, "out of memory for %lld images", (long long)n);
    }
    return TD_OK;
}

void nn_dataset_free(nn_dataset *ds)
{
    free(ds->pixels);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

td_status nn_dataset_load_idx(nn_dataset *ds, const char *images_path, const char *labels_path,
                              int64_t classes)
{
    memset(ds, 0, sizeof *ds);
    int nd_i, nd_l;
    int64_t di[4], dl[4];
    uint8_t *pix, *lab;
    td_status st = nn_idx_read(images_path, &nd_i, di, &pix);
    if (st != TD_OK)
        return st;
    if (nd_i != 3 && nd_i != 4) {
        free(pix);
        return td_fail(TD_ERR_FORMAT,
                       "%s: an image file needs 3 (N, H, W) or 4 (N, C, H, W) dimensions, this "
                       "one has %d",
                       images_path, nd_i);
    }
    if (nd_i == 4 && di[1] > NN_DATA_MAX_CHANNELS) {
        free(pix);
        return td_fail(TD_ERR_FORMAT, "%s: %lld channels (at most %d supported)", images_path,
                       (long long)di[1], NN_DATA_MAX_CHANNELS);
    }
    if ((st = nn_idx_read(labels_path, &nd_l, dl, &lab)) != TD_OK) {
        free(pix);
        return st;
    }
    if (nd_l != 1) {
        free(pix);
        free(lab);
        return td_fail(TD_ERR_FORMAT, "%s: a label file needs 1 dimension, this one has %d",
                       labels_path, nd_l);
    }
    if (dl[0] != di[0]) {
        free(pix);
        free(lab);
        return td_fail(TD_ERR_FORMAT, "%s has %lld labels but %s has %lld images", labels_path,
                       (long long)dl[0], images_path, (long long)di[0]);
    }
    int64_t maxl = 0;
    for (int64_t i = 0; i < dl[0]; i++) {
        if (classes > 0 && lab[i] >= classes) {
            td_status e = td_fail(TD_ERR_FORMAT, "%s: label %d of image %lld is not below %lld",
                                  labels_path, lab[i], (long long)i, (long long)classes);
            free(pix);
            free(lab);
            return e;
        }
        if (lab[i] > maxl)
            maxl = lab[i];
    }
    ds->n = di[0];
    ds->c = nd_i == 4 ? di[1] : 1;
    ds->h = nd_i == 4 ? di[2] : di[1];
    ds->w = nd_i == 4 ? di[3] : di[2];
    ds->classes = classes > 0 ? classes : (maxl + 1 < 2 ? 2 : maxl + 1);
    ds->pixels = pix;
    ds->labels = lab;
    return TD_OK;
}

/* "<dir>/<base>" or "<dir>/<base>.gz", whichever exists (the .gz first). */
static void find_file(char *out, size_t size, const char *dir, const char *base)
{
    snprintf(out, size, "%s/%s.gz", dir, base);
    FILE *f = fopen(out, "rb");
    if (f) {
        fclose(f);
        return;
    }
    snprintf(out, size, "%s/%s", dir, base);
    f = fopen(out, "rb");
    if (f) {
        fclose(f);
        return;
    }
    snprintf(out, size, "%s/%s.gz", dir, base); /* the error names the usual file */
}

td_status nn_dataset_load_dir(nn_dataset *train, nn_dataset *test, const char *dir)
{
    if (!dir || !*dir)
        dir = NN_FASHION_MNIST_DIR;
    char pi[4096], pl[4096];
    find_file(pi, sizeof pi, dir, "train-images-idx3-ubyte");
    find_file(pl, sizeof pl, dir, "train-labels-idx1-ubyte");
    td_status st = nn_dataset_load_idx(train, pi, pl, 0);
    if (st != TD_OK || !test)
        return st;
    find_file(pi, sizeof pi, dir, "t10k-images-idx3-ubyte");
    find_file(pl, sizeof pl, dir, "t10k-labels-idx1-ubyte");
    if ((st = nn_dataset_load_idx(test, pi, pl, train->classes)) != TD_OK) {
        nn_dataset_free(train);
        return st;
    }
    if (test->c != train->c || test->h != train->h || test->w != train->w) {
        nn_dataset_free(train);
        nn_dataset_free(test);
        return td_fail(TD_ERR_FORMAT, "%s: test images are not the shape of the training images",
                       pi);
    }
    return TD_OK;
}

static void copy_image(nn_dataset *dst, int64_t j, const nn_dataset *src, int64_t i)
{
    size_t sz = (size_t)(src->c * src->h * src->w);
    memcpy(dst->pixels + (size_t)j * sz, src->pixels + (size_t)i * sz, sz);
    dst->labels[j] = src->labels[i];
}

td_status nn_dataset_split(nn_dataset *train, nn_dataset *val, const nn_dataset *src, int64_t n_val,
                           uint64_t seed)
{
    if (n_val < 0 || n_val >= src->n)
        return td_fail(TD_ERR_CONFIG, "validation split of %lld images out of %lld is not valid",
                       (long long)n_val, (long long)src->n);
    int64_t *perm = malloc((size_t)src->n * sizeof *perm);
    if (!perm)
        return td_fail(TD_ERR_NOMEM, "out of memory");
    td_rng rng;
    td_status st = td_rng_init(&rng, seed);
    if (st != TD_OK) {
        free(perm);
        return st;
    }
    for (int64_t i = 0; i < src->n; i++)
        perm[i] = i;
    for (int64_t i = src->n - 1; i > 0; i--) {
        int64_t j = (int64_t)td_rng_uniform_int(&rng, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    td_rng_free(&rng);
    st = nn_dataset_alloc(val, n_val, src->c, src->h, src->w, src->classes);
    if (st == TD_OK && (st = nn_dataset_alloc(train, src->n - n_val, src->c, src->h, src->w,
                                              src->classes)) != TD_OK)
        nn_dataset_free(val);
    if (st == TD_OK) {
        for (int64_t i = 0; i < n_val; i++)
            copy_image(val, i, src, perm[i]);
        for (int64_t i = n_val; i < src->n; i++)
            copy_image(train, i - n_val, src, perm[i]);
    }
    free(perm);
    return st;
}

td_status nn_dataset_head(nn_dataset *dst, const nn_dataset *src, int64_t n)
{
    if (n > src->n)
        n = src->n;
    td_status st = nn_dataset_alloc(dst, n, src->c, src->h, src->w, src->classes);
    if (st != TD_OK)
        return st;
    for (int64_t i = 0; i < n; i++)
        copy_image(dst, i, src, i);
    return TD_OK;
}

td_status nn_norm_compute(nn_norm *norm, const nn_dataset *ds)
{
    if (ds->c > NN_DATA_MAX_CHANNELS || ds->n < 1)
        return td_fail(TD_ERR_CONFIG, "cannot normalize %lld images of %lld channels",
                       (long long)ds->n, (long long)ds->c);
    memset(norm, 0, sizeof *norm);
    norm->c = ds->c;
    int64_t hw = ds->h * ds->w;
    for (int64_t c = 0; c < ds->c; c++) {
        double s = 0, s2 = 0;
        for (int64_t i = 0; i < ds->n; i++) {
            const uint8_t *p = ds->pixels + (i * ds->c + c) * hw;
            uint64_t a = 0, a2 = 0;
            for (int64_t k = 0; k < hw; k++) {
                a += p[k];
                a2 += (uint64_t)p[k] * p[k];
            }
            s += (double)a;
            s2 += (double)a2;
        }
        double cnt = (double)ds->n * (double)hw;
        double mean = s / cnt / 255.0;
        double var = s2 / cnt / (255.0 * 255.0) - mean * mean;
        norm->mean[c] = (float)mean;
        norm->std[c] = (float)(var > 1e-12 ? sqrt(var) : 1.0);
    }
    return TD_OK;
}

void nn_batch_fill(float *x, int32_t *y, const nn_dataset *ds, const int64_t *idx, int64_t n,
                   const nn_norm *norm, const nn_augment *aug, td_rng *rng)
{
    int64_t C = ds->c, H = ds->h, W = ds->w;
    for (int64_t b = 0; b < n; b++) {
        const uint8_t *img = ds->pixels + idx[b] * C * H * W;
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
        for (int64_t c = 0; c < C; c++) {
            float m = norm->mean[c], inv = 1.0f / norm->std[c];
            float zero = (0.0f - m) * inv; /* padding is a black pixel */
            float *o = x + (b * C + c) * H * W;
            const uint8_t *p = img + c * H * W;
            for (int64_t i = 0; i < H; i++) {
                int64_t si = i + dy;
                for (int64_t j = 0; j < W; j++) {
                    int64_t sj = (flip ? W - 1 - j : j) + dx;
                    o[i * W + j] = (si < 0 || si >= H || sj < 0 || sj >= W)
                                       ? zero
                                       : ((float)p[si * W + sj] * (1.0f / 255.0f) - m) * inv;
                }
            }
        }
        if (y)
            y[b] = ds->labels[idx[b]];
    }
}

td_status nn_data_load(nn_data *d, const char *dir, int64_t n_val, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    nn_dataset all;
    td_status st = nn_dataset_load_dir(&all, &d->test, dir);
    if (st != TD_OK)
        return st;
    st = nn_dataset_split(&d->train, &d->val, &all, n_val, seed);
    nn_dataset_free(&all);
    if (st == TD_OK)
        st = nn_norm_compute(&d->norm, &d->train);
    if (st != TD_OK)
        nn_data_free(d);
    return st;
}

void nn_data_free(nn_data *d)
{
    nn_dataset_free(&d->train);
    nn_dataset_free(&d->val);
    nn_dataset_free(&d->test);
}
