/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fates: their names, which KVM exits mean which, and the sentences serrord and serrorctl print. */
#include <errno.h>
#include <string.h>

#include "reaction.h"
#include "tap.h"

static void check_exit(uint32_t reason, uint32_t type, int want_r, Fate want, const char *what) {
        Fate f = _FATE_MAX;
        int r = fate_from_kvm_exit(reason, type, &f);

        tap_ok(r == want_r && (r < 0 ? f == _FATE_MAX : f == want), "%s: r=%d, fate %s", what, r,
               r < 0 ? "untouched" : fate_to_string(f));
}

static void check_text_watched(bool watched, ReactionState state, uint64_t taken, Fate fate, uint64_t after,
                               uint64_t window, const char *want) {
        Reaction r = { .state = state, .taken_watched = watched, .window_usec = window, .taken_after_usec = taken,
                       .fate = fate, .fate_after_usec = after };
        char buf[160];

        reaction_format(&r, buf, sizeof(buf));
        tap_ok(strcmp(buf, want) == 0, "\"%s\" (want \"%s\")", buf, want);
}

static void check_text(ReactionState state, uint64_t taken, Fate fate, uint64_t after, uint64_t window,
                       const char *want) {
        check_text_watched(true, state, taken, fate, after, window, want);
}

static void check_duration(uint64_t usec, const char *want) {
        char buf[32];

        reaction_format_duration(usec, buf, sizeof(buf));
        tap_ok(strcmp(buf, want) == 0, "%llu us reads \"%s\" (want \"%s\")", (unsigned long long) usec, buf, want);
}

int main(void) {
        bool names_ok = true;
        Fate f;
        ReactionState s;

        for (unsigned i = 0; i < _FATE_MAX; i++)
                names_ok = names_ok && fate_to_string((Fate) i) && fate_describe((Fate) i) &&
                           fate_from_string(fate_to_string((Fate) i), &f) == 0 && f == (Fate) i;
        tap_ok(names_ok, "every fate has a name and a sentence, and its name parses back to it");
        tap_ok(!fate_to_string(_FATE_MAX) && !fate_describe((Fate) -1) && fate_from_string("rebooted", &f) == -EINVAL &&
                       fate_from_string(NULL, &f) == -EINVAL,
               "no name past the table; unknown and NULL names are -EINVAL");
        tap_ok(strcmp(fate_to_string(FATE_VMM_EXITED), "vmm-exited") == 0 &&
                       strcmp(fate_to_string(FATE_RUNNING), "running") == 0,
               "the names the bus and the journal carry");
        tap_ok(reaction_state_from_string("watching", &s) == 0 && s == REACTION_WATCHING &&
                       strcmp(reaction_state_to_string(REACTION_DONE), "done") == 0 &&
                       reaction_state_from_string("over", &s) == -EINVAL && !reaction_state_to_string(_REACTION_STATE_MAX),
               "reaction states: none, watching, done");

        /* include/uapi/linux/kvm.h: SHUTDOWN 8, FAIL_ENTRY 9, INTERNAL_ERROR 17, SYSTEM_EVENT 24. */
        check_exit(24, 2, 0, FATE_RESET, "a PSCI SYSTEM_RESET (system event 2) is a reset");
        check_exit(24, 1, 0, FATE_SHUTDOWN, "a PSCI SYSTEM_OFF (system event 1) is a shutdown");
        check_exit(24, 3, 0, FATE_CRASH, "system event 3 is a crash");
        check_exit(24, 5, 0, FATE_SYSTEM_EVENT, "a SUSPEND (5) is some other system event");
        check_exit(24, 4, -ENOENT, 0, "a WAKEUP (4) ends nothing");
        check_exit(8, 0, 0, FATE_TRIPLE_FAULT, "KVM_EXIT_SHUTDOWN is x86's triple fault");
        check_exit(17, 0, 0, FATE_INTERNAL_ERROR, "KVM_EXIT_INTERNAL_ERROR");
        check_exit(9, 0, 0, FATE_INTERNAL_ERROR, "KVM_EXIT_FAIL_ENTRY");
        check_exit(6, 0, -ENOENT, 0, "an MMIO exit (6) ends nothing");
        check_exit(2, 0, -ENOENT, 0, "an I/O exit (2) ends nothing");
        tap_ok(reaction_exit_is_reported(24, 2) && !reaction_exit_is_reported(24, 4) && !reaction_exit_is_reported(6, 0),
               "the agent reports exactly the exits that map to a fate");

        check_duration(0, "0 us");
        check_duration(999, "999 us");
        check_duration(2100, "2.1 ms");
        check_duration(140000, "140 ms");
        check_duration(1250000, "1.25 s");
        check_duration(600000000, "600 s");

        check_text(REACTION_DONE, 2100, FATE_RESET, 142100, 10000000, "the guest took it after 2.1 ms; the VM reset 140 ms later");
        check_text(REACTION_DONE, 800, FATE_RUNNING, 10000000, 10000000,
                   "the guest took it after 800 us; the VM kept running for 10.00 s");
        check_text(REACTION_DONE, REACTION_USEC_NONE, FATE_RUNNING, 1000000, 1000000,
                   "the guest did not take it within 1.00 s; the VM kept running");
        check_text(REACTION_DONE, REACTION_USEC_NONE, FATE_VMM_EXITED, 300000, 10000000,
                   "not seen taken; the VMM exited 300 ms after the request");
        check_text(REACTION_DONE, 5000, FATE_VMM_EXITED, 1000, 10000000,
                   "the guest took it after 5.0 ms; the VMM exited 0 us later");
        check_text(REACTION_WATCHING, 1500, FATE_UNKNOWN, REACTION_USEC_NONE, 10000000,
                   "the guest took it after 1.5 ms; still watching");
        check_text(REACTION_NONE, REACTION_USEC_NONE, FATE_UNKNOWN, REACTION_USEC_NONE, 10000000,
                   "no SError reached the guest: nothing to watch");
        /* A machine check, or an agent without the vcpu-thread path: taking is not watched. */
        check_text_watched(false, REACTION_DONE, REACTION_USEC_NONE, FATE_RUNNING, 10000000, 10000000,
                           "the VM kept running for 10.00 s");
        check_text_watched(false, REACTION_DONE, REACTION_USEC_NONE, FATE_TRIPLE_FAULT, 2500, 10000000,
                           "the vcpu triple-faulted 2.5 ms after the request");
        check_text_watched(false, REACTION_WATCHING, REACTION_USEC_NONE, FATE_UNKNOWN, REACTION_USEC_NONE, 10000000,
                           "still watching");
        return tap_done();
}
