/* serror-test-vmm: a small real VMM on /dev/kvm that tests drive over stdin/stdout. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "vmm.h"

/* How long a command waits for a vcpu (the arm64 tier runs under emulation). */
#define COMMAND_TIMEOUT_MS 10000
#define READY_TIMEOUT_MS   60000
#define LINE_MAX_LEN       1024

/*
 * Measured loop rates: about 100k loops/s under this machine's emulating PVM
 * KVM, about 125M loops/s for the arm64 guest under QEMU TCG. Both defaults
 * give a few heartbeats a second there (more on real hardware).
 */
#if defined(__x86_64__)
#define DEFAULT_HEARTBEAT_LOOPS 20000
#else
#define DEFAULT_HEARTBEAT_LOOPS 20000000
#endif

static void emit_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit_error(const char *command, const char *fmt, ...) {
        char msg[512], qmsg[1100], qcmd[200];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        emit("{\"event\":\"error\",\"command\":%s,\"message\":%s}",
             json_str(qcmd, sizeof qcmd, command), json_str(qmsg, sizeof qmsg, msg));
}

/* ------------------------------------------------------------------ set-up */

static int vm_create(struct vm *vm) {
        struct kvm_userspace_memory_region region;
        size_t guest_size = (size_t) (serror_guest_end - serror_guest_start);
        int r;

        vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (vm->kvm_fd < 0) {
                r = -errno;
                fprintf(stderr, "serror-test-vmm: cannot open /dev/kvm: %s\n", strerror(-r));
                return r;
        }

        r = vmm_ioctl(vm->kvm_fd, KVM_GET_API_VERSION, NULL);
        if (r != KVM_API_VERSION) {
                fprintf(stderr, "serror-test-vmm: KVM API version %d, expected %d\n", r, KVM_API_VERSION);
                return -ENOTSUP;
        }
        if (vmm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, (void *) (uintptr_t) KVM_CAP_IMMEDIATE_EXIT) <= 0) {
                fprintf(stderr, "serror-test-vmm: KVM lacks KVM_CAP_IMMEDIATE_EXIT\n");
                return -ENOTSUP;
        }

        r = vmm_ioctl(vm->kvm_fd, KVM_CREATE_VM, NULL);
        if (r < 0) {
                fprintf(stderr, "serror-test-vmm: KVM_CREATE_VM: %s\n", strerror(-r));
                return r;
        }
        vm->vm_fd = r;

        vm->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (vm->ram == MAP_FAILED) {
                vm->ram = NULL;
                return -errno;
        }

        if (guest_size > (size_t) (MAILBOX_BASE - GUEST_CODE_ADDR)) {
                fprintf(stderr, "serror-test-vmm: guest code too large (%zu bytes)\n", guest_size);
                return -E2BIG;
        }
        memcpy(guest_ptr(vm, GUEST_CODE_ADDR), serror_guest_start, guest_size);

        region = (struct kvm_userspace_memory_region) {
                .slot = 0,
                .guest_phys_addr = RAM_BASE,
                .memory_size = RAM_SIZE,
                .userspace_addr = (uintptr_t) vm->ram,
        };
        r = vmm_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
        if (r < 0) {
                fprintf(stderr, "serror-test-vmm: KVM_SET_USER_MEMORY_REGION: %s\n", strerror(-r));
                return r;
        }

        return arch_vm_init(vm);
}

static int vcpu_create(struct vm *vm, unsigned index, long run_size) {
        struct vcpu *v = &vm->vcpus[index];
        uint8_t *mb = vcpu_mailbox(v);
        int r;

        r = vmm_ioctl(vm->vm_fd, KVM_CREATE_VCPU, (void *) (uintptr_t) index);
        if (r < 0) {
                fprintf(stderr, "serror-test-vmm: KVM_CREATE_VCPU %u: %s\n", index, strerror(-r));
                return r;
        }
        v->fd = r;

        v->run = mmap(NULL, (size_t) run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
        if (v->run == MAP_FAILED) {
                v->run = NULL;
                return -errno;
        }
        v->run_size = (size_t) run_size;

        /* Start unmasked; MB_ACK_NONE makes the guest apply it (and proves it runs). */
        __atomic_store_n((uint32_t *) (mb + MB_MASK), 0, __ATOMIC_RELEASE);
        __atomic_store_n((uint32_t *) (mb + MB_ACK), MB_ACK_NONE, __ATOMIC_RELEASE);
#if defined(__aarch64__)
        __atomic_store_n((uint32_t *) (mb + MB_RESET_ON), vm->arm64_reset_on, __ATOMIC_RELEASE);
#endif

        return arch_vcpu_init(v);
}

static void vm_destroy(struct vm *vm) {
        for (unsigned i = 0; i < vm->n_vcpus; i++) {
                struct vcpu *v = &vm->vcpus[i];
                if (v->run)
                        munmap(v->run, v->run_size);
                if (v->fd >= 0)
                        close(v->fd);
                pthread_mutex_destroy(&v->lock);
                pthread_cond_destroy(&v->done_cond);
        }
        if (vm->vm_fd >= 0)
                close(vm->vm_fd);
        if (vm->ram)
                munmap(vm->ram, RAM_SIZE);
        if (vm->kvm_fd >= 0)
                close(vm->kvm_fd);
        if (vm->notify_fd >= 0)
                close(vm->notify_fd);
}

/* ------------------------------------------------------------------ events */

static char *vcpus_json(struct vm *vm, bool details) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        fputc('[', f);
        for (unsigned i = 0; i < vm->n_vcpus; i++) {
                struct vcpu *v = &vm->vcpus[i];
                uint8_t *mb = vcpu_mailbox(v);

                fprintf(f, "%s{\"index\":%u,\"tid\":%d,\"fd\":%d", i ? "," : "", v->index,
                        (int) __atomic_load_n(&v->tid, __ATOMIC_ACQUIRE), v->fd);
                if (details)
                        fprintf(f, ",\"masked\":%s,\"loops\":%" PRIu64 ",\"runs\":%" PRIu64
                                ",\"eintr\":%" PRIu64 ",\"heartbeats\":%" PRIu64
                                ",\"serrors\":%" PRIu64 ",\"dead\":%s",
                                __atomic_load_n((uint32_t *) (mb + MB_ACK), __ATOMIC_ACQUIRE) == 1 ? "true" : "false",
                                __atomic_load_n((uint64_t *) (mb + MB_LOOPS), __ATOMIC_RELAXED),
                                (uint64_t) atomic_load(&v->runs), (uint64_t) atomic_load(&v->eintr),
                                (uint64_t) atomic_load(&v->heartbeats), (uint64_t) atomic_load(&v->serrors),
                                atomic_load(&v->dead) ? "true" : "false");
                fputc('}', f);
        }
        fputc(']', f);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static void emit_ready(struct vm *vm) {
        char q[512], qk[256], *vcpus;
        char *labels = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&labels, &size);

        if (!f)
                return;
        fputc('{', f);
        for (unsigned i = 0; i < vm->n_labels; i++)
                fprintf(f, "%s%s:%s", i ? "," : "", json_str(qk, sizeof qk, vm->labels[i].key),
                        json_str(q, sizeof q, vm->labels[i].value));
        fputc('}', f);
        if (fclose(f) != 0) {
                free(labels);
                return;
        }
        vcpus = vcpus_json(vm, false);
        emit("{\"event\":\"ready\",\"name\":%s,\"pid\":%d,\"arch\":\"%s\",\"kick_signal\":%d,"
             "\"guest_exits\":\"%s\",\"inject_serror_esr\":%s,\"labels\":%s,\"vcpus\":%s}",
             json_str(q, sizeof q, vm->name), (int) getpid(), arch_name, vm->kick_signal,
             vm->guest_exits ? "periodic" : "never", vm->can_inject_serror ? "true" : "false",
             labels, vcpus ? vcpus : "[]");
        free(labels);
        free(vcpus);
}

/* ------------------------------------------------------------------ commands */

static int parse_vcpu(struct vm *vm, const char *s, bool allow_all, int *ret) {
        char *end;
        unsigned long n;

        if (!s)
                return -EINVAL;
        if (allow_all && strcmp(s, "all") == 0) {
                *ret = -1;
                return 0;
        }
        errno = 0;
        n = strtoul(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || n >= vm->n_vcpus)
                return -EINVAL;
        *ret = (int) n;
        return 0;
}

static int wait_mask_ack(struct vcpu *v, uint32_t value) {
        uint8_t *mb = vcpu_mailbox(v);
        uint64_t deadline = now_ms() + COMMAND_TIMEOUT_MS;

        while (__atomic_load_n((uint32_t *) (mb + MB_ACK), __ATOMIC_ACQUIRE) != value) {
                if (atomic_load(&v->dead))
                        return -EIO;
                if (now_ms() > deadline)
                        return -ETIMEDOUT;
                sleep_ms(1);
        }
        return 0;
}

static void command_mask(struct vm *vm, const char *cmd, const char *arg, uint32_t value) {
        int which, r;

        if (parse_vcpu(vm, arg, true, &which) < 0) {
                emit_error(cmd, "expected a vcpu index below %u or \"all\", got \"%s\"", vm->n_vcpus, arg ? arg : "");
                return;
        }
        /* Write every mailbox first, so that "all" changes the vcpus at about the same time. */
        for (unsigned i = 0; i < vm->n_vcpus; i++)
                if (which < 0 || (unsigned) which == i)
                        __atomic_store_n((uint32_t *) (vcpu_mailbox(&vm->vcpus[i]) + MB_MASK), value, __ATOMIC_RELEASE);
        for (unsigned i = 0; i < vm->n_vcpus; i++) {
                if (which >= 0 && (unsigned) which != i)
                        continue;
                r = wait_mask_ack(&vm->vcpus[i], value);
                if (r < 0)
                        emit_error(cmd, "vcpu %u did not apply the mask: %s", i, strerror(-r));
                else
                        emit("{\"event\":\"%s\",\"vcpu\":%u,\"masked\":%s}", cmd, i, value ? "true" : "false");
        }
}

static void command_inject(struct vm *vm, const char *vcpu_arg, const char *iss_arg) {
        uint64_t iss;
        char *end;
        int which, r;

        if (parse_vcpu(vm, vcpu_arg, false, &which) < 0) {
                emit_error("inject", "expected a vcpu index below %u, got \"%s\"", vm->n_vcpus, vcpu_arg ? vcpu_arg : "");
                return;
        }
        if (!iss_arg) {
                emit_error("inject", "expected: inject VCPU ISS");
                return;
        }
        errno = 0;
        iss = strtoull(iss_arg, &end, 0);
        if (errno || end == iss_arg || *end || iss_arg[0] == '-') {
                emit_error("inject", "expected an ISS number, got \"%s\"", iss_arg);
                return;
        }
        if (atomic_load(&vm->vcpus[which].dead)) {
                emit_error("inject", "vcpu %d has stopped", which);
                return;
        }
        /* The vcpu thread prints the self-inject event itself. */
        r = vcpu_request_self_inject(&vm->vcpus[which], iss, COMMAND_TIMEOUT_MS);
        if (r < 0)
                emit_error("inject", "vcpu %d did not serve the request: %s", which, strerror(-r));
}

/* Returns true when the VMM should quit. */
static bool run_command(struct vm *vm, char *line) {
        char *save = NULL;
        char *verb = strtok_r(line, " \t\r", &save);
        char *a1, *a2, *extra;

        if (!verb)
                return false;
        a1 = strtok_r(NULL, " \t\r", &save);
        a2 = strtok_r(NULL, " \t\r", &save);
        extra = strtok_r(NULL, " \t\r", &save);

        if (strcmp(verb, "quit") == 0)
                return true;
        if (extra) {
                emit_error(verb, "too many arguments");
                return false;
        }
        if (strcmp(verb, "mask") == 0 && !a2)
                command_mask(vm, "mask", a1, 1);
        else if (strcmp(verb, "unmask") == 0 && !a2)
                command_mask(vm, "unmask", a1, 0);
        else if (strcmp(verb, "inject") == 0)
                /* On x86 too: the request still travels to the vcpu thread, which says no. */
                command_inject(vm, a1, a2);
        else if (strcmp(verb, "status") == 0 && !a1) {
                char *vcpus = vcpus_json(vm, true);
                emit("{\"event\":\"status\",\"vcpus\":%s}", vcpus ? vcpus : "[]");
                free(vcpus);
        } else
                emit_error(verb, "unknown command or wrong arguments (mask VCPU|all, unmask VCPU|all, inject VCPU ISS, status, quit)");
        return false;
}

/* ------------------------------------------------------------------ main loop */

enum stop_reason { STOP_NONE, STOP_QUIT, STOP_SIGNAL, STOP_VCPU };

static enum stop_reason main_loop(struct vm *vm, int sfd, int *ret_signal) {
        char buf[LINE_MAX_LEN + 1];
        size_t len = 0;
        bool stdin_open = true, discarding = false;

        for (;;) {
                struct pollfd pfd[4] = {
                        { .fd = sfd, .events = POLLIN },
                        { .fd = vm->notify_fd, .events = POLLIN },
                        { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
                        /* Poll mode: the agent's one stable fd lives in our loop. */
                        { .fd = vm->agent && !vm->agent_thread ? serror_agent_get_fd(vm->agent) : -1, .events = POLLIN },
                };
                ssize_t n;

                if (poll(pfd, 4, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return STOP_VCPU;
                }
                if (pfd[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof si) == (ssize_t) sizeof si) {
                                *ret_signal = (int) si.ssi_signo;
                                return STOP_SIGNAL;
                        }
                }
                if (pfd[1].revents & POLLIN)
                        return STOP_VCPU;
                if (pfd[3].revents & POLLIN)
                        (void) serror_agent_process(vm->agent);
                if (!(pfd[2].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;

                n = read(STDIN_FILENO, buf + len, LINE_MAX_LEN - len);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n <= 0) {
                        /* Tests may close stdin; the VM keeps running until a signal. */
                        stdin_open = false;
                        continue;
                }
                len += (size_t) n;
                for (;;) {
                        char *nl = memchr(buf, '\n', len);
                        size_t used;

                        if (!nl) {
                                if (len == LINE_MAX_LEN) {
                                        if (!discarding)
                                                emit_error("", "command line longer than %d bytes", LINE_MAX_LEN);
                                        discarding = true;
                                        len = 0;
                                }
                                break;
                        }
                        *nl = '\0';
                        used = (size_t) (nl - buf) + 1;
                        if (!discarding && run_command(vm, buf))
                                return STOP_QUIT;
                        discarding = false;
                        memmove(buf, buf + used, len - used);
                        len -= used;
                }
        }
}

/* Waits until every guest has applied its first mailbox value: its code runs. */
static int wait_ready(struct vm *vm) {
        for (unsigned i = 0; i < vm->n_vcpus; i++) {
                uint8_t *mb = vcpu_mailbox(&vm->vcpus[i]);
                uint64_t deadline = now_ms() + READY_TIMEOUT_MS;

                while (__atomic_load_n((uint32_t *) (mb + MB_ACK), __ATOMIC_ACQUIRE) == MB_ACK_NONE) {
                        if (atomic_load(&vm->vcpus[i].dead))
                                return -EIO;
                        if (now_ms() > deadline)
                                return -ETIMEDOUT;
                        sleep_ms(1);
                }
        }
        return 0;
}

/* ------------------------------------------------------------------ options */

static void help(void) {
        printf("Usage: serror-test-vmm [OPTION]...\n"
               "A minimal KVM VMM for serror's tests. Prints one JSON event per line on\n"
               "stdout and reads commands from stdin:\n"
               "  mask VCPU|all       guest masks SErrors (PSTATE.A); prints \"mask\" once applied\n"
               "  unmask VCPU|all     guest unmasks SErrors\n"
               "  inject VCPU ISS     self-test (arm64): the vcpu's own thread makes an SError\n"
               "                      pending with KVM_SET_VCPU_EVENTS between two KVM_RUNs;\n"
               "                      on x86_64 ISS is an MCi_STATUS written to bank 1 with\n"
               "                      KVM_X86_SET_MCE (RIPV|EIPV|MCIP with it when UC is set)\n"
               "  status              counters of every vcpu\n"
               "  quit                stop the VM and exit\n"
               "EOF on stdin keeps the VM running; SIGTERM or SIGINT stops it.\n"
               "\n"
               "Options:\n"
               "  --name=NAME                 VM name (default serror-test-vmm)\n"
               "  --vcpus=N                   number of vcpus, 1 to %d (default 1)\n"
               "  --label=KEY=VALUE           a label for the VM (repeatable)\n"
               "  --kick-signal=N             signal accepted as a vcpu kick: SIGUSR1 (%d),\n"
               "                              SIGUSR2 (%d) or %d to %d (default %d)\n"
               "  --guest-exits=periodic|never  heartbeat exits from the guest loop, or none:\n"
               "                              the vcpu then leaves KVM_RUN only when kicked\n"
               "  --heartbeat=LOOPS           guest loops between heartbeats (default %d)\n"
               "  --attach[=SOCKET]           hand the vcpus to serrord with libserror-agent\n"
               "                              (default socket: $SERROR_ATTACH_SOCKET or\n"
               "                              /run/serrord/attach.sock)\n"
               "  --agent-mode=poll|thread    the agent runs in this VMM's main loop (poll,\n"
               "                              default) or on a thread of its own\n"
               "  --no-pre-run                do not call serror_agent_before_run(): the agent\n"
               "                              then serves requests from its worker threads\n"
               "  --uuid=UUID                 the VM's UUID, sent to serrord\n"
               "  --no-cr4-mce                x86_64: the guest leaves CR4.MCE clear, so a\n"
               "                              machine check shuts it down\n"
               "  --no-mce-setup              x86_64: no KVM_X86_SETUP_MCE by the VMM (KVM's\n"
               "                              default: 32 banks, every MCi_CTL 0)\n"
               "  --reset-on=CLASS[,CLASS...] arm64: after taking an SError of one of these\n"
               "                              classes (uc, ueu, ueo, uer, ce) the guest asks\n"
               "                              PSCI for SYSTEM_RESET, and the VMM exits with the\n"
               "                              event system-event\n"
               "  --help                      show this help\n",
               VMM_MAX_VCPUS, SIGUSR1, SIGUSR2, SIGRTMIN, SIGRTMAX, SIGUSR1, DEFAULT_HEARTBEAT_LOOPS);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret) {
        char *end;
        unsigned long n;

        errno = 0;
        n = strtoul(s, &end, 0);
        if (errno || end == s || *end || s[0] == '-' || n > max)
                return -EINVAL;
        *ret = n;
        return 0;
}

/* --reset-on: SError classes by name, as bits of MB_RESET_ON (bit n: AET n). */
static int parse_reset_on(const char *list, uint32_t *ret) {
        static const struct { const char *name; unsigned aet; } classes[] = {
                { "uc", 0 }, { "ueu", 1 }, { "ueo", 2 }, { "uer", 3 }, { "ce", 6 },
        };
        char copy[64], *save = NULL;
        uint32_t mask = 0;

#if !defined(__aarch64__)
        fprintf(stderr, "serror-test-vmm: --reset-on is for arm64 guests\n");
        return -EINVAL;
#endif
        if (strlen(list) >= sizeof copy) {
                fprintf(stderr, "serror-test-vmm: --reset-on: \"%s\" is too long\n", list);
                return -EINVAL;
        }
        strcpy(copy, list);
        for (char *word = strtok_r(copy, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
                size_t i;

                for (i = 0; i < sizeof classes / sizeof classes[0]; i++)
                        if (strcmp(word, classes[i].name) == 0)
                                break;
                if (i == sizeof classes / sizeof classes[0]) {
                        fprintf(stderr, "serror-test-vmm: --reset-on takes uc, ueu, ueo, uer or ce, got \"%s\"\n", word);
                        return -EINVAL;
                }
                mask |= 1u << classes[i].aet;
        }
        if (!mask) {
                fprintf(stderr, "serror-test-vmm: --reset-on needs at least one class\n");
                return -EINVAL;
        }
        *ret = mask;
        return 0;
}

/* Returns 0 to run, 1 to exit successfully (--help), -EINVAL on a bad option. */
static int parse_options(int argc, char **argv, struct vm *vm, unsigned *ret_vcpus, uint64_t *ret_heartbeat) {
        enum { OPT_NAME = 256, OPT_VCPUS, OPT_LABEL, OPT_KICK, OPT_EXITS, OPT_HEARTBEAT, OPT_HELP, OPT_ATTACH,
               OPT_AGENT_MODE, OPT_NO_PRE_RUN, OPT_UUID, OPT_NO_CR4_MCE, OPT_NO_MCE_SETUP, OPT_RESET_ON };
        static const struct option options[] = {
                { "name",        required_argument, NULL, OPT_NAME },
                { "vcpus",       required_argument, NULL, OPT_VCPUS },
                { "label",       required_argument, NULL, OPT_LABEL },
                { "kick-signal", required_argument, NULL, OPT_KICK },
                { "guest-exits", required_argument, NULL, OPT_EXITS },
                { "heartbeat",   required_argument, NULL, OPT_HEARTBEAT },
                { "help",        no_argument,       NULL, OPT_HELP },
                { "attach",      optional_argument, NULL, OPT_ATTACH },
                { "agent-mode",  required_argument, NULL, OPT_AGENT_MODE },
                { "no-pre-run",  no_argument,       NULL, OPT_NO_PRE_RUN },
                { "uuid",        required_argument, NULL, OPT_UUID },
                { "no-cr4-mce",  no_argument,       NULL, OPT_NO_CR4_MCE },
                { "no-mce-setup", no_argument,      NULL, OPT_NO_MCE_SETUP },
                { "reset-on",    required_argument, NULL, OPT_RESET_ON },
                {}
        };
        unsigned long n;
        char *eq;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case OPT_NAME:
                        if (!*optarg) {
                                fprintf(stderr, "serror-test-vmm: --name must not be empty\n");
                                return -EINVAL;
                        }
                        vm->name = optarg;
                        break;
                case OPT_VCPUS:
                        if (parse_uint(optarg, VMM_MAX_VCPUS, &n) < 0 || n == 0) {
                                fprintf(stderr, "serror-test-vmm: --vcpus takes 1 to %d, got \"%s\"\n", VMM_MAX_VCPUS, optarg);
                                return -EINVAL;
                        }
                        *ret_vcpus = (unsigned) n;
                        break;
                case OPT_LABEL:
                        eq = strchr(optarg, '=');
                        if (!eq || eq == optarg) {
                                fprintf(stderr, "serror-test-vmm: --label takes KEY=VALUE, got \"%s\"\n", optarg);
                                return -EINVAL;
                        }
                        if (vm->n_labels >= VMM_MAX_LABELS) {
                                fprintf(stderr, "serror-test-vmm: at most %d labels\n", VMM_MAX_LABELS);
                                return -EINVAL;
                        }
                        *eq = '\0';
                        vm->labels[vm->n_labels++] = (struct vm_label) { .key = optarg, .value = eq + 1 };
                        break;
                case OPT_KICK:
                        if (parse_uint(optarg, INT_MAX, &n) < 0 ||
                            !(n == SIGUSR1 || n == SIGUSR2 || ((int) n >= SIGRTMIN && (int) n <= SIGRTMAX))) {
                                fprintf(stderr, "serror-test-vmm: --kick-signal takes %d, %d or %d to %d, got \"%s\"\n",
                                        SIGUSR1, SIGUSR2, SIGRTMIN, SIGRTMAX, optarg);
                                return -EINVAL;
                        }
                        vm->kick_signal = (int) n;
                        break;
                case OPT_EXITS:
                        if (strcmp(optarg, "periodic") == 0)
                                vm->guest_exits = true;
                        else if (strcmp(optarg, "never") == 0)
                                vm->guest_exits = false;
                        else {
                                fprintf(stderr, "serror-test-vmm: --guest-exits takes periodic or never, got \"%s\"\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_HEARTBEAT:
                        if (parse_uint(optarg, ULONG_MAX, &n) < 0 || n == 0) {
                                fprintf(stderr, "serror-test-vmm: --heartbeat takes a positive loop count, got \"%s\"\n", optarg);
                                return -EINVAL;
                        }
                        *ret_heartbeat = n;
                        break;
                case OPT_HELP:
                        help();
                        return 1;
                case OPT_NO_CR4_MCE:
                        vm->x86_cr4_mce = false;
                        break;
                case OPT_NO_MCE_SETUP:
                        vm->x86_setup_mce = false;
                        break;
                case OPT_RESET_ON:
                        if (parse_reset_on(optarg, &vm->arm64_reset_on) < 0)
                                return -EINVAL;
                        break;
                case OPT_ATTACH:
                        vm->attach = true;
                        vm->attach_socket = optarg;
                        break;
                case OPT_AGENT_MODE:
                        if (strcmp(optarg, "poll") == 0)
                                vm->agent_thread = false;
                        else if (strcmp(optarg, "thread") == 0)
                                vm->agent_thread = true;
                        else {
                                fprintf(stderr, "serror-test-vmm: --agent-mode takes poll or thread, got \"%s\"\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_NO_PRE_RUN:
                        vm->pre_run = false;
                        break;
                case OPT_UUID: {
                        unsigned b[16];
                        if (strlen(optarg) != 36 ||
                            sscanf(optarg, "%2x%2x%2x%2x-%2x%2x-%2x%2x-%2x%2x-%2x%2x%2x%2x%2x%2x", &b[0], &b[1], &b[2],
                                   &b[3], &b[4], &b[5], &b[6], &b[7], &b[8], &b[9], &b[10], &b[11], &b[12], &b[13],
                                   &b[14], &b[15]) != 16) {
                                fprintf(stderr, "serror-test-vmm: --uuid takes a UUID such as 6b1e...-..., got \"%s\"\n", optarg);
                                return -EINVAL;
                        }
                        for (int i = 0; i < 16; i++)
                                vm->uuid[i] = (uint8_t) b[i];
                        vm->has_uuid = true;
                        break;
                }
                default:
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "serror-test-vmm: unexpected argument \"%s\"\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

/* ------------------------------------------------------------------ agent */

/* The agent's log lines become events, in order with everything else. */
static void agent_log(int level, const char *message, void *userdata) {
        char q[1024];

        emit("{\"event\":\"agent\",\"level\":%d,\"message\":%s}", level, json_str(q, sizeof q, message));
}

static int agent_start(struct vm *vm) {
        const char *labels[VMM_MAX_LABELS + 1];
        char label_text[VMM_MAX_LABELS][256];
        struct serror_agent *agent = NULL;
        serror_agent_options o = {
                .size = sizeof(o),
                .socket_path = vm->attach_socket,
                .vm_name = vm->name,
                .uuid = vm->has_uuid ? vm->uuid : NULL,
                .labels = labels,
                .log = agent_log,
        };
        int r;

        for (unsigned i = 0; i < vm->n_labels; i++) {
                snprintf(label_text[i], sizeof label_text[i], "%s=%s", vm->labels[i].key, vm->labels[i].value);
                labels[i] = label_text[i];
        }
        labels[vm->n_labels] = NULL;

        r = serror_agent_new(&o, &agent);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < vm->n_vcpus; i++) {
                struct vcpu *v = &vm->vcpus[i];
                r = serror_agent_add_vcpu(agent, v->index, v->fd, v->tid, vm->kick_signal);
                if (r < 0) {
                        serror_agent_free(agent);
                        return r;
                }
        }
        if (vm->agent_thread) {
                r = serror_agent_start_thread(agent);
                if (r < 0) {
                        serror_agent_free(agent);
                        return r;
                }
        }
        /* Published last: vcpu threads start calling before_run() from here on. */
        __atomic_store_n(&vm->agent, agent, __ATOMIC_RELEASE);
        return 0;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
        static struct vm vm;    /* large (64 vcpus): keep it off the stack */
        unsigned n_vcpus = 1;
        uint64_t heartbeat = DEFAULT_HEARTBEAT_LOOPS;
        const char *reason = "setup-failed";
        struct sigaction sa = { .sa_handler = vcpu_kick_handler };
        sigset_t blocked;
        long run_size;
        int sfd = -EBADF, sig = 0, r;
        enum stop_reason stop;

        vm = (struct vm) {
                .name = "serror-test-vmm",
                .kick_signal = SIGUSR1,
                .guest_exits = true,
                .x86_cr4_mce = true,
                .x86_setup_mce = true,
                .kvm_fd = -EBADF,
                .vm_fd = -EBADF,
                .notify_fd = -EBADF,
                .pre_run = true,
        };
        r = parse_options(argc, argv, &vm, &n_vcpus, &heartbeat);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : 2;
        vm.n_vcpus = n_vcpus;
        for (unsigned i = 0; i < vm.n_vcpus; i++) {
                struct vcpu *v = &vm.vcpus[i];
                v->vm = &vm;
                v->index = i;
                v->fd = -EBADF;
                pthread_mutex_init(&v->lock, NULL);
                pthread_cond_init(&v->done_cond, NULL);
        }

        /* A test that stops reading our stdout must not kill the VMM. */
        signal(SIGPIPE, SIG_IGN);

        /*
         * Shutdown signals come through a signalfd on the main thread; kicks are
         * blocked everywhere except on the vcpu threads, so that a process-wide
         * kick cannot land on a thread that has no KVM_RUN to interrupt.
         */
        sigemptyset(&blocked);
        sigaddset(&blocked, SIGTERM);
        sigaddset(&blocked, SIGINT);
        sigaddset(&blocked, vm.kick_signal);
        pthread_sigmask(SIG_BLOCK, &blocked, NULL);
        sigemptyset(&sa.sa_mask);
        if (sigaction(vm.kick_signal, &sa, NULL) < 0) {
                r = -errno;
                goto fail;
        }
        sigdelset(&blocked, vm.kick_signal);
        sfd = signalfd(-1, &blocked, SFD_CLOEXEC);
        if (sfd < 0) {
                r = -errno;
                goto fail;
        }
        vm.notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (vm.notify_fd < 0) {
                r = -errno;
                goto fail;
        }

        r = vm_create(&vm);
        if (r < 0)
                goto fail;
        run_size = vmm_ioctl(vm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
        if (run_size < (long) sizeof(struct kvm_run)) {
                r = run_size < 0 ? (int) run_size : -EINVAL;
                goto fail;
        }
        for (unsigned i = 0; i < vm.n_vcpus; i++) {
                __atomic_store_n((uint64_t *) (vcpu_mailbox(&vm.vcpus[i]) + MB_HEARTBEAT),
                                 vm.guest_exits ? heartbeat : 0, __ATOMIC_RELEASE);
                r = vcpu_create(&vm, i, run_size);
                if (r < 0)
                        goto fail;
        }
        for (unsigned i = 0; i < vm.n_vcpus; i++) {
                r = -pthread_create(&vm.vcpus[i].thread, NULL, vcpu_thread, &vm.vcpus[i]);
                if (r < 0)
                        goto fail;
                vm.vcpus[i].thread_started = true;
        }

        r = wait_ready(&vm);
        if (r < 0) {
                fprintf(stderr, "serror-test-vmm: the guest did not start: %s\n", strerror(-r));
                reason = r == -ETIMEDOUT ? "ready-timeout" : "vcpu-error";
                goto fail;
        }
        for (unsigned i = 0; i < vm.n_vcpus; i++)
                while (__atomic_load_n(&vm.vcpus[i].tid, __ATOMIC_ACQUIRE) == 0)
                        sleep_ms(1);
        if (vm.attach) {
                r = agent_start(&vm);
                if (r < 0) {
                        fprintf(stderr, "serror-test-vmm: libserror-agent: %s\n", strerror(-r));
                        goto fail;
                }
        }
        emit_ready(&vm);

        stop = main_loop(&vm, sfd, &sig);
        vm_stop_vcpus(&vm);
        /* BYE while the vcpu fds are still open; the agent never closes them. */
        serror_agent_free(vm.agent);
        vm.agent = NULL;
        switch (stop) {
        case STOP_QUIT:
                reason = "quit";
                break;
        case STOP_SIGNAL:
                reason = "signal";
                break;
        default:
                /* A guest that reset or powered off ended the VM as a real VMM's would: not an error. */
                if (atomic_load(&vm.system_event)) {
                        reason = "system-event";
                        break;
                }
                reason = "vcpu-error";
                if (atomic_load(&vm.exit_status) == 0)
                        atomic_store(&vm.exit_status, 1);
                break;
        }
        r = atomic_load(&vm.exit_status);
        emit("{\"event\":\"exit\",\"reason\":\"%s\",\"signal\":%d,\"status\":%d}", reason, sig, r);
        vm_destroy(&vm);
        close(sfd);
        return r;

fail:
        if (strcmp(reason, "setup-failed") == 0)
                fprintf(stderr, "serror-test-vmm: set-up failed: %s\n", strerror(-r));
        vm_stop_vcpus(&vm);
        serror_agent_free(vm.agent);
        vm.agent = NULL;
        emit("{\"event\":\"exit\",\"reason\":\"%s\",\"signal\":0,\"status\":1}", reason);
        vm_destroy(&vm);
        if (sfd >= 0)
                close(sfd);
        return EXIT_FAILURE;
}
