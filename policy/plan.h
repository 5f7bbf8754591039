/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A policy's event sequence: when each injection comes, which target it hits and which syndrome it carries. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "serror/syndrome.h"

/*
 * A PolicyPlan turns a validated Policy, a seed and a target list into the
 * policy's injections, one at a time, with no clock and no I/O: offsets are
 * microseconds from the moment the policy starts. serrord and `serrorctl
 * policy plan` run the same code, so the same (policy, seed, targets) give
 * the same sequence, on any machine (rng.h: integer arithmetic only).
 *
 * Time. Every offset is from the start S; the schedule's origin is
 * T0 = S + start_delay. Event k (k = 0, 1, 2, ...) comes at:
 *   once     T0 + after; or the wall-clock time at, i.e. at - start_realtime
 *            (nothing when that is already past at the start)
 *   interval T0 + k * period + d_k, d_k a uniform whole number of
 *            microseconds in [0, jitter] (no draw when jitter is 0)
 *   poisson  T0 + G_0 + ... + G_k, each gap G exponential with mean
 *            1e9 / rate ns, rounded to whole nanoseconds (rng_exponential_scaled)
 *   burst    T0 + b * period + i * spacing for burst b and its event i
 *            (i < count); one burst only when there is no period
 * The plan keeps nanoseconds and reports offset_usec = floor(ns / 1000). An
 * event at or after `duration` ends the plan, as does reaching
 * `max_injections` injections or an offset of 2^62 ns (146 years).
 *
 * Choices. When an event's first injection is taken (policy_plan_next), in
 * this order: the syndrome, when the mix has more than one entry:
 * rng_bounded(total weight), walked through the entries in file order; then
 * for pick "one" with more than one target: rng_bounded(n_targets), an index
 * into the canonical target list (policy_target_compare). Pick "all" draws no
 * target: the event becomes one injection per target, in canonical order,
 * all with the event's offset and syndrome. An event with no target at all
 * still draws its syndrome and is returned with has_target false.
 *
 * The stream. One xoshiro256** stream seeded with rng_seed(seed). Draws, in
 * order, per event: its time (interval with jitter: one rng_bounded; poisson:
 * one rng_exponential_scaled; else none), then its choices as above. Because
 * choices are drawn when the first injection is taken, and the time of the
 * following event only after that, the order of draws never depends on how
 * the caller interleaves peek and next.
 *
 * Use from an event loop (serrord):
 *   policy_plan_new(policy, seed, now_realtime, targets, n, &plan); S = now
 *   loop: r = policy_plan_peek(plan, &off); r == 0: the policy is done;
 *         else arm a timer at S + off; when it fires, take every injection
 *         with policy_plan_next() while policy_plan_peek() <= now - S.
 *   A VM attaches or detaches: policy_targets_build(), then
 *   policy_plan_set_targets(); it applies from the next event on.
 */

typedef struct PolicyPlan PolicyPlan;

/* One injection (or, with has_target false, one event that found no target). */
typedef struct PlannedEvent {
        uint64_t offset_usec; /* from the policy's start */
        uint64_t event;       /* 0-based number of the event */
        uint64_t injection;   /* 0-based number of the injection; counts toward max_injections */
        bool has_target;      /* false: no target when the event came; vm, vcpu and injection are 0 */
        char vm[POLICY_VM_NAME_MAX + 1];
        uint32_t vcpu;
        size_t target_index; /* in the canonical list the event used */
        size_t part;         /* which injection of the event: 0 .. n_parts - 1 */
        size_t n_parts;      /* injections in this event: 1 (pick one), the targets (pick all), 0 (no target) */
        size_t mix_index;    /* the mix entry drawn */
        serror_syndrome syndrome;
        bool is_mce;      /* an x86 machine check: mce, not syndrome */
        serror_mce mce;
        serror_mode mode; /* the policy's on_pending */
        bool allow_ids;   /* the policy's allow_ids */
} PlannedEvent;

/* A plan for policy from seed. start_realtime_usec (CLOCK_REALTIME at the
 * start, in microseconds) matters only to a once schedule with "at". The
 * targets are copied, sorted canonically and de-duplicated; they are not
 * checked against the policy (see policy_targets_build()). policy may be
 * freed afterwards. 0, -EINVAL, -E2BIG (more than POLICY_TARGETS_MAX
 * targets) or -ENOMEM. */
int policy_plan_new(const Policy *policy, uint64_t seed, uint64_t start_realtime_usec, const PolicyTarget *targets,
                    size_t n_targets, PolicyPlan **ret);

PolicyPlan *policy_plan_free(PolicyPlan *plan);

/* Replace the targets (copied, sorted, de-duplicated). The new list is used
 * by every event whose first injection has not been taken yet (a peeked time
 * stays; choices are drawn at next); an event whose injections are being
 * taken keeps the list it started with. 0, -EINVAL, -E2BIG or -ENOMEM (the
 * old list stays). */
int policy_plan_set_targets(PolicyPlan *plan, const PolicyTarget *targets, size_t n_targets);

/* The offset of the next injection, drawing its time if not drawn yet
 * (calling it again returns the same offset). 1 with *ret_offset_usec, or 0
 * when the plan is over. Offsets never decrease. */
int policy_plan_peek(PolicyPlan *plan, uint64_t *ret_offset_usec);

/* Take the next injection. 1 with *ret, 0 when the plan is over. */
int policy_plan_next(PolicyPlan *plan, PlannedEvent *ret);

uint64_t policy_plan_seed(const PolicyPlan *plan);
/* How many events and injections have been taken so far. */
uint64_t policy_plan_events(const PolicyPlan *plan);
uint64_t policy_plan_injections(const PolicyPlan *plan);
/* The current canonical target list (as set_targets left it). */
size_t policy_plan_n_targets(const PolicyPlan *plan);
