/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy methods of org.serror.serror1.Manager and their signals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-args.h"
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

static int reply_policy_error(sd_bus_error *error, const char *name) {
        return sd_bus_error_setf(error, SERROR_BUS_ERROR_NO_SUCH_POLICY, "No policy named '%s' is loaded.",
                                 bus_echo(name));
}

int bus_policy_method_load(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *text, *source;
        LoadedPolicy *rp;
        PolicyDiag diag;
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
        r = loaded_policy_load(m, text, strlen(text), source_safe, false, &rp, &diag);
        if (r == -EEXIST)
                return sd_bus_error_setf(error, SERROR_BUS_ERROR_POLICY_EXISTS,
                                         "A policy with this name is already loaded (stop and unload it first).");
        if (r < 0) {
                char first[512] = "";
                if (diag.n_errors > 0)
                        policy_error_format(&diag.errors[0], first, sizeof(first));
                return sd_bus_error_setf(error, SERROR_BUS_ERROR_INVALID_POLICY, "Invalid policy%s%s (%zu error%s)",
                                         first[0] ? ": " : "", first, diag.n_errors, diag.n_errors == 1 ? "" : "s");
        }
        if (start) {
                r = loaded_policy_start(rp);
                if (r < 0) {
                        loaded_policy_free(rp);
                        return r;
                }
        } else
                bus_policy_emit_changed(m, rp);
        return sd_bus_reply_method_return(message, "st", rp->policy->name, rp->seed);
}

static int with_policy(sd_bus_message *message, Manager *m, sd_bus_error *error, LoadedPolicy **ret) {
        const char *name;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = bus_check_control_access(m, message, error);
        if (r < 0)
                return r;
        *ret = manager_find_policy(m, name);
        return *ret ? 0 : reply_policy_error(error, name);
}

int bus_policy_method_start(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        LoadedPolicy *rp;
        int r = with_policy(message, userdata, error, &rp);

        if (r < 0)
                return r;
        r = loaded_policy_start(rp);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "t", rp->seed);
}

int bus_policy_method_stop(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        LoadedPolicy *rp;
        int r = with_policy(message, userdata, error, &rp);

        if (r < 0)
                return r;
        loaded_policy_stop(rp, RUN_STOPPED);
        return sd_bus_reply_method_return(message, NULL);
}

int bus_policy_method_unload(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *name = NULL;
        LoadedPolicy *rp;
        int r = with_policy(message, m, error, &rp);

        if (r < 0)
                return r;
        name = strdup(rp->policy->name);
        loaded_policy_stop(rp, RUN_STOPPED);
        loaded_policy_free(rp);
        if (name)
                bus_policy_emit_removed(m, name);
        return sd_bus_reply_method_return(message, NULL);
}

static int append_summary(sd_bus_message *reply, LoadedPolicy *rp) {
        uint64_t next = 0;

        if (loaded_policy_next_offset(rp, &next) > 0)
                next += rp->start_realtime_usec;
        return sd_bus_message_append(reply, "(" SERROR_BUS_POLICY_SUMMARY_SIGNATURE ")", rp->policy->name,
                                     run_state_to_string(rp->state), rp->source, (int) rp->seed_generated, rp->seed,
                                     rp->start_realtime_usec, next, rp->n_sent, rp->n_refused, rp->n_landed,
                                     rp->n_failed);
}

int bus_policy_method_list(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(" SERROR_BUS_POLICY_SUMMARY_SIGNATURE ")");
        if (r < 0)
                return r;
        for (LoadedPolicy *rp = m->policies; rp; rp = rp->next) {
                r = append_summary(reply, rp);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int bus_policy_method_get(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *name;
        LoadedPolicy *rp;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        rp = manager_find_policy(m, name);
        if (!rp)
                return reply_policy_error(error, name);
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

int bus_policy_method_stop_all(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        uint32_t stopped = 0;
        int r;

        r = bus_check_control_access(m, message, error);
        if (r < 0)
                return r;
        for (LoadedPolicy *rp = m->policies; rp; rp = rp->next)
                if (rp->state == RUN_RUNNING) {
                        loaded_policy_stop(rp, RUN_STOPPED);
                        stopped++;
                }
        log_notice("stop-all: %u running polic%s stopped.", stopped, stopped == 1 ? "y" : "ies");

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "u", stopped);
        if (r < 0)
                return r;
        /* What cannot be stopped: SErrors already pending in guests. The
         * newest record per vcpu that left one pending names it; the guest
         * may have taken it since (then it is gone anyway). */
        r = sd_bus_message_open_container(reply, 'a', "(sutt)");
        if (r < 0)
                return r;
        for (unsigned i = m->history.count; i-- > 0;) {
                const InjectionRecord *rec = history_get(&m->history, i);
                bool newer = false;
                VM *vm;

                if (!rec->after.valid || !rec->after.pending || !serror_outcome_landed(rec->outcome))
                        continue;
                for (unsigned j = i + 1; j < m->history.count && !newer; j++) {
                        const InjectionRecord *o = history_get(&m->history, j);
                        newer = streq(o->vm, rec->vm) && o->vcpu == rec->vcpu;
                }
                vm = manager_find_vm(m, rec->vm);
                if (newer || !vm || !vm_find_vcpu(vm, rec->vcpu))
                        continue;
                r = sd_bus_message_append(reply, "(sutt)", rec->vm, rec->vcpu, rec->after.esr, rec->id);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
