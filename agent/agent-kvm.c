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

static AgentKvmIoctlFn ioctl_fn;
static void *ioctl_userdata;

void agent_kvm_set_ioctl(AgentKvmIoctlFn fn, void *userdata) {
        ioctl_fn = fn;
        ioctl_userdata = userdata;
}

int agent_kvm_ioctl_raw(int fd, unsigned long request, void *arg) {
        int r;

        if (ioctl_fn)
                return ioctl_fn(ioctl_userdata, fd, request, arg);

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

int agent_kvm_get_serror(int vcpu_fd, AttachVcpuState *ret, char *message, size_t message_size) {
        struct kvm_vcpu_events ev = {};
        AttachVcpuState s = {};
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
 * is the machine check, below. */

bool agent_kvm_serror_supported(void) {
        return false;
}

int agent_kvm_probe_serror_esr(void) {
        return 0;
}

int agent_kvm_get_serror(int vcpu_fd, AttachVcpuState *ret, char *message, size_t message_size) {
        (void) vcpu_fd;
        *ret = (AttachVcpuState) {};
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

/* ---------------------------------------------------------------- x86 machine checks */

#if defined(__x86_64__)

#define MSR_IA32_MCG_CAP 0x179u
#define MSR_IA32_MCG_STATUS 0x17au
#define MSR_IA32_MCG_CTL 0x17bu
#define MSR_IA32_MC0_CTL 0x400u /* MCi_CTL, STATUS, ADDR, MISC: 4 MSRs per bank */
#define MCG_CAP_COUNT_MASK UINT64_C(0xff)
#define MCG_CTL_P (UINT64_C(1) << 8)
/* kvm_arch_vcpu_create() leaves MCG_CAP at KVM_MAX_MCE_BANKS with no feature
 * bit until the VMM calls KVM_X86_SETUP_MCE. */
#define KVM_DEFAULT_MCG_CAP UINT64_C(32)
/* What KVM offers on AMD and Intel alike (MCG_CTL_P, MCG_SER_P), for when
 * /dev/kvm could not be asked. */
#define MCE_CAP_FALLBACK (MCG_CTL_P | (UINT64_C(1) << 24))

bool agent_kvm_mce_supported(void) {
        return true;
}

int64_t agent_kvm_probe_mce_cap(void) {
        _cleanup_close_ int kvm_fd = -EBADF;
        uint64_t cap = 0;
        int r;

        kvm_fd = open("/dev/kvm", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (kvm_fd < 0)
                return negative_errno();
        r = agent_kvm_ioctl_raw(kvm_fd, KVM_X86_GET_MCE_CAP_SUPPORTED, &cap);
        if (r < 0)
                return r;
        return (int64_t) (cap & ~MCG_CAP_COUNT_MASK & INT64_MAX);
}

/* KVM_GET_MSRS of n MSRs; the kernel answers how many it read, and stops at
 * the first it cannot. */
static int get_msrs(int vcpu_fd, const uint32_t *index, uint64_t *ret, unsigned n, char *message,
                    size_t message_size) {
        struct {
                struct kvm_msrs head;
                struct kvm_msr_entry entries[4];
        } msrs = {};
        int r;

        if (n > ELEMENTSOF(msrs.entries))
                return -EINVAL;
        msrs.head.nmsrs = n;
        for (unsigned i = 0; i < n; i++)
                msrs.entries[i].index = index[i];
        r = AGENT_KVM_IOCTL(vcpu_fd, KVM_GET_MSRS, &msrs, message, message_size);
        if (r < 0)
                return r;
        if ((unsigned) r != n) {
                if (message && message_size > 0)
                        (void) snprintf(message, message_size, "KVM_GET_MSRS read %d of %u MSRs (MSR 0x%x refused)",
                                        r, n, index[r]);
                return -EIO;
        }
        for (unsigned i = 0; i < n; i++)
                ret[i] = msrs.entries[i].data;
        return 0;
}

int agent_kvm_mce_prepare(int vcpu_fd, const serror_mce *m, int64_t supported_cap, bool *ret_setup, char *message,
                          size_t message_size) {
        uint32_t index[3] = { MSR_IA32_MCG_CAP, MSR_IA32_MCG_CTL, MSR_IA32_MC0_CTL + 4 * m->bank };
        uint64_t value[3];
        unsigned banks;
        int r;

        *ret_setup = false;
        /* MCG_CAP first: reading MCi_CTL of a bank beyond its count fails. */
        r = get_msrs(vcpu_fd, index, value, 2, message, message_size);
        if (r < 0)
                return r;
        banks = (unsigned) (value[0] & MCG_CAP_COUNT_MASK);
        if (m->bank >= banks) {
                if (message && message_size > 0)
                        (void) snprintf(message, message_size, "the vcpu has %u machine-check banks (MCG_CAP 0x%" PRIx64
                                        "), no bank %" PRIu32, banks, value[0], m->bank);
                return -EINVAL;
        }
        r = get_msrs(vcpu_fd, index + 2, value + 2, 1, message, message_size);
        if (r < 0)
                return r;
        if (!(m->status & SERROR_MCI_UC) || value[2] == ~UINT64_C(0))
                return 0;
        if (value[0] == KVM_DEFAULT_MCG_CAP) {
                uint64_t cap = KVM_DEFAULT_MCG_CAP | (uint64_t) (supported_cap > 0 ? supported_cap : (int64_t) MCE_CAP_FALLBACK);

                r = AGENT_KVM_IOCTL(vcpu_fd, KVM_X86_SETUP_MCE, &cap, message, message_size);
                if (r < 0)
                        return r;
                *ret_setup = true;
                r = get_msrs(vcpu_fd, index, value, 3, message, message_size);
                if (r < 0)
                        return r;
        }
        /* The guest's choices, kept: KVM would return 0 and write nothing. */
        if ((value[0] & MCG_CTL_P) && value[1] != ~UINT64_C(0)) {
                if (message && message_size > 0)
                        (void) snprintf(message, message_size, "the guest turned uncorrected-error reporting off "
                                        "(MCG_CTL 0x%" PRIx64 "): KVM would drop the machine check", value[1]);
                return -EOPNOTSUPP;
        }
        if (value[2] != ~UINT64_C(0)) {
                if (message && message_size > 0)
                        (void) snprintf(message, message_size, "bank %" PRIu32 " does not report uncorrected errors "
                                        "(MC%" PRIu32 "_CTL 0x%" PRIx64 "): KVM would drop the machine check",
                                        m->bank, m->bank, value[2]);
                return -EOPNOTSUPP;
        }
        return 0;
}

int agent_kvm_get_mcg_status(int vcpu_fd, AttachVcpuState *ret, char *message, size_t message_size) {
        uint32_t index = MSR_IA32_MCG_STATUS;
        uint64_t value;
        int r;

        *ret = (AttachVcpuState) {};
        r = get_msrs(vcpu_fd, &index, &value, 1, message, message_size);
        if (r < 0)
                return r;
        *ret = (AttachVcpuState) {
                .valid = true,
                .pending = (value & SERROR_MCG_MCIP) != 0,
                .has_esr = true,
                .esr = value,
        };
        return 0;
}

int agent_kvm_get_bank_status(int vcpu_fd, uint32_t bank, uint64_t *ret, char *message, size_t message_size) {
        uint32_t index = MSR_IA32_MC0_CTL + 4 * bank + 1;

        return get_msrs(vcpu_fd, &index, ret, 1, message, message_size);
}

int agent_kvm_get_cr4_mce(int vcpu_fd, bool *ret, char *message, size_t message_size) {
        struct kvm_sregs sregs = {};
        int r;

        r = AGENT_KVM_IOCTL(vcpu_fd, KVM_GET_SREGS, &sregs, message, message_size);
        if (r < 0)
                return r;
        *ret = (sregs.cr4 & (UINT64_C(1) << 6)) != 0;
        return 0;
}

int agent_kvm_set_mce(int vcpu_fd, const serror_mce *m, char *message, size_t message_size) {
        /* Built from zero: the pad bytes must be 0. */
        struct kvm_x86_mce mce = {
                .status = m->status,
                .addr = m->addr,
                .misc = m->misc,
                .mcg_status = m->mcg_status,
                .bank = (uint8_t) m->bank,
        };

        return AGENT_KVM_IOCTL(vcpu_fd, KVM_X86_SET_MCE, &mce, message, message_size);
}

#else /* !__x86_64__ */

bool agent_kvm_mce_supported(void) {
        return false;
}

int64_t agent_kvm_probe_mce_cap(void) {
        return 0;
}

static int mce_unsupported(char *message, size_t message_size) {
        if (message && message_size > 0)
                (void) snprintf(message, message_size, "machine-check injection needs an x86_64 KVM host");
        return -EOPNOTSUPP;
}

int agent_kvm_mce_prepare(int vcpu_fd, const serror_mce *m, int64_t supported_cap, bool *ret_setup, char *message,
                          size_t message_size) {
        (void) vcpu_fd;
        (void) m;
        (void) supported_cap;
        *ret_setup = false;
        return mce_unsupported(message, message_size);
}

int agent_kvm_get_mcg_status(int vcpu_fd, AttachVcpuState *ret, char *message, size_t message_size) {
        (void) vcpu_fd;
        *ret = (AttachVcpuState) {};
        return mce_unsupported(message, message_size);
}

int agent_kvm_get_bank_status(int vcpu_fd, uint32_t bank, uint64_t *ret, char *message, size_t message_size) {
        (void) vcpu_fd;
        (void) bank;
        *ret = 0;
        return mce_unsupported(message, message_size);
}

int agent_kvm_get_cr4_mce(int vcpu_fd, bool *ret, char *message, size_t message_size) {
        (void) vcpu_fd;
        *ret = false;
        return mce_unsupported(message, message_size);
}

int agent_kvm_set_mce(int vcpu_fd, const serror_mce *m, char *message, size_t message_size) {
        (void) vcpu_fd;
        (void) m;
        return mce_unsupported(message, message_size);
}

#endif
