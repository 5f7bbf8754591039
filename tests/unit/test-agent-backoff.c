/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for libserror-agent's timing arithmetic: reconnect backoff, deadlines, kick schedules. */
#include <inttypes.h>
#include <stdint.h>

#include "agent-backoff.h"
#include "tap.h"

#define MS AGENT_NSEC_PER_MSEC

static void test_backoff_sequence(void) {
        static const uint64_t want[] = { 50 * MS, 100 * MS, 200 * MS, 400 * MS, 800 * MS, 1000 * MS, 1000 * MS, 1000 * MS };
        AgentBackoff b;
        bool ok = true;

        agent_backoff_reset(&b);
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                uint64_t got = agent_backoff_next(&b);

                if (got != want[i]) {
                        tap_diag("step %zu: got %" PRIu64 " ns, want %" PRIu64 " ns", i, got, want[i]);
                        ok = false;
                }
        }
        tap_ok(ok, "backoff: 50 ms doubling to a 1 s cap, then stays at the cap");
}

static void test_backoff_reset(void) {
        AgentBackoff b;

        agent_backoff_reset(&b);
        for (int i = 0; i < 20; i++)
                (void) agent_backoff_next(&b);
        agent_backoff_reset(&b);
        tap_ok(agent_backoff_next(&b) == AGENT_BACKOFF_MIN_NS, "backoff: reset (a successful HELLO) starts over at 50 ms");
}

static void test_backoff_zeroed(void) {
        AgentBackoff b = {};
        uint64_t first = agent_backoff_next(&b), second = agent_backoff_next(&b);

        tap_ok(first == AGENT_BACKOFF_MIN_NS && second == 2 * AGENT_BACKOFF_MIN_NS,
               "backoff: a zeroed state behaves like a reset one (%" PRIu64 ", %" PRIu64 ")", first, second);
}

static void test_backoff_never_busy(void) {
        AgentBackoff b = { .next_ns = UINT64_MAX };
        AgentBackoff c = { .next_ns = 1 };
        uint64_t total = 0;
        bool ok;

        ok = agent_backoff_next(&b) == AGENT_BACKOFF_MAX_NS && agent_backoff_next(&b) == AGENT_BACKOFF_MAX_NS;
        tap_ok(ok, "backoff: an out-of-range state is clamped to the cap, never wraps");
        ok = agent_backoff_next(&c) == AGENT_BACKOFF_MIN_NS;
        tap_ok(ok, "backoff: never shorter than 50 ms (no busy loop)");

        /* A restarted serrord is found again within about a second: the
         * whole first run of attempts fits into 2.6 s, and no delay is over 1 s. */
        agent_backoff_reset(&b);
        for (int i = 0; i < 6; i++)
                total += agent_backoff_next(&b);
        tap_ok(total == 2550 * MS, "backoff: the first six waits add up to 2.55 s (got %" PRIu64 " ms)", total / MS);
}

static void test_time_add(void) {
        tap_ok(agent_time_add(1, 2) == 3, "time_add: plain sum");
        tap_ok(agent_time_add(UINT64_MAX - 1, 5) == UINT64_MAX, "time_add: saturates instead of wrapping");
        tap_ok(agent_time_add(UINT64_MAX, UINT64_MAX) == UINT64_MAX, "time_add: saturates at the extremes");
}

static void test_earliest(void) {
        tap_ok(agent_time_earliest(AGENT_TIME_NONE, AGENT_TIME_NONE) == AGENT_TIME_NONE, "earliest: none and none");
        tap_ok(agent_time_earliest(AGENT_TIME_NONE, 7) == 7, "earliest: none and 7");
        tap_ok(agent_time_earliest(7, AGENT_TIME_NONE) == 7, "earliest: 7 and none");
        tap_ok(agent_time_earliest(9, 7) == 7 && agent_time_earliest(7, 9) == 7, "earliest: the smaller one");
}

static void test_kick_due(void) {
        tap_ok(agent_kick_due(0, AGENT_KICK_WORKER_NS) == 1, "kick_due: never kicked means due at once (1, not 0)");
        tap_ok(agent_kick_due(1000, AGENT_KICK_WORKER_NS) == 1000 + AGENT_KICK_WORKER_NS,
               "kick_due: last kick plus the period");
        tap_ok(agent_kick_due(UINT64_MAX - 10, AGENT_KICK_VCPU_THREAD_NS) == UINT64_MAX, "kick_due: saturates");
        tap_ok(AGENT_KICK_WORKER_NS >= 50 * AGENT_NSEC_PER_USEC && AGENT_KICK_WORKER_NS <= 1 * MS,
               "kick period of the agent-side path is within 50 us..1 ms (DOMAIN.md 5)");
}

static void test_kick_backoff(void) {
        const uint64_t base = AGENT_KICK_VCPU_THREAD_NS, cap = AGENT_KICK_VCPU_THREAD_MAX_NS;

        tap_ok(agent_kick_backoff(base, 0, cap) == base, "kick_backoff: before the first kick, the base");
        tap_ok(agent_kick_backoff(base, 1, cap) == base, "kick_backoff: after the first kick, the base");
        tap_ok(agent_kick_backoff(base, 2, cap) == 2 * base, "kick_backoff: doubles after the second");
        tap_ok(agent_kick_backoff(base, 4, cap) == 8 * base, "kick_backoff: 8x after the fourth");
        tap_ok(agent_kick_backoff(base, 5, cap) == cap && cap == 16 * base, "kick_backoff: 1, 2, 4, 8, then the 16 ms cap");
        tap_ok(agent_kick_backoff(base, 1000000, cap) == cap, "kick_backoff: stays at the cap");
        tap_ok(agent_kick_backoff(3 * base, 3, 10 * base) == 10 * base, "kick_backoff: a cap that is no power of two holds");
        tap_ok(agent_kick_backoff(UINT64_MAX / 2 + 1, 3, UINT64_MAX) == UINT64_MAX, "kick_backoff: saturates, never wraps");
}

static void test_timespec(void) {
        struct timespec ts;

        agent_timespec_from_ns(1500 * MS + 7, &ts);
        tap_ok(ts.tv_sec == 1 && ts.tv_nsec == 500000007, "timespec_from_ns: 1.500000007 s");
        tap_ok(agent_timespec_to_ns(&ts) == 1500 * MS + 7, "timespec_to_ns: round trip");
        ts = (struct timespec) { .tv_sec = -1, .tv_nsec = 0 };
        tap_ok(agent_timespec_to_ns(&ts) == 0, "timespec_to_ns: negative reads as 0");
        agent_timespec_from_ns(UINT64_MAX, &ts);
        tap_ok(agent_timespec_to_ns(&ts) == UINT64_MAX, "timespec: UINT64_MAX round trips");
}

int main(void) {
        test_backoff_sequence();
        test_backoff_reset();
        test_backoff_zeroed();
        test_backoff_never_busy();
        test_time_add();
        test_earliest();
        test_kick_due();
        test_kick_backoff();
        test_timespec();
        return tap_done();
}
