/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM registry: VMs attached over the attach socket and the vcpu fds they passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock-util.h"
#include "list.h"
#include "injection.h"
#include "log.h"
#include "manager.h"
#include "reaction-watch.h"
#include "vm.h"

int vm_new(Manager *m, Connection *c, const AttachHello *hello, pid_t pid, uid_t uid, VM **ret) {
        VM *vm;

        vm = calloc(1, sizeof(*vm));
        if (!vm)
                return -ENOMEM;
        if (hello->n_labels > 0) {
                vm->labels = calloc(hello->n_labels, sizeof(AttachLabel));
                if (!vm->labels) {
                        free(vm);
                        return -ENOMEM;
                }
                memcpy(vm->labels, hello->labels, hello->n_labels * sizeof(AttachLabel));
                vm->n_labels = hello->n_labels;
        }
        vm->manager = m;
        vm->connection = c;
        memcpy(vm->name, hello->name, sizeof(vm->name));
        vm->has_uuid = hello->has_uuid;
        memcpy(vm->uuid, hello->uuid, sizeof(vm->uuid));
        vm->pid = pid;
        vm->uid = uid;
        vm->arch = hello->arch;
        vm->capabilities = hello->capabilities;
        vm->attach_usec = now_usec(CLOCK_REALTIME);

        LIST_PREPEND(m->vms, vm);
        m->n_vms++;
        manager_vm_attached(m, vm);
        *ret = vm;
        return 0;
}

VM *vm_free(VM *vm, const char *reason) {
        Manager *m;

        if (!vm)
                return NULL;
        m = vm->manager;
        injection_fail_all_for_vm(m, vm);
        reaction_watch_vm_gone(m, vm, vm->vmm_exited);
        /* Holding a vcpu fd keeps the whole VM alive in the kernel (DOMAIN.md 5):
         * close them before anything else can fail. */
        for (unsigned i = 0; i < vm->n_vcpus; i++)
                safe_close(vm->vcpus[i].fd);
        m->n_vcpus -= vm->n_vcpus;
        vm->n_vcpus = 0;

        LIST_REMOVE(m->vms, vm);
        m->n_vms--;

        manager_vm_detached(m, vm, reason);
        free(vm->vcpus);
        free(vm->labels);
        free(vm);
        return NULL;
}

static unsigned vm_vcpu_position(const VM *vm, uint32_t index) {
        unsigned lo = 0, hi = vm->n_vcpus;

        while (lo < hi) {
                unsigned mid = lo + (hi - lo) / 2;
                if (vm->vcpus[mid].index < index)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

Vcpu *vm_find_vcpu(VM *vm, uint32_t index) {
        unsigned pos = vm_vcpu_position(vm, index);

        return pos < vm->n_vcpus && vm->vcpus[pos].index == index ? &vm->vcpus[pos] : NULL;
}

int vm_add_vcpu(VM *vm, uint32_t index, pid_t tid, int kick_signal, int fd) {
        unsigned pos = vm_vcpu_position(vm, index);

        if (pos < vm->n_vcpus && vm->vcpus[pos].index == index)
                return -EEXIST;
        if (vm->n_vcpus == vm->n_allocated) {
                unsigned n = vm->n_allocated ? vm->n_allocated * 2 : 4;
                Vcpu *v = reallocarray(vm->vcpus, n, sizeof(Vcpu));
                if (!v)
                        return -ENOMEM;
                vm->vcpus = v;
                vm->n_allocated = n;
        }
        memmove(vm->vcpus + pos + 1, vm->vcpus + pos, (vm->n_vcpus - pos) * sizeof(Vcpu));
        vm->vcpus[pos] = (Vcpu) {
                .index = index,
                .tid = tid,
                .kick_signal = kick_signal,
                .fd = fd,
                .attach_usec = now_usec(CLOCK_REALTIME),
        };
        vm->n_vcpus++;
        vm->manager->n_vcpus++;
        manager_vcpus_changed(vm->manager);
        return 0;
}

int vm_remove_vcpu(VM *vm, uint32_t index) {
        unsigned pos = vm_vcpu_position(vm, index);

        if (pos >= vm->n_vcpus || vm->vcpus[pos].index != index)
                return -ENOENT;
        safe_close(vm->vcpus[pos].fd);
        memmove(vm->vcpus + pos, vm->vcpus + pos + 1, (vm->n_vcpus - pos - 1) * sizeof(Vcpu));
        vm->n_vcpus--;
        vm->manager->n_vcpus--;
        manager_vcpus_changed(vm->manager);
        return 0;
}

void vm_uuid_string(const VM *vm, char buf[static 37]) {
        const uint8_t *u = vm->uuid;

        if (!vm->has_uuid) {
                buf[0] = '\0';
                return;
        }
        snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
                 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}
