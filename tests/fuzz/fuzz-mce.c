/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the machine-check text form, decoders and MCIP rule: nothing crashes, whatever is accepted round-trips and decides. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "serror/mce.h"

/* Longer inputs only repeat what short ones already reach. */
#define INPUT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_assert(expr)                                                                          \
        do {                                                                                       \
                if (!(expr)) {                                                                     \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

static bool mce_eq(const serror_mce *a, const serror_mce *b) {
        return a->bank == b->bank && a->status == b->status && a->addr == b->addr && a->misc == b->misc &&
               a->mcg_status == b->mcg_status;
}

/* A refusal always says why, within the buffer. */
static void check_refusal(int r, const serror_diag *diag) {
        fuzz_assert(r == -EINVAL);
        fuzz_assert(memchr(diag->message, '\0', sizeof(diag->message)));
        fuzz_assert(diag->message[0] != '\0');
}

static void check_code_text(uint16_t code) {
        char text[256], small[7];
        int n = serror_mce_code_describe(code, text, sizeof(text));

        fuzz_assert(n > 0 && (size_t) n < sizeof(text) && (size_t) n == strlen(text));
        fuzz_assert(serror_mce_code_describe(code, NULL, 0) == n);
        fuzz_assert(serror_mce_code_describe(code, small, sizeof(small)) == n);
        fuzz_assert(strncmp(small, text, strlen(small)) == 0);
}

/* The decision table of mce.h, as properties. */
static void check_decisions(const serror_mce *m) {
        bool corrected = !(m->status & SERROR_MCI_UC);

        for (unsigned mcip = 0; mcip < _SERROR_MCIP_MAX; mcip++)
                for (unsigned mode = 0; mode < _SERROR_MODE_MAX; mode++) {
                        serror_mce_decision d;

                        fuzz_assert(serror_mce_decide((serror_mcip) mcip, m, (serror_mode) mode, &d) == 0);
                        fuzz_assert(d.reason && d.reason[0]);
                        if (mcip == SERROR_MCIP_CLEAR || corrected) {
                                fuzz_assert(d.action == SERROR_ACTION_WRITE && d.outcome == SERROR_OUTCOME_INJECTED);
                                continue;
                        }
                        switch (mode) {
                        case SERROR_MODE_MERGE:
                                fuzz_assert(d.action == SERROR_ACTION_NONE && d.outcome == SERROR_OUTCOME_COALESCED);
                                break;
                        case SERROR_MODE_DEFER:
                                fuzz_assert(d.action == SERROR_ACTION_WAIT && d.outcome == SERROR_OUTCOME_DEFERRED);
                                break;
                        default:
                                fuzz_assert(d.action == SERROR_ACTION_NONE && d.outcome == SERROR_OUTCOME_SKIPPED);
                        }
                }
}

/* Everything a valid machine check must satisfy, however it was obtained. */
static void check_accepted(const serror_mce *m) {
        serror_mce again;
        serror_mce_status_fields f;
        serror_mce_class c;
        serror_diag diag;
        char text[192], small[9];
        int n, r;

        fuzz_assert(serror_mce_validate(m, &diag) == 0);
        fuzz_assert(m->bank < SERROR_MCE_BANKS_MAX && (m->status & SERROR_MCI_VAL));

        n = serror_mce_format(m, text, sizeof(text));
        fuzz_assert(n > 0 && (size_t) n < sizeof(text) && (size_t) n == strlen(text));
        fuzz_assert(serror_mce_format(m, NULL, 0) == n);
        fuzz_assert(serror_mce_format(m, small, sizeof(small)) == n);
        fuzz_assert(strncmp(small, text, strlen(small)) == 0);
        fuzz_assert(serror_mce_text_is_mce(text));
        r = serror_mce_parse(text, &again, &diag);
        fuzz_assert(r == 0 && mce_eq(m, &again));

        c = serror_mce_classify(m);
        fuzz_assert((unsigned) c < _SERROR_MCE_CLASS_MAX);
        fuzz_assert(serror_mce_class_to_string(c) && serror_mce_class_describe(c));
        /* Only corrected and UCNA errors stay without a #MC. */
        fuzz_assert(serror_mce_raises_mc(m) == (c >= SERROR_MCE_SRAO));
        fuzz_assert((c == SERROR_MCE_CE) == !(m->status & SERROR_MCI_UC));

        fuzz_assert(serror_mce_status_decode(m->status, &f) == 0);
        fuzz_assert(f.val && f.uc == !!(m->status & SERROR_MCI_UC) && f.ar == !!(m->status & SERROR_MCI_AR));
        fuzz_assert(f.mca_code == (m->status & SERROR_MCI_CODE_MASK));
        check_code_text(f.mca_code);
        check_decisions(m);
}

static void fuzz_text(const uint8_t *data, size_t size) {
        serror_mce m;
        serror_diag diag;
        char *text;
        int r;

        text = malloc(size + 1);
        if (!text)
                return;
        memcpy(text, data, size);
        text[size] = '\0';

        memset(&diag, 0, sizeof(diag));
        r = serror_mce_parse(text, &m, &diag);
        if (r < 0)
                check_refusal(r, &diag);
        else
                check_accepted(&m);

        free(text);
}

/* The same bytes as a struct kvm_x86_mce, the way an agent would hand one in. */
static void fuzz_struct(const uint8_t *data, size_t size) {
        uint8_t raw[4 + 4 * 8] = {};
        serror_mce m;
        serror_diag diag;
        int r;

        memcpy(raw, data, size < sizeof(raw) ? size : sizeof(raw));
        memcpy(&m.bank, raw, 4);
        memcpy(&m.status, raw + 4, 8);
        memcpy(&m.addr, raw + 12, 8);
        memcpy(&m.misc, raw + 20, 8);
        memcpy(&m.mcg_status, raw + 28, 8);

        check_code_text((uint16_t) m.status);
        memset(&diag, 0, sizeof(diag));
        r = serror_mce_validate(&m, &diag);
        if (r < 0) {
                check_refusal(r, &diag);
                return;
        }
        check_accepted(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > INPUT_MAX)
                return 0;

        fuzz_text(data, size);
        fuzz_struct(data, size);
        return 0;
}
