/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrorctl policy load|start|stop|unload|list|show|reload and stop-all: policies in serrord. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus-api.h"
#include "cli.h"

/* serrord refuses more anyway (POLICY_TEXT_MAX); this bounds what we read. */
#define POLICY_FILE_MAX (1024 * 1024)

typedef struct Summary {
        const char *name, *state, *source;
        int seed_generated;
        uint64_t seed, started_usec, next_usec, sent, refused, landed, failed;
        const char *stop_reason;
} Summary;

static int read_summary(sd_bus_message *m, Summary *s) {
        return sd_bus_message_read(m, "(" SERROR_BUS_POLICY_SUMMARY_SIGNATURE ")", &s->name, &s->state, &s->source, &s->seed_generated,
                                   &s->seed, &s->started_usec, &s->next_usec, &s->sent, &s->refused, &s->landed,
                                   &s->failed, &s->stop_reason);
}

static struct json_object *summary_to_json(const Summary *s) {
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(s->name));
        json_object_object_add(o, "state", json_object_new_string(s->state));
        json_object_object_add(o, "source", json_object_new_string(s->source));
        char seed[24];

        /* A string: seeds use all 64 bits, and jq and JavaScript read numbers as doubles. */
        snprintf(seed, sizeof(seed), "%" PRIu64, s->seed);
        json_object_object_add(o, "seed", json_object_new_string(seed));
        json_object_object_add(o, "seed_generated", json_object_new_boolean(s->seed_generated));
        json_object_object_add(o, "started_timestamp_usec", s->started_usec ? json_object_new_uint64(s->started_usec) : NULL);
        json_object_object_add(o, "next_timestamp_usec", s->next_usec ? json_object_new_uint64(s->next_usec) : NULL);
        json_object_object_add(o, "sent", json_object_new_uint64(s->sent));
        json_object_object_add(o, "refused", json_object_new_uint64(s->refused));
        json_object_object_add(o, "landed", json_object_new_uint64(s->landed));
        json_object_object_add(o, "failed", json_object_new_uint64(s->failed));
        json_object_object_add(o, "stop_reason", s->stop_reason[0] ? json_object_new_string(s->stop_reason) : NULL);
        return o;
}

static int call(const char *method, const char *what, sd_bus_message **ret, const char *types, ...) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus *bus = NULL;
        va_list ap;
        int r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, SERROR_BUS_NAME, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE,
                                           method);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                r = cli_bus_call_failed(what, &error, r);
        else if (ret)
                *ret = sd_bus_message_ref(reply);
        sd_bus_error_free(&error);
        sd_bus_message_unref(m);
        sd_bus_message_unref(reply);
        /* The reply keeps the bus alive as long as the caller needs it. */
        sd_bus_unref(bus);
        return r < 0 ? r : 0;
}

static int read_text_file(const char *path, char **ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t n;

        f = fopen(path, "re");
        if (!f) {
                /* Exit 1, not 4: 4 is about what serrord does not know. */
                log_error_errno(-errno, "cannot read %s: %m", path);
                return -EIO;
        }
        buf = malloc(POLICY_FILE_MAX + 1);
        if (!buf)
                return log_error_errno(-ENOMEM, "out of memory");
        n = fread(buf, 1, POLICY_FILE_MAX + 1, f);
        if (n > POLICY_FILE_MAX)
                return usage_error("%s is larger than %d bytes", path, POLICY_FILE_MAX);
        if (memchr(buf, '\0', n))
                return usage_error("%s contains a NUL byte: not a JSON policy", path);
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static int policy_load(const char *path) {
        _cleanup_free_ char *text = NULL, *abs = NULL;
        sd_bus_message *reply = NULL;
        const char *name;
        uint64_t seed;
        int r;

        r = read_text_file(path, &text);
        if (r < 0)
                return r;
        abs = realpath(path, NULL);
        r = call("LoadPolicy", "Failed to load the policy", &reply, "ssb", text, abs ?: path, 0);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "st", &name, &seed);
        if (r >= 0)
                printf("Loaded policy %s (seed %" PRIu64 "); start it with: serrorctl policy start %s\n", name, seed,
                       name);
        sd_bus_message_unref(reply);
        return r < 0 ? log_error_errno(r, "Failed to parse the answer: %m") : 0;
}

static void format_time(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t) (usec / 1000000u);
        struct tm tm;

        if (usec == 0 || !localtime_r(&t, &tm) || strftime(buf, size, "%H:%M:%S", &tm) == 0)
                snprintf(buf, size, "-");
}

static int policy_list(void) {
        sd_bus_message *reply = NULL;
        Summary s;
        unsigned n = 0;
        int r;

        r = call("ListPolicies", "Failed to list the policies", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(" SERROR_BUS_POLICY_SUMMARY_SIGNATURE ")");
        if (r >= 0) {
                _cleanup_json_ struct json_object *a = json_object_new_array();
                if (arg_json == JSON_OFF && arg_legend)
                        printf("%-24s %-9s %20s %7s %7s %7s %7s %-8s %s\n", "NAME", "STATE", "SEED", "SENT", "REFUSED",
                               "LANDED", "FAILED", "NEXT", "SOURCE");
                while ((r = read_summary(reply, &s)) > 0) {
                        char next[16];
                        n++;
                        if (arg_json != JSON_OFF) {
                                json_object_array_add(a, summary_to_json(&s));
                                continue;
                        }
                        format_time(s.next_usec, next, sizeof(next));
                        printf("%-24s %-9s %20" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %-8s %s\n",
                               s.name, s.state, s.seed, s.sent, s.refused, s.landed, s.failed, next, s.source);
                }
                if (r >= 0 && arg_json != JSON_OFF)
                        json_print(a);
                else if (r >= 0 && arg_legend)
                        printf("\n%u polic%s loaded.\n", n, n == 1 ? "y" : "ies");
        }
        sd_bus_message_unref(reply);
        return r < 0 ? log_error_errno(r, "Failed to parse the policy list: %m") : 0;
}

static int policy_show(const char *name) {
        sd_bus_message *reply = NULL;
        const char *text;
        Summary s;
        int r;

        r = call("GetPolicy", "Failed to read the policy", &reply, "s", name);
        if (r < 0)
                return r;
        r = read_summary(reply, &s);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &text);
        if (r >= 0) {
                if (arg_json != JSON_OFF) {
                        _cleanup_json_ struct json_object *o = summary_to_json(&s);
                        struct json_object *p = json_tokener_parse(text);
                        json_object_object_add(o, "policy", p);
                        json_print(o);
                } else {
                        char started[16], next[16];
                        format_time(s.started_usec, started, sizeof(started));
                        format_time(s.next_usec, next, sizeof(next));
                        printf("Policy %s: %s\n", s.name, s.state);
                        if (s.stop_reason[0])
                                printf("    Halted: %s\n", s.stop_reason);
                        printf("    Source: %s\n", s.source);
                        printf("      Seed: %" PRIu64 "%s\n", s.seed,
                               s.seed_generated ? " (generated; put it in the policy's \"seed\" to repeat this run)" : "");
                        printf("   Started: %s\n", started);
                        printf("      Next: %s\n", next);
                        printf("  Injected: %" PRIu64 " sent, %" PRIu64 " refused by guards, %" PRIu64 " landed, %" PRIu64
                               " failed\n",
                               s.sent, s.refused, s.landed, s.failed);
                        printf("\n%s%s", text, text[0] && text[strlen(text) - 1] == '\n' ? "" : "\n");
                }
        }
        sd_bus_message_unref(reply);
        return r < 0 ? log_error_errno(r, "Failed to parse the answer: %m") : 0;
}

int verb_policy_daemon(int argc, char *argv[]) {
        static const char *const known[] = { "load", "start", "stop", "unload", "list", "show", "reload" };
        const char *command = argv[1];
        bool found = false;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                found = found || streq(command, known[i]);
        if (!found)
                return usage_error("unknown policy command '%s' (known: validate, plan, load, start, stop, unload, list, "
                                   "show, reload; see serrorctl policy --help)",
                                   command);
        if (streq(command, "list")) {
                if (argc > 2)
                        return usage_error("'policy list' takes no arguments, got unexpected '%s'", argv[2]);
                return policy_list();
        }
        if (streq(command, "reload")) {
                if (argc > 2)
                        return usage_error("'policy reload' takes no arguments, got unexpected '%s'", argv[2]);
                r = call("Reload", "Failed to reload the policies", NULL, NULL);
                if (r >= 0)
                        printf("Reloaded the policy directory.\n");
                return r;
        }
        if (argc != 3)
                return usage_error("'policy %s' needs exactly one %s (see serrorctl policy --help)", command,
                                   streq(command, "load") ? "FILE" : "NAME");
        if (streq(command, "load"))
                return policy_load(argv[2]);
        if (streq(command, "show"))
                return policy_show(argv[2]);
        if (streq(command, "start")) {
                sd_bus_message *reply = NULL;
                uint64_t seed = 0;
                r = call("StartPolicy", "Failed to start the policy", &reply, "s", argv[2]);
                if (r < 0)
                        return r;
                (void) sd_bus_message_read(reply, "t", &seed);
                sd_bus_message_unref(reply);
                printf("Started policy %s with seed %" PRIu64 ".\n", argv[2], seed);
                return 0;
        }
        if (streq(command, "stop"))
                return call("StopPolicy", "Failed to stop the policy", NULL, "s", argv[2]);
        return call("UnloadPolicy", "Failed to unload the policy", NULL, "s", argv[2]);
}

/* serrord's fate-NAME counters (serrord(8), REACTIONS): what the guests did after every
 * injection so far, which is often why everything is being stopped. Logs its errors. */
static int read_fates(struct json_object **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ struct json_object *o = json_object_new_object();
        const char *name;
        uint64_t value;
        int r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = sd_bus_get_property(bus, SERROR_BUS_NAME, SERROR_BUS_PATH, SERROR_BUS_MANAGER_INTERFACE, "Counters", &error,
                                &reply, "a{st}");
        if (r < 0)
                return cli_bus_call_failed("Failed to read the counters", &error, r);
        r = sd_bus_message_enter_container(reply, 'a', "{st}");
        while (r >= 0 && (r = sd_bus_message_read(reply, "{st}", &name, &value)) > 0)
                if (strncmp(name, "fate-", 5) == 0)
                        json_object_object_add(o, name + 5, json_object_new_uint64(value));
        if (r < 0)
                return log_error_errno(r, "Failed to parse the counters: %m");
        *ret = TAKE_PTR(o);
        return 0;
}

static void print_fates(struct json_object *fates) {
        unsigned n = 0;

        json_object_object_foreach(fates, name, value) {
                uint64_t count = json_object_get_uint64(value);

                if (count == 0)
                        continue;
                printf("%s%" PRIu64 " %s", n++ ? ", " : "What the guests did after the injections so far: ", count, name);
        }
        if (n > 0)
                printf(".\n");
}

int verb_stop_all(int argc, char *argv[]) {
        sd_bus_message *reply = NULL;
        uint32_t stopped = 0, vcpu;
        uint64_t esr, id;
        const char *vm;
        unsigned n = 0;
        int r;

        r = call("StopAll", "Failed to stop the policies", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "u", &stopped);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(sutt)");
        if (r >= 0) {
                _cleanup_json_ struct json_object *o = json_object_new_object(), *a = json_object_new_array(),
                                                  *fates = NULL;
                if (arg_json == JSON_OFF)
                        printf("Stopped %" PRIu32 " running polic%s.\n", stopped, stopped == 1 ? "y" : "ies");
                while ((r = sd_bus_message_read(reply, "(sutt)", &vm, &vcpu, &esr, &id)) > 0) {
                        char hex[24];
                        snprintf(hex, sizeof(hex), "0x%08" PRIx64, esr | 0xbe000000u);
                        if (arg_json != JSON_OFF) {
                                struct json_object *p = json_object_new_object();
                                json_object_object_add(p, "vm", json_object_new_string(vm));
                                json_object_object_add(p, "vcpu", json_object_new_int64(vcpu));
                                json_object_object_add(p, "esr", json_object_new_string(hex));
                                json_object_object_add(p, "request", json_object_new_uint64(id));
                                json_object_array_add(a, p);
                        } else {
                                if (n == 0)
                                        printf("SErrors already pending in guests (they cannot be cancelled; the guest takes each when it unmasks):\n");
                                printf("  %s vcpu %" PRIu32 ": ESR %s (request %" PRIu64 ")\n", vm, vcpu, hex, id);
                        }
                        n++;
                }
                /* The stop itself succeeded: without the counters, only their summary is missing. */
                if (r >= 0 && read_fates(&fates) < 0)
                        fates = NULL;
                if (r >= 0 && arg_json != JSON_OFF) {
                        json_object_object_add(o, "stopped", json_object_new_int64(stopped));
                        json_object_object_add(o, "pending", json_object_get(a));
                        json_object_object_add(o, "fates", json_object_get(fates));
                        json_print(o);
                } else if (r >= 0) {
                        if (n == 0)
                                printf("No SError is known to be pending in a guest.\n");
                        if (fates)
                                print_fates(fates);
                }
        }
        sd_bus_message_unref(reply);
        return r < 0 ? log_error_errno(r, "Failed to parse the answer: %m") : 0;
}
