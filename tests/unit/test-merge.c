/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for serror_decide(): every pending state, syndrome pair and mode against an independent oracle. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "serror/syndrome.h"
#include "tap.h"

/* Severity by AET code, copied by hand from the RAS spec's overwrite order
 * (DDI 0587, Table 3; DOMAIN.md 2): CE 0 < DE 1 < UEO 2 < UER 3 < UEU 4 < UC 5.
 * -1 marks the reserved codes. */
static const int rank_by_aet_code[8] = {
        [0] = 5,  /* 0b000 UC */
        [1] = 4,  /* 0b001 UEU */
        [2] = 2,  /* 0b010 UEO */
        [3] = 3,  /* 0b011 UER */
        [4] = -1, /* reserved */
        [5] = -1, /* reserved */
        [6] = 0,  /* 0b110 CE */
        [7] = -1, /* reserved */
};
#define RANK_MOST_SEVERE 5

static const uint32_t impdef_samples[] = { 0x000000, 0x000c11, 0xffffff };

static serror_syndrome syndromes[5 * 2 * 2 + 2 + ELEMENTSOF(impdef_samples)];
static size_t n_syndromes;

static void build_syndromes(void) {
        static const serror_aet aets[] = {
                SERROR_AET_UC, SERROR_AET_UEU, SERROR_AET_UEO, SERROR_AET_UER, SERROR_AET_CE,
        };
        size_t i;
        int iesb, ea;

        for (i = 0; i < ELEMENTSOF(aets); i++)
                for (iesb = 0; iesb < 2; iesb++)
                        for (ea = 0; ea < 2; ea++)
                                syndromes[n_syndromes++] = (serror_syndrome) {
                                        .aet = aets[i], .iesb = iesb, .ea = ea, .dfsc = SERROR_DFSC_ASYNC,
                                };
        for (ea = 0; ea < 2; ea++)
                syndromes[n_syndromes++] = (serror_syndrome) { .ea = ea, .dfsc = SERROR_DFSC_UNCATEGORIZED };
        for (i = 0; i < ELEMENTSOF(impdef_samples); i++)
                syndromes[n_syndromes++] = (serror_syndrome) { .ids = true, .impdef = impdef_samples[i] };
}

static bool syndrome_eq(const serror_syndrome *a, const serror_syndrome *b) {
        return a->ids == b->ids && a->impdef == b->impdef && a->iesb == b->iesb && a->aet == b->aet &&
               a->ea == b->ea && a->dfsc == b->dfsc;
}

static const char *syndrome_text(const serror_syndrome *s, char *buf, size_t size) {
        if (serror_syndrome_format(s, buf, size) < 0)
                snprintf(buf, size, "(unformattable)");
        return buf;
}

/* DOMAIN.md 3: IDS=1 and uncategorized rank with UC; so does a pending SError
 * whose ESR KVM chose. */
static int oracle_rank(serror_pending_kind kind, const serror_syndrome *s) {
        if (kind == SERROR_PENDING_UNKNOWN)
                return RANK_MOST_SEVERE;
        if (s->ids || s->dfsc == SERROR_DFSC_UNCATEGORIZED)
                return RANK_MOST_SEVERE;
        return rank_by_aet_code[s->aet & 7];
}

static serror_decision oracle_decide(serror_pending_kind kind, const serror_syndrome *pending,
                                     const serror_syndrome *incoming, serror_mode mode) {
        serror_decision d = {};

        if (kind == SERROR_PENDING_NONE) {
                d.action = SERROR_ACTION_WRITE;
                d.outcome = SERROR_OUTCOME_INJECTED;
                d.write = *incoming;
        } else if (mode == SERROR_MODE_SKIP) {
                d.action = SERROR_ACTION_NONE;
                d.outcome = SERROR_OUTCOME_SKIPPED;
        } else if (mode == SERROR_MODE_DEFER) {
                d.action = SERROR_ACTION_WAIT;
                d.outcome = SERROR_OUTCOME_DEFERRED;
        } else if (oracle_rank(SERROR_PENDING_KNOWN, incoming) > oracle_rank(kind, pending)) {
                d.action = SERROR_ACTION_WRITE;
                d.outcome = SERROR_OUTCOME_MERGED;
                d.write = *incoming;
        } else {
                d.action = SERROR_ACTION_NONE;
                d.outcome = SERROR_OUTCOME_COALESCED;
        }
        return d;
}

static const char *action_name(serror_action a) {
        switch (a) {
        case SERROR_ACTION_WRITE:
                return "write";
        case SERROR_ACTION_NONE:
                return "none";
        case SERROR_ACTION_WAIT:
                return "wait";
        }
        return "(bad action)";
}

static bool decision_matches(const serror_decision *got, const serror_decision *want) {
        if (got->action != want->action || got->outcome != want->outcome)
                return false;
        return got->action != SERROR_ACTION_WRITE || syndrome_eq(&got->write, &want->write);
}

/* Every incoming syndrome against one pending state in one mode. */
static void check_all_incoming(serror_pending_kind kind, const serror_syndrome *pending, serror_mode mode,
                               const char *pending_name) {
        unsigned mismatches = 0;
        size_t i;

        for (i = 0; i < n_syndromes; i++) {
                serror_decision got, want = oracle_decide(kind, pending, &syndromes[i], mode);
                char text[64];
                int r;

                memset(&got, 0, sizeof(got));
                r = serror_decide(kind, pending, &syndromes[i], mode, &got);
                if (r == 0 && decision_matches(&got, &want))
                        continue;

                mismatches++;
                tap_diag("pending %s, incoming %s, %s: r=%d got %s/%s, want %s/%s", pending_name,
                         syndrome_text(&syndromes[i], text, sizeof(text)), serror_mode_to_string(mode), r,
                         action_name(got.action), serror_outcome_to_string(got.outcome) ?: "?",
                         action_name(want.action), serror_outcome_to_string(want.outcome));
        }

        tap_ok(mismatches == 0, "pending %s, mode %s: %zu incoming syndromes agree with the oracle", pending_name,
               serror_mode_to_string(mode), n_syndromes);
}

static void test_exhaustive(void) {
        serror_mode mode;
        size_t i;

        for (mode = 0; mode < _SERROR_MODE_MAX; mode++) {
                char name[80], text[64];

                check_all_incoming(SERROR_PENDING_NONE, NULL, mode, "none");
                check_all_incoming(SERROR_PENDING_UNKNOWN, NULL, mode, "unknown");

                for (i = 0; i < n_syndromes; i++) {
                        snprintf(name, sizeof(name), "'%s'", syndrome_text(&syndromes[i], text, sizeof(text)));
                        check_all_incoming(SERROR_PENDING_KNOWN, &syndromes[i], mode, name);
                }
        }
}

/* The library's own ranks against the hand-written table. */
static void test_severity(void) {
        size_t i;

        for (i = 0; i < n_syndromes; i++) {
                char text[64];
                int want = oracle_rank(SERROR_PENDING_KNOWN, &syndromes[i]);
                int got = serror_syndrome_severity(&syndromes[i]);

                tap_ok(got == want, "severity of '%s' is %d (got %d)",
                       syndrome_text(&syndromes[i], text, sizeof(text)), want, got);
        }

        tap_ok(serror_syndrome_severity(NULL) == -EINVAL, "severity of NULL is -EINVAL");
}

static serror_syndrome parse_or_bail(const char *text) {
        serror_syndrome s;
        serror_diag diag = {};

        if (serror_syndrome_parse(text, SERROR_ALLOW_IDS, &s, &diag) < 0)
                tap_bail_out("cannot parse '%s': %s", text, diag.message);
        return s;
}

typedef struct named_case {
        const char *pending; /* NULL: nothing pending; "?": pending, ESR unknown */
        const char *incoming;
        serror_mode mode;
        serror_action action;
        serror_outcome outcome;
} named_case;

static const named_case named_cases[] = {
        { "uer", "ce", SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED },
        { "uer", "uc", SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_MERGED },
        { "ce", "ueo", SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_MERGED },
        { "ueo", "uer", SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_MERGED },
        { "uer", "ueu", SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_MERGED },
        { "ueu", "uer", SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED },
        { "uer", "uer,iesb,ea", SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED },
        { "uc", "uc", SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED },
        { "ueu", "dfsc=uncategorized", SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_MERGED },
        { "ueu", "impdef=0x000011", SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_MERGED },
        { "impdef=0x000011", "uc", SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED },
        { "dfsc=uncategorized", "impdef=0x000011", SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED },
        { "?", "uc", SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED },
        { "?", "ce", SERROR_MODE_SKIP, SERROR_ACTION_NONE, SERROR_OUTCOME_SKIPPED },
        { "?", "uer", SERROR_MODE_DEFER, SERROR_ACTION_WAIT, SERROR_OUTCOME_DEFERRED },
        { "ce", "uc", SERROR_MODE_SKIP, SERROR_ACTION_NONE, SERROR_OUTCOME_SKIPPED },
        { "ce", "uc", SERROR_MODE_DEFER, SERROR_ACTION_WAIT, SERROR_OUTCOME_DEFERRED },
        { NULL, "ce", SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_INJECTED },
        { NULL, "ce", SERROR_MODE_DEFER, SERROR_ACTION_WRITE, SERROR_OUTCOME_INJECTED },
        { NULL, "ce", SERROR_MODE_SKIP, SERROR_ACTION_WRITE, SERROR_OUTCOME_INJECTED },
};

static void test_named_cases(void) {
        size_t i;

        for (i = 0; i < ELEMENTSOF(named_cases); i++) {
                const named_case *t = &named_cases[i];
                serror_syndrome pending = {}, incoming = parse_or_bail(t->incoming);
                serror_pending_kind kind = SERROR_PENDING_NONE;
                serror_decision d;
                const char *pending_name = "nothing";
                int r;

                if (t->pending && streq(t->pending, "?")) {
                        kind = SERROR_PENDING_UNKNOWN;
                        pending_name = "unknown";
                } else if (t->pending) {
                        kind = SERROR_PENDING_KNOWN;
                        pending = parse_or_bail(t->pending);
                        pending_name = t->pending;
                }

                r = serror_decide(kind, kind == SERROR_PENDING_KNOWN ? &pending : NULL, &incoming, t->mode, &d);
                tap_ok(r == 0 && d.action == t->action && d.outcome == t->outcome &&
                               (d.action != SERROR_ACTION_WRITE || syndrome_eq(&d.write, &incoming)),
                       "%s pending, then %s, %s: %s, %s%s", pending_name, t->incoming,
                       serror_mode_to_string(t->mode), action_name(t->action), serror_outcome_to_string(t->outcome),
                       t->action == SERROR_ACTION_WRITE ? " (writes the new syndrome)" : "");
        }
}

static void test_pending_ignored_unless_known(void) {
        serror_syndrome uc = parse_or_bail("uc"), ce = parse_or_bail("ce");
        serror_decision d;
        int r;

        /* A pending syndrome handed in with kind NONE or UNKNOWN means nothing. */
        r = serror_decide(SERROR_PENDING_NONE, &uc, &ce, SERROR_MODE_MERGE, &d);
        tap_ok(r == 0 && d.action == SERROR_ACTION_WRITE && d.outcome == SERROR_OUTCOME_INJECTED,
               "kind none ignores a pending syndrome handed in");

        r = serror_decide(SERROR_PENDING_UNKNOWN, &ce, &uc, SERROR_MODE_MERGE, &d);
        tap_ok(r == 0 && d.action == SERROR_ACTION_NONE && d.outcome == SERROR_OUTCOME_COALESCED,
               "kind unknown ranks as IDS=1 even when a CE syndrome is handed in");
}

static void test_refusals(void) {
        serror_syndrome uer = parse_or_bail("uer"), reserved = uer;
        serror_decision sentinel, d;

        reserved.aet = (serror_aet) 5;
        memset(&sentinel, 0x3c, sizeof(sentinel));

#define CHECK_REFUSED(call, what)                                                                             \
        do {                                                                                                \
                d = sentinel;                                                                               \
                tap_ok((call) == -EINVAL && memcmp(&d, &sentinel, sizeof(d)) == 0, "decide refuses %s", what); \
        } while (0)

        CHECK_REFUSED(serror_decide(SERROR_PENDING_NONE, NULL, &uer, _SERROR_MODE_MAX, &d), "mode _SERROR_MODE_MAX");
        CHECK_REFUSED(serror_decide(SERROR_PENDING_NONE, NULL, &uer, (serror_mode) -1, &d), "mode -1");
        CHECK_REFUSED(serror_decide((serror_pending_kind) 3, &uer, &uer, SERROR_MODE_MERGE, &d), "pending kind 3");
        CHECK_REFUSED(serror_decide((serror_pending_kind) -1, &uer, &uer, SERROR_MODE_SKIP, &d), "pending kind -1");
        CHECK_REFUSED(serror_decide(SERROR_PENDING_NONE, NULL, NULL, SERROR_MODE_MERGE, &d), "no incoming syndrome");
        CHECK_REFUSED(serror_decide(SERROR_PENDING_KNOWN, NULL, &uer, SERROR_MODE_MERGE, &d),
                      "kind known without a pending syndrome");
        CHECK_REFUSED(serror_decide(SERROR_PENDING_NONE, NULL, &reserved, SERROR_MODE_MERGE, &d),
                      "an incoming syndrome with a reserved AET");
        CHECK_REFUSED(serror_decide(SERROR_PENDING_KNOWN, &reserved, &uer, SERROR_MODE_SKIP, &d),
                      "a pending syndrome with a reserved AET");
#undef CHECK_REFUSED

        tap_ok(serror_decide(SERROR_PENDING_NONE, NULL, &uer, SERROR_MODE_MERGE, NULL) == -EINVAL,
               "decide refuses a NULL result");
}

int main(void) {
        build_syndromes();

        test_severity();
        test_exhaustive();
        test_named_cases();
        test_pending_ignored_unless_known();
        test_refusals();

        return tap_done();
}
