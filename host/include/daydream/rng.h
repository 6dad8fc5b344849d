/*
** daydream/rng.h -- the seeded random numbers every plugin and learner uses.
**
** xoshiro256** seeded through splitmix64. A stream is named by (seed, stream
** index), so instance i of a vectorised env draws the same numbers whatever
** process or thread steps it: same seed, same results, bit for bit.
*/
#ifndef DAYDREAM_RNG_H
#define DAYDREAM_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dd_rng {
	uint64_t s[4];
} dd_rng;

/* Seeds rng from (seed, stream); distinct streams are independent. */
void dd_rng_seed(dd_rng *rng, uint64_t seed, uint64_t stream);
/* Mixes a seed and an index into a new seed (for child streams). */
uint64_t dd_rng_derive(uint64_t seed, uint64_t index);
uint64_t dd_rng_u64(dd_rng *rng);
/* Uniform in [0, 1) with 24 random bits (float) or 53 (double). */
float dd_rng_uniform(dd_rng *rng);
double dd_rng_uniform_double(dd_rng *rng);
/* Uniform integer in [0, n); n > 0. Unbiased. */
uint64_t dd_rng_below(dd_rng *rng, uint64_t n);
/* Standard normal (Box-Muller on doubles). */
float dd_rng_normal(dd_rng *rng);

#ifdef __cplusplus
}
#endif
#endif
