/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strict number and duration parsing shared by serrord, serrorctl and the policy code. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "parse-util.h"

int parse_u64(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;
        int base = 10;

        if (isempty(s))
                return -EINVAL;
        /* strtoull() would accept leading space and a minus sign (and wrap it). */
        if (!isdigit((unsigned char) s[0]))
                return -EINVAL;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                if (!isxdigit((unsigned char) s[2]))
                        return -EINVAL;
                base = 16;
        }
        errno = 0;
        v = strtoull(s, &end, base);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || *end != '\0')
                return -EINVAL;
        *ret = (uint64_t) v;
        return 0;
}

int parse_u32(const char *s, uint32_t *ret) {
        uint64_t v;
        int r;

        r = parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int parse_boolean(const char *s, bool *ret) {
        static const char *const yes[] = { "1", "yes", "true", "on", "y" };
        static const char *const no[] = { "0", "no", "false", "off", "n" };

        if (isempty(s))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcaseeq(s, yes[i])) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcaseeq(s, no[i])) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

int parse_duration_usec(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "us", 1 },          { "ms", 1000 },           { "s", 1000000 },    { "sec", 1000000 },
                { "m", 60000000 },    { "min", 60000000 },      { "h", 3600000000 }, { "hr", 3600000000 },
                { "d", 86400000000 }, { "", 1000000 },
        };
        uint64_t whole = 0, frac = 0, frac_scale = 1;
        const char *p = s;

        if (isempty(s) || !isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                if (whole > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                whole = whole * 10 + (uint64_t) (*p - '0');
        }
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                /* Nine fractional digits are more than any unit here can use. */
                for (; isdigit((unsigned char) *p); p++)
                        if (frac_scale < 1000000000) {
                                frac = frac * 10 + (uint64_t) (*p - '0');
                                frac_scale *= 10;
                        }
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                if (!strcaseeq(p, units[i].suffix))
                        continue;
                unsigned __int128 total = (unsigned __int128) whole * units[i].usec +
                                          (unsigned __int128) frac * units[i].usec / frac_scale;
                if (total > UINT64_MAX)
                        return -ERANGE;
                *ret = (uint64_t) total;
                return 0;
        }
        return -EINVAL;
}

int parse_status_nspid(const char *status, int *ret) {
        const char *line = status;
        long last = -1;

        while (line && strncmp(line, "NSpid:", 6) != 0) {
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        if (!line)
                return -ENOENT;
        line += strlen("NSpid:");
        for (;;) {
                char *end;
                long v;

                while (*line == ' ' || *line == '\t')
                        line++;
                if (*line == '\n' || *line == '\0')
                        break;
                errno = 0;
                v = strtol(line, &end, 10);
                if (errno || end == line || v <= 0 || v > INT_MAX)
                        return -EINVAL;
                last = v;
                line = end;
        }
        if (last < 0)
                return -EINVAL;
        *ret = (int) last;
        return 0;
}
