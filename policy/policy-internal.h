/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal helpers shared by policy/policy*.c: error lists, JSON paths, text positions, times and durations. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "policy.h"

/* Longest piece of user text quoted back in a message. */
#define POLICY_QUOTE_MAX 48u

/* Append an error; beyond POLICY_ERRORS_MAX it is only counted. The message
 * and path are cut to their buffers at a character boundary and any byte
 * that is not valid UTF-8 becomes '?': messages travel over D-Bus, which
 * accepts UTF-8 only. */
_printf_(5, 6) void policy_diag_add(PolicyDiag *d, unsigned line, unsigned column, const char *path,
                                    const char *format, ...);
_printf_(5, 0) void policy_diag_addv(PolicyDiag *d, unsigned line, unsigned column, const char *path,
                                     const char *format, va_list ap);

/* Replace every byte that does not belong to a valid UTF-8 sequence by '?'. */
void policy_utf8_sanitize(char *s);
/* The largest length <= max at which s (of length len) can be cut without
 * splitting a UTF-8 sequence. */
size_t policy_utf8_cut(const char *s, size_t len, size_t max);

/* JSON paths. dst has POLICY_PATH_MAX bytes; the root is "" internally and is
 * shown as ".". A key that is a plain word ([A-Za-z_][A-Za-z0-9_]*) is
 * appended as ".key", any other as ["key"] with JSON escapes, cut after
 * POLICY_QUOTE_MAX bytes with "...". Returns false when dst was too short:
 * then dst holds a path that matches nothing in the text. */
bool policy_path_key(char *dst, const char *parent, const char *key, size_t key_len);
bool policy_path_index(char *dst, const char *parent, size_t index);
/* "." for the root, the path itself otherwise. */
const char *policy_path_show(const char *path);

/* 1-based line and byte column of offset in text. */
void policy_text_position(const char *text, size_t size, size_t offset, unsigned *ret_line, unsigned *ret_column);

/* What json-c lets through but JSON (RFC 8259) does not, reported with line
 * and column: single-quoted strings, NaN and Infinity, numbers such as "1.",
 * raw control characters, \u0000 and unpaired surrogates in strings; and keys
 * given twice in one object (json-c silently keeps the last). text must be
 * something json-c accepted. */
void policy_text_check(const char *text, size_t size, PolicyDiag *d);

/* Give errors from index first on, that have a path but no line, the line
 * and column of the key or array element their path names, or of the
 * deepest enclosing one when the path does not exist in the text (a missing
 * key is reported where its object is). */
void policy_text_locate(const char *text, size_t size, PolicyDiag *d, size_t first);

/* RFC 3339 date-time ("2030-01-01T12:00:00Z", "2030-01-01t12:00:00.5+02:00")
 * to microseconds since the Unix epoch; digits after the sixth fraction digit
 * are dropped. Times before 1970 and leap seconds are refused. 0, or -EINVAL
 * with *why naming what is wrong. */
int policy_parse_rfc3339(const char *s, uint64_t *ret_usec, const char **why);
