/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the bounded history: order, wrap-around, updates, a zero size, no allocation until used. */
#include "history.h"
#include "tap.h"

static InjectionRecord record(uint64_t id) {
        return (InjectionRecord) { .id = id, .outcome = SERROR_OUTCOME_INJECTED };
}

int main(void) {
        History h;
        bool ok = true;

        tap_ok(history_init(&h, 3) == 0 && h.records == NULL && h.count == 0,
               "a new history holds nothing and has allocated nothing");
        tap_ok(history_get(&h, 0) == NULL, "an empty history has no record 0");

        for (uint64_t id = 1; id <= 2; id++) {
                InjectionRecord r = record(id);
                history_add(&h, &r);
        }
        tap_ok(h.count == 2 && history_get(&h, 0)->id == 1 && history_get(&h, 1)->id == 2 && !history_get(&h, 2),
               "two records, oldest first");

        for (uint64_t id = 3; id <= 7; id++) {
                InjectionRecord r = record(id);
                history_add(&h, &r);
        }
        for (unsigned i = 0; i < 3; i++)
                ok = ok && history_get(&h, i) && history_get(&h, i)->id == 5 + i;
        tap_ok(h.count == 3 && ok && !history_get(&h, 3), "after 7 records a size-3 history keeps 5, 6, 7 in order");
        {
                /* A reaction ends after its outcome was kept: the record is replaced where it is. */
                InjectionRecord r = record(6);
                r.reaction.state = REACTION_DONE;
                r.reaction.fate = FATE_RESET;
                tap_ok(history_update(&h, &r) && history_get(&h, 1)->reaction.fate == FATE_RESET &&
                               history_get(&h, 1)->reaction.state == REACTION_DONE && history_get(&h, 0)->id == 5 &&
                               history_get(&h, 2)->id == 7 && h.count == 3,
                       "update replaces record 6 in place, leaving the order and the others alone");
                r = record(2);
                tap_ok(!history_update(&h, &r) && h.count == 3 && history_get(&h, 0)->id == 5,
                       "update of a record the history no longer holds changes nothing");
        }
        history_done(&h);
        tap_ok(h.records == NULL && h.count == 0 && h.size == 0, "done frees and clears it");

        tap_ok(history_init(&h, 0) == 0, "a history of size 0 (History Size=0)");
        {
                InjectionRecord r = record(1);
                history_add(&h, &r);
        }
        tap_ok(h.count == 0 && h.records == NULL && history_get(&h, 0) == NULL,
               "keeps nothing, allocates nothing, and has no record 0 (no division by its size)");
        history_done(&h);
        return tap_done();
}
