/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-agent's result batches.
 *
 * serrord sends the requests of one call (inject --vcpu=all, a policy event on
 * every target) back to back, and the agent reads them in one pass: a batch.
 * Its vcpus finish one after the other, and a result sent as each finishes
 * wakes serrord, and the VMM's loop, once per vcpu. Instead a result waits
 * while others of its batch are live, and the batch's results go out together
 * when the last ends, or hold_ns after the first was held. A batch of one, the
 * interactive case, waits for nothing. */
#include <stdlib.h>

#include "list.h"
#include "agent-batch.h"

void agent_batches_init(AgentBatches *s, unsigned max_held, uint64_t hold_ns, agent_batch_send_fn send,
                        void *userdata) {
        *s = (AgentBatches) { .current = 1, .max_held = max_held, .hold_ns = hold_ns, .send = send, .userdata = userdata };
}

static AgentBatch *batch_find(AgentBatches *s, uint64_t id) {
        if (id == 0)
                return NULL;
        for (unsigned i = 0; i < AGENT_BATCHES_MAX; i++)
                if (s->slots[i].id == id)
                        return &s->slots[i];
        return NULL;
}

uint64_t agent_batches_join(AgentBatches *s) {
        AgentBatch *b = batch_find(s, s->current);

        for (unsigned i = 0; !b && i < AGENT_BATCHES_MAX; i++)
                if (s->slots[i].id == 0) {
                        b = &s->slots[i];
                        *b = (AgentBatch) { .id = s->current };
                }
        if (!b)
                return 0;
        b->live++;
        s->used = true;
        return b->id;
}

void agent_batches_next(AgentBatches *s) {
        if (s->used) {
                s->current++;
                if (s->current == 0) /* 0 means "none" */
                        s->current = 1;
                s->used = false;
        }
}

/* Sends what b holds, in the order it ended; frees the slot once nothing of b
 * is live or held. */
static void batch_release(AgentBatches *s, AgentBatch *b) {
        AgentHeld **link = &s->head, *h;

        s->tail = NULL;
        while ((h = *link)) {
                if (h->batch != b->id) {
                        s->tail = h;
                        link = &h->next;
                        continue;
                }
                *link = h->next;
                s->send(s->userdata, h->id, &h->res);
                s->n_held--;
                free(h);
        }
        b->held_since_ns = 0;
        if (b->live == 0)
                *b = (AgentBatch) {};
}

void agent_batches_end(AgentBatches *s, uint64_t batch, uint64_t id, const AttachInjectResult *res, bool wanted,
                       uint64_t now) {
        AgentBatch *b = batch_find(s, batch);
        AgentHeld *h;

        if (b && b->live > 0)
                b->live--;
        if (wanted && b && b->live > 0 && s->n_held < s->max_held && (h = calloc(1, sizeof(*h)))) {
                *h = (AgentHeld) { .batch = b->id, .id = id, .res = *res };
                QUEUE_APPEND(s->head, s->tail, h);
                s->n_held++;
                if (b->held_since_ns == 0)
                        b->held_since_ns = now ? now : 1;
                return;
        }
        if (b && (b->live == 0 || b->held_since_ns != 0))
                /* Its last, or one that could not wait: what waited goes first. */
                batch_release(s, b);
        if (wanted)
                s->send(s->userdata, id, res);
}

void agent_batches_discard(AgentBatches *s, uint64_t batch) {
        AgentBatch *b = batch_find(s, batch);

        if (!b || b->live == 0)
                return;
        b->live--;
        if (b->live == 0)
                batch_release(s, b);
}

uint64_t agent_batches_run(AgentBatches *s, uint64_t now) {
        uint64_t wake = 0;

        for (unsigned i = 0; i < AGENT_BATCHES_MAX; i++) {
                AgentBatch *b = &s->slots[i];
                uint64_t due;

                if (b->id == 0 || b->held_since_ns == 0)
                        continue;
                due = b->held_since_ns > UINT64_MAX - s->hold_ns ? UINT64_MAX : b->held_since_ns + s->hold_ns;
                if (now >= due)
                        batch_release(s, b);
                else if (wake == 0 || due < wake)
                        wake = due;
        }
        return wake;
}

void agent_batches_forget(AgentBatches *s) {
        AgentHeld *h, *next;

        for (h = s->head; h; h = next) {
                next = h->next;
                free(h);
        }
        s->head = s->tail = NULL;
        s->n_held = 0;
        for (unsigned i = 0; i < AGENT_BATCHES_MAX; i++)
                s->slots[i] = (AgentBatch) {};
}
