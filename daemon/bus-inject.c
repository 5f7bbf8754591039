/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inject, GetHistory and InjectionDone: how serrorctl asks for SErrors and learns what happened. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock-util.h"
#include "bus-args.h"
#include "bus-inject.h"
#include "bus-manager.h"
#include "bus-api.h"
#include "injection.h"
#include "log.h"
#include "manager.h"
#include "parse-util.h"
#include "vm.h"

#define INJECT_TIMEOUT_MIN_USEC 1000ull
#define INJECT_TIMEOUT_MAX_USEC (3600ull * 1000000ull)

static int append_state(sd_bus_message *m, const attach_vcpu_state *s) {
        return sd_bus_message_append(m, "(bbbt)", (int) s->valid, (int) s->pending, (int) s->has_esr, s->esr);
}

static int append_record(sd_bus_message *m, const InjectionRecord *r) {
        int k;

        k = sd_bus_message_open_container(m, 'r', SERROR_BUS_INJECTION_RECORD_SIGNATURE);
        if (k < 0)
                return k;
        k = sd_bus_message_append(m, "ttsusubssis", r->id, r->requested_usec, r->vm, r->vcpu, r->syndrome, r->iss,
                                  (int) r->has_esr, serror_mode_to_string(r->mode),
                                  serror_outcome_to_string(r->outcome), (int32_t) r->error, r->message);
        if (k < 0)
                return k;
        k = append_state(m, &r->before);
        if (k < 0)
                return k;
        k = sd_bus_message_append(m, "(bbt)", (int) r->written.written, (int) r->written.has_esr, r->written.esr);
        if (k < 0)
                return k;
        k = append_state(m, &r->after);
        if (k < 0)
                return k;
        k = sd_bus_message_append(m, "tts", r->latency_usec, r->agent_usec, r->origin);
        if (k < 0)
                return k;
        return sd_bus_message_close_container(m);
}

/* Building and routing a signal per outcome costs serrord about as much as the rest of the
 * outcome, and the bus daemon as much again, so InjectionDone goes out only while a client has
 * asked for it (the convention of systemd's Subscribe()). sd_bus_track drops a subscriber when
 * its connection closes, so a crashed monitor cannot leave the signals on. */
int bus_inject_method_subscribe(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        if (!m->subscribers) {
                r = sd_bus_track_new(sd_bus_message_get_bus(message), &m->subscribers, NULL, NULL);
                if (r < 0)
                        return r;
        }
        r = sd_bus_track_add_sender(m->subscribers, message);
        if (r < 0)
                return r;
        log_debug("%s subscribed to InjectionDone (%u subscribers).", sd_bus_message_get_sender(message),
                  sd_bus_track_count(m->subscribers));
        return sd_bus_reply_method_return(message, NULL);
}

int bus_inject_method_unsubscribe(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        /* Idempotent: a client that never subscribed is already in the state it asks for. */
        if (m->subscribers) {
                r = sd_bus_track_remove_sender(m->subscribers, message);
                if (r < 0)
                        return r;
        }
        return sd_bus_reply_method_return(message, NULL);
}

void bus_inject_emit_done(Manager *m, const InjectionRecord *r) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;

        if (!m->bus || sd_bus_track_count(m->subscribers) == 0) /* 0 for a NULL tracker too */
                return;
        if (sd_bus_message_new_signal(m->bus, &s, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE, "InjectionDone") < 0 ||
            append_record(s, r) < 0 || sd_bus_send(m->bus, s, NULL) < 0)
                log_debug("Failed to emit InjectionDone for %" PRIu64 ".", r->id);
}

/* One Inject call: the waiting caller (if any) and the outcomes so far. */
typedef struct InjectBatch {
        sd_bus_message *call; /* NULL when the caller did not ask to wait */
        uint64_t *ids;
        InjectionRecord *records;
        unsigned n;
        unsigned n_done;
} InjectBatch;

static InjectBatch *inject_batch_free(InjectBatch *b) {
        if (!b)
                return NULL;
        sd_bus_message_unref(b->call);
        free(b->ids);
        free(b->records);
        free(b);
        return NULL;
}

static int inject_batch_reply(InjectBatch *b, sd_bus_message *call, bool with_records) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(reply, 't', b->ids, b->n * sizeof(uint64_t));
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(" SERROR_BUS_INJECTION_RECORD_SIGNATURE ")");
        if (r < 0)
                return r;
        for (unsigned i = 0; with_records && i < b->n; i++) {
                r = append_record(reply, &b->records[i]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static void on_injection_done(Injection *i, const InjectionRecord *rec, void *userdata) {
        InjectBatch *b = userdata;

        for (unsigned k = 0; k < b->n; k++)
                if (b->ids[k] == rec->id)
                        b->records[k] = *rec;
        if (++b->n_done < b->n)
                return;
        if (b->call) {
                int r = inject_batch_reply(b, b->call, true);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer a waiting Inject call: %m");
        }
        inject_batch_free(b);
}

static int parse_vcpus(VM *vm, const char *spec, uint32_t **ret, unsigned *ret_n, sd_bus_error *error) {
        uint32_t *list, index;

        if (streq(spec, "all")) {
                if (vm->n_vcpus == 0)
                        return sd_bus_error_setf(error, SERROR_BUS_ERROR_NO_SUCH_VCPU, "VM %s has no vcpus attached.",
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
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid vcpu '%s': expected a vcpu index or \"all\".", bus_echo(spec));
        if (!vm_find_vcpu(vm, index))
                return sd_bus_error_setf(error, SERROR_BUS_ERROR_NO_SUCH_VCPU, "VM %s has no vcpu %" PRIu32 " attached.",
                                         vm->name, index);
        list = malloc(sizeof(uint32_t));
        if (!list)
                return -ENOMEM;
        list[0] = index;
        *ret = list;
        *ret_n = 1;
        return 0;
}

static int check_guards(Manager *m, VM *vm, int severity, const uint32_t *vcpus, unsigned n, sd_bus_error *error) {
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
                return sd_bus_error_setf(error, SERROR_BUS_ERROR_GUARD, "Refused by %s: vcpu %" PRIu32 " of %s%s.",
                                         guard_verdict_describe(verdict), vcpus[which], vm->name,
                                         n > 1 ? "; no vcpu of the call was sent one" : "");
        case GUARD_RATE:
                if (n > 1)
                        return sd_bus_error_setf(error, SERROR_BUS_ERROR_GUARD,
                                                 "Refused by %s: %u vcpus of %s at once; no vcpu of the call was sent one.",
                                                 guard_verdict_describe(verdict), n, vm->name);
                return sd_bus_error_setf(error, SERROR_BUS_ERROR_GUARD, "Refused by %s: vcpu %" PRIu32 " of %s.",
                                         guard_verdict_describe(verdict), vcpus[0], vm->name);
        default:
                return sd_bus_error_setf(error, SERROR_BUS_ERROR_GUARD, "Refused by %s: vcpu %" PRIu32 " of %s.",
                                         guard_verdict_describe(verdict), vcpus[0], vm->name);
        }
}

/* A machine check goes only to an agent that says it executes them (x86
 * agents); an SError still goes to every agent, which answers for itself. */
static int check_error_kind(VM *vm, bool is_mce, sd_bus_error *error) {
        if (!is_mce || (vm->capabilities & ATTACH_CAP_MCE))
                return 0;
        if (vm->arch != ATTACH_ARCH_X86_64)
                return sd_bus_error_setf(error, SERROR_BUS_ERROR_NOT_SUPPORTED,
                                         "VM %s is %s: machine checks are x86's; inject an SError syndrome "
                                         "(ce, uer, uc, ...) into it.", vm->name, attach_arch_to_string(vm->arch) ?: "?");
        return sd_bus_error_setf(error, SERROR_BUS_ERROR_NOT_SUPPORTED,
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

static int parse_inject_error(const char *text, uint64_t flags, InjectError *ret, sd_bus_error *error) {
        serror_diag diag = {};

        *ret = (InjectError) { .kvm_chosen = streq(text, "kvm"), .severity = SERROR_SEVERITY_UC };
        if (ret->kvm_chosen)
                return 0;
        if (serror_mce_text_is_mce(text)) {
                ret->is_mce = true;
                if (flags & SERROR_INJECT_ALLOW_IDS)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "The allow-IDS flag is for SError syndromes, not machine checks.");
                if (serror_mce_parse(text, &ret->mce, &diag) < 0)
                        return sd_bus_error_setf(error, SERROR_BUS_ERROR_INVALID_SYNDROME,
                                                 "Invalid machine check '%s': %s", bus_echo(text), diag.message);
                ret->severity = serror_mce_severity(&ret->mce);
                return 0;
        }
        if (serror_syndrome_parse(text, flags & SERROR_INJECT_ALLOW_IDS ? SERROR_ALLOW_IDS : 0, &ret->syndrome, &diag) < 0)
                return sd_bus_error_setf(error, SERROR_BUS_ERROR_INVALID_SYNDROME, "Invalid syndrome '%s': %s",
                                         bus_echo(text), diag.message);
        ret->severity = serror_syndrome_severity(&ret->syndrome);
        return 0;
}

/* Send one injection per vcpu, answering the call now (without WAIT) or once
 * every outcome is in. */
static int inject_batch_start(Manager *m, VM *vm, const uint32_t *vcpus, unsigned n_vcpus,
                              const InjectionParams *p, sd_bus_message *message, uint64_t flags,
                              sd_bus_error *error) {
        unsigned started = 0;
        InjectBatch *b;
        int r = 0;

        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->ids = calloc(n_vcpus, sizeof(uint64_t));
        b->records = calloc(n_vcpus, sizeof(InjectionRecord));
        if (!b->ids || !b->records) {
                inject_batch_free(b);
                return -ENOMEM;
        }
        b->n = n_vcpus;
        if (flags & SERROR_INJECT_WAIT)
                b->call = sd_bus_message_ref(message);

        for (unsigned k = 0; k < n_vcpus; k++) {
                GuardVerdict guard = GUARD_PASS;
                Injection *i;

                r = injection_start(m, vm, vcpus[k], p, on_injection_done, b, &i, &guard);
                if (r < 0)
                        break;
                b->ids[k] = i->record.id;
                started++;
        }
        if (started == 0) {
                inject_batch_free(b);
                /* Named after the errno: the generic Failed maps to EACCES in sd-bus, which a
                 * client would read as "permission denied". */
                return sd_bus_error_set_errnof(error, r, "Failed to send the request to %s: %m", vm->name);
        }
        /* Every vcpu of the call shares one connection: once a send failed (the agent
         * stopped reading and its queue is full, or it is gone) the rest would fail the
         * same way. What went out cannot be taken back, so each vcpu left gets a failed
         * outcome of its own rather than silently missing from the answer. */
        for (unsigned k = started; k < n_vcpus; k++) {
                injection_record_unsent(m, vm, vcpus[k], p, r, &b->records[k]);
                b->ids[k] = b->records[k].id;
                b->n_done++;
        }
        if (!(flags & SERROR_INJECT_WAIT))
                return inject_batch_reply(b, message, false);
        return 1;
}

int bus_inject_method_inject(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *target, *vcpu_spec, *syndrome_text, *mode_text;
        uint64_t timeout_usec, flags;
        _cleanup_free_ uint32_t *vcpus = NULL;
        InjectError what;
        serror_mode mode;
        unsigned n_vcpus = 0;
        VM *vm;
        int r;

        r = sd_bus_message_read(message, "sssstt", &target, &vcpu_spec, &syndrome_text, &mode_text,
                                &timeout_usec, &flags);
        if (r < 0)
                return r;
        r = bus_check_control_access(m, message, error);
        if (r < 0)
                return r;
        if ((r = bus_arg_check(target, BUS_ARG_MAX, "VM", error)) < 0 ||
            (r = bus_arg_check(vcpu_spec, BUS_ARG_MAX, "vcpu list", error)) < 0 ||
            (r = bus_arg_check(syndrome_text, BUS_ARG_MAX, "syndrome", error)) < 0 ||
            (r = bus_arg_check(mode_text, BUS_ARG_MAX, "mode", error)) < 0)
                return r;
        if (flags & ~(uint64_t) _SERROR_INJECT_FLAGS_ALL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64 ".",
                                         flags & ~(uint64_t) _SERROR_INJECT_FLAGS_ALL);
        if (serror_mode_from_string(mode_text, &mode) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid multiple-SError mode '%s': expected merge, defer or skip.",
                                         bus_echo(mode_text));
        if (timeout_usec < INJECT_TIMEOUT_MIN_USEC || timeout_usec > INJECT_TIMEOUT_MAX_USEC)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid timeout %" PRIu64 " us: expected 1 ms to 1 h.", timeout_usec);
        r = parse_inject_error(syndrome_text, flags, &what, error);
        if (r < 0)
                return r;
        vm = manager_find_vm(m, target);
        if (!vm)
                return sd_bus_error_setf(error, SERROR_BUS_ERROR_NO_SUCH_VM, "No VM named or with UUID '%s' is attached.",
                                         bus_echo(target));
        r = check_error_kind(vm, what.is_mce, error);
        if (r < 0)
                return r;
        r = parse_vcpus(vm, vcpu_spec, &vcpus, &n_vcpus, error);
        if (r < 0)
                return r;
        /* All or nothing: no vcpu of the request may be at its bound. */
        for (unsigned k = 0; k < n_vcpus; k++)
                if (injection_count_for_vcpu(vm, vcpus[k]) >= INJECTION_PER_VCPU_MAX)
                        return sd_bus_error_setf(error, SERROR_BUS_ERROR_BUSY,
                                                 "vcpu %" PRIu32 " of %s already has %u injections in flight.",
                                                 vcpus[k], vm->name, INJECTION_PER_VCPU_MAX);
        /* The guards judge the call as a whole: every vcpu gets its injection,
         * or the call is refused with the reason and none is sent. */
        r = check_guards(m, vm, what.severity, vcpus, n_vcpus, error);
        if (r < 0)
                return r;

        InjectionParams p = {
                .syndrome = what.kvm_chosen || what.is_mce ? NULL : &what.syndrome,
                .mce = what.is_mce ? &what.mce : NULL,
                .allow_ids = flags & SERROR_INJECT_ALLOW_IDS,
                .mode = mode,
                .timeout_usec = timeout_usec,
                .dry_run = flags & SERROR_INJECT_DRY_RUN,
                .origin = "serrorctl",
                .guards_passed = true,
        };
        return inject_batch_start(m, vm, vcpus, n_vcpus, &p, message, flags, error);
}

int bus_inject_method_get_history(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *vm;
        int r;

        r = sd_bus_message_read(message, "s", &vm);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(" SERROR_BUS_INJECTION_RECORD_SIGNATURE ")");
        if (r < 0)
                return r;
        for (unsigned i = 0; i < m->history.count; i++) {
                const InjectionRecord *rec = history_get(&m->history, i);
                if (!isempty(vm) && !streq(rec->vm, vm))
                        continue;
                r = append_record(reply, rec);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

