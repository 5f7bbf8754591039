/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for classifying /proc/self/fd link texts of KVM objects. */
#include <errno.h>
#include <string.h>

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

static void check_run(const char *text, long nr, int want, int want_fd) {
        int fd = -1;
        int r = kvm_fd_parse_run_syscall(text, nr, &fd);

        tap_ok(r == want && (want != 1 || fd == want_fd), "syscall \"%.*s\" (ioctl %ld): %d fd %d (got %d fd %d)",
               (int) strcspn(text, "\n"), text, nr, want, want_fd, r, fd);
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

        /* /proc/PID/task/TID/syscall as arm64 (ioctl 29) and x86_64 (16) print it. */
        check_run("29 0x11 0xae80 0x0 0x0 0x0 0x0 0xffffa0c3e6b0 0xffffa7f1c8ec\n", 29, 1, 17);
        check_run("29 0x11 0x1ae80 0x0 0x0 0x0 0x0 0x1 0x2\n", 29, 0, 0);
        check_run("16 0xc 0xae80 0x0 0x0 0x0 0x0 0x7ffd 0x7f00\n", 16, 1, 12);
        check_run("16 0xc 0xae80 0x0 0x0 0x0 0x0 0x7ffd 0x7f00\n", 29, 0, 0);
        check_run("29 0x11 0x8090ae9f 0xffff 0x0 0x0 0x0 0x1 0x2\n", 29, 0, 0);
        check_run("98 0xaaaa 0x80 0x0 0x0 0x0 0x0 0x1 0x2\n", 29, 0, 0);
        check_run("running\n", 29, 0, 0);
        check_run("-1 0xffffd0 0xffff00\n", 29, 0, 0);
        check_run("", 29, -EINVAL, 0);
        check_run("29\n", 29, -EINVAL, 0);
        check_run("29 17 0xae80\n", 29, -EINVAL, 0);
        check_run("29 0x11 ae80\n", 29, -EINVAL, 0);
        check_run("29 0x11 0xae80z 0x0\n", 29, -EINVAL, 0);
        check_run("29 0x100000000 0xae80 0x0\n", 29, 0, 0);
        check_run("x29 0x11 0xae80\n", 29, -EINVAL, 0);
        return tap_done();
}
