/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small TAP (Test Anything Protocol) producer for the unit tests, read by Automake's tap-driver.sh. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "macro.h"

/* One test program is one translation unit, so the counters can live here. */
static struct {
        unsigned planned; /* 0 until tap_plan() */
        unsigned run;
        unsigned failed;
} tap_state;

/* Announce the number of tests up front. Optional: tap_done() prints the plan
 * at the end when this was not called, which TAP also allows. */
static inline void tap_plan(unsigned n) {
        tap_state.planned = n;
        printf("1..%u\n", n);
        fflush(stdout);
}

_printf_(1, 0) static inline void tap_vdiag(const char *format, va_list ap) {
        /* Diagnostics go to stdout so they stay in order with the results. */
        fputs("# ", stdout);
        vprintf(format, ap);
        fputc('\n', stdout);
}

_printf_(1, 2) static inline void tap_diag(const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        tap_vdiag(format, ap);
        va_end(ap);
}

/* Record one result; returns pass so callers can add diagnostics on failure. */
_printf_(2, 3) static inline bool tap_ok(bool pass, const char *format, ...) {
        va_list ap;

        tap_state.run++;
        if (!pass)
                tap_state.failed++;

        printf("%s %u - ", pass ? "ok" : "not ok", tap_state.run);
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
        fputc('\n', stdout);
        fflush(stdout);
        return pass;
}

/* Count n tests as skipped, with the reason. */
static inline void tap_skip(unsigned n, const char *reason) {
        while (n-- > 0) {
                tap_state.run++;
                printf("ok %u # SKIP %s\n", tap_state.run, reason);
        }
        fflush(stdout);
}

/* Skip the whole program: TAP's "1..0 # SKIP" counts as a skip, exit 77 would not. */
_noreturn_ static inline void tap_skip_all(const char *reason) {
        printf("1..0 # SKIP %s\n", reason);
        fflush(stdout);
        exit(EXIT_SUCCESS);
}

/* Stop at once: nothing after this point could be trusted. */
_printf_(1, 2) _noreturn_ static inline void tap_bail_out(const char *format, ...) {
        va_list ap;

        fputs("Bail out! ", stdout);
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
        fputc('\n', stdout);
        fflush(stdout);
        exit(EXIT_FAILURE);
}

/* Print the plan if none was given and return main's exit status: non-zero if
 * any test failed or the count does not match the plan. */
static inline int tap_done(void) {
        if (tap_state.planned == 0)
                printf("1..%u\n", tap_state.run);
        else if (tap_state.planned != tap_state.run)
                tap_diag("planned %u tests but ran %u", tap_state.planned, tap_state.run);
        if (tap_state.failed > 0)
                tap_diag("%u of %u tests failed", tap_state.failed, tap_state.run);
        fflush(stdout);

        if (tap_state.failed > 0 || (tap_state.planned != 0 && tap_state.planned != tap_state.run))
                return EXIT_FAILURE;
        return EXIT_SUCCESS;
}
