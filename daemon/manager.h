/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Manager: serrord's top-level object, owner of the loop, the bus and every registry. */
#pragma once

#include <ev.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "access.h"
#include "bus-loop.h"
#include "daemon-config.h"
#include "history.h"
#include "injection.h"
#include "kvm-host.h"
#include "serror/syndrome.h"

/* Monotonic event counts exported in the Counters property. */
typedef enum Counter {
        COUNTER_ATTACH_ACCEPTED,
        COUNTER_ATTACH_REFUSED,
        COUNTER_INJECT_REQUESTED,
        _COUNTER_OUTCOME_FIRST, /* one per serror_outcome, in its order */
        _COUNTER_MAX = _COUNTER_OUTCOME_FIRST + _SERROR_OUTCOME_MAX,
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
void manager_policy_changed(Manager *m, const LoadedPolicy *rp);
void manager_policy_removed(Manager *m, const char *name);
