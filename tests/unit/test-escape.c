/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* escape_text: what a peer's text becomes in a log line or an error message. */
#include <string.h>

#include "escape.h"
#include "tap.h"

static void check(const char *in, size_t max_in, size_t size, const char *want, const char *what) {
        char buf[256];
        const char *got = escape_text(in, max_in, buf, size);

        tap_ok(got == buf && strcmp(got, want) == 0, "%s: got \"%s\", want \"%s\"", what, got, want);
}

int main(void) {
        tap_plan(9);
        check("qemu-system-aar", 64, 64, "qemu-system-aar", "printable text is kept");
        check("evil\033[31m", 64, 64, "evil\\x1b[31m", "a terminal escape becomes \\x1b");
        check("a\nb\tc", 64, 64, "a\\x0ab\\x09c", "newline and tab are escaped: one log line stays one");
        check("back\\slash", 64, 64, "back\\x5cslash", "the backslash itself is escaped, so escapes are unambiguous");
        check("caf\xc3\xa9", 64, 64, "caf\\xc3\\xa9", "bytes above 0x7e are escaped");
        check("abcdefghij", 4, 64, "abcd...", "input longer than max_in is cut, and says so");
        check("abcd", 4, 64, "abcd", "input of exactly max_in is whole");
        check("abcdefghij", 64, 8, "abcd...", "a small buffer cuts, and says so");
        check(NULL, 64, 64, "(null)", "NULL prints as (null)");
        return tap_done();
}
