/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What this host's /dev/kvm can do, read once at start. */
#pragma once

#include <stdbool.h>

typedef struct KvmCapability {
        const char *name;
        unsigned number;
        int value; /* KVM_CHECK_EXTENSION's answer; 0 means absent */
} KvmCapability;

enum {
        KVM_HOST_CAP_VCPU_EVENTS,
        KVM_HOST_CAP_ARM_INJECT_SERROR_ESR,
        KVM_HOST_CAP_ARM_INJECT_EXT_DABT,
        _KVM_HOST_CAP_MAX,
};

typedef struct KvmHost {
        char device[256];
        bool usable;       /* opened, and the API version is the stable one */
        int error;         /* why not usable: a negative errno, 0 when usable */
        int api_version;
        KvmCapability caps[_KVM_HOST_CAP_MAX];
} KvmHost;

/* Never fails: a missing device or capability is recorded, not returned. */
void kvm_host_probe(KvmHost *host, const char *device);
/* "Permission denied", "API version 11, expected 12", ... */
const char *kvm_host_error_string(const KvmHost *host, char *buf, unsigned size);
/* The architecture serrord runs on: "arm64", "x86_64", ... (uname, Debian spelling for aarch64). */
const char *host_architecture(void);
