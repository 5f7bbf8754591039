/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One ioctl run as a thread of another process: seize, interrupt, point the registers at a syscall instruction, step to the syscall's exit, restore, detach (DOMAIN.md 7); arm64 and x86-64. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "ptrace-call.h"

#if defined(__aarch64__) || defined(__x86_64__)

#include <elf.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>

/* Below the stack pointer: x86-64's red zone is 128 bytes, arm64 has none,
 * but a signal frame or a compiler may still use what is just below it. */
#define SCRATCH_BELOW_SP 8192u
#define TEXT_CHUNK 65536u

#if defined(__aarch64__)
/* svc #0, as the C library's syscall stubs have it: 4 bytes, aligned. */
#define INSN_SIZE 4u
static bool is_syscall_insn(const uint8_t *p) {
        uint32_t w;

        memcpy(&w, p, sizeof(w));
        return w == UINT32_C(0xd4000001);
}
#define REG_SP(r) ((r).sp)
#define REG_RESULT(r) ((r).regs[0])
static void set_call(struct user_regs_struct *r, uint64_t insn, int fd, unsigned long request, uint64_t arg) {
        r->regs[8] = __NR_ioctl;
        r->regs[0] = (uint64_t) fd;
        r->regs[1] = request;
        r->regs[2] = arg;
        r->pc = insn;
}
static int copy_from(pid_t pid, uint64_t remote, void *local, size_t size);

/* At an interrupt stop the kernel has already forgotten the syscall number
 * (do_signal) and x0 holds the result, but x8 and x1..x2 are as the caller
 * set them: a syscall it was in is the svc right before pc. */
static int read_syscall(pid_t pid, const struct user_regs_struct *r, PtraceSyscall *ret) {
        uint8_t insn[4];

        if (r->pc < 4 || copy_from(pid, r->pc - 4, insn, sizeof(insn)) < 0 || !is_syscall_insn(insn))
                return 0;
        ret->nr = (long) r->regs[8];
        ret->args[0] = 0;
        ret->args[1] = r->regs[1];
        ret->args[2] = r->regs[2];
        ret->arg0_known = false;
        return 0;
}

/* arm64 rewinds an interrupted restartable syscall before the stop (x0 and
 * pc as they were at its svc), and restarts nothing once pc has moved. */
static void settle_restart(struct user_regs_struct *r) {
        (void) r;
}
#else
/* syscall (0f 05): 2 bytes, any alignment. */
#define INSN_SIZE 1u
static bool is_syscall_insn(const uint8_t *p) {
        return p[0] == 0x0f && p[1] == 0x05;
}
#define REG_SP(r) ((r).rsp)
#define REG_RESULT(r) ((r).rax)
static void set_call(struct user_regs_struct *r, uint64_t insn, int fd, unsigned long request, uint64_t arg) {
        r->rax = __NR_ioctl;
        r->orig_rax = (uint64_t) -1; /* not in a syscall: nothing to restart on the way out */
        r->rdi = (uint64_t) fd;
        r->rsi = request;
        r->rdx = arg;
        r->rip = insn;
        r->eflags &= ~(UINT64_C(1) << 8); /* no single-step trap */
}
/* At an interrupt stop orig_rax still holds the syscall the thread was in
 * (-1: none), and rdi, rsi, rdx its arguments. */
static int read_syscall(pid_t pid, const struct user_regs_struct *r, PtraceSyscall *ret) {
        (void) pid;
        ret->nr = (long) r->orig_rax;
        if (ret->nr < 0)
                return 0;
        ret->args[0] = r->rdi;
        ret->args[1] = r->rsi;
        ret->args[2] = r->rdx;
        ret->arg0_known = true;
        return 0;
}

/* x86-64 rewinds an interrupted restartable syscall only after the stop,
 * and only if orig_rax still says "in a syscall": do it here, in the copy
 * that is put back, so the thread re-issues its syscall as it would have. */
static void settle_restart(struct user_regs_struct *r) {
        long ret = (long) r->rax;

        if ((long) r->orig_rax < 0)
                return;
        if (ret == -512 /* ERESTARTSYS */ || ret == -513 /* ERESTARTNOINTR */ || ret == -514 /* ERESTARTNOHAND */) {
                r->rax = r->orig_rax;
                r->rip -= 2;
        } else if (ret == -516 /* ERESTART_RESTARTBLOCK */) {
                r->rax = __NR_restart_syscall;
                r->rip -= 2;
        }
        r->orig_rax = (uint64_t) -1;
}
#endif

bool ptrace_call_supported(void) {
        return true;
}

static uint64_t monotonic_ns(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

/* The first system-call instruction in [start, end) of the process's memory. */
static int scan_text(pid_t pid, uint64_t start, uint64_t end, uint64_t *ret) {
        _cleanup_free_ uint8_t *buf = malloc(TEXT_CHUNK);

        if (!buf)
                return -ENOMEM;
        /* Chunks overlap by 4 bytes so that no instruction is split. */
        for (uint64_t at = start; at < end; at += TEXT_CHUNK - 4) {
                size_t want = end - at < TEXT_CHUNK ? (size_t) (end - at) : TEXT_CHUNK;
                struct iovec local = { .iov_base = buf, .iov_len = want };
                struct iovec remote = { .iov_base = (void *) (uintptr_t) at, .iov_len = want };
                ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

                if (n < 0)
                        return negative_errno();
                for (size_t i = 0; i + 4 <= (size_t) n; i += INSN_SIZE)
                        if (is_syscall_insn(buf + i)) {
                                *ret = at + i;
                                return 0;
                        }
                if (want < TEXT_CHUNK)
                        break;
        }
        return -ENOENT;
}

int ptrace_find_syscall_insn(pid_t pid, uint64_t *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[512];
        uint64_t fallback_start = 0, fallback_end = 0;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/maps", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        while (fgets(line, sizeof(line), f)) {
                unsigned long long start, end;
                char perms[8];
                int name_at = 0;

                if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &start, &end, perms, &name_at) < 3 ||
                    strcmp(perms, "r-xp") != 0 || name_at == 0 || line[name_at] != '/')
                        continue;
                if (strstr(line + name_at, "/libc.so") || strstr(line + name_at, "/libc-")) {
                        r = scan_text(pid, start, end, ret);
                        if (r != -ENOENT)
                                return r;
                } else if (fallback_end == 0) {
                        fallback_start = start;
                        fallback_end = end;
                }
        }
        if (fallback_end == 0)
                return -ENOENT;
        return scan_text(pid, fallback_start, fallback_end, ret);
}

static int get_regs(pid_t tid, struct user_regs_struct *regs) {
        struct iovec iov = { .iov_base = regs, .iov_len = sizeof(*regs) };

        return ptrace(PTRACE_GETREGSET, tid, (void *) NT_PRSTATUS, &iov) < 0 ? negative_errno() : 0;
}

static int set_regs(pid_t tid, const struct user_regs_struct *regs) {
        struct iovec iov = { .iov_base = (void *) regs, .iov_len = sizeof(*regs) };

        return ptrace(PTRACE_SETREGSET, tid, (void *) NT_PRSTATUS, &iov) < 0 ? negative_errno() : 0;
}

/* The next stop of a traced thread; -ESRCH once it has gone (and with it the trace). */
static int wait_stop(pid_t tid, int *ret_status) {
        int status;

        for (;;) {
                pid_t r = waitpid(tid, &status, __WALL);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return errno == ECHILD ? -ESRCH : negative_errno();
                if (WIFSTOPPED(status)) {
                        *ret_status = status;
                        return 0;
                }
                return -ESRCH;
        }
}

static bool is_event_stop(int status) {
        return (status >> 16) == PTRACE_EVENT_STOP;
}

static int copy_to(pid_t pid, uint64_t remote, const void *local, size_t size) {
        struct iovec l = { .iov_base = (void *) local, .iov_len = size };
        struct iovec r = { .iov_base = (void *) (uintptr_t) remote, .iov_len = size };
        ssize_t n = process_vm_writev(pid, &l, 1, &r, 1, 0);

        if (n < 0)
                return negative_errno();
        return (size_t) n == size ? 0 : -EFAULT;
}

static int copy_from(pid_t pid, uint64_t remote, void *local, size_t size) {
        struct iovec l = { .iov_base = local, .iov_len = size };
        struct iovec r = { .iov_base = (void *) (uintptr_t) remote, .iov_len = size };
        ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);

        if (n < 0)
                return negative_errno();
        return (size_t) n == size ? 0 : -EFAULT;
}

/* Resume to the next syscall stop, keeping any signal that stops the thread
 * on the way for the release (the VMM's own kicks among them). */
static int step_to_syscall_stop(pid_t tid, int *pending_signal, PtraceCallStats *stats) {
        int status, r;

        for (;;) {
                if (ptrace(PTRACE_SYSCALL, tid, NULL, NULL) < 0)
                        return negative_errno();
                r = wait_stop(tid, &status);
                if (r < 0)
                        return r;
                if (WSTOPSIG(status) == (SIGTRAP | 0x80))
                        return 0;
                if (is_event_stop(status))
                        continue; /* the interrupt, or a group stop, seen late */
                *pending_signal = WSTOPSIG(status);
                stats->signals++;
        }
}

/* Seize and interrupt tid; its first stop's signal, if that was a signal
 * for it, in *pending_signal (delivered at the release). */
static int seize_and_stop(pid_t tid, int *pending_signal) {
        int status, r;

        *pending_signal = 0;
        if (ptrace(PTRACE_SEIZE, tid, NULL, (void *) (uintptr_t) PTRACE_O_TRACESYSGOOD) < 0)
                return negative_errno();
        if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) {
                r = negative_errno();
                (void) ptrace(PTRACE_DETACH, tid, NULL, NULL);
                return r;
        }
        r = wait_stop(tid, &status);
        if (r < 0)
                return r;
        /* A signal-delivery stop serves as well; its signal goes in at the release. */
        if (!is_event_stop(status))
                *pending_signal = WSTOPSIG(status);
        return 0;
}

int ptrace_probe_syscall(pid_t pid, pid_t tid, PtraceSyscall *ret) {
        struct user_regs_struct regs;
        PtraceSyscall sc = { .nr = -1 };
        int pending_signal, r;

        r = seize_and_stop(tid, &pending_signal);
        if (r < 0)
                return r;
        r = get_regs(tid, &regs);
        if (r >= 0)
                r = read_syscall(pid, &regs, &sc);
        if (ptrace(PTRACE_DETACH, tid, NULL, (void *) (uintptr_t) pending_signal) < 0 && r >= 0)
                r = negative_errno();
        if (r >= 0)
                *ret = sc;
        return r;
}

int ptrace_call_ioctl(pid_t pid, pid_t tid, uint64_t insn, int fd, unsigned long request, void *arg, size_t arg_size,
                      long *ret_result, PtraceCallStats *ret_stats) {
        struct user_regs_struct saved, regs;
        PtraceCallStats stats = {};
        uint64_t t0, scratch = 0;
        int pending_signal = 0, r, q;

        t0 = monotonic_ns();
        r = seize_and_stop(tid, &pending_signal);
        if (r < 0)
                return r;
        if (pending_signal)
                stats.signals++;

        r = get_regs(tid, &saved);
        if (r < 0)
                goto detach;
        settle_restart(&saved);
        regs = saved;
        if (arg_size > 0) {
                scratch = (REG_SP(saved) - SCRATCH_BELOW_SP - arg_size) & ~UINT64_C(15);
                r = copy_to(pid, scratch, arg, arg_size);
                if (r < 0)
                        goto detach;
        }
        set_call(&regs, insn, fd, request, arg_size > 0 ? scratch : (uint64_t) (uintptr_t) arg);
        r = set_regs(tid, &regs);
        if (r < 0)
                goto restore;

        /* The entry stop, then the exit stop, where the result is. */
        r = step_to_syscall_stop(tid, &pending_signal, &stats);
        if (r >= 0)
                r = step_to_syscall_stop(tid, &pending_signal, &stats);
        if (r < 0)
                goto restore;
        r = get_regs(tid, &regs);
        if (r < 0)
                goto restore;
        *ret_result = (long) REG_RESULT(regs);
        if (arg_size > 0 && *ret_result >= 0)
                r = copy_from(pid, scratch, arg, arg_size);

restore:
        /* Every register as it was: a thread interrupted in KVM_RUN returns
         * its EINTR, one in a restartable syscall restarts it. */
        q = set_regs(tid, &saved);
        if (q < 0 && r >= 0)
                r = q;
detach:
        if (ptrace(PTRACE_DETACH, tid, NULL, (void *) (uintptr_t) pending_signal) < 0 && r >= 0)
                r = negative_errno();
        stats.stopped_ns = monotonic_ns() - t0;
        if (ret_stats)
                *ret_stats = stats;
        return r;
}

#else /* neither arm64 nor x86-64 */

int ptrace_probe_syscall(pid_t pid, pid_t tid, PtraceSyscall *ret) {
        (void) pid;
        (void) tid;
        *ret = (PtraceSyscall) { .nr = -1 };
        return -EOPNOTSUPP;
}

bool ptrace_call_supported(void) {
        return false;
}

int ptrace_find_syscall_insn(pid_t pid, uint64_t *ret) {
        (void) pid;
        *ret = 0;
        return -EOPNOTSUPP;
}

int ptrace_call_ioctl(pid_t pid, pid_t tid, uint64_t insn, int fd, unsigned long request, void *arg, size_t arg_size,
                      long *ret_result, PtraceCallStats *ret_stats) {
        (void) pid;
        (void) tid;
        (void) insn;
        (void) fd;
        (void) request;
        (void) arg;
        (void) arg_size;
        *ret_result = -EOPNOTSUPP;
        if (ret_stats)
                *ret_stats = (PtraceCallStats) {};
        return -EOPNOTSUPP;
}

#endif
