/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for policy text: nothing crashes, refusals say why, and what is accepted plans sanely. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "policy.h"
#include "plan.h"

/* Longer inputs only repeat what short ones already reach. */
#define INPUT_MAX 65536
/* Enough injections to cross bursts, jitter and limits, few enough to stay fast. */
#define PLAN_STEPS 300

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_assert(expr)                                                                          \
        do {                                                                                       \
                if (!(expr)) {                                                                     \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

/* Messages go over D-Bus: they must be UTF-8. */
static bool utf8_valid(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;

                if (n == 0 || (n == 2 && *p < 0xc2))
                        return false;
                for (size_t i = 1; i < n; i++)
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                p += n;
        }
        return true;
}

static void check_refusal(int r, const PolicyDiag *diag) {
        fuzz_assert(r == -EINVAL || r == -EFBIG || r == -ENOMEM);
        if (r == -ENOMEM)
                return;
        fuzz_assert(diag->n_errors >= 1 && diag->n_errors <= POLICY_ERRORS_MAX);
        for (size_t i = 0; i < diag->n_errors; i++) {
                const PolicyError *e = &diag->errors[i];
                char line[POLICY_PATH_MAX + POLICY_MESSAGE_MAX + 32];

                fuzz_assert(memchr(e->path, '\0', sizeof(e->path)));
                fuzz_assert(memchr(e->message, '\0', sizeof(e->message)));
                fuzz_assert(e->message[0] != '\0');
                fuzz_assert(utf8_valid(e->path) && utf8_valid(e->message));
                fuzz_assert((e->line == 0) == (e->column == 0));
                fuzz_assert(policy_error_format(e, line, sizeof(line)) > 0);
                /* In the order of the text: lines first, ascending. */
                if (i > 0 && e->line != 0)
                        fuzz_assert(diag->errors[i - 1].line != 0 && diag->errors[i - 1].line <= e->line);
        }
}

static void check_policy(const Policy *p) {
        uint64_t total = 0;

        fuzz_assert(p->name && *p->name && strlen(p->name) <= POLICY_NAME_MAX);
        fuzz_assert(p->n_names + p->n_globs + p->n_labels > 0);
        fuzz_assert(p->n_mix >= 1 && p->n_mix <= POLICY_MIX_MAX);
        for (size_t i = 0; i < p->n_mix; i++) {
                fuzz_assert(p->mix[i].weight >= 1 && p->mix[i].weight <= POLICY_WEIGHT_MAX);
                fuzz_assert(serror_syndrome_validate(&p->mix[i].syndrome, p->allow_ids ? SERROR_ALLOW_IDS : 0, NULL) == 0);
                total += p->mix[i].weight;
        }
        fuzz_assert(total == p->total_weight);
        fuzz_assert(p->all_vcpus == (p->n_vcpus == 0));
        for (size_t i = 0; i < p->n_vcpus; i++) {
                fuzz_assert(p->vcpus[i].first <= p->vcpus[i].last && p->vcpus[i].last <= POLICY_VCPU_INDEX_MAX);
                if (i > 0)
                        fuzz_assert((uint64_t) p->vcpus[i - 1].last + 1 < p->vcpus[i].first);
        }
        for (size_t i = 1; i < p->n_labels; i++)
                fuzz_assert(strcmp(p->labels[i - 1].key, p->labels[i].key) < 0);
        fuzz_assert(p->duration_usec <= POLICY_DURATION_MAX_USEC && p->start_delay_usec <= POLICY_DURATION_MAX_USEC);
}

/* Plan a while, twice from one seed: offsets in order and inside the
 * limits, and the two runs identical. */
static void check_plan(const Policy *p, uint64_t seed) {
        static const PolicyTarget targets[] = { { "vm-b", 1 }, { "vm-a", 0 }, { "vm-a", 7 } };
        PolicyPlan *a = NULL, *b = NULL;
        uint64_t prev = 0;
        PlannedEvent x, y;
        int r;

        r = policy_plan_new(p, seed, UINT64_C(1700000000) * 1000000, targets, ELEMENTSOF(targets), &a);
        if (r == -ENOMEM)
                return;
        fuzz_assert(r == 0);
        fuzz_assert(policy_plan_new(p, seed, UINT64_C(1700000000) * 1000000, targets, ELEMENTSOF(targets), &b) == 0);

        for (int i = 0; i < PLAN_STEPS; i++) {
                int ra = policy_plan_next(a, &x), rb = policy_plan_next(b, &y);

                fuzz_assert(ra == rb && ra >= 0);
                if (ra == 0)
                        break;
                fuzz_assert(memcmp(&x, &y, sizeof(x)) == 0);
                fuzz_assert(x.offset_usec >= prev);
                fuzz_assert(p->duration_usec == 0 || x.offset_usec < p->duration_usec);
                fuzz_assert(x.has_target && x.part < x.n_parts && x.mix_index < p->n_mix);
                fuzz_assert(p->max_injections == 0 || x.injection < p->max_injections);
                prev = x.offset_usec;
        }
        policy_plan_free(a);
        policy_plan_free(b);
}

static void fuzz_text(const char *text, size_t size, uint64_t seed) {
        PolicyDiag *diag = malloc(sizeof(PolicyDiag));
        Policy *p = NULL;
        int r;

        if (!diag)
                return;
        r = policy_parse(text, size, &p, diag);
        if (r < 0) {
                fuzz_assert(!p);
                check_refusal(r, diag);
        } else {
                fuzz_assert(r == 0 && p && diag->n_errors == 0);
                check_policy(p);
                (void) policy_match_vm(p, "vm-a", NULL, 0);
                (void) policy_match_vcpu(p, 3);
                check_plan(p, seed);
        }
        policy_free(p);
        free(diag);
}

/* Raw bytes reach the JSON layer; spliced into a valid policy they reach
 * each section's validation much sooner. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const templates[] = {
                "{\"name\": \"f\", \"targets\": {\"globs\": [\"*\"]}, \"error\": \"ce\", \"schedule\": %.*s}",
                "{\"name\": \"f\", \"targets\": %.*s, \"error\": \"ce\", \"schedule\": {\"type\": \"once\", "
                "\"after\": \"1s\"}}",
                "{\"name\": \"f\", \"targets\": {\"globs\": [\"*\"], \"pick\": \"all\"}, \"error\": %.*s, "
                "\"schedule\": {\"type\": \"burst\", \"count\": 3, \"spacing\": \"1ms\", \"period\": \"1s\"}}",
                "{\"name\": \"f\", \"targets\": {\"names\": [\"vm-a\"]}, \"error\": \"uer\", \"schedule\": "
                "{\"type\": \"poisson\", \"rate\": 50}, %.*s}",
        };
        uint64_t seed = 0;
        char *text;
        int n;

        if (size > INPUT_MAX)
                return 0;
        memcpy(&seed, data, size < sizeof(seed) ? size : sizeof(seed));

        fuzz_text((const char *) data, size, seed);

        if (size < 1)
                return 0;
        text = malloc(size + 512);
        if (!text)
                return 0;
        n = snprintf(text, size + 512, templates[data[0] % ELEMENTSOF(templates)], (int) (size - 1),
                     (const char *) data + 1);
        /* snprintf stops at a NUL in the input; what it wrote is still text to parse. */
        if (n > 0)
                fuzz_text(text, strnlen(text, size + 511), seed);
        free(text);
        return 0;
}
