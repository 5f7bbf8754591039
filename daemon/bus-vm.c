/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attached VMs on the bus: listing, detaching, and attach/detach signals. */
#include <errno.h>

#include "bus-util.h"
#include "bus-manager.h"
#include "bus-api.h"
#include "bus-vm.h"
#include "log.h"
#include "manager.h"
#include "vm.h"

void bus_manager_emit_attached_changed(Manager *m) {
        if (!m->bus)
                return;
        (void) sd_bus_emit_properties_changed(m->bus, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE, "AttachedVMs",
                                              "AttachedVcpus", NULL);
}

void bus_vm_emit_attached(Manager *m, const VM *vm) {
        char uuid[37];

        if (!m->bus)
                return;
        vm_uuid_string(vm, uuid);
        (void) sd_bus_emit_signal(m->bus, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE, "VMAttached", "ssu", vm->name,
                                  uuid, (uint32_t) vm->pid);
        bus_manager_emit_attached_changed(m);
}

void bus_vm_emit_detached(Manager *m, const VM *vm, const char *reason) {
        char uuid[37];

        if (!m->bus)
                return;
        vm_uuid_string(vm, uuid);
        (void) sd_bus_emit_signal(m->bus, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE, "VMDetached", "sss", vm->name,
                                  uuid, reason ?: "");
        bus_manager_emit_attached_changed(m);
}

static int append_vm(sd_bus_message *reply, const VM *vm) {
        char uuid[37];
        int r;

        vm_uuid_string(vm, uuid);
        r = sd_bus_message_open_container(reply, 'r', SERROR_BUS_VM_SIGNATURE);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "ssuust", vm->name, uuid, (uint32_t) vm->pid, (uint32_t) vm->uid,
                                  attach_arch_to_string(vm->arch) ?: "", vm->attach_usec);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{ss}");
        if (r < 0)
                return r;
        for (unsigned i = 0; i < vm->n_labels; i++) {
                r = sd_bus_message_append(reply, "{ss}", vm->labels[i].key, vm->labels[i].value);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(uuit)");
        if (r < 0)
                return r;
        for (unsigned i = 0; i < vm->n_vcpus; i++) {
                const Vcpu *v = &vm->vcpus[i];
                r = sd_bus_message_append(reply, "(uuit)", v->index, (uint32_t) v->tid, (int32_t) v->kick_signal,
                                          v->attach_usec);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int fill_vms(sd_bus_message *reply, const void *userdata) {
        const Manager *m = userdata;
        int r;

        for (const VM *vm = m->vms; vm; vm = vm->next) {
                r = append_vm(reply, vm);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bus_vm_method_list(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return bus_reply_with_array(message, "(" SERROR_BUS_VM_SIGNATURE ")", fill_vms, userdata);
}

int bus_vm_method_detach(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *target;
        OpError err = {};
        int r;

        r = sd_bus_message_read(message, "s", &target);
        if (r < 0)
                return r;
        r = bus_check_control_access(m, message, error);
        if (r < 0)
                return r;
        r = manager_detach_vm(m, target, &err);
        if (r < 0)
                return bus_reply_op_error(error, &err, r);
        return sd_bus_reply_method_return(message, NULL);
}
