/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SplitMix64 and xoshiro256**, written from their published definitions, and integer-only variates on top. */

#include <stdint.h>

#include "rng.h"

/* ln 2 * 2^64, rounded to nearest. */
#define LN2_Q64 UINT64_C(0xb17217f7d1cf79ac)

/* m ranges over [1, 2^53]: the 53 random bits of a draw, reflected. */
#define UNIFORM_BITS 53

uint64_t splitmix64_next(uint64_t *state) {
        uint64_t z;

        *state += UINT64_C(0x9e3779b97f4a7c15);
        z = *state;
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

void rng_seed(Rng *rng, uint64_t seed) {
        uint64_t state = seed;

        for (unsigned i = 0; i < 4; i++)
                rng->s[i] = splitmix64_next(&state);
}

static inline uint64_t rotl(uint64_t x, unsigned k) {
        return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(Rng *rng) {
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

double rng_uniform(Rng *rng) {
        /* 2^-53 as a hex float literal: exact, no rounding anywhere. */
        return (double) (rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t rng_bounded(Rng *rng, uint64_t n) {
        unsigned __int128 m;
        uint64_t low;

        if (n <= 1)
                return 0;

        m = (unsigned __int128) rng_next(rng) * n;
        low = (uint64_t) m;
        if (low < n) {
                /* 2^64 mod n, computed in 64 bits as (-n) mod n. */
                uint64_t threshold = (0 - n) % n;

                while (low < threshold) {
                        m = (unsigned __int128) rng_next(rng) * n;
                        low = (uint64_t) m;
                }
        }
        return (uint64_t) (m >> 64);
}

/* log2(m) * 2^48 for 1 <= m <= 2^62, by the bit-by-bit squaring method: with
 * f = m / 2^k in [1, 2), each squaring doubles the exponent of f, and f^2 >= 2
 * means the next fraction bit of log2(f) is 1 (then halve f). */
static uint64_t log2_fixed(uint64_t m) {
        unsigned k = 63u - (unsigned) __builtin_clzll(m);
        uint64_t f = m << (62u - k); /* f in [2^62, 2^63): 2.62 fixed point */
        uint64_t result = (uint64_t) k << RNG_EXP_FRAC_BITS;

        for (unsigned bit = RNG_EXP_FRAC_BITS; bit-- > 0;) {
                f = (uint64_t) (((unsigned __int128) f * f) >> 62);
                if (f >= UINT64_C(1) << 63) {
                        f >>= 1;
                        result |= UINT64_C(1) << bit;
                }
        }
        return result;
}

uint64_t rng_neg_ln_fixed(uint64_t m) {
        uint64_t neg_log2;

        if (m == 0 || m > UINT64_C(1) << UNIFORM_BITS)
                return 0;

        /* -ln(m / 2^53) = (53 - log2 m) * ln 2; log2 m <= 53, so no underflow. */
        neg_log2 = ((uint64_t) UNIFORM_BITS << RNG_EXP_FRAC_BITS) - log2_fixed(m);
        return (uint64_t) (((unsigned __int128) neg_log2 * LN2_Q64 + (UINT64_C(1) << 63)) >> 64);
}

uint64_t rng_exponential_fixed(Rng *rng) {
        /* 1 - U rather than U, so that m is never 0 and ln stays finite. */
        uint64_t m = (UINT64_C(1) << UNIFORM_BITS) - (rng_next(rng) >> 11);

        return rng_neg_ln_fixed(m);
}

uint64_t rng_exponential_scaled(Rng *rng, uint64_t mean) {
        unsigned __int128 product = (unsigned __int128) mean * rng_exponential_fixed(rng);

        product = (product + (UINT64_C(1) << (RNG_EXP_FRAC_BITS - 1))) >> RNG_EXP_FRAC_BITS;
        return product > UINT64_MAX ? UINT64_MAX : (uint64_t) product;
}
