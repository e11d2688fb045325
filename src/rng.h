/*
 * rng: a portable pseudo-random generator, xoshiro256** (Blackman and
 * Vigna) seeded through splitmix64.  Only 64-bit integer arithmetic is
 * used, so one seed gives the same stream on every machine and compiler;
 * the uniform floats are made from the top bits of one draw by an exact
 * scaling, with no libm call.
 *
 * Caller-owned storage: struct rng is plain state and may be copied to
 * fork a stream.
 */
#ifndef VKCHAT_RNG_H
#define VKCHAT_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4]; /* xoshiro256** state, never all zero */
};

/*
 * Start the stream for SEED (any value, 0 included: seeding goes through
 * splitmix64, which never yields an all-zero state).
 */
void rng_init(struct rng *r, uint64_t seed);

/* The next 64 random bits. */
uint64_t rng_next(struct rng *r);

/* A uniform double in [0, 1): the top 53 bits of one draw times 2^-53. */
double rng_double(struct rng *r);

/* A uniform float in [0, 1): the top 24 bits of one draw times 2^-24. */
float rng_float(struct rng *r);

/*
 * A uniform integer in [0, N) for N > 0, without modulo bias (Lemire's
 * multiply-and-reject).  Returns 0 for N == 0.
 */
uint64_t rng_below(struct rng *r, uint64_t n);

/*
 * A fresh non-zero seed from the operating system (getrandom, else
 * /dev/urandom, else the clock and the process id).  Used when the user
 * asks for seed 0 ("random"); the caller reports the value so the run
 * can be repeated.
 */
uint64_t rng_random_seed(void);

#endif
