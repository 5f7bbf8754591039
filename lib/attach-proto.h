/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attach protocol's wire codec (doc/attach-protocol.md): pure encode/decode, no I/O, no allocation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "serror/mce.h"
#include "serror/syndrome.h"

/* Every number below is part of the wire contract; doc/attach-protocol.md is
 * the normative text and must change together with this header. */

#define ATTACH_PROTO_VERSION 1u
/* The bytes "SERA" (serror attach) on the wire, read as a little-endian u32. */
#define ATTACH_PROTO_MAGIC UINT32_C(0x41524553)

#define ATTACH_HEADER_SIZE 24u
/* Whole datagram, header included. Checked before anything is read or allocated. */
#define ATTACH_MSG_SIZE_MAX 4096u
/* Most fds any message type carries (VCPU_ATTACH); size the receive control buffer for this. */
#define ATTACH_FDS_MAX 1u

#define ATTACH_NAME_MAX 64u
#define ATTACH_LABELS_MAX 16u
#define ATTACH_LABEL_KEY_MAX 63u
#define ATTACH_LABEL_VALUE_MAX 127u
#define ATTACH_MESSAGE_MAX 255u
#define ATTACH_UUID_SIZE 16u
/* Larger than any KVM vcpu id on arm64 or x86_64, small enough to print and index. */
#define ATTACH_VCPU_INDEX_MAX UINT32_C(65535)
/* In INJECT_RESULT only, with outcome FAILED: the agent could not read the vcpu of the INJECT. */
#define ATTACH_VCPU_UNKNOWN UINT32_MAX
/* Linux MAX_ERRNO: status and errno fields hold 0 or a positive errno up to this. */
#define ATTACH_ERRNO_MAX 4095u
/* Kernel _NSIG on arm64 and x86_64: the highest signal number tgkill() accepts. */
#define ATTACH_SIGNAL_MAX 64
#define ATTACH_TIMEOUT_MAX_NS (UINT64_C(86400) * UINT64_C(1000000000))

typedef enum AttachMsgType {
        ATTACH_MSG_HELLO = 1,         /* agent -> daemon; answered by REPLY */
        ATTACH_MSG_VCPU_ATTACH = 2,   /* agent -> daemon, 1 fd; answered by REPLY */
        ATTACH_MSG_VCPU_DETACH = 3,   /* agent -> daemon; answered by REPLY */
        ATTACH_MSG_BYE = 4,           /* agent -> daemon; answered by REPLY */
        ATTACH_MSG_REPLY = 5,         /* either way; answers a request */
        ATTACH_MSG_INJECT = 6,        /* daemon -> agent; answered by INJECT_RESULT */
        ATTACH_MSG_INJECT_RESULT = 7, /* agent -> daemon; answers an INJECT or INJECT_MCE */
        ATTACH_MSG_INJECT_MCE = 8,    /* daemon -> agent, x86 only; answered by INJECT_RESULT */
        ATTACH_MSG_REACTION = 9,      /* agent -> daemon; a notice, never answered */
} AttachMsgType;

/* Who may send a type: a bitmask of these. */
enum {
        ATTACH_SENDER_AGENT = 1u << 0,
        ATTACH_SENDER_DAEMON = 1u << 1,
};

typedef enum AttachArch {
        ATTACH_ARCH_ARM64 = 1,
        ATTACH_ARCH_X86_64 = 2,
} AttachArch;

/* HELLO capabilities. Advisory: a receiver ignores bits it does not know. */
enum {
        ATTACH_CAP_SERROR_ESR = 1u << 0,   /* KVM_CAP_ARM_INJECT_SERROR_ESR: a chosen syndrome can be written */
        ATTACH_CAP_PRE_RUN = 1u << 1,      /* the VMM calls the agent before each KVM_RUN (vcpu-thread path) */
        ATTACH_CAP_AGENT_THREAD = 1u << 2, /* the agent runs its own thread (repeated-kick path) */
        ATTACH_CAP_MCE = 1u << 3,          /* the agent executes INJECT_MCE (x86 machine checks) */
        ATTACH_CAP_REACTION = 1u << 4,     /* the agent sends REACTION: when a guest took an SError, how KVM_RUN ended */
        ATTACH_CAP_PTRACE = 1u << 5,       /* a privileged helper speaks for VMM pid, whose threads run the ioctls under ptrace */
};

/* The fixed header as it is on the wire, before any judgement beyond the magic. */
typedef struct AttachHeader {
        uint16_t version;
        uint16_t type;         /* raw: may be a type this codec does not know */
        uint32_t payload_size; /* as the sender claimed it */
        uint32_t reserved;     /* 0 in version 1 */
        uint64_t request_id;
} AttachHeader;

typedef struct AttachLabel {
        char key[ATTACH_LABEL_KEY_MAX + 1];
        char value[ATTACH_LABEL_VALUE_MAX + 1];
} AttachLabel;

typedef struct AttachHello {
        pid_t vmm_pid;
        AttachArch arch;
        uint32_t capabilities; /* ATTACH_CAP_* */
        bool has_uuid;
        uint8_t uuid[ATTACH_UUID_SIZE]; /* all zero unless has_uuid; never the nil UUID when has_uuid */
        char name[ATTACH_NAME_MAX + 1];
        unsigned n_labels;
        AttachLabel labels[ATTACH_LABELS_MAX]; /* keys unique; unused entries all zero */
} AttachHello;

typedef struct AttachVcpuAttach {
        uint32_t vcpu;
        pid_t tid;
        int kick_signal;
} AttachVcpuAttach;

typedef struct AttachVcpuDetach {
        uint32_t vcpu;
} AttachVcpuDetach;

typedef struct AttachReply {
        int status; /* 0 or a POSITIVE errno (wire value), at most ATTACH_ERRNO_MAX */
        char message[ATTACH_MESSAGE_MAX + 1];
} AttachReply;

/* INJECT and INJECT_MCE share it: an INJECT_MCE has mce set and has_esr,
 * allow_ids and iss zero; an INJECT has mce all zero. */
typedef struct AttachInject {
        uint32_t vcpu;
        bool is_mce;    /* INJECT_MCE: mce is the machine check to write */
        serror_mce mce;
        bool has_esr;   /* false: KVM chooses the syndrome, iss must be 0 */
        bool allow_ids; /* ISS bit 24 (IDS) permitted; only with has_esr */
        uint32_t iss;   /* ISS[24:0] */
        serror_mode mode;
        uint64_t timeout_ns; /* relative to when the agent receives the INJECT */
        bool dry_run;
} AttachInject;

/* kvm_vcpu_events.exception as the agent read it. For a machine check
 * (INJECT_MCE) the same fields hold MCG_STATUS: pending is its MCIP bit,
 * has_esr is set and esr is the whole register. */
typedef struct AttachVcpuState {
        bool valid; /* the GET succeeded; when false every other field is 0 */
        bool pending;
        bool has_esr;
        uint64_t esr; /* 0 unless valid and has_esr */
} AttachVcpuState;

/* What the agent passed to KVM_SET_VCPU_EVENTS; for a machine check, to
 * KVM_X86_SET_MCE: has_esr set and esr the MCi_STATUS. */
typedef struct AttachVcpuWrite {
        bool written; /* a SET was issued; when false every other field is 0 */
        bool has_esr;
        uint64_t esr; /* 0 unless written and has_esr */
} AttachVcpuWrite;

typedef struct AttachInjectResult {
        uint32_t vcpu; /* or ATTACH_VCPU_UNKNOWN with outcome FAILED */
        serror_outcome outcome;
        int error; /* POSITIVE errno; non-zero exactly when outcome is FAILED */
        AttachVcpuState before;
        AttachVcpuWrite written;
        AttachVcpuState after;
        /* The agent's CLOCK_MONOTONIC in ns. received <= reached <= done;
         * reached is 0 when the vcpu was never reached. */
        uint64_t received_ns;
        uint64_t reached_ns;
        uint64_t done_ns;
        char message[ATTACH_MESSAGE_MAX + 1];
} AttachInjectResult;

typedef enum AttachReactionKind {
        ATTACH_REACTION_TAKEN = 1, /* the guest took the SError an INJECT left pending */
        ATTACH_REACTION_EXIT = 2,  /* KVM_RUN returned an exit that stops or ends the VM */
        ATTACH_REACTION_UNWATCHED = 3, /* an INJECT left an SError pending that the agent cannot see taken */
} AttachReactionKind;

/* kvm_run.exit_reason KVM_EXIT_SYSTEM_EVENT, the one exit whose event_type
 * means something; the codec itself needs no KVM header. */
#define ATTACH_KVM_EXIT_SYSTEM_EVENT 24u

typedef struct AttachReaction {
        uint32_t vcpu;
        AttachReactionKind kind;
        uint32_t exit_reason; /* EXIT: kvm_run.exit_reason, non-zero; TAKEN: 0 */
        uint32_t event_type;  /* EXIT with ATTACH_KVM_EXIT_SYSTEM_EVENT: kvm_run.system_event.type; else 0 */
        uint64_t inject_id;   /* TAKEN, UNWATCHED: the INJECT's request id, non-zero; EXIT: 0 */
        /* TAKEN: ns from the INJECT_RESULT's done to the vcpu's first return
         * from KVM_RUN after which the SError read clear; EXIT: 0. */
        uint64_t after_ns;
} AttachReaction;

/* One message, a tagged union. BYE has no payload. Decode zeroes the whole
 * struct first, so two decodes of the same bytes compare equal with memcmp(). */
typedef struct AttachMsg {
        AttachMsgType type;
        uint64_t request_id; /* non-zero, except in a REPLY to a message whose id was unreadable */
        union {
                AttachHello hello;
                AttachVcpuAttach vcpu_attach;
                AttachVcpuDetach vcpu_detach;
                AttachReply reply;
                AttachInject inject;
                AttachInjectResult inject_result;
                AttachReaction reaction;
        };
} AttachMsg;

/* Serialize m into buf. Validates m by the same rules decode applies, so
 * what encodes always decodes back to an equal message.
 * Returns 0 with *ret_len set, -EINVAL (m invalid; diag says why) or -ENOBUFS
 * (size too small; ATTACH_MSG_SIZE_MAX always suffices). buf is untouched on
 * failure. diag may be NULL. */
int attach_msg_encode(const AttachMsg *m, uint8_t *buf, size_t size, size_t *ret_len, serror_diag *diag);

/* Parse one whole datagram. Each error means one thing (diag says what):
 *   -EMSGSIZE         shorter than the header, or longer than ATTACH_MSG_SIZE_MAX
 *   -EPROTO           wrong magic: the peer does not speak this protocol
 *   -EPROTONOSUPPORT  a version other than ATTACH_PROTO_VERSION
 *   -EBADMSG          header length or reserved field wrong, request id 0 in a
 *                     request, or the payload's size or contents wrong for its type
 *   -EOPNOTSUPP       a type this version does not define; the header is sane
 * On every error except -EMSGSIZE (short) and -EPROTO, attach_header_decode()
 * yields the request id to answer. *ret written only on success. */
int attach_msg_decode(const uint8_t *buf, size_t len, AttachMsg *ret, serror_diag *diag);

/* Read the header fields, checking only that len covers a header and that the
 * magic is right (-EMSGSIZE, -EPROTO). Does not judge version, type, length or
 * the maximum size, so it also works on the head of a truncated datagram. */
int attach_header_decode(const uint8_t *buf, size_t len, AttachHeader *ret, serror_diag *diag);

/* "HELLO", "VCPU_ATTACH", ... or NULL for a type this version does not define. */
const char *attach_msg_type_to_string(AttachMsgType t);
/* Exactly how many fds (SCM_RIGHTS) a message of this type carries: 1 for
 * VCPU_ATTACH, 0 for every other type, unknown types included. */
unsigned attach_msg_type_fds(AttachMsgType t);
/* ATTACH_SENDER_* mask; 0 for an unknown type. */
unsigned attach_msg_type_senders(AttachMsgType t);
/* The type that answers a request of type t (REPLY or INJECT_RESULT), or 0
 * when t is itself an answer or a notice (REACTION). Unknown types are
 * answered by REPLY (EOPNOTSUPP). */
AttachMsgType attach_msg_type_answer(AttachMsgType t);

/* "arm64", "x86_64" or NULL. */
const char *attach_arch_to_string(AttachArch a);
/* 0 or -EINVAL. */
int attach_arch_from_string(const char *s, AttachArch *ret);
/* The architecture this code was compiled for, or 0 when the protocol has no name for it. */
static inline AttachArch attach_arch_native(void) {
#if defined(__aarch64__)
        return ATTACH_ARCH_ARM64;
#elif defined(__x86_64__)
        return ATTACH_ARCH_X86_64;
#else
        return (AttachArch) 0;
#endif
}

/* The character rules of doc/attach-protocol.md, for the agent to check a
 * VMM's configuration before it ever reaches the wire. */
/* A VM name: 1 to ATTACH_NAME_MAX of the allowed characters, and not shaped
 * like a UUID (names and UUIDs share one lookup). */
bool attach_vm_name_is_valid(const char *s);
/* s has the 8-4-4-4-12 hex-digit shape of a UUID. */
bool attach_name_looks_like_uuid(const char *s);
bool attach_label_key_is_valid(const char *s);
bool attach_label_value_is_valid(const char *s);
bool attach_message_is_valid(const char *s);
bool attach_kick_signal_is_valid(int sig);

/* Split "key=value" at the first '=' and check both halves. 0 or -EINVAL
 * with diag; *ret written only on success. */
int attach_label_from_string(const char *s, AttachLabel *ret, serror_diag *diag);

/* Copy src into a message field: bytes outside the allowed set become '?',
 * and text beyond ATTACH_MESSAGE_MAX is cut. For strerror() or log text
 * that must go into a REPLY or INJECT_RESULT without failing the encode. */
void attach_message_copy(char dst[static ATTACH_MESSAGE_MAX + 1], const char *src);
