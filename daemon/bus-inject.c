/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inject, GetHistory and InjectionDone: how serrorctl asks for SErrors and learns what happened. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "bus-inject.h"
#include "bus-manager.h"
#include "bus-api.h"
#include "injection.h"
#include "log.h"
#include "manager.h"
#include "vm.h"

static int append_state(sd_bus_message *m, const AttachVcpuState *s) {
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
        k = sd_bus_message_append(m, "(sbttst)", reaction_state_to_string(r->reaction.state),
                                  (int) r->reaction.taken_watched, r->reaction.window_usec,
                                  r->reaction.taken_after_usec,
                                  r->reaction.state == REACTION_DONE ? fate_to_string(r->reaction.fate) : "",
                                  r->reaction.fate_after_usec);
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

static void emit_record(Manager *m, const char *member, const InjectionRecord *r) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;

        if (!m->bus || sd_bus_track_count(m->subscribers) == 0) /* 0 for a NULL tracker too */
                return;
        if (sd_bus_message_new_signal(m->bus, &s, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE, member) < 0 ||
            append_record(s, r) < 0 || sd_bus_send(m->bus, s, NULL) < 0)
                log_debug("Failed to emit %s for %" PRIu64 ".", member, r->id);
}

void bus_inject_emit_done(Manager *m, const InjectionRecord *r) {
        emit_record(m, "InjectionDone", r);
}

void bus_inject_emit_reaction(Manager *m, const InjectionRecord *r) {
        emit_record(m, "ReactionDone", r);
}

static int fill_batch_records(sd_bus_message *reply, const void *userdata) {
        const InjectBatch *b = userdata;
        int r;

        for (unsigned i = 0; i < b->n; i++) {
                r = append_record(reply, &b->records[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int fill_nothing(sd_bus_message *reply, const void *userdata) {
        return 0;
}

/* Every id; the records too once they are all in. */
static int reply_with_batch(sd_bus_message *call, const InjectBatch *b, bool with_records) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(reply, 't', b->ids, b->n * sizeof(uint64_t));
        if (r < 0)
                return r;
        return bus_send_with_array(reply, "(" SERROR_BUS_INJECTION_RECORD_SIGNATURE ")",
                                   with_records ? fill_batch_records : fill_nothing, b);
}

/* A caller that asked to wait is answered once every outcome is in. */
static void on_batch_done(InjectBatch *b, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = userdata;
        int r;

        r = reply_with_batch(call, b, true);
        if (r < 0)
                log_debug_errno(r, "Failed to answer a waiting Inject call: %m");
}

int bus_inject_method_inject(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        InjectRequest req = { .origin = "serrorctl" };
        InjectBatch *batch;
        OpError err = {};
        bool wait;
        int r;

        r = sd_bus_message_read(message, "ssssttt", &req.target, &req.vcpus, &req.error_text, &req.mode,
                                &req.timeout_usec, &req.flags, &req.reaction_window_usec);
        if (r < 0)
                return r;
        r = bus_check_control_access(m, message, error);
        if (r < 0)
                return r;
        if ((r = bus_arg_check(req.target, BUS_ARG_MAX, "VM", error)) < 0 ||
            (r = bus_arg_check(req.vcpus, BUS_ARG_MAX, "vcpu list", error)) < 0 ||
            (r = bus_arg_check(req.error_text, BUS_ARG_MAX, "syndrome", error)) < 0 ||
            (r = bus_arg_check(req.mode, BUS_ARG_MAX, "mode", error)) < 0)
                return r;

        wait = req.flags & (SERROR_INJECT_WAIT | SERROR_INJECT_WAIT_REACTION);
        r = manager_inject(m, &req, wait ? on_batch_done : NULL, wait ? sd_bus_message_ref(message) : NULL, &batch,
                           &err);
        if (r < 0) {
                if (wait)
                        sd_bus_message_unref(message);
                return bus_reply_op_error(error, &err, r);
        }
        return wait ? 1 : reply_with_batch(message, batch, false);
}

typedef struct HistoryFilter {
        const History *history;
        const char *vm; /* "": every VM */
} HistoryFilter;

static int fill_history(sd_bus_message *reply, const void *userdata) {
        const HistoryFilter *f = userdata;
        int r;

        for (unsigned i = 0; i < f->history->count; i++) {
                const InjectionRecord *rec = history_get(f->history, i);
                if (!isempty(f->vm) && !streq(rec->vm, f->vm))
                        continue;
                r = append_record(reply, rec);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bus_inject_method_get_history(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        HistoryFilter filter = { .history = &m->history };
        int r;

        r = sd_bus_message_read(message, "s", &filter.vm);
        if (r < 0)
                return r;
        return bus_reply_with_array(message, "(" SERROR_BUS_INJECTION_RECORD_SIGNATURE ")", fill_history, &filter);
}

