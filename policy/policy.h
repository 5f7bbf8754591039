/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Injection policies (serror-policy(5)): parse and validate JSON text, and match VMs and vcpus against targets. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serror/mce.h"
#include "reaction.h"
#include "serror/syndrome.h"

/*
 * A Policy is the validated, immutable form of one policy file. The code here
 * does no I/O: the caller reads the file and hands over its bytes; every
 * problem comes back as a list of errors that each name a JSON path (and a
 * line and column when the text can tell). Running the policy is the job of
 * plan.h (the event sequence) and of serrord (timers, injections).
 *
 * Limits (serror-policy(5), LIMITS): each is checked and reported by path.
 */
#define POLICY_TEXT_MAX (1024u * 1024u)      /* bytes of policy text */
#define POLICY_DEPTH_MAX 16                  /* JSON nesting */
#define POLICY_NAME_MAX 64u                  /* .name: A-Z a-z 0-9 - _ . */
#define POLICY_DESCRIPTION_MAX 1024u         /* .description bytes */
#define POLICY_VM_NAME_MAX 64u               /* = ATTACH_NAME_MAX */
#define POLICY_NAMES_MAX 64u                 /* .targets.names entries */
#define POLICY_GLOBS_MAX 64u                 /* .targets.globs entries */
#define POLICY_GLOB_MAX 128u                 /* bytes of one glob */
#define POLICY_LABELS_MAX 16u                /* = ATTACH_LABELS_MAX: a VM carries no more */
#define POLICY_LABEL_KEY_MAX 63u             /* = ATTACH_LABEL_KEY_MAX */
#define POLICY_LABEL_VALUE_MAX 127u          /* = ATTACH_LABEL_VALUE_MAX */
#define POLICY_VCPU_ITEMS_MAX 256u           /* .targets.vcpus list entries */
#define POLICY_VCPU_INDEX_MAX UINT32_C(65535) /* = ATTACH_VCPU_INDEX_MAX */
#define POLICY_MIX_MAX 32u                   /* .error.mix entries */
#define POLICY_WEIGHT_MAX UINT32_C(1000000)  /* one mix weight */
#define POLICY_DURATION_MAX_USEC (UINT64_C(366) * 86400 * 1000000) /* any duration */
#define POLICY_PERIOD_MIN_USEC UINT64_C(100) /* interval and burst period */
#define POLICY_RATE_MIN 1e-6                 /* poisson events per second */
#define POLICY_RATE_MAX 10000.0
#define POLICY_BURST_COUNT_MAX UINT32_C(10000)
#define POLICY_MAX_INJECTIONS_MAX (UINT64_C(1) << 53)
/* Seeds written as JSON numbers above this lose precision in many JSON tools. */
#define POLICY_SEED_NUMBER_MAX (UINT64_C(1) << 53)
#define POLICY_ERRORS_MAX 64u                /* errors kept; more are only counted */
#define POLICY_PATH_MAX 128u
#define POLICY_MESSAGE_MAX 256u

typedef enum PolicyScheduleType {
        POLICY_SCHEDULE_ONCE,
        POLICY_SCHEDULE_INTERVAL,
        POLICY_SCHEDULE_POISSON,
        POLICY_SCHEDULE_BURST,
        _POLICY_SCHEDULE_MAX,
} PolicyScheduleType;

/* Per event: one target chosen at random, or every target. */
typedef enum PolicyPick {
        POLICY_PICK_ONE,
        POLICY_PICK_ALL,
        _POLICY_PICK_MAX,
} PolicyPick;

typedef struct PolicyLabel {
        char *key;
        char *value;
} PolicyLabel;

/* Inclusive; first <= last. */
typedef struct PolicyVcpuRange {
        uint32_t first;
        uint32_t last;
} PolicyVcpuRange;

/* An SError syndrome (arm64 targets), or with is_mce an x86 machine check. */
typedef struct PolicyMixEntry {
        serror_syndrome syndrome;
        bool is_mce;
        serror_mce mce;
        uint32_t weight; /* 1..POLICY_WEIGHT_MAX; 1 for a single syndrome */
} PolicyMixEntry;

typedef struct PolicySchedule {
        PolicyScheduleType type;
        /* once: exactly one of at (has_at) and after */
        bool has_at;
        uint64_t at_usec;    /* CLOCK_REALTIME, microseconds since the Unix epoch */
        uint64_t after_usec; /* from the schedule's origin */
        /* interval, and the repeat period of burst (0: one burst only) */
        uint64_t period_usec;
        uint64_t jitter_usec; /* interval: each event is delayed by 0..jitter */
        /* poisson */
        double rate;      /* events per second, as written */
        uint64_t mean_ns; /* the mean gap the schedule uses: round(1e9 / rate) */
        /* burst */
        uint32_t count;
        uint64_t spacing_usec;
} PolicySchedule;

/* .stop_when: the campaign stops itself on what its guests did (serror-policy(5)). */
typedef struct PolicyStopWhen {
        bool enabled;
        uint32_t fates;          /* bit (1u << Fate) per fate that counts; with vms or fraction */
        uint64_t vms;            /* this many distinct VMs had one; 0: not set */
        double fraction;         /* or this fraction of the targeted VMs; 0: not set */
        uint64_t within_usec;    /* counted over this sliding window; 0: since the start */
        uint64_t not_taken_usec; /* or a guest left an SError pending this long; 0: not set */
} PolicyStopWhen;

/* The fates stop_when counts when it names none: the VM did not survive it. */
#define POLICY_STOP_FATES_DEFAULT \
        ((1u << FATE_RESET) | (1u << FATE_SHUTDOWN) | (1u << FATE_CRASH) | (1u << FATE_VMM_EXITED))

/* Read-only once parsed. Strings are NUL-terminated and owned by the Policy. */
typedef struct Policy {
        char *name;
        char *description; /* NULL when absent */

        /* .targets: a VM matches when (names and globs are both empty, or its
         * name is in names, or matches a glob) and it carries every label. */
        char **names;
        size_t n_names;
        char **globs;
        size_t n_globs;
        PolicyLabel *labels; /* sorted by key, keys unique */
        size_t n_labels;
        bool all_vcpus;
        PolicyVcpuRange *vcpus; /* sorted, disjoint, not adjacent; empty when all_vcpus */
        size_t n_vcpus;
        PolicyPick pick;

        /* .error: a single syndrome is a mix of one entry of weight 1. */
        PolicyMixEntry *mix;
        size_t n_mix;
        uint64_t total_weight;
        serror_mode on_pending;
        bool allow_ids;

        PolicySchedule schedule;
        uint64_t start_delay_usec;
        uint64_t duration_usec;  /* 0: no limit */
        uint64_t max_injections; /* 0: no limit */
        bool has_seed;           /* false: the runner chooses a seed, and says which */
        uint64_t seed;
        PolicyStopWhen stop_when;
} Policy;

/* One problem. path is a jq-style path (".schedule.rate", ".error.mix[2].weight",
 * "." for the whole document; a key that is not a plain word is written
 * .targets.labels["app/name"], or .["my key"] at the top); empty for a JSON
 * syntax error. */
typedef struct PolicyError {
        unsigned line;   /* 1-based; 0 when unknown */
        unsigned column; /* 1-based, in bytes; 0 when unknown */
        char path[POLICY_PATH_MAX];
        char message[POLICY_MESSAGE_MAX];
} PolicyError;

/* Every problem found, in the order of the text (those without a line last). */
typedef struct PolicyDiag {
        size_t n_errors;
        size_t n_dropped; /* found beyond POLICY_ERRORS_MAX: counted, not kept */
        PolicyError errors[POLICY_ERRORS_MAX];
} PolicyDiag;

/* Parse and validate size bytes of policy text (need not be NUL-terminated;
 * a leading UTF-8 byte order mark is skipped). Every problem is reported, not
 * only the first. Returns 0 with *ret set, -EINVAL with diag holding at least
 * one error (-EFBIG when the text is longer than POLICY_TEXT_MAX, also with
 * an error in diag), or -ENOMEM. diag may be NULL; it is reset first. */
int policy_parse(const char *text, size_t size, Policy **ret, PolicyDiag *diag);

Policy *policy_free(Policy *p);

/* "LINE:COLUMN: PATH: MESSAGE", leaving out what is unknown. Like snprintf. */
int policy_error_format(const PolicyError *e, char *buf, size_t size);

/* Whether the policy stops by itself: a once schedule, a single burst, a
 * duration or max_injections (which stops only once targets exist). */
bool policy_has_end(const Policy *p);

/* The VM selector alone: name, globs and labels (labels: n_labels pairs). */
typedef struct PolicyVmLabel {
        const char *key;
        const char *value;
} PolicyVmLabel;
bool policy_match_vm(const Policy *p, const char *name, const PolicyVmLabel *labels, size_t n_labels);
/* The vcpu selector alone. */
bool policy_match_vcpu(const Policy *p, uint32_t vcpu);

/* A VM as the runner knows it: its name, labels and attached vcpu indexes. */
typedef struct PolicyVm {
        const char *name;
        const PolicyVmLabel *labels;
        size_t n_labels;
        const uint32_t *vcpus;
        size_t n_vcpus;
} PolicyVm;

/* One (VM, vcpu) pair. vm is borrowed from whoever built the list. */
typedef struct PolicyTarget {
        const char *vm;
        uint32_t vcpu;
} PolicyTarget;

/* The canonical order of targets: VM name by bytes (strcmp, whatever the
 * locale), then vcpu index. */
int policy_target_compare(const PolicyTarget *a, const PolicyTarget *b);

/* Every (VM, vcpu) of vms that the policy's targets select, in canonical
 * order without duplicates; the names in *ret point into vms. *ret is NULL
 * when nothing matches. 0, -EINVAL (a VM without a name) or -ENOMEM; -E2BIG
 * beyond POLICY_TARGETS_MAX targets. Free *ret with free(). */
#define POLICY_TARGETS_MAX (UINT32_C(1) << 20)
int policy_targets_build(const Policy *p, const PolicyVm *vms, size_t n_vms, PolicyTarget **ret, size_t *ret_n);

/* A duration in the largest unit that divides it exactly, as
 * parse_duration_usec() reads it back: "0", "1500ms", "90s", "2min", "366d". */
void policy_format_duration(uint64_t usec, char *buf, size_t size);

const char *policy_schedule_type_to_string(PolicyScheduleType t);
const char *policy_pick_to_string(PolicyPick p);
