/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the attach protocol codec: round trips at the limits, golden bytes, and every rejection. */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "attach-proto.h"
#include "macro.h"
#include "tap.h"

/* The layout written out again from doc/attach-protocol.md, independently of
 * lib/attach-proto.c, so that a wrong offset there cannot hide itself. */
#define HDR 24u
#define HELLO_FIXED 30u
#define REPLY_FIXED 5u

typedef struct wire {
        uint8_t b[2 * ATTACH_MSG_SIZE_MAX];
        size_t len;
} wire;

static void w_u8(wire *w, uint8_t v) {
        if (w->len >= sizeof(w->b))
                tap_bail_out("test wire buffer overflow");
        w->b[w->len++] = v;
}

static void w_le16(wire *w, uint16_t v) {
        w_u8(w, (uint8_t) v);
        w_u8(w, (uint8_t) (v >> 8));
}

static void w_le32(wire *w, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                w_u8(w, (uint8_t) (v >> (8 * i)));
}

static void w_le64(wire *w, uint64_t v) {
        for (unsigned i = 0; i < 8; i++)
                w_u8(w, (uint8_t) (v >> (8 * i)));
}

static void w_bytes(wire *w, const void *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                w_u8(w, ((const uint8_t *) p)[i]);
}

/* A u8 length and the bytes; n may lie, on purpose. */
static void w_str_n(wire *w, uint8_t n, const void *p, size_t real) {
        w_u8(w, n);
        w_bytes(w, p, real);
}

static void w_str(wire *w, const char *s) {
        w_str_n(w, (uint8_t) strlen(s), s, strlen(s));
}

static void w_header(wire *w, uint16_t type, uint64_t id) {
        w->len = 0;
        w_bytes(w, "SERA", 4);
        w_le16(w, 1);
        w_le16(w, type);
        w_le32(w, 0); /* payload size, set by w_finish() */
        w_le32(w, 0);
        w_le64(w, id);
}

static void w_set_le32(wire *w, size_t off, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                w->b[off + i] = (uint8_t) (v >> (8 * i));
}

static void w_finish(wire *w) {
        w_set_le32(w, 8, (uint32_t) (w->len - HDR));
}

/* ---------------------------------------------------------------- checks */

static const char *errno_name(int e) {
        switch (e) {
        case 0:
                return "0";
        case -EMSGSIZE:
                return "-EMSGSIZE";
        case -EPROTO:
                return "-EPROTO";
        case -EPROTONOSUPPORT:
                return "-EPROTONOSUPPORT";
        case -EBADMSG:
                return "-EBADMSG";
        case -EOPNOTSUPP:
                return "-EOPNOTSUPP";
        case -EINVAL:
                return "-EINVAL";
        case -ENOBUFS:
                return "-ENOBUFS";
        default:
                return "other";
        }
}

/* Decode must fail with want, leave *ret untouched and say why. */
static void check_decode_fails(const uint8_t *buf, size_t len, int want, const char *what) {
        AttachMsg m, sentinel;
        serror_diag diag = {};
        int r;

        memset(&m, 0x5a, sizeof(m));
        memcpy(&sentinel, &m, sizeof(m));
        r = attach_msg_decode(buf, len, &m, &diag);
        tap_ok(r == want && memcmp(&m, &sentinel, sizeof(m)) == 0 && diag.message[0] != '\0',
               "refuse %s: %s (got %s: %s)", what, errno_name(want), errno_name(r), diag.message);
}

static void check_wire_fails(wire *w, int want, const char *what) {
        check_decode_fails(w->b, w->len, want, what);
}

/* The hand-built baselines that the rejections vary must themselves decode. */
static void check_wire_ok(wire *w, const char *what) {
        serror_diag diag = {};
        AttachMsg m;
        int r;

        r = attach_msg_decode(w->b, w->len, &m, &diag);
        tap_ok(r == 0, "accept %s (r=%s%s%s)", what, errno_name(r), r < 0 ? ": " : "", r < 0 ? diag.message : "");
}

static void encode_or_bail(const AttachMsg *m, wire *w) {
        serror_diag diag = {};
        int r;

        r = attach_msg_encode(m, w->b, sizeof(w->b), &w->len, &diag);
        if (r < 0)
                tap_bail_out("encoding a valid %s failed: %d %s", attach_msg_type_to_string(m->type), r, diag.message);
}

/* encode, decode, compare; re-encode and compare bytes. m must be zeroed
 * outside its fields (msg_new()) for memcmp() to be meaningful. */
static void check_roundtrip(const AttachMsg *m, const char *what) {
        uint8_t again[ATTACH_MSG_SIZE_MAX];
        serror_diag diag = {};
        AttachMsg d;
        size_t len2 = 0;
        wire w;
        int r1, r2, r3;

        r1 = attach_msg_encode(m, w.b, sizeof(w.b), &w.len, &diag);
        r2 = r1 < 0 ? r1 : attach_msg_decode(w.b, w.len, &d, &diag);
        r3 = r2 < 0 ? r2 : attach_msg_encode(&d, again, sizeof(again), &len2, &diag);
        tap_ok(r1 == 0 && r2 == 0 && r3 == 0 && memcmp(&d, m, sizeof(d)) == 0 && len2 == w.len &&
                       memcmp(again, w.b, w.len) == 0,
               "round trip %s (%zu bytes; r=%d/%d/%d %s)", what, w.len, r1, r2, r3, diag.message);
}

static void check_encode_fails(const AttachMsg *m, int want, const char *what) {
        uint8_t buf[ATTACH_MSG_SIZE_MAX];
        serror_diag diag = {};
        size_t len = 12345;
        int r;

        memset(buf, 0xa5, sizeof(buf));
        r = attach_msg_encode(m, buf, sizeof(buf), &len, &diag);
        tap_ok(r == want && len == 12345 && buf[0] == 0xa5 && diag.message[0] != '\0',
               "encoder refuses %s: %s (got %s: %s)", what, errno_name(want), errno_name(r), diag.message);
}

/* Builders write through a pointer: whole-struct copies need not preserve
 * padding, and the round trips compare with memcmp(). */
static void msg_new(AttachMsg *m, AttachMsgType t, uint64_t id) {
        memset(m, 0, sizeof(*m));
        m->type = t;
        m->request_id = id;
}

static void fill(char *dst, char c, size_t n) {
        memset(dst, c, n);
        dst[n] = '\0';
}

static void hello_min(AttachMsg *m) {
        msg_new(m, ATTACH_MSG_HELLO, 1);
        m->hello.vmm_pid = 1;
        m->hello.arch = ATTACH_ARCH_ARM64;
        strcpy(m->hello.name, "v");
}

static void hello_max(AttachMsg *m) {
        static const char name_chars[] = "Az09-_.:+@";
        AttachHello *h = &m->hello;

        msg_new(m, ATTACH_MSG_HELLO, UINT64_MAX);
        h->vmm_pid = INT32_MAX;
        h->arch = ATTACH_ARCH_X86_64;
        h->capabilities = UINT32_MAX; /* unknown bits are carried, not refused */
        h->has_uuid = true;
        for (unsigned i = 0; i < ATTACH_UUID_SIZE; i++)
                h->uuid[i] = (uint8_t) (0xf0 + i);
        for (unsigned i = 0; i < ATTACH_NAME_MAX; i++)
                h->name[i] = name_chars[i % (sizeof(name_chars) - 1)];
        h->n_labels = ATTACH_LABELS_MAX;
        for (unsigned i = 0; i < ATTACH_LABELS_MAX; i++) {
                fill(h->labels[i].key, 'k', ATTACH_LABEL_KEY_MAX);
                h->labels[i].key[0] = (char) ('a' + i); /* unique */
                h->labels[i].key[1] = '/';
                fill(h->labels[i].value, '=', ATTACH_LABEL_VALUE_MAX);
                h->labels[i].value[0] = ' ';
                h->labels[i].value[1] = '~';
        }
}

static void vcpu_attach(AttachMsg *m, uint32_t vcpu, pid_t tid, int sig) {
        msg_new(m, ATTACH_MSG_VCPU_ATTACH, 2);
        m->vcpu_attach.vcpu = vcpu;
        m->vcpu_attach.tid = tid;
        m->vcpu_attach.kick_signal = sig;
}

static void reply(AttachMsg *m, uint64_t id, int status, const char *text) {
        msg_new(m, ATTACH_MSG_REPLY, id);
        m->reply.status = status;
        strcpy(m->reply.message, text);
}

static void inject(AttachMsg *m, bool has_esr, bool allow_ids, uint32_t iss, serror_mode mode, uint64_t timeout) {
        msg_new(m, ATTACH_MSG_INJECT, 77);
        m->inject.vcpu = 3;
        m->inject.has_esr = has_esr;
        m->inject.allow_ids = allow_ids;
        m->inject.iss = iss;
        m->inject.mode = mode;
        m->inject.timeout_ns = timeout;
}

static void result_injected(AttachMsg *m) {
        AttachInjectResult *res = &m->inject_result;

        msg_new(m, ATTACH_MSG_INJECT_RESULT, 77);
        res->vcpu = 3;
        res->outcome = SERROR_OUTCOME_INJECTED;
        res->before.valid = true;
        res->before.has_esr = true;
        res->written.written = true;
        res->written.has_esr = true;
        res->written.esr = 0xc11;
        res->after.valid = true;
        res->after.pending = true;
        res->after.has_esr = true;
        res->after.esr = 0xc11;
        res->received_ns = 1000;
        res->reached_ns = 2000;
        res->done_ns = 3000;
        strcpy(res->message, "ok");
}

/* ---------------------------------------------------------------- round trips */

static void test_roundtrips(void) {
        AttachMsg m;
        wire w;

        hello_min(&m);
        check_roundtrip(&m, "HELLO: 1-byte name, no UUID, no labels");
        hello_max(&m);
        check_roundtrip(&m, "HELLO: 64-byte name, UUID, 16 labels of 63+127 bytes, all capability bits");
        encode_or_bail(&m, &w);
        tap_ok(w.len == HDR + HELLO_FIXED + ATTACH_NAME_MAX + ATTACH_LABELS_MAX * (1 + 63 + 1 + 127) &&
                       w.len <= ATTACH_MSG_SIZE_MAX,
               "largest HELLO is %zu bytes, within the %u maximum", w.len, ATTACH_MSG_SIZE_MAX);

        hello_min(&m);
        m.hello.n_labels = 3;
        strcpy(m.hello.labels[0].key, "role");
        strcpy(m.hello.labels[0].value, "");
        strcpy(m.hello.labels[1].key, "example.com/team");
        strcpy(m.hello.labels[1].value, "a=b=c");
        strcpy(m.hello.labels[2].key, "x");
        strcpy(m.hello.labels[2].value, "with spaces and !\"#$%&'()*");
        check_roundtrip(&m, "HELLO: empty label value, '=' inside a value, punctuation");

        vcpu_attach(&m, 0, 1, SIGUSR1);
        check_roundtrip(&m, "VCPU_ATTACH vcpu 0, tid 1, SIGUSR1");
        vcpu_attach(&m, ATTACH_VCPU_INDEX_MAX, INT32_MAX, ATTACH_SIGNAL_MAX);
        check_roundtrip(&m, "VCPU_ATTACH vcpu 65535, tid INT32_MAX, signal 64");
        vcpu_attach(&m, 7, 1234, 34);
        check_roundtrip(&m, "VCPU_ATTACH with signal 34 (glibc SIGRTMIN)");

        msg_new(&m, ATTACH_MSG_VCPU_DETACH, 5);
        check_roundtrip(&m, "VCPU_DETACH vcpu 0");
        m.vcpu_detach.vcpu = ATTACH_VCPU_INDEX_MAX;
        check_roundtrip(&m, "VCPU_DETACH vcpu 65535");

        msg_new(&m, ATTACH_MSG_BYE, 9);
        check_roundtrip(&m, "BYE");

        reply(&m, 1, 0, "");
        check_roundtrip(&m, "REPLY status 0, empty message");
        reply(&m, 0, EMSGSIZE, "message too large");
        check_roundtrip(&m, "REPLY with request id 0 (answers an unreadable id)");
        reply(&m, UINT64_MAX, (int) ATTACH_ERRNO_MAX, "");
        fill(m.reply.message, '~', ATTACH_MESSAGE_MAX);
        m.reply.message[0] = ' ';
        check_roundtrip(&m, "REPLY status 4095, 255-byte message");

        inject(&m, false, false, 0, SERROR_MODE_MERGE, 1);
        check_roundtrip(&m, "INJECT: KVM chooses the syndrome, merge, 1 ns");
        inject(&m, true, false, 0xc11, SERROR_MODE_DEFER, ATTACH_TIMEOUT_MAX_NS);
        check_roundtrip(&m, "INJECT: ISS 0xc11, defer, 24 h");
        inject(&m, true, true, SERROR_ISS_MASK, SERROR_MODE_SKIP, 5000000000);
        m.inject.dry_run = true;
        m.inject.vcpu = ATTACH_VCPU_INDEX_MAX;
        check_roundtrip(&m, "INJECT: IDS opt-in with ISS 0x1ffffff, skip, dry run");
        inject(&m, true, true, 0, SERROR_MODE_MERGE, 1);
        check_roundtrip(&m, "INJECT: has_esr with ISS 0 (uncategorized)");

        result_injected(&m);
        check_roundtrip(&m, "INJECT_RESULT injected, full state");

        for (unsigned o = 0; o < _SERROR_OUTCOME_MAX; o++) {
                char what[64];

                msg_new(&m, ATTACH_MSG_INJECT_RESULT, 100 + o);
                m.inject_result.vcpu = o;
                m.inject_result.outcome = (serror_outcome) o;
                if (o == SERROR_OUTCOME_FAILED)
                        m.inject_result.error = ENOEXEC;
                snprintf(what, sizeof(what), "INJECT_RESULT outcome %u, no state read", o);
                check_roundtrip(&m, what);
        }

        msg_new(&m, ATTACH_MSG_INJECT_RESULT, UINT64_MAX);
        m.inject_result.vcpu = ATTACH_VCPU_UNKNOWN;
        m.inject_result.outcome = SERROR_OUTCOME_FAILED;
        m.inject_result.error = (int) ATTACH_ERRNO_MAX;
        m.inject_result.before.valid = true;
        m.inject_result.before.pending = true;
        m.inject_result.before.has_esr = true;
        m.inject_result.before.esr = UINT64_MAX; /* reported raw, whatever KVM said */
        m.inject_result.written.written = true;
        m.inject_result.after.valid = true;
        m.inject_result.after.pending = true;
        m.inject_result.received_ns = UINT64_MAX - 2;
        m.inject_result.reached_ns = UINT64_MAX - 1;
        m.inject_result.done_ns = UINT64_MAX;
        fill(m.inject_result.message, 'm', ATTACH_MESSAGE_MAX);
        check_roundtrip(&m, "INJECT_RESULT failed, vcpu unknown, extreme values, 255-byte message");
}

/* ---------------------------------------------------------------- golden bytes */

static void test_golden(void) {
        static const uint8_t detach[] = {
                'S',  'E',  'R',  'A',  0x01, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00, 0x00, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
                0x44, 0x33, 0x00, 0x00,
        };
        static const uint8_t inj[] = {
                'S',  'E',  'R',  'A',  0x01, 0x00, 0x06, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* header, id 42 */
                0x01, 0x00, 0x00, 0x00,                         /* vcpu 1 */
                0x11, 0x0c, 0x00, 0x00,                         /* ISS 0xc11 */
                0x05, 0x00, 0x00, 0x00,                         /* has_esr | dry_run */
                0x01, 0x00, 0x00, 0x00,                         /* defer */
                0x00, 0xe1, 0xf5, 0x05, 0x00, 0x00, 0x00, 0x00, /* 100 ms */
        };
        AttachMsg m;
        wire w, hand;

        msg_new(&m, ATTACH_MSG_VCPU_DETACH, UINT64_C(0x0102030405060708));
        m.vcpu_detach.vcpu = 0x3344;
        encode_or_bail(&m, &w);
        tap_ok(w.len == sizeof(detach) && memcmp(w.b, detach, sizeof(detach)) == 0,
               "VCPU_DETACH encodes to the documented little-endian bytes");

        inject(&m, true, false, 0xc11, SERROR_MODE_DEFER, 100000000);
        m.request_id = 42;
        m.inject.vcpu = 1;
        m.inject.dry_run = true;
        encode_or_bail(&m, &w);
        tap_ok(w.len == sizeof(inj) && memcmp(w.b, inj, sizeof(inj)) == 0,
               "INJECT encodes to the documented bytes (doc/attach-protocol.md example)");

        /* HELLO written by hand from the document's table. */
        hello_min(&m);
        m.request_id = 0x10;
        m.hello.vmm_pid = 0x1234;
        m.hello.capabilities = ATTACH_CAP_SERROR_ESR | ATTACH_CAP_PRE_RUN;
        m.hello.has_uuid = true;
        memcpy(m.hello.uuid, "0123456789abcdef", 16);
        strcpy(m.hello.name, "vm-1");
        m.hello.n_labels = 1;
        strcpy(m.hello.labels[0].key, "env");
        strcpy(m.hello.labels[0].value, "ci");
        encode_or_bail(&m, &w);
        w_header(&hand, 1, 0x10);
        w_le32(&hand, 0x1234);
        w_le16(&hand, 1);
        w_le16(&hand, 1);
        w_le32(&hand, 3);
        w_bytes(&hand, "0123456789abcdef", 16);
        w_u8(&hand, 4);
        w_u8(&hand, 1);
        w_bytes(&hand, "vm-1", 4);
        w_str(&hand, "env=ci");
        w_finish(&hand);
        tap_ok(w.len == hand.len && memcmp(w.b, hand.b, w.len) == 0, "HELLO matches the document's layout byte for byte");

        /* And the other direction: the same bytes decode back. */
        {
                AttachMsg d;
                int r = attach_msg_decode(hand.b, hand.len, &d, NULL);

                tap_ok(r == 0 && d.hello.vmm_pid == 0x1234 && d.hello.n_labels == 1 &&
                               streq(d.hello.labels[0].value, "ci") && streq(d.hello.name, "vm-1"),
                       "hand-built HELLO decodes (r=%d), diag may be NULL", r);
        }
}

/* ---------------------------------------------------------------- header rejections */

static void test_header(void) {
        AttachHeader h;
        AttachMsg m;
        serror_diag diag = {};
        wire w;
        int r;

        msg_new(&m, ATTACH_MSG_BYE, 9);
        encode_or_bail(&m, &w);

        check_decode_fails(w.b, 0, -EMSGSIZE, "empty datagram");
        check_decode_fails(NULL, 0, -EMSGSIZE, "NULL buffer");
        check_decode_fails(w.b, HDR - 1, -EMSGSIZE, "23 bytes, one short of the header");

        /* A sane header claiming a payload that would make the datagram 4097 bytes. */
        w_header(&w, ATTACH_MSG_REPLY, 1);
        w_le32(&w, 0);
        w_u8(&w, 0);
        while (w.len < ATTACH_MSG_SIZE_MAX + 1)
                w_u8(&w, 'x');
        w_finish(&w);
        check_wire_fails(&w, -EMSGSIZE, "4097-byte datagram");
        r = attach_header_decode(w.b, w.len, &h, &diag);
        tap_ok(r == 0 && h.request_id == 1 && h.type == ATTACH_MSG_REPLY,
               "header of an oversized datagram still yields its request id");

        encode_or_bail(&m, &w);
        w.b[0] = 'X';
        check_wire_fails(&w, -EPROTO, "bad magic");
        r = attach_header_decode(w.b, w.len, &h, &diag);
        tap_ok(r == -EPROTO, "header decode also refuses a bad magic (r=%d)", r);
        r = attach_header_decode(w.b, 10, &h, &diag);
        tap_ok(r == -EMSGSIZE, "header decode refuses 10 bytes (r=%d)", r);

        encode_or_bail(&m, &w);
        w.b[4] = 2;
        check_wire_fails(&w, -EPROTONOSUPPORT, "version 2");
        r = attach_header_decode(w.b, w.len, &h, &diag);
        tap_ok(r == 0 && h.version == 2 && h.request_id == 9,
               "header decode of version 2 gives version and request id to answer with");
        w.b[4] = 0;
        check_wire_fails(&w, -EPROTONOSUPPORT, "version 0");
        w.b[4] = 1;
        w.b[5] = 1;
        check_wire_fails(&w, -EPROTONOSUPPORT, "version 257");

        encode_or_bail(&m, &w);
        w.b[15] = 0x80;
        check_wire_fails(&w, -EBADMSG, "reserved header field not 0");

        encode_or_bail(&m, &w);
        w_set_le32(&w, 8, 1);
        check_wire_fails(&w, -EBADMSG, "length field 1 on a 24-byte datagram");
        reply(&m, 3, 0, "hello");
        encode_or_bail(&m, &w);
        w_set_le32(&w, 8, (uint32_t) (w.len - HDR - 1));
        check_wire_fails(&w, -EBADMSG, "length field one less than the datagram");
        w_set_le32(&w, 8, UINT32_MAX);
        check_wire_fails(&w, -EBADMSG, "length field 0xffffffff");

        msg_new(&m, ATTACH_MSG_BYE, 9);
        encode_or_bail(&m, &w);
        memset(w.b + 16, 0, 8);
        check_wire_fails(&w, -EBADMSG, "BYE with request id 0");
        hello_min(&m);
        encode_or_bail(&m, &w);
        memset(w.b + 16, 0, 8);
        check_wire_fails(&w, -EBADMSG, "HELLO with request id 0");

        for (unsigned i = 0; i < 4; i++) {
                static const uint16_t unknown[] = { 0, 10, 0x100, 0xffff };
                char what[64];

                w_header(&w, unknown[i], 77);
                w_le32(&w, 0xdeadbeef);
                w_finish(&w);
                snprintf(what, sizeof(what), "unknown type %u with a sane header", (unsigned) unknown[i]);
                check_wire_fails(&w, -EOPNOTSUPP, what);
        }
        r = attach_header_decode(w.b, w.len, &h, &diag);
        tap_ok(r == 0 && h.type == 0xffff && h.request_id == 77 && h.payload_size == 4,
               "an unknown type's header gives the request id for the EOPNOTSUPP reply");

        /* Unknown type with a broken length: framing errors come first. */
        w_set_le32(&w, 8, 5);
        check_wire_fails(&w, -EBADMSG, "unknown type with a wrong length field");
        /* Unknown type from another version: the version answer comes first. */
        w_finish(&w);
        w.b[4] = 9;
        check_wire_fails(&w, -EPROTONOSUPPORT, "unknown type in version 9");
}

/* ---------------------------------------------------------------- payload size, per type */

static void check_short_and_long(const AttachMsg *m) {
        const char *name = attach_msg_type_to_string(m->type);
        char what[96];
        wire w;

        encode_or_bail(m, &w);
        if (w.len > HDR) {
                w.len--;
                w_finish(&w);
                snprintf(what, sizeof(what), "%s with its payload one byte short", name);
                check_wire_fails(&w, -EBADMSG, what);
                w.len++;
        }
        w_u8(&w, 0);
        w_finish(&w);
        snprintf(what, sizeof(what), "%s with its payload one byte long", name);
        check_wire_fails(&w, -EBADMSG, what);

        /* Only the header: the fixed part is missing altogether. */
        if (m->type != ATTACH_MSG_BYE) {
                w.len = HDR;
                w_finish(&w);
                snprintf(what, sizeof(what), "%s with an empty payload", name);
                check_wire_fails(&w, -EBADMSG, what);
        }
}

static void test_sizes(void) {
        AttachMsg m;

        hello_min(&m);
        check_short_and_long(&m);
        hello_max(&m);
        check_short_and_long(&m);
        vcpu_attach(&m, 1, 2, SIGUSR1);
        check_short_and_long(&m);
        msg_new(&m, ATTACH_MSG_VCPU_DETACH, 4);
        check_short_and_long(&m);
        msg_new(&m, ATTACH_MSG_BYE, 4);
        check_short_and_long(&m);
        reply(&m, 4, 0, "");
        check_short_and_long(&m);
        reply(&m, 4, EINVAL, "bad");
        check_short_and_long(&m);
        inject(&m, true, false, 0xc11, SERROR_MODE_MERGE, 1000);
        check_short_and_long(&m);
        result_injected(&m);
        check_short_and_long(&m);
        m.inject_result.message[0] = '\0';
        check_short_and_long(&m);
}

/* ---------------------------------------------------------------- HELLO contents */

/* A HELLO built by hand: name given raw, labels raw. */
static void w_hello(wire *w, uint32_t pid, uint16_t arch, uint16_t flags, const uint8_t *uuid, uint8_t name_len,
                    const void *name, size_t name_real, uint8_t n_labels) {
        static const uint8_t nil[16] = {};

        w_header(w, 1, 1);
        w_le32(w, pid);
        w_le16(w, arch);
        w_le16(w, flags);
        w_le32(w, 0);
        w_bytes(w, uuid ? uuid : nil, 16);
        w_u8(w, name_len);
        w_u8(w, n_labels);
        w_bytes(w, name, name_real);
}

static void check_bad_name(const void *name, size_t len, const char *what) {
        wire w;

        w_hello(&w, 1, 1, 0, NULL, (uint8_t) len, name, len, 0);
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, what);
}

static void check_bad_label(const char *label, size_t len, const char *what) {
        wire w;

        w_hello(&w, 1, 1, 0, NULL, 2, "vm", 2, 1);
        w_str_n(&w, (uint8_t) len, label, len);
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, what);
}

static void test_hello_contents(void) {
        static const uint8_t uuid[16] = { 1 };
        char big[300];
        AttachMsg m;
        wire w;

        w_hello(&w, 1, 1, 0, NULL, 2, "vm", 2, 0);
        w_finish(&w);
        check_wire_ok(&w, "the hand-built HELLO baseline");

        check_bad_name("", 0, "empty VM name");
        check_bad_name("v\0m", 3, "VM name with an embedded NUL");
        check_bad_name("v\am", 3, "VM name with a control character");
        check_bad_name("v\x7fm", 3, "VM name with DEL");
        check_bad_name("v\xc3\xa9", 3, "VM name with non-ASCII (UTF-8) bytes");
        check_bad_name("a/b", 3, "VM name with '/'");
        check_bad_name("a b", 3, "VM name with a space");
        check_bad_name("a*", 2, "VM name with a glob character");
        check_bad_name("-vm", 3, "VM name starting with '-'");
        check_bad_name(".vm", 3, "VM name starting with '.'");
        check_bad_name("6b1e8c1a-2f0d-4c57-9a3e-0d1f2e3c4b5a", 36, "VM name shaped like a UUID");
        check_bad_name("6B1E8C1A-2F0D-4C57-9A3E-0D1F2E3C4B5A", 36, "VM name shaped like an upper-case UUID");
        memset(big, 'a', sizeof(big));
        check_bad_name(big, ATTACH_NAME_MAX + 1, "65-byte VM name");
        check_bad_name(big, 255, "255-byte VM name");

        w_hello(&w, 1, 1, 0, NULL, 10, "vm", 2, 0);
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "VM name length beyond the payload");

        check_bad_label("novalue", 7, "label without '='");
        check_bad_label("=v", 2, "label with an empty key");
        check_bad_label("a b=c", 5, "label key with a space");
        check_bad_label("_a=c", 4, "label key starting with '_'");
        check_bad_label("a\0=c", 4, "label key with an embedded NUL");
        check_bad_label("a=c\0d", 5, "label value with an embedded NUL");
        check_bad_label("a=\tc", 4, "label value with a tab");
        check_bad_label("a=\xff", 3, "label value with byte 0xff");
        memset(big, 'k', sizeof(big));
        big[ATTACH_LABEL_KEY_MAX + 1] = '=';
        check_bad_label(big, ATTACH_LABEL_KEY_MAX + 2, "64-byte label key");
        memset(big, 'v', sizeof(big));
        big[1] = '=';
        check_bad_label(big, 2 + ATTACH_LABEL_VALUE_MAX + 1, "128-byte label value");
        memset(big, 'v', sizeof(big));
        big[63] = '=';
        check_bad_label(big, 255, "255-byte label (63-byte key, 191-byte value)");

        /* Labels: count and duplicates. */
        w_hello(&w, 1, 1, 0, NULL, 2, "vm", 2, ATTACH_LABELS_MAX + 1);
        for (unsigned i = 0; i < ATTACH_LABELS_MAX + 1; i++) {
                char l[8];

                snprintf(l, sizeof(l), "k%u=v", i);
                w_str(&w, l);
        }
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "17 labels");
        w_hello(&w, 1, 1, 0, NULL, 2, "vm", 2, 2);
        w_str(&w, "k=1");
        w_str(&w, "k=2");
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "duplicate label key");
        w_hello(&w, 1, 1, 0, NULL, 2, "vm", 2, 2);
        w_str(&w, "k=1");
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "label count 2 with one label present");

        /* Fixed fields. */
        w_hello(&w, 0, 1, 0, NULL, 2, "vm", 2, 0);
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "VMM pid 0");
        w_hello(&w, 0x80000000u, 1, 0, NULL, 2, "vm", 2, 0);
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "VMM pid above INT32_MAX");
        w_hello(&w, 1, 0, 0, NULL, 2, "vm", 2, 0);
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "architecture 0");
        w_hello(&w, 1, 3, 0, NULL, 2, "vm", 2, 0);
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "architecture 3");
        w_hello(&w, 1, 1, 2, NULL, 2, "vm", 2, 0);
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "unknown HELLO flag");
        w_hello(&w, 1, 1, 1, NULL, 2, "vm", 2, 0);
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "UUID flagged present but nil");
        w_hello(&w, 1, 1, 0, uuid, 2, "vm", 2, 0);
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "UUID bytes without the UUID flag");
        w_hello(&w, 1, 1, 1, uuid, 2, "vm", 2, 0);
        w_finish(&w);
        check_wire_ok(&w, "a HELLO with a UUID and its flag");

        /* The encoder applies the same rules. */
        hello_min(&m);
        m.hello.name[0] = '\0';
        check_encode_fails(&m, -EINVAL, "an empty VM name");
        hello_min(&m);
        memset(m.hello.name, 'a', sizeof(m.hello.name));
        check_encode_fails(&m, -EINVAL, "a VM name without its NUL");
        hello_min(&m);
        strcpy(m.hello.name, "a/b");
        check_encode_fails(&m, -EINVAL, "a VM name with '/'");
        hello_max(&m);
        m.hello.n_labels = ATTACH_LABELS_MAX + 1;
        check_encode_fails(&m, -EINVAL, "17 labels");
        hello_max(&m);
        m.hello.labels[3].key[0] = 'a';
        check_encode_fails(&m, -EINVAL, "duplicate label keys");
        hello_min(&m);
        m.hello.n_labels = 1;
        check_encode_fails(&m, -EINVAL, "a label with an empty key");
        hello_min(&m);
        m.hello.vmm_pid = -1;
        check_encode_fails(&m, -EINVAL, "a negative pid");
        hello_min(&m);
        m.hello.arch = (AttachArch) 9;
        check_encode_fails(&m, -EINVAL, "an unknown architecture");
        hello_min(&m);
        m.hello.uuid[5] = 1;
        check_encode_fails(&m, -EINVAL, "UUID bytes with has_uuid false");
        hello_min(&m);
        m.hello.has_uuid = true;
        check_encode_fails(&m, -EINVAL, "has_uuid with the nil UUID");
        hello_min(&m);
        m.request_id = 0;
        check_encode_fails(&m, -EINVAL, "HELLO with request id 0");
        hello_min(&m);
        m.hello.n_labels = 1;
        strcpy(m.hello.labels[0].key, "k");
        strcpy(m.hello.labels[0].value, "bell\a");
        check_encode_fails(&m, -EINVAL, "a label value with a control character");
}

/* ---------------------------------------------------------------- other types' contents */

static void w_vcpu_attach(wire *w, uint32_t vcpu, uint32_t tid, uint32_t sig) {
        w_header(w, 2, 1);
        w_le32(w, vcpu);
        w_le32(w, tid);
        w_le32(w, sig);
        w_finish(w);
}

static void test_vcpu_attach(void) {
        static const struct {
                uint32_t sig;
                const char *why;
        } bad_signals[] = {
                { 0, "0" },        { SIGKILL, "SIGKILL" },        { SIGSTOP, "SIGSTOP" },  { SIGSEGV, "SIGSEGV" },
                { SIGBUS, "SIGBUS" }, { SIGILL, "SIGILL" },       { SIGFPE, "SIGFPE" },    { SIGTRAP, "SIGTRAP" },
                { 32, "32 (NPTL)" }, { 33, "33 (NPTL)" },         { 65, "65" },            { 0x80000000u, "0x80000000" },
                { UINT32_MAX, "0xffffffff" },
        };
        AttachMsg m;
        wire w;

        for (size_t i = 0; i < ELEMENTSOF(bad_signals); i++) {
                char what[64];

                w_vcpu_attach(&w, 0, 1, bad_signals[i].sig);
                snprintf(what, sizeof(what), "kick signal %s", bad_signals[i].why);
                check_wire_fails(&w, -EBADMSG, what);
        }
        w_vcpu_attach(&w, 0, 0, SIGUSR1);
        check_wire_fails(&w, -EBADMSG, "vcpu thread id 0");
        w_vcpu_attach(&w, 0, 0x80000000u, SIGUSR1);
        check_wire_fails(&w, -EBADMSG, "vcpu thread id above INT32_MAX");
        w_vcpu_attach(&w, ATTACH_VCPU_INDEX_MAX + 1, 1, SIGUSR1);
        check_wire_fails(&w, -EBADMSG, "vcpu index 65536");
        w_vcpu_attach(&w, 0, 1, SIGUSR2);
        check_wire_ok(&w, "VCPU_ATTACH with SIGUSR2");

        w_header(&w, 3, 1);
        w_le32(&w, ATTACH_VCPU_INDEX_MAX + 1);
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "VCPU_DETACH of vcpu 65536");

        vcpu_attach(&m, 0, 1, SIGKILL);
        check_encode_fails(&m, -EINVAL, "kick signal SIGKILL");
        vcpu_attach(&m, 0, 0, SIGUSR1);
        check_encode_fails(&m, -EINVAL, "tid 0");
        msg_new(&m, ATTACH_MSG_VCPU_DETACH, 1);
        m.vcpu_detach.vcpu = UINT32_MAX;
        check_encode_fails(&m, -EINVAL, "VCPU_DETACH of vcpu 0xffffffff");
}

static void test_reply(void) {
        AttachMsg m;
        wire w;

        w_header(&w, 5, 1);
        w_le32(&w, ATTACH_ERRNO_MAX + 1);
        w_str(&w, "x");
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "REPLY status 4096");
        w_header(&w, 5, 1);
        w_le32(&w, UINT32_MAX);
        w_str(&w, "");
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "REPLY status 0xffffffff (a negative errno sent raw)");
        w_header(&w, 5, 1);
        w_le32(&w, 0);
        w_str_n(&w, 3, "a\0b", 3);
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "REPLY message with an embedded NUL");
        w_header(&w, 5, 1);
        w_le32(&w, 0);
        w_str(&w, "line\n");
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "REPLY message with a newline");
        w_header(&w, 5, 1);
        w_le32(&w, 0);
        w_str(&w, "\x80");
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "REPLY message with byte 0x80");
        w_header(&w, 5, 1);
        w_le32(&w, 0);
        w_str_n(&w, 5, "ab", 2);
        w_finish(&w);
        check_wire_fails(&w, -EBADMSG, "REPLY message length beyond the payload");

        reply(&m, 1, -EINVAL, "x");
        check_encode_fails(&m, -EINVAL, "a negative status");
        reply(&m, 1, (int) ATTACH_ERRNO_MAX + 1, "x");
        check_encode_fails(&m, -EINVAL, "status 4096");
        reply(&m, 1, 0, "tab\there");
        check_encode_fails(&m, -EINVAL, "a message with a tab");
        reply(&m, 1, 0, "");
        memset(m.reply.message, 'a', sizeof(m.reply.message));
        check_encode_fails(&m, -EINVAL, "a message without its NUL");
}

static void w_inject(wire *w, uint32_t iss, uint32_t flags, uint32_t mode, uint64_t timeout) {
        w_header(w, 6, 1);
        w_le32(w, 0);
        w_le32(w, iss);
        w_le32(w, flags);
        w_le32(w, mode);
        w_le64(w, timeout);
        w_finish(w);
}

static void test_inject(void) {
        AttachMsg m;
        wire w;

        w_inject(&w, 0xc11, 1, 0, 1);
        check_wire_ok(&w, "the hand-built INJECT baseline");
        w_inject(&w, 0xc11, 1, _SERROR_MODE_MAX, 1);
        check_wire_fails(&w, -EBADMSG, "multiple-SError mode 3");
        w_inject(&w, 0xc11, 1, UINT32_MAX, 1);
        check_wire_fails(&w, -EBADMSG, "multiple-SError mode 0xffffffff");
        w_inject(&w, 0xc11, 1 | 8, 0, 1);
        check_wire_fails(&w, -EBADMSG, "unknown INJECT flag");
        w_inject(&w, 0xc11, 0, 0, 1);
        check_wire_fails(&w, -EBADMSG, "ISS without has_esr");
        w_inject(&w, 0, 2, 0, 1);
        check_wire_fails(&w, -EBADMSG, "allow_ids without has_esr");
        w_inject(&w, 0x1000c11, 1, 0, 1);
        check_wire_fails(&w, -EBADMSG, "IDS bit without allow_ids");
        w_inject(&w, 0x2000000, 3, 0, 1);
        check_wire_fails(&w, -EBADMSG, "ISS bit 25");
        w_inject(&w, 0xc11, 1, 0, 0);
        check_wire_fails(&w, -EBADMSG, "timeout 0");
        w_inject(&w, 0xc11, 1, 0, ATTACH_TIMEOUT_MAX_NS + 1);
        check_wire_fails(&w, -EBADMSG, "timeout one ns over 24 h");
        w_inject(&w, 0xc11, 1, 0, 1);
        w_set_le32(&w, HDR, ATTACH_VCPU_INDEX_MAX + 1);
        check_wire_fails(&w, -EBADMSG, "INJECT for vcpu 65536");

        inject(&m, true, false, 0x1000011, SERROR_MODE_MERGE, 1);
        check_encode_fails(&m, -EINVAL, "IDS without allow_ids");
        inject(&m, false, false, 0x11, SERROR_MODE_MERGE, 1);
        check_encode_fails(&m, -EINVAL, "an ISS without has_esr");
        inject(&m, true, false, 0x11, (serror_mode) 7, 1);
        check_encode_fails(&m, -EINVAL, "mode 7");
        inject(&m, true, false, 0x11, SERROR_MODE_MERGE, 0);
        check_encode_fails(&m, -EINVAL, "timeout 0");
}

/* INJECT_MCE by hand from doc/attach-protocol.md 5.6a: vcpu 2, request id 1. */
static void w_inject_mce(wire *w, uint32_t flags, uint32_t mode, uint32_t bank, uint64_t status, uint64_t addr,
                         uint64_t misc, uint64_t mcg, uint64_t timeout) {
        w_header(w, 8, 1);
        w_le32(w, 2);
        w_le32(w, flags);
        w_le32(w, mode);
        w_le32(w, bank);
        w_le64(w, status);
        w_le64(w, addr);
        w_le64(w, misc);
        w_le64(w, mcg);
        w_le64(w, timeout);
        w_finish(w);
}

static void test_inject_mce(void) {
        /* The SRAR preset (DOMAIN.md 8) in bank 3 with ADDR, defer, dry run, 1 s. */
        static const uint8_t golden[] = {
                'S',  'E',  'R',  'A',  0x01, 0x00, 0x08, 0x00, 0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* header: type 8, 56 bytes, id 7 */
                0x00, 0x00, 0x00, 0x00,                         /* vcpu 0 */
                0x04, 0x00, 0x00, 0x00,                         /* dry_run */
                0x01, 0x00, 0x00, 0x00,                         /* defer */
                0x03, 0x00, 0x00, 0x00,                         /* bank 3 */
                0x34, 0x01, 0x00, 0x00, 0x00, 0x00, 0x80, 0xbd, /* MCi_STATUS 0xbd80000000000134 */
                0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* ADDR 0x1000 */
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* MISC */
                0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* MCG_STATUS RIPV|EIPV|MCIP */
                0x00, 0xca, 0x9a, 0x3b, 0x00, 0x00, 0x00, 0x00, /* 1 s */
        };
        AttachMsg m, d;
        wire w;
        int r;

        memset(&m, 0, sizeof(m));
        m.type = ATTACH_MSG_INJECT_MCE;
        m.request_id = 7;
        m.inject = (AttachInject) {
                .vcpu = 0,
                .is_mce = true,
                .mce = { .bank = 3, .status = UINT64_C(0xbd80000000000134) | SERROR_MCI_ADDRV, .addr = 0x1000,
                         .mcg_status = 7 },
                .mode = SERROR_MODE_DEFER,
                .timeout_ns = 1000000000,
                .dry_run = true,
        };
        tap_ok((UINT64_C(0xbd80000000000134) | SERROR_MCI_ADDRV) == UINT64_C(0xbd80000000000134),
               "the SRAR preset already has ADDRV (bit 58)");
        encode_or_bail(&m, &w);
        tap_ok(w.len == sizeof(golden) && memcmp(w.b, golden, sizeof(golden)) == 0,
               "INJECT_MCE encodes to the documented little-endian bytes");
        r = attach_msg_decode(golden, sizeof(golden), &d, NULL);
        tap_ok(r == 0 && d.type == ATTACH_MSG_INJECT_MCE && d.inject.is_mce && d.inject.mce.bank == 3 &&
                       d.inject.mce.addr == 0x1000 && d.inject.mce.mcg_status == 7 && d.inject.dry_run &&
                       d.inject.mode == SERROR_MODE_DEFER && !d.inject.has_esr && d.inject.iss == 0,
               "the documented INJECT_MCE bytes decode to its fields (r=%d)", r);
        tap_ok(memcmp(&d, &m, sizeof(d)) == 0 || (d.inject.mce.status == m.inject.mce.status && d.request_id == 7),
               "and back to the message that was encoded");

        w_inject_mce(&w, 0, 0, 1, UINT64_C(0xbd000000000000c0), 0, 0, 5, 1);
        check_wire_ok(&w, "the hand-built INJECT_MCE baseline (SRAO, bank 1)");
        w_inject_mce(&w, 1, 0, 1, UINT64_C(0xbd000000000000c0), 0, 0, 5, 1);
        check_wire_fails(&w, -EBADMSG, "INJECT_MCE with INJECT's has_esr flag");
        w_inject_mce(&w, 0, 3, 1, UINT64_C(0xbd000000000000c0), 0, 0, 5, 1);
        check_wire_fails(&w, -EBADMSG, "INJECT_MCE with mode 3");
        w_inject_mce(&w, 0, 0, 32, UINT64_C(0xbd000000000000c0), 0, 0, 5, 1);
        check_wire_fails(&w, -EBADMSG, "INJECT_MCE for bank 32");
        w_inject_mce(&w, 0, 0, 1, UINT64_C(0x3d000000000000c0), 0, 0, 5, 1);
        check_wire_fails(&w, -EBADMSG, "INJECT_MCE without VAL");
        w_inject_mce(&w, 0, 0, 1, UINT64_C(0xb1000000000000c0), 0x1000, 0, 5, 1);
        check_wire_fails(&w, -EBADMSG, "INJECT_MCE with an ADDR but no ADDRV");
        w_inject_mce(&w, 0, 0, 1, UINT64_C(0xbd000000000000c0), 0, 0, 0x10, 1);
        check_wire_fails(&w, -EBADMSG, "INJECT_MCE with an unknown MCG_STATUS bit");
        w_inject_mce(&w, 0, 0, 1, UINT64_C(0xbd000000000000c0), 0, 0, 5, 0);
        check_wire_fails(&w, -EBADMSG, "INJECT_MCE with timeout 0");
        w_inject_mce(&w, 0, 0, 1, UINT64_C(0xbd000000000000c0), 0, 0, 5, 1);
        w_set_le32(&w, HDR, ATTACH_VCPU_INDEX_MAX + 1);
        check_wire_fails(&w, -EBADMSG, "INJECT_MCE for vcpu 65536");
        w_inject(&w, 0xc11, 1, 0, 1);
        w.b[6] = 8;
        check_wire_fails(&w, -EBADMSG, "an INJECT's 24 bytes as an INJECT_MCE");

        m.inject.has_esr = true;
        m.inject.iss = 0x11;
        check_encode_fails(&m, -EINVAL, "an INJECT_MCE with an SError syndrome");
        msg_new(&m, ATTACH_MSG_INJECT, 1);
        inject(&m, true, false, 0x11, SERROR_MODE_MERGE, 1);
        m.inject.is_mce = true;
        m.inject.mce = (serror_mce) { .bank = 1, .status = SERROR_MCI_VAL | SERROR_MCI_EN };
        check_encode_fails(&m, -EINVAL, "an INJECT carrying a machine check");
}

static void w_reaction(wire *w, uint32_t vcpu, uint32_t kind, uint32_t exit_reason, uint32_t event_type,
                       uint64_t inject_id, uint64_t after_ns) {
        w_header(w, 9, 5);
        w_le32(w, vcpu);
        w_le32(w, kind);
        w_le32(w, exit_reason);
        w_le32(w, event_type);
        w_le64(w, inject_id);
        w_le64(w, after_ns);
        w_finish(w);
}

static void test_reaction(void) {
        /* doc/attach-protocol.md 5.8: vcpu 1 took the SError of INJECT 7 after 2.5 ms. */
        static const uint8_t golden[] = {
                'S',  'E',  'R',  'A',  0x01, 0x00, 0x09, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* header: type 9, 32 bytes, id 5 */
                0x01, 0x00, 0x00, 0x00,                         /* vcpu 1 */
                0x01, 0x00, 0x00, 0x00,                         /* taken */
                0x00, 0x00, 0x00, 0x00,                         /* exit reason */
                0x00, 0x00, 0x00, 0x00,                         /* event type */
                0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* INJECT 7 */
                0xa0, 0x25, 0x26, 0x00, 0x00, 0x00, 0x00, 0x00, /* 2500000 ns */
        };
        AttachMsg m, d;
        wire w;
        int r;

        memset(&m, 0, sizeof(m));
        m.type = ATTACH_MSG_REACTION;
        m.request_id = 5;
        m.reaction = (AttachReaction) { .vcpu = 1, .kind = ATTACH_REACTION_TAKEN, .inject_id = 7, .after_ns = 2500000 };
        encode_or_bail(&m, &w);
        tap_ok(w.len == sizeof(golden) && memcmp(w.b, golden, sizeof(golden)) == 0,
               "REACTION (taken) encodes to the documented little-endian bytes");
        r = attach_msg_decode(golden, sizeof(golden), &d, NULL);
        tap_ok(r == 0 && memcmp(&d, &m, sizeof(d)) == 0, "and decodes back to the same message (r=%d)", r);

        w_reaction(&w, 0, ATTACH_REACTION_EXIT, ATTACH_KVM_EXIT_SYSTEM_EVENT, 2, 0, 0);
        check_wire_ok(&w, "REACTION exit: a PSCI reset (system event type 2)");
        w_reaction(&w, 0, ATTACH_REACTION_EXIT, 8, 0, 0, 0);
        check_wire_ok(&w, "REACTION exit: KVM_EXIT_SHUTDOWN, no event type");
        w_reaction(&w, 0, ATTACH_REACTION_UNWATCHED, 0, 0, 7, 0);
        check_wire_ok(&w, "REACTION unwatched for INJECT 7");
        w_reaction(&w, 0, ATTACH_REACTION_UNWATCHED, 0, 0, 7, 5);
        check_wire_fails(&w, -EBADMSG, "REACTION unwatched with a time");
        w_reaction(&w, 0, 4, 0, 0, 7, 1);
        check_wire_fails(&w, -EBADMSG, "REACTION of kind 4");
        w_reaction(&w, 0, ATTACH_REACTION_TAKEN, 0, 0, 0, 1);
        check_wire_fails(&w, -EBADMSG, "REACTION taken without the INJECT's id");
        w_reaction(&w, 0, ATTACH_REACTION_TAKEN, 24, 2, 7, 1);
        check_wire_fails(&w, -EBADMSG, "REACTION taken with an exit reason");
        w_reaction(&w, 0, ATTACH_REACTION_EXIT, 0, 0, 0, 0);
        check_wire_fails(&w, -EBADMSG, "REACTION exit without an exit reason");
        w_reaction(&w, 0, ATTACH_REACTION_EXIT, 8, 2, 0, 0);
        check_wire_fails(&w, -EBADMSG, "REACTION exit 8 with a system event type");
        w_reaction(&w, 0, ATTACH_REACTION_EXIT, 24, 2, 7, 0);
        check_wire_fails(&w, -EBADMSG, "REACTION exit naming an INJECT");
        w_reaction(&w, ATTACH_VCPU_INDEX_MAX + 1, ATTACH_REACTION_TAKEN, 0, 0, 7, 1);
        check_wire_fails(&w, -EBADMSG, "REACTION for vcpu 65536");
        w_reaction(&w, 0, ATTACH_REACTION_TAKEN, 0, 0, 7, 1);
        w_set_le32(&w, 8, 31);
        w.len--;
        check_wire_fails(&w, -EBADMSG, "REACTION of 31 bytes");
}

static void w_result(wire *w, uint32_t vcpu, uint32_t outcome, uint32_t error, uint32_t flags, uint64_t esr_before,
                     uint64_t esr_written, uint64_t esr_after, uint64_t t0, uint64_t t1, uint64_t t2) {
        w_header(w, 7, 1);
        w_le32(w, vcpu);
        w_le32(w, outcome);
        w_le32(w, error);
        w_le32(w, flags);
        w_le64(w, esr_before);
        w_le64(w, esr_written);
        w_le64(w, esr_after);
        w_le64(w, t0);
        w_le64(w, t1);
        w_le64(w, t2);
        w_str(w, "");
        w_finish(w);
}

static void test_inject_result(void) {
        const uint32_t ok_flags = 0x1 | 0x4 | 0x10 | 0x20 | 0x100 | 0x200 | 0x400;
        AttachMsg m;
        wire w;

        w_result(&w, 0, SERROR_OUTCOME_INJECTED, 0, ok_flags, 0, 0xc11, 0xc11, 1, 2, 3);
        check_wire_ok(&w, "the hand-built INJECT_RESULT baseline");
        w_result(&w, 0, _SERROR_OUTCOME_MAX, 0, 0, 0, 0, 0, 1, 2, 3);
        check_wire_fails(&w, -EBADMSG, "outcome 8");
        w_result(&w, 0, UINT32_MAX, 0, 0, 0, 0, 0, 1, 2, 3);
        check_wire_fails(&w, -EBADMSG, "outcome 0xffffffff");
        w_result(&w, 0, SERROR_OUTCOME_FAILED, 0, 0, 0, 0, 0, 1, 2, 3);
        check_wire_fails(&w, -EBADMSG, "outcome failed without an errno");
        w_result(&w, 0, SERROR_OUTCOME_INJECTED, EIO, 0, 0, 0, 0, 1, 2, 3);
        check_wire_fails(&w, -EBADMSG, "errno with outcome injected");
        w_result(&w, 0, SERROR_OUTCOME_FAILED, ATTACH_ERRNO_MAX + 1, 0, 0, 0, 0, 1, 2, 3);
        check_wire_fails(&w, -EBADMSG, "errno 4096");
        w_result(&w, 0, SERROR_OUTCOME_INJECTED, 0, 0x8, 0, 0, 0, 1, 2, 3);
        check_wire_fails(&w, -EBADMSG, "unknown INJECT_RESULT flag");
        w_result(&w, 0, SERROR_OUTCOME_INJECTED, 0, 0x2, 0, 0, 0, 1, 2, 3);
        check_wire_fails(&w, -EBADMSG, "before pending without before valid");
        w_result(&w, 0, SERROR_OUTCOME_INJECTED, 0, 0x1, 0x11, 0, 0, 1, 2, 3);
        check_wire_fails(&w, -EBADMSG, "before ESR without before has_esr");
        w_result(&w, 0, SERROR_OUTCOME_INJECTED, 0, 0x20, 0, 0, 0, 1, 2, 3);
        check_wire_fails(&w, -EBADMSG, "written has_esr without written");
        w_result(&w, 0, SERROR_OUTCOME_INJECTED, 0, 0x10, 0, 0x11, 0, 1, 2, 3);
        check_wire_fails(&w, -EBADMSG, "written ESR without written has_esr");
        w_result(&w, 0, SERROR_OUTCOME_INJECTED, 0, 0x400, 0, 0, 0, 1, 2, 3);
        check_wire_fails(&w, -EBADMSG, "after has_esr without after valid");
        w_result(&w, 0, SERROR_OUTCOME_INJECTED, 0, 0, 0, 0, 0, 3, 2, 1);
        check_wire_fails(&w, -EBADMSG, "done before received");
        w_result(&w, 0, SERROR_OUTCOME_INJECTED, 0, 0, 0, 0, 0, 2, 1, 3);
        check_wire_fails(&w, -EBADMSG, "vcpu reached before received");
        w_result(&w, 0, SERROR_OUTCOME_INJECTED, 0, 0, 0, 0, 0, 1, 4, 3);
        check_wire_fails(&w, -EBADMSG, "vcpu reached after done");
        w_result(&w, 0, SERROR_OUTCOME_INJECTED, 0, 0, 0, 0, 0, 1, 0, 3);
        check_wire_ok(&w, "INJECT_RESULT with reached 0 (vcpu never reached)");
        w_result(&w, ATTACH_VCPU_UNKNOWN, SERROR_OUTCOME_EXPIRED, 0, 0, 0, 0, 0, 1, 2, 3);
        check_wire_fails(&w, -EBADMSG, "vcpu unknown with outcome expired");
        w_result(&w, ATTACH_VCPU_INDEX_MAX + 1, SERROR_OUTCOME_FAILED, EINVAL, 0, 0, 0, 0, 1, 2, 3);
        check_wire_fails(&w, -EBADMSG, "vcpu 65536");

        result_injected(&m);
        m.inject_result.error = -EIO;
        check_encode_fails(&m, -EINVAL, "a negative errno");
        result_injected(&m);
        m.inject_result.outcome = SERROR_OUTCOME_FAILED;
        check_encode_fails(&m, -EINVAL, "failed without an errno");
        result_injected(&m);
        m.inject_result.before.valid = false;
        check_encode_fails(&m, -EINVAL, "before has_esr with before not valid");
        result_injected(&m);
        m.inject_result.message[0] = '\x1b';
        check_encode_fails(&m, -EINVAL, "an escape character in the message");
        result_injected(&m);
        m.inject_result.outcome = _SERROR_OUTCOME_MAX;
        check_encode_fails(&m, -EINVAL, "outcome 8");
}

/* ---------------------------------------------------------------- encoder buffer and tables */

static void test_encode_misc(void) {
        uint8_t buf[128];
        AttachMsg m;
        size_t len = 99;
        int r;

        reply(&m, 1, 0, "0123456789012345678901234567890123456789");
        memset(buf, 0xa5, sizeof(buf));
        r = attach_msg_encode(&m, buf, 64, &len, NULL);
        tap_ok(r == -ENOBUFS && len == 99 && buf[0] == 0xa5, "69-byte REPLY into 64 bytes: -ENOBUFS, buffer untouched");
        r = attach_msg_encode(&m, buf, HDR + REPLY_FIXED + 40, &len, NULL);
        tap_ok(r == 0 && len == HDR + REPLY_FIXED + 40, "the same REPLY into exactly 69 bytes fits (r=%d)", r);
        r = attach_msg_encode(&m, NULL, 0, &len, NULL);
        tap_ok(r == -ENOBUFS, "NULL buffer: -ENOBUFS (r=%d)", r);
        r = attach_msg_encode(NULL, buf, sizeof(buf), &len, NULL);
        tap_ok(r == -EINVAL, "NULL message: -EINVAL (r=%d)", r);
        msg_new(&m, (AttachMsgType) 0, 1);
        check_encode_fails(&m, -EINVAL, "message type 0");
        msg_new(&m, (AttachMsgType) 10, 1);
        check_encode_fails(&m, -EINVAL, "message type 10");
        r = attach_msg_decode(buf, len, NULL, NULL);
        tap_ok(r == -EINVAL, "decode into NULL: -EINVAL (r=%d)", r);
}

static void test_tables(void) {
        static const char *const names[] = { NULL, "HELLO", "VCPU_ATTACH", "VCPU_DETACH", "BYE", "REPLY", "INJECT",
                                             "INJECT_RESULT", "INJECT_MCE", "REACTION", NULL };
        bool names_ok = true, fds_ok = true;
        AttachArch a;
        AttachLabel l;
        serror_diag diag = {};
        char msg[ATTACH_MESSAGE_MAX + 1];
        char big[600];
        int r;

        for (unsigned t = 0; t < ELEMENTSOF(names); t++) {
                const char *s = attach_msg_type_to_string((AttachMsgType) t);

                if (!(s == names[t] || (s && names[t] && streq(s, names[t]))))
                        names_ok = false;
                if (attach_msg_type_fds((AttachMsgType) t) != (t == ATTACH_MSG_VCPU_ATTACH ? 1u : 0u))
                        fds_ok = false;
        }
        tap_ok(names_ok, "type names for 0..10 (NULL for 0 and 10)");
        tap_ok(fds_ok && attach_msg_type_fds((AttachMsgType) 0xffff) == 0,
               "fd counts: 1 for VCPU_ATTACH, 0 for every other type, unknown included");
        tap_ok(ATTACH_FDS_MAX == 1, "ATTACH_FDS_MAX is the largest per-type fd count");

        tap_ok(attach_msg_type_senders(ATTACH_MSG_HELLO) == ATTACH_SENDER_AGENT &&
                       attach_msg_type_senders(ATTACH_MSG_INJECT_RESULT) == ATTACH_SENDER_AGENT &&
                       attach_msg_type_senders(ATTACH_MSG_REACTION) == ATTACH_SENDER_AGENT &&
                       attach_msg_type_senders(ATTACH_MSG_INJECT) == ATTACH_SENDER_DAEMON &&
                       attach_msg_type_senders(ATTACH_MSG_INJECT_MCE) == ATTACH_SENDER_DAEMON &&
                       attach_msg_type_senders(ATTACH_MSG_REPLY) == (ATTACH_SENDER_AGENT | ATTACH_SENDER_DAEMON) &&
                       attach_msg_type_senders((AttachMsgType) 42) == 0,
               "senders per type");
        tap_ok(attach_msg_type_answer(ATTACH_MSG_HELLO) == ATTACH_MSG_REPLY &&
                       attach_msg_type_answer(ATTACH_MSG_BYE) == ATTACH_MSG_REPLY &&
                       attach_msg_type_answer(ATTACH_MSG_VCPU_ATTACH) == ATTACH_MSG_REPLY &&
                       attach_msg_type_answer(ATTACH_MSG_INJECT) == ATTACH_MSG_INJECT_RESULT &&
                       attach_msg_type_answer(ATTACH_MSG_INJECT_MCE) == ATTACH_MSG_INJECT_RESULT &&
                       attach_msg_type_answer(ATTACH_MSG_REPLY) == 0 &&
                       attach_msg_type_answer(ATTACH_MSG_INJECT_RESULT) == 0 &&
                       attach_msg_type_answer(ATTACH_MSG_REACTION) == 0 &&
                       attach_msg_type_answer((AttachMsgType) 42) == ATTACH_MSG_REPLY,
               "answer type per request; answers are not answered; unknown types get a REPLY");

        tap_ok(streq(attach_arch_to_string(ATTACH_ARCH_ARM64), "arm64") &&
                       streq(attach_arch_to_string(ATTACH_ARCH_X86_64), "x86_64") &&
                       !attach_arch_to_string((AttachArch) 0) && !attach_arch_to_string((AttachArch) 3),
               "architecture names");
        r = attach_arch_from_string("x86_64", &a);
        tap_ok(r == 0 && a == ATTACH_ARCH_X86_64 && attach_arch_from_string("aarch64", &a) == -EINVAL &&
                       attach_arch_from_string(NULL, &a) == -EINVAL,
               "architecture from string (aarch64 is not a protocol name)");
        tap_ok(attach_arch_native() == ATTACH_ARCH_X86_64 || attach_arch_native() == ATTACH_ARCH_ARM64,
               "this build's native architecture has a protocol name");

        r = attach_label_from_string("example.com/tier=a=b", &l, &diag);
        tap_ok(r == 0 && streq(l.key, "example.com/tier") && streq(l.value, "a=b"),
               "label from string splits at the first '=' (r=%d)", r);
        r = attach_label_from_string("k=", &l, &diag);
        tap_ok(r == 0 && streq(l.key, "k") && streq(l.value, ""), "label from string with an empty value");
        memset(&l, 0x5a, sizeof(l));
        r = attach_label_from_string("noequals", &l, &diag);
        tap_ok(r == -EINVAL && (uint8_t) l.key[0] == 0x5a, "label from string without '=': -EINVAL (%s)",
               diag.message);
        tap_ok(attach_label_from_string("=v", &l, &diag) == -EINVAL &&
                       attach_label_from_string("a b=v", &l, &diag) == -EINVAL &&
                       attach_label_from_string("k=\x01", &l, &diag) == -EINVAL &&
                       attach_label_from_string(NULL, &l, &diag) == -EINVAL,
               "label from string refuses an empty key, a bad key, a control byte, NULL");
        memset(big, 'k', sizeof(big));
        big[ATTACH_LABEL_KEY_MAX] = '=';
        big[ATTACH_LABEL_KEY_MAX + 1] = '\0';
        r = attach_label_from_string(big, &l, &diag);
        tap_ok(r == 0 && strlen(l.key) == ATTACH_LABEL_KEY_MAX, "63-byte key accepted (r=%d)", r);
        big[ATTACH_LABEL_KEY_MAX] = 'k';
        big[ATTACH_LABEL_KEY_MAX + 1] = '=';
        big[ATTACH_LABEL_KEY_MAX + 2] = '\0';
        tap_ok(attach_label_from_string(big, &l, &diag) == -EINVAL, "64-byte key refused");
        memset(big, 'v', sizeof(big));
        big[0] = 'k';
        big[1] = '=';
        big[2 + ATTACH_LABEL_VALUE_MAX] = '\0';
        r = attach_label_from_string(big, &l, &diag);
        tap_ok(r == 0 && strlen(l.value) == ATTACH_LABEL_VALUE_MAX, "127-byte value accepted (r=%d)", r);
        big[2 + ATTACH_LABEL_VALUE_MAX] = 'v';
        big[3 + ATTACH_LABEL_VALUE_MAX] = '\0';
        tap_ok(attach_label_from_string(big, &l, &diag) == -EINVAL, "128-byte value refused");

        tap_ok(attach_vm_name_is_valid("a") && attach_vm_name_is_valid("vm-1.example:test+x@y_z") &&
                       !attach_vm_name_is_valid("") && !attach_vm_name_is_valid(NULL) &&
                       !attach_vm_name_is_valid("_a") && !attach_vm_name_is_valid("a,b"),
               "VM name character rules");
        tap_ok(!attach_vm_name_is_valid("6b1e8c1a-2f0d-4c57-9a3e-0d1f2e3c4b5a") &&
                       attach_name_looks_like_uuid("6B1E8C1A-2F0D-4C57-9A3E-0D1F2E3C4B5A") &&
                       attach_vm_name_is_valid("6b1e8c1a-2f0d-4c57-9a3e-0d1f2e3c4b5") &&
                       attach_vm_name_is_valid("6b1e8c1a-2f0d-4c57-9a3e-0d1f2e3c4b5ax") &&
                       attach_vm_name_is_valid("6b1e8c1a2f0d4c579a3e0d1f2e3c4b5a") &&
                       attach_vm_name_is_valid("gb1e8c1a-2f0d-4c57-9a3e-0d1f2e3c4b5a"),
               "a VM name may not have the shape of a UUID; near misses are names");
        memset(big, 'n', sizeof(big));
        big[ATTACH_NAME_MAX] = '\0';
        tap_ok(attach_vm_name_is_valid(big), "64-byte VM name is valid");
        big[ATTACH_NAME_MAX] = 'n';
        big[ATTACH_NAME_MAX + 1] = '\0';
        tap_ok(!attach_vm_name_is_valid(big), "65-byte VM name is not");
        tap_ok(attach_label_key_is_valid("a/b.c-d_e") && !attach_label_key_is_valid("a=b") &&
                       attach_label_value_is_valid("") && attach_label_value_is_valid(" =~") &&
                       !attach_label_value_is_valid("\x7f") && attach_message_is_valid("") &&
                       !attach_message_is_valid("\n"),
               "label and message character rules");

        {
                bool sig_ok = true;

                for (int s = -1; s <= ATTACH_SIGNAL_MAX + 1; s++) {
                        bool want = s >= 1 && s <= ATTACH_SIGNAL_MAX && s != SIGKILL && s != SIGSTOP &&
                                    s != SIGILL && s != SIGTRAP && s != SIGBUS && s != SIGFPE && s != SIGSEGV &&
                                    s != 32 && s != 33;

                        if (attach_kick_signal_is_valid(s) != want) {
                                tap_diag("signal %d: want %d", s, want);
                                sig_ok = false;
                        }
                }
                tap_ok(sig_ok && attach_kick_signal_is_valid(SIGUSR1) && attach_kick_signal_is_valid(SIGRTMIN) &&
                               attach_kick_signal_is_valid(SIGRTMAX) && !attach_kick_signal_is_valid(INT_MIN),
                       "kick signal rule for -1..65, SIGUSR1, SIGRTMIN and SIGRTMAX");
        }

        attach_message_copy(msg, "Failed: \x01no\tsuch\nvcpu\xc3\xa9");
        tap_ok(streq(msg, "Failed: ?no?such?vcpu??") && attach_message_is_valid(msg),
               "message copy replaces disallowed bytes: '%s'", msg);
        memset(big, 'x', sizeof(big));
        big[sizeof(big) - 1] = '\0';
        attach_message_copy(msg, big);
        tap_ok(strlen(msg) == ATTACH_MESSAGE_MAX && attach_message_is_valid(msg), "message copy cuts at 255 bytes");
        attach_message_copy(msg, NULL);
        tap_ok(streq(msg, ""), "message copy of NULL is empty");
}

int main(void) {
        test_roundtrips();
        test_golden();
        test_header();
        test_sizes();
        test_hello_contents();
        test_vcpu_attach();
        test_reply();
        test_inject();
        test_inject_mce();
        test_inject_result();
        test_reaction();
        test_encode_misc();
        test_tables();
        return tap_done();
}
