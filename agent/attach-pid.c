/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * serror-attach-pid: attaches a running VMM that was started without any
 * agent, and serves its injections from outside (serror-attach-pid(8)).
 *
 * It finds the VMM's vcpu fds (/proc/PID/fd) and their threads (the one
 * blocked in ioctl(fd, KVM_RUN)), takes the fds with pidfd_getfd() to hand
 * them to serrord as proof, and runs libserror-agent's own code with one
 * difference: every vcpu ioctl runs as the vcpu's thread in the VMM, by
 * ptrace (agent/ptrace-call.c), because the kernel lets no other process
 * use them (DOMAIN.md 4). Between requests no thread is traced: a detach
 * or the helper's exit leaves the VMM as it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/kcmp.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent-internal.h"
#include "agent-kvm.h"
#include "kvm-fd.h"
#include "macro.h"
#include "parse-util.h"
#include "preload-config.h"
#include "ptrace-call.h"
#include "read-file.h"

/* Exit codes, as serrorctl attach --pid passes them on. */
enum {
        EXIT_OK = 0,
        EXIT_FAILURE_ = 1, /* could not attach */
        EXIT_USAGE = 2,
        EXIT_NO_VMM = 4,   /* no such process, or no vcpus in it */
        EXIT_DENIED = 5,   /* not allowed to trace it */
};

#if defined(__aarch64__)
#define IOCTL_NR 29
#else
#define IOCTL_NR 16
#endif
/* vcpu threads seen blocked in KVM_RUN are looked for this long, then each
 * thread is stopped and looked at, this many times. */
#define FIND_BLOCKED_MS 500
#define FIND_PROBE_PASSES 5
#define ATTACH_TIMEOUT_MS 10000

typedef struct HelperVcpu {
        uint32_t index;
        int remote_fd; /* the VMM's fd number */
        int fd;        /* ours, from pidfd_getfd(): the same file */
        pid_t tid;
        const char *found_by; /* how tid was found, for the log */
} HelperVcpu;

typedef struct Helper {
        pid_t pid;
        uint64_t insn;
        HelperVcpu vcpus[ATTACH_VCPU_INDEX_MAX > 512 ? 512 : ATTACH_VCPU_INDEX_MAX];
        unsigned n_vcpus;
        bool verbose;
        /* Probing found threads in a KVM_RUN it could not tell apart (arm64): looking again will not help. */
        bool probe_ambiguous;
        char last_problem[AGENT_LOG_LINE_MAX];
        /* The pause the VMM sees: each call's stopped time. */
        uint64_t calls, stopped_total_ns, stopped_max_ns;
} Helper;

static Helper helper;

static void say(const char *format, ...) _printf_(1, 2);
static void say(const char *format, ...) {
        va_list ap;

        fprintf(stderr, "serror-attach-pid[%d]: ", (int) getpid());
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static void agent_log_line(int level, const char *message, void *userdata) {
        Helper *h = userdata;

        /* serrord's absence is only worth an INFO line to an agent that retries; here it is the reason. */
        if (level <= SERROR_AGENT_LOG_INFO)
                snprintf(h->last_problem, sizeof(h->last_problem), "%s", message);
        if (level <= SERROR_AGENT_LOG_INFO || h->verbose)
                say("%s", message);
}

/* How many bytes at arg a KVM ioctl reads or writes: its request's size
 * field, or for the MSR calls (a header and a flexible array) the entries
 * too; 0 for a request that takes its argument by value. */
static size_t ioctl_arg_size(unsigned long request, const void *arg) {
#if defined(__x86_64__)
        if (request == KVM_GET_MSRS || request == KVM_SET_MSRS) {
                const struct kvm_msrs *msrs = arg;

                return sizeof(*msrs) + (size_t) msrs->nmsrs * sizeof(struct kvm_msr_entry);
        }
#else
        (void) arg;
#endif
        return _IOC_DIR(request) == _IOC_NONE ? 0 : _IOC_SIZE(request);
}

/* The agent's ioctls: a vcpu's run in the VMM on its thread; anything else
 * (/dev/kvm) here. */
static int helper_ioctl(void *userdata, int fd, unsigned long request, void *arg) {
        Helper *h = userdata;
        pid_t self = getpid();
        int r;

        for (unsigned i = 0; i < h->n_vcpus; i++) {
                HelperVcpu *v = &h->vcpus[i];
                PtraceCallStats stats;
                size_t size = ioctl_arg_size(request, arg);
                long result = 0;

                if (syscall(SYS_kcmp, self, self, KCMP_FILE, (unsigned long) fd, (unsigned long) v->fd) != 0)
                        continue;
                r = ptrace_call_ioctl(h->pid, v->tid, h->insn, v->remote_fd, request, arg, size, &result, &stats);
                if (r < 0)
                        return r;
                /* Workers of different vcpus may get here at once; the figures are for the log only. */
                __atomic_add_fetch(&h->calls, 1, __ATOMIC_RELAXED);
                __atomic_add_fetch(&h->stopped_total_ns, stats.stopped_ns, __ATOMIC_RELAXED);
                if (stats.stopped_ns > __atomic_load_n(&h->stopped_max_ns, __ATOMIC_RELAXED))
                        __atomic_store_n(&h->stopped_max_ns, stats.stopped_ns, __ATOMIC_RELAXED);
                if (h->verbose)
                        say("vcpu %" PRIu32 ": ioctl 0x%lx on thread %d: result %ld, thread stopped %.3f ms%s",
                            v->index, request, (int) v->tid, result, (double) stats.stopped_ns / 1e6,
                            stats.signals ? ", a signal held back and delivered" : "");
                return (int) result;
        }
        r = ioctl(fd, request, arg);
        return r < 0 ? negative_errno() : r;
}

/* A whole decimal int, nothing else. */
static int parse_int(const char *s, int *ret) {
        uint32_t v;

        if (parse_u32(s, &v) < 0 || v > INT32_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

static uint64_t monotonic_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- finding the vcpus */

static int find_vcpu_fds(Helper *h) {
        _cleanup_(closedirp) DIR *d = NULL;
        char path[64];
        struct dirent *de;

        snprintf(path, sizeof(path), "/proc/%d/fd", (int) h->pid);
        d = opendir(path);
        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                char link_path[96], link[256];
                uint32_t index;
                ssize_t n;
                int fd;

                if (de->d_name[0] == '.' || parse_int(de->d_name, &fd) < 0)
                        continue;
                snprintf(link_path, sizeof(link_path), "/proc/%d/fd/%d", (int) h->pid, fd);
                n = readlink(link_path, link, sizeof(link) - 1);
                if (n < 0)
                        continue;
                link[n] = '\0';
                if (kvm_fd_classify_link(link, &index) != KVM_FD_VCPU)
                        continue;
                if (h->n_vcpus >= ELEMENTSOF(h->vcpus))
                        return -E2BIG;
                h->vcpus[h->n_vcpus++] = (HelperVcpu) { .index = index, .remote_fd = fd, .fd = -EBADF };
        }
        return 0;
}

/* KVM's debugfs (mounted by systemd on hosts) has, for each VM of the
 * process, a directory PID-VMFD with vcpuN/pid: the thread that last ran
 * that vcpu. Exact, whatever the guest is doing; 0 when it is not there. */
static unsigned find_threads_in_debugfs(Helper *h) {
        _cleanup_(closedirp) DIR *d = opendir("/sys/kernel/debug/kvm");
        struct dirent *de;
        char prefix[24];
        unsigned found = 0;

        if (!d)
                return 0;
        snprintf(prefix, sizeof(prefix), "%d-", (int) h->pid);
        while ((de = readdir(d)))
                for (unsigned i = 0; de->d_name[0] != '.' && strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
                                     i < h->n_vcpus; i++) {
                        HelperVcpu *v = &h->vcpus[i];
                        _cleanup_free_ char *text = NULL;
                        char path[128], task[96];
                        uint32_t tid;

                        if (v->tid > 0)
                                continue;
                        snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%.40s/vcpu%" PRIu32 "/pid", de->d_name,
                                 v->index);
                        if (read_regular_file(path, 32, &text, NULL) < 0)
                                continue;
                        text[strcspn(text, "\n")] = '\0';
                        /* 0 until the vcpu first runs; a thread of another process would be a stale VM. */
                        snprintf(task, sizeof(task), "/proc/%d/task/%s", (int) h->pid, text);
                        if (parse_u32(text, &tid) < 0 || tid == 0 || tid > INT32_MAX || access(task, F_OK) < 0)
                                continue;
                        v->tid = (pid_t) tid;
                        v->found_by = "KVM's debugfs";
                        found++;
                }
        return found;
}

/* QEMU with -name ...,debug-threads=on names vcpu threads "CPU <n>/KVM". */
static bool thread_named_for(pid_t pid, const char *task, uint32_t index) {
        _cleanup_free_ char *comm = NULL;
        char path[96], want[32];

        snprintf(path, sizeof(path), "/proc/%d/task/%.20s/comm", (int) pid, task);
        if (read_regular_file(path, 64, &comm, NULL) < 0)
                return false;
        snprintf(want, sizeof(want), "CPU %" PRIu32 "/KVM\n", index);
        return streq(comm, want);
}

static unsigned count_found(const Helper *h) {
        unsigned n = 0;

        for (unsigned i = 0; i < h->n_vcpus; i++)
                n += h->vcpus[i].tid > 0;
        return n;
}

static bool tid_taken(const Helper *h, pid_t tid) {
        for (unsigned i = 0; i < h->n_vcpus; i++)
                if (h->vcpus[i].tid == tid)
                        return true;
        return false;
}

typedef enum FindBy {
        FIND_BLOCKED, /* /proc/PID/task/TID/syscall as it is: the thread is blocked in KVM_RUN */
        FIND_PROBE,   /* the same, read with the thread stopped by ptrace for a moment */
        FIND_NAME,    /* QEMU's thread name */
} FindBy;

/* One pass over the VMM's threads: each one in KVM_RUN names its vcpu. */
static unsigned find_threads_once(Helper *h, FindBy by) {
        _cleanup_(closedirp) DIR *d = NULL;
        char path[64];
        struct dirent *de;
        unsigned found = 0, n_anonymous = 0;
        pid_t anonymous = 0;

        snprintf(path, sizeof(path), "/proc/%d/task", (int) h->pid);
        d = opendir(path);
        if (!d)
                return 0;
        while ((de = readdir(d))) {
                _cleanup_free_ char *text = NULL;
                char syscall_path[96];
                PtraceSyscall sc;
                int tid, fd = -1;

                if (de->d_name[0] == '.' || parse_int(de->d_name, &tid) < 0 || tid_taken(h, tid))
                        continue;
                snprintf(syscall_path, sizeof(syscall_path), "/proc/%d/task/%d/syscall", (int) h->pid, tid);
                if (by == FIND_BLOCKED && (read_regular_file(syscall_path, 512, &text, NULL) < 0 ||
                                           kvm_fd_parse_run_syscall(text, IOCTL_NR, &fd) != 1))
                        continue;
                if (by == FIND_PROBE) {
                        if (ptrace_probe_syscall(h->pid, tid, &sc) < 0 || sc.nr != IOCTL_NR ||
                            (unsigned int) sc.args[1] != KVM_RUN)
                                continue;
                        if (!sc.arg0_known) {
                                /* In some vcpu's KVM_RUN, which one arm64 does not say. */
                                anonymous = tid;
                                n_anonymous++;
                                continue;
                        }
                        fd = (int) sc.args[0];
                }
                for (unsigned i = 0; i < h->n_vcpus; i++) {
                        HelperVcpu *v = &h->vcpus[i];

                        if (v->tid > 0)
                                continue;
                        if (by == FIND_NAME ? thread_named_for(h->pid, de->d_name, v->index) : v->remote_fd == fd) {
                                static const char *const how[] = {
                                        [FIND_BLOCKED] = "blocked in its KVM_RUN",
                                        [FIND_PROBE] = "stopped in its KVM_RUN",
                                        [FIND_NAME] = "its name",
                                };
                                v->tid = tid;
                                v->found_by = how[by];
                                found++;
                                break;
                        }
                }
        }
        /* One vcpu left and one thread in a KVM_RUN: that one is its. */
        if (n_anonymous == 1 && h->n_vcpus - count_found(h) == 1) {
                for (unsigned i = 0; i < h->n_vcpus; i++)
                        if (h->vcpus[i].tid <= 0) {
                                h->vcpus[i].tid = anonymous;
                                h->vcpus[i].found_by = "the one thread stopped in a KVM_RUN";
                                found++;
                        }
        } else if (n_anonymous > 1 && n_anonymous >= h->n_vcpus - count_found(h))
                h->probe_ambiguous = true;
        return found;
}

/* Each vcpu's thread: from KVM's debugfs (x86), else the thread seen
 * blocked in its KVM_RUN (an idle guest's), else the one found in KVM_RUN
 * when stopped for a moment (a busy guest's vcpu is running, not blocked,
 * and is never seen from outside; on arm64 this names the vcpu only when
 * one is left), else the thread's name ("CPU N/KVM", QEMU's debug-threads). */
static int find_threads(Helper *h) {
        struct timespec pause = { .tv_nsec = 20 * 1000 * 1000 };
        unsigned missing = h->n_vcpus;

        missing -= find_threads_in_debugfs(h);
        for (int waited = 0; missing > 0 && waited <= FIND_BLOCKED_MS; waited += 20) {
                missing -= find_threads_once(h, FIND_BLOCKED);
                if (missing > 0)
                        (void) nanosleep(&pause, NULL);
        }
        /* A vcpu thread busy with an exit in the VMM is in no KVM_RUN: look again. */
        for (int pass = 0; missing > 0 && pass < FIND_PROBE_PASSES && !h->probe_ambiguous; pass++) {
                missing -= find_threads_once(h, FIND_PROBE);
                if (missing > 0)
                        (void) nanosleep(&pause, NULL);
        }
        if (missing > 0)
                missing -= find_threads_once(h, FIND_NAME);
        return missing > 0 ? -ESRCH : 0;
}

/* ---------------------------------------------------------------- privilege */

/* Everything the helper does to the VMM needs CAP_SYS_PTRACE and nothing
 * more (the attach socket and /dev/kvm belong to uid 0 or its groups): one
 * started as root keeps that capability only, and can gain none back. */
static int keep_only_ptrace_capability(void) {
        struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2] = {};
        _cleanup_free_ char *text = NULL;
        uint32_t last = 40, ptrace_bit = UINT32_C(1) << CAP_SYS_PTRACE;
        bool have;

        if (syscall(SYS_capget, &header, data) < 0)
                return negative_errno();
        have = data[0].permitted & ptrace_bit;
        if (read_regular_file("/proc/sys/kernel/cap_last_cap", 16, &text, NULL) >= 0) {
                text[strcspn(text, "\n")] = '\0';
                (void) parse_u32(text, &last);
        }
        /* Without CAP_SETPCAP (not root) the bounding set stays: nothing to keep then. */
        for (uint32_t cap = 0; cap <= last && cap < 64; cap++)
                if (cap != CAP_SYS_PTRACE && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EPERM)
                        break;
        (void) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        memset(data, 0, sizeof(data));
        data[0].effective = data[0].permitted = have ? ptrace_bit : 0;
        if (syscall(SYS_capset, &header, data) < 0)
                return negative_errno();
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();
        return 0;
}

/* ---------------------------------------------------------------- main */

static void help(void) {
        printf("Usage: serror-attach-pid --pid=PID [OPTIONS]\n"
               "\n"
               "Attach a running VMM that has no serror agent (QEMU started without\n"
               "libserror-preload) to serrord, and run its injections by ptrace on the\n"
               "vcpu threads. Runs until the VMM exits, the VM is detached, or SIGTERM.\n"
               "Needs root or CAP_SYS_PTRACE. serrorctl attach --pid starts it.\n"
               "\n"
               "  --pid=PID          the VMM process\n"
               "  --name=NAME        the VM's name (default: QEMU's -name, else PROGRAM-PID)\n"
               "  --labels=K=V,...   labels for the VM\n"
               "  --socket=PATH      serrord's attach socket (default: $SERROR_ATTACH_SOCKET,\n"
               "                     else /run/serrord/attach.sock)\n"
               "  --ready-fd=FD      write one line there once attached (\"attached ...\")\n"
               "                     or when attaching failed (\"failed ...\"), then close it\n"
               "  -v, --verbose      log every ioctl and how long its thread was stopped\n"
               "  -h, --help         this text\n"
               "\n"
               "Exit status: 0 the VMM exited or the VM was detached; 1 attaching failed;\n"
               "2 usage; 4 no such process or no vcpus in it; 5 not allowed to trace it.\n");
}

static int ready_fd = -EBADF;

static void report(const char *format, ...) _printf_(1, 2);
static void report(const char *format, ...) {
        char line[512];
        va_list ap;
        int n;

        va_start(ap, format);
        n = vsnprintf(line, sizeof(line) - 1, format, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t) n > sizeof(line) - 2)
                n = (int) sizeof(line) - 2;
        line[n++] = '\n';
        if (ready_fd >= 0) {
                (void) !write(ready_fd, line, (size_t) n);
                ready_fd = safe_close(ready_fd);
        }
}

static int fail(int code, const char *format, ...) _printf_(2, 3);
static int fail(int code, const char *format, ...) {
        char text[480];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(text, sizeof(text), format, ap);
        va_end(ap);
        say("%s", text);
        report("failed %d %s", code, text);
        return code;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "pid", required_argument, NULL, 'p' },
                { "name", required_argument, NULL, 'n' },
                { "labels", required_argument, NULL, 'l' },
                { "socket", required_argument, NULL, 's' },
                { "ready-fd", required_argument, NULL, 'r' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *name = NULL, *labels = NULL, *socket_path = NULL;
        static char cmdline[16384];
        _cleanup_free_ char *cmdline_text = NULL;
        serror_agent_options opts = { .size = sizeof opts };
        _cleanup_close_ int pidfd = -EBADF, sigfd = -EBADF;
        serror_agent *agent = NULL;
        PreloadInputs in = {};
        PreloadConfig config;
        serror_diag diag = {};
        Helper *h = &helper;
        size_t cmdline_size = 0;
        sigset_t mask;
        bool ready = false;
        int c, r, code = EXIT_OK;
        uint64_t started_ms = monotonic_ms();

        while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0)
                switch (c) {
                case 'p':
                        if (parse_int(optarg, &r) < 0 || r <= 0) {
                                say("--pid: \"%s\" is not a process id", optarg);
                                return EXIT_USAGE;
                        }
                        h->pid = r;
                        break;
                case 'n':
                        name = optarg;
                        break;
                case 'l':
                        labels = optarg;
                        break;
                case 's':
                        socket_path = optarg;
                        break;
                case 'r':
                        if (parse_int(optarg, &r) < 0 || r < 0 || fcntl(r, F_GETFD) < 0) {
                                say("--ready-fd: \"%s\" is not an open fd", optarg);
                                return EXIT_USAGE;
                        }
                        ready_fd = r;
                        break;
                case 'v':
                        h->verbose = true;
                        break;
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }
        if (optind < argc || h->pid == 0) {
                say(optind < argc ? "unexpected argument \"%s\"" : "--pid=PID is required%s",
                    optind < argc ? argv[optind] : "");
                return EXIT_USAGE;
        }

        r = keep_only_ptrace_capability();
        if (r < 0)
                return fail(EXIT_FAILURE_, "cannot give up every capability but CAP_SYS_PTRACE: %s", strerror(-r));
        pidfd = (int) syscall(SYS_pidfd_open, h->pid, 0);
        if (pidfd < 0)
                return fail(errno == ESRCH ? EXIT_NO_VMM : EXIT_FAILURE_, "no process %d: %s", (int) h->pid,
                            strerror(errno));

        snprintf(cmdline, sizeof(cmdline), "/proc/%d/cmdline", (int) h->pid);
        r = read_regular_file(cmdline, sizeof(cmdline), &cmdline_text, &cmdline_size);
        if (r < 0)
                return fail(EXIT_NO_VMM, "cannot read the command line of pid %d: %s", (int) h->pid, strerror(-r));
        in.cmdline = cmdline_text;
        in.cmdline_size = cmdline_size;
        in.env_vm_name = name;
        in.env_labels = labels;
        in.pid = h->pid;
        r = preload_config_build(&in, &config, &diag);
        if (r < 0)
                /* Its messages name the variables the preload reads; ours are the options. */
                return fail(EXIT_USAGE, "%s", diag.message);

        r = find_vcpu_fds(h);
        if (r == -EACCES || r == -EPERM)
                return fail(EXIT_DENIED, "cannot look at the fds of pid %d: %s (attaching needs root or CAP_SYS_PTRACE)",
                            (int) h->pid, strerror(-r));
        if (r < 0)
                return fail(EXIT_NO_VMM, "cannot look at the fds of pid %d: %s", (int) h->pid, strerror(-r));
        if (h->n_vcpus == 0)
                return fail(EXIT_NO_VMM, "pid %d holds no KVM vcpu: not a VMM, or its VM has no vcpus yet", (int) h->pid);
        if (!ptrace_call_supported())
                return fail(EXIT_FAILURE_, "attaching by pid drives a VMM's vcpu threads by ptrace, which serror "
                            "supports on arm64 and x86-64 only; start the VMM with libserror-preload instead");
        r = find_threads(h);
        if (h->verbose)
                for (unsigned i = 0; i < h->n_vcpus; i++)
                        if (h->vcpus[i].tid > 0)
                                say("vcpu %" PRIu32 " (fd %d): thread %d, from %s", h->vcpus[i].index,
                                    h->vcpus[i].remote_fd, (int) h->vcpus[i].tid, h->vcpus[i].found_by);
        if (r < 0)
                for (unsigned i = 0; i < h->n_vcpus; i++)
                        if (h->vcpus[i].tid <= 0)
                                return fail(EXIT_FAILURE_, "cannot tell which thread of pid %d runs vcpu %" PRIu32
                                            " (fd %d): no thread was in its KVM_RUN, blocked or stopped %d times; "
                                            "is the VM paused?", (int) h->pid, h->vcpus[i].index,
                                            h->vcpus[i].remote_fd, FIND_PROBE_PASSES);
        for (unsigned i = 0; i < h->n_vcpus; i++) {
                HelperVcpu *v = &h->vcpus[i];

                v->fd = (int) syscall(SYS_pidfd_getfd, pidfd, v->remote_fd, 0);
                if (v->fd < 0)
                        return fail(errno == EPERM ? EXIT_DENIED : EXIT_FAILURE_,
                                    "cannot take vcpu %" PRIu32 "'s fd %d from pid %d: %s%s", v->index, v->remote_fd,
                                    (int) h->pid, strerror(errno),
                                    errno == EPERM ? " (attaching needs root or CAP_SYS_PTRACE)" : "");
        }
        r = ptrace_find_syscall_insn(h->pid, &h->insn);
        if (r < 0)
                return fail(EXIT_FAILURE_, "cannot find a system-call instruction in the text of pid %d: %s",
                            (int) h->pid, strerror(-r));

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sigfd < 0)
                return fail(EXIT_FAILURE_, "signalfd: %s", strerror(errno));
        /* serrorctl may be gone when the helper has something to say. */
        (void) signal(SIGPIPE, SIG_IGN);

        agent_kvm_set_ioctl(helper_ioctl, h);
        opts.socket_path = socket_path;
        opts.vm_name = config.vm_name;
        opts.uuid = config.has_uuid ? config.uuid : NULL;
        opts.labels = config.n_labels ? config.labels : NULL;
        opts.log = agent_log_line;
        opts.log_userdata = h;
        r = agent_new_proxy(&opts, h->pid, &agent);
        if (r < 0)
                return fail(r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE_, "cannot create the agent: %s%s%s", strerror(-r),
                            h->last_problem[0] ? ": " : "", h->last_problem);
        for (unsigned i = 0; i < h->n_vcpus; i++) {
                /* The kick is declared, never sent: the ptrace interrupt takes the thread out of KVM_RUN. */
                r = serror_agent_add_vcpu(agent, h->vcpus[i].index, h->vcpus[i].fd, h->vcpus[i].tid, SIGUSR1);
                if (r < 0) {
                        code = fail(EXIT_FAILURE_, "cannot add vcpu %" PRIu32 ": %s", h->vcpus[i].index, strerror(-r));
                        goto out;
                }
        }

        for (;;) {
                struct pollfd p[3] = {
                        { .fd = serror_agent_get_fd(agent), .events = POLLIN },
                        { .fd = pidfd, .events = POLLIN },
                        { .fd = sigfd, .events = POLLIN },
                };

                if (poll(p, 3, 100) < 0 && errno != EINTR) {
                        code = fail(EXIT_FAILURE_, "poll: %s", strerror(errno));
                        break;
                }
                (void) serror_agent_process(agent);
                if (p[1].revents) {
                        say("pid %d exited; %s", (int) h->pid, ready ? "the VM is gone" : "nothing to attach");
                        if (!ready)
                                code = fail(EXIT_NO_VMM, "pid %d exited before it was attached", (int) h->pid);
                        break;
                }
                if (p[2].revents) {
                        struct signalfd_siginfo si;

                        (void) !read(sigfd, &si, sizeof(si));
                        say("%s: detaching VM %s", strsignal((int) si.ssi_signo), config.vm_name);
                        if (!ready)
                                code = fail(EXIT_FAILURE_, "stopped by %s before it was attached",
                                            strsignal((int) si.ssi_signo));
                        break;
                }
                if (agent_is_detached_by_operator(agent)) {
                        if (!ready)
                                code = fail(EXIT_FAILURE_, "serrord detached VM %s", config.vm_name);
                        break;
                }
                if (!ready && serror_agent_is_attached(agent) && agent_count_attached_vcpus(agent) == h->n_vcpus) {
                        ready = true;
                        say("attached VM %s: pid %d, %u vcpu(s)", config.vm_name, (int) h->pid, h->n_vcpus);
                        report("attached %s %d %u", config.vm_name, (int) h->pid, h->n_vcpus);
                }
                /* A refused HELLO would be refused again: the helper is not an agent that waits for serrord. */
                r = ready ? 0 : agent_hello_refusal(agent);
                if (r < 0) {
                        code = fail(r == -EPERM || r == -EACCES ? EXIT_DENIED : EXIT_FAILURE_, "%s", h->last_problem);
                        break;
                }
                if (!ready) {
                        if (monotonic_ms() - started_ms >= ATTACH_TIMEOUT_MS) {
                                code = fail(EXIT_FAILURE_, "serrord did not accept VM %s within %d s%s%s", config.vm_name,
                                            ATTACH_TIMEOUT_MS / 1000, h->last_problem[0] ? ": " : "", h->last_problem);
                                break;
                        }
                }
        }

out:
        serror_agent_free(agent);
        if (h->calls > 0)
                say("%" PRIu64 " ioctl(s) run in pid %d; its vcpu thread was stopped %.3f ms per ioctl on average, "
                    "%.3f ms at most", h->calls, (int) h->pid, (double) h->stopped_total_ns / (double) h->calls / 1e6,
                    (double) h->stopped_max_ns / 1e6);
        for (unsigned i = 0; i < h->n_vcpus; i++)
                safe_close(h->vcpus[i].fd);
        return code;
}
