/* Numeric tolerances of the hw_model tests, each with its reason (kept beside the tests
 * like tests/moo/moo_tolerances.h; the lead may fold them into td_tolerances.h). */
#ifndef HW_TOLERANCES_H
#define HW_TOLERANCES_H

/* Sum of per-layer energies vs the total: the same double terms added in a different
 * order; a few hundred terms of relative rounding 1.1e-16 stay far below 1e-12. */
#define HW_TOL_ENERGY_SUM_REL 1e-12

/* Published figures reproduced through the power-law / log-log rules (pow(), log()):
 * exact up to a few ulps, 1e-12 relative leaves margin. */
#define HW_TOL_PUBLISHED_POINT_REL 1e-12

#endif
