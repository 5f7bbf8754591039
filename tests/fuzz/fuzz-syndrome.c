/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the syndrome text form and decoders: nothing crashes, and whatever is accepted round-trips. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "serror/syndrome.h"

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

static bool syndrome_eq(const serror_syndrome *a, const serror_syndrome *b) {
        return a->ids == b->ids && a->impdef == b->impdef && a->iesb == b->iesb && a->aet == b->aet &&
               a->ea == b->ea && a->dfsc == b->dfsc;
}

/* A refusal always says why, within the buffer. */
static void check_refusal(int r, const serror_diag *diag) {
        fuzz_assert(r == -EINVAL);
        fuzz_assert(memchr(diag->message, '\0', sizeof(diag->message)));
        fuzz_assert(diag->message[0] != '\0');
}

/* Everything an accepted syndrome must satisfy, however it was obtained. */
static void check_accepted(const serror_syndrome *s) {
        serror_syndrome again;
        serror_diag diag;
        char text[64], small[5];
        uint32_t iss = serror_syndrome_iss(s);
        int n, r;

        fuzz_assert(serror_syndrome_validate(s, SERROR_ALLOW_IDS, &diag) == 0);
        fuzz_assert(serror_syndrome_esr(s) == (0xbe000000u | iss));
        fuzz_assert(serror_syndrome_severity(s) >= SERROR_SEVERITY_CE);
        fuzz_assert(serror_syndrome_severity(s) <= SERROR_SEVERITY_UC);

        n = serror_syndrome_format(s, text, sizeof(text));
        fuzz_assert(n > 0 && (size_t) n < sizeof(text) && (size_t) n == strlen(text));
        fuzz_assert(serror_syndrome_format(s, NULL, 0) == n);
        fuzz_assert(serror_syndrome_format(s, small, sizeof(small)) == n);
        fuzz_assert(strlen(small) == ((size_t) n < sizeof(small) ? (size_t) n : sizeof(small) - 1));
        fuzz_assert(strncmp(small, text, strlen(small)) == 0);

        r = serror_syndrome_parse(text, SERROR_ALLOW_IDS, &again, &diag);
        fuzz_assert(r == 0 && syndrome_eq(s, &again));

        r = serror_syndrome_from_iss(iss, SERROR_ALLOW_IDS, &again, &diag);
        fuzz_assert(r == 0 && syndrome_eq(s, &again));

        r = serror_syndrome_from_esr(serror_syndrome_esr(s), SERROR_ALLOW_IDS, &again, &diag);
        fuzz_assert(r == 0 && syndrome_eq(s, &again));
}

static void fuzz_text(const uint8_t *data, size_t size) {
        serror_syndrome plain, with_ids;
        serror_diag diag;
        char *text;
        int r_plain, r_ids;

        text = malloc(size + 1);
        if (!text)
                return;
        memcpy(text, data, size);
        text[size] = '\0';

        memset(&diag, 0, sizeof(diag));
        r_plain = serror_syndrome_parse(text, 0, &plain, &diag);
        if (r_plain < 0)
                check_refusal(r_plain, &diag);

        memset(&diag, 0, sizeof(diag));
        r_ids = serror_syndrome_parse(text, SERROR_ALLOW_IDS, &with_ids, &diag);
        if (r_ids < 0)
                check_refusal(r_ids, &diag);

        /* The opt-in only widens what is accepted, and only by IDS=1 syndromes. */
        if (r_plain == 0) {
                fuzz_assert(!plain.ids);
                fuzz_assert(r_ids == 0 && syndrome_eq(&plain, &with_ids));
                check_accepted(&plain);
        }
        if (r_ids == 0) {
                fuzz_assert(with_ids.ids || r_plain == 0);
                check_accepted(&with_ids);
        }

        free(text);
}

static void fuzz_iss(uint32_t iss) {
        static const unsigned flag_sets[] = { 0, SERROR_ALLOW_IDS };
        serror_syndrome s;
        serror_diag diag;
        size_t i;
        int r;

        for (i = 0; i < ELEMENTSOF(flag_sets); i++) {
                memset(&diag, 0, sizeof(diag));
                r = serror_syndrome_from_iss(iss, flag_sets[i], &s, &diag);
                if (r < 0) {
                        check_refusal(r, &diag);
                        continue;
                }
                fuzz_assert(serror_syndrome_iss(&s) == iss);
                check_accepted(&s);
        }
}

static void fuzz_esr(uint64_t esr) {
        serror_syndrome s;
        serror_diag diag;
        int r;

        memset(&diag, 0, sizeof(diag));
        r = serror_syndrome_from_esr(esr, SERROR_ALLOW_IDS, &s, &diag);
        if (r < 0) {
                check_refusal(r, &diag);
                return;
        }
        fuzz_assert(serror_syndrome_esr(&s) == esr);
        check_accepted(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint64_t word = 0;

        if (size > INPUT_MAX)
                return 0;

        fuzz_text(data, size);

        /* The same bytes read as an ISS and as an ESR, and once more forced
         * into EC 0x2F with IL set, so the ISS decoder is reached that way too. */
        memcpy(&word, data, size < sizeof(word) ? size : sizeof(word));
        fuzz_iss((uint32_t) word);
        fuzz_iss((uint32_t) word & 0x01ffffffu);
        fuzz_esr(word);
        fuzz_esr(0xbe000000u | ((uint32_t) word & 0x01ffffffu));

        return 0;
}
