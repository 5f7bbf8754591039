/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the guard arithmetic: token bucket, per-vcpu gap, severity cap. */
#include "guards.h"
#include "tap.h"

static serror_syndrome syn(const char *text) {
        serror_syndrome s;
        serror_diag d;

        if (serror_syndrome_parse(text, SERROR_ALLOW_IDS, &s, &d) < 0)
                tap_bail_out("bad test syndrome %s: %s", text, d.message);
        return s;
}

int main(void) {
        Guards g;
        serror_syndrome uc = syn("uc"), uer = syn("uer"), ce = syn("ce"), ids = syn("impdef=0x11"),
                        unc = syn("dfsc=uncategorized");

        guards_init(&g, &(GuardConfig) { .max_severity = SERROR_SEVERITY_UC });
        tap_ok(guards_check(&g, &uc, 0, 1000) == GUARD_PASS, "no guard configured: UC passes");
        tap_ok(guards_check(&g, NULL, 0, 1000) == GUARD_PASS, "a KVM-chosen syndrome passes without a cap");

        guards_init(&g, &(GuardConfig) { .max_severity = SERROR_SEVERITY_UER });
        tap_ok(guards_check(&g, &uer, 0, 1) == GUARD_PASS, "cap UER: UER passes");
        tap_ok(guards_check(&g, &ce, 0, 1) == GUARD_PASS, "cap UER: CE passes");
        tap_ok(guards_check(&g, &uc, 0, 1) == GUARD_SEVERITY, "cap UER: UC refused");
        tap_ok(guards_check(&g, &ids, 0, 1) == GUARD_SEVERITY, "cap UER: IDS = 1 ranks as UC, refused");
        tap_ok(guards_check(&g, &unc, 0, 1) == GUARD_SEVERITY, "cap UER: uncategorized ranks as UC, refused");
        tap_ok(guards_check(&g, NULL, 0, 1) == GUARD_SEVERITY, "cap UER: a KVM-chosen syndrome ranks as UC, refused");
        tap_ok(g.refused_severity == 4, "four severity refusals counted (%llu)", (unsigned long long) g.refused_severity);
        {
                uint64_t never = 0;

                tap_ok(guards_check_severity(&g, SERROR_SEVERITY_UER, &never, 1, 1, NULL) == GUARD_PASS,
                       "cap UER: a machine check ranked UER (srar) passes");
                tap_ok(guards_check_severity(&g, SERROR_SEVERITY_UC, &never, 1, 1, NULL) == GUARD_SEVERITY &&
                               g.refused_severity == 5,
                       "cap UER: one ranked UC (fatal) is refused and counted");
        }

        guards_init(&g, &(GuardConfig) { .max_severity = SERROR_SEVERITY_UC, .min_gap_usec = 1000 });
        tap_ok(guards_check(&g, &ce, 0, 5000) == GUARD_PASS, "gap: a vcpu never hit passes");
        tap_ok(guards_check(&g, &ce, 5000, 5999) == GUARD_GAP, "gap: 999 us after the last is refused");
        tap_ok(guards_check(&g, &ce, 5000, 6000) == GUARD_PASS, "gap: exactly the gap passes");

        /* 10/s with a burst of 3: three at once, then one per 100 ms. */
        guards_init(&g, &(GuardConfig) { .max_severity = SERROR_SEVERITY_UC, .rate_limit = 10, .rate_burst = 3 });
        tap_ok(guards_check(&g, &ce, 0, 1000000) == GUARD_PASS, "rate: 1st of the burst");
        tap_ok(guards_check(&g, &ce, 0, 1000000) == GUARD_PASS, "rate: 2nd of the burst");
        tap_ok(guards_check(&g, &ce, 0, 1000000) == GUARD_PASS, "rate: 3rd of the burst");
        tap_ok(guards_check(&g, &ce, 0, 1000000) == GUARD_RATE, "rate: 4th at once refused");
        tap_ok(guards_check(&g, &ce, 0, 1050000) == GUARD_RATE, "rate: 50 ms later still refused");
        tap_ok(guards_check(&g, &ce, 0, 1100000) == GUARD_PASS, "rate: 100 ms later one passes");
        tap_ok(guards_check(&g, &ce, 0, 1100001) == GUARD_RATE, "rate: and the next is refused again");
        tap_ok(guards_check(&g, &ce, 0, 9000000) == GUARD_PASS, "rate: after a long pause the bucket is full...");
        tap_ok(guards_check(&g, &ce, 0, 9000000) == GUARD_PASS, "...2nd");
        tap_ok(guards_check(&g, &ce, 0, 9000000) == GUARD_PASS, "...3rd");
        tap_ok(guards_check(&g, &ce, 0, 9000000) == GUARD_RATE, "...but holds no more than the burst");
        tap_ok(g.refused_rate == 4, "four rate refusals counted (%llu)", (unsigned long long) g.refused_rate);

        /* One call's vcpus are judged together: all pass, or none and nothing is taken. */
        {
                uint64_t never[4] = { 0, 0, 0, 0 }, one_recent[3] = { 0, 5500, 0 };
                unsigned which = 99;

                guards_init(&g, &(GuardConfig) { .max_severity = SERROR_SEVERITY_UC, .rate_limit = 10, .rate_burst = 3 });
                tap_ok(guards_check_all(&g, &ce, never, 4, 1000000, &which) == GUARD_RATE,
                       "all: 4 vcpus at once with a burst of 3 are refused together");
                tap_ok(g.tokens == 3.0, "all: the refusal took no token (%.1f left)", g.tokens);
                tap_ok(guards_check_all(&g, &ce, never, 3, 1000000, &which) == GUARD_PASS && g.tokens == 0.0,
                       "all: 3 vcpus pass together and take 3 tokens");

                guards_init(&g, &(GuardConfig) { .max_severity = SERROR_SEVERITY_UC, .min_gap_usec = 1000,
                                                 .rate_limit = 10, .rate_burst = 3 });
                tap_ok(guards_check_all(&g, &ce, one_recent, 3, 6000, &which) == GUARD_GAP && which == 1,
                       "all: the gap of the second vcpu refuses the call and names it (%u)", which);
                tap_ok(g.tokens == 3.0, "all: a gap refusal takes no token either (%.1f left)", g.tokens);
                tap_ok(guards_check_all(&g, &uc, never, 2, 6000, &which) == GUARD_PASS,
                       "all: vcpus never hit pass together");
        }
        return tap_done();
}
