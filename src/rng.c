/*
 * rng: xoshiro256** 1.0 with splitmix64 seeding, as published at
 * https://prng.di.unimi.it/ (public domain reference code; written here
 * from the description).  Everything is unsigned 64-bit arithmetic, whose
 * results C defines exactly, so streams are identical across machines.
 *
 * The seed for "random" comes from getrandom(2); the fallbacks only
 * matter on systems without it and need not be strong: a seed picks one
 * reproducible run, it protects nothing.
 */
#include "rng.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t
rng_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
rng_init(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = rng_splitmix64(&x);
	/* splitmix64 is a bijection of its counter: four zeros cannot
	 * follow each other, but keep the invariant explicit. */
	if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
		r->s[0] = 1;
}

uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return result;
}

double
rng_double(struct rng *r)
{
	/* 2^53 values, each exactly representable: no rounding up to 1. */
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

float
rng_float(struct rng *r)
{
	return (float)(rng_next(r) >> 40) * 0x1.0p-24f;
}

uint64_t
rng_below(struct rng *r, uint64_t n)
{
	uint64_t threshold, x;

	if (n == 0)
		return 0;
	/* Reject the 2^64 mod N lowest values so every residue is equally
	 * likely (the OpenBSD arc4random_uniform argument). */
	threshold = (0 - n) % n;
	do
		x = rng_next(r);
	while (x < threshold);
	return x % n;
}

uint64_t
rng_random_seed(void)
{
	uint64_t seed = 0;
	ssize_t n;
	int fd;

	do
		n = getrandom(&seed, sizeof seed, 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof seed) {
		seed = 0;
		fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (read(fd, &seed, sizeof seed) !=
			    (ssize_t)sizeof seed)
				seed = 0;
			close(fd);
		}
	}
	if (seed == 0) {
		struct timespec ts;
		uint64_t x;

		clock_gettime(CLOCK_REALTIME, &ts);
		x = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
		x ^= (uint64_t)getpid() << 32;
		seed = rng_splitmix64(&x);
	}
	/* 0 means "draw one", so it is never a drawn seed. */
	return seed != 0 ? seed : 1;
}
