/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-agent's KVM calls: two-level ioctl wrappers and the SError part of struct kvm_vcpu_events. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "agent-internal.h"
#include "agent-kvm.h"
#include "macro.h"

int agent_kvm_ioctl_raw(int fd, unsigned long request, void *arg) {
        int r;

        /* vcpu ioctls only return EINTR for a fatal signal (mutex_lock_killable); retrying is harmless. */
        do
                r = ioctl(fd, request, arg);
        while (r < 0 && errno == EINTR);
        return r < 0 ? negative_errno() : r;
}

int agent_kvm_ioctl_checked(int fd, unsigned long request, const char *name, void *arg, char *message,
                            size_t message_size) {
        char buf[AGENT_STRERROR_MAX];
        const char *ename;
        int r;

        r = agent_kvm_ioctl_raw(fd, request, arg);
        if (r >= 0 || !message || message_size == 0)
                return r;
        ename = agent_errno_name(r);
        if (ename)
                (void) snprintf(message, message_size, "%s failed with %s (%s)", name, ename,
                                agent_strerror(r, buf, sizeof(buf)));
        else
                (void) snprintf(message, message_size, "%s failed: %s", name, agent_strerror(r, buf, sizeof(buf)));
        return r;
}

#if defined(__aarch64__)

/* What an errno means for a vcpu-events ioctl, in words an operator can act on. */
static const char *vcpu_errno_explain(int r, bool set) {
        switch (-r) {
        case ENOEXEC:
                return "the vcpu is not initialised (KVM_ARM_VCPU_INIT not done yet)";
        case EIO:
                return "the VM is dead, or the vcpu fd belongs to another process's VM";
        case EINVAL:
                return set ? "KVM refused the syndrome" : NULL;
        case EBADF:
                return "the vcpu fd is not open: the VMM closed it without removing the vcpu";
        case ENOTTY:
                return "not a KVM vcpu fd";
        default:
                return NULL;
        }
}

/* The checked wrapper named the ioctl and the errno; say why, where that is known. */
static void vcpu_explain(char *message, size_t message_size, const char *ioctl_name, const char *what, int r,
                         bool set) {
        const char *why = vcpu_errno_explain(r, set);
        const char *name = agent_errno_name(r);

        if (why && name && message && message_size > 0)
                (void) snprintf(message, message_size, "%s%s failed with %s: %s", ioctl_name, what, name, why);
}

bool agent_kvm_serror_supported(void) {
        return true;
}

int agent_kvm_probe_serror_esr(void) {
        _cleanup_close_ int kvm_fd = -EBADF;
        int r;

        kvm_fd = open("/dev/kvm", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (kvm_fd < 0)
                return negative_errno();
        r = agent_kvm_ioctl_raw(kvm_fd, KVM_CHECK_EXTENSION, (void *) (uintptr_t) KVM_CAP_ARM_INJECT_SERROR_ESR);
        if (r < 0)
                return r;
        return r > 0 ? 1 : 0;
}

int agent_kvm_get_serror(int vcpu_fd, attach_vcpu_state *ret, char *message, size_t message_size) {
        struct kvm_vcpu_events ev = {};
        attach_vcpu_state s = {};
        int r;

        *ret = s;
        r = AGENT_KVM_IOCTL(vcpu_fd, KVM_GET_VCPU_EVENTS, &ev, message, message_size);
        if (r < 0) {
                vcpu_explain(message, message_size, "KVM_GET_VCPU_EVENTS", "", r, false);
                return r;
        }
        s.valid = true;
        s.pending = ev.exception.serror_pending != 0;
        /* serror_has_esr reads as the RAS feature KVM_CAP_ARM_INJECT_SERROR_ESR
         * reports, pending or not; serror_esr is only meaningful with it. */
        s.has_esr = ev.exception.serror_has_esr != 0;
        s.esr = s.has_esr ? ev.exception.serror_esr : 0;
        *ret = s;
        return 0;
}

int agent_kvm_set_serror(int vcpu_fd, bool has_esr, uint64_t iss, char *message, size_t message_size) {
        struct kvm_vcpu_events ev = {};
        char what[48] = "";
        int r;

        /* Built from zero, never from a GET: a copied ext_dabt_pending would
         * inject a data abort, and pad and reserved must be 0 (else EINVAL). */
        ev.exception.serror_pending = 1;
        ev.exception.serror_has_esr = has_esr ? 1 : 0;
        ev.exception.serror_esr = has_esr ? iss : 0;
        r = AGENT_KVM_IOCTL(vcpu_fd, KVM_SET_VCPU_EVENTS, &ev, message, message_size);
        if (r < 0) {
                if (has_esr)
                        (void) snprintf(what, sizeof(what), " with ISS 0x%06" PRIx64, iss);
                vcpu_explain(message, message_size, "KVM_SET_VCPU_EVENTS", what, r, true);
                return r;
        }
        return 0;
}

#else /* !__aarch64__ */

/* Only arm64 KVM has the SError ABI (DOMAIN.md 1); on x86_64 struct
 * kvm_vcpu_events describes x86 exceptions instead, and the x86 counterpart
 * (machine checks, DOMAIN.md 8) comes later. */

bool agent_kvm_serror_supported(void) {
        return false;
}

int agent_kvm_probe_serror_esr(void) {
        return 0;
}

int agent_kvm_get_serror(int vcpu_fd, attach_vcpu_state *ret, char *message, size_t message_size) {
        (void) vcpu_fd;
        *ret = (attach_vcpu_state) {};
        if (message && message_size > 0)
                (void) snprintf(message, message_size, "SError state exists on arm64 KVM only");
        return -EOPNOTSUPP;
}

int agent_kvm_set_serror(int vcpu_fd, bool has_esr, uint64_t iss, char *message, size_t message_size) {
        (void) vcpu_fd;
        (void) has_esr;
        (void) iss;
        if (message && message_size > 0)
                (void) snprintf(message, message_size, "SError injection needs an arm64 KVM host");
        return -EOPNOTSUPP;
}

#endif
