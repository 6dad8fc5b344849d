/*
** rng.c -- xoshiro256** (Blackman & Vigna) seeded by splitmix64.
*/
#include <math.h>

#include "daydream/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t dd_rng_derive(uint64_t seed, uint64_t index)
{
	uint64_t x = seed ^ splitmix64(&index);
	return splitmix64(&x);
}

void dd_rng_seed(dd_rng *rng, uint64_t seed, uint64_t stream)
{
	uint64_t x = dd_rng_derive(seed, stream);
	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t dd_rng_u64(dd_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

float dd_rng_uniform(dd_rng *rng)
{
	return (float)(dd_rng_u64(rng) >> 40) * 0x1.0p-24f;
}

double dd_rng_uniform_double(dd_rng *rng)
{
	return (double)(dd_rng_u64(rng) >> 11) * 0x1.0p-53;
}

uint64_t dd_rng_below(dd_rng *rng, uint64_t n)
{
	/* Rejection keeps every value equally likely (no modulo bias). */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = dd_rng_u64(rng);
	while (x >= limit);
	return x % n;
}

float dd_rng_normal(dd_rng *rng)
{
	double u1 = 1.0 - dd_rng_uniform_double(rng); /* (0, 1]: log is finite */
	double u2 = dd_rng_uniform_double(rng);
	return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
