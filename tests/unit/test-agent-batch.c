/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for libserror-agent's result batches: what waits, what goes, in which order, and when. */
#include <stdint.h>
#include <string.h>

#include "agent-batch.h"
#include "tap.h"

#define HOLD 100u

typedef struct Sent {
        uint64_t ids[64];
        unsigned n;
} Sent;

static void record(void *userdata, uint64_t id, const AttachInjectResult *res) {
        Sent *sent = userdata;

        if (sent->n < ELEMENTSOF(sent->ids))
                sent->ids[sent->n++] = id;
        (void) res;
}

static bool sent_is(const Sent *sent, unsigned n, const uint64_t *want) {
        return sent->n == n && (n == 0 || memcmp(sent->ids, want, n * sizeof(uint64_t)) == 0);
}

static const AttachInjectResult RESULT = { .outcome = SERROR_OUTCOME_INJECTED };

/* A fresh set with one batch of n received requests; returns the batch. */
static uint64_t start_batch(AgentBatches *s, Sent *sent, unsigned max_held, unsigned n) {
        uint64_t b = 0;

        agent_batches_init(s, max_held, HOLD, record, sent);
        for (unsigned i = 0; i < n; i++)
                b = agent_batches_join(s);
        agent_batches_next(s);
        return b;
}

static void test_single(void) {
        Sent sent = {};
        AgentBatches s;
        uint64_t b;

        b = start_batch(&s, &sent, 8, 1);
        tap_ok(b != 0, "a request joins a batch");
        agent_batches_end(&s, b, 7, &RESULT, true, 10);
        tap_ok(sent_is(&sent, 1, (uint64_t[]) { 7 }), "a batch of one: its result goes at once");
        tap_ok(s.n_held == 0 && agent_batches_run(&s, 1000) == 0, "nothing held, no wake-up wanted");
}

static void test_whole_batch(void) {
        Sent sent = {};
        AgentBatches s;
        uint64_t b1, b2, b3, later;

        agent_batches_init(&s, 8, HOLD, record, &sent);
        b1 = agent_batches_join(&s);
        b2 = agent_batches_join(&s);
        b3 = agent_batches_join(&s);
        agent_batches_next(&s);
        tap_ok(b1 == b2 && b2 == b3, "requests of one pass share a batch");
        later = agent_batches_join(&s);
        agent_batches_next(&s);
        tap_ok(later != b1, "the next pass starts a new batch");

        agent_batches_end(&s, b2, 2, &RESULT, true, 10);
        agent_batches_end(&s, b1, 1, &RESULT, true, 20);
        tap_ok(sent.n == 0 && s.n_held == 2, "results wait while others of their batch are live");
        tap_ok(agent_batches_run(&s, 50) == 10 + HOLD, "the wake-up is due hold_ns after the first was held");
        agent_batches_end(&s, later, 9, &RESULT, true, 30);
        tap_ok(sent_is(&sent, 1, (uint64_t[]) { 9 }), "another batch's result does not wait for this one");
        agent_batches_end(&s, b3, 3, &RESULT, true, 40);
        tap_ok(sent_is(&sent, 4, (uint64_t[]) { 9, 2, 1, 3 }), "the last one releases the batch, in the order they ended");
        tap_ok(s.n_held == 0 && !s.head && !s.tail, "nothing held after");
        for (unsigned i = 0; i < AGENT_BATCHES_MAX; i++)
                if (s.slots[i].id != 0)
                        tap_ok(false, "slot %u still in use", i);
}

static void test_hold_limit(void) {
        Sent sent = {};
        AgentBatches s;
        uint64_t b;

        b = start_batch(&s, &sent, 8, 3);
        agent_batches_end(&s, b, 1, &RESULT, true, 1000);
        tap_ok(agent_batches_run(&s, 1000 + HOLD - 1) == 1000 + HOLD && sent.n == 0, "held until hold_ns has passed");
        tap_ok(agent_batches_run(&s, 1000 + HOLD) == 0 && sent_is(&sent, 1, (uint64_t[]) { 1 }),
               "released once hold_ns has passed, whatever is still live");
        agent_batches_end(&s, b, 2, &RESULT, true, 2000);
        tap_ok(sent.n == 1 && s.n_held == 1, "the batch may hold again after a release");
        agent_batches_end(&s, b, 3, &RESULT, true, 2001);
        tap_ok(sent_is(&sent, 3, (uint64_t[]) { 1, 2, 3 }), "and its last releases the rest");
}

static void test_unwanted_and_discarded(void) {
        Sent sent = {};
        AgentBatches s;
        uint64_t b;

        b = start_batch(&s, &sent, 8, 3);
        agent_batches_end(&s, b, 1, &RESULT, false, 10);
        tap_ok(sent.n == 0 && s.n_held == 0, "a result nobody wants is neither sent nor held");
        agent_batches_end(&s, b, 2, &RESULT, true, 11);
        tap_ok(s.n_held == 1, "the next one waits for the last live one");
        agent_batches_discard(&s, b);
        tap_ok(sent_is(&sent, 1, (uint64_t[]) { 2 }), "discarding the last live one releases what waited");
        agent_batches_discard(&s, b);
        tap_ok(sent.n == 1, "discarding more than were live changes nothing");
}

static void test_bounds(void) {
        Sent sent = {};
        AgentBatches s;
        uint64_t b = start_batch(&s, &sent, 2, 4);
        for (unsigned i = 0; i < 3; i++)
                agent_batches_end(&s, b, 10 + i, &RESULT, true, 100 + i);
        tap_ok(sent_is(&sent, 3, (uint64_t[]) { 10, 11, 12 }), "past max_held, the held and the new go out at once");

        agent_batches_init(&s, 8, HOLD, record, &sent);
        for (unsigned i = 0; i < AGENT_BATCHES_MAX; i++) {
                (void) agent_batches_join(&s);
                (void) agent_batches_join(&s);
                agent_batches_next(&s);
        }
        tap_ok(agent_batches_join(&s) == 0, "with every slot busy, a request goes unbatched");
        sent.n = 0;
        agent_batches_end(&s, 0, 99, &RESULT, true, 5);
        tap_ok(sent_is(&sent, 1, (uint64_t[]) { 99 }), "and its result goes at once");
}

static void test_forget(void) {
        Sent sent = {};
        AgentBatches s;
        uint64_t b;

        b = start_batch(&s, &sent, 8, 2);
        agent_batches_end(&s, b, 1, &RESULT, true, 10);
        agent_batches_forget(&s);
        tap_ok(sent.n == 0 && s.n_held == 0 && !s.head, "forget drops what is held, unsent");
        agent_batches_end(&s, b, 2, &RESULT, false, 20);
        tap_ok(sent.n == 0 && agent_batches_run(&s, 1000) == 0, "a forgotten batch's late end sends nothing");
}

int main(void) {
        test_single();
        test_whole_batch();
        test_hold_limit();
        test_unwanted_and_discarded();
        test_bounds();
        test_forget();
        return tap_done();
}
