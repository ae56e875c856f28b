/* Exact hypervolume of a set of points under minimisation: the Lebesgue measure of the
 * region dominated by the points and bounded by a reference point. 1 and 2 objectives by
 * sort and sweep, 3 by slicing over the third objective with a 2-D sweep per slice, 4 and
 * more by WFG (While, Bradstreet, Barone 2012), which is exact. See docs/search.md. */
#ifndef CS_HV_H
#define CS_HV_H

#include "td_status.h"

#include <stddef.h>

/* Most objectives hypervolume accepts (DESIGN.md §6 searches use 2-6). */
#define CS_HV_MAX_OBJ 16

/* points: n rows of m objectives (row-major), minimised. ref: m values. Points that do not
 * strictly dominate ref in every objective add nothing and are ignored. n may be 0 (result
 * 0). Fails (TD_ERR_CONFIG) on m outside [1, CS_HV_MAX_OBJ] or a NaN coordinate. */
td_status cs_hv_compute(const double *points, size_t n, size_t m, const double *ref, double *out);

/* Reference point from a set: ref_i = nadir_i + margin * (nadir_i - ideal_i), where nadir
 * and ideal are the worst and best values of objective i over the points; where the range
 * is zero, ref_i = nadir_i + margin * max(|nadir_i|, 1). margin 0.1 gives the usual "10%
 * beyond the nadir". Fails on n == 0 or a non-finite value. */
td_status cs_hv_reference_derive(const double *points, size_t n, size_t m, double margin,
                                 double *ref);

#endif
