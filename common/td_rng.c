#include "td_rng.h"

#include "td_hash.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

td_status td_rng_init(td_rng *rng, uint64_t seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return td_fail(TD_ERR_NOMEM, "cannot allocate the random number generator");
    /* MT19937 takes a 32-bit seed; fold the 64 bits so that both halves matter. */
    unsigned long s = (unsigned long)((seed ^ (seed >> 32)) & 0xffffffffu);
    gsl_rng_set(r, s);
    rng->gsl = r;
    rng->seed = seed;
    return TD_OK;
}

void td_rng_free(td_rng *rng)
{
    if (rng->gsl)
        gsl_rng_free((gsl_rng *)rng->gsl);
    rng->gsl = NULL;
}

double td_rng_uniform(td_rng *rng)
{
    return gsl_rng_uniform((gsl_rng *)rng->gsl);
}

uint64_t td_rng_uniform_int(td_rng *rng, uint64_t n)
{
    if (n <= 1)
        return 0;
    if (n <= 0xffffffffull)
        return gsl_rng_uniform_int((gsl_rng *)rng->gsl, (unsigned long)n);
    /* Wider ranges: combine two draws, reject the biased tail. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do {
        uint64_t hi = gsl_rng_get((gsl_rng *)rng->gsl);
        uint64_t lo = gsl_rng_get((gsl_rng *)rng->gsl);
        v = (hi << 32) | lo;
    } while (v >= limit);
    return v % n;
}

int64_t td_rng_range(td_rng *rng, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t)td_rng_uniform_int(rng, (uint64_t)(hi - lo) + 1);
}

double td_rng_gaussian(td_rng *rng, double sigma)
{
    return gsl_ran_gaussian((gsl_rng *)rng->gsl, sigma);
}

uint64_t td_seed_derive(uint64_t parent, uint64_t key)
{
    uint64_t words[2] = {parent, key};
    return td_hash64(words, sizeof words, 0x7a6e64656d5eedull);
}
