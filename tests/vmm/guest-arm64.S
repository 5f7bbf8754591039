/* arm64 test guest: reports every SError it takes (ESR_EL1) by MMIO, resets on those it is told to, and obeys its mailbox. */

#include "guest-layout.h"

/*
 * Linked into the VMM's read-only data and copied to GUEST_CODE_ADDR; only
 * PC-relative references (adr, b, literal loads), so it runs where it is
 * copied. The VMM enters it at EL1h (SP_EL1) with DAIF masked and x0 = vcpu
 * index.
 *
 * Registers kept by the main loop: x19 mailbox, x20 MMIO_BASE, x21 loop
 * counter, x22 loops to the next heartbeat. Exception handlers save whatever
 * they use, since an SError can be taken between any two instructions.
 */

/* Stage 1: attribute 0 = Device-nGnRnE, attribute 1 = Normal write-back. */
#define MAIR_VALUE      0xff00
/* T0SZ = 25 (39-bit VA, walk starts at level 1), walks inner/outer WB,
 * inner shareable, 4 KiB granule, no TTBR1 walks (EPD1), 32-bit PA. */
#define TCR_VALUE       (25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23))
#define BLOCK           0x1
#define AF              (1 << 10)
#define SH_INNER        (3 << 8)
#define ATTR(n)         ((n) << 2)
#define XN              (3 << 53)       /* PXN | UXN */
#define SCTLR_M         (1 << 0)
#define SCTLR_C         (1 << 2)
#define SCTLR_I         (1 << 12)

        .section .rodata.serror_guest, "a"
        .balign 4096
        .globl serror_guest_start
        .globl serror_guest_end
serror_guest_start:
        adr     x1, vectors
        msr     vbar_el1, x1

        ldr     x2, =STACK_BASE
        add     x3, x0, #1
        lsl     x3, x3, #12                     /* GUEST_STACK_SIZE */
        add     x2, x2, x3
        mov     sp, x2

        ldr     x19, =MAILBOX_BASE
        add     x19, x19, x0, lsl #6            /* MAILBOX_STRIDE */
        ldr     x20, =MMIO_BASE

        /*
         * With the MMU off every data access is Device-nGnRnE, so the guest's
         * mailbox reads would bypass the caches the VMM writes through (unless
         * the host has FEAT_S2FWB). An identity map makes RAM Normal
         * write-back, coherent with the VMM's view, and keeps the MMIO window
         * Device so that stores there still exit.
         */
        ldr     x1, =MAIR_VALUE
        msr     mair_el1, x1
        ldr     x1, =TCR_VALUE
        msr     tcr_el1, x1
        adr     x1, level1_table
        msr     ttbr0_el1, x1
        isb
        tlbi    vmalle1
        dsb     nsh
        isb
        mrs     x1, sctlr_el1
        orr     x1, x1, #SCTLR_M
        orr     x1, x1, #SCTLR_C
        orr     x1, x1, #SCTLR_I
        msr     sctlr_el1, x1
        isb

        mov     x21, #0
        mov     x22, #1

loop:
        add     x21, x21, #1
        str     x21, [x19, #MB_LOOPS]
        ldr     w2, [x19, #MB_MASK]
        ldr     w3, [x19, #MB_ACK]
        cmp     w2, w3
        b.ne    apply
heartbeat:
        ldr     x4, [x19, #MB_HEARTBEAT]
        cbz     x4, loop
        subs    x22, x22, #1
        b.ne    loop
        mov     x22, x4
        /* A plain register-offset-free store: KVM needs a valid ISV to emulate MMIO. */
        str     x21, [x20, #(MMIO_HEARTBEAT - MMIO_BASE)]
        b       loop

/*
 * The isb makes the new PSTATE.A take effect before the acknowledgement, so
 * that an SError pending at unmask is taken (and reported) before the VMM
 * sees MB_ACK change.
 */
apply:
        cbz     w2, 1f
        msr     daifset, #4
        b       2f
1:      msr     daifclr, #4
2:      isb
        str     w2, [x19, #MB_ACK]
        b       heartbeat

/* An exception nobody expects: report ESR, ELR, FAR and the vector, then stop. */
fault:
        mrs     x1, esr_el1
        str     x1, [x20, #(MMIO_FAULT_ESR - MMIO_BASE)]
        mrs     x1, elr_el1
        str     x1, [x20, #(MMIO_FAULT_ELR - MMIO_BASE)]
        mrs     x1, far_el1
        str     x1, [x20, #(MMIO_FAULT_FAR - MMIO_BASE)]
        str     x0, [x20, #(MMIO_FAULT_VEC - MMIO_BASE)]
3:      wfi
        b       3b

        .ltorg

.macro unexpected offset
        .balign 0x80
        mov     x0, #\offset
        b       fault
.endm

/*
 * VBAR_EL1 needs 2 KiB alignment. The guest runs at EL1 on SP_EL1 (EL1h), so
 * its SErrors arrive at "current EL with SPx", offset 0x380; every other slot
 * is a fault.
 */
        .balign 2048
vectors:
        unexpected 0x000        /* current EL, SP_EL0: synchronous */
        unexpected 0x080        /* IRQ */
        unexpected 0x100        /* FIQ */
        unexpected 0x180        /* SError */
        unexpected 0x200        /* current EL, SP_ELx: synchronous */
        unexpected 0x280        /* IRQ */
        unexpected 0x300        /* FIQ */
        .balign 0x80            /* 0x380: SError, the one this guest expects */
        stp     x0, x1, [sp, #-16]!
        mrs     x0, esr_el1
        ldr     x1, =MMIO_SERROR_ESR
        str     x0, [x1]
        /* Reset if MB_RESET_ON names this AET (x19 is the mailbox: SErrors are
         * masked until the loop runs). An IDS syndrome has no AET. */
        tbnz    x0, #24, 4f
        ubfx    x0, x0, #10, #3
        ldr     w1, [x19, #MB_RESET_ON]
        lsr     w1, w1, w0
        tbz     w1, #0, 4f
        ldr     w0, =PSCI_SYSTEM_RESET
        hvc     #0
4:      ldp     x0, x1, [sp], #16
        eret
        .ltorg
        unexpected 0x400        /* lower EL, AArch64: synchronous */
        unexpected 0x480
        unexpected 0x500
        unexpected 0x580
        unexpected 0x600        /* lower EL, AArch32 */
        unexpected 0x680
        unexpected 0x700
        unexpected 0x780

/*
 * Level-1 translation table, 1 GiB blocks: [0, 1 GiB) Device and never
 * executable (the MMIO window), [1 GiB, 2 GiB) Normal memory (RAM_BASE).
 */
        .balign 4096
level1_table:
        .quad   0x00000000 | BLOCK | AF | ATTR(0) | XN
        .quad   RAM_BASE | BLOCK | AF | SH_INNER | ATTR(1)
        .fill   510, 8, 0

serror_guest_end:

        .section .note.GNU-stack, "", %progbits
