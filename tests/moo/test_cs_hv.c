/* Exact hypervolume: hand-computed sets, and random sets against two independent exact
 * references (inclusion-exclusion over subsets; the grid of all coordinates). */
#include "cs_hv.h"
#include "td_tolerances.h"
#include "td_rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "moo_assert.h"

static double hv(const double *p, size_t n, size_t m, const double *ref)
{
    double v = -1.0;
    assert_int_equal(cs_hv_compute(p, n, m, ref, &v), TD_OK);
    return v;
}

static void test_hand_2d(void **state)
{
    (void)state;
    const double p[] = {1, 3, 2, 2, 3, 1};
    const double ref[] = {4, 4};
    /* strips: 3*1 + 2*1 + 1*1 */
    assert_near(hv(p, 3, 2, ref), 6.0, 0.0);
    /* a dominated point and a duplicate add nothing */
    const double q[] = {1, 3, 2, 2, 3, 1, 3, 3, 2, 2};
    assert_near(hv(q, 5, 2, ref), 6.0, 0.0);
    /* points on or beyond the reference add nothing */
    const double r[] = {1, 3, 4, 0, 5, 5};
    assert_near(hv(r, 3, 2, ref), 3.0, 0.0);
    assert_near(hv(p, 0, 2, ref), 0.0, 0.0);
    const double one[] = {0.25};
    const double ref1[] = {1.0};
    assert_near(hv(one, 1, 1, ref1), 0.75, 0.0);
}

static void test_hand_3d_4d(void **state)
{
    (void)state;
    const double a[] = {0, 0, 0};
    const double ref3a[] = {1, 2, 3};
    assert_near(hv(a, 1, 3, ref3a), 6.0, 0.0);
    /* boxes 2*2*1 = 4 and 1*1*2 = 2 overlapping in 1*1*1 */
    const double b[] = {0, 0, 1, 1, 1, 0};
    const double ref3[] = {2, 2, 2};
    assert_near(hv(b, 2, 3, ref3), 5.0, 0.0);
    /* 4-D: 2*2*2*1 = 8 and 1*1*1*2 = 2 overlapping in 1 */
    const double c[] = {0, 0, 0, 1, 1, 1, 1, 0};
    const double ref4[] = {2, 2, 2, 2};
    assert_near(hv(c, 2, 4, ref4), 9.0, 0.0);
    /* 5-D unit corner point: the whole box */
    const double d[] = {0, 0, 0, 0, 0};
    const double ref5[] = {1, 2, 1, 2, 1};
    assert_near(hv(d, 1, 5, ref5), 4.0, 0.0);
    /* 3 points in 3-D, each the unit box at one axis: 3 boxes 2*1*1 pairwise overlapping
     * in 1*1*1, all three in the same cube: 3*2 - 3*1 + 1 = 4 */
    const double e[] = {0, 1, 1, 1, 0, 1, 1, 1, 0};
    assert_near(hv(e, 3, 3, ref3), 4.0, 0.0);
    /* the same in 4-D with the fourth coordinate 0 and reference 1: volume scales by 1 */
    const double f[] = {0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0};
    const double ref4b[] = {2, 2, 2, 1};
    assert_near(hv(f, 3, 4, ref4b), 4.0, 0.0);
}

/* Volume dominated by the intersection of the boxes of a subset: prod(ref - max). */
static double ie_reference(const double *p, size_t n, size_t m, const double *ref)
{
    double total = 0.0;
    for (unsigned long mask = 1; mask < (1ul << n); mask++) {
        double vol = 1.0;
        int bits = 0;
        for (size_t k = 0; k < m; k++) {
            double hi = -INFINITY;
            for (size_t i = 0; i < n; i++)
                if (mask & (1ul << i))
                    hi = p[i * m + k] > hi ? p[i * m + k] : hi;
            vol *= ref[k] > hi ? ref[k] - hi : 0.0;
        }
        for (size_t i = 0; i < n; i++)
            bits += (mask >> i) & 1;
        total += (bits % 2 ? 1.0 : -1.0) * vol;
    }
    return total;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Grid reference: the cells between consecutive distinct coordinates (and ref) of every
 * objective; a cell counts when some point is <= its lower corner in every objective. */
static double grid_reference(const double *p, size_t n, size_t m, const double *ref)
{
    double *ax[8];
    size_t na[8];
    if (n == 0)
        return 0.0;
    for (size_t k = 0; k < m; k++) {
        ax[k] = malloc((n + 1) * sizeof(double));
        for (size_t i = 0; i < n; i++)
            ax[k][i] = p[i * m + k];
        ax[k][n] = ref[k];
        qsort(ax[k], n + 1, sizeof(double), cmp_double);
        na[k] = n + 1;
    }
    size_t cell[8] = {0};
    double total = 0.0;
    for (;;) {
        double vol = 1.0, lo[8];
        bool empty = false;
        for (size_t k = 0; k < m; k++) {
            lo[k] = ax[k][cell[k]];
            double w = ax[k][cell[k] + 1] - lo[k];
            if (w <= 0.0 || lo[k] >= ref[k])
                empty = true;
            vol *= w;
        }
        if (!empty) {
            for (size_t i = 0; i < n; i++) {
                bool dom = true;
                for (size_t k = 0; k < m && dom; k++)
                    dom = p[i * m + k] <= lo[k];
                if (dom) {
                    total += vol;
                    break;
                }
            }
        }
        size_t k = 0;
        while (k < m && ++cell[k] >= na[k] - 1)
            cell[k++] = 0;
        if (k == m)
            break;
    }
    for (size_t k = 0; k < m; k++)
        free(ax[k]);
    return total;
}

static void test_random_sets(void **state)
{
    (void)state;
    td_rng rng;
    assert_int_equal(td_rng_init(&rng, 2024), TD_OK);
    for (size_t m = 2; m <= 6; m++) {
        for (int trial = 0; trial < 12; trial++) {
            size_t n = 2 + (size_t)td_rng_uniform_int(&rng, m <= 4 ? 9 : 6);
            double p[10 * 6], ref[6];
            for (size_t k = 0; k < m; k++)
                ref[k] = 1.0;
            for (size_t i = 0; i < n; i++) {
                /* points near a simplex front, some dominated, some outside the reference,
                 * some with coordinates from a small set (ties) */
                for (size_t k = 0; k < m; k++) {
                    double u = td_rng_uniform(&rng);
                    p[i * m + k] = trial % 3 == 0 ? floor(u * 4.0) / 4.0 : u * 1.1;
                }
            }
            double got = hv(p, n, m, ref);
            /* the references need the points clipped to inside ref */
            double q[10 * 6];
            size_t nq = 0;
            for (size_t i = 0; i < n; i++) {
                bool in = true;
                for (size_t k = 0; k < m; k++)
                    in = in && p[i * m + k] < ref[k];
                if (in)
                    memcpy(q + nq++ * m, p + i * m, m * sizeof(double));
            }
            double ie = nq ? ie_reference(q, nq, m, ref) : 0.0;
            double grid = grid_reference(q, nq, m, ref);
            double tol = TD_TOL_HV_EXACT_REL * (1.0 + fabs(ie));
            assert_near(got, ie, tol);
            assert_near(got, grid, tol);
        }
    }
    td_rng_free(&rng);
}

/* A larger 4-objective set (WFG recursion) against the grid reference. */
static void test_random_4d_larger(void **state)
{
    (void)state;
    td_rng rng;
    assert_int_equal(td_rng_init(&rng, 7), TD_OK);
    size_t n = 24, m = 4;
    double p[24 * 4], ref[4] = {1, 1, 1, 1};
    for (size_t i = 0; i < n; i++) {
        double s = 0.0, v[4];
        for (size_t k = 0; k < m; k++) {
            v[k] = td_rng_uniform(&rng) + 1e-3;
            s += v[k];
        }
        for (size_t k = 0; k < m; k++)
            p[i * m + k] = v[k] / s * 1.5; /* near the plane sum = 1.5 */
    }
    double got = hv(p, n, m, ref);
    double q[24 * 4];
    size_t nq = 0;
    for (size_t i = 0; i < n; i++) {
        bool in = true;
        for (size_t k = 0; k < m; k++)
            in = in && p[i * m + k] < ref[k];
        if (in)
            memcpy(q + nq++ * m, p + i * m, m * sizeof(double));
    }
    double grid = grid_reference(q, nq, m, ref);
    assert_true(got > 0.0);
    assert_near(got, grid, TD_TOL_HV_EXACT_REL * (1.0 + grid));
    td_rng_free(&rng);
}

static void test_errors(void **state)
{
    (void)state;
    const double p[] = {1, NAN};
    const double ref[] = {2, 2};
    double v;
    assert_int_equal(cs_hv_compute(p, 1, 0, ref, &v), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "0 objectives, expected 1..16"));
    assert_int_equal(cs_hv_compute(p, 1, 2, ref, &v), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "point 0 objective 1 is NaN"));
    const double nref[] = {NAN, 1};
    assert_int_equal(cs_hv_compute(ref, 1, 2, nref, &v), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "reference point objective 0 is NaN"));
    double r[2];
    assert_int_equal(cs_hv_reference_derive(p, 0, 2, 0.1, r), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "from no points"));
    const double inf[] = {1, INFINITY};
    assert_int_equal(cs_hv_reference_derive(inf, 1, 2, 0.1, r), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "point 0 objective 1 is not finite"));
}

static void test_reference_derive(void **state)
{
    (void)state;
    const double p[] = {0, 10, 1, 5, 2, 5};
    double r[2];
    assert_int_equal(cs_hv_reference_derive(p, 3, 2, 0.1, r), TD_OK);
    assert_near(r[0], 2.2, 1e-15);
    assert_near(r[1], 10.5, 1e-15);
    /* every point then lies strictly inside: positive hypervolume */
    assert_true(hv(p, 3, 2, r) > 0.0);
    /* zero range: 10% of the value (or of 1 when the value is small) */
    const double q[] = {3, 0.5, 3, 0.5};
    assert_int_equal(cs_hv_reference_derive(q, 2, 2, 0.1, r), TD_OK);
    assert_near(r[0], 3.3, 1e-15);
    assert_near(r[1], 0.6, 1e-15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_2d),     cmocka_unit_test(test_hand_3d_4d),
        cmocka_unit_test(test_random_sets), cmocka_unit_test(test_random_4d_larger),
        cmocka_unit_test(test_errors),      cmocka_unit_test(test_reference_derive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
