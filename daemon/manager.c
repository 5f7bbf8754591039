/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Manager's life: startup, the main loop, signals, orderly shutdown. */
#include <signal.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "attach-server.h"
#include "bus-inject.h"
#include "bus-manager.h"
#include "bus-policy.h"
#include "bus-vm.h"
#include "policy-runner.h"
#include "bus-api.h"
#include "bus-error-map.h"
#include "log.h"
#include "manager.h"

static const char *const counter_names[_COUNTER_OUTCOME_FIRST] = {
        [COUNTER_ATTACH_ACCEPTED] = "attach-accepted",
        [COUNTER_ATTACH_REFUSED] = "attach-refused",
        [COUNTER_INJECT_REQUESTED] = "inject-requested",
};

const char *counter_to_string(Counter c) {
        /* Outcome counters are named after the outcome: "outcome-merged". */
        static char outcome_names[_SERROR_OUTCOME_MAX][32];

        if (c < _COUNTER_OUTCOME_FIRST)
                return counter_names[c];
        if (c >= _COUNTER_MAX)
                return NULL;
        if (!outcome_names[c - _COUNTER_OUTCOME_FIRST][0])
                snprintf(outcome_names[c - _COUNTER_OUTCOME_FIRST], sizeof(outcome_names[0]), "outcome-%s",
                         serror_outcome_to_string((serror_outcome) (c - _COUNTER_OUTCOME_FIRST)));
        return outcome_names[c - _COUNTER_OUTCOME_FIRST];
}

static void on_reload(struct ev_loop *loop, ev_signal *w, int revents) {
        Manager *m = container_of(w, Manager, sighup);

        log_info("Received SIGHUP, reloading the policies.");
        (void) sd_notify(false, "RELOADING=1");
        (void) manager_reload_policies(m, NULL);
        (void) sd_notify(false, "READY=1");
}

static void on_terminate(struct ev_loop *loop, ev_signal *w, int revents) {
        log_info("Received %s, shutting down.", strsignal(w->signum));
        ev_break(loop, EVBREAK_ALL);
}

int manager_new(const DaemonConfig *config, Manager **ret) {
        Manager *m;
        struct timespec now;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->config = config;
        m->loop = ev_default_loop(EVFLAG_AUTO);
        if (!m->loop) {
                free(m);
                return -ENOMEM;
        }
        clock_gettime(CLOCK_REALTIME, &now);
        m->start_realtime_usec = (uint64_t) now.tv_sec * 1000000u + (uint64_t) now.tv_nsec / 1000u;

        history_init(&m->history, config->history_size);
        guards_init(&m->guards, &config->guards);
        ev_signal_init(&m->sigterm, on_terminate, SIGTERM);
        ev_signal_init(&m->sigint, on_terminate, SIGINT);
        ev_signal_init(&m->sighup, on_reload, SIGHUP);
        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        if (m->loop) {
                ev_signal_stop(m->loop, &m->sigterm);
                ev_signal_stop(m->loop, &m->sigint);
                ev_signal_stop(m->loop, &m->sighup);
        }
        /* Agents first: their VMs' detach signals and last outcomes still reach the bus. */
        while (m->policies)
                loaded_policy_free(m->policies);
        injection_fail_all(m);
        m->attach = attach_server_free(m->attach);
        bus_loop_detach(&m->bus_loop);
        m->manager_slot = sd_bus_slot_unref(m->manager_slot);
        m->subscribers = sd_bus_track_unref(m->subscribers);
        history_done(&m->history);
        if (m->bus) {
                /* Give the name back explicitly so watchers see it go at once. */
                (void) sd_bus_release_name(m->bus, SERROR_BUS_NAME);
                m->bus = sd_bus_flush_close_unref(m->bus);
        }
        if (m->loop)
                ev_loop_destroy(m->loop);
        free(m);
        return NULL;
}

static int manager_connect_bus(Manager *m) {
        int r;

        /* sd-bus reads DBUS_SYSTEM_BUS_ADDRESS; tests use that to point us at a private bus. */
        r = sd_bus_open_system_with_description(&m->bus, "serrord");
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");

        /* sd-bus keeps the table for the process; serrorctl registers the same one. */
        r = sd_bus_error_add_map(serror_bus_error_map);
        if (r < 0)
                return log_error_errno(r, "Failed to register serrord's D-Bus errors: %m");
        r = bus_manager_add(m);
        if (r < 0)
                return r;

        r = sd_bus_request_name(m->bus, SERROR_BUS_NAME, 0);
        if (r == -EEXIST)
                return log_error_errno(r, "Failed to acquire bus name %s: another serrord owns it.", SERROR_BUS_NAME);
        if (r == -EACCES || r == -EPERM)
                return log_error_errno(r, "Failed to acquire bus name %s: the bus policy does not allow this user to own it.",
                                       SERROR_BUS_NAME);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire bus name %s: %m", SERROR_BUS_NAME);

        r = bus_loop_attach(&m->bus_loop, m->loop, m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the bus connection: %m");
        return 0;
}

int manager_startup(Manager *m) {
        char error[128];
        int r;

        kvm_host_probe(&m->kvm, m->config->kvm_device);
        if (m->kvm.usable)
                log_info("%s: KVM API %d, %s=%d, %s=%d, %s=%d.", m->kvm.device, m->kvm.api_version,
                         m->kvm.caps[0].name, m->kvm.caps[0].value, m->kvm.caps[1].name, m->kvm.caps[1].value,
                         m->kvm.caps[2].name, m->kvm.caps[2].value);
        else
                /* Not fatal: status, decode and the registry still work, and the
                 * operator learns why injection will not. */
                log_warning("%s is not usable: %s.", m->kvm.device,
                            kvm_host_error_string(&m->kvm, error, sizeof(error)));

        access_list_resolve(&m->control_access, "[Control]", NULL, 0, m->config->control_groups,
                            m->config->n_control_groups);

        r = manager_connect_bus(m);
        if (r < 0)
                return r;

        r = attach_server_new(m, m->config->attach_socket, &m->attach);
        if (r < 0)
                return r;

        ev_signal_start(m->loop, &m->sigterm);
        ev_signal_start(m->loop, &m->sigint);
        ev_signal_start(m->loop, &m->sighup);

        /* Policies from the directory run from the start; a bad file is
         * reported and the others do not run either (same rule as reload). */
        (void) manager_reload_policies(m, NULL);
        return 0;
}

int manager_run(Manager *m) {
        (void) sd_notifyf(false, "READY=1\nSTATUS=Serving %s: %u VMs attached.", SERROR_BUS_NAME, m->n_vms);
        log_info("serrord %s ready on %s.", PACKAGE_VERSION, SERROR_BUS_NAME);

        ev_run(m->loop, 0);

        (void) sd_notify(false, "STOPPING=1\nSTATUS=Shutting down.");
        return m->bus_loop.error;
}

void manager_vm_attached(Manager *m, const VM *vm) {
        bus_vm_emit_attached(m, vm);
}

void manager_vm_detached(Manager *m, const VM *vm, const char *reason) {
        bus_vm_emit_detached(m, vm, reason);
        loaded_policies_targets_changed(m);
}

void manager_vcpus_changed(Manager *m) {
        bus_manager_emit_attached_changed(m);
        loaded_policies_targets_changed(m);
}

void manager_injection_done(Manager *m, const InjectionRecord *r) {
        bus_inject_emit_done(m, r);
}

void manager_policy_changed(Manager *m, const LoadedPolicy *rp) {
        bus_policy_emit_changed(m, rp);
}

void manager_policy_removed(Manager *m, const char *name) {
        bus_policy_emit_removed(m, name);
}
