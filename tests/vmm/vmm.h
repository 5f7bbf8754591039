/* The test VMM's objects (VM, vcpu) and the interface between its generic and per-architecture parts. */
#pragma once

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <linux/kvm.h>

#include "guest-layout.h"
#include "serror/agent.h"

#define VMM_MAX_VCPUS GUEST_MAX_VCPUS
#define VMM_MAX_LABELS 32

/* What the vcpu thread must do the next time it is out of KVM_RUN. */
enum vcpu_request_kind {
        VCPU_REQUEST_NONE,
        VCPU_REQUEST_SELF_INJECT,
};

struct vcpu_request {
        enum vcpu_request_kind kind;
        uint64_t iss;
};

struct vm;

/*
 * One vcpu. fd, index and tid are what an agent needs (DOMAIN.md section 4):
 * the fd for the ioctls, the index to name it, the tid to kick its thread.
 */
struct vcpu {
        struct vm *vm;
        unsigned index;
        int fd;                         /* KVM_CREATE_VCPU result, -EBADF when unset */
        pid_t tid;                      /* gettid() of the vcpu thread, 0 until it runs */
        pthread_t thread;
        bool thread_started;
        struct kvm_run *run;            /* mmap of the vcpu fd */
        size_t run_size;

        /* Posted by the command thread, taken by the vcpu thread between KVM_RUNs. */
        pthread_mutex_t lock;
        pthread_cond_t done_cond;
        struct vcpu_request request;
        bool request_done;

        atomic_uint_fast64_t runs;      /* KVM_RUN calls that returned */
        atomic_uint_fast64_t eintr;     /* ... of which interrupted by a signal */
        atomic_uint_fast64_t heartbeats;
        atomic_uint_fast64_t serrors;  /* SErrors (arm64) or machine checks (x86) the guest took */
        atomic_bool dead;               /* the vcpu stopped on an error */
};

struct vm_label {
        const char *key;
        const char *value;
};

struct vm {
        const char *name;
        struct vm_label labels[VMM_MAX_LABELS];
        unsigned n_labels;
        int kick_signal;
        bool guest_exits;               /* periodic heartbeat exits */

        int kvm_fd;
        int vm_fd;
        void *ram;                      /* host view of guest RAM (RAM_BASE, RAM_SIZE) */
        bool can_inject_serror;         /* arm64 only */
        /* x86_64 only: the guest sets CR4.MCE (else a machine check shuts it
         * down), and the VMM sets MCE up on each vcpu as QEMU does. */
        bool x86_cr4_mce;
        bool x86_setup_mce;
        /* arm64 only: MB_RESET_ON for every vcpu (--reset-on); the vcpus get
         * PSCI 0.2 when it is not 0, so the guest's SYSTEM_RESET reaches KVM. */
        uint32_t arm64_reset_on;

        unsigned n_vcpus;
        struct vcpu vcpus[VMM_MAX_VCPUS];

        atomic_bool stopping;
        int notify_fd;                  /* eventfd: a vcpu thread wants the VMM to stop */

        /* libserror-agent: hands the vcpus to serrord and runs its requests. */
        struct serror_agent *agent;     /* NULL without --attach */
        const char *attach_socket;      /* NULL: the agent's default */
        bool attach;
        bool agent_thread;              /* --agent-mode=thread */
        bool pre_run;                   /* call serror_agent_before_run() (vcpu-thread path) */
        bool has_uuid;
        uint8_t uuid[16];
        atomic_int exit_status;
        atomic_uint system_event;       /* the KVM_SYSTEM_EVENT_* type that ended the VM, 0 if none */
};

/* util.c */
/* Raw ioctl wrapper: returns the result, or -errno. */
int vmm_ioctl(int fd, unsigned long request, void *arg);
/* "EINVAL" for -EINVAL or EINVAL. */
const char *errno_name(int err);
/* One JSON object per line on stdout, flushed; safe from any thread. */
void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes s as a JSON string literal (with quotes) into buf; returns buf. */
const char *json_str(char *buf, size_t size, const char *s);
uint64_t now_ms(void);          /* CLOCK_MONOTONIC */
uint64_t clock_ns(clockid_t clock);
void sleep_ms(unsigned ms);
struct timespec realtime_in_ms(unsigned ms);    /* deadline for pthread_cond_timedwait() */

/* vcpu.c */
/* The VMM's handler for its kick signal; install it before any vcpu thread starts. */
void vcpu_kick_handler(int sig);
/* Sends the kick signal to the vcpu's thread: its KVM_RUN returns -EINTR. */
int vcpu_kick(struct vcpu *v);
/* The vcpu thread: the KVM_RUN loop. */
void *vcpu_thread(void *userdata);
/* Runs on the vcpu thread before every KVM_RUN; the hook for libserror-agent. */
void vmm_before_run(struct vcpu *v);
/* Hands a self-test injection to the vcpu thread, kicks it, waits until served. */
int vcpu_request_self_inject(struct vcpu *v, uint64_t iss, unsigned timeout_ms);
/* Stops the VMM on a vcpu failure: records the status and wakes the main thread. */
void vm_request_stop(struct vm *vm, int status);
/* Makes every vcpu thread leave its loop (kicking it) and joins it. */
void vm_stop_vcpus(struct vm *vm);

static inline uint8_t *guest_ptr(struct vm *vm, uint64_t gpa) {
        return (uint8_t *) vm->ram + (gpa - RAM_BASE);
}

static inline uint8_t *vcpu_mailbox(struct vcpu *v) {
        return guest_ptr(v->vm, MAILBOX_BASE + (uint64_t) v->index * MAILBOX_STRIDE);
}

/* Per architecture (arch-x86_64.c, arch-arm64.c). Each returns 0 or -errno. */
extern const char arch_name[];
int arch_vm_init(struct vm *vm);                /* after KVM_CREATE_VM and the memory slot */
int arch_vcpu_init(struct vcpu *v);             /* after KVM_CREATE_VCPU and the mmap */
/*
 * Handles one KVM_RUN exit on the vcpu thread. Returns 0 to run again, or
 * -errno to stop this vcpu; prints the event that explains it.
 */
int arch_handle_exit(struct vcpu *v);
/* Runs the SError self-test on the vcpu thread and prints its event. */
void arch_self_inject(struct vcpu *v, uint64_t iss);

/* Guest code, assembled from guest-<arch>.S into the VMM's read-only data. */
extern const uint8_t serror_guest_start[];
extern const uint8_t serror_guest_end[];
#if defined(__x86_64__)
extern const uint8_t serror_guest_mc_handler[];
#endif
