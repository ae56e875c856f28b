#include "cs_hv.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Sort key for qsort_r-free sorting: the objective index travels in a file-local, set just
 * before each qsort (hypervolume is computed on one thread at a time per call chain; the
 * recursion sorts before it recurses, so the value is never read stale). */
static _Thread_local size_t hv_sort_obj;
static _Thread_local size_t hv_sort_m;

/* Ascending in objective hv_sort_obj, ties by the following objectives. */
static int hv_cmp_asc(const void *a, const void *b)
{
    const double *x = a, *y = b;
    for (size_t k = 0; k < hv_sort_m; k++) {
        size_t i = (hv_sort_obj + k) % hv_sort_m;
        if (x[i] < y[i])
            return -1;
        if (x[i] > y[i])
            return 1;
    }
    return 0;
}

static int hv_cmp_desc(const void *a, const void *b)
{
    return -hv_cmp_asc(a, b);
}

static void hv_sort(double *p, size_t n, size_t m, size_t obj, bool descending)
{
    hv_sort_obj = obj;
    hv_sort_m = m;
    qsort(p, n, m * sizeof(double), descending ? hv_cmp_desc : hv_cmp_asc);
}

/* 2-D: sort by the first objective, sweep keeping the best second objective so far. The
 * points need not be non-dominated. Sorts p in place. */
static double hv_2d(double *p, size_t n, const double *ref)
{
    hv_sort(p, n, 2, 0, false);
    double hv = 0.0, prev = ref[1];
    for (size_t i = 0; i < n; i++) {
        double x = p[2 * i], y = p[2 * i + 1];
        if (y < prev) {
            hv += (ref[0] - x) * (prev - y);
            prev = y;
        }
    }
    return hv;
}

/* 3-D: sort by the third objective; between consecutive third-objective values the
 * dominated region is the 2-D region of the points seen so far. */
static td_status hv_3d(double *p, size_t n, const double *ref, double *out)
{
    hv_sort(p, n, 3, 2, false);
    double *slice = malloc((n ? n : 1) * 2 * sizeof(double));
    if (!slice)
        return td_fail(TD_ERR_NOMEM, "hypervolume: cannot allocate %zu points", n);
    double hv = 0.0;
    for (size_t i = 0; i < n; i++) {
        double z_next = i + 1 < n ? p[3 * (i + 1) + 2] : ref[2];
        double depth = z_next - p[3 * i + 2];
        if (depth <= 0.0)
            continue;
        for (size_t j = 0; j <= i; j++) {
            slice[2 * j] = p[3 * j];
            slice[2 * j + 1] = p[3 * j + 1];
        }
        hv += depth * hv_2d(slice, i + 1, ref);
    }
    free(slice);
    *out = hv;
    return TD_OK;
}

/* Removes dominated points and duplicates (minimisation); returns the new count. */
static size_t hv_nondominated(double *p, size_t n, size_t m)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const double *a = p + i * m;
        bool dominated = false;
        for (size_t j = 0; j < n && !dominated; j++) {
            if (j == i)
                continue;
            const double *b = p + j * m;
            bool le = true, lt = false;
            for (size_t k = 0; k < m; k++) {
                if (b[k] > a[k]) {
                    le = false;
                    break;
                }
                if (b[k] < a[k])
                    lt = true;
            }
            /* b dominates a, or b equals a and comes first (keep one copy) */
            if (le && (lt || j < i))
                dominated = true;
        }
        if (!dominated) {
            if (kept != i)
                memmove(p + kept * m, a, m * sizeof(double));
            kept++;
        }
    }
    return kept;
}

static td_status hv_rec(double *p, size_t n, size_t m, const double *ref, double *out);

/* WFG with slicing on the last objective: with the points sorted by the last objective in
 * descending order, the limit set of point k (the points after it, each made no better
 * than point k) all share point k's last objective, so the exclusive hypervolume of k is
 * (ref_last - p_k,last) * (inclusive(p_k) - HV(limit set)) in m-1 objectives. */
static td_status hv_wfg(double *p, size_t n, size_t m, const double *ref, double *out)
{
    hv_sort(p, n, m, m - 1, true);
    size_t m1 = m - 1;
    double *lim = malloc((n ? n : 1) * m1 * sizeof(double));
    if (!lim)
        return td_fail(TD_ERR_NOMEM, "hypervolume: cannot allocate %zu points", n);
    double hv = 0.0;
    for (size_t k = 0; k < n; k++) {
        const double *pk = p + k * m;
        double depth = ref[m1] - pk[m1];
        double incl = 1.0;
        for (size_t i = 0; i < m1; i++)
            incl *= ref[i] - pk[i];
        size_t nl = 0;
        for (size_t j = k + 1; j < n; j++) {
            const double *pj = p + j * m;
            for (size_t i = 0; i < m1; i++)
                lim[nl * m1 + i] = pj[i] > pk[i] ? pj[i] : pk[i];
            nl++;
        }
        nl = hv_nondominated(lim, nl, m1);
        double hl = 0.0;
        td_status st = hv_rec(lim, nl, m1, ref, &hl);
        if (st != TD_OK) {
            free(lim);
            return st;
        }
        hv += depth * (incl - hl);
    }
    free(lim);
    *out = hv;
    return TD_OK;
}

/* p: points all strictly inside ref (they may be dominated); p is reordered. */
static td_status hv_rec(double *p, size_t n, size_t m, const double *ref, double *out)
{
    if (n == 0) {
        *out = 0.0;
        return TD_OK;
    }
    if (m == 1) {
        double best = p[0];
        for (size_t i = 1; i < n; i++)
            best = p[i] < best ? p[i] : best;
        *out = ref[0] - best;
        return TD_OK;
    }
    if (m == 2) {
        *out = hv_2d(p, n, ref);
        return TD_OK;
    }
    if (m == 3)
        return hv_3d(p, n, ref, out);
    return hv_wfg(p, n, m, ref, out);
}

td_status cs_hv_compute(const double *points, size_t n, size_t m, const double *ref, double *out)
{
    *out = 0.0;
    if (m < 1 || m > CS_HV_MAX_OBJ)
        return td_fail(TD_ERR_CONFIG, "hypervolume: %zu objectives, expected 1..%d", m,
                       CS_HV_MAX_OBJ);
    for (size_t i = 0; i < m; i++)
        if (isnan(ref[i]))
            return td_fail(TD_ERR_CONFIG, "hypervolume: reference point objective %zu is NaN", i);
    double *p = malloc((n ? n : 1) * m * sizeof(double));
    if (!p)
        return td_fail(TD_ERR_NOMEM, "hypervolume: cannot allocate %zu points", n);
    size_t kept = 0;
    for (size_t j = 0; j < n; j++) {
        const double *a = points + j * m;
        bool inside = true;
        for (size_t i = 0; i < m; i++) {
            if (isnan(a[i])) {
                free(p);
                return td_fail(TD_ERR_CONFIG, "hypervolume: point %zu objective %zu is NaN", j, i);
            }
            if (!(a[i] < ref[i]))
                inside = false;
        }
        if (inside)
            memcpy(p + kept++ * m, a, m * sizeof(double));
    }
    if (m >= 4)
        kept = hv_nondominated(p, kept, m);
    td_status st = hv_rec(p, kept, m, ref, out);
    free(p);
    return st;
}

td_status cs_hv_reference_derive(const double *points, size_t n, size_t m, double margin,
                                 double *ref)
{
    if (n == 0)
        return td_fail(TD_ERR_CONFIG, "hypervolume: cannot derive a reference point from no "
                                      "points");
    if (m < 1 || m > CS_HV_MAX_OBJ)
        return td_fail(TD_ERR_CONFIG, "hypervolume: %zu objectives, expected 1..%d", m,
                       CS_HV_MAX_OBJ);
    for (size_t i = 0; i < m; i++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t j = 0; j < n; j++) {
            double v = points[j * m + i];
            if (!isfinite(v))
                return td_fail(TD_ERR_CONFIG, "hypervolume: point %zu objective %zu is not finite",
                               j, i);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        double range = hi - lo;
        if (range > 0.0)
            ref[i] = hi + margin * range;
        else
            ref[i] = hi + margin * (fabs(hi) > 1.0 ? fabs(hi) : 1.0);
    }
    return TD_OK;
}
