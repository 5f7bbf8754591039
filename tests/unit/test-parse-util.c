/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the strict number, boolean and duration parsers. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "parse-util.h"
#include "tap.h"

static void check_u64(const char *s, int want_r, uint64_t want) {
        uint64_t v = 0xdeadbeef;
        int r = parse_u64(s, &v);
        if (want_r == 0)
                tap_ok(r == 0 && v == want, "parse_u64(\"%s\") = %llu (got r=%d v=%llu)", s, (unsigned long long) want, r,
                       (unsigned long long) v);
        else
                tap_ok(r == want_r && v == 0xdeadbeef, "parse_u64(\"%s\") fails with %d and leaves the output (r=%d)",
                       s, want_r, r);
}

static void check_duration(const char *s, int want_r, uint64_t want) {
        uint64_t v = 7;
        int r = parse_duration_usec(s, &v);
        if (want_r == 0)
                tap_ok(r == 0 && v == want, "duration \"%s\" = %llu us (got r=%d v=%llu)", s, (unsigned long long) want,
                       r, (unsigned long long) v);
        else
                tap_ok(r == want_r && v == 7, "duration \"%s\" refused with %d (r=%d)", s, want_r, r);
}

int main(void) {
        uint32_t u32 = 0;
        bool b = false;

        check_u64("0", 0, 0);
        check_u64("42", 0, 42);
        check_u64("0xbe000c11", 0, 0xbe000c11);
        check_u64("0XC11", 0, 0xc11);
        check_u64("18446744073709551615", 0, UINT64_MAX);
        check_u64("18446744073709551616", -ERANGE, 0);
        check_u64("", -EINVAL, 0);
        check_u64("-1", -EINVAL, 0);
        check_u64(" 1", -EINVAL, 0);
        check_u64("1 ", -EINVAL, 0);
        check_u64("0x", -EINVAL, 0);
        check_u64("0xg", -EINVAL, 0);
        check_u64("12abc", -EINVAL, 0);
        check_u64("+5", -EINVAL, 0);

        tap_ok(parse_u32("4294967295", &u32) == 0 && u32 == UINT32_MAX, "parse_u32 max");
        tap_ok(parse_u32("4294967296", &u32) == -ERANGE, "parse_u32 overflow is -ERANGE");

        tap_ok(parse_boolean("yes", &b) == 0 && b, "yes is true");
        tap_ok(parse_boolean("OFF", &b) == 0 && !b, "OFF is false");
        tap_ok(parse_boolean("maybe", &b) == -EINVAL, "maybe is refused");

        check_duration("250ms", 0, 250000);
        check_duration("2s", 0, 2000000);
        check_duration("1.5s", 0, 1500000);
        check_duration("3min", 0, 180000000);
        check_duration("1h", 0, 3600000000);
        check_duration("500us", 0, 500);
        check_duration("10", 0, 10000000);
        check_duration("0.25", 0, 250000);
        check_duration("1d", 0, 86400000000);
        check_duration("", -EINVAL, 0);
        check_duration("s", -EINVAL, 0);
        check_duration("1.s", -EINVAL, 0);
        check_duration("-1s", -EINVAL, 0);
        check_duration("5 years", -EINVAL, 0);
        check_duration("99999999999999999999d", -ERANGE, 0);
        check_duration("300000000d", -ERANGE, 0);

        {
                int pid = 0;

                tap_ok(parse_status_nspid("Name:\tqemu\nPid:\t4242\nNSpid:\t4242\t17\t1\nVmRSS: 1 kB\n", &pid) == 0 &&
                               pid == 1, "NSpid: the innermost namespace's pid is the last (%d)", pid);
                tap_ok(parse_status_nspid("NSpid:\t4242\n", &pid) == 0 && pid == 4242,
                       "NSpid: one namespace, the pid itself (%d)", pid);
                tap_ok(parse_status_nspid("Name:\tx\nPid:\t5\n", &pid) == -ENOENT, "NSpid: absent");
                tap_ok(parse_status_nspid("NSpid:\t\n", &pid) == -EINVAL, "NSpid: empty");
                tap_ok(parse_status_nspid("NSpid:\t12\tx\n", &pid) == -EINVAL, "NSpid: not a number");
                tap_ok(parse_status_nspid("NSpid:\t-3\n", &pid) == -EINVAL, "NSpid: not a pid");
        }
        return tap_done();
}
