/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the text forms' parsers share: ASCII case and blank rules (not the locale's), slices of the caller's text, and diag messages. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "macro.h"
#include "serror/syndrome.h"

/* ASCII folding, not the locale's: in tr_TR "I" does not fold to "i", and
 * many of the words (iesb, iss, impdef, ripv, mcip, misc) have one. */
static inline char ascii_tolower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static inline bool ascii_isspace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static inline bool ascii_isdigit(char c) {
        return c >= '0' && c <= '9';
}

static inline bool ascii_caseeq(const char *a, const char *b) {
        for (; *a && *b; a++, b++)
                if (ascii_tolower(*a) != ascii_tolower(*b))
                        return false;
        return *a == *b;
}

/* A piece of the caller's text: not NUL-terminated. */
typedef struct TextSlice {
        const char *start;
        size_t length;
} TextSlice;

static inline TextSlice slice_trim(TextSlice s) {
        while (s.length > 0 && ascii_isspace(s.start[0])) {
                s.start++;
                s.length--;
        }
        while (s.length > 0 && ascii_isspace(s.start[s.length - 1]))
                s.length--;
        return s;
}

/* Compares with a lower-case word. */
/* How much of s a message quotes ("%.*s"): at most max bytes. */
static inline int slice_quote_length(TextSlice s, size_t max) {
        return (int) (s.length < max ? s.length : max);
}

static inline bool slice_is(TextSlice s, const char *word) {
        size_t i;

        for (i = 0; i < s.length; i++)
                if (word[i] == '\0' || ascii_tolower(s.start[i]) != word[i])
                        return false;
        return word[i] == '\0';
}

/* Say what was wrong in diag (when given) and return error. */
_printf_(3, 4) static inline int diag_fail(serror_diag *diag, int error, const char *format, ...) {
        va_list ap;

        if (diag) {
                va_start(ap, format);
                (void) vsnprintf(diag->message, sizeof(diag->message), format, ap);
                va_end(ap);
        }
        return error;
}
