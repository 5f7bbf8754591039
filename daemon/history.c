/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bounded history of injection outcomes. */
#include <stdlib.h>

#include "history.h"
#include "log.h"

int history_init(History *h, unsigned size) {
        *h = (History) { .size = size };
        /* Allocated on first use: an idle daemon does not pay for it. */
        return 0;
}

void history_done(History *h) {
        free(h->records);
        *h = (History) {};
}

void history_add(History *h, const InjectionRecord *r) {
        if (h->size == 0)
                return;
        if (!h->records) {
                h->records = calloc(h->size, sizeof(InjectionRecord));
                if (!h->records) {
                        log_oom();
                        return;
                }
        }
        h->records[h->next] = *r;
        h->next = (h->next + 1) % h->size;
        if (h->count < h->size)
                h->count++;
}

const InjectionRecord *history_get(const History *h, unsigned i) {
        unsigned oldest;

        /* Before the arithmetic: a history of size 0 is always empty. */
        if (i >= h->count)
                return NULL;
        oldest = (h->next + h->size - h->count) % h->size;
        return &h->records[(oldest + i) % h->size];
}

InjectionRecord *history_find(History *h, uint64_t id) {
        /* Newest first: a reaction ends within minutes of its outcome. */
        for (unsigned k = h->count; k > 0; k--) {
                InjectionRecord *rec = (InjectionRecord *) history_get(h, k - 1);

                if (rec->id == id)
                        return rec;
        }
        return NULL;
}

bool history_update(History *h, const InjectionRecord *r) {
        InjectionRecord *rec = history_find(h, r->id);

        if (!rec)
                return false;
        *rec = *r;
        return true;
}
