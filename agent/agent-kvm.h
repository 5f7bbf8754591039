/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-agent's KVM calls: two-level ioctl wrappers and the SError state of one vcpu (arm64 only). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attach-proto.h"

/* Room for any message these functions write; same bound as the wire's. */
#define AGENT_KVM_MESSAGE_MAX (ATTACH_MESSAGE_MAX + 1)

/* The attach-by-pid helper's vcpu ioctls run as a thread of the VMM, by
 * ptrace: fn gets every ioctl this file makes and returns its result or
 * -errno. Set once, before any agent exists; an agent inside its VMM never
 * sets it. */
typedef int (*AgentKvmIoctlFn)(void *userdata, int fd, unsigned long request, void *arg);
void agent_kvm_set_ioctl(AgentKvmIoctlFn fn, void *userdata);

/* Raw: the ioctl's result, or -errno (never -0). */
int agent_kvm_ioctl_raw(int fd, unsigned long request, void *arg);
/* Checked: the same, and on failure a message that names the ioctl. */
int agent_kvm_ioctl_checked(int fd, unsigned long request, const char *name, void *arg, char *message,
                            size_t message_size);
#define AGENT_KVM_IOCTL(fd, request, arg, message, size) \
        agent_kvm_ioctl_checked((fd), (request), #request, (arg), (message), (size))

#include "serror/mce.h"

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
int agent_kvm_get_serror(int vcpu_fd, AttachVcpuState *ret, char *message, size_t message_size);

/* KVM_SET_VCPU_EVENTS making an SError pending: with the ISS when has_esr,
 * else KVM picks the syndrome. Every other field stays zero (a non-zero
 * ext_dabt_pending would inject a data abort; pad and reserved must be 0). */
int agent_kvm_set_serror(int vcpu_fd, bool has_esr, uint64_t iss, char *message, size_t message_size);

/* ---------------------------------------------------------------- x86 machine checks */

/* True when this build can write a machine check through KVM: x86_64. */
bool agent_kvm_mce_supported(void);

/* KVM_X86_GET_MCE_CAP_SUPPORTED on /dev/kvm: the MCG_CAP feature bits KVM
 * offers, or -errno when /dev/kvm could not be asked (0 on arm64). */
int64_t agent_kvm_probe_mce_cap(void);

/* Make the vcpu report an uncorrected error in bank: KVM drops one silently
 * (KVM_X86_SET_MCE returns 0) while MCi_CTL is not all ones. A vcpu whose
 * MCG_CAP is still KVM's default (32 banks, no feature bit: the VMM never
 * called KVM_X86_SETUP_MCE) gets that call here, keeping its 32 banks and
 * offering supported_cap (the features a Linux guest needs for a
 * recoverable error); a VMM's own MCG_CAP is never changed. *ret_setup
 * tells whether this call did it. -EINVAL for a bank the vcpu lacks,
 * -EOPNOTSUPP when the guest has turned reporting off; message says which. */
int agent_kvm_mce_prepare(int vcpu_fd, const serror_mce *m, int64_t supported_cap, bool *ret_setup, char *message,
                          size_t message_size);

/* KVM_GET_MSRS of MCG_STATUS, as an AttachVcpuState (attach-proto.h). */
int agent_kvm_get_mcg_status(int vcpu_fd, AttachVcpuState *ret, char *message, size_t message_size);
/* KVM_GET_MSRS of MCi_STATUS of bank. */
int agent_kvm_get_bank_status(int vcpu_fd, uint32_t bank, uint64_t *ret, char *message, size_t message_size);
/* KVM_GET_SREGS: whether the guest has CR4.MCE set. Without it KVM turns
 * an uncorrected machine check into a triple fault (a shutdown). */
int agent_kvm_get_cr4_mce(int vcpu_fd, bool *ret, char *message, size_t message_size);
/* KVM_X86_SET_MCE. */
int agent_kvm_set_mce(int vcpu_fd, const serror_mce *m, char *message, size_t message_size);
