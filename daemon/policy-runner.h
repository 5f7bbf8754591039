/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running policies: each a plan (policy/plan.h) driven by one libev timer, injecting through the agents. */
#pragma once

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "injection.h"
#include "policy.h"
#include "plan.h"
#include "stop.h"

typedef struct Manager Manager;

typedef enum RunState {
        RUN_LOADED,   /* parsed, not started */
        RUN_RUNNING,
        RUN_STOPPED,  /* stopped by an operator */
        RUN_FINISHED, /* the plan ended by itself */
        RUN_HALTED,   /* its stop_when held: what the guests did stopped it */
        _RUN_STATE_MAX,
} RunState;

typedef struct LoadedPolicy {
        Manager *manager;
        uint64_t id; /* outcomes find their policy by id: it may be gone by then */
        Policy *policy;
        char *text;   /* as loaded, for show and to see whether a reload changed it */
        char *source; /* the file, or "bus" */
        bool from_directory;

        RunState state;
        uint64_t seed;
        bool seed_generated;
        PolicyPlan *plan;
        uint64_t start_realtime_usec;
        uint64_t start_monotonic_usec;
        /* A timerfd, not an ev_timer: libev's epoll backend waits in whole
         * milliseconds, too coarse for a 1 kHz schedule. */
        int timer_fd;
        ev_io timer_io;

        uint64_t n_sent;
        uint64_t n_refused; /* by a guard or a full vcpu */
        uint64_t n_no_target;
        uint64_t n_landed;
        uint64_t n_failed;

        PolicyStopState stop;   /* what stop_when has counted in this run */
        size_t max_target_vms;  /* the most VMs targeted at once in this run, for stop_when.fraction */
        char stop_reason[256];  /* why it halted; "" otherwise */

        struct LoadedPolicy *next, *prev;
} LoadedPolicy;

/* Parse text and add it (not started). -EINVAL with diag; -EEXIST when a
 * policy of that name is loaded. */
int loaded_policy_load(Manager *m, const char *text, size_t size, const char *source, bool from_directory,
                        LoadedPolicy **ret, PolicyDiag *diag);
LoadedPolicy *loaded_policy_free(LoadedPolicy *rp);

/* Start (or restart from the beginning with the same seed). */
int loaded_policy_start(LoadedPolicy *rp);
void loaded_policy_stop(LoadedPolicy *rp, RunState state);

/* The reaction of an injection is final: a running policy that sent it
 * judges its stop_when, and halts when it holds. */
void loaded_policies_reaction(Manager *m, const InjectionRecord *r);

/* A VM or vcpu came or went: every running plan gets the new target list. */
void loaded_policies_targets_changed(Manager *m);

/* (Re)load every *.json of dir at once: if one file is invalid, nothing
 * changes and the errors are returned in errors (a malloc'd text). Policies
 * whose text did not change keep running; new ones start; removed ones stop. */
int loaded_policies_load_directory(Manager *m, const char *dir, char **ret_errors);

const char *run_state_to_string(RunState s);
/* When the next injection is due, as an offset from the start; 0 if none. */
int loaded_policy_next_offset(LoadedPolicy *rp, uint64_t *ret);
