/* Guest physical memory map and mailbox layout shared by the test VMM and its guests. */
#pragma once

/*
 * Only #defines: this header is included by the guest assembly too.
 *
 * Each vcpu owns one mailbox of MAILBOX_STRIDE bytes at MAILBOX_BASE +
 * index * MAILBOX_STRIDE. The VMM writes MB_MASK and MB_HEARTBEAT; the guest
 * writes MB_ACK (the mask state it has applied) and MB_LOOPS (a counter of its
 * main loop, so a test can see the vcpu making progress without exits).
 *
 * The arm64 guest resets itself (PSCI SYSTEM_RESET) after an SError of a
 * class MB_RESET_ON names, as a kernel that panics with panic=-1 would.
 *
 * The x86 guest reports a machine check it took in the MB_MC_* words, then
 * exits through PORT_MCE. There "masked" means the guest's #MC handler leaves
 * MCG_STATUS.MCIP set, as a handler still at work would; unmasking clears it.
 */
#define MB_MASK        0   /* u32, VMM -> guest: 1 = SErrors masked, 0 = unmasked */
#define MB_ACK         4   /* u32, guest -> VMM: last MB_MASK value applied */
#define MB_HEARTBEAT   8   /* u64, VMM -> guest: loops between heartbeat exits, 0 = never */
#define MB_LOOPS      16   /* u64, guest -> VMM: main loop iterations so far */
#define MB_MC_STATUS  24   /* u64, guest -> VMM: MCi_STATUS of the bank that reported */
#define MB_MC_ADDR    32   /* u64: its MCi_ADDR */
#define MB_MC_MISC    40   /* u64: its MCi_MISC */
#define MB_MCG_STATUS 48   /* u64: MCG_STATUS as the handler found it */
#define MB_MC_BANK    56   /* u32: the bank */
#define MB_RESET_ON   60   /* u32, VMM -> arm64 guest: bit n set = an SError with AET n (IDS 0)
                                 * makes the guest ask PSCI for SYSTEM_RESET once it has reported it */
#define MAILBOX_STRIDE 64
#define MB_ACK_NONE    0xffffffff  /* MB_ACK before the guest has applied anything */

#define GUEST_MAX_VCPUS 64
#define GUEST_STACK_SIZE 0x1000

#if defined(__x86_64__)

/* One slot at 0; the guest runs in long mode on identity-mapped 2 MiB pages. */
#define RAM_BASE        0x0
#define RAM_SIZE        0x200000
#define GDT_ADDR        0x0500
#define IDT_ADDR        0x0600     /* vectors 0 to 18 (#MC) */
#define IDT_VECTORS     19
#define PML4_ADDR       0x1000
#define PDPT_ADDR       0x2000
#define PD_ADDR         0x3000
#define MAILBOX_BASE    0x4000
#define GUEST_CODE_ADDR 0x10000
#define STACK_BASE      0x100000   /* vcpu i's stack top: STACK_BASE + (i + 1) * GUEST_STACK_SIZE */

/* The x86 guest exits through port I/O: a 32-bit OUT carries the value. */
#define PORT_HEARTBEAT  0x0510
#define PORT_MCE        0x0514     /* the #MC handler filled MB_MC_*; the value is the bank */

/* Machine-check MSRs (Intel SDM vol. 3B, chapter 16). */
#define MSR_MCG_CAP     0x179
#define MSR_MCG_STATUS  0x17a
#define MSR_MC0_STATUS  0x401      /* MCi_STATUS = 0x401 + 4 i, ADDR + 1, MISC + 2 */

#elif defined(__aarch64__)

/* RAM at 1 GiB; everything below is unmapped, so guest stores there exit as MMIO. */
#define RAM_BASE        0x40000000
#define RAM_SIZE        0x200000
#define GUEST_CODE_ADDR RAM_BASE
#define MAILBOX_BASE    (RAM_BASE + 0x100000)
#define STACK_BASE      (RAM_BASE + 0x180000)

/* 64-bit stores to these addresses report to the VMM (KVM_EXIT_MMIO). */
#define MMIO_BASE        0x10000000
#define MMIO_SERROR_ESR  (MMIO_BASE + 0x00)  /* ESR_EL1 of an SError the guest took */
#define MMIO_HEARTBEAT   (MMIO_BASE + 0x08)  /* loop counter, every MB_HEARTBEAT loops */
#define MMIO_FAULT_ESR   (MMIO_BASE + 0x10)  /* unexpected exception: ESR_EL1 ... */
#define MMIO_FAULT_ELR   (MMIO_BASE + 0x18)  /* ... ELR_EL1 ... */
#define MMIO_FAULT_FAR   (MMIO_BASE + 0x20)  /* ... FAR_EL1 ... */
#define MMIO_FAULT_VEC   (MMIO_BASE + 0x28)  /* ... and last the vector offset: the vcpu stops */
#define MMIO_SIZE        0x1000

/* PSCI 0.2 function id (Arm DEN 0022), called with HVC #0. */
#define PSCI_SYSTEM_RESET 0x84000009

#endif
