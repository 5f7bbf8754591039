/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serror_decide() against literal cases worked out by hand from the RAS rules (DOMAIN.md sections 2 and 3). */

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "macro.h"
#include "serror/syndrome.h"
#include "tap.h"

/*
 * Nothing here is computed from the rules: every row was written from the
 * severity order CE < UEO < UER < UEU < UC (uncategorized and IDS = 1 rank
 * as UC, a pending SError whose ESR KVM chose ranks as IDS = 1) and the
 * three modes. ISS values: UC 0x11, UEU 0x411, UEO 0x811, UER 0xc11, CE
 * 0x1811, uncategorized 0x0, IESB 0x2000, EA 0x200, IDS 0x1000000. The ESR a
 * guest would read is 0xbe000000 | ISS (EC 0x2F, IL).
 */
enum { NONE, KNOWN, UNKNOWN };
#define NO_WRITE 0

static const struct row {
        int pending;
        uint32_t pending_iss;
        uint32_t incoming_iss;
        serror_mode mode;
        serror_action action;
        serror_outcome outcome;
        uint32_t written_iss; /* what goes into kvm_vcpu_events.exception.serror_esr */
        uint32_t written_esr; /* what the guest then reads in ESR_EL1 */
        const char *why;
} rows[] = {
        { NONE, 0, 0xc11, SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_INJECTED, 0xc11, 0xbe000c11,
          "nothing pending: UER is written as asked" },
        { NONE, 0, 0x1811, SERROR_MODE_DEFER, SERROR_ACTION_WRITE, SERROR_OUTCOME_INJECTED, 0x1811, 0xbe001811,
          "nothing pending: defer has nothing to wait for" },
        { NONE, 0, 0x11, SERROR_MODE_SKIP, SERROR_ACTION_WRITE, SERROR_OUTCOME_INJECTED, 0x11, 0xbe000011,
          "nothing pending: skip has nothing to skip" },
        { KNOWN, 0x1811, 0xc11, SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_MERGED, 0xc11, 0xbe000c11,
          "CE pending, UER arrives: the combined effect is UER" },
        { KNOWN, 0xc11, 0x1811, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "UER pending, CE arrives: UER already reports it" },
        { KNOWN, 0xc11, 0xc11, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "UER pending, UER again: a tie is coalesced" },
        { KNOWN, 0xc11, 0x2e11, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "UER pending, UER with IESB and EA: same severity, coalesced" },
        { KNOWN, 0x811, 0xc11, SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_MERGED, 0xc11, 0xbe000c11,
          "UEO pending, UER arrives: UER is worse" },
        { KNOWN, 0xc11, 0x811, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "UER pending, UEO arrives: UER is worse" },
        { KNOWN, 0x411, 0xc11, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "UEU pending, UER arrives: UEU is worse" },
        { KNOWN, 0xc11, 0x411, SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_MERGED, 0x411, 0xbe000411,
          "UER pending, UEU arrives: UEU is worse" },
        { KNOWN, 0x11, 0x1811, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "UC pending: nothing is worse" },
        { KNOWN, 0x411, 0x11, SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_MERGED, 0x11, 0xbe000011,
          "UEU pending, UC arrives: UC is the worst" },
        { KNOWN, 0x1811, 0x0, SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_MERGED, 0x0, 0xbe000000,
          "CE pending, an uncategorized SError arrives: it ranks as UC" },
        { KNOWN, 0x0, 0x11, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "uncategorized pending, UC arrives: a tie at the top" },
        { KNOWN, 0x11, 0x1000123, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "UC pending, an IMPLEMENTATION DEFINED one arrives: a tie at the top" },
        { KNOWN, 0x811, 0x1000123, SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_MERGED, 0x1000123, 0xbf000123,
          "UEO pending, IDS = 1 arrives: it ranks as UC" },
        { UNKNOWN, 0, 0x11, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "pending with KVM's own ESR (ranks as IDS = 1), UC arrives: a tie" },
        { UNKNOWN, 0, 0x1811, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "pending with KVM's own ESR, CE arrives: coalesced" },
        { KNOWN, 0x1811, 0x1a11, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "CE pending, CE with EA: same severity, coalesced" },
        { KNOWN, 0x1811, 0xc11, SERROR_MODE_DEFER, SERROR_ACTION_WAIT, SERROR_OUTCOME_DEFERRED, NO_WRITE, NO_WRITE,
          "CE pending, defer: wait until the guest took it" },
        { UNKNOWN, 0, 0xc11, SERROR_MODE_DEFER, SERROR_ACTION_WAIT, SERROR_OUTCOME_DEFERRED, NO_WRITE, NO_WRITE,
          "pending with KVM's own ESR, defer: wait as well" },
        { KNOWN, 0x1811, 0xc11, SERROR_MODE_SKIP, SERROR_ACTION_NONE, SERROR_OUTCOME_SKIPPED, NO_WRITE, NO_WRITE,
          "CE pending, skip: the worse UER is dropped all the same" },
        { KNOWN, 0x11, 0x1811, SERROR_MODE_SKIP, SERROR_ACTION_NONE, SERROR_OUTCOME_SKIPPED, NO_WRITE, NO_WRITE,
          "UC pending, skip: CE is dropped" },
        { NONE, 0, 0x1000123, SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_INJECTED, 0x1000123, 0xbf000123,
          "nothing pending: an IMPLEMENTATION DEFINED syndrome is written as asked" },
        { NONE, 0, 0x200, SERROR_MODE_DEFER, SERROR_ACTION_WRITE, SERROR_OUTCOME_INJECTED, 0x200, 0xbe000200,
          "nothing pending: uncategorized with EA is written as asked" },
        { KNOWN, 0x1000456, 0x11, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "IDS = 1 pending, UC arrives: a tie at the top keeps the pending syndrome" },
        { KNOWN, 0x1000456, 0x1000123, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE,
          NO_WRITE, "IDS = 1 pending, another IDS = 1 arrives: a tie, the first one stays" },
        { KNOWN, 0x200, 0xc11, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "uncategorized with EA pending, UER arrives: uncategorized ranks as UC" },
        { KNOWN, 0x811, 0x2811, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "UEO pending, UEO with IESB: IESB does not change the severity" },
        { KNOWN, 0x2811, 0x1811, SERROR_MODE_DEFER, SERROR_ACTION_WAIT, SERROR_OUTCOME_DEFERRED, NO_WRITE, NO_WRITE,
          "UEO pending, defer: even a milder CE waits its turn" },
        { UNKNOWN, 0, 0x1000123, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "pending with KVM's own ESR, IDS = 1 arrives: a tie at the top" },
        { UNKNOWN, 0, 0x0, SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED, NO_WRITE, NO_WRITE,
          "pending with KVM's own ESR, uncategorized arrives: a tie at the top" },
        { UNKNOWN, 0, 0x11, SERROR_MODE_SKIP, SERROR_ACTION_NONE, SERROR_OUTCOME_SKIPPED, NO_WRITE, NO_WRITE,
          "pending with KVM's own ESR, skip: UC is dropped" },
};

int main(void) {
        tap_plan(ELEMENTSOF(rows));
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const struct row *r = &rows[i];
                serror_syndrome pending = {}, incoming = {};
                serror_decision d = {};
                serror_diag diag = {};
                bool ok = true;

                if (r->pending == KNOWN)
                        ok &= serror_syndrome_from_iss(r->pending_iss, SERROR_ALLOW_IDS, &pending, &diag) == 0;
                ok &= serror_syndrome_from_iss(r->incoming_iss, SERROR_ALLOW_IDS, &incoming, &diag) == 0;
                ok &= serror_decide(r->pending == NONE    ? SERROR_PENDING_NONE :
                                    r->pending == KNOWN   ? SERROR_PENDING_KNOWN :
                                                            SERROR_PENDING_UNKNOWN,
                                    r->pending == KNOWN ? &pending : NULL, &incoming, r->mode, &d) == 0;
                ok &= d.action == r->action && d.outcome == r->outcome;
                if (r->action == SERROR_ACTION_WRITE)
                        ok &= serror_syndrome_iss(&d.write) == r->written_iss &&
                              serror_syndrome_esr(&d.write) == r->written_esr;
                if (!tap_ok(ok, "%s: %s, outcome %s%s", r->why, serror_mode_to_string(r->mode),
                            serror_outcome_to_string(r->outcome), r->action == SERROR_ACTION_WRITE ? ", written" : ""))
                        tap_diag("got outcome %s, %s ISS 0x%" PRIx32 "; want %s ISS 0x%" PRIx32 " (ESR 0x%" PRIx32 ")",
                                 serror_outcome_to_string(d.outcome) ?: "?",
                                 d.action == SERROR_ACTION_WRITE ? "writing" : "not writing",
                                 serror_syndrome_iss(&d.write),
                                 r->action == SERROR_ACTION_WRITE ? "writing" : "not writing",
                                 r->written_iss, r->written_esr);
        }
        return tap_done();
}
