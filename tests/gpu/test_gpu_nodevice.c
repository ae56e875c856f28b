/* The CUDA backend where no device is visible (label unit and gpu; runs wherever the
 * backend is built): every device probe fails with TD_ERR_UNSUPPORTED and a message naming
 * cudaGetDeviceCount's answer, so `--device cuda` can fall back to the CPU with one clear line.
 * CUDA_VISIBLE_DEVICES=-1 hides all devices from this process, also on GPU machines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn_backend_cuda.h"
#include "td_status.h"

static void test_get_fails_with_reason(void **state)
{
    (void)state;
    const nn_backend *be = NULL;
    assert_int_equal(nn_backend_cuda_get(&be), TD_ERR_UNSUPPORTED);
    assert_null(be);
    const char *msg = td_error_message();
    print_message("message: %s\n", msg);
    assert_non_null(strstr(msg, "no CUDA device found (cudaGetDeviceCount: "));
}

static void test_probes_without_device(void **state)
{
    (void)state;
    assert_int_equal(nn_cuda_device_count(), 0);
    char name[128];
    assert_int_equal(nn_cuda_device_name(name, sizeof name), TD_ERR_UNSUPPORTED);
    assert_non_null(strstr(td_error_message(), "no CUDA device found"));
    /* nothing ran on this thread: no recorded failure; releasing an unknown ctx is a no-op */
    assert_int_equal(nn_backend_cuda_status(), TD_OK);
    int key;
    nn_backend_cuda_release(&key);
}

int main(void)
{
    setenv("CUDA_VISIBLE_DEVICES", "-1", 1); /* before the first CUDA call */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_fails_with_reason),
        cmocka_unit_test(test_probes_without_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
