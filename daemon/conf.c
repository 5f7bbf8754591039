/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd-style INI parsing for serrord's configuration file. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "macro.h"

#define CONF_LINE_MAX 4096
#define CONF_SECTION_MAX 64

_printf_(2, 3) static int diag_set(serror_diag *diag, const char *fmt, ...) {
        va_list ap;

        if (!diag)
                return -EINVAL;
        va_start(ap, fmt);
        vsnprintf(diag->message, sizeof(diag->message), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static char *strip(char *s) {
        char *end;

        while (isspace((unsigned char) *s))
                s++;
        end = s + strlen(s);
        while (end > s && isspace((unsigned char) end[-1]))
                *--end = '\0';
        return s;
}

static bool valid_name(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && *s != '-' && *s != '_')
                        return false;
        return true;
}

int conf_parse(const char *text, size_t len, conf_assignment_fn fn, void *userdata, serror_diag *diag) {
        char section[CONF_SECTION_MAX] = "";
        char line[CONF_LINE_MAX];
        unsigned lineno = 0;
        size_t pos = 0;

        while (pos < len) {
                const char *nl = memchr(text + pos, '\n', len - pos);
                size_t n = nl ? (size_t) (nl - (text + pos)) : len - pos;
                serror_diag inner = {};
                char *l, *eq, *key, *value;
                int r;

                lineno++;
                if (n >= sizeof(line))
                        return diag_set(diag, "line %u: longer than %d bytes", lineno, CONF_LINE_MAX - 1);
                if (memchr(text + pos, '\0', n))
                        return diag_set(diag, "line %u: contains a NUL byte", lineno);
                memcpy(line, text + pos, n);
                line[n] = '\0';
                pos += n + (nl ? 1 : 0);

                l = strip(line);
                if (*l == '\0' || *l == '#' || *l == ';')
                        continue;

                if (*l == '[') {
                        char *close = strchr(l, ']');
                        if (!close || close[1] != '\0')
                                return diag_set(diag, "line %u: malformed section header '%.64s'", lineno, l);
                        *close = '\0';
                        l = strip(l + 1);
                        if (!valid_name(l) || strlen(l) >= sizeof(section))
                                return diag_set(diag, "line %u: invalid section name '%.64s'", lineno, l);
                        strcpy(section, l);
                        continue;
                }

                eq = strchr(l, '=');
                if (!eq)
                        return diag_set(diag, "line %u: expected Key=Value, got '%.64s'", lineno, l);
                *eq = '\0';
                key = strip(l);
                value = strip(eq + 1);
                if (!valid_name(key))
                        return diag_set(diag, "line %u: invalid key name '%.64s'", lineno, key);
                if (section[0] == '\0')
                        return diag_set(diag, "line %u: '%.64s=' appears before any [Section]", lineno, key);

                r = fn(section, key, value, userdata, &inner);
                if (r < 0) {
                        if (diag)
                                snprintf(diag->message, sizeof(diag->message), "line %u: [%.32s] %.32s=: %.100s", lineno,
                                         section, key, inner.message[0] ? inner.message : strerror(-r));
                        return r;
                }
        }
        return 0;
}
