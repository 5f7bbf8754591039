/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attach protocol's wire codec: every byte read and written explicitly, little-endian, checked. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "text-util.h"
#include "attach-proto.h"
#include "macro.h"

/* Payload sizes (doc/attach-protocol.md, section 5). Variable types give
 * the size of their fixed part; strings follow it. */
#define HELLO_FIXED_SIZE 30u
#define VCPU_ATTACH_SIZE 12u
#define VCPU_DETACH_SIZE 4u
#define BYE_SIZE 0u
#define REPLY_FIXED_SIZE 5u
#define INJECT_SIZE 24u
#define INJECT_MCE_SIZE 56u
#define INJECT_RESULT_FIXED_SIZE 65u
#define REACTION_SIZE 32u

/* A label travels as one string "key=value". */
#define LABEL_WIRE_MAX (ATTACH_LABEL_KEY_MAX + 1u + ATTACH_LABEL_VALUE_MAX)

#define HELLO_F_HAS_UUID 0x0001u
#define HELLO_F_KNOWN HELLO_F_HAS_UUID

#define INJECT_F_HAS_ESR 0x0001u
#define INJECT_F_ALLOW_IDS 0x0002u
#define INJECT_F_DRY_RUN 0x0004u
#define INJECT_F_KNOWN (INJECT_F_HAS_ESR | INJECT_F_ALLOW_IDS | INJECT_F_DRY_RUN)
/* INJECT_MCE's flags: the same bit, so one reader tells a dry run of either. */
#define INJECT_MCE_F_KNOWN INJECT_F_DRY_RUN

#define RESULT_F_BEFORE_VALID 0x0001u
#define RESULT_F_BEFORE_PENDING 0x0002u
#define RESULT_F_BEFORE_HAS_ESR 0x0004u
#define RESULT_F_WRITTEN 0x0010u
#define RESULT_F_WRITTEN_HAS_ESR 0x0020u
#define RESULT_F_AFTER_VALID 0x0100u
#define RESULT_F_AFTER_PENDING 0x0200u
#define RESULT_F_AFTER_HAS_ESR 0x0400u
#define RESULT_F_KNOWN                                                                        \
        (RESULT_F_BEFORE_VALID | RESULT_F_BEFORE_PENDING | RESULT_F_BEFORE_HAS_ESR | RESULT_F_WRITTEN | \
         RESULT_F_WRITTEN_HAS_ESR | RESULT_F_AFTER_VALID | RESULT_F_AFTER_PENDING | RESULT_F_AFTER_HAS_ESR)

/* ---------------------------------------------------------------- character rules */

static bool char_is_alnum(uint8_t c) {
        /* Not isalnum(): its answer depends on the locale, and both ends must agree. */
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* VM names end up in D-Bus object paths (escaped), journal fields and policy
 * globs, so '/', '*', '?', '[' and spaces are kept out. */
static bool name_char_ok(uint8_t c, size_t pos) {
        if (char_is_alnum(c))
                return true;
        return pos > 0 && c != '\0' && strchr("-_.:+@", c);
}

static bool key_char_ok(uint8_t c, size_t pos) {
        if (char_is_alnum(c))
                return true;
        return pos > 0 && c != '\0' && strchr("-_./", c);
}

/* Printable ASCII only: valid UTF-8 by construction, which D-Bus strings require. */
static bool text_char_ok(uint8_t c, size_t pos) {
        (void) pos;
        return c >= 0x20 && c <= 0x7e;
}

/* Check n bytes against a character rule. Returns the offset of the first bad
 * byte, or n when all are good. */
static size_t bytes_first_bad(const uint8_t *p, size_t n, bool (*ok)(uint8_t c, size_t pos)) {
        for (size_t i = 0; i < n; i++)
                if (!ok(p[i], i))
                        return i;
        return n;
}

/* A C string field: NUL-terminated inside its array, length within [min, max],
 * every byte allowed. 0 or -EINVAL with diag naming the field. */
static int check_cstring(const char *s, size_t array_size, size_t min, size_t max,
                         bool (*ok)(uint8_t c, size_t pos), const char *what, serror_diag *diag) {
        size_t n, bad;

        n = strnlen(s, array_size);
        if (n >= array_size)
                return diag_fail(diag, -EINVAL, "%s is not NUL-terminated", what);
        if (n < min)
                return diag_fail(diag, -EINVAL, "%s is empty", what);
        if (n > max)
                return diag_fail(diag, -EINVAL, "%s is %zu bytes long, at most %zu allowed", what, n, max);
        bad = bytes_first_bad((const uint8_t *) s, n, ok);
        if (bad < n)
                return diag_fail(diag, -EINVAL, "%s has a disallowed byte 0x%02x at offset %zu", what,
                                 (unsigned) (uint8_t) s[bad], bad);
        return 0;
}

static bool cstring_ok(const char *s, size_t min, size_t max, bool (*ok)(uint8_t c, size_t pos)) {
        size_t n;

        if (!s)
                return false;
        n = strnlen(s, max + 1);
        return n >= min && n <= max && bytes_first_bad((const uint8_t *) s, n, ok) == n;
}

bool attach_name_looks_like_uuid(const char *s) {
        /* 8-4-4-4-12 hex digits, as VMs' UUIDs are written and looked up. */
        static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

        if (!s || strlen(s) != sizeof(shape) - 1)
                return false;
        for (size_t i = 0; shape[i]; i++)
                if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

bool attach_vm_name_is_valid(const char *s) {
        return cstring_ok(s, 1, ATTACH_NAME_MAX, name_char_ok) && !attach_name_looks_like_uuid(s);
}

bool attach_label_key_is_valid(const char *s) {
        return cstring_ok(s, 1, ATTACH_LABEL_KEY_MAX, key_char_ok);
}

bool attach_label_value_is_valid(const char *s) {
        return cstring_ok(s, 0, ATTACH_LABEL_VALUE_MAX, text_char_ok);
}

bool attach_message_is_valid(const char *s) {
        return cstring_ok(s, 0, ATTACH_MESSAGE_MAX, text_char_ok);
}

bool attach_kick_signal_is_valid(int sig) {
        if (sig < 1 || sig > ATTACH_SIGNAL_MAX)
                return false;
        switch (sig) {
        case SIGKILL:
        case SIGSTOP:
                /* Cannot be caught: the "kick" would kill or stop the VMM. */
                return false;
        case SIGILL:
        case SIGTRAP:
        case SIGBUS:
        case SIGFPE:
        case SIGSEGV:
                /* Fault signals: a VMM's handler reads them as faults (QEMU takes
                 * SIGBUS as a hardware memory error), never as a kick. */
                return false;
        case 32:
        case 33:
                /* glibc's NPTL keeps these for itself (SIGCANCEL, SIGSETXID);
                 * SIGRTMIN is 34 there. */
                return false;
        default:
                return true;
        }
}

void attach_message_copy(char dst[static ATTACH_MESSAGE_MAX + 1], const char *src) {
        size_t i = 0;

        if (src)
                for (; i < ATTACH_MESSAGE_MAX && src[i] != '\0'; i++)
                        dst[i] = text_char_ok((uint8_t) src[i], i) ? src[i] : '?';
        dst[i] = '\0';
}

/* ---------------------------------------------------------------- names and tables */

static const char *const msg_type_names[] = {
        [ATTACH_MSG_HELLO] = "HELLO",
        [ATTACH_MSG_VCPU_ATTACH] = "VCPU_ATTACH",
        [ATTACH_MSG_VCPU_DETACH] = "VCPU_DETACH",
        [ATTACH_MSG_BYE] = "BYE",
        [ATTACH_MSG_REPLY] = "REPLY",
        [ATTACH_MSG_INJECT] = "INJECT",
        [ATTACH_MSG_INJECT_RESULT] = "INJECT_RESULT",
        [ATTACH_MSG_INJECT_MCE] = "INJECT_MCE",
        [ATTACH_MSG_REACTION] = "REACTION",
};

static bool msg_type_is_known(unsigned t) {
        return t < ELEMENTSOF(msg_type_names) && msg_type_names[t];
}

const char *attach_msg_type_to_string(AttachMsgType t) {
        return msg_type_is_known((unsigned) t) ? msg_type_names[t] : NULL;
}

unsigned attach_msg_type_fds(AttachMsgType t) {
        return t == ATTACH_MSG_VCPU_ATTACH ? 1 : 0;
}

unsigned attach_msg_type_senders(AttachMsgType t) {
        switch (t) {
        case ATTACH_MSG_HELLO:
        case ATTACH_MSG_VCPU_ATTACH:
        case ATTACH_MSG_VCPU_DETACH:
        case ATTACH_MSG_BYE:
        case ATTACH_MSG_INJECT_RESULT:
        case ATTACH_MSG_REACTION:
                return ATTACH_SENDER_AGENT;
        case ATTACH_MSG_INJECT:
        case ATTACH_MSG_INJECT_MCE:
                return ATTACH_SENDER_DAEMON;
        case ATTACH_MSG_REPLY:
                return ATTACH_SENDER_AGENT | ATTACH_SENDER_DAEMON;
        default:
                return 0;
        }
}

AttachMsgType attach_msg_type_answer(AttachMsgType t) {
        switch (t) {
        case ATTACH_MSG_REPLY:
        case ATTACH_MSG_INJECT_RESULT:
        case ATTACH_MSG_REACTION:
                return (AttachMsgType) 0;
        case ATTACH_MSG_INJECT:
        case ATTACH_MSG_INJECT_MCE:
                return ATTACH_MSG_INJECT_RESULT;
        default:
                return ATTACH_MSG_REPLY;
        }
}

static const char *const arch_names[] = {
        [ATTACH_ARCH_ARM64] = "arm64",
        [ATTACH_ARCH_X86_64] = "x86_64",
};

static bool arch_is_known(unsigned a) {
        return a < ELEMENTSOF(arch_names) && arch_names[a];
}

const char *attach_arch_to_string(AttachArch a) {
        return arch_is_known((unsigned) a) ? arch_names[a] : NULL;
}

int attach_arch_from_string(const char *s, AttachArch *ret) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(arch_names); i++)
                if (arch_names[i] && streq(s, arch_names[i])) {
                        *ret = (AttachArch) i;
                        return 0;
                }
        return -EINVAL;
}

int attach_label_from_string(const char *s, AttachLabel *ret, serror_diag *diag) {
        AttachLabel l = {};
        const char *eq;
        size_t klen;

        if (!s)
                return diag_fail(diag, -EINVAL, "no label given");
        eq = strchr(s, '=');
        if (!eq)
                return diag_fail(diag, -EINVAL, "label has no '=' (expected key=value)");
        klen = (size_t) (eq - s);
        if (klen == 0)
                return diag_fail(diag, -EINVAL, "label key is empty");
        if (klen > ATTACH_LABEL_KEY_MAX)
                return diag_fail(diag, -EINVAL, "label key is %zu bytes long, at most %u allowed", klen,
                                 ATTACH_LABEL_KEY_MAX);
        memcpy(l.key, s, klen);
        if (!attach_label_key_is_valid(l.key))
                return diag_fail(diag, -EINVAL,
                                 "label key may hold only A-Z a-z 0-9 - _ . / and must start with a letter or digit");
        if (strnlen(eq + 1, ATTACH_LABEL_VALUE_MAX + 1) > ATTACH_LABEL_VALUE_MAX)
                return diag_fail(diag, -EINVAL, "label value of '%s' is longer than %u bytes", l.key,
                                 ATTACH_LABEL_VALUE_MAX);
        strcpy(l.value, eq + 1);
        if (!attach_label_value_is_valid(l.value))
                return diag_fail(diag, -EINVAL, "label value of '%s' may hold only printable ASCII", l.key);
        *ret = l;
        return 0;
}

/* ---------------------------------------------------------------- semantic rules, shared by encode and decode */

static int check_errno_field(int e, const char *what, serror_diag *diag) {
        if (e < 0)
                return diag_fail(diag, -EINVAL, "%s %d is negative; the wire carries a positive errno", what, e);
        if ((unsigned) e > ATTACH_ERRNO_MAX)
                return diag_fail(diag, -EINVAL, "%s %d is above %u", what, e, ATTACH_ERRNO_MAX);
        return 0;
}

static int check_vcpu_index(uint32_t vcpu, serror_diag *diag) {
        if (vcpu > ATTACH_VCPU_INDEX_MAX)
                return diag_fail(diag, -EINVAL, "vcpu index %" PRIu32 " is above %" PRIu32, vcpu,
                                 ATTACH_VCPU_INDEX_MAX);
        return 0;
}

static bool uuid_is_null(const uint8_t u[static ATTACH_UUID_SIZE]) {
        for (size_t i = 0; i < ATTACH_UUID_SIZE; i++)
                if (u[i] != 0)
                        return false;
        return true;
}

static int hello_validate(const AttachHello *h, serror_diag *diag) {
        int r;

        if (h->vmm_pid <= 0)
                return diag_fail(diag, -EINVAL, "VMM pid %d is not a positive pid", (int) h->vmm_pid);
        if (!arch_is_known((unsigned) h->arch))
                return diag_fail(diag, -EINVAL, "unknown architecture %u (known: 1 arm64, 2 x86_64)",
                                 (unsigned) h->arch);
        /* The nil UUID means "no UUID" (RFC 4122, 4.1.7); say so with has_uuid instead. */
        if (h->has_uuid && uuid_is_null(h->uuid))
                return diag_fail(diag, -EINVAL, "UUID flagged present but is the nil UUID");
        if (!h->has_uuid && !uuid_is_null(h->uuid))
                return diag_fail(diag, -EINVAL, "UUID bytes set but UUID flagged absent");
        r = check_cstring(h->name, sizeof(h->name), 1, ATTACH_NAME_MAX, name_char_ok, "VM name", diag);
        if (r < 0)
                return r;
        /* VMs are looked up by name or by UUID: a name shaped like a UUID could
         * stand for another VM's UUID. */
        if (attach_name_looks_like_uuid(h->name))
                return diag_fail(diag, -EINVAL, "VM name '%s' has the shape of a UUID; send it as the UUID instead",
                                 h->name);
        if (h->n_labels > ATTACH_LABELS_MAX)
                return diag_fail(diag, -EINVAL, "%u labels, at most %u allowed", h->n_labels, ATTACH_LABELS_MAX);
        for (unsigned i = 0; i < h->n_labels; i++) {
                const AttachLabel *l = &h->labels[i];

                r = check_cstring(l->key, sizeof(l->key), 1, ATTACH_LABEL_KEY_MAX, key_char_ok, "label key", diag);
                if (r < 0)
                        return r;
                r = check_cstring(l->value, sizeof(l->value), 0, ATTACH_LABEL_VALUE_MAX, text_char_ok,
                                  "label value", diag);
                if (r < 0)
                        return r;
                /* Lookups by key must have one answer. */
                for (unsigned j = 0; j < i; j++)
                        if (streq(h->labels[j].key, l->key))
                                return diag_fail(diag, -EINVAL, "label key '%s' appears twice", l->key);
        }
        return 0;
}

static int vcpu_attach_validate(const AttachVcpuAttach *a, serror_diag *diag) {
        int r;

        r = check_vcpu_index(a->vcpu, diag);
        if (r < 0)
                return r;
        if (a->tid <= 0)
                return diag_fail(diag, -EINVAL, "vcpu thread id %d is not a positive tid", (int) a->tid);
        if (!attach_kick_signal_is_valid(a->kick_signal))
                return diag_fail(diag, -EINVAL,
                                 "kick signal %d not allowed (1..%d, not SIGKILL, SIGSTOP, a fault signal, 32 or 33)",
                                 a->kick_signal, ATTACH_SIGNAL_MAX);
        return 0;
}

static int reply_validate(const AttachReply *rp, serror_diag *diag) {
        int r;

        r = check_errno_field(rp->status, "status", diag);
        if (r < 0)
                return r;
        return check_cstring(rp->message, sizeof(rp->message), 0, ATTACH_MESSAGE_MAX, text_char_ok, "message",
                             diag);
}

static int inject_mode_timeout_validate(const AttachInject *in, serror_diag *diag) {
        if ((unsigned) in->mode >= (unsigned) _SERROR_MODE_MAX)
                return diag_fail(diag, -EINVAL, "unknown multiple-SError mode %u (known: 0 merge, 1 defer, 2 skip)",
                                 (unsigned) in->mode);
        if (in->timeout_ns == 0 || in->timeout_ns > ATTACH_TIMEOUT_MAX_NS)
                return diag_fail(diag, -EINVAL, "timeout %" PRIu64 " ns outside 1..%" PRIu64 " ns", in->timeout_ns,
                                 ATTACH_TIMEOUT_MAX_NS);
        return 0;
}

static int inject_mce_validate(const AttachInject *in, serror_diag *diag) {
        int r;

        r = check_vcpu_index(in->vcpu, diag);
        if (r < 0)
                return r;
        if (!in->is_mce)
                return diag_fail(diag, -EINVAL, "INJECT_MCE without a machine check");
        if (in->has_esr || in->allow_ids || in->iss != 0)
                return diag_fail(diag, -EINVAL, "INJECT_MCE carries an SError syndrome");
        r = serror_mce_validate(&in->mce, diag);
        if (r < 0)
                return r;
        return inject_mode_timeout_validate(in, diag);
}

static int inject_validate(const AttachInject *in, serror_diag *diag) {
        static const serror_mce no_mce = {};
        int r;

        r = check_vcpu_index(in->vcpu, diag);
        if (r < 0)
                return r;
        if (in->is_mce || memcmp(&in->mce, &no_mce, sizeof(no_mce)) != 0)
                return diag_fail(diag, -EINVAL, "a machine check travels as INJECT_MCE, not INJECT");
        if (!in->has_esr) {
                /* KVM chooses the syndrome: a syndrome here would be silently ignored. */
                if (in->iss != 0)
                        return diag_fail(diag, -EINVAL, "ISS 0x%" PRIx32 " given without has_esr", in->iss);
                if (in->allow_ids)
                        return diag_fail(diag, -EINVAL, "allow_ids given without has_esr");
        } else {
                if (in->iss & ~SERROR_ISS_MASK)
                        return diag_fail(diag, -EINVAL, "ISS 0x%" PRIx32 " has bits above ISS[24:0]", in->iss);
                /* IDS is an explicit opt-in (DOMAIN.md 1): the documented ABI takes ISS[23:0] only. */
                if ((in->iss & SERROR_ISS_IDS) && !in->allow_ids)
                        return diag_fail(diag, -EINVAL, "ISS 0x%" PRIx32 " sets IDS (bit 24) without allow_ids",
                                         in->iss);
        }
        return inject_mode_timeout_validate(in, diag);
}

static int vcpu_state_validate(const AttachVcpuState *s, const char *what, serror_diag *diag) {
        if (!s->valid && (s->pending || s->has_esr))
                return diag_fail(diag, -EINVAL, "%s state has flags set but is not valid", what);
        if (!(s->valid && s->has_esr) && s->esr != 0)
                return diag_fail(diag, -EINVAL, "%s ESR 0x%" PRIx64 " set without valid and has_esr", what, s->esr);
        return 0;
}

static int inject_result_validate(const AttachInjectResult *res, serror_diag *diag) {
        int r;

        if ((unsigned) res->outcome >= (unsigned) _SERROR_OUTCOME_MAX)
                return diag_fail(diag, -EINVAL, "unknown outcome %u", (unsigned) res->outcome);
        if (res->vcpu == ATTACH_VCPU_UNKNOWN) {
                if (res->outcome != SERROR_OUTCOME_FAILED)
                        return diag_fail(diag, -EINVAL, "vcpu unknown but outcome is not failed");
        } else {
                r = check_vcpu_index(res->vcpu, diag);
                if (r < 0)
                        return r;
        }
        r = check_errno_field(res->error, "errno", diag);
        if (r < 0)
                return r;
        /* Exactly one way to say "failed": the outcome and a non-zero errno together. */
        if (res->outcome == SERROR_OUTCOME_FAILED && res->error == 0)
                return diag_fail(diag, -EINVAL, "outcome failed without an errno");
        if (res->outcome != SERROR_OUTCOME_FAILED && res->error != 0)
                return diag_fail(diag, -EINVAL, "errno %d with an outcome other than failed", res->error);
        r = vcpu_state_validate(&res->before, "before", diag);
        if (r < 0)
                return r;
        r = vcpu_state_validate(&res->after, "after", diag);
        if (r < 0)
                return r;
        if (!res->written.written && res->written.has_esr)
                return diag_fail(diag, -EINVAL, "written has_esr set but nothing was written");
        if (!(res->written.written && res->written.has_esr) && res->written.esr != 0)
                return diag_fail(diag, -EINVAL, "written ESR 0x%" PRIx64 " set without written and has_esr",
                                 res->written.esr);
        /* One CLOCK_MONOTONIC, read in this order by the agent. */
        if (res->done_ns < res->received_ns)
                return diag_fail(diag, -EINVAL, "done %" PRIu64 " ns before received %" PRIu64 " ns", res->done_ns,
                                 res->received_ns);
        if (res->reached_ns != 0 && (res->reached_ns < res->received_ns || res->reached_ns > res->done_ns))
                return diag_fail(diag, -EINVAL, "vcpu reached at %" PRIu64 " ns, outside received..done",
                                 res->reached_ns);
        return check_cstring(res->message, sizeof(res->message), 0, ATTACH_MESSAGE_MAX, text_char_ok, "message",
                             diag);
}

static int reaction_validate(const AttachReaction *rc, serror_diag *diag) {
        int r;

        r = check_vcpu_index(rc->vcpu, diag);
        if (r < 0)
                return r;
        switch (rc->kind) {
        case ATTACH_REACTION_TAKEN:
        case ATTACH_REACTION_UNWATCHED:
                if (rc->inject_id == 0)
                        return diag_fail(diag, -EINVAL, "REACTION %s without the INJECT's request id",
                                         rc->kind == ATTACH_REACTION_TAKEN ? "taken" : "unwatched");
                if (rc->exit_reason != 0 || rc->event_type != 0)
                        return diag_fail(diag, -EINVAL, "REACTION %s with an exit reason (%" PRIu32 ", %" PRIu32 ")",
                                         rc->kind == ATTACH_REACTION_TAKEN ? "taken" : "unwatched", rc->exit_reason,
                                         rc->event_type);
                if (rc->kind == ATTACH_REACTION_UNWATCHED && rc->after_ns != 0)
                        return diag_fail(diag, -EINVAL, "REACTION unwatched with a time");
                return 0;
        case ATTACH_REACTION_EXIT:
                if (rc->exit_reason == 0)
                        return diag_fail(diag, -EINVAL, "REACTION exit without an exit reason");
                if (rc->event_type != 0 && rc->exit_reason != ATTACH_KVM_EXIT_SYSTEM_EVENT)
                        return diag_fail(diag, -EINVAL, "REACTION exit %" PRIu32 " with a system event type %" PRIu32,
                                         rc->exit_reason, rc->event_type);
                if (rc->inject_id != 0 || rc->after_ns != 0)
                        return diag_fail(diag, -EINVAL, "REACTION exit with an INJECT's id or time");
                return 0;
        }
        return diag_fail(diag, -EINVAL, "unknown REACTION kind %u", (unsigned) rc->kind);
}

static int msg_validate(const AttachMsg *m, serror_diag *diag) {
        if (!msg_type_is_known((unsigned) m->type))
                return diag_fail(diag, -EINVAL, "unknown message type %u", (unsigned) m->type);
        /* Id 0 is kept for a REPLY that answers a message whose id could not be read. */
        if (m->request_id == 0 && m->type != ATTACH_MSG_REPLY)
                return diag_fail(diag, -EINVAL, "%s with request id 0", msg_type_names[m->type]);

        switch (m->type) {
        case ATTACH_MSG_HELLO:
                return hello_validate(&m->hello, diag);
        case ATTACH_MSG_VCPU_ATTACH:
                return vcpu_attach_validate(&m->vcpu_attach, diag);
        case ATTACH_MSG_VCPU_DETACH:
                return check_vcpu_index(m->vcpu_detach.vcpu, diag);
        case ATTACH_MSG_BYE:
                return 0;
        case ATTACH_MSG_REPLY:
                return reply_validate(&m->reply, diag);
        case ATTACH_MSG_INJECT:
                return inject_validate(&m->inject, diag);
        case ATTACH_MSG_INJECT_MCE:
                return inject_mce_validate(&m->inject, diag);
        case ATTACH_MSG_INJECT_RESULT:
                return inject_result_validate(&m->inject_result, diag);
        case ATTACH_MSG_REACTION:
                return reaction_validate(&m->reaction, diag);
        }
        return diag_fail(diag, -EINVAL, "unknown message type %u", (unsigned) m->type);
}

/* ---------------------------------------------------------------- encoding */

static void put_u8(uint8_t **p, uint8_t v) {
        *(*p)++ = v;
}

static void put_le16(uint8_t **p, uint16_t v) {
        put_u8(p, (uint8_t) v);
        put_u8(p, (uint8_t) (v >> 8));
}

static void put_le32(uint8_t **p, uint32_t v) {
        put_le16(p, (uint16_t) v);
        put_le16(p, (uint16_t) (v >> 16));
}

static void put_le64(uint8_t **p, uint64_t v) {
        put_le32(p, (uint32_t) v);
        put_le32(p, (uint32_t) (v >> 32));
}

static void put_bytes(uint8_t **p, const void *src, size_t n) {
        if (n > 0)
                memcpy(*p, src, n);
        *p += n;
}

/* A length-prefixed string. The length was checked by msg_validate(). */
static void put_string(uint8_t **p, const char *s) {
        size_t n = strlen(s);

        put_u8(p, (uint8_t) n);
        put_bytes(p, s, n);
}

static size_t label_wire_size(const AttachLabel *l) {
        return strlen(l->key) + 1 + strlen(l->value);
}

static size_t payload_size(const AttachMsg *m) {
        size_t n;

        switch (m->type) {
        case ATTACH_MSG_HELLO:
                n = HELLO_FIXED_SIZE + strlen(m->hello.name);
                for (unsigned i = 0; i < m->hello.n_labels; i++)
                        n += 1 + label_wire_size(&m->hello.labels[i]);
                return n;
        case ATTACH_MSG_VCPU_ATTACH:
                return VCPU_ATTACH_SIZE;
        case ATTACH_MSG_VCPU_DETACH:
                return VCPU_DETACH_SIZE;
        case ATTACH_MSG_BYE:
                return BYE_SIZE;
        case ATTACH_MSG_REPLY:
                return REPLY_FIXED_SIZE + strlen(m->reply.message);
        case ATTACH_MSG_INJECT:
                return INJECT_SIZE;
        case ATTACH_MSG_INJECT_MCE:
                return INJECT_MCE_SIZE;
        case ATTACH_MSG_INJECT_RESULT:
                return INJECT_RESULT_FIXED_SIZE + strlen(m->inject_result.message);
        case ATTACH_MSG_REACTION:
                return REACTION_SIZE;
        }
        return 0;
}

static void encode_hello(uint8_t **p, const AttachHello *h) {
        static const uint8_t zero_uuid[ATTACH_UUID_SIZE] = {};

        put_le32(p, (uint32_t) h->vmm_pid);
        put_le16(p, (uint16_t) h->arch);
        put_le16(p, h->has_uuid ? HELLO_F_HAS_UUID : 0);
        put_le32(p, h->capabilities);
        put_bytes(p, h->has_uuid ? h->uuid : zero_uuid, ATTACH_UUID_SIZE);
        put_u8(p, (uint8_t) strlen(h->name));
        put_u8(p, (uint8_t) h->n_labels);
        put_bytes(p, h->name, strlen(h->name));
        for (unsigned i = 0; i < h->n_labels; i++) {
                const AttachLabel *l = &h->labels[i];

                put_u8(p, (uint8_t) label_wire_size(l));
                put_bytes(p, l->key, strlen(l->key));
                put_u8(p, '=');
                put_bytes(p, l->value, strlen(l->value));
        }
}

static void encode_inject(uint8_t **p, const AttachInject *in) {
        uint32_t flags = 0;

        if (in->has_esr)
                flags |= INJECT_F_HAS_ESR;
        if (in->allow_ids)
                flags |= INJECT_F_ALLOW_IDS;
        if (in->dry_run)
                flags |= INJECT_F_DRY_RUN;
        put_le32(p, in->vcpu);
        put_le32(p, in->iss);
        put_le32(p, flags);
        put_le32(p, (uint32_t) in->mode);
        put_le64(p, in->timeout_ns);
}

static void encode_inject_mce(uint8_t **p, const AttachInject *in) {
        put_le32(p, in->vcpu);
        put_le32(p, in->dry_run ? INJECT_F_DRY_RUN : 0);
        put_le32(p, (uint32_t) in->mode);
        put_le32(p, in->mce.bank);
        put_le64(p, in->mce.status);
        put_le64(p, in->mce.addr);
        put_le64(p, in->mce.misc);
        put_le64(p, in->mce.mcg_status);
        put_le64(p, in->timeout_ns);
}

static uint32_t state_flags(const AttachVcpuState *s, uint32_t valid, uint32_t pending, uint32_t has_esr) {
        return (s->valid ? valid : 0) | (s->pending ? pending : 0) | (s->has_esr ? has_esr : 0);
}

static void encode_inject_result(uint8_t **p, const AttachInjectResult *res) {
        uint32_t flags;

        flags = state_flags(&res->before, RESULT_F_BEFORE_VALID, RESULT_F_BEFORE_PENDING, RESULT_F_BEFORE_HAS_ESR) |
                state_flags(&res->after, RESULT_F_AFTER_VALID, RESULT_F_AFTER_PENDING, RESULT_F_AFTER_HAS_ESR) |
                (res->written.written ? RESULT_F_WRITTEN : 0) | (res->written.has_esr ? RESULT_F_WRITTEN_HAS_ESR : 0);
        put_le32(p, res->vcpu);
        put_le32(p, (uint32_t) res->outcome);
        put_le32(p, (uint32_t) res->error);
        put_le32(p, flags);
        put_le64(p, res->before.esr);
        put_le64(p, res->written.esr);
        put_le64(p, res->after.esr);
        put_le64(p, res->received_ns);
        put_le64(p, res->reached_ns);
        put_le64(p, res->done_ns);
        put_string(p, res->message);
}

int attach_msg_encode(const AttachMsg *m, uint8_t *buf, size_t size, size_t *ret_len, serror_diag *diag) {
        size_t psize, total;
        uint8_t *p;
        int r;

        if (!m || !ret_len)
                return diag_fail(diag, -EINVAL, "no message or no length pointer given");
        r = msg_validate(m, diag);
        if (r < 0)
                return r;

        psize = payload_size(m);
        total = ATTACH_HEADER_SIZE + psize;
        /* Cannot trigger with the limits in attach-proto.h; keeps a future limit change honest. */
        if (total > ATTACH_MSG_SIZE_MAX)
                return diag_fail(diag, -EINVAL, "%s of %zu bytes exceeds the maximum of %u",
                                 msg_type_names[m->type], total, ATTACH_MSG_SIZE_MAX);
        if (!buf || size < total)
                return diag_fail(diag, -ENOBUFS, "%s needs %zu bytes, buffer has %zu", msg_type_names[m->type],
                                 total, buf ? size : 0);

        p = buf;
        put_le32(&p, ATTACH_PROTO_MAGIC);
        put_le16(&p, ATTACH_PROTO_VERSION);
        put_le16(&p, (uint16_t) m->type);
        put_le32(&p, (uint32_t) psize);
        put_le32(&p, 0);
        put_le64(&p, m->request_id);

        switch (m->type) {
        case ATTACH_MSG_HELLO:
                encode_hello(&p, &m->hello);
                break;
        case ATTACH_MSG_VCPU_ATTACH:
                put_le32(&p, m->vcpu_attach.vcpu);
                put_le32(&p, (uint32_t) m->vcpu_attach.tid);
                put_le32(&p, (uint32_t) m->vcpu_attach.kick_signal);
                break;
        case ATTACH_MSG_VCPU_DETACH:
                put_le32(&p, m->vcpu_detach.vcpu);
                break;
        case ATTACH_MSG_BYE:
                break;
        case ATTACH_MSG_REPLY:
                put_le32(&p, (uint32_t) m->reply.status);
                put_string(&p, m->reply.message);
                break;
        case ATTACH_MSG_INJECT:
                encode_inject(&p, &m->inject);
                break;
        case ATTACH_MSG_INJECT_MCE:
                encode_inject_mce(&p, &m->inject);
                break;
        case ATTACH_MSG_INJECT_RESULT:
                encode_inject_result(&p, &m->inject_result);
                break;
        case ATTACH_MSG_REACTION:
                put_le32(&p, m->reaction.vcpu);
                put_le32(&p, (uint32_t) m->reaction.kind);
                put_le32(&p, m->reaction.exit_reason);
                put_le32(&p, m->reaction.event_type);
                put_le64(&p, m->reaction.inject_id);
                put_le64(&p, m->reaction.after_ns);
                break;
        }

        if ((size_t) (p - buf) != total)
                return diag_fail(diag, -EINVAL, "internal error: wrote %zu bytes of %zu", (size_t) (p - buf), total);
        *ret_len = total;
        return 0;
}

/* ---------------------------------------------------------------- decoding */

typedef struct WireReader {
        const uint8_t *p;
        size_t left;
} WireReader;

/* Callers check the payload's size before reading a fixed part; these checks
 * keep a wrong size table from ever reading past the datagram. */
static bool get_u8(WireReader *r, uint8_t *ret) {
        if (r->left < 1)
                return false;
        *ret = *r->p++;
        r->left--;
        return true;
}

static bool get_le16(WireReader *r, uint16_t *ret) {
        if (r->left < 2)
                return false;
        *ret = (uint16_t) (r->p[0] | (uint16_t) r->p[1] << 8);
        r->p += 2;
        r->left -= 2;
        return true;
}

static bool get_le32(WireReader *r, uint32_t *ret) {
        if (r->left < 4)
                return false;
        *ret = (uint32_t) r->p[0] | (uint32_t) r->p[1] << 8 | (uint32_t) r->p[2] << 16 | (uint32_t) r->p[3] << 24;
        r->p += 4;
        r->left -= 4;
        return true;
}

static bool get_le64(WireReader *r, uint64_t *ret) {
        uint64_t v = 0;

        if (r->left < 8)
                return false;
        for (size_t i = 0; i < 8; i++)
                v |= (uint64_t) r->p[i] << (8 * i);
        r->p += 8;
        r->left -= 8;
        *ret = v;
        return true;
}

static bool get_bytes(WireReader *r, size_t n, const uint8_t **ret) {
        if (r->left < n)
                return false;
        *ret = r->p;
        r->p += n;
        r->left -= n;
        return true;
}

static int short_payload(const char *type, serror_diag *diag) {
        return diag_fail(diag, -EBADMSG, "%s payload ends inside its fixed part", type);
}

/* Bytes of a string field: length bounds, then every byte against the rule,
 * on the wire bytes themselves so that an embedded NUL cannot hide behind strlen. */
static int check_wire_string(const uint8_t *p, size_t n, size_t min, size_t max, bool (*ok)(uint8_t c, size_t pos),
                             const char *what, serror_diag *diag) {
        size_t bad;

        if (n < min)
                return diag_fail(diag, -EBADMSG, "%s is empty", what);
        if (n > max)
                return diag_fail(diag, -EBADMSG, "%s is %zu bytes long, at most %zu allowed", what, n, max);
        bad = bytes_first_bad(p, n, ok);
        if (bad < n)
                return diag_fail(diag, -EBADMSG, "%s has a disallowed byte 0x%02x at offset %zu", what,
                                 (unsigned) p[bad], bad);
        return 0;
}

/* A u8 length followed by that many bytes, which must be in the payload. */
static int get_string(WireReader *r, size_t min, size_t max, bool (*ok)(uint8_t c, size_t pos), const char *what,
                      char *dst, serror_diag *diag) {
        const uint8_t *p;
        uint8_t n;
        int k;

        if (!get_u8(r, &n))
                return diag_fail(diag, -EBADMSG, "payload ends before the length of %s", what);
        if (!get_bytes(r, n, &p))
                return diag_fail(diag, -EBADMSG, "%s claims %u bytes, the payload has %zu left", what, (unsigned) n,
                                 r->left);
        k = check_wire_string(p, n, min, max, ok, what, diag);
        if (k < 0)
                return k;
        memcpy(dst, p, n);
        dst[n] = '\0';
        return 0;
}

static int decode_label(WireReader *r, unsigned idx, AttachLabel *l, serror_diag *diag) {
        const uint8_t *p, *eq;
        size_t klen;
        uint8_t n;
        int k;

        if (!get_u8(r, &n))
                return diag_fail(diag, -EBADMSG, "payload ends before the length of label %u", idx);
        if (!get_bytes(r, n, &p))
                return diag_fail(diag, -EBADMSG, "label %u claims %u bytes, the payload has %zu left", idx,
                                 (unsigned) n, r->left);
        if (n > LABEL_WIRE_MAX)
                return diag_fail(diag, -EBADMSG, "label %u is %u bytes long, at most %u allowed", idx, (unsigned) n,
                                 LABEL_WIRE_MAX);
        eq = memchr(p, '=', n);
        if (!eq)
                return diag_fail(diag, -EBADMSG, "label %u has no '=' (expected key=value)", idx);
        klen = (size_t) (eq - p);
        k = check_wire_string(p, klen, 1, ATTACH_LABEL_KEY_MAX, key_char_ok, "label key", diag);
        if (k < 0)
                return k;
        k = check_wire_string(eq + 1, n - klen - 1, 0, ATTACH_LABEL_VALUE_MAX, text_char_ok, "label value", diag);
        if (k < 0)
                return k;
        memcpy(l->key, p, klen);
        l->key[klen] = '\0';
        memcpy(l->value, eq + 1, n - klen - 1);
        l->value[n - klen - 1] = '\0';
        return 0;
}

static int decode_hello(WireReader *r, AttachHello *h, serror_diag *diag) {
        uint32_t pid, caps;
        uint16_t arch, flags;
        uint8_t name_len, n_labels;
        const uint8_t *uuid, *name;
        int k;

        if (r->left < HELLO_FIXED_SIZE)
                return diag_fail(diag, -EBADMSG, "HELLO payload is %zu bytes, at least %u needed", r->left,
                                 HELLO_FIXED_SIZE);
        if (!get_le32(r, &pid) || !get_le16(r, &arch) || !get_le16(r, &flags) || !get_le32(r, &caps) ||
            !get_bytes(r, ATTACH_UUID_SIZE, &uuid) || !get_u8(r, &name_len) || !get_u8(r, &n_labels))
                return short_payload("HELLO", diag);

        if (flags & ~HELLO_F_KNOWN)
                return diag_fail(diag, -EBADMSG, "HELLO has unknown flags 0x%04x", flags & ~HELLO_F_KNOWN);
        if (pid > INT32_MAX)
                return diag_fail(diag, -EBADMSG, "VMM pid %" PRIu32 " does not fit a pid_t", pid);
        if (n_labels > ATTACH_LABELS_MAX)
                return diag_fail(diag, -EBADMSG, "%u labels, at most %u allowed", (unsigned) n_labels,
                                 ATTACH_LABELS_MAX);
        h->vmm_pid = (pid_t) pid;
        h->arch = (AttachArch) arch;
        h->capabilities = caps;
        h->has_uuid = flags & HELLO_F_HAS_UUID;
        memcpy(h->uuid, uuid, ATTACH_UUID_SIZE);

        if (!get_bytes(r, name_len, &name))
                return diag_fail(diag, -EBADMSG, "VM name claims %u bytes, the payload has %zu left",
                                 (unsigned) name_len, r->left);
        k = check_wire_string(name, name_len, 1, ATTACH_NAME_MAX, name_char_ok, "VM name", diag);
        if (k < 0)
                return k;
        memcpy(h->name, name, name_len);

        h->n_labels = n_labels;
        for (unsigned i = 0; i < n_labels; i++) {
                k = decode_label(r, i, &h->labels[i], diag);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int decode_fixed_size(WireReader *r, size_t want, const char *type, serror_diag *diag) {
        if (r->left != want)
                return diag_fail(diag, -EBADMSG, "%s payload is %zu bytes, expected exactly %zu", type, r->left, want);
        return 0;
}

static int decode_vcpu_attach(WireReader *r, AttachVcpuAttach *a, serror_diag *diag) {
        uint32_t vcpu, tid, sig;
        int k;

        k = decode_fixed_size(r, VCPU_ATTACH_SIZE, "VCPU_ATTACH", diag);
        if (k < 0)
                return k;
        if (!get_le32(r, &vcpu) || !get_le32(r, &tid) || !get_le32(r, &sig))
                return short_payload("VCPU_ATTACH", diag);
        if (tid > INT32_MAX)
                return diag_fail(diag, -EBADMSG, "vcpu thread id %" PRIu32 " does not fit a pid_t", tid);
        if (sig > INT_MAX)
                return diag_fail(diag, -EBADMSG, "kick signal %" PRIu32 " not allowed", sig);
        a->vcpu = vcpu;
        a->tid = (pid_t) tid;
        a->kick_signal = (int) sig;
        return 0;
}

static int decode_reply(WireReader *r, AttachReply *rp, serror_diag *diag) {
        uint32_t status;

        if (r->left < REPLY_FIXED_SIZE)
                return diag_fail(diag, -EBADMSG, "REPLY payload is %zu bytes, at least %u needed", r->left,
                                 REPLY_FIXED_SIZE);
        if (!get_le32(r, &status))
                return short_payload("REPLY", diag);
        if (status > ATTACH_ERRNO_MAX)
                return diag_fail(diag, -EBADMSG, "status %" PRIu32 " is above %u", status, ATTACH_ERRNO_MAX);
        rp->status = (int) status;
        return get_string(r, 0, ATTACH_MESSAGE_MAX, text_char_ok, "message", rp->message, diag);
}

static int decode_inject(WireReader *r, AttachInject *in, serror_diag *diag) {
        uint32_t vcpu, iss, flags, mode;
        uint64_t timeout;
        int k;

        k = decode_fixed_size(r, INJECT_SIZE, "INJECT", diag);
        if (k < 0)
                return k;
        if (!get_le32(r, &vcpu) || !get_le32(r, &iss) || !get_le32(r, &flags) || !get_le32(r, &mode) ||
            !get_le64(r, &timeout))
                return short_payload("INJECT", diag);
        if (flags & ~INJECT_F_KNOWN)
                return diag_fail(diag, -EBADMSG, "INJECT has unknown flags 0x%08" PRIx32, flags & ~INJECT_F_KNOWN);
        /* Range-check before the value becomes an enum. */
        if (mode >= (uint32_t) _SERROR_MODE_MAX)
                return diag_fail(diag, -EBADMSG, "unknown multiple-SError mode %" PRIu32
                                 " (known: 0 merge, 1 defer, 2 skip)", mode);
        in->vcpu = vcpu;
        in->iss = iss;
        in->has_esr = flags & INJECT_F_HAS_ESR;
        in->allow_ids = flags & INJECT_F_ALLOW_IDS;
        in->dry_run = flags & INJECT_F_DRY_RUN;
        in->mode = (serror_mode) mode;
        in->timeout_ns = timeout;
        return 0;
}

static int decode_reaction(WireReader *r, AttachReaction *rc, serror_diag *diag) {
        uint32_t kind;
        int k;

        k = decode_fixed_size(r, REACTION_SIZE, "REACTION", diag);
        if (k < 0)
                return k;
        if (!get_le32(r, &rc->vcpu) || !get_le32(r, &kind) || !get_le32(r, &rc->exit_reason) ||
            !get_le32(r, &rc->event_type) || !get_le64(r, &rc->inject_id) || !get_le64(r, &rc->after_ns))
                return short_payload("REACTION", diag);
        /* Range-check before the value becomes an enum. */
        if (kind != ATTACH_REACTION_TAKEN && kind != ATTACH_REACTION_EXIT && kind != ATTACH_REACTION_UNWATCHED)
                return diag_fail(diag, -EBADMSG, "unknown REACTION kind %" PRIu32 " (known: 1 taken, 2 exit, 3 unwatched)",
                                 kind);
        rc->kind = (AttachReactionKind) kind;
        return 0;
}

static int decode_inject_mce(WireReader *r, AttachInject *in, serror_diag *diag) {
        uint32_t vcpu, flags, mode, bank;
        uint64_t status, addr, misc, mcg_status, timeout;
        int k;

        k = decode_fixed_size(r, INJECT_MCE_SIZE, "INJECT_MCE", diag);
        if (k < 0)
                return k;
        if (!get_le32(r, &vcpu) || !get_le32(r, &flags) || !get_le32(r, &mode) || !get_le32(r, &bank) ||
            !get_le64(r, &status) || !get_le64(r, &addr) || !get_le64(r, &misc) || !get_le64(r, &mcg_status) ||
            !get_le64(r, &timeout))
                return short_payload("INJECT_MCE", diag);
        if (flags & ~INJECT_MCE_F_KNOWN)
                return diag_fail(diag, -EBADMSG, "INJECT_MCE has unknown flags 0x%08" PRIx32,
                                 flags & ~INJECT_MCE_F_KNOWN);
        if (mode >= (uint32_t) _SERROR_MODE_MAX)
                return diag_fail(diag, -EBADMSG, "unknown multiple-error mode %" PRIu32
                                 " (known: 0 merge, 1 defer, 2 skip)", mode);
        in->vcpu = vcpu;
        in->is_mce = true;
        in->mce = (serror_mce) { .bank = bank, .status = status, .addr = addr, .misc = misc, .mcg_status = mcg_status };
        in->dry_run = flags & INJECT_F_DRY_RUN;
        in->mode = (serror_mode) mode;
        in->timeout_ns = timeout;
        return 0;
}

static void state_from_flags(AttachVcpuState *s, uint32_t flags, uint32_t valid, uint32_t pending,
                             uint32_t has_esr, uint64_t esr) {
        s->valid = flags & valid;
        s->pending = flags & pending;
        s->has_esr = flags & has_esr;
        s->esr = esr;
}

static int decode_inject_result(WireReader *r, AttachInjectResult *res, serror_diag *diag) {
        uint32_t vcpu, outcome, error, flags;
        uint64_t before_esr, written_esr, after_esr;

        if (r->left < INJECT_RESULT_FIXED_SIZE)
                return diag_fail(diag, -EBADMSG, "INJECT_RESULT payload is %zu bytes, at least %u needed", r->left,
                                 INJECT_RESULT_FIXED_SIZE);
        if (!get_le32(r, &vcpu) || !get_le32(r, &outcome) || !get_le32(r, &error) || !get_le32(r, &flags) ||
            !get_le64(r, &before_esr) || !get_le64(r, &written_esr) || !get_le64(r, &after_esr) ||
            !get_le64(r, &res->received_ns) || !get_le64(r, &res->reached_ns) || !get_le64(r, &res->done_ns))
                return short_payload("INJECT_RESULT", diag);
        if (flags & ~RESULT_F_KNOWN)
                return diag_fail(diag, -EBADMSG, "INJECT_RESULT has unknown flags 0x%08" PRIx32,
                                 flags & ~RESULT_F_KNOWN);
        if (outcome >= (uint32_t) _SERROR_OUTCOME_MAX)
                return diag_fail(diag, -EBADMSG, "unknown outcome %" PRIu32, outcome);
        if (error > ATTACH_ERRNO_MAX)
                return diag_fail(diag, -EBADMSG, "errno %" PRIu32 " is above %u", error, ATTACH_ERRNO_MAX);
        res->vcpu = vcpu;
        res->outcome = (serror_outcome) outcome;
        res->error = (int) error;
        state_from_flags(&res->before, flags, RESULT_F_BEFORE_VALID, RESULT_F_BEFORE_PENDING,
                         RESULT_F_BEFORE_HAS_ESR, before_esr);
        state_from_flags(&res->after, flags, RESULT_F_AFTER_VALID, RESULT_F_AFTER_PENDING, RESULT_F_AFTER_HAS_ESR,
                         after_esr);
        res->written.written = flags & RESULT_F_WRITTEN;
        res->written.has_esr = flags & RESULT_F_WRITTEN_HAS_ESR;
        res->written.esr = written_esr;
        return get_string(r, 0, ATTACH_MESSAGE_MAX, text_char_ok, "message", res->message, diag);
}

int attach_header_decode(const uint8_t *buf, size_t len, AttachHeader *ret, serror_diag *diag) {
        WireReader r = { .p = buf, .left = len };
        AttachHeader h;
        uint32_t magic;

        if (!buf || len < ATTACH_HEADER_SIZE)
                return diag_fail(diag, -EMSGSIZE, "message of %zu bytes is shorter than the %u-byte header",
                                 buf ? len : 0, ATTACH_HEADER_SIZE);
        (void) get_le32(&r, &magic);
        if (magic != ATTACH_PROTO_MAGIC)
                return diag_fail(diag, -EPROTO, "bad magic 0x%08" PRIx32 " (expected 0x%08" PRIx32 ")", magic,
                                 ATTACH_PROTO_MAGIC);
        (void) get_le16(&r, &h.version);
        (void) get_le16(&r, &h.type);
        (void) get_le32(&r, &h.payload_size);
        (void) get_le32(&r, &h.reserved);
        (void) get_le64(&r, &h.request_id);
        *ret = h;
        return 0;
}

int attach_msg_decode(const uint8_t *buf, size_t len, AttachMsg *ret, serror_diag *diag) {
        WireReader r;
        AttachHeader h;
        AttachMsg m;
        int k;

        if (!ret)
                return diag_fail(diag, -EINVAL, "no message to decode into");
        /* Before anything else is read: the one check that does not trust the peer at all. */
        if (len > ATTACH_MSG_SIZE_MAX)
                return diag_fail(diag, -EMSGSIZE, "message of %zu bytes exceeds the maximum of %u", len,
                                 ATTACH_MSG_SIZE_MAX);
        k = attach_header_decode(buf, len, &h, diag);
        if (k < 0)
                return k;
        if (h.version != ATTACH_PROTO_VERSION)
                return diag_fail(diag, -EPROTONOSUPPORT, "protocol version %u not supported (this end speaks %u)",
                                 (unsigned) h.version, ATTACH_PROTO_VERSION);
        if (h.reserved != 0)
                return diag_fail(diag, -EBADMSG, "reserved header field is 0x%08" PRIx32 ", must be 0", h.reserved);
        /* SOCK_SEQPACKET hands over whole records; a disagreeing length field
         * means a broken sender, not a message to reassemble. */
        if (h.payload_size != len - ATTACH_HEADER_SIZE)
                return diag_fail(diag, -EBADMSG, "header says %" PRIu32 " payload bytes, the message has %zu",
                                 h.payload_size, len - ATTACH_HEADER_SIZE);
        if (!msg_type_is_known(h.type))
                return diag_fail(diag, -EOPNOTSUPP, "unknown message type %u", (unsigned) h.type);
        if (h.request_id == 0 && h.type != ATTACH_MSG_REPLY)
                return diag_fail(diag, -EBADMSG, "%s with request id 0", msg_type_names[h.type]);

        /* Zeroed whole, padding included, so that equal messages compare equal with memcmp(). */
        memset(&m, 0, sizeof(m));
        m.type = (AttachMsgType) h.type;
        m.request_id = h.request_id;
        r = (WireReader) { .p = buf + ATTACH_HEADER_SIZE, .left = h.payload_size };

        switch (m.type) {
        case ATTACH_MSG_HELLO:
                k = decode_hello(&r, &m.hello, diag);
                break;
        case ATTACH_MSG_VCPU_ATTACH:
                k = decode_vcpu_attach(&r, &m.vcpu_attach, diag);
                break;
        case ATTACH_MSG_VCPU_DETACH:
                k = decode_fixed_size(&r, VCPU_DETACH_SIZE, "VCPU_DETACH", diag);
                if (k >= 0 && !get_le32(&r, &m.vcpu_detach.vcpu))
                        k = short_payload("VCPU_DETACH", diag);
                break;
        case ATTACH_MSG_BYE:
                k = decode_fixed_size(&r, BYE_SIZE, "BYE", diag);
                break;
        case ATTACH_MSG_REPLY:
                k = decode_reply(&r, &m.reply, diag);
                break;
        case ATTACH_MSG_INJECT:
                k = decode_inject(&r, &m.inject, diag);
                break;
        case ATTACH_MSG_INJECT_MCE:
                k = decode_inject_mce(&r, &m.inject, diag);
                break;
        case ATTACH_MSG_INJECT_RESULT:
                k = decode_inject_result(&r, &m.inject_result, diag);
                break;
        case ATTACH_MSG_REACTION:
                k = decode_reaction(&r, &m.reaction, diag);
                break;
        default:
                k = diag_fail(diag, -EOPNOTSUPP, "unknown message type %u", (unsigned) h.type);
        }
        if (k < 0)
                return k;
        /* Strings must fill the payload exactly: a trailing byte is an error, never ignored. */
        if (r.left != 0)
                return diag_fail(diag, -EBADMSG, "%s payload has %zu trailing bytes", msg_type_names[m.type], r.left);

        /* The rules the encoder also applies; what they refuse here is the peer's fault. */
        k = msg_validate(&m, diag);
        if (k < 0)
                return k == -EINVAL ? -EBADMSG : k;

        memcpy(ret, &m, sizeof(m));
        return 0;
}
