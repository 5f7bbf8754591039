/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-agent: the part of serror that lives inside a VMM (serror-agent(3)). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The agent hands the VMM's vcpus to serrord over the attach socket and runs
 * serrord's injection requests inside the VMM, where the kernel allows vcpu
 * ioctls. It never calls exit() or abort(), never installs signal handlers,
 * and never blocks the VMM: a missing or restarted serrord only delays it (it
 * reconnects with backoff and attaches its vcpus again).
 *
 * Two ways to integrate:
 *  - poll mode: the VMM adds serror_agent_get_fd() (stable for the agent's
 *    whole life, even across reconnects) to its own event loop, waiting for
 *    POLLIN, and calls serror_agent_process() when it is readable. No hidden
 *    threads.
 *  - thread mode: serror_agent_start_thread() runs the same loop on a thread
 *    of the agent's own, with every signal blocked.
 * In both modes the VMM may call serror_agent_before_run() on each vcpu
 * thread before KVM_RUN: injections then run on the vcpu's own thread
 * (cheapest, and nothing races KVM_RUN for the vcpu mutex). Without it they
 * run on the agent's side with repeated kicks, bounded by the deadline. */

typedef struct serror_agent serror_agent;

/* Log levels passed to the log callback (syslog numbering). */
enum {
        SERROR_AGENT_LOG_ERR = 3,
        SERROR_AGENT_LOG_WARNING = 4,
        SERROR_AGENT_LOG_INFO = 6,
        SERROR_AGENT_LOG_DEBUG = 7,
};

typedef void (*serror_agent_log_fn)(int level, const char *message, void *userdata);

typedef struct serror_agent_options {
        /* Size of this struct, for ABI growth: set to sizeof(serror_agent_options). */
        size_t size;
        /* NULL: $SERROR_ATTACH_SOCKET, else /run/serrord/attach.sock. */
        const char *socket_path;
        /* Required: 1..64 characters of [A-Za-z0-9._-] (doc/attach-protocol.md). */
        const char *vm_name;
        /* Optional: 16 bytes, or NULL. */
        const uint8_t *uuid;
        /* Optional: NULL-terminated "key=value" strings. */
        const char *const *labels;
        /* NULL: warnings and errors go to stderr as "serror-agent: ..." lines. */
        serror_agent_log_fn log;
        void *log_userdata;
} serror_agent_options;

/* Validate options, create the agent and start connecting (non-blocking).
 * 0 or a negative errno (-EINVAL for bad options). */
int serror_agent_new(const serror_agent_options *options, serror_agent **ret);
/* Says BYE when connected, stops the thread if any, frees everything. NULL is fine. */
void serror_agent_free(serror_agent *agent);

/* Hand a vcpu to serrord. vcpu_fd stays the VMM's: the agent sends it and
 * uses it for the ioctls, but never closes it; remove the vcpu before closing
 * it. tid is the vcpu thread (gettid()); kick_signal is a signal the VMM
 * handles without harm (its handler must already be installed). */
int serror_agent_add_vcpu(serror_agent *agent, uint32_t index, int vcpu_fd, pid_t tid, int kick_signal);
int serror_agent_remove_vcpu(serror_agent *agent, uint32_t index);

/* Poll mode: a stable fd to wait on for POLLIN, and the call that does the work. */
int serror_agent_get_fd(serror_agent *agent);
/* Non-blocking; 0 or a negative errno (the agent keeps working either way). */
int serror_agent_process(serror_agent *agent);

/* Thread mode. 0, or -EBUSY when already started. */
int serror_agent_start_thread(serror_agent *agent);

/* Call on vcpu index's own thread before each KVM_RUN. One atomic load when
 * nothing is pending. */
void serror_agent_before_run(serror_agent *agent, uint32_t index);

struct kvm_run;

/* Call on vcpu index's own thread after each KVM_RUN that returned 0, with
 * the vcpu's mmap()ed kvm_run, before the VMM acts on the exit. The agent
 * reports the exits that stop or end the VM (a system event such as a PSCI
 * reset, KVM_EXIT_SHUTDOWN, an internal error) to serrord, which records
 * them as what the guest did after an injection. Costs a compare of
 * exit_reason for every other exit. */
void serror_agent_after_run(serror_agent *agent, uint32_t index, const struct kvm_run *run);

/* 1 when connected and HELLO was accepted, 0 otherwise. */
int serror_agent_is_attached(serror_agent *agent);

#ifdef __cplusplus
}
#endif
