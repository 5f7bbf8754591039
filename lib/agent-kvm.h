/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-agent's KVM calls: two-level ioctl wrappers and the SError state of one vcpu (arm64 only). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attach-proto.h"

/* Room for any message these functions write; same bound as the wire's. */
#define AGENT_KVM_MESSAGE_MAX (ATTACH_MESSAGE_MAX + 1)

/* Raw: the ioctl's result, or -errno (never -0). */
int agent_kvm_ioctl_raw(int fd, unsigned long request, void *arg);
/* Checked: the same, and on failure a message that names the ioctl. */
int agent_kvm_ioctl_checked(int fd, unsigned long request, const char *name, void *arg, char *message,
                            size_t message_size);
#define AGENT_KVM_IOCTL(fd, request, arg, message, size) \
        agent_kvm_ioctl_checked((fd), (request), #request, (arg), (message), (size))

/* True when this build can make an SError pending through KVM at all: arm64. */
bool agent_kvm_serror_supported(void);

/* KVM_CHECK_EXTENSION(KVM_CAP_ARM_INJECT_SERROR_ESR) on /dev/kvm, opened and
 * closed here: 1 present, 0 absent (or not arm64), or -errno when /dev/kvm
 * could not be asked (a sandboxed VMM); then the agent learns it from the
 * serror_has_esr flag of its first KVM_GET_VCPU_EVENTS, which KVM sets from
 * the same RAS feature the capability reports. */
int agent_kvm_probe_serror_esr(void);

/* KVM_GET_VCPU_EVENTS, reduced to its SError part. On failure *ret is left
 * invalid (all zero) and message names the ioctl and the reason. */
int agent_kvm_get_serror(int vcpu_fd, attach_vcpu_state *ret, char *message, size_t message_size);

/* KVM_SET_VCPU_EVENTS making an SError pending: with the ISS when has_esr,
 * else KVM picks the syndrome. Every other field stays zero (a non-zero
 * ext_dabt_pending would inject a data abort; pad and reserved must be 0). */
int agent_kvm_set_serror(int vcpu_fd, bool has_esr, uint64_t iss, char *message, size_t message_size);
