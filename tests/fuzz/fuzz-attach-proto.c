/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the attach codec: any datagram decodes to a documented error, or to a message that re-encodes to the same bytes. */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attach-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() rather than assert(): the check must hold in NDEBUG builds too. */
#define CHECK(x)                 \
        do {                     \
                if (!(x))        \
                        abort(); \
        } while (0)

static void check_error(const uint8_t *data, size_t size, int r) {
        AttachHeader h;
        int k;

        CHECK(r == -EMSGSIZE || r == -EPROTO || r == -EPROTONOSUPPORT || r == -EBADMSG || r == -EOPNOTSUPP);

        /* The promise the daemon relies on to answer with the right request id. */
        k = attach_header_decode(data, size, &h, NULL);
        if (r == -EPROTONOSUPPORT || r == -EBADMSG || r == -EOPNOTSUPP)
                CHECK(k == 0);
        if (r == -EPROTO)
                CHECK(k == -EPROTO);
        if (r == -EOPNOTSUPP)
                CHECK(!attach_msg_type_to_string((AttachMsgType) h.type) &&
                      attach_msg_type_fds((AttachMsgType) h.type) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static uint8_t out[ATTACH_MSG_SIZE_MAX];
        serror_diag diag;
        AttachMsg m, again;
        size_t len = 0;
        int r;

        diag.message[0] = '\0';
        r = attach_msg_decode(data, size, &m, &diag);
        if (r < 0) {
                /* Every refusal says why, in a bounded string. */
                CHECK(diag.message[0] != '\0' && memchr(diag.message, '\0', sizeof(diag.message)));
                check_error(data, size, r);
                return 0;
        }

        CHECK(attach_msg_type_to_string(m.type));
        CHECK(attach_msg_type_fds(m.type) <= ATTACH_FDS_MAX);

        /* Canonical encoding: one message, one byte sequence. */
        r = attach_msg_encode(&m, out, sizeof(out), &len, &diag);
        CHECK(r == 0);
        CHECK(len == size);
        CHECK(memcmp(out, data, size) == 0);

        /* Decode zeroes the whole struct, so equal messages compare equal bytewise. */
        r = attach_msg_decode(out, len, &again, NULL);
        CHECK(r == 0);
        CHECK(memcmp(&m, &again, sizeof(m)) == 0);

        /* Strings came back NUL-terminated and within the character rules. */
        switch (m.type) {
        case ATTACH_MSG_HELLO:
                CHECK(attach_vm_name_is_valid(m.hello.name));
                CHECK(m.hello.n_labels <= ATTACH_LABELS_MAX);
                for (unsigned i = 0; i < m.hello.n_labels; i++)
                        CHECK(attach_label_key_is_valid(m.hello.labels[i].key) &&
                              attach_label_value_is_valid(m.hello.labels[i].value));
                break;
        case ATTACH_MSG_VCPU_ATTACH:
                CHECK(attach_kick_signal_is_valid(m.vcpu_attach.kick_signal));
                break;
        case ATTACH_MSG_REPLY:
                CHECK(attach_message_is_valid(m.reply.message));
                break;
        case ATTACH_MSG_INJECT_RESULT:
                CHECK(attach_message_is_valid(m.inject_result.message));
                break;
        default:
                break;
        }
        return 0;
}

#ifdef SERROR_FUZZ_MAIN
/* Without libFuzzer (gcc builds, CI replay): run each file named on the command line once. */
#include <stdio.h>

int main(int argc, char *argv[]) {
        static uint8_t buf[2 * ATTACH_MSG_SIZE_MAX];

        for (int i = 1; i < argc; i++) {
                FILE *f = fopen(argv[i], "re");
                size_t n;

                if (!f) {
                        perror(argv[i]);
                        return EXIT_FAILURE;
                }
                n = fread(buf, 1, sizeof(buf), f);
                fclose(f);
                (void) LLVMFuzzerTestOneInput(buf, n);
        }
        return EXIT_SUCCESS;
}
#endif
