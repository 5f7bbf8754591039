/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fates and their words: pure, so that serrord, serrorctl and the unit tests read them alike. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "reaction.h"

static const char *const state_names[_REACTION_STATE_MAX] = {
        [REACTION_NONE] = "none",
        [REACTION_WATCHING] = "watching",
        [REACTION_DONE] = "done",
};

static const char *const fate_names[_FATE_MAX] = {
        [FATE_RUNNING] = "running",
        [FATE_RESET] = "reset",
        [FATE_SHUTDOWN] = "shutdown",
        [FATE_CRASH] = "crash",
        [FATE_SYSTEM_EVENT] = "system-event",
        [FATE_TRIPLE_FAULT] = "triple-fault",
        [FATE_INTERNAL_ERROR] = "internal-error",
        [FATE_VMM_EXITED] = "vmm-exited",
        [FATE_DETACHED] = "detached",
        [FATE_UNKNOWN] = "unknown",
};

static const char *const fate_sentences[_FATE_MAX] = {
        [FATE_RUNNING] = "the VM kept running",
        [FATE_RESET] = "the VM reset",
        [FATE_SHUTDOWN] = "the VM shut down",
        [FATE_CRASH] = "the guest reported a crash",
        [FATE_SYSTEM_EVENT] = "the VM stopped with a system event",
        [FATE_TRIPLE_FAULT] = "the vcpu triple-faulted",
        [FATE_INTERNAL_ERROR] = "KVM stopped the vcpu with an internal error",
        [FATE_VMM_EXITED] = "the VMM exited",
        [FATE_DETACHED] = "the VMM detached",
        [FATE_UNKNOWN] = "serrord lost sight of the VM",
};

static int lookup(const char *const *table, unsigned n, const char *s) {
        if (!s)
                return -EINVAL;
        for (unsigned i = 0; i < n; i++)
                if (table[i] && strcmp(table[i], s) == 0)
                        return (int) i;
        return -EINVAL;
}

const char *reaction_state_to_string(ReactionState s) {
        return (unsigned) s < _REACTION_STATE_MAX ? state_names[s] : NULL;
}

int reaction_state_from_string(const char *s, ReactionState *ret) {
        int i = lookup(state_names, _REACTION_STATE_MAX, s);

        if (i < 0)
                return i;
        *ret = (ReactionState) i;
        return 0;
}

const char *fate_to_string(Fate f) {
        return (unsigned) f < _FATE_MAX ? fate_names[f] : NULL;
}

int fate_from_string(const char *s, Fate *ret) {
        int i = lookup(fate_names, _FATE_MAX, s);

        if (i < 0)
                return i;
        *ret = (Fate) i;
        return 0;
}

const char *fate_describe(Fate f) {
        return (unsigned) f < _FATE_MAX ? fate_sentences[f] : NULL;
}

int fate_from_kvm_exit(uint32_t exit_reason, uint32_t event_type, Fate *ret) {
        Fate f;

        if (!reaction_exit_is_reported(exit_reason, event_type))
                return -ENOENT;
        switch (exit_reason) {
        case REACTION_KVM_EXIT_SYSTEM_EVENT:
                f = event_type == REACTION_KVM_SYSTEM_EVENT_RESET    ? FATE_RESET :
                    event_type == REACTION_KVM_SYSTEM_EVENT_SHUTDOWN ? FATE_SHUTDOWN :
                    event_type == REACTION_KVM_SYSTEM_EVENT_CRASH    ? FATE_CRASH :
                                                                       FATE_SYSTEM_EVENT;
                break;
        case REACTION_KVM_EXIT_SHUTDOWN:
                f = FATE_TRIPLE_FAULT;
                break;
        default:
                f = FATE_INTERNAL_ERROR;
        }
        *ret = f;
        return 0;
}

void reaction_format_duration(uint64_t usec, char *buf, size_t size) {
        if (usec < 1000)
                snprintf(buf, size, "%" PRIu64 " us", usec);
        else if (usec < 10000)
                snprintf(buf, size, "%.1f ms", (double) usec / 1e3);
        else if (usec < 1000000)
                snprintf(buf, size, "%" PRIu64 " ms", (usec + 500) / 1000);
        else if (usec < 60000000)
                snprintf(buf, size, "%.2f s", (double) usec / 1e6);
        else
                snprintf(buf, size, "%" PRIu64 " s", (usec + 500000) / 1000000);
}

void reaction_format(const Reaction *r, char *buf, size_t size) {
        char taken[32], after[32], window[32];
        const char *what = fate_describe(r->fate) ?: "?";

        if (r->state == REACTION_NONE) {
                snprintf(buf, size, "no SError reached the guest: nothing to watch");
                return;
        }
        reaction_format_duration(r->window_usec, window, sizeof(window));
        if (r->taken_after_usec != REACTION_USEC_NONE) {
                reaction_format_duration(r->taken_after_usec, taken, sizeof(taken));
                if (r->state == REACTION_WATCHING)
                        snprintf(buf, size, "the guest took it after %s; still watching", taken);
                else if (r->fate == FATE_RUNNING)
                        snprintf(buf, size, "the guest took it after %s; %s for %s", taken, what, window);
                else {
                        /* The fate is timed from the request; "later" reads from the take. */
                        reaction_format_duration(r->fate_after_usec >= r->taken_after_usec ?
                                                         r->fate_after_usec - r->taken_after_usec : 0,
                                                 after, sizeof(after));
                        snprintf(buf, size, "the guest took it after %s; %s %s later", taken, what, after);
                }
                return;
        }
        if (!r->taken_watched) {
                if (r->state == REACTION_WATCHING)
                        snprintf(buf, size, "still watching");
                else if (r->fate == FATE_RUNNING)
                        snprintf(buf, size, "%s for %s", what, window);
                else {
                        reaction_format_duration(r->fate_after_usec, after, sizeof(after));
                        snprintf(buf, size, "%s %s after the request", what, after);
                }
                return;
        }
        if (r->state == REACTION_WATCHING)
                snprintf(buf, size, "the guest has not taken it yet; still watching");
        else if (r->fate == FATE_RUNNING)
                snprintf(buf, size, "the guest did not take it within %s; %s", window, what);
        else {
                reaction_format_duration(r->fate_after_usec, after, sizeof(after));
                snprintf(buf, size, "not seen taken; %s %s after the request", what, after);
        }
}
