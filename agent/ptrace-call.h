/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attach-by-pid helper's way into an unchanged VMM: one ioctl run as a thread of that process, by ptrace (DOMAIN.md 7). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* True when this build can drive another process's syscalls: arm64 and x86-64. */
bool ptrace_call_supported(void);

/* The address of a system-call instruction in the VMM's text (`svc #0` on
 * arm64, `syscall` on x86-64), from an executable mapping of its C library, else of any file.
 * A thread interrupted in a restartable syscall has its pc on its own
 * instruction already, so each call jumps here instead. 0 or -errno
 * (-ENOENT: none found, -EOPNOTSUPP: another architecture). */
int ptrace_find_syscall_insn(pid_t pid, uint64_t *ret);

/* The syscall a thread was in when it was stopped. */
typedef struct PtraceSyscall {
        long nr;            /* -1: none (it was running in user space) */
        uint64_t args[3];
        bool arg0_known;    /* arm64's kernel keeps the first argument where ptrace cannot read it */
} PtraceSyscall;

/* What thread tid of process pid is in the middle of: it is seized,
 * interrupted, its registers read, and let go (a thread in KVM_RUN returns
 * EINTR to the VMM, as after a kick). A vcpu whose guest is busy is running,
 * not blocked, and /proc never shows it in KVM_RUN; this does. 0 or -errno. */
int ptrace_probe_syscall(pid_t pid, pid_t tid, PtraceSyscall *ret);

/* What one call cost the thread, for the pause a VMM sees. */
typedef struct PtraceCallStats {
        uint64_t stopped_ns; /* from the interrupt to the thread's release */
        unsigned signals;    /* signals for the thread that arrived meanwhile, delivered at the release */
} PtraceCallStats;

/* Make thread tid of process pid run ioctl(fd, request, arg) and go on as
 * it was. arg_size bytes at arg are copied to scratch memory well below the
 * thread's stack pointer and back after a successful call; with
 * arg_size 0, arg is passed as the integer it is. The thread is seized,
 * interrupted (a thread in KVM_RUN returns EINTR to the VMM, as after a
 * kick), runs the syscall from insn, gets every register back and is
 * detached, with any signal that came meanwhile. *ret_result is the
 * ioctl's result or -errno in the VMM. 0, or -errno when the thread could
 * not be driven (-EPERM: no CAP_SYS_PTRACE, -ESRCH: gone, -EBUSY: traced
 * by someone else). */
int ptrace_call_ioctl(pid_t pid, pid_t tid, uint64_t insn, int fd, unsigned long request, void *arg, size_t arg_size,
                      long *ret_result, PtraceCallStats *ret_stats);
