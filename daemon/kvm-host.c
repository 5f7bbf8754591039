/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Probes /dev/kvm for the capabilities serror depends on (DOMAIN.md section 1). */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>

#include "kvm-host.h"
#include "macro.h"

/* The numbers are part of the generic KVM ABI, defined on every architecture. */
static const KvmCapability capability_table[_KVM_HOST_CAP_MAX] = {
        [KVM_HOST_CAP_VCPU_EVENTS] = { "KVM_CAP_VCPU_EVENTS", KVM_CAP_VCPU_EVENTS, 0 },
        [KVM_HOST_CAP_ARM_INJECT_SERROR_ESR] = { "KVM_CAP_ARM_INJECT_SERROR_ESR", KVM_CAP_ARM_INJECT_SERROR_ESR, 0 },
        [KVM_HOST_CAP_ARM_INJECT_EXT_DABT] = { "KVM_CAP_ARM_INJECT_EXT_DABT", KVM_CAP_ARM_INJECT_EXT_DABT, 0 },
};

void kvm_host_probe(KvmHost *host, const char *device) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        *host = (KvmHost) {};
        memcpy(host->caps, capability_table, sizeof(host->caps));
        snprintf(host->device, sizeof(host->device), "%s", device);

        /* KVM_CHECK_EXTENSION on the system fd needs no write access, and works
         * from any process (DOMAIN.md section 4). */
        fd = open(device, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                host->error = negative_errno();
                return;
        }
        r = ioctl(fd, KVM_GET_API_VERSION, 0);
        if (r < 0) {
                host->error = negative_errno();
                return;
        }
        host->api_version = r;
        if (r != KVM_API_VERSION) {
                host->error = -EPROTO;
                return;
        }
        for (unsigned i = 0; i < _KVM_HOST_CAP_MAX; i++) {
                r = ioctl(fd, KVM_CHECK_EXTENSION, (unsigned long) host->caps[i].number);
                host->caps[i].value = r > 0 ? r : 0;
        }
        host->usable = true;
}

const char *kvm_host_error_string(const KvmHost *host, char *buf, unsigned size) {
        if (host->usable)
                snprintf(buf, size, "%s", "");
        else if (host->error == -EPROTO)
                snprintf(buf, size, "KVM API version %d, expected %d", host->api_version, KVM_API_VERSION);
        else if (host->error == -ENOTTY)
                snprintf(buf, size, "%s is not a KVM device", host->device);
        else
                snprintf(buf, size, "%s", strerror(-host->error));
        return buf;
}

const char *host_architecture(void) {
        static char machine[sizeof(((struct utsname *) NULL)->machine)];
        struct utsname u;

        if (machine[0])
                return machine;
        if (uname(&u) < 0)
                return "unknown";
        snprintf(machine, sizeof(machine), "%s", streq(u.machine, "aarch64") ? "arm64" : u.machine);
        return machine;
}
