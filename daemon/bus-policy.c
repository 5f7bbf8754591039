/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy methods of org.serror.serror1.Manager and their signals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "bus-manager.h"
#include "bus-api.h"
#include "bus-policy.h"
#include "injection.h"
#include "log.h"
#include "manager.h"
#include "policy-runner.h"
#include "vm.h"

void bus_policy_emit_changed(Manager *m, const LoadedPolicy *rp) {
        if (m->bus)
                (void) sd_bus_emit_signal(m->bus, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE, "PolicyChanged", "ss",
                                          rp->policy->name, run_state_to_string(rp->state));
}

void bus_policy_emit_removed(Manager *m, const char *name) {
        if (m->bus)
                (void) sd_bus_emit_signal(m->bus, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE, "PolicyChanged", "ss",
                                          name, "unloaded");
}

int bus_policy_method_load(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *text, *source;
        LoadedPolicy *rp;
        OpError err = {};
        int start, r;

        r = sd_bus_message_read(message, "ssb", &text, &source, &start);
        if (r < 0)
                return r;
        r = bus_check_control_access(m, message, error);
        if (r < 0)
                return r;
        r = bus_arg_check(text, POLICY_TEXT_MAX, "policy text", error);
        if (r < 0)
                return r;
        r = bus_arg_check(source, BUS_ARG_MAX, "policy source", error);
        if (r < 0)
                return r;
        /* Every user may read it back (ListPolicies), and it is logged. */
        char source_safe[ESCAPE_SIZE(BUS_ARG_MAX)];
        escape_text(isempty(source) ? "bus" : source, BUS_ARG_MAX, source_safe, sizeof(source_safe));
        r = manager_load_policy(m, text, source_safe, start, &rp, &err);
        if (r < 0)
                return bus_reply_op_error(error, &err, r);
        return sd_bus_reply_method_return(message, "st", rp->policy->name, rp->seed);
}

/* The name argument of Start, Stop and Unload, once the caller may make the call. */
static int read_policy_name(sd_bus_message *message, Manager *m, sd_bus_error *error, const char **ret) {
        int r;

        r = sd_bus_message_read(message, "s", ret);
        if (r < 0)
                return r;
        return bus_check_control_access(m, message, error);
}

int bus_policy_method_start(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        LoadedPolicy *rp;
        OpError err = {};
        int r;

        r = read_policy_name(message, userdata, error, &name);
        if (r < 0)
                return r;
        r = manager_start_policy(userdata, name, &rp, &err);
        if (r < 0)
                return bus_reply_op_error(error, &err, r);
        return sd_bus_reply_method_return(message, "t", rp->seed);
}

/* Stop and Unload: a policy's name in, nothing out. */
static int by_policy_name(sd_bus_message *message, Manager *m, sd_bus_error *error,
                          int (*operation)(Manager *m, const char *name, OpError *err)) {
        const char *name;
        OpError err = {};
        int r;

        r = read_policy_name(message, m, error, &name);
        if (r < 0)
                return r;
        r = operation(m, name, &err);
        if (r < 0)
                return bus_reply_op_error(error, &err, r);
        return sd_bus_reply_method_return(message, NULL);
}

int bus_policy_method_stop(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return by_policy_name(message, userdata, error, manager_stop_policy);
}

int bus_policy_method_unload(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return by_policy_name(message, userdata, error, manager_unload_policy);
}

static int append_summary(sd_bus_message *reply, LoadedPolicy *rp) {
        uint64_t next = 0;

        if (loaded_policy_next_offset(rp, &next) > 0)
                next += rp->start_realtime_usec;
        return sd_bus_message_append(reply, "(" SERROR_BUS_POLICY_SUMMARY_SIGNATURE ")", rp->policy->name,
                                     run_state_to_string(rp->state), rp->source, (int) rp->seed_generated, rp->seed,
                                     rp->start_realtime_usec, next, rp->n_sent, rp->n_refused, rp->n_landed,
                                     rp->n_failed, rp->stop_reason);
}

static int fill_policies(sd_bus_message *reply, const void *userdata) {
        const Manager *m = userdata;
        int r;

        for (LoadedPolicy *rp = m->policies; rp; rp = rp->next) {
                r = append_summary(reply, rp);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bus_policy_method_list(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return bus_reply_with_array(message, "(" SERROR_BUS_POLICY_SUMMARY_SIGNATURE ")", fill_policies, userdata);
}

int bus_policy_method_get(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *name;
        LoadedPolicy *rp;
        OpError err = {};
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = manager_lookup_policy(m, name, &rp, &err);
        if (r < 0)
                return bus_reply_op_error(error, &err, r);
        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = append_summary(reply, rp);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "s", rp->text);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int bus_policy_method_reload(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *errors = NULL;
        Manager *m = userdata;
        int r;

        r = bus_check_control_access(m, message, error);
        if (r < 0)
                return r;
        r = manager_reload_policies(m, &errors);
        if (r < 0)
                return sd_bus_error_setf(error, SERROR_BUS_ERROR_INVALID_POLICY,
                                         "Reload refused, the running policies stay as they were:\n%s",
                                         errors ?: strerror(-r));
        return sd_bus_reply_method_return(message, NULL);
}

typedef struct PendingList {
        const InjectionRecord **records;
        size_t n;
} PendingList;

static int fill_pending(sd_bus_message *reply, const void *userdata) {
        const PendingList *p = userdata;
        int r;

        for (size_t i = 0; i < p->n; i++) {
                r = sd_bus_message_append(reply, "(sutt)", p->records[i]->vm, p->records[i]->vcpu,
                                          p->records[i]->after.esr, p->records[i]->id);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bus_policy_method_stop_all(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ const InjectionRecord **pending = NULL;
        Manager *m = userdata;
        size_t n_pending;
        uint32_t stopped;
        int r;

        r = bus_check_control_access(m, message, error);
        if (r < 0)
                return r;
        stopped = manager_stop_all_policies(m);
        /* What stopping cannot take back: SErrors already pending in guests. */
        r = manager_pending_serrors(m, &pending, &n_pending);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "u", stopped);
        if (r < 0)
                return r;
        return bus_send_with_array(reply, "(sutt)", fill_pending, &(PendingList) { pending, n_pending });
}
