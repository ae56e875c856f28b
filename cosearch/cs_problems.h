/* Standard multi-objective test problems for the optimizer: ZDT1, ZDT2, ZDT3, ZDT4, ZDT6
 * (Zitzler, Deb, Thiele 2000) and DTLZ2 (Deb, Thiele, Laumanns, Zitzler 2002), all
 * minimised, real-coded, no constraints. `tandem bench-moo` runs them. */
#ifndef CS_PROBLEMS_H
#define CS_PROBLEMS_H

#include "cs_nsga2.h"

#define CS_PROBLEMS_MAX_GENES 64

typedef enum cs_problems_id {
    CS_PROBLEMS_ZDT1 = 0,
    CS_PROBLEMS_ZDT2,
    CS_PROBLEMS_ZDT3,
    CS_PROBLEMS_ZDT4,
    CS_PROBLEMS_ZDT6,
    CS_PROBLEMS_DTLZ2,
    CS_PROBLEMS_ID_COUNT
} cs_problems_id;

/* One benchmark problem: its genes live here, so keep the struct alive while p is used. */
typedef struct cs_problems_bench {
    cs_problems_id id;
    cs_gene genes[CS_PROBLEMS_MAX_GENES];
    cs_problem p;
} cs_problems_bench;

/* "zdt1" .. "dtlz2"; TD_ERR_CONFIG naming the value and the choices otherwise. */
td_status cs_problems_parse(const char *name, cs_problems_id *out);
const char *cs_problems_name(cs_problems_id id);

/* Sets b up with the standard sizes: n = 30 (ZDT1-3), 10 (ZDT4, ZDT6), 12 with 3
 * objectives (DTLZ2: k = 10). */
td_status cs_problems_init(cs_problems_bench *b, cs_problems_id id);

/* The reference point bench-moo uses: 1.1 in every objective (the ZDT/DTLZ2 fronts lie
 * within [0, 1]^m). */
double cs_problems_reference(cs_problems_id id);

#endif
