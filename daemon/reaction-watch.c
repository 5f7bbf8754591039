/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reaction windows: what serrord learns after an outcome, and how it is counted, kept, logged and signalled. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock-util.h"
#include "history.h"
#include "journal-fields.h"
#include "list.h"
#include "log.h"
#include "manager.h"
#include "reaction-watch.h"
#include "vm.h"

/* journalctl MESSAGE_ID=... finds every reaction. */
#define SERROR_MESSAGE_ID_REACTION "32c5aacfc23a462cb7858b3392fe6ab4"

void reaction_begin(InjectionRecord *r, const Injection *i, const VM *vm) {
        /* Only an agent that looks before each KVM_RUN, on the vcpu's own thread, sees it;
         * one that cannot says so (REACTION unwatched). */
        r->reaction.taken_watched = vm && !r->is_mce && (vm->capabilities & ATTACH_CAP_REACTION) &&
                                    !i->early_unwatched;
        r->reaction.taken_after_usec = REACTION_USEC_NONE;
        r->reaction.fate = FATE_UNKNOWN;
        r->reaction.fate_after_usec = REACTION_USEC_NONE;
        /* A dry run or a failure put nothing in front of the guest. */
        if (!serror_outcome_landed(r->outcome) || i->dry_run) {
                r->reaction.state = REACTION_NONE;
                return;
        }
        r->reaction.state = REACTION_WATCHING;
        if (i->early_taken_after_usec != REACTION_USEC_NONE)
                r->reaction.taken_after_usec = i->early_taken_after_usec;
        else if (!r->is_mce && r->after.valid && !r->after.pending)
                /* Read clear right after the write: KVM delivered it at once (Linux 6.17 on,
                 * with SErrors unmasked), or the guest took it between SET and GET. */
                r->reaction.taken_after_usec = 0;
}

static void reaction_log(const InjectionRecord *r) {
        int level = r->reaction.fate == FATE_RUNNING ? LOG_INFO : LOG_NOTICE;
        FieldBuf b = { .n = 0 };
        char what[160], message[512];

        if (!log_enabled(level))
                return;
        field_str(&b, "SERROR_VM=", r->vm, sizeof(r->vm));
        field_uint(&b, "SERROR_VCPU=", r->vcpu);
        field_uint(&b, "SERROR_REQUEST_ID=", r->id);
        field_str(&b, "SERROR_SYNDROME=", r->syndrome, sizeof(r->syndrome));
        field_str(&b, "SERROR_OUTCOME=", serror_outcome_to_string(r->outcome), 32);
        field_str(&b, "SERROR_FATE=", fate_to_string(r->reaction.fate), 32);
        if (r->reaction.taken_after_usec != REACTION_USEC_NONE)
                field_uint(&b, "SERROR_TAKEN_AFTER_USEC=", r->reaction.taken_after_usec);
        field_uint(&b, "SERROR_FATE_AFTER_USEC=", r->reaction.fate_after_usec);
        field_uint(&b, "SERROR_REACTION_WINDOW_USEC=", r->reaction.window_usec);
        field_str(&b, "SERROR_ORIGIN=", r->origin, 60);

        reaction_format(&r->reaction, what, sizeof(what));
        snprintf(message, sizeof(message), "Injection %" PRIu64 " of %s into %s vcpu %" PRIu32 ": %s.", r->id,
                 r->syndrome, r->vm, r->vcpu, what);
        log_fields(level, SERROR_MESSAGE_ID_REACTION, message, b.fields);
}

static void watch_free(ReactionWatch *w) {
        ev_timer_stop(w->manager->loop, &w->window);
        if (w->vm)
                LIST_REMOVE(w->vm->reactions, w);
        free(w);
}

/* Wherever the fate comes from, it is counted, kept, logged and signalled the same way. */
static void watch_finish(ReactionWatch *w, Fate fate, uint64_t when_usec) {
        Manager *m = w->manager;
        InjectionRecord *r = &w->record;

        r->reaction.state = REACTION_DONE;
        r->reaction.fate = fate;
        r->reaction.fate_after_usec = fate == FATE_RUNNING          ? r->reaction.window_usec :
                                      when_usec > w->request_usec ? when_usec - w->request_usec :
                                                                    0;
        m->counters[_COUNTER_FATE_FIRST + fate]++;
        (void) history_update(&m->history, r);
        reaction_log(r);
        manager_reaction_done(m, r);
        if (w->done)
                w->done(r, w->userdata);
        watch_free(w);
}

static void on_window_end(struct ev_loop *loop, ev_timer *t, int revents) {
        ReactionWatch *w = container_of(t, ReactionWatch, window);

        /* Still attached, and no exit that stops it: the VM kept running. */
        watch_finish(w, FATE_RUNNING, now_usec(CLOCK_MONOTONIC));
}

int reaction_watch_start(Manager *m, VM *vm, const InjectionRecord *r, const Injection *i, reaction_done_fn done,
                         void *userdata) {
        ReactionWatch *w;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (ReactionWatch) {
                .manager = m,
                .vm = vm,
                .record = *r,
                .request_usec = i->start_monotonic_usec,
                .done = done,
                .userdata = userdata,
        };
        ev_timer_init(&w->window, on_window_end, (double) r->reaction.window_usec / 1e6, 0.);
        ev_timer_start(m->loop, &w->window);
        LIST_PREPEND(vm->reactions, w);
        if (i->has_early_fate)
                watch_finish(w, i->early_fate, i->early_fate_usec);
        return 0;
}

static ReactionWatch *watch_find(VM *vm, uint64_t id) {
        for (ReactionWatch *w = vm->reactions; w; w = w->next)
                if (w->record.id == id)
                        return w;
        return NULL;
}

static void handle_taken(Manager *m, VM *vm, const AttachReaction *rc) {
        uint64_t after = rc->after_ns / 1000u;
        ReactionWatch *w = watch_find(vm, rc->inject_id);
        InjectionRecord *rec;
        Injection *i;

        if (w) {
                if (w->record.reaction.taken_after_usec == REACTION_USEC_NONE)
                        w->record.reaction.taken_after_usec = after;
                return;
        }
        /* The agent may send it before the INJECT_RESULT leaves its batch. */
        i = injection_find(vm, rc->inject_id);
        if (i) {
                i->early_taken_after_usec = after;
                return;
        }
        /* After its window (the guest had SErrors masked): the history still learns it, and
         * stop-all no longer counts it as pending. */
        rec = history_find(&m->history, rc->inject_id);
        if (rec && streq(rec->vm, vm->name) && rec->reaction.taken_after_usec == REACTION_USEC_NONE) {
                rec->reaction.taken_after_usec = after;
                log_debug("VM %s: request %" PRIu64 " taken after %" PRIu64 " us, after its window.", vm->name,
                          rc->inject_id, after);
                return;
        }
        log_debug("VM %s: a TAKEN for request %" PRIu64 ", which has no open window; dropped.", vm->name,
                  rc->inject_id);
}

static void handle_unwatched(VM *vm, const AttachReaction *rc) {
        ReactionWatch *w = watch_find(vm, rc->inject_id);
        Injection *i;

        if (w) {
                w->record.reaction.taken_watched = false;
                return;
        }
        i = injection_find(vm, rc->inject_id);
        if (i)
                i->early_unwatched = true;
}

static void handle_exit(Manager *m, VM *vm, const AttachReaction *rc) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        Fate fate;

        if (fate_from_kvm_exit(rc->exit_reason, rc->event_type, &fate) < 0) {
                log_debug("VM %s vcpu %" PRIu32 ": exit %" PRIu32 " (type %" PRIu32 ") ends nothing; ignored.",
                          vm->name, rc->vcpu, rc->exit_reason, rc->event_type);
                return;
        }
        log_info("VM %s vcpu %" PRIu32 ": %s (KVM exit %" PRIu32 ", type %" PRIu32 ").", vm->name, rc->vcpu,
                 fate_describe(fate), rc->exit_reason, rc->event_type);
        /* The fate is the VM's: every open window of it ends, and every injection still in flight
         * starts its window ended. */
        while (vm->reactions)
                watch_finish(vm->reactions, fate, now);
        for (Injection *i = vm->injections; i; i = i->next) {
                i->has_early_fate = true;
                i->early_fate = fate;
                i->early_fate_usec = now;
        }
}

void reaction_handle_notice(Manager *m, VM *vm, const AttachReaction *rc) {
        switch (rc->kind) {
        case ATTACH_REACTION_TAKEN:
                handle_taken(m, vm, rc);
                break;
        case ATTACH_REACTION_EXIT:
                handle_exit(m, vm, rc);
                break;
        case ATTACH_REACTION_UNWATCHED:
                handle_unwatched(vm, rc);
                break;
        }
}

void reaction_watch_vm_gone(Manager *m, VM *vm, bool vmm_exited) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        while (vm->reactions)
                watch_finish(vm->reactions, vmm_exited ? FATE_VMM_EXITED : FATE_DETACHED, now);
}

void reaction_watch_stop_all(Manager *m) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        for (VM *vm = m->vms; vm; vm = vm->next)
                while (vm->reactions)
                        watch_finish(vm->reactions, FATE_UNKNOWN, now);
}

unsigned reaction_watch_count(const Manager *m) {
        unsigned n = 0;

        for (const VM *vm = m->vms; vm; vm = vm->next)
                for (const ReactionWatch *w = vm->reactions; w; w = w->next)
                        n++;
        return n;
}
