/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrorctl list and detach: the VMs attached to serrord. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus-api.h"
#include "cli.h"

typedef struct VcpuInfo {
        uint32_t index;
        uint32_t tid;
        int32_t kick_signal;
        uint64_t attach_usec;
} VcpuInfo;

typedef struct VmInfo {
        const char *name;
        const char *uuid;
        uint32_t pid;
        uint32_t uid;
        const char *arch;
        uint64_t attach_usec;
        char labels[512];
        struct json_object *labels_json;
        VcpuInfo *vcpus;
        unsigned n_vcpus;
} VmInfo;

/* "0-3,5,7-8": what a person wants to read for a vcpu set. */
static void format_ranges(const VcpuInfo *v, unsigned n, char *buf, size_t size) {
        size_t len = 0;

        buf[0] = '\0';
        for (unsigned i = 0; i < n && len < size; i++) {
                unsigned j = i;
                while (j + 1 < n && v[j + 1].index == v[j].index + 1)
                        j++;
                if (j == i)
                        len += (size_t) snprintf(buf + len, size - len, "%s%" PRIu32, len ? "," : "", v[i].index);
                else
                        len += (size_t) snprintf(buf + len, size - len, "%s%" PRIu32 "-%" PRIu32, len ? "," : "",
                                                 v[i].index, v[j].index);
                i = j;
        }
        if (n == 0)
                snprintf(buf, size, "-");
}

static int read_vm(sd_bus_message *reply, VmInfo *vm) {
        const char *key, *value;
        size_t len = 0;
        int r;

        r = sd_bus_message_enter_container(reply, 'r', SERROR_BUS_VM_SIGNATURE);
        if (r <= 0)
                return r;
        r = sd_bus_message_read(reply, "ssuust", &vm->name, &vm->uuid, &vm->pid, &vm->uid, &vm->arch,
                                &vm->attach_usec);
        if (r < 0)
                return r;
        vm->labels_json = json_object_new_object();
        r = sd_bus_message_enter_container(reply, 'a', "{ss}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "{ss}", &key, &value)) > 0) {
                json_object_object_add(vm->labels_json, key, json_object_new_string(value));
                if (len < sizeof(vm->labels))
                        len += (size_t) snprintf(vm->labels + len, sizeof(vm->labels) - len, "%s%s=%s", len ? "," : "",
                                                 key, value);
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(uuit)");
        if (r < 0)
                return r;
        for (;;) {
                VcpuInfo v, *grown;
                r = sd_bus_message_read(reply, "(uuit)", &v.index, &v.tid, &v.kick_signal, &v.attach_usec);
                if (r <= 0)
                        break;
                grown = reallocarray(vm->vcpus, vm->n_vcpus + 1, sizeof(VcpuInfo));
                if (!grown)
                        return -ENOMEM;
                vm->vcpus = grown;
                vm->vcpus[vm->n_vcpus++] = v;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        return r < 0 ? r : 1;
}

static struct json_object *vm_to_json(VmInfo *vm) {
        struct json_object *o = json_object_new_object(), *vcpus = json_object_new_array();

        json_object_object_add(o, "name", json_object_new_string(vm->name));
        json_object_object_add(o, "uuid", isempty(vm->uuid) ? NULL : json_object_new_string(vm->uuid));
        json_object_object_add(o, "pid", json_object_new_int64(vm->pid));
        json_object_object_add(o, "uid", json_object_new_int64(vm->uid));
        json_object_object_add(o, "arch", json_object_new_string(vm->arch));
        json_object_object_add(o, "state", json_object_new_string("attached"));
        json_object_object_add(o, "attach_timestamp_usec", json_object_new_uint64(vm->attach_usec));
        json_object_object_add(o, "labels", json_object_get(vm->labels_json));
        for (unsigned i = 0; i < vm->n_vcpus; i++) {
                struct json_object *v = json_object_new_object();
                json_object_object_add(v, "index", json_object_new_int64(vm->vcpus[i].index));
                json_object_object_add(v, "tid", json_object_new_int64(vm->vcpus[i].tid));
                json_object_object_add(v, "kick_signal", json_object_new_int(vm->vcpus[i].kick_signal));
                json_object_object_add(v, "state", json_object_new_string("attached"));
                json_object_object_add(v, "attach_timestamp_usec", json_object_new_uint64(vm->vcpus[i].attach_usec));
                json_object_array_add(vcpus, v);
        }
        json_object_object_add(o, "vcpus", vcpus);
        return o;
}

static void print_table(VmInfo *vms, unsigned n) {
        unsigned total_vcpus = 0;
        int w_name = 4;

        for (unsigned i = 0; i < n; i++)
                if ((int) strlen(vms[i].name) > w_name)
                        w_name = (int) strlen(vms[i].name);
        if (arg_legend)
                printf("%-*s %-36s %7s %-7s %-12s %-8s %s\n", w_name, "NAME", "UUID", "PID", "ARCH", "VCPUS", "SINCE",
                       "LABELS");
        for (unsigned i = 0; i < n; i++) {
                char ranges[128], since[16];
                time_t t = (time_t) (vms[i].attach_usec / 1000000u);
                struct tm tm;

                format_ranges(vms[i].vcpus, vms[i].n_vcpus, ranges, sizeof(ranges));
                if (!localtime_r(&t, &tm) || strftime(since, sizeof(since), "%H:%M:%S", &tm) == 0)
                        snprintf(since, sizeof(since), "-");
                printf("%-*s %-36s %7" PRIu32 " %-7s %-12s %-8s %s\n", w_name, vms[i].name,
                       isempty(vms[i].uuid) ? "-" : vms[i].uuid, vms[i].pid, vms[i].arch, ranges, since,
                       vms[i].labels[0] ? vms[i].labels : "-");
                total_vcpus += vms[i].n_vcpus;
        }
        if (arg_legend)
                printf("\n%u VM%s, %u vcpu%s attached.\n", n, n == 1 ? "" : "s", total_vcpus, total_vcpus == 1 ? "" : "s");
}

int verb_list(int argc, char *argv[]) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_bus *bus = NULL;
        VmInfo *vms = NULL;
        unsigned n = 0;
        int r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, SERROR_BUS_NAME, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE, "ListVMs", &error,
                               &reply, NULL);
        if (r < 0) {
                r = cli_bus_call_failed("Failed to list VMs", &error, r);
                goto out;
        }
        r = sd_bus_message_enter_container(reply, 'a', "(" SERROR_BUS_VM_SIGNATURE ")");
        while (r >= 0) {
                VmInfo *grown = reallocarray(vms, n + 1, sizeof(VmInfo));
                if (!grown) {
                        r = -ENOMEM;
                        break;
                }
                vms = grown;
                vms[n] = (VmInfo) {};
                r = read_vm(reply, &vms[n]);
                if (r <= 0)
                        break;
                n++;
        }
        if (r < 0) {
                r = log_error_errno(r, "Failed to parse the VM list: %m");
                goto out;
        }

        if (arg_json != JSON_OFF) {
                _cleanup_json_ struct json_object *array = json_object_new_array();
                for (unsigned i = 0; i < n; i++)
                        json_object_array_add(array, vm_to_json(&vms[i]));
                json_print(array);
        } else
                print_table(vms, n);
        r = 0;
out:
        if (vms) {
                for (unsigned i = 0; i <= n; i++) {
                        json_object_put(vms[i].labels_json);
                        free(vms[i].vcpus);
                }
                free(vms);
        }
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
        sd_bus_flush_close_unref(bus);
        return r;
}

int verb_detach(int argc, char *argv[]) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus = NULL;
        int r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, SERROR_BUS_NAME, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE, "DetachVM", &error,
                               NULL, "s", argv[1]);
        if (r < 0) {
                /* A pointer to the list says more here than serrord's sentence. */
                if (sd_bus_error_has_name(&error, SERROR_BUS_ERROR_NO_SUCH_VM)) {
                        fprintf(stderr, "serrorctl: no VM '%s' is attached (see serrorctl list).\n", argv[1]);
                        r = -sd_bus_error_get_errno(&error);
                } else
                        r = cli_bus_call_failed("Failed to detach the VM", &error, r);
        } else
                r = 0;
        sd_bus_error_free(&error);
        sd_bus_flush_close_unref(bus);
        return r;
}
