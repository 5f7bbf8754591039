/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-agent's result batches: the results of one receive pass go out together. Pure, no clock reads. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "attach-proto.h"

/* Batches whose results may be held back at once: past this, requests go
 * unbatched and their results out as they come. */
#define AGENT_BATCHES_MAX 16u

/* The requests of one batch that have not ended yet, and since when results
 * of theirs wait. id 0: a free slot. */
typedef struct AgentBatch {
        uint64_t id;
        unsigned live;
        uint64_t held_since_ns; /* 0: nothing held */
} AgentBatch;

typedef struct AgentHeld {
        struct AgentHeld *next;
        uint64_t batch;
        uint64_t id;
        AttachInjectResult res;
} AgentHeld;

typedef void (*agent_batch_send_fn)(void *userdata, uint64_t id, const AttachInjectResult *res);

typedef struct AgentBatches {
        uint64_t current; /* the batch requests received now join */
        bool used;        /* a request joined it since agent_batches_next() */
        AgentBatch slots[AGENT_BATCHES_MAX];
        AgentHeld *head, *tail; /* held results, in the order their requests ended */
        unsigned n_held;
        unsigned max_held; /* past this many held, results go out at once */
        uint64_t hold_ns;  /* no result waits longer */
        agent_batch_send_fn send;
        void *userdata;
} AgentBatches;

void agent_batches_init(AgentBatches *s, unsigned max_held, uint64_t hold_ns, agent_batch_send_fn send,
                        void *userdata);
/* A request received now joins the current batch: its id, or 0 when every slot is busy. */
uint64_t agent_batches_join(AgentBatches *s);
/* The receive pass is over: requests received from now on form the next batch. */
void agent_batches_next(AgentBatches *s);
/* A request of batch ended at now. wanted: someone still wants its result,
 * which is then sent, or held while others of its batch are live. */
void agent_batches_end(AgentBatches *s, uint64_t batch, uint64_t id, const AttachInjectResult *res, bool wanted,
                       uint64_t now);
/* A request dropped without a result (its connection is gone). */
void agent_batches_discard(AgentBatches *s, uint64_t batch);
/* Sends what has waited hold_ns; returns when the next batch is due, or 0. */
uint64_t agent_batches_run(AgentBatches *s, uint64_t now);
/* Drops every held result and batch: the connection they were for is gone. */
void agent_batches_forget(AgentBatches *s);
