/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One injection request: sent to the VM's agent, waited for, and recorded with exactly one outcome. */
#pragma once

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "attach-proto.h"
#include "guards.h"
#include "reaction.h"
#include "serror/mce.h"
#include "serror/syndrome.h"

typedef struct Manager Manager;
typedef struct VM VM;
typedef struct Injection Injection;

/* What the history keeps of a finished injection, and what signals carry. */
typedef struct InjectionRecord {
        uint64_t id;
        uint64_t requested_usec; /* CLOCK_REALTIME */
        char vm[ATTACH_NAME_MAX + 1];
        uint32_t vcpu;
        char syndrome[128];      /* canonical text (a machine check's too), or "kvm-chosen" */
        uint32_t iss;
        bool has_esr;
        bool is_mce;             /* an x86 machine check: mce, not iss, is what was asked for */
        serror_mce mce;
        serror_mode mode;
        serror_outcome outcome;
        int error;               /* positive errno; 0 unless failed */
        char message[ATTACH_MESSAGE_MAX + 1];
        AttachVcpuState before;
        AttachVcpuWrite written;
        AttachVcpuState after;
        uint64_t latency_usec;   /* serrord: request to outcome */
        uint64_t agent_usec;     /* agent: vcpu reached to done (0 if never reached) */
        char origin[64];         /* "serrorctl", or the policy's name */
        uint64_t policy_id;      /* the LoadedPolicy's id that sent it; 0 for serrorctl */

        Reaction reaction; /* what the guest did after it (reaction-watch.c), filled in as it comes */
} InjectionRecord;

/* Called once the reaction is known (state REACTION_DONE), with the final record. */
typedef void (*reaction_done_fn)(const InjectionRecord *r, void *userdata);

/* Called once when the injection has its outcome; the record is final. */
typedef void (*injection_done_fn)(Injection *i, const InjectionRecord *r, void *userdata);

struct Injection {
        Manager *manager;
        VM *vm; /* NULL once the VM is gone */
        InjectionRecord record;
        bool allow_ids;
        bool dry_run;
        uint64_t timeout_usec;
        uint64_t start_monotonic_usec;
        ev_timer deadline; /* timeout plus a grace period for the agent's answer */
        injection_done_fn done;
        void *userdata;
        reaction_done_fn reaction_done;
        void *reaction_userdata;
        /* The agent may tell what the guest did before its INJECT_RESULT is in. */
        uint64_t early_taken_after_usec; /* REACTION_USEC_NONE: no TAKEN yet */
        bool early_unwatched;
        bool has_early_fate;
        Fate early_fate;
        uint64_t early_fate_usec; /* CLOCK_MONOTONIC */
        struct Injection *next, *prev; /* the VM's in-flight list */
};

typedef struct InjectionParams {
        const serror_syndrome *syndrome; /* NULL: let KVM choose the ESR */
        const serror_mce *mce;           /* an x86 machine check instead (syndrome NULL) */
        bool allow_ids;
        serror_mode mode;
        uint64_t timeout_usec;
        bool dry_run;
        const char *origin;
        uint64_t policy_id; /* 0: not a policy's */
        bool guards_passed; /* the caller ran guards_check_all() for the whole call */
        uint64_t reaction_window_usec; /* 0: REACTION_WINDOW_DEFAULT_USEC */
        reaction_done_fn reaction_done;  /* NULL: nobody waits for the reaction */
        void *reaction_userdata;
} InjectionParams;

/* Send an INJECT for vcpu of vm. On success the injection is in flight and
 * done() is called exactly once later (never from inside this call).
 * -EBUSY: the vcpu's bound of open requests; -EPERM: a guard refused it, and
 * *ret_guard says which (guards.h). */
int injection_start(Manager *m, VM *vm, uint32_t vcpu, const InjectionParams *p, injection_done_fn done,
                    void *userdata, Injection **ret, GuardVerdict *ret_guard);

/* A request for vcpu of vm that was never sent (injection_start() failed with
 * error, or would have) still ends with its one outcome: failed, with that
 * errno, counted, kept in the history, logged and signalled now. *ret is that
 * record, for a caller that answers for a whole call. */
void injection_record_unsent(Manager *m, VM *vm, uint32_t vcpu, const InjectionParams *p, int error,
                             InjectionRecord *ret);

/* The injection in flight with this request id, or NULL. */
Injection *injection_find(VM *vm, uint64_t id);
/* An INJECT_RESULT (or a REPLY to an INJECT) from vm's connection. */
int injection_handle_answer(Manager *m, VM *vm, const AttachMsg *msg);
/* The VM is going away: every injection still open for it fails with ECONNRESET. */
void injection_fail_all_for_vm(Manager *m, VM *vm);
/* A wedged vcpu holds at most this many requests; more are refused, not queued. */
#define INJECTION_PER_VCPU_MAX 16u

/* How many are in flight for one vcpu (the per-vcpu bound). */
unsigned injection_count_for_vcpu(VM *vm, uint32_t vcpu);
/* serrord is stopping: fail every injection with ESHUTDOWN. */
void injection_fail_all(Manager *m);

