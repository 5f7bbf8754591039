/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-agent's timing arithmetic: reconnect backoff, deadlines, kick schedules. Pure, no clock reads. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define AGENT_NSEC_PER_USEC UINT64_C(1000)
#define AGENT_NSEC_PER_MSEC UINT64_C(1000000)
#define AGENT_NSEC_PER_SEC UINT64_C(1000000000)

/* Reconnect delays: 50 ms doubling to a 1 s cap, so that a restarted serrord
 * sees its VMs again within about a second (serror-agent(3), "Reconnecting"). */
#define AGENT_BACKOFF_MIN_NS (50 * AGENT_NSEC_PER_MSEC)
#define AGENT_BACKOFF_MAX_NS (1 * AGENT_NSEC_PER_SEC)

/* Kick periods. The agent-side path repeats kicks while its ioctl waits for
 * the vcpu mutex (DOMAIN.md 5: one kick is not enough, repeated ones every
 * 50 us always got through); the vcpu-thread path and every defer poll only
 * need the thread to come out of KVM_RUN again, about once a millisecond. */
#define AGENT_KICK_WORKER_NS (100 * AGENT_NSEC_PER_USEC)
#define AGENT_KICK_VCPU_THREAD_NS (1 * AGENT_NSEC_PER_MSEC)
/* On the vcpu-thread path the first kick nearly always suffices (a VMM whose
 * handler sets immediate_exit cannot miss it); the repeats only cover a kick
 * that landed just before KVM_RUN. They back off from AGENT_KICK_VCPU_THREAD_NS,
 * doubling to this cap, so that a vcpu thread slow to be scheduled does not
 * cost the agent a kick and a pass over the vcpus every millisecond. */
#define AGENT_KICK_VCPU_THREAD_MAX_NS (16 * AGENT_NSEC_PER_MSEC)
#define AGENT_DEFER_POLL_NS (1 * AGENT_NSEC_PER_MSEC)
/* How long past the deadline a KVM_SET_VCPU_EVENTS that was already issued
 * may take before the request is reported as failed with ETIMEDOUT. */
#define AGENT_COMMIT_GRACE_NS (100 * AGENT_NSEC_PER_MSEC)

/* Results of a batch (the INJECTs read in one pass: one `inject --vcpu=all`)
 * wait until the whole batch has ended and go out together, so that serrord
 * and the VMM's loop wake once for the batch rather than once per vcpu; but
 * none waits longer than this. */
#define AGENT_RESULT_HOLD_NS (100 * AGENT_NSEC_PER_MSEC)

/* A worker whose request ended while its ioctl still waited for the vcpu
 * mutex is kicked a while longer, slowly, so that it gets through, writes
 * nothing and can be reaped; a vcpu that ignores kicks is left alone after. */
#define AGENT_STALE_KICK_NS (1 * AGENT_NSEC_PER_SEC)

/* serror_agent_free() kicks a vcpu whose worker is still blocked at most
 * this many times, AGENT_KICK_WORKER_NS apart (5 ms in all). */
#define AGENT_FREE_KICKS 50u

/* "No time": no deadline, no wake-up wanted. */
#define AGENT_TIME_NONE UINT64_C(0)

typedef struct AgentBackoff {
        uint64_t next_ns; /* the delay the next failure gets; 0 means AGENT_BACKOFF_MIN_NS */
} AgentBackoff;

/* After a successful HELLO: the next failure waits AGENT_BACKOFF_MIN_NS again. */
void agent_backoff_reset(AgentBackoff *b);
/* The delay to wait after a failure; each call doubles the next one, up to the cap. */
uint64_t agent_backoff_next(AgentBackoff *b);

/* a + b, saturating at UINT64_MAX: a deadline never wraps into the past. */
uint64_t agent_time_add(uint64_t a, uint64_t b);
/* The earlier of two wake-up times, AGENT_TIME_NONE meaning "none". */
uint64_t agent_time_earliest(uint64_t a, uint64_t b);
/* When the next kick is due, given the last one (0: never kicked, so now). */
uint64_t agent_kick_due(uint64_t last_kick_ns, uint64_t period_ns);
/* The gap after the kicks-th kick of one request: base, doubling per kick, at most cap. */
uint64_t agent_kick_backoff(uint64_t base_ns, unsigned kicks, uint64_t cap_ns);

/* Conversions for timerfd_settime() and nanosleep(). */
void agent_timespec_from_ns(uint64_t ns, struct timespec *ret);
uint64_t agent_timespec_to_ns(const struct timespec *ts);
