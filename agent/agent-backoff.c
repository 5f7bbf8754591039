/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-agent's timing arithmetic: reconnect backoff, deadlines, kick schedules. */
#include "agent-backoff.h"

void agent_backoff_reset(AgentBackoff *b) {
        b->next_ns = AGENT_BACKOFF_MIN_NS;
}

uint64_t agent_backoff_next(AgentBackoff *b) {
        uint64_t delay = b->next_ns;

        if (delay < AGENT_BACKOFF_MIN_NS)
                delay = AGENT_BACKOFF_MIN_NS;
        if (delay > AGENT_BACKOFF_MAX_NS)
                delay = AGENT_BACKOFF_MAX_NS;
        b->next_ns = delay >= AGENT_BACKOFF_MAX_NS / 2 ? AGENT_BACKOFF_MAX_NS : delay * 2;
        return delay;
}

uint64_t agent_time_add(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t agent_time_earliest(uint64_t a, uint64_t b) {
        if (a == AGENT_TIME_NONE)
                return b;
        if (b == AGENT_TIME_NONE)
                return a;
        return a < b ? a : b;
}

uint64_t agent_kick_due(uint64_t last_kick_ns, uint64_t period_ns) {
        /* Never kicked: due at once. 1 rather than 0, because 0 means "none". */
        if (last_kick_ns == 0)
                return 1;
        return agent_time_add(last_kick_ns, period_ns);
}

uint64_t agent_kick_backoff(uint64_t base_ns, unsigned kicks, uint64_t cap_ns) {
        uint64_t gap = base_ns;

        for (unsigned i = 1; i < kicks && gap < cap_ns; i++)
                gap = gap > cap_ns / 2 ? cap_ns : gap * 2;
        return gap < cap_ns ? gap : cap_ns;
}

void agent_timespec_from_ns(uint64_t ns, struct timespec *ret) {
        ret->tv_sec = (time_t) (ns / AGENT_NSEC_PER_SEC);
        ret->tv_nsec = (long) (ns % AGENT_NSEC_PER_SEC);
}

uint64_t agent_timespec_to_ns(const struct timespec *ts) {
        if (ts->tv_sec < 0 || ts->tv_nsec < 0)
                return 0;
        if ((uint64_t) ts->tv_sec > (UINT64_MAX - (uint64_t) ts->tv_nsec) / AGENT_NSEC_PER_SEC)
                return UINT64_MAX;
        return (uint64_t) ts->tv_sec * AGENT_NSEC_PER_SEC + (uint64_t) ts->tv_nsec;
}
