/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A campaign's stop condition (stop_when) judged against what its guests did: pure, for the runner and the unit tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "reaction.h"

/* One ended reaction of one of the campaign's injections. */
typedef struct PolicyReaction {
        const char *vm;
        Fate fate;
        uint64_t taken_after_usec; /* REACTION_USEC_NONE: not seen taken */
        uint64_t window_usec;
        bool taken_observable;     /* the VM's agent reports taken (vcpu-thread path) */
} PolicyReaction;

/* The VMs that had a counted fate, and when (most recent per VM). */
typedef struct PolicyStopHit {
        char *vm;
        Fate fate;
        uint64_t at_usec;
} PolicyStopHit;

typedef struct PolicyStopState {
        PolicyStopHit *hits;
        size_t n_hits, n_allocated;
} PolicyStopState;

void policy_stop_state_clear(PolicyStopState *s);

/* How many VMs must have had a counted fate: vms, or fraction of n_target_vms
 * rounded up (at least 1). 0 when stop_when counts no VMs. */
uint64_t policy_stop_threshold(const PolicyStopWhen *w, size_t n_target_vms);

/* Feed one reaction at now_usec (CLOCK_MONOTONIC). 1 when the campaign must
 * stop now (reason says why, as a sentence without a final period), 0 when
 * not, -ENOMEM. */
int policy_stop_feed(const PolicyStopWhen *w, PolicyStopState *s, const PolicyReaction *r, uint64_t now_usec,
                     size_t n_target_vms, char *reason, size_t size);

/* The reaction window a campaign's injections need to judge not_taken_for. */
uint64_t policy_stop_window_usec(const PolicyStopWhen *w);
