/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stop_when: distinct VMs with a counted fate in a sliding window, or a guest that never took its SError. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stop.h"

void policy_stop_state_clear(PolicyStopState *s) {
        for (size_t i = 0; i < s->n_hits; i++)
                free(s->hits[i].vm);
        free(s->hits);
        *s = (PolicyStopState) {};
}

uint64_t policy_stop_threshold(const PolicyStopWhen *w, size_t n_target_vms) {
        double n;

        if (w->vms)
                return w->vms;
        if (w->fraction <= 0)
                return 0;
        n = ceil(w->fraction * (double) n_target_vms - 1e-9);
        return n < 1 ? 1 : (uint64_t) n;
}

uint64_t policy_stop_window_usec(const PolicyStopWhen *w) {
        if (!w->enabled || w->not_taken_usec == 0)
                return 0;
        /* Long enough to see the limit pass; never shorter than the default. */
        return w->not_taken_usec > REACTION_WINDOW_DEFAULT_USEC ? w->not_taken_usec : REACTION_WINDOW_DEFAULT_USEC;
}

static void drop_old(const PolicyStopWhen *w, PolicyStopState *s, uint64_t now_usec) {
        size_t k = 0;

        if (w->within_usec == 0)
                return;
        for (size_t i = 0; i < s->n_hits; i++) {
                if (now_usec - s->hits[i].at_usec > w->within_usec) {
                        free(s->hits[i].vm);
                        continue;
                }
                s->hits[k++] = s->hits[i];
        }
        s->n_hits = k;
}

static int add_hit(PolicyStopState *s, const PolicyReaction *r, uint64_t now_usec) {
        for (size_t i = 0; i < s->n_hits; i++)
                if (strcmp(s->hits[i].vm, r->vm) == 0) {
                        s->hits[i].fate = r->fate;
                        s->hits[i].at_usec = now_usec;
                        return 0;
                }
        if (s->n_hits == s->n_allocated) {
                size_t n = s->n_allocated ? s->n_allocated * 2 : 8;
                PolicyStopHit *h = reallocarray(s->hits, n, sizeof(*h));

                if (!h)
                        return -ENOMEM;
                s->hits = h;
                s->n_allocated = n;
        }
        s->hits[s->n_hits].vm = strdup(r->vm);
        if (!s->hits[s->n_hits].vm)
                return -ENOMEM;
        s->hits[s->n_hits].fate = r->fate;
        s->hits[s->n_hits].at_usec = now_usec;
        s->n_hits++;
        return 0;
}

/* "reset, vmm-exited": the fates the hits had, each once. */
static void hit_fates(const PolicyStopState *s, char *buf, size_t size) {
        uint32_t seen = 0;
        size_t used = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < s->n_hits && used < size; i++) {
                if (seen & (1u << s->hits[i].fate))
                        continue;
                seen |= 1u << s->hits[i].fate;
                used += (size_t) snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                                          fate_to_string(s->hits[i].fate));
        }
}

int policy_stop_feed(const PolicyStopWhen *w, PolicyStopState *s, const PolicyReaction *r, uint64_t now_usec,
                     size_t n_target_vms, char *reason, size_t size) {
        uint64_t threshold = policy_stop_threshold(w, n_target_vms);
        char within[48] = "", fates[96];
        int k;

        if (!w->enabled)
                return 0;

        /* A guest that kept the SError pending: only where taking it can be seen at all. */
        if (w->not_taken_usec && r->taken_observable &&
            ((r->taken_after_usec == REACTION_USEC_NONE && r->fate == FATE_RUNNING &&
              r->window_usec >= w->not_taken_usec) ||
             (r->taken_after_usec != REACTION_USEC_NONE && r->taken_after_usec > w->not_taken_usec))) {
                policy_format_duration(w->not_taken_usec, within, sizeof(within));
                snprintf(reason, size, "%s left an SError pending for longer than %s (stop_when.not_taken_for)",
                         r->vm, within);
                return 1;
        }

        if (threshold == 0)
                return 0;
        drop_old(w, s, now_usec);
        if (!(w->fates & (1u << r->fate)))
                return 0;
        k = add_hit(s, r, now_usec);
        if (k < 0)
                return k;
        if (s->n_hits < threshold)
                return 0;
        if (w->within_usec) {
                char d[32];

                policy_format_duration(w->within_usec, d, sizeof(d));
                snprintf(within, sizeof(within), " within %s", d);
        }
        hit_fates(s, fates, sizeof(fates));
        snprintf(reason, size, "%zu VM%s had %s%s, the last %s (%s); stop_when %s %" PRIu64, s->n_hits,
                 s->n_hits == 1 ? "" : "s", fates, within, r->vm, fate_to_string(r->fate),
                 w->vms ? "vms" : "fraction of targets:", threshold);
        return 1;
}
