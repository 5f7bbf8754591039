/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names what an fd is from its /proc/self/fd link text, so serrord can check a passed vcpu fd. */
#pragma once

#include <stdint.h>

typedef enum KvmFdKind {
        KVM_FD_OTHER,  /* not a KVM object at all (a file, a socket, ...) */
        KVM_FD_SYSTEM, /* /dev/kvm itself */
        KVM_FD_VM,     /* anon_inode:kvm-vm */
        KVM_FD_VCPU,   /* anon_inode:kvm-vcpu:<index> */
        KVM_FD_KVM_OTHER, /* another KVM anon inode (a device, a stats fd, ...) */
} KvmFdKind;

/* Classify a readlink() result. For KVM_FD_VCPU, *ret_index is the vcpu
 * index; a vcpu link with a malformed index is KVM_FD_KVM_OTHER. Pure. */
KvmFdKind kvm_fd_classify_link(const char *link, uint32_t *ret_index);
const char *kvm_fd_kind_describe(KvmFdKind k);
