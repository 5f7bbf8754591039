/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy error lists, JSON paths, and a walk over the policy text for line numbers and strict-JSON checks.
 *
 * Why a second walk beside json-c: json-c keeps no position per value, so a
 * semantic error ("error.mix[2].weight: ...") could not say line:column, and it
 * keeps the last of duplicate keys without a word, so {"rate": 1, "rate": 1000}
 * would run at 1000 Hz; and it accepts a few things that are not JSON (NaN,
 * single quotes, "1."). The walk finds each error's path in the text and
 * refuses those; json-c still does the parsing. */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "policy-internal.h"

/* Keys compared for duplicates per object: any object of the policy format
 * has fewer legitimate keys, and a bound keeps the check linear. */
#define DUPLICATE_KEYS_MAX 64u
/* Bytes of one key decoded for its path: only the first POLICY_QUOTE_MAX show. */
#define KEY_DECODE_MAX 256u

/* Length of the valid UTF-8 sequence at s (at most avail bytes), or 0. */
static size_t utf8_sequence_length(const unsigned char *s, size_t avail) {
        unsigned char c = s[0];
        size_t n;
        unsigned char lo = 0x80, hi = 0xbf;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2;
        else if (c >= 0xe0 && c <= 0xef) {
                n = 3;
                if (c == 0xe0)
                        lo = 0xa0; /* overlong */
                else if (c == 0xed)
                        hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 4;
                if (c == 0xf0)
                        lo = 0x90; /* overlong */
                else if (c == 0xf4)
                        hi = 0x8f; /* above U+10FFFF */
        } else
                return 0;

        if (avail < n || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        return n;
}

void policy_utf8_sanitize(char *s) {
        unsigned char *p = (unsigned char *) s;
        size_t len = strlen(s);

        for (size_t i = 0; i < len;) {
                size_t n = utf8_sequence_length(p + i, len - i);

                if (n == 0) {
                        p[i++] = '?';
                        continue;
                }
                i += n;
        }
}

size_t policy_utf8_cut(const char *s, size_t len, size_t max) {
        if (len <= max)
                return len;
        /* Step back over continuation bytes (10xxxxxx) to a sequence start. */
        while (max > 0 && ((unsigned char) s[max] & 0xc0) == 0x80)
                max--;
        return max;
}

void policy_diag_addv(PolicyDiag *d, unsigned line, unsigned column, const char *path, const char *format,
                      va_list ap) {
        PolicyError *e;

        if (!d)
                return;
        if (d->n_errors >= POLICY_ERRORS_MAX) {
                d->n_dropped++;
                return;
        }

        e = &d->errors[d->n_errors++];
        *e = (PolicyError) { .line = line, .column = column };
        (void) snprintf(e->path, sizeof(e->path), "%s", path ?: "");
        (void) vsnprintf(e->message, sizeof(e->message), format, ap);
        policy_utf8_sanitize(e->path);
        policy_utf8_sanitize(e->message);
}

void policy_diag_add(PolicyDiag *d, unsigned line, unsigned column, const char *path, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        policy_diag_addv(d, line, column, path, format, ap);
        va_end(ap);
}

static bool is_word(const char *key, size_t len) {
        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = key[i];
                bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';

                if (!letter && (i == 0 || c < '0' || c > '9'))
                        return false;
        }
        return true;
}

/* A path too long to write out: the parent, marked so that it matches no key. */
static bool path_too_deep(char *dst, const char *parent) {
        char buf[POLICY_PATH_MAX];
        size_t n = policy_utf8_cut(parent, strlen(parent), POLICY_PATH_MAX - 6);

        memcpy(buf, parent, n);
        memcpy(buf + n, "[...]", 6);
        memcpy(dst, buf, n + 6);
        return false;
}

bool policy_path_key(char *dst, const char *parent, const char *key, size_t key_len) {
        char buf[POLICY_PATH_MAX + 8 * POLICY_QUOTE_MAX + 16];
        size_t n, cut;

        /* jq writes a quoted key at the top as .["key"]. */
        n = (size_t) snprintf(buf, sizeof(buf), "%s", isempty(parent) && !is_word(key, key_len) ? "." : parent);
        if (is_word(key, key_len)) {
                if (n + 1 + key_len < POLICY_PATH_MAX) {
                        buf[n++] = '.';
                        memcpy(buf + n, key, key_len);
                        n += key_len;
                        buf[n] = '\0';
                        memcpy(dst, buf, n + 1);
                        return true;
                }
        } else {
                cut = policy_utf8_cut(key, key_len, POLICY_QUOTE_MAX);
                n += (size_t) snprintf(buf + n, sizeof(buf) - n, "[\"");
                for (size_t i = 0; i < cut; i++) {
                        unsigned char c = (unsigned char) key[i];

                        if (c == '"' || c == '\\')
                                n += (size_t) snprintf(buf + n, sizeof(buf) - n, "\\%c", c);
                        else if (c < 0x20 || c == 0x7f)
                                n += (size_t) snprintf(buf + n, sizeof(buf) - n, "\\u%04x", c);
                        else
                                buf[n++] = (char) c;
                }
                n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s\"]", cut < key_len ? "..." : "");
                if (n < POLICY_PATH_MAX) {
                        memcpy(dst, buf, n + 1);
                        return true;
                }
        }

        return path_too_deep(dst, parent);
}

bool policy_path_index(char *dst, const char *parent, size_t index) {
        char buf[POLICY_PATH_MAX + 32];
        int n = snprintf(buf, sizeof(buf), "%s[%zu]", parent, index);

        if (n < 0 || (size_t) n >= POLICY_PATH_MAX)
                return path_too_deep(dst, parent);
        memcpy(dst, buf, (size_t) n + 1);
        return true;
}

const char *policy_path_show(const char *path) {
        return isempty(path) ? "." : path;
}

void policy_text_position(const char *text, size_t size, size_t offset, unsigned *ret_line, unsigned *ret_column) {
        unsigned line = 1;
        size_t line_start = 0;

        if (offset > size)
                offset = size;
        for (size_t i = 0; i < offset; i++)
                if (text[i] == '\n') {
                        line++;
                        line_start = i + 1;
                }
        *ret_line = line;
        *ret_column = (unsigned) (offset - line_start + 1);
}

/* ---- the walk -------------------------------------------------------------
 * A small recursive-descent reader of text that json-c already accepted. It
 * builds each value's path exactly as the validator does, so an error's path
 * leads back to the key or element it is about; on the way it reports what
 * json-c tolerates but other JSON tools do not. */

typedef struct Walker {
        const char *text;
        size_t size;
        size_t pos;
        PolicyDiag *report; /* check mode: where oddities go */
        PolicyDiag *locate; /* locate mode: errors to place */
        size_t first;
        size_t best[POLICY_ERRORS_MAX];  /* 0 none, SIZE_MAX exact, else matched prefix length + 1 */
        size_t where[POLICY_ERRORS_MAX]; /* offset of the best match */
        bool stop;
} Walker;

_printf_(4, 5) static void walker_report(Walker *w, size_t offset, const char *path, const char *format, ...) {
        unsigned line, column;
        va_list ap;

        if (!w->report)
                return;
        policy_text_position(w->text, w->size, offset, &line, &column);
        va_start(ap, format);
        policy_diag_addv(w->report, line, column, policy_path_show(path), format, ap);
        va_end(ap);
}

/* Something json-c accepted that this reader cannot follow: stop quietly in
 * locate mode, say so in check mode. */
static void walker_give_up(Walker *w, const char *path) {
        if (w->stop)
                return;
        if (w->pos < w->size)
                walker_report(w, w->pos, path, "not standard JSON here (unexpected byte 0x%02x)",
                              (unsigned) (unsigned char) w->text[w->pos]);
        else
                walker_report(w, w->pos, path, "not standard JSON: the text ends early");
        w->stop = true;
}

static void walker_visit(Walker *w, const char *path, size_t offset) {
        size_t path_len = strlen(path);

        if (!w->locate)
                return;
        for (size_t i = w->first; i < w->locate->n_errors; i++) {
                const PolicyError *e = &w->locate->errors[i];
                const char *want = streq(e->path, ".") ? "" : e->path;

                if (e->line != 0 || isempty(e->path))
                        continue;
                if (streq(want, path)) {
                        /* A key given twice: json-c kept the last, so does this. */
                        w->best[i] = SIZE_MAX;
                        w->where[i] = offset;
                } else if (w->best[i] != SIZE_MAX && strncmp(want, path, path_len) == 0 &&
                           (want[path_len] == '.' || want[path_len] == '[') && path_len + 1 >= w->best[i]) {
                        w->best[i] = path_len + 1;
                        w->where[i] = offset;
                }
        }
}

static void skip_space(Walker *w) {
        while (w->pos < w->size) {
                char c = w->text[w->pos];

                if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                        break;
                w->pos++;
        }
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Four hex digits at p (bounded by end), or -1. */
static long read_hex4(const char *p, const char *end) {
        long v = 0;

        if (end - p < 4)
                return -1;
        for (int i = 0; i < 4; i++) {
                int h = hex_value(p[i]);
                if (h < 0)
                        return -1;
                v = v * 16 + h;
        }
        return v;
}

static size_t put_utf8(char *out, size_t pos, size_t size, unsigned long cp) {
        char b[4];
        size_t n;

        if (cp < 0x80) {
                b[0] = (char) cp;
                n = 1;
        } else if (cp < 0x800) {
                b[0] = (char) (0xc0 | (cp >> 6));
                b[1] = (char) (0x80 | (cp & 0x3f));
                n = 2;
        } else if (cp < 0x10000) {
                b[0] = (char) (0xe0 | (cp >> 12));
                b[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                b[2] = (char) (0x80 | (cp & 0x3f));
                n = 3;
        } else {
                b[0] = (char) (0xf0 | (cp >> 18));
                b[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
                b[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
                b[3] = (char) (0x80 | (cp & 0x3f));
                n = 4;
        }
        if (pos + n > size)
                return pos;
        memcpy(out + pos, b, n);
        return pos + n;
}

/* Decode a key's raw text (between its quotes) the way json-c does, for its
 * path: escapes resolved, a lone surrogate as U+FFFD, cut at \u0000 (json-c
 * keys are C strings) and where out is full. Returns the decoded length. */
static size_t decode_key(const char *raw, size_t len, char *out, size_t size) {
        const char *p = raw, *end = raw + len;
        size_t n = 0, m;

        while (p < end && n < size) {
                unsigned long cp;
                long u, low;

                if (*p != '\\') {
                        out[n++] = *p++;
                        continue;
                }
                if (end - p < 2)
                        break;
                switch (p[1]) {
                case 'b':
                        cp = '\b';
                        break;
                case 'f':
                        cp = '\f';
                        break;
                case 'n':
                        cp = '\n';
                        break;
                case 'r':
                        cp = '\r';
                        break;
                case 't':
                        cp = '\t';
                        break;
                case 'u':
                        u = read_hex4(p + 2, end);
                        if (u < 0)
                                return n;
                        p += 6;
                        if (u == 0)
                                return n;
                        cp = (unsigned long) u;
                        if (u >= 0xd800 && u <= 0xdbff && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                            (low = read_hex4(p + 2, end)) >= 0xdc00 && low <= 0xdfff) {
                                cp = 0x10000 + (((unsigned long) u - 0xd800) << 10) + ((unsigned long) low - 0xdc00);
                                p += 6;
                        } else if (u >= 0xd800 && u <= 0xdfff)
                                cp = 0xfffd;
                        m = put_utf8(out, n, size, cp);
                        if (m == n)
                                return n;
                        n = m;
                        continue;
                default:
                        cp = (unsigned char) p[1]; /* \" \\ \/ and json-c's lenient others */
                        break;
                }
                p += 2;
                m = put_utf8(out, n, size, cp);
                if (m == n)
                        return n;
                n = m;
        }
        return n;
}

/* A string at w->pos (the opening quote). Sets *ret_start and *ret_len to the raw
 * text between the quotes. A single-quoted key is reported by its object,
 * which knows the key's path. */
static void walk_string(Walker *w, const char *path, bool key, size_t *ret_start, size_t *ret_len) {
        char quote = w->text[w->pos];
        size_t open = w->pos;
        bool reported_control = false;

        if (quote == '\'' && !key)
                walker_report(w, open, path, "single-quoted strings are not JSON: use double quotes");

        w->pos++;
        *ret_start = w->pos;
        while (w->pos < w->size) {
                unsigned char c = (unsigned char) w->text[w->pos];

                if (c == (unsigned char) quote) {
                        *ret_len = w->pos - *ret_start;
                        w->pos++;
                        return;
                }
                if (c < 0x20 && !reported_control) {
                        walker_report(w, w->pos, path,
                                      "raw control character 0x%02x in a string: JSON needs it escaped (\\u%04x)", c, c);
                        reported_control = true;
                }
                if (c != '\\') {
                        w->pos++;
                        continue;
                }
                if (w->pos + 1 >= w->size)
                        break;
                if (w->text[w->pos + 1] == 'u') {
                        long u = read_hex4(w->text + w->pos + 2, w->text + w->size), low = -1;

                        if (u < 0) {
                                w->pos += 2;
                                continue;
                        }
                        if (u == 0)
                                walker_report(w, w->pos, path, "\\u0000 in a string: a NUL character is not allowed");
                        else if (u >= 0xd800 && u <= 0xdbff) {
                                if (w->pos + 12 <= w->size && w->text[w->pos + 6] == '\\' && w->text[w->pos + 7] == 'u')
                                        low = read_hex4(w->text + w->pos + 8, w->text + w->size);
                                if (low < 0xdc00 || low > 0xdfff)
                                        walker_report(w, w->pos, path, "\\u%04lx is half of a surrogate pair, "
                                                      "the other half is missing", u);
                                else
                                        w->pos += 6;
                        } else if (u >= 0xdc00 && u <= 0xdfff)
                                walker_report(w, w->pos, path, "\\u%04lx is half of a surrogate pair, "
                                              "the other half is missing", u);
                        w->pos += 6;
                        continue;
                }
                w->pos += 2;
        }
        w->pos = w->size;
        walker_give_up(w, path);
        *ret_len = 0;
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* RFC 8259: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static bool json_number_ok(const char *s, size_t len) {
        size_t i = 0;

        if (i < len && s[i] == '-')
                i++;
        if (i < len && s[i] == '0')
                i++;
        else if (i < len && s[i] >= '1' && s[i] <= '9')
                while (i < len && is_digit(s[i]))
                        i++;
        else
                return false;
        if (i < len && s[i] == '.') {
                i++;
                if (i >= len || !is_digit(s[i]))
                        return false;
                while (i < len && is_digit(s[i]))
                        i++;
        }
        if (i < len && (s[i] == 'e' || s[i] == 'E')) {
                i++;
                if (i < len && (s[i] == '+' || s[i] == '-'))
                        i++;
                if (i >= len || !is_digit(s[i]))
                        return false;
                while (i < len && is_digit(s[i]))
                        i++;
        }
        return i == len;
}

static bool is_letter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void walk_scalar(Walker *w, const char *path) {
        size_t start = w->pos;
        const char *s = w->text + start;

        if (*s == '-' && start + 1 < w->size && is_letter(s[1]))
                w->pos++;
        if (is_letter(w->text[w->pos])) {
                size_t word = w->pos;

                while (w->pos < w->size && is_letter(w->text[w->pos]))
                        w->pos++;
                if ((w->pos - word == 4 && memcmp(w->text + word, "true", 4) == 0 && word == start) ||
                    (w->pos - word == 5 && memcmp(w->text + word, "false", 5) == 0 && word == start) ||
                    (w->pos - word == 4 && memcmp(w->text + word, "null", 4) == 0 && word == start))
                        return;
                if ((w->pos - word == 3 && memcmp(w->text + word, "NaN", 3) == 0) ||
                    (w->pos - word == 8 && memcmp(w->text + word, "Infinity", 8) == 0)) {
                        walker_report(w, start, path, "%.*s is not a JSON number", (int) (w->pos - start), s);
                        return;
                }
                w->pos = start;
                walker_give_up(w, path);
                return;
        }

        while (w->pos < w->size) {
                char c = w->text[w->pos];

                if (!is_digit(c) && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E')
                        break;
                w->pos++;
        }
        if (w->pos == start) {
                walker_give_up(w, path);
                return;
        }
        if (!json_number_ok(s, w->pos - start))
                walker_report(w, start, path, "%.*s is not a JSON number (write it as e.g. 1, 1.5 or 2e3)",
                              (int) policy_utf8_cut(s, w->pos - start, POLICY_QUOTE_MAX), s);
}

static void walk_value(Walker *w, const char *path, unsigned depth);

typedef struct KeySlice {
        size_t start;
        size_t len;
} KeySlice;

/* After an element of an object or array: true when another follows (the
 * comma is consumed), false at the closing bracket or when the text stops
 * making sense (then the walk gives up). */
static bool walk_next_element(Walker *w, const char *path, char close) {
        skip_space(w);
        if (w->pos < w->size && w->text[w->pos] == ',') {
                w->pos++;
                return true;
        }
        if (w->pos < w->size && w->text[w->pos] == close) {
                w->pos++;
                return false;
        }
        walker_give_up(w, path);
        return false;
}

static void walk_object(Walker *w, const char *path, unsigned depth) {
        KeySlice keys[DUPLICATE_KEYS_MAX];
        size_t n_keys = 0;

        w->pos++; /* { */
        skip_space(w);
        if (w->pos < w->size && w->text[w->pos] == '}') {
                w->pos++;
                return;
        }
        for (;;) {
                char child[POLICY_PATH_MAX], decoded[KEY_DECODE_MAX];
                size_t key_at, start, len, n;

                skip_space(w);
                if (w->pos >= w->size || (w->text[w->pos] != '"' && w->text[w->pos] != '\'')) {
                        walker_give_up(w, path);
                        return;
                }
                key_at = w->pos;
                walk_string(w, path, true, &start, &len);
                if (w->stop)
                        return;

                n = decode_key(w->text + start, len, decoded, sizeof(decoded));
                (void) policy_path_key(child, path, decoded, n);
                if (w->text[key_at] == '\'')
                        walker_report(w, key_at, child, "single-quoted strings are not JSON: use double quotes");

                for (size_t i = 0; i < n_keys; i++)
                        if (keys[i].len == len && memcmp(w->text + keys[i].start, w->text + start, len) == 0) {
                                unsigned first_line, first_column;

                                policy_text_position(w->text, w->size, keys[i].start, &first_line, &first_column);
                                walker_report(w, key_at, child,
                                              "key given twice (also on line %u); only the last one would count",
                                              first_line);
                                break;
                        }
                if (n_keys < DUPLICATE_KEYS_MAX)
                        keys[n_keys++] = (KeySlice) { start, len };

                skip_space(w);
                if (w->pos >= w->size || w->text[w->pos] != ':') {
                        walker_give_up(w, path);
                        return;
                }
                w->pos++;
                skip_space(w);
                walker_visit(w, child, key_at);
                walk_value(w, child, depth + 1);
                if (w->stop)
                        return;
                if (!walk_next_element(w, path, '}'))
                        return;
        }
}

static void walk_array(Walker *w, const char *path, unsigned depth) {
        w->pos++; /* [ */
        skip_space(w);
        if (w->pos < w->size && w->text[w->pos] == ']') {
                w->pos++;
                return;
        }
        for (size_t index = 0;; index++) {
                char child[POLICY_PATH_MAX];

                skip_space(w);
                (void) policy_path_index(child, path, index);
                walker_visit(w, child, w->pos);
                walk_value(w, child, depth + 1);
                if (w->stop)
                        return;
                if (!walk_next_element(w, path, ']'))
                        return;
        }
}

static void walk_value(Walker *w, const char *path, unsigned depth) {
        size_t start, len;

        if (w->stop)
                return;
        /* json-c already refused anything deeper; this only guards the stack. */
        if (depth > POLICY_DEPTH_MAX + 1 || w->pos >= w->size) {
                walker_give_up(w, path);
                return;
        }
        switch (w->text[w->pos]) {
        case '{':
                walk_object(w, path, depth);
                break;
        case '[':
                walk_array(w, path, depth);
                break;
        case '"':
        case '\'':
                walk_string(w, path, false, &start, &len);
                break;
        default:
                walk_scalar(w, path);
                break;
        }
}

static void walk(Walker *w) {
        skip_space(w);
        walker_visit(w, "", w->pos);
        walk_value(w, "", 0);
        if (w->stop)
                return;
        skip_space(w);
        if (w->pos < w->size)
                walker_give_up(w, "");
}

void policy_text_check(const char *text, size_t size, PolicyDiag *d) {
        Walker w = { .text = text, .size = size, .report = d };

        walk(&w);
}

void policy_text_locate(const char *text, size_t size, PolicyDiag *d, size_t first) {
        Walker w = { .text = text, .size = size, .locate = d, .first = first };

        walk(&w);
        for (size_t i = first; i < d->n_errors; i++)
                if (d->errors[i].line == 0 && w.best[i] != 0)
                        policy_text_position(text, size, w.where[i], &d->errors[i].line, &d->errors[i].column);
}
