/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrorctl inject, history and monitor: asking for SErrors and seeing their outcomes. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus-api.h"
#include "cli.h"
#include "parse-util.h"
#include "reaction.h"
#include "serror/mce.h"
#include "serror/syndrome.h"


typedef struct VcpuState {
        int valid, pending, has_esr;
        uint64_t esr;
} VcpuState;

typedef struct Record {
        uint64_t id, requested_usec;
        const char *vm;
        uint32_t vcpu;
        const char *syndrome;
        uint32_t iss;
        int has_esr;
        const char *mode, *outcome;
        int32_t error;
        const char *message;
        VcpuState before, after;
        int written, written_has_esr;
        uint64_t written_esr;
        uint64_t latency_usec, agent_usec;
        const char *origin;
        const char *reaction, *fate; /* reaction state; fate "" until "done" */
        int taken_watched;
        uint64_t window_usec, taken_after_usec, fate_after_usec;
} Record;

static int read_state(sd_bus_message *m, VcpuState *s) {
        return sd_bus_message_read(m, "(bbbt)", &s->valid, &s->pending, &s->has_esr, &s->esr);
}

/* 1 with *r filled, 0 at the end of the array, negative on error. */
static int read_record(sd_bus_message *m, Record *r) {
        int k;

        k = sd_bus_message_enter_container(m, 'r', SERROR_BUS_INJECTION_RECORD_SIGNATURE);
        if (k <= 0)
                return k;
        k = sd_bus_message_read(m, "ttsusubssis", &r->id, &r->requested_usec, &r->vm, &r->vcpu, &r->syndrome, &r->iss,
                                &r->has_esr, &r->mode, &r->outcome, &r->error, &r->message);
        if (k >= 0)
                k = read_state(m, &r->before);
        if (k >= 0)
                k = sd_bus_message_read(m, "(bbt)", &r->written, &r->written_has_esr, &r->written_esr);
        if (k >= 0)
                k = read_state(m, &r->after);
        if (k >= 0)
                k = sd_bus_message_read(m, "tts", &r->latency_usec, &r->agent_usec, &r->origin);
        if (k >= 0)
                k = sd_bus_message_read(m, "(sbttst)", &r->reaction, &r->taken_watched, &r->window_usec,
                                        &r->taken_after_usec, &r->fate, &r->fate_after_usec);
        if (k >= 0)
                k = sd_bus_message_exit_container(m);
        return k < 0 ? k : 1;
}

static uint32_t esr_of_iss(uint32_t iss) {
        return (SERROR_ESR_EC_SERROR << SERROR_ESR_EC_SHIFT) | SERROR_ESR_IL | iss;
}

static struct json_object *state_to_json(const VcpuState *s) {
        struct json_object *o;
        char hex[24];

        if (!s->valid)
                return NULL;
        o = json_object_new_object();
        json_object_object_add(o, "pending", json_object_new_boolean(s->pending));
        json_object_object_add(o, "has_esr", json_object_new_boolean(s->has_esr));
        snprintf(hex, sizeof(hex), "0x%" PRIx64, s->esr);
        json_object_object_add(o, "esr", json_object_new_string(hex));
        return o;
}

typedef enum GuestEsr {
        GUEST_ESR_NONE,      /* nothing the guest will read is known */
        GUEST_ESR_PENDING,   /* pending now, as KVM holds it */
        GUEST_ESR_KEPT,      /* coalesced or skipped: the SError already pending, kept */
        GUEST_ESR_DELIVERED, /* Linux 6.17 on delivers at once when the guest has SErrors unmasked */
} GuestEsr;

/* The ESR the guest reads (or read) for this request, and how serrorctl knows. */
static GuestEsr guest_esr(const Record *r, uint32_t *ret) {
        if (r->after.valid && r->after.pending && r->after.has_esr) {
                *ret = esr_of_iss((uint32_t) (r->after.esr & SERROR_ISS_MASK));
                return GUEST_ESR_PENDING;
        }
        if (r->before.valid && r->before.pending && r->before.has_esr && !r->written) {
                *ret = esr_of_iss((uint32_t) (r->before.esr & SERROR_ISS_MASK));
                return GUEST_ESR_KEPT;
        }
        if (r->after.valid && !r->after.pending && strcmp(r->outcome, "failed") != 0 &&
            strcmp(r->outcome, "dry-run") != 0 && r->has_esr) {
                *ret = esr_of_iss(r->iss);
                return GUEST_ESR_DELIVERED;
        }
        return GUEST_ESR_NONE;
}

/* A machine check's record: the same fields hold MCG_STATUS (before, after)
 * and MCi_STATUS (written); serrord(8), "Injection records". */
static bool record_mce(const Record *r, serror_mce *ret) {
        return serror_mce_text_is_mce(r->syndrome) && serror_mce_parse(r->syndrome, ret, NULL) == 0;
}

static struct json_object *mcg_state_to_json(const VcpuState *s) {
        struct json_object *o;
        char hex[24];

        if (!s->valid)
                return NULL;
        o = json_object_new_object();
        json_object_object_add(o, "mcip", json_object_new_boolean(s->pending));
        snprintf(hex, sizeof(hex), "0x%" PRIx64, s->esr);
        json_object_object_add(o, "mcg_status", json_object_new_string(hex));
        return o;
}

/* The fields of a machine check's record: its values, and MCG_STATUS for the states. */
static void add_mce_fields(struct json_object *o, const Record *r, const serror_mce *m) {
        struct json_object *e = json_object_new_object(), *w;
        char hex[24];

        json_object_object_add(e, "class",
                               json_object_new_string(serror_mce_class_to_string(serror_mce_classify(m)) ?: "?"));
        json_object_object_add(e, "bank", json_object_new_int64(m->bank));
        snprintf(hex, sizeof(hex), "0x%016" PRIx64, m->status);
        json_object_object_add(e, "status", json_object_new_string(hex));
        snprintf(hex, sizeof(hex), "0x%" PRIx64, m->addr);
        json_object_object_add(e, "addr", json_object_new_string(hex));
        snprintf(hex, sizeof(hex), "0x%" PRIx64, m->misc);
        json_object_object_add(e, "misc", json_object_new_string(hex));
        snprintf(hex, sizeof(hex), "0x%" PRIx64, m->mcg_status);
        json_object_object_add(e, "mcg_status", json_object_new_string(hex));
        json_object_object_add(o, "mce", e);
        json_object_object_add(o, "before", mcg_state_to_json(&r->before));
        if (r->written) {
                w = json_object_new_object();
                snprintf(hex, sizeof(hex), "0x%016" PRIx64, r->written_esr);
                json_object_object_add(w, "mci_status", json_object_new_string(hex));
                json_object_object_add(o, "written", w);
        } else
                json_object_object_add(o, "written", NULL);
        json_object_object_add(o, "after", mcg_state_to_json(&r->after));
}

/* The fields of an SError's record: the syndrome's ISS and ESR, the states, and what the guest reads. */
static void add_serror_fields(struct json_object *o, const Record *r) {
        struct json_object *w;
        uint32_t esr;
        char hex[24];

        snprintf(hex, sizeof(hex), "0x%06" PRIx32, r->iss);
        json_object_object_add(o, "iss", json_object_new_string(hex));
        if (r->has_esr) {
                snprintf(hex, sizeof(hex), "0x%08" PRIx32, esr_of_iss(r->iss));
                json_object_object_add(o, "esr", json_object_new_string(hex));
        } else
                json_object_object_add(o, "esr", NULL);
        json_object_object_add(o, "before", state_to_json(&r->before));
        if (r->written) {
                w = json_object_new_object();
                json_object_object_add(w, "has_esr", json_object_new_boolean(r->written_has_esr));
                snprintf(hex, sizeof(hex), "0x%" PRIx64, r->written_esr);
                json_object_object_add(w, "esr", json_object_new_string(hex));
                json_object_object_add(o, "written", w);
        } else
                json_object_object_add(o, "written", NULL);
        json_object_object_add(o, "after", state_to_json(&r->after));
        /* "esr" is what was asked for; this is what the guest gets (a coalesced or
         * skipped request leaves the earlier syndrome in place). */
        if (guest_esr(r, &esr) != GUEST_ESR_NONE) {
                snprintf(hex, sizeof(hex), "0x%08" PRIx32, esr);
                json_object_object_add(o, "guest_esr", json_object_new_string(hex));
        } else
                json_object_object_add(o, "guest_esr", NULL);
}

static struct json_object *usec_or_null(uint64_t usec) {
        return usec == REACTION_USEC_NONE ? NULL : json_object_new_uint64(usec);
}

/* The reaction in words, as serrord's journal entry has it. */
static void format_reaction(const Record *r, char *buf, size_t size) {
        Reaction reaction = {
                .state = REACTION_NONE,
                .taken_watched = r->taken_watched,
                .window_usec = r->window_usec,
                .taken_after_usec = r->taken_after_usec,
                .fate = FATE_UNKNOWN,
                .fate_after_usec = r->fate_after_usec,
        };

        (void) reaction_state_from_string(r->reaction, &reaction.state);
        (void) fate_from_string(r->fate, &reaction.fate);
        reaction_format(&reaction, buf, size);
}

static struct json_object *reaction_to_json(const Record *r) {
        struct json_object *o = json_object_new_object();
        char text[160];

        json_object_object_add(o, "state", json_object_new_string(r->reaction));
        json_object_object_add(o, "taken_watched", json_object_new_boolean(r->taken_watched));
        json_object_object_add(o, "window_usec", json_object_new_uint64(r->window_usec));
        json_object_object_add(o, "taken_after_usec", usec_or_null(r->taken_after_usec));
        json_object_object_add(o, "fate", r->fate[0] ? json_object_new_string(r->fate) : NULL);
        json_object_object_add(o, "fate_after_usec", usec_or_null(r->fate_after_usec));
        format_reaction(r, text, sizeof(text));
        json_object_object_add(o, "text", json_object_new_string(text));
        return o;
}

static struct json_object *record_to_json(const Record *r) {
        struct json_object *o = json_object_new_object();
        serror_mce mce;
        bool is_mce = record_mce(r, &mce);

        json_object_object_add(o, "id", json_object_new_uint64(r->id));
        json_object_object_add(o, "requested_timestamp_usec", json_object_new_uint64(r->requested_usec));
        json_object_object_add(o, "vm", json_object_new_string(r->vm));
        json_object_object_add(o, "vcpu", json_object_new_int64(r->vcpu));
        json_object_object_add(o, "kind", json_object_new_string(is_mce ? "machine-check" : "serror"));
        json_object_object_add(o, "syndrome", json_object_new_string(r->syndrome));
        json_object_object_add(o, "on_pending", json_object_new_string(r->mode));
        json_object_object_add(o, "outcome", json_object_new_string(r->outcome));
        json_object_object_add(o, "errno", json_object_new_int(r->error));
        json_object_object_add(o, "error", r->error ? json_object_new_string(strerrorname_np(r->error) ?: "?") : NULL);
        json_object_object_add(o, "message", json_object_new_string(r->message));
        if (is_mce)
                add_mce_fields(o, r, &mce);
        else
                add_serror_fields(o, r);
        json_object_object_add(o, "latency_usec", json_object_new_uint64(r->latency_usec));
        json_object_object_add(o, "agent_usec", json_object_new_uint64(r->agent_usec));
        json_object_object_add(o, "origin", json_object_new_string(r->origin));
        json_object_object_add(o, "reaction", reaction_to_json(r));
        return o;
}

static void print_record_line(const Record *r) {
        char when[32];
        time_t t = (time_t) (r->requested_usec / 1000000u);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(when, sizeof(when), "%H:%M:%S", &tm) == 0)
                snprintf(when, sizeof(when), "-");
        printf("%-8s %6" PRIu64 " %-16s %4" PRIu32 " %-18s %-10s %-9s %-14s %s%s%s\n", when, r->id, r->vm, r->vcpu,
               r->syndrome, r->outcome, r->mode, r->fate[0] ? r->fate : streq(r->reaction, "watching") ? "watching" : "-",
               r->error ? strerrorname_np(r->error) ?: "?" : "", r->error ? ": " : "", r->error ? r->message : "");
}

static void print_record_header(void) {
        if (arg_legend)
                printf("%-8s %6s %-16s %4s %-18s %-10s %-9s %-14s %s\n", "TIME", "ID", "VM", "VCPU", "SYNDROME",
                       "OUTCOME", "PENDING", "FATE", "ERROR");
}

static void print_mcg_state(const char *what, const VcpuState *s) {
        if (!s->valid)
                return;
        printf("  %s: MCG_STATUS 0x%" PRIx64 " (%s)\n", what, s->esr,
               s->pending ? "MCIP set: a machine check is in progress" : "MCIP clear");
}

static void print_mce_outcome(const Record *r, const serror_mce *m) {
        serror_mce_class class = serror_mce_classify(m);

        printf("  %s in bank %" PRIu32 ": %s\n", serror_mce_class_to_string(class) ?: "?", m->bank,
               serror_mce_class_describe(class) ?: "?");
        print_mcg_state("before", &r->before);
        if (r->written)
                printf("  %s: MCi_STATUS 0x%016" PRIx64 ", MCG_STATUS 0x%" PRIx64 "\n",
                       strcmp(r->outcome, "dry-run") == 0 ? "would write" : "written", r->written_esr, m->mcg_status);
        print_mcg_state("after", &r->after);
        if (!r->error && r->message[0])
                printf("  %s\n", r->message);
}

static void print_outcome_body(const Record *r) {
        uint32_t esr = 0;
        serror_mce mce;

        printf("%s vcpu %" PRIu32 ": %s", r->vm, r->vcpu, r->outcome);
        if (r->error)
                printf(" (%s: %s)", strerrorname_np(r->error) ?: "?", r->message);
        printf("\n");
        printf("  request %" PRIu64 ", %s, on pending: %s, %.3f ms", r->id, r->syndrome, r->mode,
               (double) r->latency_usec / 1000.);
        if (r->agent_usec)
                printf(" (%.3f ms at the vcpu)", (double) r->agent_usec / 1000.);
        printf("\n");
        if (record_mce(r, &mce)) {
                print_mce_outcome(r, &mce);
                return;
        }
        if (r->before.valid)
                printf("  before: %s%s\n", r->before.pending ? "an SError was pending" : "nothing pending", "");
        switch (guest_esr(r, &esr)) {
        case GUEST_ESR_PENDING: {
                serror_syndrome s;
                serror_diag diag = {};
                /* What the guest will read, as KVM holds it now. */
                printf("  the guest will read ESR 0x%08" PRIx32 "\n", esr);
                if (serror_syndrome_from_iss(esr & SERROR_ISS_MASK, SERROR_ALLOW_IDS, &s, &diag) == 0) {
                        char text[64];
                        serror_syndrome_format(&s, text, sizeof(text));
                        printf("  decoded: %s", text);
                        if (!s.ids && s.dfsc == SERROR_DFSC_ASYNC)
                                printf(" (AET %s, %s)", serror_aet_to_string(s.aet), serror_aet_describe(s.aet));
                        printf("\n");
                }
                break;
        }
        case GUEST_ESR_KEPT:
                printf("  the guest will read ESR 0x%08" PRIx32 " (the SError already pending, kept)\n", esr);
                break;
        case GUEST_ESR_DELIVERED:
                printf("  delivered at once: the guest read ESR 0x%08" PRIx32 "\n", esr);
                break;
        case GUEST_ESR_NONE:
                break;
        }
}

static void print_reaction(const Record *r) {
        char text[160];

        if (streq(r->reaction, "none"))
                return;
        if (streq(r->reaction, "watching")) {
                char window[32];

                reaction_format_duration(r->window_usec, window, sizeof(window));
                printf("  serrord watches what the guest does for %s (serrorctl history, --wait-reaction)\n", window);
                return;
        }
        format_reaction(r, text, sizeof(text));
        printf("  %s\n", text);
}

static void print_outcome(const Record *r) {
        print_outcome_body(r);
        print_reaction(r);
}

/* inject's exit status: 0 only when the SError landed (serrorctl(1)). */
static int outcome_exit(const char *outcome) {
        serror_outcome o;

        if (serror_outcome_from_string(outcome, &o) < 0)
                return CLI_EXIT_FAILURE;
        if (serror_outcome_landed(o))
                return 0;
        switch (o) {
        case SERROR_OUTCOME_SKIPPED:
                return CLI_EXIT_SKIPPED;
        case SERROR_OUTCOME_EXPIRED:
                return CLI_EXIT_EXPIRED;
        case SERROR_OUTCOME_DRY_RUN:
                return CLI_EXIT_DRY_RUN;
        default:
                return CLI_EXIT_FAILURE;
        }
}

/* Refuse locally what serrord would refuse, with the CLI's words. */
static int check_inject_text(const char *text) {
        serror_diag diag = {};

        if (serror_mce_text_is_mce(text)) {
                serror_mce m;

                if (arg_allow_ids)
                        return usage_error("--allow-ids is for SError syndromes, not machine checks");
                if (serror_mce_parse(text, &m, &diag) < 0)
                        return usage_error("invalid machine check '%s': %s", text, diag.message);
        } else if (!streq(text, "kvm")) {
                serror_syndrome s;

                if (serror_syndrome_parse(text, arg_allow_ids ? SERROR_ALLOW_IDS : 0, &s, &diag) < 0)
                        return usage_error("invalid syndrome '%s': %s", text, diag.message);
        }
        return 0;
}

/* --no-wait: the ids are all serrord answers with. */
static int print_sent_ids(sd_bus_message *reply) {
        const uint64_t *ids;
        size_t size;
        int r;

        r = sd_bus_message_read_array(reply, 't', (const void **) &ids, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to parse serrord's answer: %m");
        if (arg_json != JSON_OFF) {
                _cleanup_json_ struct json_object *a = json_object_new_array();
                for (size_t k = 0; k < size / sizeof(uint64_t); k++)
                        json_object_array_add(a, json_object_new_uint64(ids[k]));
                json_print(a);
        } else
                for (size_t k = 0; k < size / sizeof(uint64_t); k++)
                        printf("request %" PRIu64 " sent; see serrorctl history or monitor.\n", ids[k]);
        return 0;
}

/* Every outcome; the exit status is the first that was not a success. */
static int print_outcomes(sd_bus_message *reply) {
        _cleanup_json_ struct json_object *a = json_object_new_array();
        int r, worst = 0;
        Record rec;

        r = sd_bus_message_skip(reply, "at");
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(" SERROR_BUS_INJECTION_RECORD_SIGNATURE ")");
        while (r >= 0 && (r = read_record(reply, &rec)) > 0) {
                int e = outcome_exit(rec.outcome);

                if (e != 0 && worst == 0)
                        worst = e;
                if (arg_json != JSON_OFF)
                        json_object_array_add(a, record_to_json(&rec));
                else
                        print_outcome(&rec);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to parse serrord's answer: %m");
        if (arg_json != JSON_OFF)
                json_print(a);
        return worst;
}

int verb_inject(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        uint64_t flags = SERROR_INJECT_WAIT;
        int r;

        if (arg_no_wait && arg_wait_reaction_usec)
                return usage_error("--no-wait and --wait-reaction contradict each other");

        r = check_inject_text(argv[2]);
        if (r != 0)
                return r;
        if (arg_no_wait)
                flags &= ~(uint64_t) SERROR_INJECT_WAIT;
        if (arg_allow_ids)
                flags |= SERROR_INJECT_ALLOW_IDS;
        if (arg_dry_run)
                flags |= SERROR_INJECT_DRY_RUN;
        if (arg_wait_reaction_usec)
                flags |= SERROR_INJECT_WAIT_REACTION;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &call, SERROR_BUS_NAME, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE,
                                           "Inject");
        if (r >= 0)
                r = sd_bus_message_append(call, "ssssttt", argv[1], arg_vcpu, argv[2], arg_on_pending, arg_timeout_usec,
                                          flags, arg_wait_reaction_usec);
        if (r < 0)
                return log_error_errno(r, "Failed to build the request: %m");
        /* The answer comes when the vcpu has answered (and the reaction window has ended):
         * allow for all of it. */
        r = sd_bus_call(bus, call, arg_timeout_usec + arg_wait_reaction_usec + 10 * 1000000ull, &error, &reply);
        if (r < 0)
                return cli_bus_call_failed("Failed to inject", &error, r);
        return flags & SERROR_INJECT_WAIT ? print_outcomes(reply) : print_sent_ids(reply);
}

int verb_history(int argc, char *argv[]) {
        const char *vm = arg_vm ?: "";
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_bus *bus = NULL;
        unsigned n = 0;
        Record rec;
        int r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, SERROR_BUS_NAME, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE, "GetHistory", &error,
                               &reply, "s", vm);
        if (r < 0) {
                r = cli_bus_call_failed("Failed to read the history", &error, r);
                goto out;
        }
        r = sd_bus_message_enter_container(reply, 'a', "(" SERROR_BUS_INJECTION_RECORD_SIGNATURE ")");
        if (r < 0)
                goto out;
        {
                _cleanup_json_ struct json_object *a = json_object_new_array();
                if (arg_json == JSON_OFF)
                        print_record_header();
                while ((r = read_record(reply, &rec)) > 0) {
                        n++;
                        if (arg_json != JSON_OFF)
                                json_object_array_add(a, record_to_json(&rec));
                        else
                                print_record_line(&rec);
                }
                if (r < 0) {
                        r = log_error_errno(r, "Failed to parse the history: %m");
                        goto out;
                }
                if (arg_json != JSON_OFF)
                        json_print(a);
                else if (arg_legend)
                        printf("\n%u injection%s.\n", n, n == 1 ? "" : "s");
        }
        r = 0;
out:
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_flush_close_unref(bus);
        return r;
}

static volatile sig_atomic_t monitor_stop;

static void on_monitor_signal(int sig) {
        monitor_stop = 1;
}

static int on_injection_done(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Record rec;

        if (read_record(m, &rec) <= 0)
                return 0;
        if (arg_json != JSON_OFF) {
                _cleanup_json_ struct json_object *o = record_to_json(&rec);
                json_print(o);
        } else
                print_record_line(&rec);
        /* Nobody reads what cannot be written: stop rather than watch forever. */
        if (cli_flush_stdout() < 0)
                monitor_stop = 1;
        return 0;
}

int verb_monitor(int argc, char *argv[]) {
        struct sigaction sa = { .sa_handler = on_monitor_signal };
        sd_bus_slot *slot = NULL, *reaction_slot = NULL;
        sd_bus *bus = NULL;
        int r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = sd_bus_match_signal(bus, &slot, SERROR_BUS_NAME, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE,
                                "InjectionDone", on_injection_done, NULL);
        if (r >= 0)
                r = sd_bus_match_signal(bus, &reaction_slot, SERROR_BUS_NAME, SERROR_BUS_PATH,
                                        SERROR_BUS_MANAGER_INTERFACE, "ReactionDone", on_injection_done, NULL);
        if (r < 0) {
                r = log_error_errno(r, "Failed to subscribe to outcomes: %m");
                goto out;
        }
        /* serrord sends InjectionDone only to subscribed clients; the call also reports "not
         * running" now rather than never. The subscription ends with this connection. */
        {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                r = sd_bus_call_method(bus, SERROR_BUS_NAME, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE,
                                       "Subscribe", &error, NULL, NULL);
                if (r < 0) {
                        r = cli_bus_call_failed("Failed to subscribe to serrord's outcomes", &error, r);
                        sd_bus_error_free(&error);
                        goto out;
                }
        }
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        if (arg_json == JSON_OFF)
                print_record_header();
        if (cli_flush_stdout() < 0)
                monitor_stop = 1;
        while (!monitor_stop) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        r = log_error_errno(r, "Lost the bus: %m");
                        goto out;
                }
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR) {
                        r = log_error_errno(r, "Lost the bus: %m");
                        goto out;
                }
        }
        /* main() names the write error; any errno of its own could map to another exit status. */
        r = cli_flush_stdout() < 0 ? -EIO : 0;
out:
        sd_bus_slot_unref(reaction_slot);
        sd_bus_slot_unref(slot);
        sd_bus_flush_close_unref(bus);
        return r;
}
