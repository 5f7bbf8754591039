/* vcpu threads of the test VMM: the KVM_RUN loop, the kick signal, and requests served between two KVM_RUNs. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "vmm.h"

#define KICK_INTERVAL_MS 5
#define JOIN_TIMEOUT_MS  5000

/* The vcpu this thread runs, for the kick handler; NULL on other threads. */
static __thread struct vcpu *current_vcpu;

/*
 * The kick handler. A kick that lands while the thread is in KVM_RUN makes it
 * return -EINTR by itself; one that lands just before KVM_RUN would be lost, so
 * the handler also sets immediate_exit, which makes the next KVM_RUN return
 * -EINTR at once (api.rst, "immediate_exit"; QEMU's kick works the same way).
 * The vcpu loop clears it after each KVM_RUN, before it looks for work, so
 * whoever posts work and then kicks is always served.
 */
void vcpu_kick_handler(int sig) {
        struct vcpu *v = current_vcpu;

        if (v && v->run)
                __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELAXED);
}

int vcpu_kick(struct vcpu *v) {
        if (__atomic_load_n(&v->tid, __ATOMIC_ACQUIRE) <= 0)
                return -ESRCH;
        return pthread_kill(v->thread, v->vm->kick_signal) == 0 ? 0 : -ESRCH;
}

void vm_request_stop(struct vm *vm, int status) {
        uint64_t one = 1;
        int expected = 0;

        atomic_compare_exchange_strong(&vm->exit_status, &expected, status);
        if (write(vm->notify_fd, &one, sizeof one) < 0) {
                /* Only fails if the counter would overflow: the main thread is woken already. */
        }
}

/*
 * Called on the vcpu thread right before every KVM_RUN, with the vcpu mutex
 * free: libserror-agent serves serrord's requests for this vcpu here (GET /
 * SET / GET between two KVM_RUNs, DOMAIN.md section 5). With --no-pre-run
 * the agent uses its own workers and repeated kicks instead.
 */
void vmm_before_run(struct vcpu *v) {
        struct serror_agent *agent = __atomic_load_n(&v->vm->agent, __ATOMIC_ACQUIRE);

        if (agent && v->vm->pre_run)
                serror_agent_before_run(agent, v->index);
}

/* And after every KVM_RUN that returned an exit: the agent reports the exits that
 * stop or end the VM (a PSCI reset, ...) as what the guest did after an injection. */
static void vmm_after_run(struct vcpu *v) {
        struct serror_agent *agent = __atomic_load_n(&v->vm->agent, __ATOMIC_ACQUIRE);

        if (agent)
                serror_agent_after_run(agent, v->index, v->run);
}

static void vcpu_serve_request(struct vcpu *v) {
        pthread_mutex_lock(&v->lock);
        if (v->request.kind == VCPU_REQUEST_SELF_INJECT) {
                arch_self_inject(v, v->request.iss);
                v->request.kind = VCPU_REQUEST_NONE;
                v->request_done = true;
                pthread_cond_broadcast(&v->done_cond);
        }
        pthread_mutex_unlock(&v->lock);
}

void *vcpu_thread(void *userdata) {
        struct vcpu *v = userdata;
        struct vm *vm = v->vm;
        sigset_t kick;
        char name[16];
        int r;

        current_vcpu = v;
        /* Named as QEMU names its vcpu threads (-name ...,debug-threads=on). */
        (void) snprintf(name, sizeof(name), "CPU %u/KVM", v->index);
        (void) pthread_setname_np(pthread_self(), name);
        __atomic_store_n(&v->tid, gettid(), __ATOMIC_RELEASE);

        /* Everything else stays blocked (inherited): only kicks reach this thread. */
        sigemptyset(&kick);
        sigaddset(&kick, vm->kick_signal);
        pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

        for (;;) {
                if (atomic_load(&vm->stopping))
                        break;
                vcpu_serve_request(v);
                vmm_before_run(v);

                r = vmm_ioctl(v->fd, KVM_RUN, NULL);
                __atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
                atomic_fetch_add(&v->runs, 1);
                if (r == -EINTR || r == -EAGAIN) {
                        atomic_fetch_add(&v->eintr, 1);
                        continue;
                }
                if (r < 0) {
                        emit("{\"event\":\"vcpu-error\",\"vcpu\":%u,\"error\":\"KVM_RUN\",\"errno\":\"%s\"}",
                             v->index, errno_name(r));
                        break;
                }
                vmm_after_run(v);
                r = arch_handle_exit(v);
                if (r < 0)
                        break;
        }

        if (!atomic_load(&vm->stopping)) {
                atomic_store(&v->dead, true);
                vm_request_stop(vm, atomic_load(&vm->system_event) ? 0 : 1);
        }
        /* Nobody serves requests any more: release a waiting command. */
        pthread_mutex_lock(&v->lock);
        if (v->request.kind != VCPU_REQUEST_NONE) {
                v->request.kind = VCPU_REQUEST_NONE;
                v->request_done = true;
                pthread_cond_broadcast(&v->done_cond);
        }
        pthread_mutex_unlock(&v->lock);
        return NULL;
}

int vcpu_request_self_inject(struct vcpu *v, uint64_t iss, unsigned timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;
        int r = 0;

        pthread_mutex_lock(&v->lock);
        if (v->request.kind != VCPU_REQUEST_NONE) {
                pthread_mutex_unlock(&v->lock);
                return -EBUSY;
        }
        v->request = (struct vcpu_request) { .kind = VCPU_REQUEST_SELF_INJECT, .iss = iss };
        v->request_done = false;
        /* One kick is enough when it lands; repeat only in case the thread was not running yet. */
        while (!v->request_done) {
                struct timespec ts;

                pthread_mutex_unlock(&v->lock);
                r = vcpu_kick(v);
                pthread_mutex_lock(&v->lock);
                if (r < 0 || v->request_done)
                        break;
                if (now_ms() > deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                ts = realtime_in_ms(KICK_INTERVAL_MS);
                pthread_cond_timedwait(&v->done_cond, &v->lock, &ts);
        }
        if (v->request_done)
                r = 0;
        else
                v->request.kind = VCPU_REQUEST_NONE;
        pthread_mutex_unlock(&v->lock);
        return r;
}

void vm_stop_vcpus(struct vm *vm) {
        atomic_store(&vm->stopping, true);
        for (unsigned i = 0; i < vm->n_vcpus; i++) {
                struct vcpu *v = &vm->vcpus[i];
                uint64_t deadline = now_ms() + JOIN_TIMEOUT_MS;

                if (!v->thread_started)
                        continue;
                for (;;) {
                        struct timespec ts;

                        vcpu_kick(v);
                        ts = realtime_in_ms(20);
                        if (pthread_timedjoin_np(v->thread, NULL, &ts) == 0) {
                                v->thread_started = false;
                                break;
                        }
                        if (now_ms() > deadline) {
                                fprintf(stderr, "serror-test-vmm: vcpu %u thread did not stop\n", i);
                                break;
                        }
                }
        }
}
