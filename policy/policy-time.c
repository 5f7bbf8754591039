/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Times and durations in policy text: RFC 3339 date-times, and durations written back the way people type them. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "policy-internal.h"

#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MIN (60 * USEC_PER_SEC)
#define USEC_PER_HOUR (60 * USEC_PER_MIN)
#define USEC_PER_DAY (24 * USEC_PER_HOUR)

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Exactly n digits at *p; advances *p. */
static bool read_digits(const char **p, unsigned n, unsigned *ret) {
        unsigned v = 0;

        for (unsigned i = 0; i < n; i++) {
                if (!is_digit((*p)[i]))
                        return false;
                v = v * 10 + (unsigned) ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

static bool is_leap_year(unsigned y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m) {
        static const unsigned days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

        return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

/* Leap years in [1, y]: the Gregorian rule counted. */
static uint64_t leap_years_through(unsigned y) {
        return y / 4 - y / 100 + y / 400;
}

/* Days from 1970-01-01 to y-m-d, for y >= 1970. */
static uint64_t days_since_epoch(unsigned y, unsigned m, unsigned d) {
        uint64_t days = UINT64_C(365) * (y - 1970) + leap_years_through(y - 1) - leap_years_through(1969);

        for (unsigned i = 1; i < m; i++)
                days += days_in_month(y, i);
        return days + d - 1;
}

/* RFC 3339 section 5.6:
 *   date-time = full-date "T" full-time       ("t" and, per its note, " " too)
 *   full-date = YYYY "-" MM "-" DD
 *   full-time = HH ":" MM ":" SS ["." 1*DIGIT] ("Z" / "z" / ("+" / "-") HH ":" MM) */
int policy_parse_rfc3339(const char *s, uint64_t *ret_usec, const char **why) {
        unsigned year, month, day, hour, minute, second, off_hour = 0, off_minute = 0;
        uint64_t frac = 0, scale = 100000, usec, offset_usec = 0;
        bool offset_negative = false;
        const char *p = s;

        if (!read_digits(&p, 4, &year) || *p++ != '-' || !read_digits(&p, 2, &month) || *p++ != '-' ||
            !read_digits(&p, 2, &day)) {
                *why = "the date must be YYYY-MM-DD";
                return -EINVAL;
        }
        if (*p != 'T' && *p != 't' && *p != ' ') {
                *why = "a 'T' and the time of day must follow the date";
                return -EINVAL;
        }
        p++;
        if (!read_digits(&p, 2, &hour) || *p++ != ':' || !read_digits(&p, 2, &minute) || *p++ != ':' ||
            !read_digits(&p, 2, &second)) {
                *why = "the time must be HH:MM:SS";
                return -EINVAL;
        }
        if (*p == '.') {
                p++;
                if (!is_digit(*p)) {
                        *why = "a '.' must be followed by fraction digits";
                        return -EINVAL;
                }
                for (; is_digit(*p); p++) {
                        frac += (uint64_t) (*p - '0') * scale;
                        scale /= 10;
                }
        }
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                offset_negative = *p == '-';
                p++;
                if (!read_digits(&p, 2, &off_hour) || *p++ != ':' || !read_digits(&p, 2, &off_minute)) {
                        *why = "the offset must be +HH:MM or -HH:MM";
                        return -EINVAL;
                }
        } else {
                *why = "a time zone is required: end with Z (UTC) or an offset such as +02:00";
                return -EINVAL;
        }
        if (*p != '\0') {
                *why = "unexpected text after the time";
                return -EINVAL;
        }

        if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) {
                *why = "no such date";
                return -EINVAL;
        }
        if (second == 60) {
                *why = "a leap second (:60) cannot be scheduled";
                return -EINVAL;
        }
        if (hour > 23 || minute > 59 || second > 59 || off_hour > 23 || off_minute > 59) {
                *why = "no such time of day";
                return -EINVAL;
        }
        if (year < 1970) {
                *why = "times before 1970 are not supported";
                return -EINVAL;
        }

        usec = days_since_epoch(year, month, day) * USEC_PER_DAY + hour * USEC_PER_HOUR + minute * USEC_PER_MIN +
               second * USEC_PER_SEC + frac;
        offset_usec = off_hour * USEC_PER_HOUR + off_minute * USEC_PER_MIN;
        /* Local time = UTC + offset, so UTC = local - offset. */
        if (!offset_negative) {
                if (usec < offset_usec) {
                        *why = "times before 1970 are not supported";
                        return -EINVAL;
                }
                usec -= offset_usec;
        } else
                usec += offset_usec;

        *ret_usec = usec;
        return 0;
}

void policy_format_duration(uint64_t usec, char *buf, size_t size) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "d", USEC_PER_DAY }, { "h", USEC_PER_HOUR }, { "min", USEC_PER_MIN }, { "s", USEC_PER_SEC },
                { "ms", 1000 },        { "us", 1 },
        };

        if (usec == 0) {
                (void) snprintf(buf, size, "0");
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                /* The largest unit that divides exactly, so that the text
                 * reads back to the same value: 90s, 1500ms. */
                if (usec % units[i].usec == 0) {
                        (void) snprintf(buf, size, "%" PRIu64 "%s", usec / units[i].usec, units[i].suffix);
                        return;
                }
}
