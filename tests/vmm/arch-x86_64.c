/* x86_64 part of the test VMM: a long-mode guest set up directly through KVM_SET_SREGS. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm.h"

const char arch_name[] = "x86_64";

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_PS  (1ull << 7)

#define CR0_PE  (1ull << 0)
#define CR0_MP  (1ull << 1)
#define CR0_ET  (1ull << 4)
#define CR0_NE  (1ull << 5)
#define CR0_WP  (1ull << 16)
#define CR0_PG  (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_MCE (1ull << 6)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define SEL_CODE 0x08
#define SEL_DATA 0x10

#define MC_VECTOR 18

/* MCG_CAP as QEMU sets it by default: 10 banks, MCG_CTL_P, MCG_SER_P. */
#define MCG_CTL_P (1ull << 8)
#define MCG_SER_P (1ull << 24)
#define VMM_MCE_BANKS 10
/* MCi_STATUS.UC and the MCG_STATUS bits of a machine check in progress. */
#define MCI_STATUS_UC (1ull << 61)
/* PCC, S, AR: any of them makes an uncorrected error something other than a UCNA. */
#define MCI_STATUS_UCR_BITS ((1ull << 57) | (1ull << 56) | (1ull << 55))
#define MCG_STATUS_RIPV (1ull << 0)
#define MCG_STATUS_EIPV (1ull << 1)
#define MCG_STATUS_MCIP (1ull << 2)

static void put64(struct vm *vm, uint64_t gpa, uint64_t value) {
        memcpy(guest_ptr(vm, gpa), &value, sizeof value);
}

/*
 * The guest starts directly in long mode: no real-mode or 32-bit trampoline,
 * because this machine's PVM-flavoured KVM emulates guests and fails the
 * 32-bit protected-mode IRET path (DOMAIN.md section 8). The first GiB is
 * identity-mapped with 2 MiB pages; only RAM_SIZE of it is backed.
 */
int arch_vm_init(struct vm *vm) {
        put64(vm, PML4_ADDR, PDPT_ADDR | PTE_P | PTE_RW);
        put64(vm, PDPT_ADDR, PD_ADDR | PTE_P | PTE_RW);
        for (uint64_t i = 0; i < 512; i++)
                put64(vm, PD_ADDR + i * 8, (i << 21) | PTE_P | PTE_RW | PTE_PS);

        /* A GDT matching the segment registers, for anything that reloads them. */
        put64(vm, GDT_ADDR + 0x00, 0);
        put64(vm, GDT_ADDR + SEL_CODE, 0x00af9a000000ffffull);   /* 64-bit code, DPL 0 */
        put64(vm, GDT_ADDR + SEL_DATA, 0x00cf92000000ffffull);   /* data, DPL 0 */

        /* One gate, #MC: a 64-bit interrupt gate (type 0xE, present, DPL 0) to
         * the guest's handler; the others stay not present (a triple fault). */
        uint64_t handler = GUEST_CODE_ADDR + (uint64_t) (serror_guest_mc_handler - serror_guest_start);
        put64(vm, IDT_ADDR + MC_VECTOR * 16,
              (handler & 0xffff) | ((uint64_t) SEL_CODE << 16) | (0x8eull << 40) | (((handler >> 16) & 0xffff) << 48));
        put64(vm, IDT_ADDR + MC_VECTOR * 16 + 8, handler >> 32);
        vm->can_inject_serror = false;
        return 0;
}

/* What QEMU does for each vcpu: KVM_X86_SETUP_MCE with its default MCG_CAP. */
static int setup_mce(struct vcpu *v) {
        uint64_t supported = 0, mcg_cap;
        int r;

        r = vmm_ioctl(v->vm->kvm_fd, KVM_X86_GET_MCE_CAP_SUPPORTED, &supported);
        if (r < 0) {
                fprintf(stderr, "serror-test-vmm: KVM_X86_GET_MCE_CAP_SUPPORTED: %s\n", strerror(-r));
                return r;
        }
        mcg_cap = VMM_MCE_BANKS | (supported & (MCG_CTL_P | MCG_SER_P));
        r = vmm_ioctl(v->fd, KVM_X86_SETUP_MCE, &mcg_cap);
        if (r < 0)
                fprintf(stderr, "serror-test-vmm: vcpu %u: KVM_X86_SETUP_MCE: %s\n", v->index, strerror(-r));
        return r;
}

static int set_cpuid(struct vcpu *v) {
        struct kvm_cpuid2 *cpuid;
        int nent = 128, r;

        for (;;) {
                cpuid = calloc(1, sizeof *cpuid + (size_t) nent * sizeof cpuid->entries[0]);
                if (!cpuid)
                        return -ENOMEM;
                cpuid->nent = (uint32_t) nent;
                r = vmm_ioctl(v->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid);
                if (r != -E2BIG)
                        break;
                free(cpuid);
                nent *= 2;
        }
        if (r >= 0)
                r = vmm_ioctl(v->fd, KVM_SET_CPUID2, cpuid);
        free(cpuid);
        if (r < 0)
                fprintf(stderr, "serror-test-vmm: vcpu %u: CPUID set-up: %s\n", v->index, strerror(-r));
        return r;
}

int arch_vcpu_init(struct vcpu *v) {
        struct kvm_segment code = {
                .base = 0, .limit = 0xffffffff, .selector = SEL_CODE,
                .type = 11, .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
        };
        struct kvm_segment data = {
                .base = 0, .limit = 0xffffffff, .selector = SEL_DATA,
                .type = 3, .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
        };
        struct kvm_sregs sregs;
        struct kvm_regs regs;
        int r;

        r = set_cpuid(v);
        if (r < 0)
                return r;
        if (v->vm->x86_setup_mce) {
                r = setup_mce(v);
                if (r < 0)
                        return r;
        }

        r = vmm_ioctl(v->fd, KVM_GET_SREGS, &sregs);
        if (r < 0) {
                fprintf(stderr, "serror-test-vmm: vcpu %u: KVM_GET_SREGS: %s\n", v->index, strerror(-r));
                return r;
        }
        sregs.cs = code;
        sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
        sregs.gdt.base = GDT_ADDR;
        sregs.gdt.limit = 3 * 8 - 1;
        sregs.cr3 = PML4_ADDR;
        sregs.idt.base = IDT_ADDR;
        sregs.idt.limit = IDT_VECTORS * 16 - 1;
        sregs.cr4 = CR4_PAE | (v->vm->x86_cr4_mce ? CR4_MCE : 0);
        sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
        sregs.efer = EFER_LME | EFER_LMA;
        r = vmm_ioctl(v->fd, KVM_SET_SREGS, &sregs);
        if (r < 0) {
                fprintf(stderr, "serror-test-vmm: vcpu %u: KVM_SET_SREGS: %s\n", v->index, strerror(-r));
                return r;
        }

        memset(&regs, 0, sizeof regs);
        regs.rip = GUEST_CODE_ADDR;
        regs.rsp = STACK_BASE + ((uint64_t) v->index + 1) * GUEST_STACK_SIZE;
        regs.rdi = v->index;
        /* The #MC handler finds the mailbox in %rbx, even before the loop set it. */
        regs.rbx = MAILBOX_BASE + (uint64_t) v->index * MAILBOX_STRIDE;
        regs.rflags = 0x2;      /* bit 1 is reserved, always 1; interrupts off */
        r = vmm_ioctl(v->fd, KVM_SET_REGS, &regs);
        if (r < 0)
                fprintf(stderr, "serror-test-vmm: vcpu %u: KVM_SET_REGS: %s\n", v->index, strerror(-r));
        return r;
}

static uint64_t mailbox64(struct vcpu *v, unsigned offset) {
        return __atomic_load_n((uint64_t *) (vcpu_mailbox(v) + offset), __ATOMIC_ACQUIRE);
}

/* The guest's #MC handler filled the mailbox: what the guest read in the bank. */
static void report_mce(struct vcpu *v) {
        uint32_t bank = __atomic_load_n((uint32_t *) (vcpu_mailbox(v) + MB_MC_BANK), __ATOMIC_ACQUIRE);

        atomic_fetch_add(&v->serrors, 1);
        if (bank == UINT32_MAX) {
                emit("{\"event\":\"mce\",\"vcpu\":%u,\"bank\":null,\"mcg_status\":\"0x%" PRIx64 "\"}",
                     v->index, mailbox64(v, MB_MCG_STATUS));
                return;
        }
        emit("{\"event\":\"mce\",\"vcpu\":%u,\"bank\":%" PRIu32 ",\"status\":\"0x%016" PRIx64 "\","
             "\"addr\":\"0x%" PRIx64 "\",\"misc\":\"0x%" PRIx64 "\",\"mcg_status\":\"0x%" PRIx64 "\"}",
             v->index, bank, mailbox64(v, MB_MC_STATUS), mailbox64(v, MB_MC_ADDR), mailbox64(v, MB_MC_MISC),
             mailbox64(v, MB_MCG_STATUS));
}

int arch_handle_exit(struct vcpu *v) {
        struct kvm_run *run = v->run;

        switch (run->exit_reason) {
        case KVM_EXIT_IO:
                if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PORT_HEARTBEAT) {
                        atomic_fetch_add(&v->heartbeats, 1);
                        return 0;
                }
                if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PORT_MCE) {
                        report_mce(v);
                        return 0;
                }
                emit("{\"event\":\"vcpu-error\",\"vcpu\":%u,\"error\":\"unexpected port I/O\","
                     "\"port\":%u,\"direction\":\"%s\"}", v->index, run->io.port,
                     run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in");
                return -EIO;
        case KVM_EXIT_INTR:
                atomic_fetch_add(&v->eintr, 1);
                return 0;
        case KVM_EXIT_SHUTDOWN:
                emit("{\"event\":\"vcpu-error\",\"vcpu\":%u,\"error\":\"guest shut down (triple fault)\"}", v->index);
                return -EIO;
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
 * The x86 self-test: the vcpu's own thread writes bank 1 with KVM_X86_SET_MCE
 * between two KVM_RUNs, as QEMU's HMP "mce" does. iss is the MCi_STATUS; an
 * uncorrected one comes with RIPV|EIPV|MCIP (DOMAIN.md section 8's SRAR),
 * except one without PCC, S and AR, which goes with MCG_STATUS 0: a UCNA as
 * KVM (Linux 6.0 and later) tells one, so tests can see what KVM does with it.
 */
void arch_self_inject(struct vcpu *v, uint64_t iss) {
        struct kvm_x86_mce mce = {
                .status = iss,
                .bank = 1,
                .mcg_status = (iss & MCI_STATUS_UC) && (iss & MCI_STATUS_UCR_BITS)
                                      ? MCG_STATUS_RIPV | MCG_STATUS_EIPV | MCG_STATUS_MCIP
                                      : 0,
        };
        uint64_t t0, t1;
        int r;

        t0 = clock_ns(CLOCK_MONOTONIC);
        r = vmm_ioctl(v->fd, KVM_X86_SET_MCE, &mce);
        t1 = clock_ns(CLOCK_MONOTONIC);
        emit("{\"event\":\"self-inject\",\"vcpu\":%u,\"status\":\"0x%016" PRIx64 "\",\"bank\":1,"
             "\"mcg_status\":\"0x%" PRIx64 "\",\"result\":\"%s\",\"set_ns\":%" PRIu64 "}",
             v->index, iss, (uint64_t) mce.mcg_status, r < 0 ? errno_name(r) : "ok", t1 - t0);
}
