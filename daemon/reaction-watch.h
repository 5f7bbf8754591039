/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the guest did after an injection: one window per landed injection, ended by the agent's REACTION, the VMM's end, or time. */
#pragma once

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "attach-proto.h"
#include "injection.h"
#include "reaction.h"

typedef struct Manager Manager;
typedef struct VM VM;

typedef struct ReactionWatch {
        Manager *manager;
        VM *vm;
        InjectionRecord record;  /* the outcome, its reaction filled in as it comes */
        uint64_t request_usec;   /* CLOCK_MONOTONIC when serrord sent the request */
        ev_timer window;
        reaction_done_fn done;
        void *userdata;
        struct ReactionWatch *next, *prev; /* the VM's open windows */
} ReactionWatch;

/* Before the outcome is recorded: is there anything to watch (an SError
 * landed), can taking it be seen (vm's agent, NULL once gone), and what is
 * known already (delivered at once, or the agent's early TAKEN). Sets
 * r->reaction. */
void reaction_begin(InjectionRecord *r, const Injection *i, const VM *vm);

/* After the outcome is recorded, for an r that reaction_begin() left
 * WATCHING: open its window on vm. done, if not NULL, runs once with the
 * final record; at once when the agent already reported a fate. */
int reaction_watch_start(Manager *m, VM *vm, const InjectionRecord *r, const Injection *i, reaction_done_fn done,
                         void *userdata);

/* A REACTION from vm's agent. */
void reaction_handle_notice(Manager *m, VM *vm, const AttachReaction *rc);
/* vm is going away: every window of it ends, as vmm-exited or detached. */
void reaction_watch_vm_gone(Manager *m, VM *vm, bool vmm_exited);
/* serrord is stopping: every window ends with fate unknown. */
void reaction_watch_stop_all(Manager *m);

/* How many windows are open (for Status). */
unsigned reaction_watch_count(const Manager *m);
