/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Manager: its life (startup, the main loop, signals, orderly shutdown),
 * its lookups and its operations, which the bus layer calls. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "attach-server.h"
#include "clock-util.h"
#include "connection.h"
#include "bus-inject.h"
#include "bus-manager.h"
#include "bus-policy.h"
#include "bus-vm.h"
#include "policy-runner.h"
#include "bus-api.h"
#include "bus-error-map.h"
#include "log.h"
#include "manager.h"
#include "reaction-watch.h"
#include "parse-util.h"
#include "text-util.h"
#include "vm.h"

static const char *const counter_names[_COUNTER_OUTCOME_FIRST] = {
        [COUNTER_ATTACH_ACCEPTED] = "attach-accepted",
        [COUNTER_ATTACH_REFUSED] = "attach-refused",
        [COUNTER_INJECT_REQUESTED] = "inject-requested",
};

const char *counter_to_string(Counter c) {
        /* Outcome counters are named after the outcome: "outcome-merged"; fate counters
         * after the fate: "fate-reset". */
        static char outcome_names[_SERROR_OUTCOME_MAX][32];
        static char fate_names[_FATE_MAX][32];

        if (c < _COUNTER_OUTCOME_FIRST)
                return counter_names[c];
        if (c >= _COUNTER_MAX)
                return NULL;
        if (c >= _COUNTER_FATE_FIRST) {
                if (!fate_names[c - _COUNTER_FATE_FIRST][0])
                        snprintf(fate_names[c - _COUNTER_FATE_FIRST], sizeof(fate_names[0]), "fate-%s",
                                 fate_to_string((Fate) (c - _COUNTER_FATE_FIRST)));
                return fate_names[c - _COUNTER_FATE_FIRST];
        }
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

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->config = config;
        m->loop = ev_default_loop(EVFLAG_AUTO);
        if (!m->loop) {
                free(m);
                return -ENOMEM;
        }
        m->start_realtime_usec = now_usec(CLOCK_REALTIME);

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
        reaction_watch_stop_all(m);
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

void manager_reaction_done(Manager *m, const InjectionRecord *r) {
        bus_inject_emit_reaction(m, r);
        loaded_policies_reaction(m, r);
}

void manager_policy_changed(Manager *m, const LoadedPolicy *rp) {
        bus_policy_emit_changed(m, rp);
}

void manager_policy_removed(Manager *m, const char *name) {
        bus_policy_emit_removed(m, name);
}

VM *manager_find_vm(Manager *m, const char *name_or_uuid) {
        char uuid[37];

        for (VM *vm = m->vms; vm; vm = vm->next)
                if (streq(vm->name, name_or_uuid))
                        return vm;
        for (VM *vm = m->vms; vm; vm = vm->next) {
                vm_uuid_string(vm, uuid);
                if (vm->has_uuid && strcaseeq(uuid, name_or_uuid))
                        return vm;
        }
        return NULL;
}

VM *manager_find_vm_by_uuid(Manager *m, const uint8_t uuid[ATTACH_UUID_SIZE]) {
        for (VM *vm = m->vms; vm; vm = vm->next)
                if (vm->has_uuid && memcmp(vm->uuid, uuid, ATTACH_UUID_SIZE) == 0)
                        return vm;
        return NULL;
}

unsigned manager_count_vms_of_uid(Manager *m, uid_t uid) {
        unsigned n = 0;

        for (VM *vm = m->vms; vm; vm = vm->next)
                n += vm->uid == uid;
        return n;
}

LoadedPolicy *manager_find_policy(Manager *m, const char *name) {
        for (LoadedPolicy *rp = m->policies; rp; rp = rp->next)
                if (streq(rp->policy->name, name))
                        return rp;
        return NULL;
}

static int refuse_no_such_vm(OpError *err, const char *target) {
        return op_error_set(err, SERROR_BUS_ERROR_NO_SUCH_VM, "No VM named or with UUID '%s' is attached.",
                            echo_arg(target));
}

int manager_lookup_policy(Manager *m, const char *name, LoadedPolicy **ret, OpError *err) {
        *ret = manager_find_policy(m, name);
        if (!*ret)
                return op_error_set(err, SERROR_BUS_ERROR_NO_SUCH_POLICY, "No policy named '%s' is loaded.",
                                    echo_arg(name));
        return 0;
}

static InjectBatch *inject_batch_free(InjectBatch *b) {
        if (!b)
                return NULL;
        free(b->ids);
        free(b->records);
        free(b);
        return NULL;
}

/* Keep rec; the batch ends with its last record. */
static void inject_batch_record(InjectBatch *b, const InjectionRecord *rec) {
        for (unsigned k = 0; k < b->n; k++)
                if (b->ids[k] == rec->id)
                        b->records[k] = *rec;
        if (b->wait_reaction && rec->reaction.state == REACTION_WATCHING)
                return;
        if (++b->n_done < b->n)
                return;
        if (b->done)
                b->done(b, b->userdata);
        inject_batch_free(b);
}

static void on_injection_done(Injection *i, const InjectionRecord *rec, void *userdata) {
        inject_batch_record(userdata, rec);
}

static void on_reaction_done(const InjectionRecord *rec, void *userdata) {
        inject_batch_record(userdata, rec);
}

static int parse_vcpus(VM *vm, const char *spec, uint32_t **ret, unsigned *ret_n, OpError *err) {
        uint32_t *list, index;

        if (streq(spec, "all")) {
                if (vm->n_vcpus == 0)
                        return op_error_set(err, SERROR_BUS_ERROR_NO_SUCH_VCPU, "VM %s has no vcpus attached.",
                                            vm->name);
                list = calloc(vm->n_vcpus, sizeof(uint32_t));
                if (!list)
                        return -ENOMEM;
                for (unsigned k = 0; k < vm->n_vcpus; k++)
                        list[k] = vm->vcpus[k].index;
                *ret = list;
                *ret_n = vm->n_vcpus;
                return 0;
        }
        if (parse_u32(spec, &index) < 0)
                return op_error_set(err, SERROR_BUS_ERROR_INVALID_ARGS,
                                    "Invalid vcpu '%s': expected a vcpu index or \"all\".", echo_arg(spec));
        if (!vm_find_vcpu(vm, index))
                return op_error_set(err, SERROR_BUS_ERROR_NO_SUCH_VCPU, "VM %s has no vcpu %" PRIu32 " attached.",
                                    vm->name, index);
        list = malloc(sizeof(uint32_t));
        if (!list)
                return -ENOMEM;
        list[0] = index;
        *ret = list;
        *ret_n = 1;
        return 0;
}

/* The guards judge the call as a whole: every vcpu gets its injection, or the
 * call is refused with the reason and none is sent. */
static int check_guards(Manager *m, VM *vm, int severity, const uint32_t *vcpus, unsigned n, OpError *err) {
        _cleanup_free_ uint64_t *last = NULL;
        GuardVerdict verdict;
        unsigned which;

        last = calloc(n, sizeof(*last));
        if (!last)
                return -ENOMEM;
        for (unsigned k = 0; k < n; k++)
                last[k] = vm_find_vcpu(vm, vcpus[k])->last_injection_usec;
        verdict = guards_check_severity(&m->guards, severity, last, n, now_usec(CLOCK_MONOTONIC), &which);
        switch (verdict) {
        case GUARD_PASS:
                return 0;
        case GUARD_GAP:
                return op_error_set(err, SERROR_BUS_ERROR_GUARD, "Refused by %s: vcpu %" PRIu32 " of %s%s.",
                                    guard_verdict_describe(verdict), vcpus[which], vm->name,
                                    n > 1 ? "; no vcpu of the call was sent one" : "");
        case GUARD_RATE:
                if (n > 1)
                        return op_error_set(err, SERROR_BUS_ERROR_GUARD,
                                            "Refused by %s: %u vcpus of %s at once; no vcpu of the call was sent one.",
                                            guard_verdict_describe(verdict), n, vm->name);
                return op_error_set(err, SERROR_BUS_ERROR_GUARD, "Refused by %s: vcpu %" PRIu32 " of %s.",
                                    guard_verdict_describe(verdict), vcpus[0], vm->name);
        default:
                return op_error_set(err, SERROR_BUS_ERROR_GUARD, "Refused by %s: vcpu %" PRIu32 " of %s.",
                                    guard_verdict_describe(verdict), vcpus[0], vm->name);
        }
}

/* A machine check goes only to an agent that says it executes them (x86
 * agents); an SError still goes to every agent, which answers for itself. */
static int check_error_kind(VM *vm, bool is_mce, OpError *err) {
        if (!is_mce || (vm->capabilities & ATTACH_CAP_MCE))
                return 0;
        if (vm->arch != ATTACH_ARCH_X86_64)
                return op_error_set(err, SERROR_BUS_ERROR_NOT_SUPPORTED,
                                    "VM %s is %s: machine checks are x86's; inject an SError syndrome "
                                    "(ce, uer, uc, ...) into it.", vm->name, attach_arch_to_string(vm->arch) ?: "?");
        return op_error_set(err, SERROR_BUS_ERROR_NOT_SUPPORTED,
                            "The agent of VM %s does not execute machine checks (its HELLO lacks the MCE "
                            "capability); update the VMM's libserror-agent.", vm->name);
}

/* What an Inject call asks for: an SError syndrome, KVM's choice, or an x86 machine check. */
typedef struct InjectError {
        bool kvm_chosen;
        bool is_mce;
        serror_syndrome syndrome;
        serror_mce mce;
        int severity; /* for the guards */
} InjectError;

static int parse_inject_error(const char *text, uint64_t flags, InjectError *ret, OpError *err) {
        serror_diag diag = {};

        *ret = (InjectError) { .kvm_chosen = streq(text, "kvm"), .severity = SERROR_SEVERITY_UC };
        if (ret->kvm_chosen)
                return 0;
        if (serror_mce_text_is_mce(text)) {
                ret->is_mce = true;
                if (flags & SERROR_INJECT_ALLOW_IDS)
                        return op_error_set(err, SERROR_BUS_ERROR_INVALID_ARGS,
                                            "The allow-IDS flag is for SError syndromes, not machine checks.");
                if (serror_mce_parse(text, &ret->mce, &diag) < 0)
                        return op_error_set(err, SERROR_BUS_ERROR_INVALID_SYNDROME, "Invalid machine check '%s': %s",
                                            echo_arg(text), diag.message);
                ret->severity = serror_mce_severity(&ret->mce);
                return 0;
        }
        if (serror_syndrome_parse(text, flags & SERROR_INJECT_ALLOW_IDS ? SERROR_ALLOW_IDS : 0, &ret->syndrome, &diag) < 0)
                return op_error_set(err, SERROR_BUS_ERROR_INVALID_SYNDROME, "Invalid syndrome '%s': %s",
                                    echo_arg(text), diag.message);
        ret->severity = serror_syndrome_severity(&ret->syndrome);
        return 0;
}

static int check_inject_request(const InjectRequest *req, serror_mode *ret_mode, InjectError *ret_what,
                                OpError *err) {
        if (req->flags & ~(uint64_t) _SERROR_INJECT_FLAGS_ALL)
                return op_error_set(err, SERROR_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64 ".",
                                    req->flags & ~(uint64_t) _SERROR_INJECT_FLAGS_ALL);
        if (serror_mode_from_string(req->mode, ret_mode) < 0)
                return op_error_set(err, SERROR_BUS_ERROR_INVALID_ARGS,
                                    "Invalid multiple-SError mode '%s': expected merge, defer or skip.",
                                    echo_arg(req->mode));
        if (req->timeout_usec < SERROR_INJECT_TIMEOUT_MIN_USEC || req->timeout_usec > SERROR_INJECT_TIMEOUT_MAX_USEC)
                return op_error_set(err, SERROR_BUS_ERROR_INVALID_ARGS,
                                    "Invalid timeout %" PRIu64 " us: expected 1 ms to 1 h.", req->timeout_usec);
        if (req->reaction_window_usec != 0 && (req->reaction_window_usec < REACTION_WINDOW_MIN_USEC ||
                                               req->reaction_window_usec > REACTION_WINDOW_MAX_USEC))
                return op_error_set(err, SERROR_BUS_ERROR_INVALID_ARGS,
                                    "Invalid reaction window %" PRIu64 " us: expected 10 ms to 10 min, or 0 for "
                                    "the default of 10 s.", req->reaction_window_usec);
        return parse_inject_error(req->error_text, req->flags, ret_what, err);
}

/* Send one injection per vcpu. Once a send failed, the vcpus left get a failed
 * outcome each: they share the connection, and what went out cannot be taken back. */
static int inject_batch_start(Manager *m, VM *vm, const uint32_t *vcpus, unsigned n_vcpus,
                              const InjectionParams *p, InjectBatch *b, OpError *err) {
        unsigned started = 0;
        int r = 0;

        for (unsigned k = 0; k < n_vcpus; k++) {
                GuardVerdict guard = GUARD_PASS;
                Injection *i;

                r = injection_start(m, vm, vcpus[k], p, on_injection_done, b, &i, &guard);
                if (r < 0)
                        break;
                b->ids[k] = i->record.id;
                started++;
        }
        if (started == 0)
                /* Named after the errno: the generic Failed maps to EACCES in sd-bus, which a
                 * client would read as "permission denied". */
                return op_error_set_errno(err, r, "Failed to send the request to %s: %m", vm->name);
        for (unsigned k = started; k < n_vcpus; k++) {
                injection_record_unsent(m, vm, vcpus[k], p, r, &b->records[k]);
                b->ids[k] = b->records[k].id;
                b->n_done++;
        }
        return 0;
}

int manager_inject(Manager *m, const InjectRequest *req, inject_batch_done_fn done, void *userdata,
                   InjectBatch **ret, OpError *err) {
        _cleanup_free_ uint32_t *vcpus = NULL;
        unsigned n_vcpus = 0;
        InjectError what;
        serror_mode mode;
        InjectBatch *b;
        VM *vm;
        int r;

        r = check_inject_request(req, &mode, &what, err);
        if (r < 0)
                return r;
        vm = manager_find_vm(m, req->target);
        if (!vm)
                return refuse_no_such_vm(err, req->target);
        r = check_error_kind(vm, what.is_mce, err);
        if (r < 0)
                return r;
        r = parse_vcpus(vm, req->vcpus, &vcpus, &n_vcpus, err);
        if (r < 0)
                return r;
        /* All or nothing: no vcpu of the request may be at its bound. */
        for (unsigned k = 0; k < n_vcpus; k++)
                if (injection_count_for_vcpu(vm, vcpus[k]) >= INJECTION_PER_VCPU_MAX)
                        return op_error_set(err, SERROR_BUS_ERROR_BUSY,
                                            "vcpu %" PRIu32 " of %s already has %u injections in flight.", vcpus[k],
                                            vm->name, INJECTION_PER_VCPU_MAX);
        r = check_guards(m, vm, what.severity, vcpus, n_vcpus, err);
        if (r < 0)
                return r;

        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        *b = (InjectBatch) {
                .ids = calloc(n_vcpus, sizeof(uint64_t)),
                .records = calloc(n_vcpus, sizeof(InjectionRecord)),
                .n = n_vcpus,
                .wait_reaction = req->flags & SERROR_INJECT_WAIT_REACTION,
                .done = done,
                .userdata = userdata,
        };
        if (!b->ids || !b->records) {
                inject_batch_free(b);
                return -ENOMEM;
        }
        InjectionParams p = {
                .syndrome = what.kvm_chosen || what.is_mce ? NULL : &what.syndrome,
                .mce = what.is_mce ? &what.mce : NULL,
                .allow_ids = req->flags & SERROR_INJECT_ALLOW_IDS,
                .mode = mode,
                .timeout_usec = req->timeout_usec,
                .dry_run = req->flags & SERROR_INJECT_DRY_RUN,
                .origin = req->origin,
                .guards_passed = true,
                .reaction_window_usec = req->reaction_window_usec,
                .reaction_done = b->wait_reaction ? on_reaction_done : NULL,
                .reaction_userdata = b,
        };
        r = inject_batch_start(m, vm, vcpus, n_vcpus, &p, b, err);
        if (r < 0) {
                inject_batch_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

int manager_detach_vm(Manager *m, const char *target, OpError *err) {
        VM *vm = manager_find_vm(m, target);

        if (!vm)
                return refuse_no_such_vm(err, target);
        log_info("VM %s detached on request of the operator.", vm->name);
        /* The agent is told not to reconnect: detaching is a decision, not a glitch. */
        connection_close_with_notice(vm->connection, ECONNABORTED, "detached by the operator");
        return 0;
}

int manager_load_policy(Manager *m, const char *text, const char *source, bool start, LoadedPolicy **ret,
                        OpError *err) {
        LoadedPolicy *rp;
        PolicyDiag diag;
        int r;

        r = loaded_policy_load(m, text, strlen(text), source, false, &rp, &diag);
        if (r == -EEXIST)
                return op_error_set(err, SERROR_BUS_ERROR_POLICY_EXISTS,
                                    "A policy with this name is already loaded (stop and unload it first).");
        if (r < 0) {
                char first[512] = "";
                if (diag.n_errors > 0)
                        policy_error_format(&diag.errors[0], first, sizeof(first));
                return op_error_set(err, SERROR_BUS_ERROR_INVALID_POLICY, "Invalid policy%s%s (%zu error%s)",
                                    first[0] ? ": " : "", first, diag.n_errors, diag.n_errors == 1 ? "" : "s");
        }
        if (start) {
                r = loaded_policy_start(rp);
                if (r < 0) {
                        loaded_policy_free(rp);
                        return r;
                }
        } else
                manager_policy_changed(m, rp);
        *ret = rp;
        return 0;
}

int manager_start_policy(Manager *m, const char *name, LoadedPolicy **ret, OpError *err) {
        LoadedPolicy *rp;
        int r;

        r = manager_lookup_policy(m, name, &rp, err);
        if (r < 0)
                return r;
        r = loaded_policy_start(rp);
        if (r < 0)
                return r;
        *ret = rp;
        return 0;
}

int manager_stop_policy(Manager *m, const char *name, OpError *err) {
        LoadedPolicy *rp;
        int r;

        r = manager_lookup_policy(m, name, &rp, err);
        if (r < 0)
                return r;
        loaded_policy_stop(rp, RUN_STOPPED);
        return 0;
}

int manager_unload_policy(Manager *m, const char *name, OpError *err) {
        _cleanup_free_ char *copy = NULL;
        LoadedPolicy *rp;
        int r;

        r = manager_lookup_policy(m, name, &rp, err);
        if (r < 0)
                return r;
        copy = strdup(rp->policy->name);
        loaded_policy_stop(rp, RUN_STOPPED);
        loaded_policy_free(rp);
        if (copy)
                manager_policy_removed(m, copy);
        return 0;
}

int manager_reload_policies(Manager *m, char **ret_errors) {
        _cleanup_free_ char *errors = NULL;
        int r;

        r = loaded_policies_load_directory(m, m->config->policy_dir, &errors);
        if (r < 0) {
                log_error_errno(r, "Refused to reload %s; the running policies stay as they were:\n%s",
                                m->config->policy_dir, errors ?: "");
                if (ret_errors)
                        *ret_errors = TAKE_PTR(errors);
                return r;
        }
        log_info("Reloaded the policies of %s.", m->config->policy_dir);
        return 0;
}

unsigned manager_stop_all_policies(Manager *m) {
        unsigned stopped = 0;

        for (LoadedPolicy *rp = m->policies; rp; rp = rp->next)
                if (rp->state == RUN_RUNNING) {
                        loaded_policy_stop(rp, RUN_STOPPED);
                        stopped++;
                }
        log_notice("stop-all: %u running polic%s stopped.", stopped, stopped == 1 ? "y" : "ies");
        return stopped;
}

/* The guest may have taken such an SError since: then it is gone anyway, and
 * its reaction says so when the agent saw it. */
static bool record_left_pending(Manager *m, unsigned i) {
        const InjectionRecord *rec = history_get(&m->history, i);
        VM *vm;

        if (!rec->after.valid || !rec->after.pending || !serror_outcome_landed(rec->outcome))
                return false;
        if (rec->reaction.taken_after_usec != REACTION_USEC_NONE)
                return false;
        for (unsigned j = i + 1; j < m->history.count; j++) {
                const InjectionRecord *o = history_get(&m->history, j);
                if (streq(o->vm, rec->vm) && o->vcpu == rec->vcpu)
                        return false;
        }
        vm = manager_find_vm(m, rec->vm);
        return vm && vm_find_vcpu(vm, rec->vcpu);
}

int manager_pending_serrors(Manager *m, const InjectionRecord ***ret, size_t *ret_n) {
        _cleanup_free_ const InjectionRecord **list = NULL;
        size_t n = 0;

        list = calloc(m->history.count + 1, sizeof(*list));
        if (!list)
                return -ENOMEM;
        for (unsigned i = m->history.count; i-- > 0;)
                if (record_left_pending(m, i))
                        list[n++] = history_get(&m->history, i);
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}
