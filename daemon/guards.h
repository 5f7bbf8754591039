/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Daemon-wide guards on every injection: a rate limit, a minimum gap per vcpu, a severity cap, dry run. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "serror/syndrome.h"

typedef struct GuardConfig {
        double rate_limit;          /* injections per second, daemon-wide; 0: none */
        uint32_t rate_burst;        /* how many may come at once before the rate applies */
        uint64_t min_gap_usec;      /* between two SErrors to the same vcpu; 0: none */
        int max_severity;           /* SERROR_SEVERITY_*: more severe ones are refused */
        bool dry_run;               /* every injection stops short of the ioctl */
} GuardConfig;

typedef struct Guards {
        GuardConfig config;
        double tokens;             /* token bucket for the rate limit */
        uint64_t refill_usec;      /* CLOCK_MONOTONIC of the last refill */
        uint64_t refused_rate;
        uint64_t refused_gap;
        uint64_t refused_severity;
} Guards;

typedef enum GuardVerdict {
        GUARD_PASS,
        GUARD_RATE,     /* the daemon-wide rate limit */
        GUARD_GAP,      /* too soon after the last SError to this vcpu */
        GUARD_SEVERITY, /* above the severity cap */
} GuardVerdict;

void guards_init(Guards *g, const GuardConfig *config);
/* Pure: decide for one injection now (CLOCK_MONOTONIC usec). last_usec is when
 * this vcpu last had an SError sent (0: never). On GUARD_PASS the rate token
 * is taken. kvm_chosen: a syndrome KVM picks ranks as IDS = 1 (UC). */
GuardVerdict guards_check(Guards *g, const serror_syndrome *syndrome, uint64_t last_usec, uint64_t now_usec);
/* The same with the severity given (serror_syndrome_severity(), serror_mce_severity()). */
GuardVerdict guards_check_severity(Guards *g, int severity, const uint64_t *last_usec, unsigned n, uint64_t now_usec,
                                   unsigned *ret_index);
/* The same for n injections that go out together (one call's vcpus): all pass
 * and take n rate tokens, or none does and nothing is taken. last_usec has
 * one entry per injection; *ret_index (may be NULL) is the one a gap refused. */
GuardVerdict guards_check_all(Guards *g, const serror_syndrome *syndrome, const uint64_t *last_usec, unsigned n,
                              uint64_t now_usec, unsigned *ret_index);
/* "the rate limit of 10/s", ... for messages. */
const char *guard_verdict_describe(GuardVerdict v);
