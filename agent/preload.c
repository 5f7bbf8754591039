/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libserror-preload: libserror-agent for a VMM that was never changed to link
 * it (QEMU, started with LD_PRELOAD). It interposes ioctl(), mmap() and
 * close(): KVM_CREATE_VCPU tells it each vcpu's fd and index, the first
 * KVM_RUN of a vcpu fd tells it the vcpu's thread, and around every KVM_RUN
 * it calls serror_agent_before_run() and serror_agent_after_run(), so
 * injections run on the vcpu's own thread between two KVM_RUNs (DOMAIN.md 7).
 *
 * What must hold inside QEMU, and why each rule below exists:
 *  - QEMU passes ioctl requests as a sign-extended int: compare the low 32 bits.
 *  - -cpu host creates scratch vcpus (and a scratch VM) first, closes them and
 *    reuses their fd numbers: the latest KVM_CREATE_VCPU of an fd wins, and a
 *    vcpu joins the agent only when it first enters KVM_RUN.
 *  - QEMU installs its SIGUSR1 handler as each vcpu thread starts: the kick is
 *    declared only from a thread already in KVM_RUN.
 *  - A kick makes KVM_RUN fail with EINTR: that goes back to QEMU as it is,
 *    and QEMU's next KVM_RUN runs the request.
 *  - -sandbox on forbids fork and exec to every thread: the agent never does
 *    either; its thread blocks every signal (QEMU reads some via signalfd).
 *  - Children of the VMM must not load the agent again: LD_PRELOAD loses this
 *    library in the constructor.
 * Nothing is set up in a process that never creates a vcpu.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "macro.h"
#include "preload-config.h"
#include "serror/agent.h"

#define _public_ __attribute__((__visibility__("default")))

/* vcpu fds are looked up by number: QEMU's are small. A vcpu whose fd is
 * beyond this is not served (logged once). */
#define PRELOAD_FDS_MAX 4096

typedef struct PreloadVcpu {
        /* index + 1 from the latest KVM_CREATE_VCPU that returned this fd; 0: not a vcpu fd */
        _Atomic uint32_t index_plus1;
        /* The thread that ran KVM_RUN on it last (0: none yet). */
        _Atomic pid_t tid;
        /* Added to the agent with that thread. */
        _Atomic bool added;
        /* Its mmap()ed struct kvm_run, for after_run. */
        struct kvm_run *_Atomic run;
} PreloadVcpu;

typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);
typedef int (*close_fn)(int);

static ioctl_fn real_ioctl;
static mmap_fn real_mmap;
static mmap_fn real_mmap64;
static close_fn real_close;

static PreloadVcpu vcpus[PRELOAD_FDS_MAX];
static PreloadConfig config;
/* The constructor found a usable configuration and nothing else serving KVM. */
static bool enabled;
static serror_agent *_Atomic agent;
static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;
static bool agent_tried;
static atomic_bool fd_limit_logged;

static __thread pid_t thread_tid __attribute__((tls_model("initial-exec")));

_printf_(1, 2) static void preload_log(const char *format, ...) {
        char line[512];
        va_list ap;
        int n;

        va_start(ap, format);
        n = vsnprintf(line, sizeof line, format, ap);
        va_end(ap);
        if (n < 0)
                return;
        /* One write: lines from several threads do not interleave. */
        fprintf(stderr, "serror-preload: %s\n", line);
}

static void *next_symbol(const char *name) {
        return dlsym(RTLD_NEXT, name);
}

/* The next definition of name, resolved into *slot on first use too:
 * another library's constructor may call ioctl() or mmap() before ours. */
static void *next_cached(void **slot, const char *name) {
        void *f = __atomic_load_n(slot, __ATOMIC_RELAXED);

        if (_unlikely_(!f)) {
                f = next_symbol(name);
                __atomic_store_n(slot, f, __ATOMIC_RELAXED);
        }
        return f;
}

static ioctl_fn ioctl_next(void) {
        return (ioctl_fn) next_cached((void **) &real_ioctl, "ioctl");
}

static pid_t self_tid(void) {
        if (_unlikely_(thread_tid == 0))
                thread_tid = gettid();
        return thread_tid;
}

static ssize_t read_cmdline(char *buf, size_t size) {
        size_t n = 0;
        int fd;

        fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (n < size) {
                ssize_t k = read(fd, buf + n, size - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        (void) real_close(fd);
        return (ssize_t) n;
}

/* The environment is read and edited as the kernel handed it over, not
 * through getenv() and setenv(): a shell such as bash defines its own, which
 * do not touch environ before its main() runs. */
static const char *environ_get(const char *name) {
        size_t len = strlen(name);

        for (char **e = environ; e && *e; e++)
                if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
                        return *e + len + 1;
        return NULL;
}

static void strip_ld_preload(void) {
        static char entry[4096 + sizeof "LD_PRELOAD="] = "LD_PRELOAD=";
        const size_t prefix = sizeof "LD_PRELOAD=" - 1;

        for (char **e = environ; e && *e; e++) {
                if (strncmp(*e, "LD_PRELOAD=", prefix) != 0)
                        continue;
                if (!preload_env_without_self(*e + prefix, entry + prefix, sizeof entry - prefix))
                        return;
                if (entry[prefix]) {
                        *e = entry;
                        return;
                }
                /* Nothing else was preloaded: the variable goes. */
                do
                        e[0] = e[1];
                while (*e++);
                return;
        }
}

static const char *name_source_text(PreloadNameSource s) {
        switch (s) {
        case PRELOAD_NAME_ENV:
                return "SERROR_VM_NAME";
        case PRELOAD_NAME_CMDLINE:
                return "-name";
        case PRELOAD_NAME_FALLBACK:
                return "no -name or SERROR_VM_NAME: program and pid";
        }
        return "?";
}

__attribute__((constructor)) static void preload_init(void) {
        static char cmdline[16384];
        PreloadInputs in = {};
        serror_diag diag = {};
        ssize_t n;
        int r;

        real_ioctl = (ioctl_fn) next_symbol("ioctl");
        real_mmap = (mmap_fn) next_symbol("mmap");
        real_mmap64 = (mmap_fn) next_symbol("mmap64");
        real_close = (close_fn) next_symbol("close");
        strip_ld_preload();

        if (!real_ioctl || !real_mmap || !real_close) {
                preload_log("cannot find the C library's ioctl, mmap or close; not serving this process");
                return;
        }
        /* A VMM that links libserror-agent serves serrord itself. */
        if (dlsym(RTLD_DEFAULT, "serror_agent_new")) {
                preload_log("this VMM links libserror-agent itself; the preload stays out of its way");
                return;
        }

        n = read_cmdline(cmdline, sizeof cmdline - 1);
        in.cmdline = cmdline;
        in.cmdline_size = n > 0 ? (size_t) n : 0;
        in.env_vm_name = environ_get("SERROR_VM_NAME");
        in.env_labels = environ_get("SERROR_VM_LABELS");
        in.env_kick = environ_get("SERROR_KICK_SIGNAL");
        in.pid = getpid();
        r = preload_config_build(&in, &config, &diag);
        if (r < 0) {
                preload_log("%s; not serving this process", diag.message);
                return;
        }
        enabled = true;
}

/* The agent, created when the process makes its first vcpu: a process that
 * never does (qemu-img, qemu --version, a helper) never connects. */
static serror_agent *agent_get(void) {
        serror_agent *a = atomic_load(&agent);
        serror_agent_options opts = { .size = sizeof opts };
        int r;

        if (a || !enabled)
                return a;
        pthread_mutex_lock(&setup_lock);
        if (agent_tried)
                goto out;
        agent_tried = true;
        opts.vm_name = config.vm_name;
        opts.uuid = config.has_uuid ? config.uuid : NULL;
        opts.labels = config.n_labels ? config.labels : NULL;
        r = serror_agent_new(&opts, &a);
        if (r < 0) {
                preload_log("cannot create the agent: %s", strerror(-r));
                goto out;
        }
        r = serror_agent_start_thread(a);
        if (r < 0) {
                serror_agent_free(a);
                a = NULL;
                goto out;
        }
        preload_log("serving VM \"%s\" (name from %s%s), kick signal %d", config.vm_name,
                    name_source_text(config.name_source), config.name_changed ? ", characters replaced" : "",
                    config.kick_signal);
        atomic_store(&agent, a);
out:
        pthread_mutex_unlock(&setup_lock);
        return atomic_load(&agent);
}

static PreloadVcpu *vcpu_of_fd(int fd) {
        if (_unlikely_(fd < 0 || fd >= PRELOAD_FDS_MAX))
                return NULL;
        return &vcpus[fd];
}

/* Forget what the fd was: the vcpu leaves the agent before its fd goes.
 * Takes no lock of ours: the agent closes its own fds under its lock, and
 * vcpu_adopt() takes ours and then the agent's. */
static void vcpu_forget(PreloadVcpu *v) {
        serror_agent *a = atomic_load(&agent);
        uint32_t index_plus1 = atomic_exchange(&v->index_plus1, 0);

        if (index_plus1 && atomic_exchange(&v->added, false) && a)
                (void) serror_agent_remove_vcpu(a, index_plus1 - 1);
        atomic_store(&v->tid, 0);
        atomic_store(&v->run, NULL);
}

static void vcpu_created(int fd, unsigned long index) {
        PreloadVcpu *v = vcpu_of_fd(fd);

        if (!agent_get())
                return;
        if (!v) {
                if (!atomic_exchange(&fd_limit_logged, true))
                        preload_log("vcpu %lu has fd %d, beyond the %d fds the preload follows; it is not served",
                                    index, fd, PRELOAD_FDS_MAX);
                return;
        }
        if (index > UINT32_MAX - 1)
                return;
        vcpu_forget(v);
        atomic_store(&v->index_plus1, (uint32_t) index + 1);
}

/* First KVM_RUN of this vcpu on this thread: the vcpu joins the agent, with
 * this thread to kick. A vcpu of the same index added from another fd (a
 * scratch vcpu's, whose close we did not see) gives way: latest wins. */
static void vcpu_adopt(int fd, PreloadVcpu *v, uint32_t index, pid_t tid) {
        serror_agent *a = atomic_load(&agent);
        int r;

        pthread_mutex_lock(&setup_lock);
        if (atomic_load(&v->tid) == tid || atomic_load(&v->index_plus1) != index + 1)
                goto out;
        if (atomic_exchange(&v->added, false))
                (void) serror_agent_remove_vcpu(a, index);
        atomic_store(&v->tid, tid);
        r = serror_agent_add_vcpu(a, index, fd, tid, config.kick_signal);
        if (r == -EEXIST) {
                /* The other fd no longer holds it: its close must not remove this one. */
                for (int other = 0; other < PRELOAD_FDS_MAX; other++)
                        if (&vcpus[other] != v && atomic_load(&vcpus[other].index_plus1) == index + 1)
                                atomic_store(&vcpus[other].added, false);
                (void) serror_agent_remove_vcpu(a, index);
                r = serror_agent_add_vcpu(a, index, fd, tid, config.kick_signal);
        }
        if (r < 0)
                preload_log("vcpu %u (fd %d, thread %d) cannot be served: %s", index, fd, (int) tid, strerror(-r));
        else
                atomic_store(&v->added, true);
out:
        pthread_mutex_unlock(&setup_lock);
}

static int vcpu_run(int fd, PreloadVcpu *v, uint32_t index_plus1, unsigned long request) {
        serror_agent *a = atomic_load_explicit(&agent, memory_order_relaxed);
        uint32_t index = index_plus1 - 1;
        pid_t tid = self_tid();
        struct kvm_run *run;
        int r;

        if (_unlikely_(atomic_load_explicit(&v->tid, memory_order_relaxed) != tid))
                vcpu_adopt(fd, v, index, tid);
        /* errno needs no saving: the real call below sets it when it fails,
         * and nothing reads it when it succeeds. */
        if (_likely_(atomic_load_explicit(&v->added, memory_order_relaxed)))
                serror_agent_before_run(a, index);
        r = real_ioctl(fd, request, 0);
        if (r == 0 && atomic_load_explicit(&v->added, memory_order_relaxed)) {
                run = atomic_load_explicit(&v->run, memory_order_relaxed);
                if (run)
                        serror_agent_after_run(a, index, run);
        }
        return r;
}

/* The C library declares ioctl() variadic. On the two ABIs the agent runs
 * on (AAPCS64 as Linux uses it, and x86-64 SysV) a variadic argument travels
 * in the same register as a named one, so the third argument is taken as a
 * named pointer: a variadic definition would spill every argument register,
 * the vector ones included, on each of the VMM's ioctls. <sys/ioctl.h> is
 * not included for that reason. */
#if defined(__aarch64__) || defined(__x86_64__)
int ioctl(int fd, unsigned long request, void *arg);
_public_ int ioctl(int fd, unsigned long request, void *arg) {
#else
#include <sys/ioctl.h>
_public_ int ioctl(int fd, unsigned long request, ...) {
        va_list ap;
        void *arg;

        va_start(ap, request);
        arg = va_arg(ap, void *);
        va_end(ap);
#endif
        unsigned int nr = (unsigned int) request;
        int r;

        if (nr == KVM_RUN) {
                PreloadVcpu *v = vcpu_of_fd(fd);
                uint32_t index_plus1 = v ? atomic_load_explicit(&v->index_plus1, memory_order_relaxed) : 0;

                if (_likely_(index_plus1 != 0) && atomic_load_explicit(&agent, memory_order_relaxed))
                        return vcpu_run(fd, v, index_plus1, request);
        }
        r = ioctl_next()(fd, request, arg);
        if (_unlikely_(nr == KVM_CREATE_VCPU) && r >= 0 && enabled) {
                int saved = errno;

                vcpu_created(r, (unsigned long) arg);
                errno = saved;
        }
        return r;
}

static void *mmap_common(mmap_fn next, void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
        void *p = next(addr, length, prot, flags, fd, offset);
        PreloadVcpu *v;

        if (fd >= 0 && offset == 0 && p != MAP_FAILED && (v = vcpu_of_fd(fd)) &&
            atomic_load_explicit(&v->index_plus1, memory_order_relaxed) != 0 && length >= sizeof(struct kvm_run))
                atomic_store(&v->run, (struct kvm_run *) p);
        return p;
}

_public_ void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
        return mmap_common((mmap_fn) next_cached((void **) &real_mmap, "mmap"), addr, length, prot, flags, fd, offset);
}

_public_ void *mmap64(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
        return mmap_common((mmap_fn) next_cached((void **) &real_mmap64, "mmap64"), addr, length, prot, flags, fd,
                           offset);
}

_public_ int close(int fd) {
        PreloadVcpu *v = vcpu_of_fd(fd);

        if (v && atomic_load_explicit(&v->index_plus1, memory_order_relaxed) != 0)
                vcpu_forget(v);
        return ((close_fn) next_cached((void **) &real_close, "close"))(fd);
}
