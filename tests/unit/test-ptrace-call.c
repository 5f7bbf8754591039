/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ptrace_call_ioctl() against real child processes, no KVM needed: the ioctl runs in the child, and the child goes on as it was (blocked in read, asleep, or running in user space). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ptrace-call.h"
#include "tap.h"

/* What each child does while the parent drives it. Exit 0 when what it was
 * doing finished as if nothing had happened. */
enum { CHILD_READ, CHILD_SLEEP, CHILD_SPIN };

/* The child's fd with 5 bytes unread: what FIONREAD is asked about. */
static int data_pipe[2];
/* The parent's "go" to a child blocked in read. */
static int go_pipe[2];

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

_noreturn_ static void child(int what) {
        char buf[8];
        uint64_t t0 = now_ms();
        volatile unsigned long spins = 0;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        switch (what) {
        case CHILD_READ:
                /* The read is interrupted by the stop and must be restarted, not fail with EINTR. */
                _exit(read(go_pipe[0], buf, sizeof(buf)) == 2 && memcmp(buf, "go", 2) == 0 ? 0 : 1);
        case CHILD_SLEEP: {
                struct timespec t = { .tv_nsec = 400 * 1000 * 1000 };
                int r = nanosleep(&t, NULL);

                _exit(r == 0 && now_ms() - t0 >= 400 ? 0 : 2);
        }
        case CHILD_SPIN:
                while (now_ms() - t0 < 400)
                        spins++;
                _exit(spins > 0 ? 0 : 3);
        }
        _exit(4);
}

static pid_t start(int what) {
        pid_t pid = fork();
        struct timespec settle = { .tv_nsec = 100 * 1000 * 1000 };

        if (pid == 0)
                child(what);
        /* Let it reach its read, its sleep or its loop. */
        nanosleep(&settle, NULL);
        return pid;
}

static int finish(pid_t pid) {
        int status;

        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void check_child(int what, const char *doing) {
        PtraceCallStats stats = {};
        uint64_t insn = 0;
        long result = -1;
        int pending = -1, r, code;
        pid_t pid = start(what);

        if (what != CHILD_SLEEP) {
                PtraceSyscall sc = {};

                /* What the thread is in the middle of, read while it is stopped. */
                r = ptrace_probe_syscall(pid, pid, &sc);
                if (what == CHILD_READ)
                        tap_ok(r == 0 && sc.nr == SYS_read && sc.args[2] == 8 &&
                               (!sc.arg0_known || sc.args[0] == (uint64_t) go_pipe[0]),
                               "%s: stopped, it shows read(%d, ..., 8) (%d: %ld %s%llu, %llu)", doing, go_pipe[0], r,
                               sc.nr, sc.arg0_known ? "" : "fd unknown, ", (unsigned long long) sc.args[0],
                               (unsigned long long) sc.args[2]);
                else
                        tap_ok(r == 0 && sc.nr == -1, "%s: stopped, it shows no syscall (%d: %ld)", doing, r, sc.nr);
        }
        r = ptrace_find_syscall_insn(pid, &insn);
        tap_ok(r == 0 && insn != 0, "%s: a system-call instruction found in its text (%d, 0x%llx)", doing, r,
               (unsigned long long) insn);
        r = ptrace_call_ioctl(pid, pid, insn, data_pipe[0], FIONREAD, &pending, sizeof(pending), &result, &stats);
        tap_ok(r == 0 && result == 0 && pending == 5, "%s: FIONREAD on its fd %d ran in it: 5 bytes (r %d, result %ld, %d)",
               doing, data_pipe[0], r, result, pending);
        tap_ok(stats.stopped_ns > 0, "%s: the stop was timed (%.3f ms)", doing, (double) stats.stopped_ns / 1e6);
        r = ptrace_call_ioctl(pid, pid, insn, 1000, FIONREAD, &pending, sizeof(pending), &result, NULL);
        tap_ok(r == 0 && result == -EBADF, "%s: an fd it does not have gives its -EBADF (r %d, result %ld)", doing, r,
               result);
        if (what == CHILD_READ)
                (void) !write(go_pipe[1], "go", 2);
        code = finish(pid);
        tap_ok(code == 0, "%s: it went on as before and finished normally (exit %d)", doing, code);
}

int main(void) {
        uint64_t insn;
        long result;
        int r;

        if (!ptrace_call_supported()) {
                tap_skip_all("ptrace calls are built for arm64 and x86-64 only");
                return 0;
        }
        if (pipe(data_pipe) < 0 || pipe(go_pipe) < 0 || write(data_pipe[1], "12345", 5) != 5)
                return 1;

        /* A process not allowed to trace (a sandbox, Yama's ptrace_scope=3) cannot test this. */
        {
                pid_t pid = start(CHILD_SPIN);

                r = ptrace_find_syscall_insn(pid, &insn);
                if (r == 0)
                        r = ptrace_call_ioctl(pid, pid, insn, data_pipe[0], FIONREAD, &(int) { 0 }, sizeof(int), &result,
                                              NULL);
                (void) finish(pid);
                if (r == -EPERM || r == -EACCES) {
                        tap_skip_all("this process may not ptrace its own children here");
                        return 0;
                }
        }

        check_child(CHILD_READ, "a child blocked in read");
        check_child(CHILD_SLEEP, "a child in nanosleep");
        check_child(CHILD_SPIN, "a child running in user space");

        r = ptrace_call_ioctl(2147483646, 2147483646, 0x1000, 0, FIONREAD, &(int) { 0 }, sizeof(int), &result, NULL);
        tap_ok(r == -ESRCH, "a thread that does not exist: -ESRCH (%d)", r);
        return tap_done();
}
