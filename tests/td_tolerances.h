/* Every numeric tolerance a test uses, with its reason. Tests include this header and
 * never write a tolerance inline. Widening one needs a reason here, not a failing test. */
#ifndef TD_TOLERANCES_H
#define TD_TOLERANCES_H

/* Finite-difference gradient checks (central differences). In double precision the
 * truncation error is O(h^2) ~ 1e-10 and rounding ~1e-16/h; relative error below 1e-6
 * leaves margin for both (issue #3 quality bar). */
#define TD_TOL_GRADCHECK_F64 1e-6
/* Float gradient checks: float rounding (~6e-8) amplified by 1/h with h ~ 1e-2 (issue #3). */
#define TD_TOL_GRADCHECK_F32 1e-3

/* Fast path vs plain reference, float32 GEMM/conv: different summation orders differ by
 * about K * eps * |values|; normalized MSE below 1e-10 is that level for K <= 4096. */
#define TD_TOL_FASTPATH_NMSE_F32 1e-10

/* Config round trip: floats are written with the shortest text that reads back to the
 * same double, so the round trip is exact. */
#define TD_TOL_CONFIG_ROUNDTRIP 0.0

#endif
