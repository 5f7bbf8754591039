/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for schedule arithmetic: exact offsets, the documented order of draws, limits and reproducibility. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "policy.h"
#include "rng.h"
#include "plan.h"
#include "tap.h"

#define USEC_PER_SEC UINT64_C(1000000)

static const PolicyTarget ab[] = { { "vm-b", 0 }, { "vm-a", 1 }, { "vm-a", 0 } }; /* canonical: a0 a1 b0 */

static Policy *policy(const char *targets, const char *error, const char *schedule, const char *extra) {
        char text[2048];
        PolicyDiag diag;
        Policy *p = NULL;

        snprintf(text, sizeof(text), "{\"name\": \"t\", \"targets\": %s, \"error\": %s, \"schedule\": %s%s%s}",
                 targets ?: "{\"globs\": [\"*\"]}", error ?: "\"uer\"", schedule, extra ? ", " : "", extra ?: "");
        if (policy_parse(text, strlen(text), &p, &diag) < 0) {
                char line[512];

                policy_error_format(&diag.errors[0], line, sizeof(line));
                tap_bail_out("test policy does not parse: %s: %s", text, line);
        }
        return p;
}

static PolicyPlan *plan(const Policy *p, uint64_t seed, const PolicyTarget *t, size_t n) {
        PolicyPlan *plan = NULL;
        int r = policy_plan_new(p, seed, 0, t, n, &plan);

        if (r < 0)
                tap_bail_out("policy_plan_new: %d", r);
        return plan;
}

/* Every offset of a plan, up to max. */
static size_t offsets(PolicyPlan *pl, uint64_t *out, size_t max) {
        PlannedEvent ev;
        size_t n = 0;

        while (n < max && policy_plan_next(pl, &ev) > 0)
                out[n++] = ev.offset_usec;
        return n;
}

static void test_interval(void) {
        uint64_t got[32], want_jitter[16];
        PolicyPlan *pl;
        Policy *p;
        size_t n;
        bool ok;
        Rng rng;

        p = policy(NULL, NULL, "{\"type\": \"interval\", \"period\": \"1s\"}",
                   "\"start_delay\": \"2s\", \"duration\": \"10s\"");
        pl = plan(p, 1, ab, 1);
        n = offsets(pl, got, ELEMENTSOF(got));
        ok = n == 8;
        for (size_t i = 0; ok && i < n; i++)
                ok = got[i] == (2 + i) * USEC_PER_SEC;
        tap_ok(ok, "interval 1s from a 2s start delay, duration 10s: 2s, 3s, ... 9s; the event at 10s is cut");
        policy_plan_free(pl);
        policy_free(p);

        /* Jitter: one rng_bounded(jitter + 1) per event, in microseconds. */
        p = policy("{\"names\": [\"vm-a\"], \"vcpus\": 0}", NULL,
                   "{\"type\": \"interval\", \"period\": \"100ms\", \"jitter\": \"30ms\"}", NULL);
        pl = plan(p, 99, ab + 2, 1);
        n = offsets(pl, got, 16);
        rng_seed(&rng, 99);
        for (size_t i = 0; i < 16; i++)
                want_jitter[i] = i * 100000 + rng_bounded(&rng, 30001);
        ok = n == 16 && memcmp(got, want_jitter, sizeof(want_jitter)) == 0;
        for (size_t i = 0; ok && i < n; i++)
                ok = got[i] >= i * 100000 && got[i] <= i * 100000 + 30000;
        tap_ok(ok, "interval 100ms with jitter 30ms: k * 100ms + rng_bounded(30001) us, within [0, 30ms]");
        policy_plan_free(pl);
        policy_free(p);

        /* Jitter up to just below the period never swaps events. */
        p = policy(NULL, NULL, "{\"type\": \"interval\", \"period\": \"1ms\", \"jitter\": \"999us\"}", NULL);
        pl = plan(p, 5, ab, 3);
        n = offsets(pl, got, ELEMENTSOF(got));
        ok = n == ELEMENTSOF(got);
        for (size_t i = 1; ok && i < n; i++)
                ok = got[i] > got[i - 1];
        tap_ok(ok, "jitter 999us on a 1ms period keeps offsets strictly increasing");
        policy_plan_free(pl);
        policy_free(p);
}

/* Golden plans: computed from serror-policy(5)'s description alone, by an
 * independent Python implementation of SplitMix64, xoshiro256**, Lemire's
 * bounded integers and the fixed-point exponential. They pin the format's
 * promise that a seed means the same plan in every release. */
static void test_golden(void) {
        static const struct {
                uint64_t offset;
                const char *vm;
                uint32_t vcpu;
                uint32_t iss;
        } poisson[] = {
                { 1035035, "vm-b", 0, 0x1811 }, { 2069508, "vm-b", 0, 0xc11 }, { 2577636, "vm-b", 0, 0xc11 },
                { 2927839, "vm-a", 0, 0x1811 }, { 3573668, "vm-b", 0, 0x1811 }, { 4414399, "vm-b", 0, 0x1811 },
                { 4906171, "vm-a", 0, 0x1811 }, { 4985075, "vm-a", 1, 0x1811 },
        };
        static const struct {
                uint64_t offset;
                const char *vm;
                uint32_t vcpu;
        } interval[] = {
                { 175144, "vm-a", 0 }, { 1209907, "vm-b", 3 }, { 2247716, "vm-b", 3 },
                { 3015188, "vm-a", 0 }, { 4100927, "vm-a", 0 }, { 5135342, "vm-b", 3 },
        };
        static const PolicyTarget two[] = { { "vm-b", 3 }, { "vm-a", 0 } };
        PlannedEvent ev;
        PolicyPlan *pl;
        Policy *p;
        bool ok = true;

        p = policy("{\"names\": [\"vm-a\", \"vm-b\"]}",
                   "{\"mix\": [{\"syndrome\": \"ce\", \"weight\": 3}, {\"syndrome\": \"uer\"}]}",
                   "{\"type\": \"poisson\", \"rate\": 2.5}", "\"start_delay\": \"1s\"");
        pl = plan(p, 42, ab, ELEMENTSOF(ab));
        for (size_t i = 0; i < ELEMENTSOF(poisson); i++) {
                ok = ok && policy_plan_next(pl, &ev) == 1 && ev.offset_usec == poisson[i].offset &&
                     streq(ev.vm, poisson[i].vm) && ev.vcpu == poisson[i].vcpu &&
                     serror_syndrome_iss(&ev.syndrome) == poisson[i].iss && ev.event == i && ev.injection == i;
                if (!ok) {
                        tap_diag("event %zu: %" PRIu64 " %s %" PRIu32 " 0x%" PRIx32, i, ev.offset_usec, ev.vm, ev.vcpu,
                                 serror_syndrome_iss(&ev.syndrome));
                        break;
                }
        }
        tap_ok(ok, "poisson 2.5/s, start delay 1s, mix ce:3 uer:1, pick one of 3, seed 42: the golden plan");
        policy_plan_free(pl);
        policy_free(p);

        p = policy(NULL, NULL, "{\"type\": \"interval\", \"period\": \"1s\", \"jitter\": \"250ms\"}", NULL);
        pl = plan(p, 7, two, ELEMENTSOF(two));
        ok = true;
        for (size_t i = 0; ok && i < ELEMENTSOF(interval); i++)
                ok = policy_plan_next(pl, &ev) == 1 && ev.offset_usec == interval[i].offset &&
                     streq(ev.vm, interval[i].vm) && ev.vcpu == interval[i].vcpu;
        tap_ok(ok, "interval 1s, jitter 250ms, pick one of 2, seed 7: the golden plan (jitter drawn before target)");
        policy_plan_free(pl);
        policy_free(p);
}

static void test_once(void) {
        uint64_t got[4], offset;
        PolicyPlan *pl = NULL;
        PlannedEvent ev;
        Policy *p;
        size_t n;

        p = policy(NULL, NULL, "{\"type\": \"once\", \"after\": \"30s\"}", "\"start_delay\": \"1500ms\"");
        pl = plan(p, 1, ab, 3);
        n = offsets(pl, got, ELEMENTSOF(got));
        tap_ok(n == 1 && got[0] == 31500000 && policy_plan_peek(pl, &offset) == 0 && policy_plan_next(pl, &ev) == 0,
               "once after 30s with a 1.5s start delay: one event at 31.5s, then the plan is over");
        policy_plan_free(pl);
        policy_free(p);

        p = policy(NULL, NULL, "{\"type\": \"once\", \"at\": \"2030-01-01T00:00:10Z\"}", NULL);
        tap_ok(policy_plan_new(p, 1, UINT64_C(1893456000) * USEC_PER_SEC, ab, 3, &pl) == 0 &&
               offsets(pl, got, 4) == 1 && got[0] == 10 * USEC_PER_SEC,
               "once at 00:00:10 started at 00:00:00: one event at offset 10s");
        policy_plan_free(pl);
        tap_ok(policy_plan_new(p, 1, UINT64_C(1893456000) * USEC_PER_SEC + 10 * USEC_PER_SEC, ab, 3, &pl) == 0 &&
               offsets(pl, got, 4) == 1 && got[0] == 0,
               "started exactly at that time: one event at offset 0");
        policy_plan_free(pl);
        tap_ok(policy_plan_new(p, 1, UINT64_C(1893456000) * USEC_PER_SEC + 11 * USEC_PER_SEC, ab, 3, &pl) == 0 &&
               policy_plan_peek(pl, &offset) == 0,
               "started after that time: no event at all");
        policy_plan_free(pl);
        policy_free(p);
}

static void test_burst(void) {
        static const uint64_t want[] = { 0, 10000, 20000, 1000000, 1010000, 1020000, 2000000, 2010000, 2020000 };
        uint64_t got[16];
        PolicyPlan *pl;
        Policy *p;
        size_t n;

        p = policy(NULL, NULL, "{\"type\": \"burst\", \"count\": 3, \"spacing\": \"10ms\", \"period\": \"1s\"}",
                   "\"duration\": \"2500ms\"");
        pl = plan(p, 1, ab, 3);
        n = offsets(pl, got, ELEMENTSOF(got));
        tap_ok(n == ELEMENTSOF(want) && memcmp(got, want, sizeof(want)) == 0,
               "bursts of 3 every 1s, 10ms apart, for 2.5s: 0, 10, 20ms, 1s, 1.01s, 1.02s, 2s, 2.01s, 2.02s");
        policy_plan_free(pl);
        policy_free(p);

        p = policy(NULL, NULL, "{\"type\": \"burst\", \"count\": 4, \"spacing\": \"1ms\"}", "\"start_delay\": \"5s\"");
        pl = plan(p, 1, ab, 3);
        n = offsets(pl, got, ELEMENTSOF(got));
        tap_ok(n == 4 && got[0] == 5000000 && got[1] == 5001000 && got[2] == 5002000 && got[3] == 5003000,
               "one burst of 4, 1ms apart, from a 5s start delay, then over");
        policy_plan_free(pl);
        policy_free(p);
}

static void test_poisson(void) {
        PolicyPlan *pl, *again;
        PlannedEvent ev, ev2;
        uint64_t last = 0, count = 0, prev = 0;
        bool same = true, monotonic = true;
        Policy *p;
        double mean;
        Rng rng;
        uint64_t t;

        p = policy(NULL, NULL, "{\"type\": \"poisson\", \"rate\": 100}", "\"duration\": \"1000s\"");

        /* Exactly the documented arithmetic: cumulative nanoseconds of
         * rng_exponential_scaled(mean_ns), shown as whole microseconds. */
        pl = plan(p, 11, ab, 1);
        rng_seed(&rng, 11);
        t = 0;
        for (int i = 0; i < 1000 && same; i++) {
                t += rng_exponential_scaled(&rng, 10000000);
                same = policy_plan_next(pl, &ev) == 1 && ev.offset_usec == t / 1000;
        }
        tap_ok(same, "poisson offsets are the running sum of rng_exponential_scaled(1e9 / rate) ns, floored to us");
        policy_plan_free(pl);

        pl = plan(p, 12345, ab, 3);
        again = plan(p, 12345, ab, 3);
        while (policy_plan_next(pl, &ev) > 0) {
                count++;
                last = ev.offset_usec;
                monotonic = monotonic && ev.offset_usec >= prev && ev.offset_usec < 1000 * USEC_PER_SEC;
                prev = ev.offset_usec;
                same = same && policy_plan_next(again, &ev2) == 1 && memcmp(&ev, &ev2, sizeof(ev)) == 0;
        }
        same = same && policy_plan_next(again, &ev2) == 0;
        /* 100000 expected; a Poisson count has sd 316, so 1% is 3 sd. */
        tap_ok(count > 99000 && count < 101000, "rate 100/s over 1000s: %" PRIu64 " events, 100000 within 1%%", count);
        mean = (double) last / (double) count;
        tap_ok(mean > 9900 && mean < 10100, "mean gap %.1f us is 10000 within 1%%", mean);
        tap_ok(monotonic, "offsets never decrease and stay below the duration");
        tap_ok(same, "two plans from the same seed give the same %" PRIu64 " events, field for field", count);
        policy_plan_free(pl);
        policy_plan_free(again);

        pl = plan(p, 12346, ab, 3);
        again = plan(p, 12345, ab, 3);
        same = policy_plan_next(pl, &ev) == 1 && policy_plan_next(again, &ev2) == 1 && ev.offset_usec == ev2.offset_usec;
        tap_ok(!same, "a neighbouring seed gives a different plan");
        policy_plan_free(pl);
        policy_plan_free(again);
        policy_free(p);
}

static void test_choices(void) {
        static const PolicyTarget four[] = { { "d", 0 }, { "c", 0 }, { "b", 0 }, { "a", 0 } };
        unsigned hits[4] = {}, mix_hits[2] = {};
        PlannedEvent ev;
        PolicyPlan *pl;
        Policy *p;
        bool ok = true;
        Rng rng;

        /* With no jitter the stream holds only choices: mix first, then target. */
        p = policy(NULL, "{\"mix\": [{\"syndrome\": \"ce\", \"weight\": 3}, {\"syndrome\": \"uer\", \"weight\": 1}]}",
                   "{\"type\": \"interval\", \"period\": \"1ms\"}", NULL);
        pl = plan(p, 2024, four, 4);
        rng_seed(&rng, 2024);
        for (int i = 0; i < 40000; i++) {
                uint64_t mix = rng_bounded(&rng, 4) < 3 ? 0 : 1, target = rng_bounded(&rng, 4);

                if (policy_plan_next(pl, &ev) != 1 || ev.mix_index != mix || ev.target_index != target ||
                    ev.vm[0] != (char) ('a' + target)) {
                        ok = false;
                        break;
                }
                hits[target]++;
                mix_hits[mix]++;
        }
        tap_ok(ok, "each event draws rng_bounded(total weight), then rng_bounded(targets), from one stream");
        tap_ok(hits[0] > 9700 && hits[0] < 10300 && hits[3] > 9700 && hits[3] < 10300,
               "pick one spreads 40000 events evenly over 4 targets (%u, %u, %u, %u)", hits[0], hits[1], hits[2],
               hits[3]);
        tap_ok(mix_hits[0] > 29500 && mix_hits[0] < 30500,
               "weights 3:1 give %u of 40000 (75%% within 1.25%%) to the first syndrome", mix_hits[0]);
        policy_plan_free(pl);
        policy_free(p);

        /* One target and one syndrome: nothing is drawn at all. */
        p = policy(NULL, NULL, "{\"type\": \"interval\", \"period\": \"1ms\"}", NULL);
        pl = plan(p, 1, four, 1);
        ok = true;
        for (int i = 0; i < 10; i++)
                ok = ok && policy_plan_next(pl, &ev) == 1 && streq(ev.vm, "d") && ev.target_index == 0 &&
                     ev.mix_index == 0 && ev.n_parts == 1;
        tap_ok(ok, "a single target and syndrome: every event hits it");
        policy_plan_free(pl);
        policy_free(p);
}

static void test_pick_all_and_limits(void) {
        static const char *const order[] = { "vm-a", "vm-a", "vm-b" };
        static const uint32_t vcpus[] = { 0, 1, 0 };
        PlannedEvent ev;
        PolicyPlan *pl;
        uint64_t offset;
        Policy *p;
        bool ok = true;
        unsigned n = 0;

        p = policy("{\"globs\": [\"*\"], \"pick\": \"all\"}",
                   "{\"mix\": [{\"syndrome\": \"ce\"}, {\"syndrome\": \"uer\"}]}",
                   "{\"type\": \"interval\", \"period\": \"1s\"}", "\"max_injections\": 7");
        pl = plan(p, 3, ab, 3);
        while (policy_plan_next(pl, &ev) > 0) {
                unsigned e = n / 3, part = n % 3;

                ok = ok && ev.event == e && ev.injection == n && ev.part == part && ev.offset_usec == e * USEC_PER_SEC &&
                     streq(ev.vm, order[part]) && ev.vcpu == vcpus[part] && ev.n_parts == (e < 2 ? 3u : 1u);
                n++;
        }
        tap_ok(ok && n == 7, "pick all: each event is one injection per target in canonical order, at one offset");
        tap_ok(policy_plan_injections(pl) == 7 && policy_plan_events(pl) == 3 && policy_plan_peek(pl, &offset) == 0,
               "max_injections 7 over 3 targets: 3 + 3 + 1 injections in 3 events, then over");
        policy_plan_free(pl);

        /* Every injection of a pick-all event carries the event's syndrome. */
        pl = plan(p, 3, ab, 3);
        ok = true;
        for (int e = 0; e < 2; e++) {
                PlannedEvent first;

                ok = ok && policy_plan_next(pl, &first) == 1;
                for (int i = 1; i < 3; i++)
                        ok = ok && policy_plan_next(pl, &ev) == 1 && ev.mix_index == first.mix_index;
        }
        tap_ok(ok, "the syndrome is drawn once per event");
        policy_plan_free(pl);
        policy_free(p);

        p = policy(NULL, NULL, "{\"type\": \"poisson\", \"rate\": 1000}", "\"max_injections\": 5");
        pl = plan(p, 3, ab, 3);
        for (n = 0; policy_plan_next(pl, &ev) > 0; n++)
                ;
        tap_ok(n == 5, "pick one with max_injections 5: exactly 5 injections");
        policy_plan_free(pl);
        policy_free(p);
}

static void test_targets(void) {
        static const PolicyTarget shuffled[] = { { "vm-a", 0 }, { "vm-b", 0 }, { "vm-a", 1 }, { "vm-b", 0 } };
        static const PolicyTarget bad_name[] = { { "", 0 } };
        static const PolicyTarget bad_vcpu[] = { { "vm-a", 70000 } };
        PlannedEvent ev, ev2;
        PolicyPlan *a, *b, *pl = NULL;
        uint64_t off1, off2;
        Policy *p;
        bool same = true;
        int n;

        p = policy(NULL, "{\"mix\": [{\"syndrome\": \"ce\"}, {\"syndrome\": \"uer\"}]}",
                   "{\"type\": \"poisson\", \"rate\": 50}", NULL);
        a = plan(p, 77, ab, 3);
        b = plan(p, 77, shuffled, ELEMENTSOF(shuffled));
        for (int i = 0; i < 2000 && same; i++)
                same = policy_plan_next(a, &ev) == 1 && policy_plan_next(b, &ev2) == 1 &&
                       memcmp(&ev, &ev2, sizeof(ev)) == 0;
        tap_ok(same && policy_plan_n_targets(b) == 3,
               "targets in any order, with duplicates, give the same plan as the canonical list");

        /* peek draws the time once; later peeks return it unchanged. */
        tap_ok(policy_plan_peek(a, &off1) == 1 && policy_plan_peek(a, &off1) == 1 && policy_plan_peek(a, &off2) == 1 &&
               off1 == off2 && policy_plan_next(a, &ev) == 1 && policy_plan_next(b, &ev2) == 1 &&
               memcmp(&ev, &ev2, sizeof(ev)) == 0 && ev.offset_usec == off1,
               "peek is idempotent and does not change what next returns");
        policy_plan_free(a);
        policy_plan_free(b);

        /* No target: events still come, with has_target false, and count no
         * injection; the stream is used as with one target (no target draw). */
        a = plan(p, 77, NULL, 0);
        b = plan(p, 77, ab, 1);
        same = true;
        for (n = 0; n < 100 && same; n++)
                same = policy_plan_next(a, &ev) == 1 && policy_plan_next(b, &ev2) == 1 && !ev.has_target &&
                       ev.n_parts == 0 && ev.offset_usec == ev2.offset_usec && ev.event == ev2.event &&
                       ev.vm[0] == '\0' && ev.mix_index == ev2.mix_index;
        tap_ok(same && policy_plan_injections(a) == 0 && policy_plan_events(a) == 100,
               "an empty target list: the times and syndromes of a one-target plan, no target, no injection counted");

        /* New targets apply from the next event on. */
        tap_ok(policy_plan_set_targets(a, ab + 2, 1) == 0 && policy_plan_next(a, &ev) == 1 && ev.has_target &&
               streq(ev.vm, "vm-a") && ev.vcpu == 0, "set_targets: the next event hits the new list");
        policy_plan_free(a);
        policy_plan_free(b);
        policy_free(p);

        p = policy("{\"globs\": [\"*\"], \"pick\": \"all\"}", NULL, "{\"type\": \"interval\", \"period\": \"1s\"}", NULL);
        a = plan(p, 1, ab, 3);
        same = policy_plan_next(a, &ev) == 1 && ev.part == 0 && policy_plan_set_targets(a, ab, 1) == 0 &&
               policy_plan_next(a, &ev) == 1 && ev.part == 1 && streq(ev.vm, "vm-a") && ev.vcpu == 1 &&
               policy_plan_next(a, &ev) == 1 && ev.part == 2 && streq(ev.vm, "vm-b") &&
               policy_plan_next(a, &ev) == 1 && ev.event == 1 && ev.n_parts == 1 && streq(ev.vm, "vm-b");
        tap_ok(same, "set_targets during a pick-all event: the event finishes on its own list");
        policy_plan_free(a);

        tap_ok(policy_plan_new(p, 1, 0, bad_name, 1, &pl) == -EINVAL && !pl &&
               policy_plan_new(p, 1, 0, bad_vcpu, 1, &pl) == -EINVAL && !pl &&
               policy_plan_new(NULL, 1, 0, ab, 3, &pl) == -EINVAL && policy_plan_new(p, 1, 0, NULL, 1, &pl) == -EINVAL,
               "bad targets or no policy: -EINVAL, nothing returned");
        a = plan(p, 1, ab, 3);
        tap_ok(policy_plan_set_targets(a, bad_vcpu, 1) == -EINVAL && policy_plan_n_targets(a) == 3 &&
               policy_plan_seed(a) == 1,
               "a bad set_targets keeps the old list");
        policy_plan_free(a);
        tap_ok(!policy_plan_free(NULL) && policy_plan_next(NULL, &ev) == -EINVAL &&
               policy_plan_peek(NULL, &off1) == -EINVAL,
               "NULL plans are refused or ignored");
        policy_free(p);
}

static void test_all_schedules_ordered(void) {
        static const char *const schedules[] = {
                "{\"type\": \"interval\", \"period\": \"10ms\", \"jitter\": \"9ms\"}",
                "{\"type\": \"poisson\", \"rate\": 500}",
                "{\"type\": \"burst\", \"count\": 7, \"spacing\": \"1ms\", \"period\": \"7ms\"}",
                "{\"type\": \"once\", \"after\": \"1s\"}",
        };
        bool ok = true;

        for (size_t s = 0; s < ELEMENTSOF(schedules); s++) {
                Policy *p = policy("{\"globs\": [\"*\"], \"pick\": \"all\"}", NULL, schedules[s],
                                   "\"duration\": \"2s\", \"max_injections\": 20000");

                for (uint64_t seed = 0; seed < 20; seed++) {
                        PolicyPlan *pl = plan(p, seed, ab, 3);
                        uint64_t prev = 0, n = 0;
                        PlannedEvent ev;

                        while (policy_plan_next(pl, &ev) > 0) {
                                ok = ok && ev.offset_usec >= prev && ev.offset_usec < 2 * USEC_PER_SEC;
                                prev = ev.offset_usec;
                                n++;
                        }
                        ok = ok && n <= 20000;
                        policy_plan_free(pl);
                }
                policy_free(p);
        }
        tap_ok(ok, "every schedule type, 20 seeds: offsets never decrease, stay before the duration and the limit");
}

int main(void) {
        test_interval();
        test_golden();
        test_once();
        test_burst();
        test_poisson();
        test_choices();
        test_pick_all_and_limits();
        test_targets();
        test_all_schedules_ordered();
        return tap_done();
}
