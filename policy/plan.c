/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Schedule arithmetic: a policy's injections, one at a time, from a seed and a canonical target list. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "rng.h"
#include "plan.h"

#define NSEC_PER_USEC UINT64_C(1000)
/* Beyond this a plan ends: far past any duration, and far from overflow. */
#define HORIZON_NS (UINT64_C(1) << 62)

typedef struct PlanTarget {
        uint32_t vm; /* index into TargetList.names */
        uint32_t vcpu;
} PlanTarget;

/* Targets in canonical order, with each VM name stored once. */
typedef struct TargetList {
        char **names;
        size_t n_names;
        PlanTarget *items;
        size_t n_items;
} TargetList;

struct PolicyPlan {
        /* What the plan needs of the policy, copied. */
        PolicySchedule schedule;
        uint64_t origin_ns; /* start_delay */
        uint64_t end_ns;    /* duration, or UINT64_MAX */
        uint64_t max_injections;
        PolicyPick pick;
        serror_mode mode;
        bool allow_ids;
        PolicyMixEntry *mix;
        size_t n_mix;
        uint64_t total_weight;
        uint64_t seed;
        uint64_t start_realtime_usec;

        Rng rng;
        TargetList *targets;
        TargetList *next_targets; /* set while an event is being taken */

        uint64_t k;           /* the next event of the schedule to draw a time for */
        uint64_t poisson_ns;  /* time of the last poisson event drawn */
        bool have_time;       /* time_ns holds the upcoming event's time */
        uint64_t time_ns;
        bool in_event;        /* an event's injections are being taken */
        size_t part, n_parts; /* of the event being taken */
        size_t pick_index;
        size_t mix_index;
        uint64_t events;
        uint64_t injections;
        bool over;
};

static TargetList *target_list_free(TargetList *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n_names; i++)
                free(l->names[i]);
        free(l->names);
        free(l->items);
        free(l);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(TargetList *, target_list_free);

static int target_compare_qsort(const void *a, const void *b) {
        return policy_target_compare(a, b);
}

static int target_list_new(const PolicyTarget *targets, size_t n, TargetList **ret) {
        _cleanup_(target_list_freep) TargetList *l = NULL;
        _cleanup_free_ PolicyTarget *sorted = NULL;

        if (!targets && n > 0)
                return -EINVAL;
        if (n > POLICY_TARGETS_MAX)
                return -E2BIG;
        for (size_t i = 0; i < n; i++)
                if (isempty(targets[i].vm) || strlen(targets[i].vm) > POLICY_VM_NAME_MAX ||
                    targets[i].vcpu > POLICY_VCPU_INDEX_MAX)
                        return -EINVAL;

        l = calloc(1, sizeof(TargetList));
        if (!l)
                return -ENOMEM;
        if (n == 0) {
                *ret = TAKE_PTR(l);
                return 0;
        }

        sorted = malloc(n * sizeof(PolicyTarget));
        l->items = malloc(n * sizeof(PlanTarget));
        l->names = malloc(n * sizeof(char *));
        if (!sorted || !l->items || !l->names)
                return -ENOMEM;
        memcpy(sorted, targets, n * sizeof(PolicyTarget));
        qsort(sorted, n, sizeof(PolicyTarget), target_compare_qsort);

        for (size_t i = 0; i < n; i++) {
                if (i > 0 && policy_target_compare(&sorted[i], &sorted[i - 1]) == 0)
                        continue;
                if (l->n_names == 0 || !streq(l->names[l->n_names - 1], sorted[i].vm)) {
                        l->names[l->n_names] = strdup(sorted[i].vm);
                        if (!l->names[l->n_names])
                                return -ENOMEM;
                        l->n_names++;
                }
                l->items[l->n_items++] = (PlanTarget) { .vm = (uint32_t) (l->n_names - 1), .vcpu = sorted[i].vcpu };
        }

        *ret = TAKE_PTR(l);
        return 0;
}

PolicyPlan *policy_plan_free(PolicyPlan *plan) {
        if (!plan)
                return NULL;
        target_list_free(plan->targets);
        target_list_free(plan->next_targets);
        free(plan->mix);
        free(plan);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(PolicyPlan *, policy_plan_free);

int policy_plan_new(const Policy *policy, uint64_t seed, uint64_t start_realtime_usec, const PolicyTarget *targets,
                    size_t n_targets, PolicyPlan **ret) {
        _cleanup_(policy_plan_freep) PolicyPlan *plan = NULL;
        int r;

        if (!policy || !ret || policy->n_mix == 0 || !policy->mix || policy->total_weight == 0 ||
            (unsigned) policy->schedule.type >= _POLICY_SCHEDULE_MAX || (unsigned) policy->pick >= _POLICY_PICK_MAX)
                return -EINVAL;

        plan = calloc(1, sizeof(PolicyPlan));
        if (!plan)
                return -ENOMEM;
        plan->schedule = policy->schedule;
        plan->origin_ns = policy->start_delay_usec * NSEC_PER_USEC;
        plan->end_ns = policy->duration_usec > 0 ? policy->duration_usec * NSEC_PER_USEC : UINT64_MAX;
        plan->max_injections = policy->max_injections;
        plan->pick = policy->pick;
        plan->mode = policy->on_pending;
        plan->allow_ids = policy->allow_ids;
        plan->n_mix = policy->n_mix;
        plan->total_weight = policy->total_weight;
        plan->seed = seed;
        plan->start_realtime_usec = start_realtime_usec;
        plan->mix = malloc(policy->n_mix * sizeof(PolicyMixEntry));
        if (!plan->mix)
                return -ENOMEM;
        memcpy(plan->mix, policy->mix, policy->n_mix * sizeof(PolicyMixEntry));

        /* Policies only hold durations up to POLICY_DURATION_MAX_USEC, but a
         * hand-built one must not overflow the arithmetic below either. */
        if (policy->start_delay_usec > POLICY_DURATION_MAX_USEC || policy->duration_usec > POLICY_DURATION_MAX_USEC ||
            plan->schedule.after_usec > POLICY_DURATION_MAX_USEC ||
            plan->schedule.period_usec > POLICY_DURATION_MAX_USEC ||
            plan->schedule.jitter_usec > POLICY_DURATION_MAX_USEC ||
            plan->schedule.spacing_usec > POLICY_DURATION_MAX_USEC ||
            (plan->schedule.type == POLICY_SCHEDULE_POISSON && plan->schedule.mean_ns == 0) ||
            (plan->schedule.type == POLICY_SCHEDULE_INTERVAL &&
             plan->schedule.jitter_usec >= plan->schedule.period_usec) ||
            (plan->schedule.type == POLICY_SCHEDULE_BURST &&
             (plan->schedule.count == 0 ||
              (plan->schedule.period_usec > 0 &&
               plan->schedule.period_usec <= (plan->schedule.count - 1) * plan->schedule.spacing_usec))))
                /* The checks policy_parse() makes that keep offsets in order. */
                return -EINVAL;

        rng_seed(&plan->rng, seed);

        r = target_list_new(targets, n_targets, &plan->targets);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(plan);
        return 0;
}

int policy_plan_set_targets(PolicyPlan *plan, const PolicyTarget *targets, size_t n_targets) {
        TargetList *l;
        int r;

        if (!plan)
                return -EINVAL;
        r = target_list_new(targets, n_targets, &l);
        if (r < 0)
                return r;
        if (plan->in_event) {
                target_list_free(plan->next_targets);
                plan->next_targets = l;
        } else {
                target_list_free(plan->targets);
                plan->targets = l;
        }
        return 0;
}

/* a + b * c, or HORIZON_NS when that is beyond it. */
static uint64_t add_mul(uint64_t a, uint64_t b, uint64_t c) {
        unsigned __int128 v = (unsigned __int128) a + (unsigned __int128) b * c;

        return v > HORIZON_NS ? HORIZON_NS : (uint64_t) v;
}

/* Draw the time of event k. false when the schedule has no event k. */
static bool draw_time(PolicyPlan *plan, uint64_t k, uint64_t *ret_ns) {
        const PolicySchedule *s = &plan->schedule;
        uint64_t t, jitter_usec, burst, index, gap;

        switch (s->type) {
        case POLICY_SCHEDULE_ONCE:
                if (k > 0)
                        return false;
                if (!s->has_at) {
                        *ret_ns = add_mul(plan->origin_ns, s->after_usec, NSEC_PER_USEC);
                        return true;
                }
                /* A time already past when the policy started never comes. */
                if (s->at_usec < plan->start_realtime_usec)
                        return false;
                *ret_ns = add_mul(0, s->at_usec - plan->start_realtime_usec, NSEC_PER_USEC);
                return true;

        case POLICY_SCHEDULE_INTERVAL:
                t = add_mul(plan->origin_ns, k, s->period_usec * NSEC_PER_USEC);
                if (s->jitter_usec > 0) {
                        jitter_usec = rng_bounded(&plan->rng, s->jitter_usec + 1);
                        t = add_mul(t, jitter_usec, NSEC_PER_USEC);
                }
                *ret_ns = t;
                return true;

        case POLICY_SCHEDULE_POISSON:
                if (k == 0)
                        plan->poisson_ns = plan->origin_ns;
                gap = rng_exponential_scaled(&plan->rng, s->mean_ns);
                plan->poisson_ns = add_mul(plan->poisson_ns, gap, 1);
                *ret_ns = plan->poisson_ns;
                return true;

        case POLICY_SCHEDULE_BURST:
                burst = k / s->count;
                index = k % s->count;
                if (burst > 0 && s->period_usec == 0)
                        return false;
                t = add_mul(plan->origin_ns, burst, s->period_usec * NSEC_PER_USEC);
                *ret_ns = add_mul(t, index, s->spacing_usec * NSEC_PER_USEC);
                return true;

        default:
                return false;
        }
}

int policy_plan_peek(PolicyPlan *plan, uint64_t *ret_offset_usec) {
        uint64_t t;

        if (!plan)
                return -EINVAL;
        if (plan->over)
                return 0;

        if (!plan->have_time) {
                if (plan->max_injections > 0 && plan->injections >= plan->max_injections) {
                        plan->over = true;
                        return 0;
                }
                if (!draw_time(plan, plan->k, &t) || t >= plan->end_ns || t >= HORIZON_NS) {
                        plan->over = true;
                        return 0;
                }
                plan->k++;
                plan->time_ns = t;
                plan->have_time = true;
        }

        if (ret_offset_usec)
                *ret_offset_usec = plan->time_ns / NSEC_PER_USEC;
        return 1;
}

static size_t draw_mix(PolicyPlan *plan) {
        uint64_t r;

        if (plan->n_mix <= 1)
                return 0;
        r = rng_bounded(&plan->rng, plan->total_weight);
        for (size_t i = 0; i < plan->n_mix; i++) {
                if (r < plan->mix[i].weight)
                        return i;
                r -= plan->mix[i].weight;
        }
        return plan->n_mix - 1; /* unreachable while total_weight is the sum of the weights */
}

static void end_event(PolicyPlan *plan) {
        plan->in_event = false;
        plan->have_time = false;
        plan->events++;
        if (plan->next_targets) {
                target_list_free(plan->targets);
                plan->targets = TAKE_PTR(plan->next_targets);
        }
}

int policy_plan_next(PolicyPlan *plan, PlannedEvent *ret) {
        PlannedEvent ev = {};
        const TargetList *l;
        size_t index;
        int r;

        if (!plan || !ret)
                return -EINVAL;
        r = policy_plan_peek(plan, &ev.offset_usec);
        if (r <= 0)
                return r;

        l = plan->targets;
        if (!plan->in_event) {
                plan->mix_index = draw_mix(plan);
                if (l->n_items == 0)
                        plan->n_parts = 0;
                else if (plan->pick == POLICY_PICK_ONE) {
                        plan->pick_index = (size_t) rng_bounded(&plan->rng, l->n_items);
                        plan->n_parts = 1;
                } else {
                        plan->n_parts = l->n_items;
                        if (plan->max_injections > 0 && plan->max_injections - plan->injections < plan->n_parts)
                                plan->n_parts = (size_t) (plan->max_injections - plan->injections);
                }
                plan->part = 0;
                plan->in_event = true;
        }

        ev.event = plan->events;
        ev.n_parts = plan->n_parts;
        ev.mix_index = plan->mix_index;
        ev.syndrome = plan->mix[plan->mix_index].syndrome;
        ev.is_mce = plan->mix[plan->mix_index].is_mce;
        ev.mce = plan->mix[plan->mix_index].mce;
        ev.mode = plan->mode;
        ev.allow_ids = plan->allow_ids;

        if (plan->n_parts == 0) {
                end_event(plan);
                *ret = ev;
                return 1;
        }

        index = plan->pick == POLICY_PICK_ONE ? plan->pick_index : plan->part;
        ev.has_target = true;
        ev.injection = plan->injections;
        ev.part = plan->part;
        ev.target_index = index;
        ev.vcpu = l->items[index].vcpu;
        memcpy(ev.vm, l->names[l->items[index].vm], strlen(l->names[l->items[index].vm]) + 1);

        plan->injections++;
        plan->part++;
        if (plan->part == plan->n_parts)
                end_event(plan);

        *ret = ev;
        return 1;
}

uint64_t policy_plan_seed(const PolicyPlan *plan) {
        return plan ? plan->seed : 0;
}

uint64_t policy_plan_events(const PolicyPlan *plan) {
        return plan ? plan->events : 0;
}

uint64_t policy_plan_injections(const PolicyPlan *plan) {
        return plan ? plan->injections : 0;
}

size_t policy_plan_n_targets(const PolicyPlan *plan) {
        if (!plan)
                return 0;
        return plan->next_targets ? plan->next_targets->n_items : plan->targets->n_items;
}
