/* Tolerances and quality thresholds of the optimizer tests (tests/moo, tests/mpi), each with
 * its reason. They belong in tests/td_tolerances.h; they sit here until its owner moves
 * them (that header is outside this suite's paths). */
#ifndef MOO_TOLERANCES_H
#define MOO_TOLERANCES_H

/* Exact hypervolume against an independent exact reference (inclusion-exclusion or the
 * coordinate grid): both sum the same boxes in different orders, so they differ only by
 * rounding, about n * 2^m * eps relative for the small sets tested. */
#define TD_TOL_HV_EXACT_REL 1e-12

/* The unit suite's shorter version of the ZDT quality bar (issue #9): one seed instead of
 * five, pop 100, 250 generations, eta_c 15, reference (1.1, 1.1); about 0.1 s per problem.
 * Seed 1 measured 0.8697, 0.5364, 1.3275, 0.8662, 0.4965 (seeds 1-3 within 0.0008 of each
 * other except ZDT4, 0.8599-0.8675, whose multimodal g keeps a seed-to-seed spread). The
 * minimums sit just under the five-seed bars (ZDT4 0.015 under, for its spread), so a
 * change of random stream passes while a broken operator fails (no crossover or no
 * crowding loses more than 0.01 on ZDT1-3). */
#define TD_MOO_ZDT1_HV_MIN 0.8680
#define TD_MOO_ZDT2_HV_MIN 0.5340
#define TD_MOO_ZDT3_HV_MIN 1.3250
#define TD_MOO_ZDT4_HV_MIN 0.8450
#define TD_MOO_ZDT6_HV_MIN 0.4900

#endif
