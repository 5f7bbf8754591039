/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A portable, seedable 64-bit random stream for policy schedules: SplitMix64 seeding, xoshiro256** output. */
#pragma once

#include <stdint.h>

/*
 * The generator is part of serror's contract: `serrorctl policy plan` and
 * serrord must draw the same numbers from the same seed on every machine and
 * in every release, so nothing here may change without a new policy format.
 *
 * - SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
 *   generators", OOPSLA 2014; the constants of Vigna's splitmix64.c):
 *       state += 0x9e3779b97f4a7c15
 *       z = state
 *       z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
 *       z = (z ^ (z >> 27)) * 0x94d049bb133111eb
 *       return z ^ (z >> 31)
 * - xoshiro256** 1.0 (Blackman and Vigna, "Scrambled linear pseudorandom
 *   number generators", ACM TOMS 2021):
 *       result = rotl(s[1] * 5, 7) * 9
 *       t = s[1] << 17
 *       s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]
 *       s[2] ^= t; s[3] = rotl(s[3], 45)
 *       return result
 * - Seeding: s[0..3] are the first four SplitMix64 outputs from state = seed,
 *   as the xoshiro authors recommend. SplitMix64 is a bijection of its
 *   counter, so four consecutive outputs are never all zero (the one state
 *   xoshiro256** must not have).
 *
 * Everything derived from the stream below is integer arithmetic only (the
 * exponential variate included), so the results do not depend on the C
 * library's log(), on FMA contraction or on the floating-point unit.
 */

typedef struct Rng {
        uint64_t s[4];
} Rng;

/* One SplitMix64 step: advances *state and returns the output. */
uint64_t splitmix64_next(uint64_t *state);

/* Seed the stream from a 64-bit seed. Every seed, 0 included, is valid. */
void rng_seed(Rng *rng, uint64_t seed);

/* The next raw 64-bit output of xoshiro256**. */
uint64_t rng_next(Rng *rng);

/* Uniform in [0, 1) with 53 random bits: (rng_next() >> 11) * 2^-53.
 * Exact on any IEEE 754 machine; one draw. */
double rng_uniform(Rng *rng);

/* Uniform integer in [0, n) without modulo bias, by Lemire's
 * multiply-and-reject method ("Fast random integer generation in an
 * interval", ACM TOMACS 2019): x = rng_next(); m = x * n (128 bits); when
 * the low 64 bits of m are below 2^64 mod n, draw again; return m >> 64.
 * One draw, more only on a rejection (probability below n / 2^64).
 * n = 0 and n = 1 draw nothing and return 0. */
uint64_t rng_bounded(Rng *rng, uint64_t n);

/* Fraction bits of the fixed-point exponential variate. */
#define RNG_EXP_FRAC_BITS 48

/* A standard exponential variate E = -ln(1 - U) in fixed point (E * 2^48,
 * at most about 36.74 * 2^48), from one draw: U = (x >> 11) / 2^53, and
 * -ln(1 - U) = (53 - log2(m)) * ln 2 with m = 2^53 - (x >> 11) in [1, 2^53].
 * log2(m) is computed bit by bit by repeated squaring in 2.62 fixed point
 * (truncating each product), to 48 fraction bits; ln 2 is the 64-bit
 * constant 0xb17217f7d1cf79ac / 2^64. */
uint64_t rng_exponential_fixed(Rng *rng);

/* An exponential variate with the given mean, in the mean's unit:
 * round(mean * E), with E from rng_exponential_fixed(); saturates at
 * UINT64_MAX. One draw. Used for Poisson inter-arrival times. */
uint64_t rng_exponential_scaled(Rng *rng, uint64_t mean);

/* -ln(m / 2^53) * 2^48 for m in [1, 2^53], the arithmetic behind
 * rng_exponential_fixed(), exposed for tests. Returns 0 for other m. */
uint64_t rng_neg_ln_fixed(uint64_t m);
