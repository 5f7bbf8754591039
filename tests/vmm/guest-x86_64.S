/* x86_64 test guest: a long-mode loop that obeys its mailbox, sends heartbeats by port I/O and reports the machine checks it takes. */

#include "guest-layout.h"

/*
 * Linked into the VMM's read-only data and copied to GUEST_CODE_ADDR; it uses
 * only relative branches, so it runs wherever it is copied. The VMM enters it
 * in 64-bit mode with paging on, %rdi = vcpu index and %rsp set, and points
 * IDT vector 18 at serror_guest_mc_handler. Every other exception ends in a
 * triple fault, which the VMM sees as KVM_EXIT_SHUTDOWN and reports; so does a
 * machine check while CR4.MCE is clear, or one that arrives while MCIP is set.
 */
        .section .rodata.serror_guest, "a"
        .balign 4096
        .globl serror_guest_start
        .globl serror_guest_end
        .globl serror_guest_mc_handler
        .code64
serror_guest_start:
        mov     %rdi, %rbx
        shl     $6, %rbx                        /* MAILBOX_STRIDE */
        add     $MAILBOX_BASE, %rbx             /* %rbx: this vcpu's mailbox, for the handler too */
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

/* Unmasking ends the machine check in progress: MCG_STATUS = 0 clears MCIP. */
apply:
        mov     %eax, MB_ACK(%rbx)
        test    %eax, %eax
        jnz     heartbeat
        mov     $MSR_MCG_STATUS, %ecx
        xor     %eax, %eax
        xor     %edx, %edx
        wrmsr
        jmp     heartbeat

/*
 * #MC: find the first bank whose MCi_STATUS has VAL, copy it, its ADDR and
 * MISC and MCG_STATUS to the mailbox, clear the bank, report through
 * PORT_MCE, and clear MCIP unless masked. It interrupts the loop above, so
 * %rbx holds the mailbox; every other register it uses is saved.
 */
serror_guest_mc_handler:
        push    %rax
        push    %rcx
        push    %rdx
        push    %rsi
        push    %rdi
        mov     $MSR_MCG_CAP, %ecx
        rdmsr
        movzbl  %al, %esi                       /* %esi: banks */
        xor     %edi, %edi                      /* %edi: bank */
1:
        cmp     %esi, %edi
        jae     4f                              /* no bank has VAL: report bank 0xffffffff */
        lea     MSR_MC0_STATUS(,%rdi,4), %ecx
        rdmsr
        bt      $31, %edx                       /* VAL, bit 63 */
        jc      2f
        inc     %edi
        jmp     1b
2:
        shl     $32, %rdx
        or      %rdx, %rax
        mov     %rax, MB_MC_STATUS(%rbx)
        inc     %ecx
        rdmsr
        shl     $32, %rdx
        or      %rdx, %rax
        mov     %rax, MB_MC_ADDR(%rbx)
        inc     %ecx
        rdmsr
        shl     $32, %rdx
        or      %rdx, %rax
        mov     %rax, MB_MC_MISC(%rbx)
        sub     $2, %ecx                        /* back to MCi_STATUS: clear the bank */
        xor     %eax, %eax
        xor     %edx, %edx
        wrmsr
        jmp     5f
4:
        mov     $0xffffffff, %edi
        movq    $0, MB_MC_STATUS(%rbx)
5:
        mov     $MSR_MCG_STATUS, %ecx
        rdmsr
        shl     $32, %rdx
        or      %rdx, %rax
        mov     %rax, MB_MCG_STATUS(%rbx)
        mov     %edi, MB_MC_BANK(%rbx)
        mov     $PORT_MCE, %dx
        mov     %edi, %eax
        outl    %eax, %dx
        /* A masked guest is still handling it: MCIP stays set. */
        cmpl    $0, MB_MASK(%rbx)
        jne     6f
        mov     $MSR_MCG_STATUS, %ecx
        xor     %eax, %eax
        xor     %edx, %edx
        wrmsr
6:
        pop     %rdi
        pop     %rsi
        pop     %rdx
        pop     %rcx
        pop     %rax
        iretq

serror_guest_end:

        .section .note.GNU-stack, "", @progbits
