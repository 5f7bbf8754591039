/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Classifies fd link texts: a KVM vcpu reads "anon_inode:kvm-vcpu:<index>" (DOMAIN.md section 10). */
#include <string.h>

#include "kvm-fd.h"
#include "macro.h"
#include "parse-util.h"

KvmFdKind kvm_fd_classify_link(const char *link, uint32_t *ret_index) {
        static const char vcpu_prefix[] = "anon_inode:kvm-vcpu:";
        uint32_t index;

        if (streq(link, "/dev/kvm"))
                return KVM_FD_SYSTEM;
        if (streq(link, "anon_inode:kvm-vm"))
                return KVM_FD_VM;
        if (strncmp(link, vcpu_prefix, sizeof(vcpu_prefix) - 1) == 0) {
                const char *number = link + sizeof(vcpu_prefix) - 1;
                /* The kernel prints the index in decimal; refuse anything else. */
                if (number[0] == '\0' || strspn(number, "0123456789") != strlen(number) ||
                    (number[0] == '0' && number[1] != '\0') || parse_u32(number, &index) < 0)
                        return KVM_FD_KVM_OTHER;
                if (ret_index)
                        *ret_index = index;
                return KVM_FD_VCPU;
        }
        if (strncmp(link, "anon_inode:kvm-", 15) == 0 || strncmp(link, "anon_inode:kvm_", 15) == 0)
                return KVM_FD_KVM_OTHER;
        return KVM_FD_OTHER;
}

const char *kvm_fd_kind_describe(KvmFdKind k) {
        switch (k) {
        case KVM_FD_SYSTEM:
                return "/dev/kvm, not a vcpu";
        case KVM_FD_VM:
                return "a KVM VM, not a vcpu";
        case KVM_FD_VCPU:
                return "a KVM vcpu";
        case KVM_FD_KVM_OTHER:
                return "another KVM object, not a vcpu";
        default:
                return "not a KVM object";
        }
}
