/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Classifies fd link texts: a KVM vcpu reads "anon_inode:kvm-vcpu:<index>" (DOMAIN.md section 10). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>

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

/* One number as the kernel prints it there: decimal for the syscall number,
 * 0x-prefixed hex for the arguments. */
static int parse_field(const char **p, bool hex, unsigned long *ret) {
        const char *s = *p;
        char *end;

        while (*s == ' ')
                s++;
        if (hex) {
                if (s[0] != '0' || s[1] != 'x' || !strchr("0123456789abcdef", s[2]) || s[2] == '\0')
                        return -EINVAL;
        } else if (!strchr("-0123456789", s[0]) || s[0] == '\0')
                return -EINVAL;
        errno = 0;
        *ret = hex ? strtoul(s, &end, 16) : (unsigned long) strtol(s, &end, 10);
        if (errno != 0 || end == s || (*end != ' ' && *end != '\n' && *end != '\0'))
                return -EINVAL;
        *p = end;
        return 0;
}

int kvm_fd_parse_run_syscall(const char *text, long ioctl_nr, int *ret_fd) {
        const char *p = text;
        unsigned long nr, fd, request;

        /* A thread in user space reads "running"; one in no syscall "-1 SP PC". */
        if (strncmp(text, "running", 7) == 0)
                return 0;
        if (parse_field(&p, false, &nr) < 0)
                return -EINVAL;
        if ((long) nr != ioctl_nr)
                return 0;
        if (parse_field(&p, true, &fd) < 0 || parse_field(&p, true, &request) < 0)
                return -EINVAL;
        /* QEMU passes the request as a sign-extended int (DOMAIN.md 7). */
        if ((unsigned int) request != KVM_RUN || fd > INT32_MAX)
                return 0;
        *ret_fd = (int) fd;
        return 1;
}
