/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writes one record of each attach message type, made by the real encoder, as seeds for fuzz-attach-proto. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attach-proto.h"
#include "macro.h"

/* Usage: gen-attach-corpus DIR. The files are committed under
 * tests/fuzz/corpus/fuzz-attach-proto; run this again when the wire format
 * changes (make fuzz-corpus). */
static int put(const char *dir, const char *name, const AttachMsg *m) {
        uint8_t buf[ATTACH_MSG_SIZE_MAX];
        serror_diag diag = {};
        char path[4096];
        size_t size;
        FILE *f;

        if (attach_msg_encode(m, buf, sizeof(buf), &size, &diag) < 0) {
                fprintf(stderr, "gen-attach-corpus: %s: %s\n", name, diag.message);
                return -EINVAL;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        if (!f || fwrite(buf, 1, size, f) != size || fclose(f) != 0) {
                fprintf(stderr, "gen-attach-corpus: %s: %s\n", path, strerror(errno));
                return -EIO;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        AttachMsg hello = { .type = ATTACH_MSG_HELLO, .request_id = 1 };
        AttachMsg vcpu = { .type = ATTACH_MSG_VCPU_ATTACH, .request_id = 2 };
        AttachMsg detach = { .type = ATTACH_MSG_VCPU_DETACH, .request_id = 3 };
        AttachMsg bye = { .type = ATTACH_MSG_BYE, .request_id = 4 };
        AttachMsg reply = { .type = ATTACH_MSG_REPLY, .request_id = 5 };
        AttachMsg inject = { .type = ATTACH_MSG_INJECT, .request_id = 6 };
        AttachMsg result = { .type = ATTACH_MSG_INJECT_RESULT, .request_id = 6 };
        AttachMsg mce = { .type = ATTACH_MSG_INJECT_MCE, .request_id = 7 };
        AttachMsg reaction = { .type = ATTACH_MSG_REACTION, .request_id = 8 };
        int r = 0;

        if (argc != 2) {
                fprintf(stderr, "usage: gen-attach-corpus DIR\n");
                return 2;
        }
        hello.hello.vmm_pid = 4242;
        hello.hello.arch = ATTACH_ARCH_ARM64;
        hello.hello.has_uuid = true;
        memcpy(hello.hello.uuid, "\x6b\x1e\x8c\x1a\x2f\x0d\x4c\x57\x9a\x3e\x0d\x1f\x2e\x3c\x4b\x5a", 16);
        strcpy(hello.hello.name, "web-1");
        hello.hello.n_labels = 2;
        strcpy(hello.hello.labels[0].key, "role");
        strcpy(hello.hello.labels[0].value, "web");
        strcpy(hello.hello.labels[1].key, "zone");
        strcpy(hello.hello.labels[1].value, "a");
        vcpu.vcpu_attach.vcpu = 3;
        vcpu.vcpu_attach.tid = 4243;
        vcpu.vcpu_attach.kick_signal = 10;
        detach.vcpu_detach.vcpu = 3;
        reply.reply.status = EEXIST;
        strcpy(reply.reply.message, "a VM named web-1 is already attached");
        inject.inject.vcpu = 1;
        inject.inject.has_esr = true;
        inject.inject.iss = 0xc11;
        inject.inject.mode = SERROR_MODE_DEFER;
        inject.inject.timeout_ns = 5000000000;
        result.inject_result.vcpu = 1;
        result.inject_result.outcome = SERROR_OUTCOME_MERGED;
        result.inject_result.before = (AttachVcpuState) { .valid = true, .pending = true, .has_esr = true, .esr = 0x811 };
        result.inject_result.written = (AttachVcpuWrite) { .written = true, .has_esr = true, .esr = 0xc11 };
        result.inject_result.after = (AttachVcpuState) { .valid = true, .pending = true, .has_esr = true, .esr = 0xc11 };
        result.inject_result.received_ns = 1000;
        result.inject_result.reached_ns = 2000;
        result.inject_result.done_ns = 3000;
        strcpy(result.inject_result.message, "merged");
        mce.inject = (AttachInject) {
                .vcpu = 0,
                .is_mce = true,
                .mce = { .bank = 1, .status = UINT64_C(0xbd80000000000134), .addr = 0x1000, .mcg_status = 7 },
                .mode = SERROR_MODE_DEFER,
                .timeout_ns = 5000000000,
        };

        reaction.reaction = (AttachReaction) { .vcpu = 1, .kind = ATTACH_REACTION_TAKEN, .inject_id = 6, .after_ns = 2100000 };

        r |= put(argv[1], "hello", &hello);
        r |= put(argv[1], "vcpu-attach", &vcpu);
        r |= put(argv[1], "vcpu-detach", &detach);
        r |= put(argv[1], "bye", &bye);
        r |= put(argv[1], "reply", &reply);
        r |= put(argv[1], "inject", &inject);
        r |= put(argv[1], "inject-result", &result);
        r |= put(argv[1], "inject-mce", &mce);
        r |= put(argv[1], "reaction", &reaction);
        return r ? 1 : 0;
}
