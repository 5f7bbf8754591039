/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a guest did after an injection (its "reaction"): the fates, how KVM exits map to them, and how they read. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How long serrord watches a VM after an injection: the default, and the
 * bounds a caller may ask for (the agent keeps a watch open at most the maximum). */
#define REACTION_WINDOW_DEFAULT_USEC (10ull * 1000000ull)
#define REACTION_WINDOW_MIN_USEC (10ull * 1000ull)
#define REACTION_WINDOW_MAX_USEC (600ull * 1000000ull)

/* A time that is not known: not taken (yet), no fate (yet). */
#define REACTION_USEC_NONE UINT64_MAX

typedef enum ReactionState {
        REACTION_NONE,     /* nothing to watch: no SError reached the guest (not landed, dry run, a failure) */
        REACTION_WATCHING, /* the window is open */
        REACTION_DONE,     /* the fate is known */
        _REACTION_STATE_MAX,
} ReactionState;

typedef enum Fate {
        FATE_RUNNING,        /* the window ended with the VM attached and no stopping exit */
        FATE_RESET,          /* KVM_EXIT_SYSTEM_EVENT, type RESET (PSCI SYSTEM_RESET) */
        FATE_SHUTDOWN,       /* KVM_EXIT_SYSTEM_EVENT, type SHUTDOWN (PSCI SYSTEM_OFF) */
        FATE_CRASH,          /* KVM_EXIT_SYSTEM_EVENT, type CRASH */
        FATE_SYSTEM_EVENT,   /* another system event that stops the vcpu (e.g. SUSPEND) */
        FATE_TRIPLE_FAULT,   /* KVM_EXIT_SHUTDOWN: x86's triple fault */
        FATE_INTERNAL_ERROR, /* KVM_EXIT_INTERNAL_ERROR or KVM_EXIT_FAIL_ENTRY */
        FATE_VMM_EXITED,     /* the VMM process ended */
        FATE_DETACHED,       /* the VMM lives but detached (or was detached): what followed is unknown */
        FATE_UNKNOWN,        /* serrord stopped, or its record of the VM ended otherwise */
        _FATE_MAX,
} Fate;

/* The kernel's numbers (include/uapi/linux/kvm.h), for code that has no KVM header. */
#define REACTION_KVM_EXIT_SHUTDOWN 8u
#define REACTION_KVM_EXIT_FAIL_ENTRY 9u
#define REACTION_KVM_EXIT_INTERNAL_ERROR 17u
#define REACTION_KVM_EXIT_SYSTEM_EVENT 24u
#define REACTION_KVM_SYSTEM_EVENT_SHUTDOWN 1u
#define REACTION_KVM_SYSTEM_EVENT_RESET 2u
#define REACTION_KVM_SYSTEM_EVENT_CRASH 3u
#define REACTION_KVM_SYSTEM_EVENT_WAKEUP 4u

/* What the guest did after one injection, as serrord keeps and reports it. */
typedef struct Reaction {
        ReactionState state;
        bool taken_watched;        /* the agent reports taking (an SError, on the vcpu-thread path) */
        uint64_t window_usec;
        uint64_t taken_after_usec; /* from the agent's write; REACTION_USEC_NONE: not seen taken */
        Fate fate;                 /* once state is REACTION_DONE */
        uint64_t fate_after_usec;  /* from the request to serrord learning the fate (for running:
                                    * the window); REACTION_USEC_NONE until REACTION_DONE */
} Reaction;

/* "none", "watching", "done" or NULL. */
const char *reaction_state_to_string(ReactionState s);
int reaction_state_from_string(const char *s, ReactionState *ret);
/* "running", "reset", ... or NULL; from_string: 0 or -EINVAL. */
const char *fate_to_string(Fate f);
int fate_from_string(const char *s, Fate *ret);
/* "the VM reset", ...: what happened, as a sentence's end. */
const char *fate_describe(Fate f);

/* The fate a KVM_RUN exit means, or -ENOENT when it ends nothing (every
 * ordinary exit, and a system event of type WAKEUP). */
int fate_from_kvm_exit(uint32_t exit_reason, uint32_t event_type, Fate *ret);
/* True for the exits an agent reports: the ones fate_from_kvm_exit() maps. */
static inline int reaction_exit_is_reported(uint32_t exit_reason, uint32_t event_type) {
        if (exit_reason == REACTION_KVM_EXIT_SYSTEM_EVENT)
                return event_type != REACTION_KVM_SYSTEM_EVENT_WAKEUP;
        return exit_reason == REACTION_KVM_EXIT_SHUTDOWN || exit_reason == REACTION_KVM_EXIT_FAIL_ENTRY ||
               exit_reason == REACTION_KVM_EXIT_INTERNAL_ERROR;
}

/* "2.1 ms", "140 ms", "1.25 s": a duration in words for people. */
void reaction_format_duration(uint64_t usec, char *buf, size_t size);

/* One reaction as a sentence: "the guest took it after 2.1 ms; the VM reset
 * 140 ms later", "the guest did not take it within 10 s; the VM kept running";
 * where taking is not watched, only the fate: "the VM kept running for 10 s". */
void reaction_format(const Reaction *r, char *buf, size_t size);
