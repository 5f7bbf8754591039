/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guard arithmetic: a token bucket for the rate, a per-vcpu gap and a severity cap. No I/O. */
#include "guards.h"

void guards_init(Guards *g, const GuardConfig *config) {
        *g = (Guards) { .config = *config };
        g->tokens = config->rate_burst > 0 ? config->rate_burst : 1;
}

GuardVerdict guards_check_all(Guards *g, const serror_syndrome *syndrome, const uint64_t *last_usec, unsigned n,
                              uint64_t now_usec, unsigned *ret_index) {
        return guards_check_severity(g, syndrome ? serror_syndrome_severity(syndrome) : SERROR_SEVERITY_UC, last_usec,
                                     n, now_usec, ret_index);
}

GuardVerdict guards_check_severity(Guards *g, int severity, const uint64_t *last_usec, unsigned n, uint64_t now_usec,
                                   unsigned *ret_index) {
        const GuardConfig *c = &g->config;
        double capacity = c->rate_burst > 0 ? c->rate_burst : 1;

        if (ret_index)
                *ret_index = 0;
        if (severity > c->max_severity) {
                g->refused_severity++;
                return GUARD_SEVERITY;
        }
        for (unsigned k = 0; k < n; k++)
                if (c->min_gap_usec > 0 && last_usec[k] > 0 && now_usec - last_usec[k] < c->min_gap_usec) {
                        if (ret_index)
                                *ret_index = k;
                        g->refused_gap++;
                        return GUARD_GAP;
                }
        if (c->rate_limit > 0) {
                if (g->refill_usec > 0 && now_usec > g->refill_usec) {
                        g->tokens += (double) (now_usec - g->refill_usec) / 1e6 * c->rate_limit;
                        if (g->tokens > capacity)
                                g->tokens = capacity;
                }
                g->refill_usec = now_usec;
                /* All of them or none: a call is not cut short halfway. */
                if (g->tokens < (double) n) {
                        g->refused_rate++;
                        return GUARD_RATE;
                }
                g->tokens -= (double) n;
        }
        return GUARD_PASS;
}

GuardVerdict guards_check(Guards *g, const serror_syndrome *syndrome, uint64_t last_usec, uint64_t now_usec) {
        return guards_check_all(g, syndrome, &last_usec, 1, now_usec, NULL);
}

const char *guard_verdict_describe(GuardVerdict v) {
        switch (v) {
        case GUARD_RATE:
                return "the daemon-wide rate limit ([Guards] RateLimit=)";
        case GUARD_GAP:
                return "the minimum gap between SErrors to one vcpu ([Guards] MinGap=)";
        case GUARD_SEVERITY:
                return "the severity cap ([Guards] MaxSeverity=)";
        default:
                return "no guard";
        }
}
