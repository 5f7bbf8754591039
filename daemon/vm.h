/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An attached VM and its vcpus: what serrord knows about a VMM while its connection lives. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach-proto.h"

typedef struct Manager Manager;
typedef struct Connection Connection;
typedef struct Injection Injection;
typedef struct ReactionWatch ReactionWatch;

typedef struct Vcpu {
        uint32_t index;
        pid_t tid;
        int kick_signal;
        int fd;               /* owned: the copy SCM_RIGHTS gave serrord */
        uint64_t attach_usec; /* CLOCK_REALTIME */
        uint64_t last_injection_usec; /* CLOCK_MONOTONIC, for [Guards] MinGap= */
        unsigned n_inflight;          /* injections sent and not answered */
} Vcpu;

typedef struct VM {
        Manager *manager;
        Connection *connection; /* the attachment lives exactly as long as this */

        char name[ATTACH_NAME_MAX + 1];
        bool has_uuid;
        uint8_t uuid[ATTACH_UUID_SIZE];
        AttachLabel *labels;
        unsigned n_labels;
        pid_t pid;
        uid_t uid;
        AttachArch arch;
        uint32_t capabilities;
        uint64_t attach_usec;

        Injection *injections; /* in flight, newest first */
        ReactionWatch *reactions; /* open reaction windows, newest first */
        bool vmm_exited; /* set by the connection when it ends because the VMM process did */
        Vcpu *vcpus; /* sorted by index */
        unsigned n_vcpus;
        unsigned n_allocated;

        struct VM *next, *prev;
} VM;

/* Creates the VM from a HELLO and links it into the manager. */
int vm_new(Manager *m, Connection *c, const AttachHello *hello, pid_t pid, uid_t uid, VM **ret);
/* Closes every vcpu fd, unlinks and frees. reason is for the log and the signal. NULL is fine. */
VM *vm_free(VM *vm, const char *reason);

/* Takes ownership of fd on success only. -EEXIST if the index is attached. */
int vm_add_vcpu(VM *vm, uint32_t index, pid_t tid, int kick_signal, int fd);
/* Closes the vcpu's fd. -ENOENT if not attached. */
int vm_remove_vcpu(VM *vm, uint32_t index);
Vcpu *vm_find_vcpu(VM *vm, uint32_t index);

/* "6d2f...-..." or "" */
void vm_uuid_string(const VM *vm, char buf[static 37]);
/* By name, or by UUID string. */
