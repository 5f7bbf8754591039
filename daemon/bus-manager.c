/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Manager object on the bus: version, host, KVM capabilities, counters. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bus-manager.h"
#include "bus-api.h"
#include "bus-inject.h"
#include "bus-policy.h"
#include "bus-vm.h"
#include "log.h"
#include "macro.h"
#include "manager.h"

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_get_architecture(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", host_architecture());
}

static int property_get_kvm_device(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "s", m->kvm.device);
}

static int property_get_kvm_usable(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        /* 'b' is a 32-bit int on the wire; the struct field is a C bool. */
        return sd_bus_message_append(reply, "b", (int) m->kvm.usable);
}

static int property_get_kvm_error(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        char buf[128];

        return sd_bus_message_append(reply, "s", kvm_host_error_string(&m->kvm, buf, sizeof(buf)));
}

static int property_get_kvm_capabilities(sd_bus *bus, const char *path, const char *interface,
                                         const char *property, sd_bus_message *reply, void *userdata,
                                         sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{si}");
        if (r < 0)
                return r;
        for (unsigned i = 0; i < _KVM_HOST_CAP_MAX; i++) {
                r = sd_bus_message_append(reply, "{si}", m->kvm.caps[i].name, (int32_t) m->kvm.caps[i].value);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_counters(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{st}");
        if (r < 0)
                return r;
        for (unsigned i = 0; i < _COUNTER_MAX; i++) {
                r = sd_bus_message_append(reply, "{st}", counter_to_string((Counter) i), m->counters[i]);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_subscribers(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "u", sd_bus_track_count(m->subscribers));
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Architecture", "s", property_get_architecture, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StartTimestamp", "t", NULL, offsetof(Manager, start_realtime_usec),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("KvmDevice", "s", property_get_kvm_device, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("KvmUsable", "b", property_get_kvm_usable, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("KvmError", "s", property_get_kvm_error, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("KvmApiVersion", "i", NULL, offsetof(Manager, kvm.api_version), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("KvmCapabilities", "a{si}", property_get_kvm_capabilities, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AttachedVMs", "u", NULL, offsetof(Manager, n_vms), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AttachedVcpus", "u", NULL, offsetof(Manager, n_vcpus), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Subscribers", "u", property_get_subscribers, 0, 0),
        /* Read on demand: a change signal per injection would cost more than the injection. */
        SD_BUS_PROPERTY("Counters", "a{st}", property_get_counters, 0, 0),

        /* The VM registry (bus-vm.c). */
        SD_BUS_METHOD_WITH_NAMES("ListVMs", "", , "a(" SERROR_BUS_VM_SIGNATURE ")", SD_BUS_PARAM(vms), bus_vm_method_list,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("DetachVM", "s", SD_BUS_PARAM(vm), "", , bus_vm_method_detach,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("VMAttached", "ssu", SD_BUS_PARAM(name) SD_BUS_PARAM(uuid) SD_BUS_PARAM(pid), 0),
        SD_BUS_SIGNAL_WITH_NAMES("VMDetached", "sss", SD_BUS_PARAM(name) SD_BUS_PARAM(uuid) SD_BUS_PARAM(reason), 0),

        /* Injection (bus-inject.c). */
        SD_BUS_METHOD_WITH_NAMES("Inject", "ssssttt",
                                 SD_BUS_PARAM(vm) SD_BUS_PARAM(vcpus) SD_BUS_PARAM(syndrome) SD_BUS_PARAM(on_pending)
                                         SD_BUS_PARAM(timeout_usec) SD_BUS_PARAM(flags)
                                                 SD_BUS_PARAM(reaction_window_usec),
                                 "ata(" SERROR_BUS_INJECTION_RECORD_SIGNATURE ")", SD_BUS_PARAM(ids) SD_BUS_PARAM(outcomes),
                                 bus_inject_method_inject, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetHistory", "s", SD_BUS_PARAM(vm), "a(" SERROR_BUS_INJECTION_RECORD_SIGNATURE ")",
                                 SD_BUS_PARAM(records), bus_inject_method_get_history, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Subscribe", "", "", bus_inject_method_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Unsubscribe", "", "", bus_inject_method_unsubscribe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("InjectionDone", "(" SERROR_BUS_INJECTION_RECORD_SIGNATURE ")", SD_BUS_PARAM(record), 0),
        SD_BUS_SIGNAL_WITH_NAMES("ReactionDone", "(" SERROR_BUS_INJECTION_RECORD_SIGNATURE ")", SD_BUS_PARAM(record), 0),

        /* Policies (bus-policy.c). */
        SD_BUS_METHOD_WITH_NAMES("LoadPolicy", "ssb", SD_BUS_PARAM(text) SD_BUS_PARAM(source) SD_BUS_PARAM(start), "st",
                                 SD_BUS_PARAM(name) SD_BUS_PARAM(seed), bus_policy_method_load,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("StartPolicy", "s", SD_BUS_PARAM(name), "t", SD_BUS_PARAM(seed),
                                 bus_policy_method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("StopPolicy", "s", SD_BUS_PARAM(name), "", , bus_policy_method_stop,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("UnloadPolicy", "s", SD_BUS_PARAM(name), "", , bus_policy_method_unload,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListPolicies", "", , "a(" SERROR_BUS_POLICY_SUMMARY_SIGNATURE ")", SD_BUS_PARAM(policies),
                                 bus_policy_method_list, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetPolicy", "s", SD_BUS_PARAM(name), "(" SERROR_BUS_POLICY_SUMMARY_SIGNATURE ")s",
                                 SD_BUS_PARAM(summary) SD_BUS_PARAM(text), bus_policy_method_get,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reload", "", "", bus_policy_method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("StopAll", "", , "ua(sutt)", SD_BUS_PARAM(stopped) SD_BUS_PARAM(pending),
                                 bus_policy_method_stop_all, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("PolicyChanged", "ss", SD_BUS_PARAM(name) SD_BUS_PARAM(state), 0),
        SD_BUS_VTABLE_END,
};

/* The sender's uid and groups as the bus daemon took them from its socket when it connected
 * (SO_PEERCRED, SO_PEERGROUPS). The D-Bus specification has UnixGroupIDs hold the primary group
 * as well as the supplementary ones. One round trip and nothing else: sd_bus_query_sender_creds()
 * with SD_BUS_CREDS_AUGMENT also parses /proc/PID/status, which cost an Inject call four times
 * what the round trip does. *ret_groups is NULL when the bus daemon does not report groups. */
static int bus_get_sender_ids(sd_bus_message *message, uid_t *ret_uid, uint32_t **ret_groups, size_t *ret_n_groups) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ uint32_t *groups = NULL;
        const char *sender = sd_bus_message_get_sender(message);
        bool have_uid = false;
        uint32_t uid = 0;
        size_t n_groups = 0;
        int r;

        if (!sender)
                return -ENXIO;
        r = sd_bus_call_method(sd_bus_message_get_bus(message), "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetConnectionCredentials", NULL, &reply, "s", sender);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key;

                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "UnixUserID")) {
                        r = sd_bus_message_read(reply, "v", "u", &uid);
                        if (r < 0)
                                return r;
                        have_uid = true;
                } else if (streq(key, "UnixGroupIDs")) {
                        const void *array;
                        size_t size;

                        r = sd_bus_message_enter_container(reply, 'v', "au");
                        if (r < 0)
                                return r;
                        r = sd_bus_message_read_array(reply, 'u', &array, &size);
                        if (r < 0)
                                return r;
                        r = sd_bus_message_exit_container(reply);
                        if (r < 0)
                                return r;
                        free(groups);
                        groups = NULL;
                        n_groups = size / sizeof(uint32_t);
                        if (n_groups > 0) {
                                groups = malloc(n_groups * sizeof(uint32_t));
                                if (!groups)
                                        return -ENOMEM;
                                memcpy(groups, array, n_groups * sizeof(uint32_t));
                        }
                } else {
                        r = sd_bus_message_skip(reply, "v");
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (!have_uid)
                return -ENODATA;
        *ret_uid = uid;
        *ret_groups = TAKE_PTR(groups);
        *ret_n_groups = n_groups;
        return 0;
}

int bus_check_control_access(Manager *m, sd_bus_message *message, sd_bus_error *error) {
        _cleanup_free_ uint32_t *groups = NULL;
        size_t n_groups = 0;
        uid_t uid;
        int r;

        static_assert(sizeof(gid_t) == sizeof(uint32_t), "D-Bus group ids are 32-bit");
        r = bus_get_sender_ids(message, &uid, &groups, &n_groups);
        if (r < 0)
                return r;
        if (!access_list_allows(&m->control_access, uid, (gid_t) -1, (const gid_t *) groups, n_groups))
                return sd_bus_error_setf(error, SERROR_BUS_ERROR_ACCESS_DENIED,
                                         "uid %u may not call %s: root or a member of [Control] AllowGroups= only.",
                                         (unsigned) uid, sd_bus_message_get_member(message));
        return 0;
}

int bus_manager_add(Manager *m) {
        int r;

        r = sd_bus_add_object_vtable(m->bus, &m->manager_slot, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE,
                                     manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to export %s on the bus: %m", SERROR_BUS_PATH);
        return 0;
}
