/* x86_64 test guest: a long-mode loop that obeys its mailbox and sends heartbeats by port I/O. */

#include "guest-layout.h"

/*
 * Linked into the VMM's read-only data and copied to GUEST_CODE_ADDR; it uses
 * only relative branches, so it runs wherever it is copied. The VMM enters it
 * in 64-bit mode with paging on, %rdi = vcpu index and %rsp set.
 *
 * There is no IDT: any exception ends in a triple fault, which the VMM sees as
 * KVM_EXIT_SHUTDOWN and reports.
 */
        .section .rodata.serror_guest, "a"
        .balign 4096
        .globl serror_guest_start
        .globl serror_guest_end
        .code64
serror_guest_start:
        mov     %rdi, %rbx
        shl     $6, %rbx                        /* MAILBOX_STRIDE */
        add     $MAILBOX_BASE, %rbx             /* %rbx: this vcpu's mailbox */
        xor     %r12, %r12                      /* %r12: loop counter */
        mov     $1, %r13                        /* %r13: loops to the next heartbeat */

loop:
        inc     %r12
        mov     %r12, MB_LOOPS(%rbx)
        mov     MB_MASK(%rbx), %eax
        cmp     MB_ACK(%rbx), %eax
        jne     apply
heartbeat:
        mov     MB_HEARTBEAT(%rbx), %rcx
        test    %rcx, %rcx
        jz      loop
        dec     %r13
        jnz     loop
        mov     %rcx, %r13
        mov     $PORT_HEARTBEAT, %dx
        mov     %r12d, %eax
        outl    %eax, %dx
        jmp     loop

/* x86 has no SError: the mask word is acknowledged so that the commands behave alike. */
apply:
        mov     %eax, MB_ACK(%rbx)
        jmp     heartbeat

serror_guest_end:

        .section .note.GNU-stack, "", @progbits
