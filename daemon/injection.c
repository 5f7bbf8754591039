/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Injection requests in flight, their one outcome each, the journal record, and the bounded history. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "list.h"
#include "clock-util.h"
#include "connection.h"
#include "history.h"
#include "injection.h"
#include "journal-fields.h"
#include "log.h"
#include "manager.h"
#include "reaction-watch.h"
#include "vm.h"

/* The agent answers by the deadline; this much more covers the trip back. */
#define INJECTION_GRACE_USEC (2 * 1000000ull)

/* journalctl MESSAGE_ID=... finds every injection outcome. */
#define SERROR_MESSAGE_ID_OUTCOME "6f1d2c9a4b7e4e0f9d3a5c8b2e1f7a64"

static void injection_log(const InjectionRecord *r) {
        int level = r->outcome == SERROR_OUTCOME_FAILED ? LOG_WARNING : LOG_INFO;
        FieldBuf b = { .n = 0 };
        char message[512];

        if (!log_enabled(level))
                return;
        field_str(&b, "SERROR_VM=", r->vm, sizeof(r->vm));
        field_uint(&b, "SERROR_VCPU=", r->vcpu);
        field_uint(&b, "SERROR_REQUEST_ID=", r->id);
        field_str(&b, "SERROR_SYNDROME=", r->syndrome, sizeof(r->syndrome));
        if (r->is_mce) {
                field_str(&b, "SERROR_ERROR_KIND=", "machine-check", 32);
                field_uint(&b, "SERROR_MCE_BANK=", r->mce.bank);
                field_hex64(&b, "SERROR_MCI_STATUS=", r->mce.status);
                field_hex64(&b, "SERROR_MCG_STATUS=", r->mce.mcg_status);
                if (r->mce.status & SERROR_MCI_ADDRV)
                        field_hex64(&b, "SERROR_MCI_ADDR=", r->mce.addr);
                if (r->mce.status & SERROR_MCI_MISCV)
                        field_hex64(&b, "SERROR_MCI_MISC=", r->mce.misc);
                field_str(&b, "SERROR_MCE_CLASS=", serror_mce_class_to_string(serror_mce_classify(&r->mce)) ?: "?", 16);
        } else {
                field_str(&b, "SERROR_ERROR_KIND=", "serror", 32);
                field_hex(&b, "SERROR_ISS=", r->iss, 6);
                field_hex(&b, "SERROR_ESR=", SERROR_ESR_IL | (SERROR_ESR_EC_SERROR << SERROR_ESR_EC_SHIFT) | r->iss, 8);
        }
        field_str(&b, "SERROR_MODE=", serror_mode_to_string(r->mode), 32);
        field_str(&b, "SERROR_OUTCOME=", serror_outcome_to_string(r->outcome), 32);
        field_str(&b, "SERROR_ORIGIN=", r->origin, 60);
        field_uint(&b, "SERROR_LATENCY_USEC=", r->latency_usec);
        if (r->error > 0)
                field_uint(&b, "ERRNO=", (uint64_t) r->error);

        if (r->error > 0)
                snprintf(message, sizeof(message), "Injection %" PRIu64 " of %s into %s vcpu %" PRIu32 ": %s (%s: %.200s)",
                         r->id, r->syndrome, r->vm, r->vcpu, serror_outcome_to_string(r->outcome), strerror(r->error),
                         r->message);
        else
                snprintf(message, sizeof(message), "Injection %" PRIu64 " of %s into %s vcpu %" PRIu32 ": %s.", r->id,
                         r->syndrome, r->vm, r->vcpu, serror_outcome_to_string(r->outcome));
        log_fields(level, SERROR_MESSAGE_ID_OUTCOME, message, b.fields);
}

static void injection_unlink(Injection *i) {
        VM *vm = i->vm;
        Vcpu *v;

        if (!vm)
                return;
        LIST_REMOVE(vm->injections, i);
        v = vm_find_vcpu(vm, i->record.vcpu);
        if (v && v->n_inflight > 0)
                v->n_inflight--;
        i->vm = NULL;
}

/* Wherever an outcome comes from, it is counted, kept, logged and signalled the same way. */
static void record_outcome(Manager *m, const InjectionRecord *r) {
        m->counters[_COUNTER_OUTCOME_FIRST + r->outcome]++;
        history_add(&m->history, r);
        injection_log(r);
        manager_injection_done(m, r);
}

static void injection_finish(Injection *i) {
        Manager *m = i->manager;
        VM *vm = i->vm;
        int r;

        ev_timer_stop(m->loop, &i->deadline);
        injection_unlink(i);

        i->record.latency_usec = now_usec(CLOCK_MONOTONIC) - i->start_monotonic_usec;
        if (i->record.outcome != SERROR_OUTCOME_FAILED)
                i->record.error = 0;
        reaction_begin(&i->record, i, vm);
        record_outcome(m, &i->record);
        if (i->done)
                i->done(i, &i->record, i->userdata);
        /* After done(): a fate the agent already reported ends the window at once, and
         * whoever waits must have the outcome first. */
        if (i->record.reaction.state == REACTION_WATCHING) {
                r = vm ? reaction_watch_start(m, vm, &i->record, i, i->reaction_done, i->reaction_userdata) : -ESRCH;
                if (r < 0) {
                        log_warning_errno(r, "Cannot watch what the guest does after injection %" PRIu64 ": %m",
                                          i->record.id);
                        i->record.reaction.state = REACTION_DONE;
                        i->record.reaction.fate = FATE_UNKNOWN;
                        (void) history_update(&m->history, &i->record);
                        if (i->reaction_done)
                                i->reaction_done(&i->record, i->reaction_userdata);
                }
        }
        free(i);
}

static void injection_fail(Injection *i, int error, const char *message) {
        i->record.outcome = SERROR_OUTCOME_FAILED;
        i->record.error = error;
        attach_message_copy(i->record.message, message);
        injection_finish(i);
}

static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents) {
        Injection *i = container_of(w, Injection, deadline);

        injection_fail(i, ETIMEDOUT, "the agent did not answer by the deadline");
}

unsigned injection_count_for_vcpu(VM *vm, uint32_t vcpu) {
        Vcpu *v = vm_find_vcpu(vm, vcpu);

        return v ? v->n_inflight : 0;
}

/* What a request's record says before anything has happened to it. */
static void record_init(InjectionRecord *rec, Manager *m, VM *vm, uint32_t vcpu, const InjectionParams *p) {
        *rec = (InjectionRecord) {
                .id = ++m->next_injection_id,
                .requested_usec = now_usec(CLOCK_REALTIME),
                .vcpu = vcpu,
                .has_esr = p->syndrome != NULL,
                .iss = p->syndrome ? serror_syndrome_iss(p->syndrome) : 0,
                .mode = p->mode,
                .outcome = SERROR_OUTCOME_FAILED,
                .reaction = {
                        .state = REACTION_NONE,
                        .window_usec = p->reaction_window_usec ?: REACTION_WINDOW_DEFAULT_USEC,
                        .taken_after_usec = REACTION_USEC_NONE,
                        .fate = FATE_UNKNOWN,
                        .fate_after_usec = REACTION_USEC_NONE,
                },
        };
        memcpy(rec->vm, vm->name, sizeof(rec->vm));
        snprintf(rec->origin, sizeof(rec->origin), "%s", p->origin ?: "");
        rec->policy_id = p->policy_id;
        if (p->mce) {
                rec->is_mce = true;
                rec->mce = *p->mce;
                rec->has_esr = false;
                rec->iss = 0;
                if (serror_mce_format(p->mce, rec->syndrome, sizeof(rec->syndrome)) < 0)
                        snprintf(rec->syndrome, sizeof(rec->syndrome), "mce:status=0x%016" PRIx64, p->mce->status);
        } else if (p->syndrome)
                serror_syndrome_format(p->syndrome, rec->syndrome, sizeof(rec->syndrome));
        else
                snprintf(rec->syndrome, sizeof(rec->syndrome), "kvm-chosen");
}

void injection_record_unsent(Manager *m, VM *vm, uint32_t vcpu, const InjectionParams *p, int error,
                             InjectionRecord *ret) {
        InjectionRecord rec;

        record_init(&rec, m, vm, vcpu, p);
        rec.error = error < 0 ? -error : error;
        attach_message_copy(rec.message, "serrord could not send the request to the agent");
        m->counters[COUNTER_INJECT_REQUESTED]++;
        record_outcome(m, &rec);
        *ret = rec;
}

int injection_start(Manager *m, VM *vm, uint32_t vcpu, const InjectionParams *p, injection_done_fn done,
                    void *userdata, Injection **ret, GuardVerdict *ret_guard) {
        AttachMsg msg = { .type = p->mce ? ATTACH_MSG_INJECT_MCE : ATTACH_MSG_INJECT };
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        bool dry_run = p->dry_run || m->guards.config.dry_run;
        GuardVerdict verdict;
        Injection *i;
        Vcpu *v;
        int r;

        v = vm_find_vcpu(vm, vcpu);
        if (!v)
                return -ENOENT;
        if (v->n_inflight >= INJECTION_PER_VCPU_MAX)
                return -EBUSY;
        if (p->guards_passed)
                verdict = GUARD_PASS;
        else if (p->mce)
                verdict = guards_check_severity(&m->guards, serror_mce_severity(p->mce), &v->last_injection_usec, 1, now,
                                                NULL);
        else
                verdict = guards_check(&m->guards, p->syndrome, v->last_injection_usec, now);
        if (verdict != GUARD_PASS) {
                if (ret_guard)
                        *ret_guard = verdict;
                return -EPERM;
        }
        i = calloc(1, sizeof(*i));
        if (!i)
                return -ENOMEM;
        i->manager = m;
        i->vm = vm;
        i->allow_ids = p->allow_ids;
        i->dry_run = dry_run;
        i->timeout_usec = p->timeout_usec;
        i->done = done;
        i->userdata = userdata;
        i->start_monotonic_usec = now_usec(CLOCK_MONOTONIC);
        i->reaction_done = p->reaction_done;
        i->reaction_userdata = p->reaction_userdata;
        i->early_taken_after_usec = REACTION_USEC_NONE;
        record_init(&i->record, m, vm, vcpu, p);

        msg.request_id = i->record.id;
        msg.inject = (AttachInject) {
                .vcpu = vcpu,
                .is_mce = p->mce != NULL,
                .mce = p->mce ? *p->mce : (serror_mce) {},
                .has_esr = p->syndrome != NULL,
                .allow_ids = p->allow_ids,
                .iss = i->record.iss,
                .mode = p->mode,
                .timeout_ns = p->timeout_usec * 1000u,
                .dry_run = dry_run,
        };
        r = connection_send(vm->connection, &msg);
        if (r < 0) {
                free(i);
                return r;
        }
        m->counters[COUNTER_INJECT_REQUESTED]++;
        v->last_injection_usec = now;
        ev_timer_init(&i->deadline, on_deadline, (double) (p->timeout_usec + INJECTION_GRACE_USEC) / 1e6, 0.);
        ev_timer_start(m->loop, &i->deadline);
        LIST_PREPEND(vm->injections, i);
        v->n_inflight++;
        log_debug("Injection %" PRIu64 " sent: %s into %s vcpu %" PRIu32 ", %s, timeout %" PRIu64 " us.", i->record.id,
                  i->record.syndrome, vm->name, vcpu, serror_mode_to_string(p->mode), p->timeout_usec);
        if (ret)
                *ret = i;
        return 0;
}

Injection *injection_find(VM *vm, uint64_t id) {
        for (Injection *i = vm->injections; i; i = i->next)
                if (i->record.id == id)
                        return i;
        return NULL;
}

int injection_handle_answer(Manager *m, VM *vm, const AttachMsg *msg) {
        Injection *i = injection_find(vm, msg->request_id);

        if (!i) {
                /* Late (after the deadline) or bogus: the outcome is already recorded. */
                log_debug("VM %s answered request %" PRIu64 ", which is not open; dropped.", vm->name, msg->request_id);
                return 0;
        }

        if (msg->type == ATTACH_MSG_REPLY) {
                /* The agent could not take the record as an INJECT at all (protocol section 6.2). */
                injection_fail(i, msg->reply.status ?: EBADMSG, msg->reply.message);
                return 0;
        }

        const AttachInjectResult *res = &msg->inject_result;
        i->record.outcome = res->outcome;
        i->record.error = res->error;
        memcpy(i->record.message, res->message, sizeof(i->record.message));
        i->record.before = res->before;
        i->record.written = res->written;
        i->record.after = res->after;
        i->record.agent_usec = res->reached_ns && res->done_ns >= res->reached_ns ? (res->done_ns - res->reached_ns) / 1000u : 0;
        if (res->vcpu != i->record.vcpu && res->vcpu != ATTACH_VCPU_UNKNOWN)
                log_warning("VM %s answered request %" PRIu64 " for vcpu %" PRIu32 ", not %" PRIu32 ".", vm->name,
                            msg->request_id, res->vcpu, i->record.vcpu);
        injection_finish(i);
        return 0;
}

void injection_fail_all_for_vm(Manager *m, VM *vm) {
        while (vm->injections)
                injection_fail(vm->injections, ECONNRESET, "the VM detached before the agent answered");
}

void injection_fail_all(Manager *m) {
        for (VM *vm = m->vms; vm; vm = vm->next)
                while (vm->injections)
                        injection_fail(vm->injections, ESHUTDOWN, "serrord is stopping");
}
