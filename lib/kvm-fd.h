/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names what an fd is from its /proc/PID/fd link text, so serrord can check a passed vcpu fd and the attach-by-pid helper can find a VMM's vcpus; and which vcpu a thread runs, from /proc/PID/task/TID/syscall. */
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

/* Whether a /proc/PID/task/TID/syscall text shows the thread blocked in
 * ioctl(fd, KVM_RUN): "NR 0xFD 0xAE80 ..." with NR this architecture's
 * ioctl number (ioctl_nr). 1 with *ret_fd set, 0 for any other syscall or
 * "running", -EINVAL for text that is neither. Pure. */
int kvm_fd_parse_run_syscall(const char *text, long ioctl_nr, int *ret_fd);
