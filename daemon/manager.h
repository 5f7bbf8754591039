/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Manager: serrord's top-level object, owner of the loop, the bus and every registry. */
#pragma once

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "access.h"
#include "bus-loop.h"
#include "daemon-config.h"
#include "history.h"
#include "injection.h"
#include "kvm-host.h"
#include "op-error.h"
#include "serror/syndrome.h"

/* Monotonic event counts exported in the Counters property. */
typedef enum Counter {
        COUNTER_ATTACH_ACCEPTED,
        COUNTER_ATTACH_REFUSED,
        COUNTER_INJECT_REQUESTED,
        _COUNTER_OUTCOME_FIRST, /* one per serror_outcome, in its order */
        _COUNTER_FATE_FIRST = _COUNTER_OUTCOME_FIRST + _SERROR_OUTCOME_MAX, /* one per Fate, in its order */
        _COUNTER_MAX = _COUNTER_FATE_FIRST + _FATE_MAX,
} Counter;

typedef struct AttachServer AttachServer;
typedef struct VM VM;
typedef struct LoadedPolicy LoadedPolicy;

typedef struct Manager {
        struct ev_loop *loop;
        const DaemonConfig *config;

        sd_bus *bus;
        BusLoop bus_loop;
        sd_bus_slot *manager_slot;
        sd_bus_track *subscribers; /* clients that called Subscribe(): InjectionDone goes out only for them */

        ev_signal sigterm;
        ev_signal sigint;

        AttachServer *attach;
        AccessList control_access; /* who may call mutating methods */
        VM *vms;
        uint64_t next_injection_id;
        History history;
        Guards guards;
        LoadedPolicy *policies;
        uint64_t next_policy_id;
        ev_signal sighup;

        KvmHost kvm;
        uint64_t start_realtime_usec;

        unsigned n_vms;
        unsigned n_vcpus;
        uint64_t counters[_COUNTER_MAX];
} Manager;

int manager_new(const DaemonConfig *config, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Probe KVM, connect to the system bus, export objects, take the name. */
int manager_startup(Manager *m);
/* Run until SIGTERM/SIGINT (0) or until the bus is lost (negative errno). */
int manager_run(Manager *m);

const char *counter_to_string(Counter c);

/* What changed in the core objects (vm.c, injection.c, policy-runner.c),
 * which know nothing of D-Bus: the Manager tells the bus layer and the
 * policy runner. */
void manager_vm_attached(Manager *m, const VM *vm);
/* vm is already out of the list, its vcpus gone. */
void manager_vm_detached(Manager *m, const VM *vm, const char *reason);
void manager_vcpus_changed(Manager *m);
void manager_injection_done(Manager *m, const InjectionRecord *r);
/* The record's reaction is final (REACTION_DONE). */
void manager_reaction_done(Manager *m, const InjectionRecord *r);
void manager_policy_changed(Manager *m, const LoadedPolicy *rp);
void manager_policy_removed(Manager *m, const char *name);

/* Lookups. name_or_uuid: a VM's name or its UUID in any case. */
VM *manager_find_vm(Manager *m, const char *name_or_uuid);
VM *manager_find_vm_by_uuid(Manager *m, const uint8_t uuid[ATTACH_UUID_SIZE]);
unsigned manager_count_vms_of_uid(Manager *m, uid_t uid);
LoadedPolicy *manager_find_policy(Manager *m, const char *name);
/* The same, refusing with NoSuchPolicy. */
int manager_lookup_policy(Manager *m, const char *name, LoadedPolicy **ret, OpError *err);

/* The operations. Each returns 0 or a negative errno; a refusal a user
 * should read fills *err (op-error.h), which the bus layer answers with. */

/* One Inject call, as its caller gave it (strings not yet parsed). */
typedef struct InjectRequest {
        const char *target;     /* VM name or UUID */
        const char *vcpus;      /* an index or "all" */
        const char *error_text; /* syndrome text, "kvm", or a machine check */
        const char *mode;       /* merge, defer, skip */
        uint64_t timeout_usec;
        uint64_t flags;         /* SERROR_INJECT_* */
        uint64_t reaction_window_usec; /* 0: REACTION_WINDOW_DEFAULT_USEC */
        const char *origin;
} InjectRequest;

/* The injections of one call: ids at once, records as outcomes come in (and, with
 * SERROR_INJECT_WAIT_REACTION, as their reactions end). */
typedef struct InjectBatch InjectBatch;
typedef void (*inject_batch_done_fn)(InjectBatch *b, void *userdata);
struct InjectBatch {
        uint64_t *ids;
        InjectionRecord *records;
        unsigned n;
        unsigned n_done;
        bool wait_reaction; /* a record is done once its reaction is (none or done) */
        inject_batch_done_fn done;
        void *userdata;
};

/* Check the request as a whole (VM, vcpus, bounds, guards: all or nothing)
 * and send one injection per vcpu. *ret has every id; done(), if not NULL,
 * runs once with every record in (never from inside this call), and the
 * batch is freed after it. */
int manager_inject(Manager *m, const InjectRequest *req, inject_batch_done_fn done, void *userdata,
                   InjectBatch **ret, OpError *err);

/* Tell the VM's agent it was detached (it does not reconnect) and forget the VM. */
int manager_detach_vm(Manager *m, const char *target, OpError *err);

/* Parse and add a policy (source: a file name or "bus"), and start it if asked. */
int manager_load_policy(Manager *m, const char *text, const char *source, bool start, LoadedPolicy **ret,
                        OpError *err);
int manager_start_policy(Manager *m, const char *name, LoadedPolicy **ret, OpError *err);
int manager_stop_policy(Manager *m, const char *name, OpError *err);
int manager_unload_policy(Manager *m, const char *name, OpError *err);
/* SIGHUP and Reload(): reload the policy directory, all or nothing; what was
 * refused is logged and, if asked, returned as text. */
int manager_reload_policies(Manager *m, char **ret_errors);
/* Stop every running policy; returns how many. */
unsigned manager_stop_all_policies(Manager *m);
/* What stopping cannot take back: per vcpu still attached, its newest record
 * if that left an SError pending. *ret (freed by the caller) points into the history. */
int manager_pending_serrors(Manager *m, const InjectionRecord ***ret, size_t *ret_n);
