/* Datasets: IDX reading (plain and gzip'd), every error a broken file can raise (wrong
 * magic, truncated, corrupt gzip, trailing bytes, label count and range), the deterministic
 * split, normalization and augmentation. Files are made by the test in a temp folder. */
#include "nn_data.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256];

static const char *path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void write_raw(const char *p, const void *data, size_t n)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tandem-test-nn-data-XXXXXX");
    assert_non_null(mkdtemp(dir));
    /* 6 images 2x3 with pixel = 10*i + k, labels i % 3 */
    uint8_t pix[36], lab[6];
    for (int i = 0; i < 6; i++) {
        lab[i] = (uint8_t)(i % 3);
        for (int k = 0; k < 6; k++)
            pix[i * 6 + k] = (uint8_t)(10 * i + k);
    }
    int64_t di[3] = {6, 2, 3}, dl[1] = {6}, dl5[1] = {5};
    assert_int_equal(nn_idx_write(path("img.gz"), 3, di, pix), TD_OK);
    assert_int_equal(nn_idx_write(path("img"), 3, di, pix), TD_OK);
    assert_int_equal(nn_idx_write(path("lab.gz"), 1, dl, lab), TD_OK);
    assert_int_equal(nn_idx_write(path("lab5"), 1, dl5, lab), TD_OK);
    lab[2] = 12;
    assert_int_equal(nn_idx_write(path("labbig"), 1, dl, lab), TD_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"img.gz", "img",      "lab.gz",     "lab5", "labbig", "magic",
                           "trunc",  "trunc.gz", "corrupt.gz", "long", "type",   NULL};
    for (int i = 0; names[i]; i++)
        unlink(path(names[i]));
    rmdir(dir);
    return 0;
}

static void test_read_plain_and_gz(void **state)
{
    (void)state;
    nn_dataset a, b;
    assert_int_equal(nn_dataset_load_idx(&a, path("img.gz"), path("lab.gz"), 0), TD_OK);
    assert_int_equal(nn_dataset_load_idx(&b, path("img"), path("lab.gz"), 10), TD_OK);
    assert_int_equal(a.n, 6);
    assert_int_equal(a.c, 1);
    assert_int_equal(a.h, 2);
    assert_int_equal(a.w, 3);
    assert_int_equal(a.classes, 3);
    assert_int_equal(b.classes, 10);
    assert_memory_equal(a.pixels, b.pixels, 36);
    assert_int_equal(a.pixels[4 * 6 + 5], 45);
    assert_int_equal(a.labels[5], 2);
    nn_dataset_free(&a);
    nn_dataset_free(&b);
}

static void expect_error(td_status got, td_status want, const char *text)
{
    assert_int_equal(got, want);
    if (!strstr(td_error_message(), text))
        print_error("message '%s' lacks '%s'\n", td_error_message(), text);
    assert_non_null(strstr(td_error_message(), text));
}

static void test_errors(void **state)
{
    (void)state;
    nn_dataset ds;
    int nd;
    int64_t dims[4];
    uint8_t *data;
    /* missing file */
    expect_error(nn_idx_read(path("nope"), &nd, dims, &data), TD_ERR_IO, "nope: cannot open");
    /* wrong magic */
    const uint8_t magic[] = {0x12, 0x34, 0x08, 0x03, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7};
    write_raw(path("magic"), magic, sizeof magic);
    expect_error(nn_idx_read(path("magic"), &nd, dims, &data), TD_ERR_FORMAT,
                 "not an IDX file: magic 0x12340803");
    /* unsupported element type */
    const uint8_t type[] = {0, 0, 0x0d, 0x01, 0, 0, 0, 1, 0, 0, 0, 0};
    write_raw(path("type"), type, sizeof type);
    expect_error(nn_idx_read(path("type"), &nd, dims, &data), TD_ERR_FORMAT,
                 "element type 0x0d is not supported");
    /* truncated plain file: header says 2x2x2 = 8 bytes, 5 present */
    const uint8_t trunc[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5};
    write_raw(path("trunc"), trunc, sizeof trunc);
    expect_error(nn_idx_read(path("trunc"), &nd, dims, &data), TD_ERR_FORMAT,
                 "truncated: file ends at byte 21 while reading the data (24 bytes expected)");
    /* truncated gzip stream: the first half of a valid .gz file */
    FILE *f = fopen(path("img.gz"), "rb");
    uint8_t gz[4096];
    size_t n = fread(gz, 1, sizeof gz, f);
    fclose(f);
    write_raw(path("trunc.gz"), gz, n / 2);
    td_status st = nn_idx_read(path("trunc.gz"), &nd, dims, &data);
    assert_int_equal(st, TD_ERR_FORMAT);
    assert_non_null(strstr(td_error_message(), "trunc.gz"));
    assert_true(strstr(td_error_message(), "truncated") || strstr(td_error_message(), "corrupt"));
    /* corrupt gzip stream: flipped bytes in the deflate data */
    memcpy(gz + n, gz, 0);
    for (size_t i = 12; i < n - 8; i++)
        gz[i] ^= 0x5a;
    write_raw(path("corrupt.gz"), gz, n);
    st = nn_idx_read(path("corrupt.gz"), &nd, dims, &data);
    assert_int_equal(st, TD_ERR_FORMAT);
    assert_non_null(strstr(td_error_message(), "corrupt.gz"));
    assert_true(strstr(td_error_message(), "corrupt") || strstr(td_error_message(), "truncated"));
    /* trailing bytes */
    const uint8_t lng[] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3};
    write_raw(path("long"), lng, sizeof lng);
    expect_error(nn_idx_read(path("long"), &nd, dims, &data), TD_ERR_FORMAT,
                 "longer than its header says (10 bytes expected)");
    /* label count mismatch */
    expect_error(nn_dataset_load_idx(&ds, path("img.gz"), path("lab5"), 0), TD_ERR_FORMAT,
                 "lab5 has 5 labels but");
    /* label out of range */
    expect_error(nn_dataset_load_idx(&ds, path("img.gz"), path("labbig"), 10), TD_ERR_FORMAT,
                 "label 12 of image 2 is not below 10");
    /* images given as labels and vice versa */
    expect_error(nn_dataset_load_idx(&ds, path("lab.gz"), path("lab.gz"), 0), TD_ERR_FORMAT,
                 "an image file needs 3 (N, H, W) or 4 (N, C, H, W) dimensions, this one has 1");
    expect_error(nn_dataset_load_idx(&ds, path("img.gz"), path("img.gz"), 0), TD_ERR_FORMAT,
                 "a label file needs 1 dimension, this one has 3");
    /* a folder without the MNIST file names */
    nn_dataset tr;
    expect_error(nn_dataset_load_dir(&tr, NULL, dir), TD_ERR_IO,
                 "train-images-idx3-ubyte.gz: cannot open");
}

static void test_split_norm_augment(void **state)
{
    (void)state;
    nn_dataset all, tr, va, tr2, va2;
    assert_int_equal(nn_dataset_load_idx(&all, path("img.gz"), path("lab.gz"), 0), TD_OK);
    assert_int_equal(nn_dataset_split(&tr, &va, &all, 2, 42), TD_OK);
    assert_int_equal(nn_dataset_split(&tr2, &va2, &all, 2, 42), TD_OK);
    assert_int_equal(va.n, 2);
    assert_int_equal(tr.n, 4);
    assert_memory_equal(va.pixels, va2.pixels, 12);
    assert_memory_equal(tr.labels, tr2.labels, 4);
    /* the split is a partition: every image once */
    int seen[6] = {0};
    for (int i = 0; i < 2; i++)
        seen[va.pixels[i * 6] / 10]++;
    for (int i = 0; i < 4; i++)
        seen[tr.pixels[i * 6] / 10]++;
    for (int i = 0; i < 6; i++)
        assert_int_equal(seen[i], 1);
    expect_error(nn_dataset_split(&tr2, &va2, &all, 6, 1), TD_ERR_CONFIG,
                 "validation split of 6 images out of 6");
    nn_norm norm;
    assert_int_equal(nn_norm_compute(&norm, &all), TD_OK);
    /* mean of 10i + k over i < 6, k < 6 is 27.5 */
    assert_true(norm.mean[0] > 27.5f / 255 - 1e-6f && norm.mean[0] < 27.5f / 255 + 1e-6f);
    float x[6], xf[6];
    int64_t idx = 1;
    int32_t y;
    nn_batch_fill(x, &y, &all, &idx, 1, &norm, NULL, NULL);
    assert_int_equal(y, 1);
    for (int k = 0; k < 6; k++) {
        float want = ((float)(10 + k) / 255.0f - norm.mean[0]) / norm.std[0];
        assert_true(x[k] > want - 1e-5f && x[k] < want + 1e-5f);
    }
    /* flip only (probability 1/2): some draw flips row 0 to 12 11 10 */
    td_rng rng;
    assert_int_equal(td_rng_init(&rng, 5), TD_OK);
    nn_augment aug = {0, true};
    int flipped = 0;
    for (int t = 0; t < 20; t++) {
        nn_batch_fill(xf, NULL, &all, &idx, 1, &norm, &aug, &rng);
        if (xf[0] == x[2] && xf[2] == x[0] && xf[3] == x[5])
            flipped++;
        else
            assert_memory_equal(xf, x, sizeof x);
    }
    assert_true(flipped > 0 && flipped < 20);
    td_rng_free(&rng);
    nn_dataset_free(&all);
    nn_dataset_free(&tr);
    nn_dataset_free(&va);
    nn_dataset_free(&tr2);
    nn_dataset_free(&va2);
}

static void test_fashion_mnist(void **state)
{
    (void)state;
    nn_dataset tr, te;
    if (access(NN_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) != 0)
        skip();
    assert_int_equal(nn_dataset_load_dir(&tr, &te, NULL), TD_OK);
    assert_int_equal(tr.n, 60000);
    assert_int_equal(te.n, 10000);
    assert_int_equal(tr.h, 28);
    assert_int_equal(tr.classes, 10);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_plain_and_gz),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_split_norm_augment),
        cmocka_unit_test(test_fashion_mnist),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
