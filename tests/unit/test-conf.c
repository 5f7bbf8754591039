/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the INI parser behind serrord.conf. */
#include <errno.h>
#include <string.h>

#include "conf.h"
#include "tap.h"

typedef struct Seen {
        char items[8][128];
        unsigned n;
} Seen;

static int record(const char *section, const char *key, const char *value, void *userdata, serror_diag *diag) {
        Seen *s = userdata;

        if (streq(key, "Refuse")) {
                snprintf(diag->message, sizeof(diag->message), "value '%s' refused", value);
                return -EINVAL;
        }
        if (s->n < ELEMENTSOF(s->items))
                snprintf(s->items[s->n++], sizeof(s->items[0]), "%s/%s=%s", section, key, value);
        return 0;
}

static void check_ok(const char *text, unsigned n, const char *const *want) {
        Seen seen = {};
        serror_diag diag = {};
        int r = conf_parse(text, strlen(text), record, &seen, &diag);
        bool same = r == 0 && seen.n == n;

        for (unsigned i = 0; same && i < n; i++)
                same = streq(seen.items[i], want[i]);
        if (!tap_ok(same, "parses %u assignment(s) from %.30s...", n, text))
                tap_diag("r=%d n=%u diag=%s first=%s", r, seen.n, diag.message, seen.n ? seen.items[0] : "");
}

static void check_error(const char *text, const char *want_in_message) {
        Seen seen = {};
        serror_diag diag = {};
        int r = conf_parse(text, strlen(text), record, &seen, &diag);

        if (!tap_ok(r == -EINVAL && strstr(diag.message, want_in_message), "refuses %.30s: \"%s\"", text, diag.message))
                tap_diag("r=%d, wanted message containing '%s'", r, want_in_message);
}

int main(void) {
        check_ok("[Daemon]\nLogLevel=debug\n", 1, (const char *[]) { "Daemon/LogLevel=debug" });
        check_ok("# comment\n; other comment\n\n  [ Daemon ]  \n  Key =  spaced value  \r\nB=\n", 2,
                 (const char *[]) { "Daemon/Key=spaced value", "Daemon/B=" });
        check_ok("[A]\nx=1\n[B]\nx=2", 2, (const char *[]) { "A/x=1", "B/x=2" });
        check_ok("", 0, NULL);
        check_ok("[A]\nv=a=b\n", 1, (const char *[]) { "A/v=a=b" });

        check_error("Key=1\n", "line 1: 'Key=' appears before any [Section]");
        check_error("[Daemon]\nnovalue\n", "line 2: expected Key=Value");
        check_error("[Daemon\n", "line 1: malformed section header");
        check_error("[Da mon]\n", "line 1: invalid section name");
        check_error("[D]\nbad key=1\n", "line 2: invalid key name");
        check_error("[D]\n\n\nRefuse=x\n", "line 4: [D] Refuse=: value 'x' refused");

        {
                char big[5000];
                serror_diag diag = {};
                Seen seen = {};
                memset(big, 'a', sizeof(big));
                memcpy(big, "[A]\nk=", 6);
                tap_ok(conf_parse(big, sizeof(big), record, &seen, &diag) == -EINVAL &&
                               strstr(diag.message, "line 2: longer than"),
                       "an over-long line is refused: %s", diag.message);
        }
        {
                const char text[] = "[A]\nk=v\0x\n";
                serror_diag diag = {};
                Seen seen = {};
                tap_ok(conf_parse(text, sizeof(text) - 1, record, &seen, &diag) == -EINVAL &&
                               strstr(diag.message, "NUL"),
                       "a NUL byte is refused: %s", diag.message);
        }
        return tap_done();
}
