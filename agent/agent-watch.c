/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-agent's reaction watch: when the guest took an SError, and the KVM_RUN exits that stop or end the VM. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "agent-internal.h"
#include "agent-kvm.h"
#include "reaction.h"

/* The core names KVM's numbers without a KVM header; they are the kernel's ABI. */
_Static_assert(REACTION_KVM_EXIT_SHUTDOWN == KVM_EXIT_SHUTDOWN, "KVM_EXIT_SHUTDOWN");
_Static_assert(REACTION_KVM_EXIT_FAIL_ENTRY == KVM_EXIT_FAIL_ENTRY, "KVM_EXIT_FAIL_ENTRY");
_Static_assert(REACTION_KVM_EXIT_INTERNAL_ERROR == KVM_EXIT_INTERNAL_ERROR, "KVM_EXIT_INTERNAL_ERROR");
_Static_assert(REACTION_KVM_EXIT_SYSTEM_EVENT == KVM_EXIT_SYSTEM_EVENT, "KVM_EXIT_SYSTEM_EVENT");
_Static_assert(ATTACH_KVM_EXIT_SYSTEM_EVENT == KVM_EXIT_SYSTEM_EVENT, "KVM_EXIT_SYSTEM_EVENT");
_Static_assert(REACTION_KVM_SYSTEM_EVENT_SHUTDOWN == KVM_SYSTEM_EVENT_SHUTDOWN, "KVM_SYSTEM_EVENT_SHUTDOWN");
_Static_assert(REACTION_KVM_SYSTEM_EVENT_RESET == KVM_SYSTEM_EVENT_RESET, "KVM_SYSTEM_EVENT_RESET");
_Static_assert(REACTION_KVM_SYSTEM_EVENT_CRASH == KVM_SYSTEM_EVENT_CRASH, "KVM_SYSTEM_EVENT_CRASH");

static void watch_clear(serror_agent *a, AgentVcpu *v) {
        if (v->n_watch == 0)
                return;
        v->n_watch = 0;
        a->n_watching--;
        atomic_fetch_and_explicit(&v->flags, ~(unsigned) AGENT_VCPU_F_WATCH, memory_order_release);
}

void agent_watch_open(serror_agent *a, AgentVcpu *v, uint64_t id, uint64_t done_ns) {
        if (v->n_watch > 0 && v->watch_generation != a->generation)
                watch_clear(a, v);
        if (v->n_watch == AGENT_WATCH_IDS_MAX) {
                /* The oldest goes unreported; serrord times its window out. */
                memmove(v->watch_ids, v->watch_ids + 1, (AGENT_WATCH_IDS_MAX - 1) * sizeof(v->watch_ids[0]));
                memmove(v->watch_done_ns, v->watch_done_ns + 1, (AGENT_WATCH_IDS_MAX - 1) * sizeof(v->watch_done_ns[0]));
                v->n_watch--;
        } else if (v->n_watch == 0)
                a->n_watching++;
        v->watch_ids[v->n_watch] = id;
        v->watch_done_ns[v->n_watch] = done_ns;
        v->n_watch++;
        v->watch_generation = a->generation;
        v->watch_until_ns = agent_time_add(done_ns, REACTION_WINDOW_MAX_USEC * AGENT_NSEC_PER_USEC);
        v->watch_last_kick_ns = done_ns;
        atomic_fetch_or_explicit(&v->flags, AGENT_VCPU_F_WATCH, memory_order_release);
}

void agent_watch_close(serror_agent *a, AgentVcpu *v) {
        watch_clear(a, v);
}

/* Lock held: one REACTION taken per injection the pending SError stood for. */
static void watch_report_taken(serror_agent *a, AgentVcpu *v, uint64_t now) {
        for (unsigned i = 0; i < v->n_watch; i++) {
                AttachMsg m = {
                        .type = ATTACH_MSG_REACTION,
                        .reaction = {
                                .vcpu = v->index,
                                .kind = ATTACH_REACTION_TAKEN,
                                .inject_id = v->watch_ids[i],
                                .after_ns = now > v->watch_done_ns[i] ? now - v->watch_done_ns[i] : 0,
                        },
                };
                /* Not connected: the ids belong to a connection that is gone. */
                if (v->watch_generation == a->generation)
                        (void) agent_conn_notify(a, &m);
        }
        watch_clear(a, v);
}

void agent_watch_before_run(serror_agent *a, AgentVcpu *v) {
        char message[AGENT_KVM_MESSAGE_MAX];
        AttachVcpuState s;
        uint64_t now;
        int fd;

        (void) pthread_mutex_lock(&a->lock);
        fd = v->present && v->n_watch > 0 ? v->fd : -EBADF;
        (void) pthread_mutex_unlock(&a->lock);
        if (fd < 0)
                return;

        /* Out of KVM_RUN on the vcpu's own thread: the read cannot block. */
        if (agent_kvm_get_serror(fd, &s, message, sizeof(message)) < 0 || s.pending)
                return;
        now = agent_now_ns();

        (void) pthread_mutex_lock(&a->lock);
        if (v->n_watch > 0)
                watch_report_taken(a, v, now);
        (void) pthread_mutex_unlock(&a->lock);
        (void) eventfd_write(a->notify_fd, 1);
}

uint64_t agent_watch_run(serror_agent *a, AgentVcpu *v, uint64_t now) {
        uint64_t since, period, due;
        pid_t tid;

        if (v->n_watch == 0)
                return AGENT_TIME_NONE;
        if (!v->present || v->watch_generation != a->generation || now >= v->watch_until_ns) {
                watch_clear(a, v);
                return AGENT_TIME_NONE;
        }
        /* A guest idling inside KVM_RUN (WFI) would never come out to be looked at. */
        since = now > v->watch_done_ns[0] ? now - v->watch_done_ns[0] : 0;
        period = since / 8;
        if (period < AGENT_WATCH_KICK_MIN_NS)
                period = AGENT_WATCH_KICK_MIN_NS;
        if (period > AGENT_WATCH_KICK_MAX_NS)
                period = AGENT_WATCH_KICK_MAX_NS;
        due = agent_time_add(v->watch_last_kick_ns, period);
        if (now >= due) {
                tid = atomic_load(&v->prerun_tid);
                if (tid <= 0)
                        tid = v->tid;
                /* A failed kick only makes the time taken coarser; the request path logs kick failures. */
                (void) agent_kick_thread(a, tid, v->kick_signal);
                v->watch_last_kick_ns = now;
                due = agent_time_add(now, period);
        }
        return agent_time_earliest(due, v->watch_until_ns);
}

void agent_watch_exit(serror_agent *a, uint32_t index, uint32_t exit_reason, uint32_t event_type) {
        AttachMsg m = {
                .type = ATTACH_MSG_REACTION,
                .reaction = {
                        .vcpu = index,
                        .kind = ATTACH_REACTION_EXIT,
                        .exit_reason = exit_reason,
                        .event_type = exit_reason == ATTACH_KVM_EXIT_SYSTEM_EVENT ? event_type : 0,
                },
        };

        (void) pthread_mutex_lock(&a->lock);
        (void) agent_conn_notify(a, &m);
        (void) pthread_mutex_unlock(&a->lock);
        (void) eventfd_write(a->notify_fd, 1);
}
