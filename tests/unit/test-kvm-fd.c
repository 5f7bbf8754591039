/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for classifying /proc/self/fd link texts of KVM objects. */
#include "kvm-fd.h"
#include "tap.h"

static void check(const char *link, KvmFdKind want, uint32_t want_index) {
        uint32_t index = 0xdead;
        KvmFdKind k = kvm_fd_classify_link(link, &index);

        if (want == KVM_FD_VCPU)
                tap_ok(k == want && index == want_index, "'%s' is vcpu %u (got kind %d index %u)", link, want_index, k,
                       index);
        else
                tap_ok(k == want && index == 0xdead, "'%s' is %s (got kind %d)", link, kvm_fd_kind_describe(want), k);
}

int main(void) {
        check("anon_inode:kvm-vcpu:0", KVM_FD_VCPU, 0);
        check("anon_inode:kvm-vcpu:17", KVM_FD_VCPU, 17);
        check("anon_inode:kvm-vcpu:4294967295", KVM_FD_VCPU, 4294967295u);
        check("anon_inode:kvm-vcpu:4294967296", KVM_FD_KVM_OTHER, 0);
        check("anon_inode:kvm-vcpu:", KVM_FD_KVM_OTHER, 0);
        check("anon_inode:kvm-vcpu:01", KVM_FD_KVM_OTHER, 0);
        check("anon_inode:kvm-vcpu:1x", KVM_FD_KVM_OTHER, 0);
        check("anon_inode:kvm-vcpu:-1", KVM_FD_KVM_OTHER, 0);
        check("anon_inode:kvm-vcpu:0x1", KVM_FD_KVM_OTHER, 0);
        check("anon_inode:kvm-vm", KVM_FD_VM, 0);
        check("/dev/kvm", KVM_FD_SYSTEM, 0);
        check("anon_inode:kvm-vcpu-stats:0", KVM_FD_KVM_OTHER, 0);
        check("anon_inode:kvm-arm-vgic-v3", KVM_FD_KVM_OTHER, 0);
        check("/etc/hostname", KVM_FD_OTHER, 0);
        check("socket:[12345]", KVM_FD_OTHER, 0);
        check("anon_inode:[eventfd]", KVM_FD_OTHER, 0);
        check("", KVM_FD_OTHER, 0);
        return tap_done();
}
