/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the policy random stream: known answers for SplitMix64 and xoshiro256**, and the variates. */

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "macro.h"
#include "rng.h"
#include "tap.h"

/*
 * Known answers. The SplitMix64 seed-0 outputs and the xoshiro256** outputs
 * from state {1, 2, 3, 4} are the values commonly quoted for the reference
 * implementations; every vector here was also computed with an independent
 * Python implementation written from the published definitions (SplitMix64:
 * Steele, Lea and Flood 2014; xoshiro256** 1.0: Blackman and Vigna; Lemire's
 * bounded integers; the documented fixed-point logarithm). A change to any of
 * them changes every plan: serror-policy(5) promises they never change.
 */

static void test_splitmix64(void) {
        static const uint64_t seed0[] = {
                UINT64_C(0xe220a8397b1dcdaf), UINT64_C(0x6e789e6aa1b965f4), UINT64_C(0x06c45d188009454f),
                UINT64_C(0xf88bb8a8724c81ec), UINT64_C(0x1b39896a51a8749b),
        };
        static const uint64_t seed1234567[] = {
                UINT64_C(0x599ed017fb08fc85), UINT64_C(0x2c73f08458540fa5), UINT64_C(0x883ebce5a3f27c77),
        };
        uint64_t state = 0;
        bool ok = true;

        for (size_t i = 0; i < ELEMENTSOF(seed0); i++)
                ok = ok && splitmix64_next(&state) == seed0[i];
        tap_ok(ok, "SplitMix64 from 0: 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, ...");

        state = 1234567;
        ok = true;
        for (size_t i = 0; i < ELEMENTSOF(seed1234567); i++)
                ok = ok && splitmix64_next(&state) == seed1234567[i];
        tap_ok(ok, "SplitMix64 from 1234567");
}

static void test_xoshiro(void) {
        static const uint64_t want[] = {
                UINT64_C(11520), UINT64_C(0), UINT64_C(1509978240), UINT64_C(1215971899390074240),
                UINT64_C(1216172134540287360), UINT64_C(607988272756665600),
        };
        Rng rng = { .s = { 1, 2, 3, 4 } };
        bool ok = true;

        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                uint64_t got = rng_next(&rng);

                if (got != want[i]) {
                        tap_diag("output %zu: got %" PRIu64 ", want %" PRIu64, i, got, want[i]);
                        ok = false;
                }
        }
        tap_ok(ok, "xoshiro256** from state {1, 2, 3, 4}: 11520, 0, 1509978240, ...");
}

static void test_seeding(void) {
        static const struct {
                uint64_t seed;
                uint64_t state[4];
                uint64_t out[2];
        } cases[] = {
                { 0,
                  { UINT64_C(0xe220a8397b1dcdaf), UINT64_C(0x6e789e6aa1b965f4), UINT64_C(0x06c45d188009454f),
                    UINT64_C(0xf88bb8a8724c81ec) },
                  { UINT64_C(0x99ec5f36cb75f2b4), UINT64_C(0xbf6e1f784956452a) } },
                { 42,
                  { UINT64_C(0xbdd732262feb6e95), UINT64_C(0x28efe333b266f103), UINT64_C(0x47526757130f9f52),
                    UINT64_C(0x581ce1ff0e4ae394) },
                  { UINT64_C(0x15780b2e0c2ec716), UINT64_C(0x6104d9866d113a7e) } },
                { UINT64_MAX,
                  { UINT64_C(0xe4d971771b652c20), UINT64_C(0xe99ff867dbf682c9), UINT64_C(0x382ff84cb27281e9),
                    UINT64_C(0x6d1db36ccba982d2) },
                  { UINT64_C(0x8f5520d52a7ead08), UINT64_C(0xc476a018caa1802d) } },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Rng rng;
                bool ok;

                rng_seed(&rng, cases[i].seed);
                ok = memcmp(rng.s, cases[i].state, sizeof(rng.s)) == 0;
                ok = ok && rng_next(&rng) == cases[i].out[0] && rng_next(&rng) == cases[i].out[1];
                tap_ok(ok, "seed 0x%" PRIx64 ": state is four SplitMix64 outputs, then the expected stream",
                       cases[i].seed);
        }
}

static void test_reproducible(void) {
        Rng a, b, c;
        bool same = true, differs = false;

        rng_seed(&a, 0x5eed);
        rng_seed(&b, 0x5eed);
        rng_seed(&c, 0x5eee);
        for (int i = 0; i < 10000; i++) {
                uint64_t x = rng_next(&a);

                same = same && x == rng_next(&b);
                differs = differs || x != rng_next(&c);
        }
        tap_ok(same, "the same seed gives the same 10000 outputs");
        tap_ok(differs, "a neighbouring seed gives a different stream");
}

static void test_uniform(void) {
        double sum = 0, lowest = 1, highest = 0;
        bool in_range = true;
        Rng rng;

        rng_seed(&rng, 42);
        tap_ok(rng_uniform(&rng) == (double) UINT64_C(0x2af0165c185d8) * 0x1.0p-53,
               "rng_uniform is (x >> 11) * 2^-53, exactly");

        rng_seed(&rng, 1);
        for (int i = 0; i < 1000000; i++) {
                double u = rng_uniform(&rng);

                in_range = in_range && u >= 0 && u < 1;
                sum += u;
                lowest = u < lowest ? u : lowest;
                highest = u > highest ? u : highest;
        }
        tap_ok(in_range, "a million uniforms lie in [0, 1)");
        tap_ok(sum / 1e6 > 0.499 && sum / 1e6 < 0.501 && lowest < 1e-5 && highest > 1 - 1e-5,
               "their mean is 0.5 within 0.001 (%.5f) and they reach both ends", sum / 1e6);
}

static void test_bounded(void) {
        static const uint64_t ten[] = { 0, 3, 6, 9, 9, 7, 7, 8, 7, 5 };
        static const uint64_t big[] = {
                UINT64_C(9147776489032658738), UINT64_C(7099593415032875292), UINT64_C(6633989454467100377),
                UINT64_C(7022439175346172479),
        };
        unsigned counts[6] = {};
        uint64_t below = 0;
        Rng rng, before;
        bool ok = true;

        rng_seed(&rng, 42);
        for (size_t i = 0; i < ELEMENTSOF(ten); i++)
                ok = ok && rng_bounded(&rng, 10) == ten[i];
        tap_ok(ok && rng_next(&rng) == UINT64_C(0xaeb53b340c103971), "rng_bounded(10) from seed 42: 0, 3, 6, 9, ...");

        /* n = 2^63 + 1 rejects about half the draws: the rejection path. */
        rng_seed(&rng, 42);
        ok = true;
        for (size_t i = 0; i < ELEMENTSOF(big); i++)
                ok = ok && rng_bounded(&rng, (UINT64_C(1) << 63) + 1) == big[i];
        tap_ok(ok && rng_next(&rng) == UINT64_C(0x9556615f775fbc3d),
               "rng_bounded(2^63 + 1) draws again on rejection, as Lemire's method does");

        rng_seed(&rng, 42);
        before = rng;
        ok = rng_bounded(&rng, 0) == 0 && rng_bounded(&rng, 1) == 0 && memcmp(&rng, &before, sizeof(rng)) == 0;
        tap_ok(ok, "rng_bounded(0) and rng_bounded(1) return 0 and draw nothing");

        rng_seed(&rng, 3);
        ok = true;
        for (int i = 0; i < 600000; i++) {
                uint64_t v = rng_bounded(&rng, 6);

                if (v >= 6) {
                        ok = false;
                        break;
                }
                counts[v]++;
        }
        for (size_t i = 0; i < ELEMENTSOF(counts); i++)
                ok = ok && counts[i] > 99000 && counts[i] < 101000;
        tap_ok(ok, "600000 dice rolls land within 1%% of 100000 per face");

        /* With x % n, n = 3 * 2^62 would put half the values below 2^62
         * instead of a third: the modulo bias Lemire's method avoids. */
        rng_seed(&rng, 4);
        for (int i = 0; i < 100000; i++)
                below += rng_bounded(&rng, UINT64_C(3) << 62) < (UINT64_C(1) << 62);
        tap_ok(below > 32300 && below < 34400, "no modulo bias: %" PRIu64 " of 100000 below n/3 (want ~33333)",
               below);
}

/* -ln(m / 2^53) * 2^48: what the documented integer arithmetic gives (want),
 * and the true value rounded to an integer, from a 60-digit computation
 * (exact). The two may differ by one unit of 2^-48. */
static void test_neg_ln(void) {
        static const struct {
                uint64_t m;
                uint64_t want;
                uint64_t exact;
        } cases[] = {
                { 1, UINT64_C(0x24bc9ef64e6ff4), UINT64_C(0x24bc9ef64e6ff4) }, /* 53 ln 2 */
                { 2, UINT64_C(0x240b2cde569e25), UINT64_C(0x240b2cde569e25) }, /* 52 ln 2 */
                { 3, UINT64_C(0x23a3604ea39fc4), UINT64_C(0x23a3604ea39fc4) },
                { UINT64_C(1) << 52, UINT64_C(0xb17217f7d1cf), UINT64_C(0xb17217f7d1cf) }, /* ln 2 */
                { UINT64_C(3) << 50, UINT64_C(0xfb17a03ca53e), UINT64_C(0xfb17a03ca53e) }, /* ln 8/3 */
                { 123456789, UINT64_C(0x121afb6a7e1bea), UINT64_C(0x121afb6a7e1bea) },
                { UINT64_C(6004799503160661), UINT64_C(0x67cc8fb2fe62), UINT64_C(0x67cc8fb2fe61) },
                { (UINT64_C(1) << 53) - 1, 1, 0 }, /* 2^-53 * 2^48 = 0.03 */
                { UINT64_C(1) << 53, 0, 0 },       /* ln 1 */
        };
        bool ok = true, close = true;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t got = rng_neg_ln_fixed(cases[i].m);

                if (got != cases[i].want) {
                        tap_diag("m=%" PRIu64 ": got 0x%" PRIx64 ", want 0x%" PRIx64, cases[i].m, got, cases[i].want);
                        ok = false;
                }
                close = close && (got > cases[i].exact ? got - cases[i].exact : cases[i].exact - got) <= 1;
        }
        tap_ok(ok, "the fixed-point -ln gives its documented results at %zu points", ELEMENTSOF(cases));
        tap_ok(close, "and each is within 2^-48 of the true -ln");
        tap_ok(rng_neg_ln_fixed(0) == 0 && rng_neg_ln_fixed((UINT64_C(1) << 53) + 1) == 0,
               "the fixed-point -ln refuses m outside [1, 2^53]");
}

static void test_exponential(void) {
        static const uint64_t mean_1e6[] = { 1205896, 326771, 1830256, 3968473, 4695125, 2061790, 62676, 110301 };
        static const uint64_t fixed[] = {
                UINT64_C(0x134b59e0821aa), UINT64_C(0x53a7466e67c2), UINT64_C(0x1d48ba50201e7),
                UINT64_C(0x3f7edd89ec800),
        };
        double sum = 0, sum_sq = 0, mean, variance;
        bool ok = true;
        Rng rng, twin;

        rng_seed(&rng, 7);
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                ok = ok && rng_exponential_fixed(&rng) == fixed[i];
        tap_ok(ok, "rng_exponential_fixed from seed 7: known answers");

        rng_seed(&rng, 7);
        ok = true;
        for (size_t i = 0; i < ELEMENTSOF(mean_1e6); i++)
                ok = ok && rng_exponential_scaled(&rng, 1000000) == mean_1e6[i];
        tap_ok(ok, "rng_exponential_scaled(mean 1e6) from seed 7: 1205896, 326771, ...");

        rng_seed(&rng, 8);
        for (int i = 0; i < 400000; i++) {
                double x = (double) rng_exponential_scaled(&rng, 1000000);

                sum += x;
                sum_sq += x * x;
        }
        mean = sum / 400000;
        variance = sum_sq / 400000 - mean * mean;
        /* Exponential: the standard deviation equals the mean; 400000 draws
         * put the sample mean within 0.16% of it at one sigma. */
        tap_ok(mean > 0.99e6 && mean < 1.01e6 && variance > 0.96e12 && variance < 1.04e12,
               "400000 exponential draws: mean %.0f is 1e6 within 1%%, variance %.3g is 1e12 within 4%%", mean,
               variance);

        /* With the largest mean, every E of 1 or more overflows 64 bits. */
        rng_seed(&rng, 9);
        rng_seed(&twin, 9);
        ok = true;
        for (int i = 0; i < 1000; i++) {
                uint64_t e = rng_exponential_fixed(&twin), got = rng_exponential_scaled(&rng, UINT64_MAX);
                uint64_t want = e >= (UINT64_C(1) << RNG_EXP_FRAC_BITS) ? UINT64_MAX :
                        (uint64_t) (((unsigned __int128) UINT64_MAX * e + (UINT64_C(1) << 47)) >> 48);

                ok = ok && got == want;
        }
        rng.s[0] = rng.s[1] = rng.s[2] = rng.s[3] = 0;
        tap_ok(ok && rng_exponential_scaled(&rng, UINT64_MAX) == 0,
               "huge means saturate at UINT64_MAX instead of wrapping (and x = 0 gives E = 0)");
}

int main(void) {
        test_splitmix64();
        test_xoshiro();
        test_seeding();
        test_reproducible();
        test_uniform();
        test_bounded();
        test_neg_ln();
        test_exponential();
        return tap_done();
}
