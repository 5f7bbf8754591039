/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs loaded policies: a seed, a plan and one timer each; the policy directory and its atomic reload. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "list.h"
#include "clock-util.h"
#include "injection.h"
#include "log.h"
#include "manager.h"
#include "policy-runner.h"
#include "read-file.h"
#include "vm.h"

/* Each policy injection gets this long to land; a policy has no timeout key. */
#define POLICY_INJECT_TIMEOUT_USEC (5 * 1000000ull)
/* Injections taken per timer callback before yielding to the loop. */
#define POLICY_BURST_PER_WAKEUP 256

static const char *const run_state_names[_RUN_STATE_MAX] = {
        [RUN_LOADED] = "loaded",
        [RUN_RUNNING] = "running",
        [RUN_STOPPED] = "stopped",
        [RUN_FINISHED] = "finished",
        [RUN_HALTED] = "halted",
};

const char *run_state_to_string(RunState s) {
        return s < _RUN_STATE_MAX ? run_state_names[s] : NULL;
}

static LoadedPolicy *find_policy_by_id(Manager *m, uint64_t id) {
        for (LoadedPolicy *rp = m->policies; rp; rp = rp->next)
                if (rp->id == id)
                        return rp;
        return NULL;
}

static void on_outcome(Injection *i, const InjectionRecord *r, void *userdata) {
        LoadedPolicy *rp = find_policy_by_id(i->manager, (uint64_t) (uintptr_t) userdata);

        if (!rp)
                return;
        if (serror_outcome_landed(r->outcome))
                rp->n_landed++;
        else if (r->outcome == SERROR_OUTCOME_FAILED)
                rp->n_failed++;
}

/* The VMs as the plan sees them: names, labels, attached vcpus. */
static int build_targets(Manager *m, const Policy *p, PolicyTarget **ret, size_t *ret_n) {
        size_t n_vms = 0, n_labels = 0, n_vcpus = 0;
        _cleanup_free_ PolicyVm *vms = NULL;
        _cleanup_free_ PolicyVmLabel *labels = NULL;
        _cleanup_free_ uint32_t *vcpus = NULL;
        size_t li = 0, vi = 0, k = 0;

        for (VM *vm = m->vms; vm; vm = vm->next) {
                n_vms++;
                n_labels += vm->n_labels;
                n_vcpus += vm->n_vcpus;
        }
        if (n_vms == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        vms = calloc(n_vms, sizeof(*vms));
        labels = calloc(n_labels + 1, sizeof(*labels));
        vcpus = calloc(n_vcpus + 1, sizeof(*vcpus));
        if (!vms || !labels || !vcpus)
                return -ENOMEM;
        for (VM *vm = m->vms; vm; vm = vm->next, k++) {
                vms[k] = (PolicyVm) { .name = vm->name, .labels = labels + li, .n_labels = vm->n_labels,
                                      .vcpus = vcpus + vi, .n_vcpus = vm->n_vcpus };
                for (unsigned j = 0; j < vm->n_labels; j++)
                        labels[li++] = (PolicyVmLabel) { vm->labels[j].key, vm->labels[j].value };
                for (unsigned j = 0; j < vm->n_vcpus; j++)
                        vcpus[vi++] = vm->vcpus[j].index;
        }
        return policy_targets_build(p, vms, n_vms, ret, ret_n);
}

/* Targets come in canonical order: one VM's vcpus are adjacent. */
static size_t count_target_vms(const PolicyTarget *targets, size_t n) {
        size_t vms = 0;

        for (size_t i = 0; i < n; i++)
                if (i == 0 || !streq(targets[i].vm, targets[i - 1].vm))
                        vms++;
        return vms;
}

static void schedule_next(LoadedPolicy *rp);

static void fire(LoadedPolicy *rp, const PlannedEvent *ev) {
        Manager *m = rp->manager;
        GuardVerdict guard = GUARD_PASS;
        InjectionParams params = {
                .syndrome = ev->is_mce ? NULL : &ev->syndrome,
                .mce = ev->is_mce ? &ev->mce : NULL,
                .allow_ids = ev->allow_ids,
                .mode = ev->mode,
                .timeout_usec = POLICY_INJECT_TIMEOUT_USEC,
                .origin = rp->policy->name,
                .policy_id = rp->id,
                .reaction_window_usec = policy_stop_window_usec(&rp->policy->stop_when),
        };
        VM *vm;
        int r;

        if (!ev->has_target) {
                rp->n_no_target++;
                return;
        }
        vm = manager_find_vm(m, ev->vm);
        if (!vm) {
                rp->n_no_target++;
                return;
        }
        /* A policy's error names its architecture: a machine check is for
         * x86 agents only, which say so in their HELLO. */
        if (ev->is_mce && !(vm->capabilities & ATTACH_CAP_MCE)) {
                rp->n_no_target++;
                log_debug("Policy %s: %s takes no machine checks (%s); event skipped.", rp->policy->name, vm->name,
                          attach_arch_to_string(vm->arch) ?: "?");
                return;
        }
        r = injection_start(m, vm, ev->vcpu, &params, on_outcome, (void *) (uintptr_t) rp->id, NULL, &guard);
        if (r < 0) {
                rp->n_refused++;
                log_debug("Policy %s: injection %" PRIu64 " into %s vcpu %" PRIu32 " not sent: %s.", rp->policy->name,
                          ev->injection, ev->vm, ev->vcpu,
                          r == -EPERM ? guard_verdict_describe(guard) : strerror(-r));
                return;
        }
        rp->n_sent++;
}

static void on_timer(struct ev_loop *loop, ev_io *w, int revents) {
        LoadedPolicy *rp = container_of(w, LoadedPolicy, timer_io);
        uint64_t now_offset = now_usec(CLOCK_MONOTONIC) - rp->start_monotonic_usec, offset, expirations;
        PlannedEvent ev;

        (void) !read(rp->timer_fd, &expirations, sizeof(expirations));

        for (int n = 0; n < POLICY_BURST_PER_WAKEUP; n++) {
                if (policy_plan_peek(rp->plan, &offset) <= 0 || offset > now_offset)
                        break;
                if (policy_plan_next(rp->plan, &ev) <= 0)
                        break;
                /* Lateness (actual minus planned) is what bench/policy-lateness.sh reads. */
                log_debug("Policy %s: injection %" PRIu64 " planned at +%" PRIu64 " us, %" PRIu64 " us late.",
                          rp->policy->name, ev.injection, ev.offset_usec, now_offset - ev.offset_usec);
                fire(rp, &ev);
        }
        schedule_next(rp);
}

static void timer_disarm(LoadedPolicy *rp) {
        struct itimerspec off = {};

        ev_io_stop(rp->manager->loop, &rp->timer_io);
        if (rp->timer_fd >= 0)
                (void) timerfd_settime(rp->timer_fd, 0, &off, NULL);
}

static void schedule_next(LoadedPolicy *rp) {
        struct ev_loop *loop = rp->manager->loop;
        struct itimerspec when = {};
        uint64_t offset, due;

        if (policy_plan_peek(rp->plan, &offset) <= 0) {
                timer_disarm(rp);
                log_info("Policy %s finished: %" PRIu64 " injections sent, %" PRIu64 " refused by guards, %" PRIu64
                         " events without a target.",
                         rp->policy->name, rp->n_sent, rp->n_refused, rp->n_no_target);
                rp->state = RUN_FINISHED;
                manager_policy_changed(rp->manager, rp);
                return;
        }
        /* One absolute timer at the next event: an idle policy costs no
         * wake-ups. A zero it_value would disarm it, hence the 1 ns floor. */
        due = rp->start_monotonic_usec + offset;
        when.it_value.tv_sec = (time_t) (due / 1000000u);
        when.it_value.tv_nsec = (long) (due % 1000000u) * 1000;
        if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0)
                when.it_value.tv_nsec = 1;
        if (timerfd_settime(rp->timer_fd, TFD_TIMER_ABSTIME, &when, NULL) < 0) {
                log_error_errno(errno, "Policy %s: failed to arm its timer: %m", rp->policy->name);
                return;
        }
        if (!ev_is_active(&rp->timer_io))
                ev_io_start(loop, &rp->timer_io);
}

int loaded_policy_start(LoadedPolicy *rp) {
        _cleanup_free_ PolicyTarget *targets = NULL;
        size_t n = 0;
        int r;

        loaded_policy_stop(rp, RUN_STOPPED);
        r = build_targets(rp->manager, rp->policy, &targets, &n);
        if (r < 0)
                return log_error_errno(r, "Policy %s: failed to match targets: %m", rp->policy->name);
        rp->start_realtime_usec = now_usec(CLOCK_REALTIME);
        rp->start_monotonic_usec = now_usec(CLOCK_MONOTONIC);
        r = policy_plan_new(rp->policy, rp->seed, rp->start_realtime_usec, targets, n, &rp->plan);
        if (r < 0)
                return log_error_errno(r, "Policy %s: failed to plan: %m", rp->policy->name);
        rp->n_sent = rp->n_refused = rp->n_no_target = rp->n_landed = rp->n_failed = 0;
        policy_stop_state_clear(&rp->stop);
        rp->max_target_vms = count_target_vms(targets, n);
        rp->stop_reason[0] = '\0';
        rp->state = RUN_RUNNING;
        log_info("Policy %s started with seed %" PRIu64 "%s, %zu target(s).", rp->policy->name, rp->seed,
                 rp->seed_generated ? " (generated)" : "", n);
        schedule_next(rp);
        manager_policy_changed(rp->manager, rp);
        return 0;
}

void loaded_policy_stop(LoadedPolicy *rp, RunState state) {
        timer_disarm(rp);
        rp->plan = policy_plan_free(rp->plan);
        if (rp->state == RUN_RUNNING) {
                rp->state = state;
                log_info("Policy %s stopped after %" PRIu64 " injection(s).", rp->policy->name, rp->n_sent);
                manager_policy_changed(rp->manager, rp);
        }
}

void loaded_policies_targets_changed(Manager *m) {
        for (LoadedPolicy *rp = m->policies; rp; rp = rp->next) {
                _cleanup_free_ PolicyTarget *targets = NULL;
                size_t n = 0;
                int r;

                if (rp->state != RUN_RUNNING)
                        continue;
                r = build_targets(m, rp->policy, &targets, &n);
                if (r >= 0)
                        r = policy_plan_set_targets(rp->plan, targets, n);
                if (r >= 0 && count_target_vms(targets, n) > rp->max_target_vms)
                        rp->max_target_vms = count_target_vms(targets, n);
                if (r < 0)
                        log_warning_errno(r, "Policy %s: failed to update its targets: %m", rp->policy->name);
        }
}

int loaded_policy_load(Manager *m, const char *text, size_t size, const char *source, bool from_directory,
                        LoadedPolicy **ret, PolicyDiag *diag) {
        LoadedPolicy *rp;
        Policy *p = NULL;
        int r;

        r = policy_parse(text, size, &p, diag);
        if (r < 0)
                return r;
        if (manager_find_policy(m, p->name)) {
                policy_free(p);
                return -EEXIST;
        }
        rp = calloc(1, sizeof(*rp));
        if (!rp) {
                policy_free(p);
                return -ENOMEM;
        }
        rp->manager = m;
        rp->timer_fd = -EBADF;
        rp->id = ++m->next_policy_id;
        rp->policy = p;
        rp->text = strndup(text, size);
        rp->source = strdup(source);
        rp->from_directory = from_directory;
        if (!rp->text || !rp->source) {
                loaded_policy_free(rp);
                return -ENOMEM;
        }
        if (p->has_seed)
                rp->seed = p->seed;
        else {
                /* A run can only be repeated if its seed is known: generate, log, show. */
                if (getrandom(&rp->seed, sizeof(rp->seed), GRND_NONBLOCK) != sizeof(rp->seed))
                        rp->seed = now_usec(CLOCK_REALTIME) ^ ((uint64_t) getpid() << 32);
                rp->seed_generated = true;
        }
        rp->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (rp->timer_fd < 0) {
                r = negative_errno();
                loaded_policy_free(rp);
                return r;
        }
        ev_io_init(&rp->timer_io, on_timer, rp->timer_fd, EV_READ);
        LIST_PREPEND(m->policies, rp);
        log_info("Policy %s loaded from %s (seed %" PRIu64 "%s).", p->name, source, rp->seed,
                 rp->seed_generated ? ", generated" : "");
        *ret = rp;
        return 0;
}

LoadedPolicy *loaded_policy_free(LoadedPolicy *rp) {
        Manager *m;

        if (!rp)
                return NULL;
        m = rp->manager;
        ev_io_stop(m->loop, &rp->timer_io);
        safe_close(rp->timer_fd);
        policy_plan_free(rp->plan);
        policy_stop_state_clear(&rp->stop);
        /* One that failed to load never joined the list. */
        if (rp->prev || m->policies == rp)
                LIST_REMOVE(m->policies, rp);
        policy_free(rp->policy);
        free(rp->text);
        free(rp->source);
        free(rp);
        return NULL;
}

void loaded_policies_reaction(Manager *m, const InjectionRecord *r) {
        LoadedPolicy *rp = r->policy_id ? find_policy_by_id(m, r->policy_id) : NULL;
        PolicyReaction reaction;
        int k;

        /* Not a policy's, or from before this run started. */
        if (!rp || rp->state != RUN_RUNNING || !rp->policy->stop_when.enabled ||
            r->requested_usec < rp->start_realtime_usec)
                return;
        reaction = (PolicyReaction) {
                .vm = r->vm,
                .fate = r->reaction.fate,
                .taken_after_usec = r->reaction.taken_after_usec,
                .window_usec = r->reaction.window_usec,
                .taken_observable = r->reaction.taken_watched,
        };
        k = policy_stop_feed(&rp->policy->stop_when, &rp->stop, &reaction, now_usec(CLOCK_MONOTONIC),
                             rp->max_target_vms, rp->stop_reason, sizeof(rp->stop_reason));
        if (k < 0) {
                log_oom();
                return;
        }
        if (k == 0)
                return;
        log_notice("Policy %s halted by its stop condition: %s.", rp->policy->name, rp->stop_reason);
        loaded_policy_stop(rp, RUN_HALTED);
}

int loaded_policy_next_offset(LoadedPolicy *rp, uint64_t *ret) {
        if (rp->state != RUN_RUNNING || !rp->plan)
                return 0;
        return policy_plan_peek(rp->plan, ret);
}

/* A loaded file, before the swap. */
typedef struct PolicyFile {
        char *path;
        char *text;
        size_t size;
        Policy *policy;
} PolicyFile;

static int json_suffix(const struct dirent *d) {
        size_t n = strlen(d->d_name);
        return d->d_name[0] != '.' && n > 5 && streq(d->d_name + n - 5, ".json");
}

/* Read and parse files[i]; what is wrong with it (also a name that another file
 * or a policy loaded over the bus has) goes to err. */
static void policy_file_check(Manager *m, PolicyFile *files, size_t i, FILE *err) {
        PolicyFile *f = &files[i];
        PolicyDiag diag;
        int r;

        r = read_regular_file(f->path, POLICY_TEXT_MAX, &f->text, &f->size);
        if (r < 0) {
                fprintf(err, "%s: %s\n", f->path, read_file_strerror(r));
                return;
        }
        r = policy_parse(f->text, f->size, &f->policy, &diag);
        if (r < 0) {
                for (size_t k = 0; k < diag.n_errors; k++) {
                        char line[512];
                        policy_error_format(&diag.errors[k], line, sizeof(line));
                        fprintf(err, "%s:%s\n", f->path, line);
                }
                if (diag.n_errors == 0)
                        fprintf(err, "%s: %s\n", f->path, strerror(-r));
                return;
        }
        for (size_t k = 0; k < i; k++)
                if (files[k].policy && streq(files[k].policy->name, f->policy->name))
                        fprintf(err, "%s: policy name \"%s\" is also used by %s\n", f->path, f->policy->name,
                                files[k].path);
        for (LoadedPolicy *rp = m->policies; rp; rp = rp->next)
                if (!rp->from_directory && streq(rp->policy->name, f->policy->name))
                        fprintf(err, "%s: policy name \"%s\" is already loaded from %s\n", f->path, f->policy->name,
                                rp->source);
}

static bool policy_file_is_running(PolicyFile *f, const LoadedPolicy *rp) {
        return f->policy && streq(f->policy->name, rp->policy->name) && streq(f->path, rp->source) &&
               f->size == strlen(rp->text) && memcmp(f->text, rp->text, f->size) == 0;
}

/* The swap, once every file parsed: unchanged policies keep running, the rest
 * of the directory's policies are replaced. */
static void policy_files_swap_in(Manager *m, PolicyFile *files, size_t n_files) {
        for (LoadedPolicy *rp = m->policies, *next; rp; rp = next) {
                bool keep = false;

                next = rp->next;
                if (!rp->from_directory)
                        continue;
                for (size_t k = 0; k < n_files; k++)
                        if (policy_file_is_running(&files[k], rp)) {
                                files[k].policy = policy_free(files[k].policy);
                                keep = true;
                        }
                if (!keep) {
                        loaded_policy_stop(rp, RUN_STOPPED);
                        manager_policy_removed(m, rp->policy->name);
                        loaded_policy_free(rp);
                }
        }
        for (size_t k = 0; k < n_files; k++) {
                LoadedPolicy *rp;
                int r;

                if (!files[k].policy)
                        continue;
                files[k].policy = policy_free(files[k].policy);
                r = loaded_policy_load(m, files[k].text, files[k].size, files[k].path, true, &rp, NULL);
                if (r < 0) {
                        log_error_errno(r, "%s: %m", files[k].path);
                        continue;
                }
                (void) loaded_policy_start(rp);
        }
}

int loaded_policies_load_directory(Manager *m, const char *dir, char **ret_errors) {
        struct dirent **entries = NULL;
        PolicyFile *files = NULL;
        char *errors = NULL;
        size_t errors_len = 0, n_files = 0;
        FILE *err = NULL;
        int n, r = 0;

        n = scandir(dir, &entries, json_suffix, alphasort);
        if (n < 0) {
                if (errno != ENOENT) {
                        r = negative_errno();
                        goto out;
                }
                n = 0; /* no directory: no policies */
        }
        files = calloc((size_t) n + 1, sizeof(*files));
        err = open_memstream(&errors, &errors_len);
        if (!files || !err) {
                r = -ENOMEM;
                goto out;
        }

        /* Everything is parsed before anything changes: one bad file keeps the running set. */
        for (int i = 0; i < n; i++) {
                PolicyFile *f = &files[n_files++];

                if (asprintf(&f->path, "%s/%s", dir, entries[i]->d_name) < 0) {
                        f->path = NULL;
                        r = -ENOMEM;
                        goto out;
                }
                policy_file_check(m, files, n_files - 1, err);
        }
        fflush(err);
        if (errors_len > 0) {
                r = -EINVAL;
                goto out;
        }

        policy_files_swap_in(m, files, n_files);
        r = 0;
out:
        if (err)
                fclose(err);
        for (size_t k = 0; k < n_files; k++) {
                free(files[k].path);
                free(files[k].text);
                policy_free(files[k].policy);
        }
        free(files);
        for (int i = 0; i < n; i++)
                free(entries[i]);
        free(entries);
        if (r < 0 && ret_errors && errors && errors[0]) {
                *ret_errors = errors;
                errors = NULL;
        }
        free(errors);
        return r;
}
