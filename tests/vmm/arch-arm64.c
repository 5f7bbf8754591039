/* arm64 part of the test VMM: vcpu set-up, the guest's MMIO reports, and the SError self-test. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmm.h"

const char arch_name[] = "arm64";

#define ARM64_CORE_REG(x) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(x))

/* Guest fault details arrive in several MMIO writes before the vector; keep them per vcpu. */
static uint64_t fault_esr[VMM_MAX_VCPUS], fault_elr[VMM_MAX_VCPUS], fault_far[VMM_MAX_VCPUS];

int arch_vm_init(struct vm *vm) {
        /* Per DOMAIN.md section 1: without it, serror_has_esr = 1 gives EINVAL. */
        vm->can_inject_serror = vmm_ioctl(vm->vm_fd, KVM_CHECK_EXTENSION,
                                          (void *) (uintptr_t) KVM_CAP_ARM_INJECT_SERROR_ESR) > 0;
        return 0;
}

static int set_reg(struct vcpu *v, uint64_t id, uint64_t value, const char *name) {
        struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t) &value };
        int r = vmm_ioctl(v->fd, KVM_SET_ONE_REG, &reg);

        if (r < 0)
                fprintf(stderr, "serror-test-vmm: vcpu %u: KVM_SET_ONE_REG %s: %s\n", v->index, name, strerror(-r));
        return r;
}

int arch_vcpu_init(struct vcpu *v) {
        struct kvm_vcpu_init init;
        int r;

        memset(&init, 0, sizeof init);
        r = vmm_ioctl(v->vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init);
        if (r < 0) {
                fprintf(stderr, "serror-test-vmm: KVM_ARM_PREFERRED_TARGET: %s\n", strerror(-r));
                return r;
        }
        /* Every vcpu starts powered on at the PC set below. PSCI 0.2 only
         * for --reset-on: the guest needs SYSTEM_RESET, which 0.1 lacks. */
        memset(init.features, 0, sizeof init.features);
        if (v->vm->arm64_reset_on)
                init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
        r = vmm_ioctl(v->fd, KVM_ARM_VCPU_INIT, &init);
        if (r < 0) {
                fprintf(stderr, "serror-test-vmm: vcpu %u: KVM_ARM_VCPU_INIT: %s\n", v->index, strerror(-r));
                return r;
        }

        r = set_reg(v, ARM64_CORE_REG(regs.pc), GUEST_CODE_ADDR, "pc");
        if (r < 0)
                return r;
        /* EL1h with D, A, I and F masked: the guest unmasks A itself when told. */
        r = set_reg(v, ARM64_CORE_REG(regs.pstate),
                    PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT, "pstate");
        if (r < 0)
                return r;
        return set_reg(v, ARM64_CORE_REG(regs.regs[0]), v->index, "x0");
}

static uint64_t mmio_value(const struct kvm_run *run) {
        uint64_t value = 0;

        memcpy(&value, run->mmio.data, run->mmio.len <= sizeof value ? run->mmio.len : sizeof value);
        return value;
}

static const char *system_event_name(uint32_t type) {
        switch (type) {
        case KVM_SYSTEM_EVENT_SHUTDOWN:
                return "shutdown";
        case KVM_SYSTEM_EVENT_RESET:
                return "reset";
        case KVM_SYSTEM_EVENT_CRASH:
                return "crash";
        default:
                return "other";
        }
}

int arch_handle_exit(struct vcpu *v) {
        struct kvm_run *run = v->run;
        uint64_t value;

        switch (run->exit_reason) {
        case KVM_EXIT_MMIO:
                if (!run->mmio.is_write) {
                        emit("{\"event\":\"vcpu-error\",\"vcpu\":%u,\"error\":\"unexpected MMIO read\","
                             "\"address\":\"0x%" PRIx64 "\"}", v->index, (uint64_t) run->mmio.phys_addr);
                        return -EIO;
                }
                value = mmio_value(run);
                switch (run->mmio.phys_addr) {
                case MMIO_SERROR_ESR:
                        atomic_fetch_add(&v->serrors, 1);
                        emit("{\"event\":\"serror\",\"vcpu\":%u,\"esr\":\"0x%08" PRIx64 "\"}", v->index, value);
                        return 0;
                case MMIO_HEARTBEAT:
                        atomic_fetch_add(&v->heartbeats, 1);
                        return 0;
                case MMIO_FAULT_ESR:
                        fault_esr[v->index] = value;
                        return 0;
                case MMIO_FAULT_ELR:
                        fault_elr[v->index] = value;
                        return 0;
                case MMIO_FAULT_FAR:
                        fault_far[v->index] = value;
                        return 0;
                case MMIO_FAULT_VEC:
                        emit("{\"event\":\"guest-fault\",\"vcpu\":%u,\"vector\":\"0x%03" PRIx64 "\","
                             "\"esr\":\"0x%08" PRIx64 "\",\"elr\":\"0x%" PRIx64 "\",\"far\":\"0x%" PRIx64 "\"}",
                             v->index, value, fault_esr[v->index], fault_elr[v->index], fault_far[v->index]);
                        return -EFAULT;
                default:
                        emit("{\"event\":\"vcpu-error\",\"vcpu\":%u,\"error\":\"unexpected MMIO write\","
                             "\"address\":\"0x%" PRIx64 "\",\"value\":\"0x%" PRIx64 "\"}",
                             v->index, (uint64_t) run->mmio.phys_addr, value);
                        return -EIO;
                }
        case KVM_EXIT_INTR:
                atomic_fetch_add(&v->eintr, 1);
                return 0;
        case KVM_EXIT_SYSTEM_EVENT:
                /* The guest asked PSCI to reset or power off: this VMM ends the VM instead. */
                emit("{\"event\":\"system-event\",\"vcpu\":%u,\"type\":\"%s\"}", v->index,
                     system_event_name(run->system_event.type));
                atomic_store(&v->vm->system_event, run->system_event.type ? run->system_event.type : UINT_MAX);
                return -ESHUTDOWN;
        case KVM_EXIT_FAIL_ENTRY:
                emit("{\"event\":\"vcpu-error\",\"vcpu\":%u,\"error\":\"entry failed\",\"reason\":\"0x%" PRIx64 "\"}",
                     v->index, (uint64_t) run->fail_entry.hardware_entry_failure_reason);
                return -EIO;
        case KVM_EXIT_INTERNAL_ERROR:
                emit("{\"event\":\"vcpu-error\",\"vcpu\":%u,\"error\":\"KVM internal error\",\"suberror\":%u}",
                     v->index, run->internal.suberror);
                return -EIO;
        default:
                emit("{\"event\":\"vcpu-error\",\"vcpu\":%u,\"error\":\"unexpected exit\",\"exit_reason\":%u}",
                     v->index, run->exit_reason);
                return -EIO;
        }
}

/*
 * The self-test of the injection path, on the vcpu's own thread between two
 * KVM_RUNs (DOMAIN.md section 5): read the pending state, make an SError with
 * the given ISS pending, read it back. It deliberately applies no
 * multiple-SError rule (section 3) and passes the ISS through unchecked, so
 * tests can see exactly what the kernel does, EINVAL included. The event
 * carries how long each ioctl took and the thread's CPU time for all three:
 * the floor that make bench compares libserror-agent and serrord against.
 */
void arch_self_inject(struct vcpu *v, uint64_t iss) {
        struct kvm_vcpu_events before, set, after;
        uint64_t cpu0, t0, t1, t2, t3, cpu1;
        int r;

        memset(&before, 0, sizeof before);
        cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        t0 = clock_ns(CLOCK_MONOTONIC);
        r = vmm_ioctl(v->fd, KVM_GET_VCPU_EVENTS, &before);
        t1 = clock_ns(CLOCK_MONOTONIC);
        if (r < 0) {
                emit("{\"event\":\"self-inject\",\"vcpu\":%u,\"iss\":\"0x%" PRIx64 "\",\"result\":\"%s\","
                     "\"failed\":\"KVM_GET_VCPU_EVENTS\"}", v->index, iss, errno_name(r));
                return;
        }

        memset(&set, 0, sizeof set);
        set.exception.serror_pending = 1;
        set.exception.serror_has_esr = 1;
        set.exception.serror_esr = iss;
        r = vmm_ioctl(v->fd, KVM_SET_VCPU_EVENTS, &set);
        t2 = clock_ns(CLOCK_MONOTONIC);
        if (r < 0) {
                emit("{\"event\":\"self-inject\",\"vcpu\":%u,\"iss\":\"0x%" PRIx64 "\",\"pending_before\":%u,"
                     "\"esr_before\":\"0x%" PRIx64 "\",\"result\":\"%s\",\"failed\":\"KVM_SET_VCPU_EVENTS\"}",
                     v->index, iss, before.exception.serror_pending,
                     (uint64_t) before.exception.serror_esr, errno_name(r));
                return;
        }

        memset(&after, 0, sizeof after);
        r = vmm_ioctl(v->fd, KVM_GET_VCPU_EVENTS, &after);
        t3 = clock_ns(CLOCK_MONOTONIC);
        cpu1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        if (r < 0) {
                emit("{\"event\":\"self-inject\",\"vcpu\":%u,\"iss\":\"0x%" PRIx64 "\",\"pending_before\":%u,"
                     "\"esr_before\":\"0x%" PRIx64 "\",\"result\":\"%s\",\"failed\":\"KVM_GET_VCPU_EVENTS\"}",
                     v->index, iss, before.exception.serror_pending,
                     (uint64_t) before.exception.serror_esr, errno_name(r));
                return;
        }

        /* Since Linux 6.17 an unmasked guest may already have taken it: pending_after 0. */
        emit("{\"event\":\"self-inject\",\"vcpu\":%u,\"iss\":\"0x%" PRIx64 "\",\"pending_before\":%u,"
             "\"esr_before\":\"0x%" PRIx64 "\",\"result\":\"ok\",\"pending_after\":%u,\"esr_after\":\"0x%" PRIx64 "\","
             "\"get_ns\":%" PRIu64 ",\"set_ns\":%" PRIu64 ",\"readback_ns\":%" PRIu64 ",\"cpu_ns\":%" PRIu64 "}",
             v->index, iss, before.exception.serror_pending, (uint64_t) before.exception.serror_esr,
             after.exception.serror_pending, (uint64_t) after.exception.serror_esr,
             t1 - t0, t2 - t1, t3 - t2, cpu1 - cpu0);
}
