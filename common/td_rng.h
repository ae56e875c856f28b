/* Random numbers on GSL (MT19937) with stable per-evaluation seed derivation, so that
 * local, parallel and MPI runs draw the same numbers for the same candidate. */
#ifndef TD_RNG_H
#define TD_RNG_H

#include "td_status.h"

#include <stdint.h>

typedef struct td_rng {
    void *gsl; /* gsl_rng*, kept opaque so callers need no GSL headers */
    uint64_t seed;
} td_rng;

td_status td_rng_init(td_rng *rng, uint64_t seed);
void td_rng_free(td_rng *rng);
double td_rng_uniform(td_rng *rng);                        /* [0, 1) */
uint64_t td_rng_uniform_int(td_rng *rng, uint64_t n);      /* [0, n), n >= 1 */
int64_t td_rng_range(td_rng *rng, int64_t lo, int64_t hi); /* [lo, hi] inclusive */
double td_rng_gaussian(td_rng *rng, double sigma);

/* Child seed from a parent seed and a key (e.g. a candidate hash); stable across
 * platforms and releases. */
uint64_t td_seed_derive(uint64_t parent, uint64_t key);

#endif
