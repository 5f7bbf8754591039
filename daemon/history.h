/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bounded history of injection outcomes: a ring buffer, allocated on first use. */
#pragma once

#include <stdbool.h>

#include "injection.h"

/* The bounded history (ring buffer). */
typedef struct History {
        InjectionRecord *records;
        unsigned size;  /* capacity */
        unsigned count; /* valid records, at most size */
        unsigned next;  /* where the next record goes */
} History;

int history_init(History *h, unsigned size);
void history_done(History *h);
void history_add(History *h, const InjectionRecord *r);
/* The record with this id, if the history still has it. */
InjectionRecord *history_find(History *h, uint64_t id);
/* Replace the record with r's id, if the history still has it. */
bool history_update(History *h, const InjectionRecord *r);
/* i-th oldest record, 0 <= i < count. */
const InjectionRecord *history_get(const History *h, unsigned i);
