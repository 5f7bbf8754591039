/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrorctl policy validate and plan: offline policy checks, and the exact timeline a policy would produce. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attach-proto.h"
#include "cli.h"
#include "clock-util.h"
#include "parse-util.h"
#include "policy.h"
#include "read-file.h"
#include "plan.h"

/* Offsets up to 2^62 ns, the plan's horizon, fit: "4611686018.427387s". */
#define OFFSET_WIDTH 18
/* A plan longer than this is cut, and says so: it is for reading. */
#define PLAN_ROWS_MAX 100000u
/* How far `plan` looks ahead for a policy that never stops by itself. */
#define PLAN_DEFAULT_FOR_USEC (UINT64_C(60) * 1000000)
#define VM_ARGS_MAX 256u
#define USEC_PER_SEC UINT64_C(1000000)

/* Options that serrorctl.c's getopt loop hands over (see cli.h). */
static bool arg_seed_set = false;
static uint64_t arg_seed = 0;
static bool arg_for_set = false;
static uint64_t arg_for_usec = 0;
static const char *arg_vms[VM_ARGS_MAX];
static size_t arg_n_vms = 0;

/* One --vm NAME[:VCPUS][,KEY=VALUE...], parsed. */
typedef struct VmArg {
        char name[ATTACH_NAME_MAX + 1];
        uint32_t first_vcpu;
        uint32_t last_vcpu;
        AttachLabel labels[ATTACH_LABELS_MAX];
        PolicyVmLabel label_refs[ATTACH_LABELS_MAX];
        size_t n_labels;
} VmArg;

static bool all_digits(const char *s, size_t len) {
        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

/* "4" (four vcpus: 0-3) or "2-5" (that range). */
static int parse_vcpu_spec(const char *s, size_t len, uint32_t *ret_first, uint32_t *ret_last) {
        char buf[32];
        const char *dash;
        uint32_t a, b;

        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = '\0';
        dash = strchr(buf, '-');
        if (!dash) {
                if (!all_digits(buf, len) || parse_u32(buf, &a) < 0 || a == 0 || a > POLICY_VCPU_INDEX_MAX + 1)
                        return -EINVAL;
                *ret_first = 0;
                *ret_last = a - 1;
                return 0;
        }
        buf[dash - buf] = '\0';
        if (!all_digits(buf, strlen(buf)) || !all_digits(dash + 1, strlen(dash + 1)) || parse_u32(buf, &a) < 0 ||
            parse_u32(dash + 1, &b) < 0 || a > b || b > POLICY_VCPU_INDEX_MAX)
                return -EINVAL;
        *ret_first = a;
        *ret_last = b;
        return 0;
}

/* NAME[:VCPUS][,KEY=VALUE...]. A VM name may itself hold ':', so only a last
 * ':' followed by a count or a range starts VCPUS. Label values cannot
 * hold ','. Without VCPUS the VM has one vcpu, 0. */
static int parse_vm_arg(const char *s, VmArg *ret) {
        const char *comma = strchr(s, ','), *colon = NULL, *p;
        size_t head_len = comma ? (size_t) (comma - s) : strlen(s), name_len = head_len;
        VmArg vm = {};

        for (size_t i = 0; i < head_len; i++)
                if (s[i] == ':')
                        colon = s + i;
        if (colon && parse_vcpu_spec(colon + 1, head_len - (size_t) (colon + 1 - s), &vm.first_vcpu, &vm.last_vcpu) == 0)
                name_len = (size_t) (colon - s);
        else {
                vm.first_vcpu = 0;
                vm.last_vcpu = 0;
        }
        if (name_len == 0 || name_len > ATTACH_NAME_MAX)
                return usage_error("invalid --vm '%s': expected NAME[:VCPUS][,KEY=VALUE...] with a VM name of 1 to %u "
                                   "characters", s, ATTACH_NAME_MAX);
        memcpy(vm.name, s, name_len);
        vm.name[name_len] = '\0';
        if (!attach_vm_name_is_valid(vm.name))
                return usage_error("invalid --vm '%s': '%s' is not a VM name (A-Z a-z 0-9 - _ . : + @, starting with a "
                                   "letter or digit)", s, vm.name);

        for (p = comma; p; p = strchr(p + 1, ',')) {
                const char *next = strchr(p + 1, ','), *eq;
                size_t len = next ? (size_t) (next - p - 1) : strlen(p + 1);
                AttachLabel *l;

                eq = memchr(p + 1, '=', len);
                if (!eq)
                        return usage_error("invalid --vm '%s': label '%.*s' is not KEY=VALUE", s, (int) len, p + 1);
                if (vm.n_labels >= ATTACH_LABELS_MAX)
                        return usage_error("invalid --vm '%s': more than %u labels", s, ATTACH_LABELS_MAX);
                l = &vm.labels[vm.n_labels];
                if ((size_t) (eq - p - 1) > ATTACH_LABEL_KEY_MAX || len - (size_t) (eq - p) > ATTACH_LABEL_VALUE_MAX)
                        return usage_error("invalid --vm '%s': label '%.*s' is too long", s, (int) len, p + 1);
                memcpy(l->key, p + 1, (size_t) (eq - p - 1));
                memcpy(l->value, eq + 1, len - (size_t) (eq - p));
                if (!attach_label_key_is_valid(l->key) || !attach_label_value_is_valid(l->value))
                        return usage_error("invalid --vm '%s': label '%.*s' is not a valid KEY=VALUE (keys: A-Z a-z "
                                           "0-9 - _ . /; values: printable ASCII)", s, (int) len, p + 1);
                for (size_t i = 0; i < vm.n_labels; i++)
                        if (streq(vm.labels[i].key, l->key))
                                return usage_error("invalid --vm '%s': label '%s' given twice", s, l->key);
                vm.n_labels++;
        }

        *ret = vm;
        for (size_t i = 0; i < ret->n_labels; i++)
                ret->label_refs[i] = (PolicyVmLabel) { ret->labels[i].key, ret->labels[i].value };
        return 0;
}

int policy_arg_seed(const char *value) {
        if (parse_u64(value, &arg_seed) < 0)
                return usage_error("invalid --seed '%s': expected a decimal or 0x hexadecimal number below 2^64", value);
        arg_seed_set = true;
        return 0;
}

int policy_arg_for(const char *value) {
        if (parse_duration_usec(value, &arg_for_usec) < 0 || arg_for_usec == 0)
                return usage_error("invalid --for '%s': expected a duration above 0 such as 30s, 5min or 2h", value);
        arg_for_set = true;
        return 0;
}

int policy_arg_vm(const char *value) {
        /* Only kept here: --vm is shared with verbs that take a plain VM
         * name, so its NAME[:VCPUS][,KEY=VALUE...] form is checked by plan. */
        if (arg_n_vms >= VM_ARGS_MAX)
                return usage_error("too many --vm options (at most %u)", VM_ARGS_MAX);
        arg_vms[arg_n_vms++] = value;
        return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(Policy *, policy_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(PolicyPlan *, policy_plan_free);


/* Reads and parses one file. A file that cannot be read: a -errno (never
 * -EINVAL) with the reason in why. Text that is not a valid policy, too long
 * included: -EINVAL with diag filled. */
static int load_policy(const char *path, Policy **ret, PolicyDiag *diag, char *why, size_t why_size) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0, too_big = 0;
        int r;

        r = read_named_file(path, POLICY_TEXT_MAX, &text, &size, &too_big);
        if (r == -EFBIG) {
                memset(diag, 0, sizeof(*diag));
                diag->n_errors = 1;
                snprintf(diag->errors[0].path, sizeof(diag->errors[0].path), ".");
                if (too_big > 0)
                        snprintf(diag->errors[0].message, sizeof(diag->errors[0].message),
                                 "the policy is %zu bytes long, at most %u allowed", too_big, POLICY_TEXT_MAX);
                else
                        snprintf(diag->errors[0].message, sizeof(diag->errors[0].message),
                                 "the policy is longer than the %u bytes allowed", POLICY_TEXT_MAX);
                return -EINVAL;
        }
        if (r < 0) {
                snprintf(why, why_size, "cannot read: %s", strerror(-r));
                return r == -EINVAL ? -EIO : r;
        }
        return policy_parse(text, size, ret, diag);
}

static void print_errors(const char *path, const PolicyDiag *diag) {
        for (size_t i = 0; i < diag->n_errors; i++) {
                const PolicyError *e = &diag->errors[i];

                if (e->line > 0)
                        fprintf(stderr, "%s:%u:%u: ", path, e->line, e->column);
                else
                        fprintf(stderr, "%s: ", path);
                if (!isempty(e->path))
                        fprintf(stderr, "%s: ", e->path);
                fprintf(stderr, "%s\n", e->message);
        }
        if (diag->n_dropped > 0)
                fprintf(stderr, "%s: ... and %zu more errors\n", path, diag->n_dropped);
}

static struct json_object *errors_to_json(const PolicyDiag *diag) {
        struct json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < diag->n_errors; i++) {
                const PolicyError *e = &diag->errors[i];
                struct json_object *o = json_object_new_object();

                if (!o)
                        return json_object_put_null(a);
                json_object_object_add(o, "line", e->line > 0 ? json_object_new_int64(e->line) : NULL);
                json_object_object_add(o, "column", e->column > 0 ? json_object_new_int64(e->column) : NULL);
                json_object_object_add(o, "path", isempty(e->path) ? NULL : json_object_new_string(e->path));
                json_object_object_add(o, "message", json_object_new_string(e->message));
                json_object_array_add(a, o);
        }
        return a;
}

static int verb_policy_validate(int argc, char *argv[]) {
        _cleanup_json_ struct json_object *results = NULL;
        _cleanup_free_ PolicyDiag *diag = malloc(sizeof(PolicyDiag));
        bool any_invalid = false, any_unreadable = false;

        if (!diag)
                return log_error_errno(-ENOMEM, "out of memory");
        if (arg_json != JSON_OFF) {
                results = json_object_new_array();
                if (!results)
                        return log_error_errno(-ENOMEM, "out of memory");
        }

        for (int i = 1; i < argc; i++) {
                _cleanup_(policy_freep) Policy *policy = NULL;
                struct json_object *o = NULL;
                char why[256] = "";
                int r;

                r = load_policy(argv[i], &policy, diag, why, sizeof(why));
                if (r == -ENOMEM)
                        return log_error_errno(r, "out of memory");
                if (r < 0 && r != -EINVAL)
                        any_unreadable = true;
                else if (r < 0)
                        any_invalid = true;

                if (results) {
                        o = json_object_new_object();
                        if (!o)
                                return log_error_errno(-ENOMEM, "out of memory");
                        json_object_object_add(o, "file", json_object_new_string(argv[i]));
                        json_object_object_add(o, "valid", json_object_new_boolean(r == 0));
                        json_object_object_add(o, "policy", policy ? json_object_new_string(policy->name) : NULL);
                        if (r == -EINVAL) {
                                json_object_object_add(o, "errors", errors_to_json(diag));
                                json_object_object_add(o, "errors_not_shown", json_object_new_int64((int64_t) diag->n_dropped));
                        } else if (r < 0) {
                                struct json_object *a = json_object_new_array(), *e = json_object_new_object();

                                json_object_object_add(e, "message", json_object_new_string(why));
                                json_object_array_add(a, e);
                                json_object_object_add(o, "errors", a);
                        } else
                                json_object_object_add(o, "errors", json_object_new_array());
                        json_object_array_add(results, o);
                } else if (r == 0)
                        printf("%s: valid policy \"%s\"\n", argv[i], policy->name);
                else if (r == -EINVAL)
                        print_errors(argv[i], diag);
                else
                        fprintf(stderr, "%s: %s\n", argv[i], why);
        }

        if (results)
                json_print(results);
        /* A file that could not be read is a failure (1); one that was read
         * and found wrong is an invalid value (2), like a bad argument. */
        if (any_unreadable)
                return CLI_EXIT_FAILURE;
        return any_invalid ? CLI_EXIT_USAGE : CLI_EXIT_SUCCESS;
}

static void free_vms(PolicyVm *vms, size_t n) {
        for (size_t i = 0; vms && i < n; i++)
                free((uint32_t *) vms[i].vcpus);
        free(vms);
}

/* The VMs a plan is made for, and what backs their names and labels. */
typedef struct PlanVms {
        PolicyVm *vms;
        size_t n;
        VmArg *args;            /* --vm */
        PolicyVmLabel *labels;  /* without --vm: the policy's labels */
} PlanVms;

static void plan_vms_done(PlanVms *v) {
        free_vms(v->vms, v->n);
        free(v->args);
        free(v->labels);
}

static uint32_t *vcpu_range(uint32_t first, uint32_t last) {
        uint32_t *v = malloc(((size_t) last - first + 1) * sizeof(uint32_t));

        for (uint32_t i = 0; v && i <= last - first; i++)
                v[i] = first + i;
        return v;
}

/* The VMs of --vm. v->n counts the VMs filled in, so plan_vms_done()
 * releases a half-built list too. */
static int vms_from_args(PlanVms *v) {
        uint64_t total = 0;

        v->args = calloc(arg_n_vms, sizeof(VmArg));
        v->vms = calloc(arg_n_vms, sizeof(PolicyVm));
        if (!v->args || !v->vms)
                return log_error_errno(-ENOMEM, "out of memory");
        for (size_t i = 0; i < arg_n_vms; i++) {
                VmArg *a = &v->args[i];
                int r = parse_vm_arg(arg_vms[i], a);

                if (r < 0)
                        return r;
                total += (uint64_t) a->last_vcpu - a->first_vcpu + 1;
                if (total > POLICY_TARGETS_MAX)
                        return usage_error("the --vm options describe more than %u vcpus", POLICY_TARGETS_MAX);
                v->vms[v->n++] = (PolicyVm) {
                        .name = a->name,
                        .labels = a->label_refs,
                        .n_labels = a->n_labels,
                        .vcpus = vcpu_range(a->first_vcpu, a->last_vcpu),
                        .n_vcpus = (size_t) a->last_vcpu - a->first_vcpu + 1,
                };
                if (!v->vms[i].vcpus)
                        return log_error_errno(-ENOMEM, "out of memory");
        }
        return 0;
}

/* Without --vm: one VM per name the policy lists, with the vcpus the policy
 * names (vcpu 0 when it says "all": every VM has a vcpu 0), carrying the
 * labels the policy asks for. Globs and labels alone name no VM. */
static int vms_from_policy(const Policy *p, PlanVms *v) {
        uint64_t per_vm = 0;

        if (p->n_names == 0)
                return usage_error("policy \"%s\" selects VMs by %s only, so plan cannot guess which VMs exist: "
                                   "describe them with --vm NAME[:VCPUS][,KEY=VALUE...]", p->name,
                                   p->n_globs > 0 ? "glob" : "label");
        if (p->all_vcpus)
                per_vm = 1;
        for (size_t i = 0; i < p->n_vcpus; i++)
                per_vm += (uint64_t) p->vcpus[i].last - p->vcpus[i].first + 1;
        if (per_vm * p->n_names > POLICY_TARGETS_MAX)
                return usage_error("policy \"%s\" names more than %u vcpus: describe the VMs with --vm", p->name,
                                   POLICY_TARGETS_MAX);

        v->vms = calloc(p->n_names, sizeof(PolicyVm));
        v->labels = calloc(p->n_labels + 1, sizeof(PolicyVmLabel));
        if (!v->vms || !v->labels)
                return log_error_errno(-ENOMEM, "out of memory");
        for (size_t i = 0; i < p->n_labels; i++)
                v->labels[i] = (PolicyVmLabel) { p->labels[i].key, p->labels[i].value };

        for (size_t i = 0; i < p->n_names; i++) {
                uint32_t *vcpus = malloc((size_t) per_vm * sizeof(uint32_t));
                size_t n = 0;

                if (!vcpus)
                        return log_error_errno(-ENOMEM, "out of memory");
                if (p->all_vcpus)
                        vcpus[n++] = 0;
                for (size_t j = 0; j < p->n_vcpus; j++)
                        for (uint64_t k = p->vcpus[j].first; k <= p->vcpus[j].last; k++)
                                vcpus[n++] = (uint32_t) k;
                v->vms[v->n++] = (PolicyVm) { .name = p->names[i], .labels = v->labels, .n_labels = p->n_labels,
                                              .vcpus = vcpus, .n_vcpus = n };
        }
        return 0;
}

static void format_offset(uint64_t usec, char *buf, size_t size) {
        snprintf(buf, size, "%" PRIu64 ".%06" PRIu64 "s", usec / USEC_PER_SEC, usec % USEC_PER_SEC);
}

static void format_target_summary(const PolicyTarget *t, size_t n, char *buf, size_t size) {
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < n && len < size;) {
                size_t j = i;

                /* Runs of consecutive vcpus of one VM read as a range. */
                while (j + 1 < n && streq(t[j + 1].vm, t[i].vm) && t[j + 1].vcpu == t[j].vcpu + 1)
                        j++;
                if (j == i)
                        len += (size_t) snprintf(buf + len, size - len, "%s%s:%" PRIu32, len ? ", " : "", t[i].vm,
                                                 t[i].vcpu);
                else
                        len += (size_t) snprintf(buf + len, size - len, "%s%s:%" PRIu32 "-%" PRIu32, len ? ", " : "",
                                                 t[i].vm, t[i].vcpu, t[j].vcpu);
                i = j + 1;
        }
        if (len >= size && size > 4)
                memcpy(buf + size - 4, "...", 4);
}

/* What a plan is made of beside the policy and its targets, and where each came from. */
typedef struct PlanChoice {
        uint64_t seed;
        const char *seed_source;  /* "option", "policy" or "generated" */
        uint64_t until;           /* UINT64_MAX: the plan ends by itself */
        const char *until_source; /* "for", "duration", "default", or NULL */
} PlanChoice;

static int plan_choose(const Policy *policy, PlanChoice *ret) {
        *ret = (PlanChoice) { .until = UINT64_MAX };

        if (arg_seed_set) {
                ret->seed = arg_seed;
                ret->seed_source = "option";
        } else if (policy->has_seed) {
                ret->seed = policy->seed;
                ret->seed_source = "policy";
        } else {
                /* What serrord does for a policy without a seed: pick one and say which. */
                if (getrandom(&ret->seed, sizeof(ret->seed), 0) != (ssize_t) sizeof(ret->seed))
                        return log_error_errno(negative_errno(), "cannot generate a seed: %m");
                ret->seed_source = "generated";
        }

        if (arg_for_set && (policy->duration_usec == 0 || arg_for_usec < policy->duration_usec)) {
                ret->until = arg_for_usec;
                ret->until_source = "for";
        } else if (policy->duration_usec > 0) {
                ret->until = policy->duration_usec;
                ret->until_source = "duration";
        } else if (!policy_has_end(policy)) {
                ret->until = PLAN_DEFAULT_FOR_USEC;
                ret->until_source = "default";
        }
        return 0;
}

static struct json_object *planned_event_to_json(const PlannedEvent *ev, const char *text) {
        struct json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "offset_usec", json_object_new_int64((int64_t) ev->offset_usec));
        json_object_object_add(o, "event", json_object_new_int64((int64_t) ev->event));
        json_object_object_add(o, "vm", ev->has_target ? json_object_new_string(ev->vm) : NULL);
        json_object_object_add(o, "vcpu", ev->has_target ? json_object_new_int64(ev->vcpu) : NULL);
        json_object_object_add(o, "syndrome", json_object_new_string(text));
        if (!ev->is_mce)
                json_object_object_add(o, "iss", json_object_new_int64(serror_syndrome_iss(&ev->syndrome)));
        return o;
}

/* Walk the plan up to choice->until (or PLAN_ROWS_MAX rows): into rows when
 * it is not NULL, as text lines otherwise. */
static int plan_emit_rows(PolicyPlan *plan, const PlanChoice *choice, int name_width, struct json_object *rows,
                          size_t *ret_n, bool *ret_truncated) {
        uint64_t offset;

        *ret_n = 0;
        *ret_truncated = false;
        while (policy_plan_peek(plan, &offset) > 0 && offset < choice->until) {
                PlannedEvent ev;
                char text[128] = "?", when[32];

                if (*ret_n >= PLAN_ROWS_MAX) {
                        *ret_truncated = true;
                        break;
                }
                if (policy_plan_next(plan, &ev) <= 0)
                        break;
                (*ret_n)++;
                if (ev.is_mce)
                        (void) serror_mce_format(&ev.mce, text, sizeof(text));
                else
                        (void) serror_syndrome_format(&ev.syndrome, text, sizeof(text));

                if (rows) {
                        struct json_object *o = planned_event_to_json(&ev, text);
                        if (!o)
                                return log_error_errno(-ENOMEM, "out of memory");
                        json_object_array_add(rows, o);
                        continue;
                }
                format_offset(ev.offset_usec, when, sizeof(when));
                if (ev.has_target)
                        printf("%-*s %-*s %5" PRIu32 "  %s\n", OFFSET_WIDTH, when, name_width, ev.vm, ev.vcpu, text);
                else
                        printf("%-*s %-*s %5s  %s\n", OFFSET_WIDTH, when, name_width, "-", "-", text);
        }
        return 0;
}

static int plan_print_json(const Policy *policy, const PlanChoice *choice, const PolicyTarget *targets,
                           size_t n_targets, bool assumed, PolicyPlan *plan) {
        _cleanup_json_ struct json_object *out = json_object_new_object(), *rows = json_object_new_array(),
                                          *targets_json = json_object_new_array();
        char seed_text[32];
        size_t n_rows;
        bool truncated;
        int r;

        if (!out || !rows || !targets_json)
                return log_error_errno(-ENOMEM, "out of memory");
        for (size_t i = 0; i < n_targets; i++) {
                struct json_object *t = json_object_new_object();

                json_object_object_add(t, "vm", json_object_new_string(targets[i].vm));
                json_object_object_add(t, "vcpu", json_object_new_int64(targets[i].vcpu));
                json_object_array_add(targets_json, t);
        }
        r = plan_emit_rows(plan, choice, 0, rows, &n_rows, &truncated);
        if (r < 0)
                return r;

        snprintf(seed_text, sizeof(seed_text), "%" PRIu64, choice->seed);
        json_object_object_add(out, "policy", json_object_new_string(policy->name));
        json_object_object_add(out, "seed", json_object_new_string(seed_text));
        json_object_object_add(out, "seed_source", json_object_new_string(choice->seed_source));
        json_object_object_add(out, "until_usec",
                               choice->until != UINT64_MAX ? json_object_new_int64((int64_t) choice->until) : NULL);
        json_object_object_add(out, "until_source",
                               choice->until_source ? json_object_new_string(choice->until_source) : NULL);
        json_object_object_add(out, "assumed_targets", json_object_new_boolean(assumed));
        json_object_object_add(out, "targets", TAKE_PTR(targets_json));
        json_object_object_add(out, "injections", TAKE_PTR(rows));
        json_object_object_add(out, "truncated", json_object_new_boolean(truncated));
        json_print(out);
        return 0;
}

static void plan_print_summary(const PlanChoice *choice, const PolicyTarget *targets, size_t n_targets, bool assumed,
                               PolicyPlan *plan, size_t n_rows, bool truncated, bool stop_when) {
        char summary[512];

        format_target_summary(targets, n_targets, summary, sizeof(summary));
        printf("\n%zu injection%s in %" PRIu64 " event%s.\n", n_rows, n_rows == 1 ? "" : "s",
               policy_plan_events(plan), policy_plan_events(plan) == 1 ? "" : "s");
        printf("Targets: %s%s\n", summary,
               assumed ? " (assumed from the policy's names; describe real VMs with --vm)" : "");
        if (streq(choice->seed_source, "generated"))
                printf("Seed: %" PRIu64 " (generated: repeat this plan with --seed %" PRIu64 ")\n", choice->seed,
                       choice->seed);
        else
                printf("Seed: %" PRIu64 " (%s)\n", choice->seed,
                       streq(choice->seed_source, "policy") ? "from the policy" : "--seed");
        if (choice->until_source) {
                char until_text[32];

                policy_format_duration(choice->until, until_text, sizeof(until_text));
                printf("Until: %s (%s)\n", until_text,
                       streq(choice->until_source, "for")      ? "--for" :
                       streq(choice->until_source, "duration") ? "the policy's duration" :
                                                                 "the policy has no end; choose a span with --for");
        }
        if (truncated)
                printf("Stopped after %u injections; use --for to plan a shorter span.\n", PLAN_ROWS_MAX);
        if (stop_when)
                printf("The policy's stop_when may halt it earlier, on what its guests do.\n");
}

static int verb_policy_plan(int argc, char *argv[]) {
        _cleanup_free_ PolicyDiag *diag = malloc(sizeof(PolicyDiag));
        _cleanup_(policy_plan_freep) PolicyPlan *plan = NULL;
        _cleanup_(policy_freep) Policy *policy = NULL;
        _cleanup_free_ PolicyTarget *targets = NULL;
        _cleanup_(plan_vms_done) PlanVms vms = {};
        size_t n_targets = 0, name_width = 6, n_rows;
        bool truncated, assumed = arg_n_vms == 0;
        char why[256] = "";
        PlanChoice choice;
        int r;

        if (!diag)
                return log_error_errno(-ENOMEM, "out of memory");
        r = load_policy(argv[1], &policy, diag, why, sizeof(why));
        if (r == -EINVAL) {
                print_errors(argv[1], diag);
                return CLI_EXIT_USAGE;
        }
        if (r == -ENOMEM)
                return log_error_errno(r, "out of memory");
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", argv[1], why);
                return CLI_EXIT_FAILURE;
        }

        r = assumed ? vms_from_policy(policy, &vms) : vms_from_args(&vms);
        if (r < 0)
                return r;
        r = policy_targets_build(policy, vms.vms, vms.n, &targets, &n_targets);
        if (r < 0)
                return log_error_errno(r, "cannot list the targets: %s", strerror(-r));
        if (n_targets == 0)
                return usage_error("no vcpu of the --vm VMs matches the targets of policy \"%s\"", policy->name);
        r = plan_choose(policy, &choice);
        if (r < 0)
                return r;
        r = policy_plan_new(policy, choice.seed, now_usec(CLOCK_REALTIME), targets, n_targets, &plan);
        if (r < 0)
                return log_error_errno(r, "cannot plan policy \"%s\": %s", policy->name, strerror(-r));

        if (arg_json != JSON_OFF)
                return plan_print_json(policy, &choice, targets, n_targets, assumed, plan);

        for (size_t i = 0; i < n_targets; i++)
                if (strlen(targets[i].vm) > name_width)
                        name_width = strlen(targets[i].vm);
        if (arg_legend)
                printf("%-*s %-*s %5s  %s\n", OFFSET_WIDTH, "OFFSET", (int) name_width, "TARGET", "VCPU", "SYNDROME");
        r = plan_emit_rows(plan, &choice, (int) name_width, NULL, &n_rows, &truncated);
        if (r < 0)
                return r;
        if (arg_legend)
                plan_print_summary(&choice, targets, n_targets, assumed, plan, n_rows, truncated,
                                   policy->stop_when.enabled);
        return 0;
}

int verb_policy(int argc, char *argv[]) {
        const char *command = argv[1];

        if (streq(command, "validate")) {
                if (argc < 3)
                        return usage_error("'policy validate' needs FILE... (see serrorctl policy --help)");
                return verb_policy_validate(argc - 1, argv + 1);
        }
        if (streq(command, "plan")) {
                if (argc < 3)
                        return usage_error("'policy plan' needs FILE (see serrorctl policy --help)");
                if (argc > 3)
                        return usage_error("'policy plan' takes only FILE, got unexpected '%s'", argv[3]);
                return verb_policy_plan(argc - 1, argv + 1);
        }
        return verb_policy_daemon(argc, argv);
}
