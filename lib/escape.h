/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text from peers and callers made safe for logs and error messages. */
#pragma once

#include <stddef.h>

/* Room escape_text() needs for n input bytes at most, with its NUL. */
#define ESCAPE_SIZE(n) (4 * (n) + 4)

/*
 * Copies s (NUL-terminated) into buf as printable ASCII: every byte outside 0x20..0x7E, and
 * the backslash itself, becomes \xNN, so that a terminal escape or a newline
 * from a peer cannot reach a log reader's terminal or split a log line.
 * Reads at most max_in bytes of s; when s is longer, or buf fills up, the
 * copy ends in "...". Returns buf, always NUL-terminated (size > 4).
 */
const char *escape_text(const char *s, size_t max_in, char *buf, size_t size);
