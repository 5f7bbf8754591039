/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrord's D-Bus API as both ends use it: names, the types of its records, Inject's flags, and each error with the errno it stands for. */
#pragma once

#include <errno.h>

/* Versioned like org.freedesktop.machine1: an incompatible API gets serror2. */
#define SERROR_BUS_NAME "org.serror.serror1"
#define SERROR_BUS_PATH "/org/serror/serror1"
#define SERROR_BUS_MANAGER_INTERFACE "org.serror.serror1.Manager"

/* One injection outcome (serrord(8), "D-BUS INTERFACE"): id, requested, vm, vcpu,
 * syndrome, iss, has_esr, mode, outcome, errno, message, before, written, after,
 * latency, agent time, origin, and what the guest did (serrord(8), "REACTIONS"):
 * state ("none", "watching", "done"), whether taking it is watched, window,
 * taken after, fate ("" until done), fate after; a time not known is UINT64_MAX. A machine check's record holds
 * MCG_STATUS in the states and MCi_STATUS in written (serrord(8), "INJECTION"). */
#define SERROR_BUS_INJECTION_RECORD_SIGNATURE "ttsusubssis(bbbt)(bbt)(bbbt)tts(sbttst)"
/* One policy: name, state, source, seed generated, seed, started, next, sent,
 * refused, landed, failed, and why it stopped itself ("" unless its state is
 * "halted": its stop_when held). */
#define SERROR_BUS_POLICY_SUMMARY_SIGNATURE "sssbttttttts"
/* One VM of ListVMs: name, uuid, pid, uid, arch, attach time, labels, vcpus
 * (index, tid, kick signal, last injection). */
#define SERROR_BUS_VM_SIGNATURE "ssuusta{ss}a(uuit)"

/* Inject's flags argument. */
enum {
        SERROR_INJECT_WAIT = 1u << 0,      /* answer with the outcomes, not only the ids */
        SERROR_INJECT_ALLOW_IDS = 1u << 1, /* an IDS = 1 syndrome is intended */
        SERROR_INJECT_DRY_RUN = 1u << 2,   /* everything but the write */
        SERROR_INJECT_WAIT_REACTION = 1u << 3, /* answer once what the guest did is known too (implies WAIT) */
        _SERROR_INJECT_FLAGS_ALL = (1u << 4) - 1,
};

/* Inject's reaction window: 0 for serrord's default, else within
 * REACTION_WINDOW_MIN_USEC..REACTION_WINDOW_MAX_USEC (lib/reaction.h). */
/* Inject's timeout: 1 ms to 1 h. */
#define SERROR_INJECT_TIMEOUT_MIN_USEC 1000ull
#define SERROR_INJECT_TIMEOUT_MAX_USEC (3600ull * 1000000ull)

/* The typed errors and the errno each maps to, in both directions: serrord
 * and serrorctl register them with sd_bus_error_add_map() (bus-error-map.h),
 * so sd_bus_error_get_errno() on a reply gives the errno below. */
#define SERROR_BUS_ERROR_NO_SUCH_VM "org.serror.serror1.NoSuchVM"
#define SERROR_BUS_ERROR_INVALID_SYNDROME "org.serror.serror1.InvalidSyndrome"
#define SERROR_BUS_ERROR_NOT_SUPPORTED "org.serror.serror1.NotSupported"
#define SERROR_BUS_ERROR_ACCESS_DENIED "org.serror.serror1.AccessDenied"
#define SERROR_BUS_ERROR_NO_SUCH_VCPU "org.serror.serror1.NoSuchVcpu"
#define SERROR_BUS_ERROR_BUSY "org.serror.serror1.Busy"
#define SERROR_BUS_ERROR_GUARD "org.serror.serror1.RefusedByGuard"
#define SERROR_BUS_ERROR_NO_SUCH_POLICY "org.serror.serror1.NoSuchPolicy"
#define SERROR_BUS_ERROR_INVALID_POLICY "org.serror.serror1.InvalidPolicy"
#define SERROR_BUS_ERROR_POLICY_EXISTS "org.serror.serror1.PolicyExists"

/* D-Bus's own name for a malformed argument; sd-bus maps it to EINVAL itself,
 * so it is not in the table below. */
#define SERROR_BUS_ERROR_INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"

#define SERROR_BUS_ERRORS(X)                              \
        X(SERROR_BUS_ERROR_NO_SUCH_VM, ENOENT)            \
        X(SERROR_BUS_ERROR_INVALID_SYNDROME, EINVAL)      \
        X(SERROR_BUS_ERROR_NOT_SUPPORTED, EOPNOTSUPP)     \
        X(SERROR_BUS_ERROR_ACCESS_DENIED, EACCES)         \
        X(SERROR_BUS_ERROR_NO_SUCH_VCPU, ENOENT)          \
        X(SERROR_BUS_ERROR_BUSY, EBUSY)                   \
        X(SERROR_BUS_ERROR_GUARD, EPERM)                  \
        X(SERROR_BUS_ERROR_NO_SUCH_POLICY, ENOENT)        \
        X(SERROR_BUS_ERROR_INVALID_POLICY, EINVAL)        \
        X(SERROR_BUS_ERROR_POLICY_EXISTS, EEXIST)

/* The prefix of every typed error: its message is a whole sentence for a user. */
#define SERROR_BUS_ERROR_PREFIX "org.serror.serror1."
