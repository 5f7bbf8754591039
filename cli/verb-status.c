/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrorctl status: serrord's own properties, as text or JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus-api.h"
#include "cli.h"

/* A capability (its KVM_CHECK_EXTENSION value) or a counter. */
typedef struct NamedValue {
        char *name;
        int64_t value;
} NamedValue;

typedef struct Status {
        char *version;
        char *architecture;
        uint64_t start_timestamp;
        char *kvm_device;
        int kvm_usable;
        char *kvm_error;
        int32_t kvm_api_version;
        NamedValue caps[16];
        unsigned n_caps;
        uint32_t attached_vms;
        uint32_t attached_vcpus;
        NamedValue counters[32];
        unsigned n_counters;
} Status;

static void status_done(Status *s) {
        free(s->version);
        free(s->architecture);
        free(s->kvm_device);
        free(s->kvm_error);
        for (unsigned i = 0; i < s->n_caps; i++)
                free(s->caps[i].name);
        for (unsigned i = 0; i < s->n_counters; i++)
                free(s->counters[i].name);
}

static int read_string(sd_bus_message *m, char **ret) {
        const char *s;
        int r = sd_bus_message_read(m, "v", "s", &s);
        if (r < 0)
                return r;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* A variant holding a{si} (type 'i') or a{st} (type 't'), into a[]; entries
 * beyond max are read and dropped. */
static int read_named_values(sd_bus_message *m, char type, NamedValue *a, unsigned max, unsigned *n) {
        char array[] = "a{sX}", entry[] = "{sX}";
        const char *name;
        int r;

        array[3] = entry[2] = type;
        r = sd_bus_message_enter_container(m, 'v', array);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', entry);
        if (r < 0)
                return r;
        for (;;) {
                int32_t i32 = 0;
                uint64_t u64 = 0;

                r = type == 'i' ? sd_bus_message_read(m, entry, &name, &i32) : sd_bus_message_read(m, entry, &name, &u64);
                if (r <= 0)
                        break;
                if (*n >= max)
                        continue;
                a[*n].name = strdup(name);
                if (!a[*n].name)
                        return -ENOMEM;
                a[(*n)++].value = type == 'i' ? (int64_t) i32 : (int64_t) u64;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_property(sd_bus_message *m, const char *name, Status *s) {
        if (streq(name, "Version"))
                return read_string(m, &s->version);
        if (streq(name, "Architecture"))
                return read_string(m, &s->architecture);
        if (streq(name, "StartTimestamp"))
                return sd_bus_message_read(m, "v", "t", &s->start_timestamp);
        if (streq(name, "KvmDevice"))
                return read_string(m, &s->kvm_device);
        if (streq(name, "KvmUsable"))
                return sd_bus_message_read(m, "v", "b", &s->kvm_usable);
        if (streq(name, "KvmError"))
                return read_string(m, &s->kvm_error);
        if (streq(name, "KvmApiVersion"))
                return sd_bus_message_read(m, "v", "i", &s->kvm_api_version);
        if (streq(name, "KvmCapabilities"))
                return read_named_values(m, 'i', s->caps, ELEMENTSOF(s->caps), &s->n_caps);
        if (streq(name, "AttachedVMs"))
                return sd_bus_message_read(m, "v", "u", &s->attached_vms);
        if (streq(name, "AttachedVcpus"))
                return sd_bus_message_read(m, "v", "u", &s->attached_vcpus);
        if (streq(name, "Counters"))
                return read_named_values(m, 't', s->counters, ELEMENTSOF(s->counters), &s->n_counters);
        /* A newer serrord may have more; an older serrorctl skips them. */
        return sd_bus_message_skip(m, "v");
}

static int status_fetch(sd_bus *bus, Status *s) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *name;
        int r;

        r = sd_bus_call_method(bus, SERROR_BUS_NAME, SERROR_BUS_PATH, "org.freedesktop.DBus.Properties", "GetAll",
                               &error, &reply, "s", SERROR_BUS_MANAGER_INTERFACE);
        if (r < 0) {
                r = cli_bus_call_failed("Failed to read serrord's status", &error, r);
                sd_bus_error_free(&error);
                return r;
        }

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = sd_bus_message_read(reply, "s", &name);
                if (r >= 0)
                        r = read_property(reply, name, s);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        sd_bus_message_unref(reply);
        if (r < 0)
                return log_error_errno(r, "Failed to parse serrord's status reply: %m");
        return 0;
}

static struct json_object *status_to_json(const Status *s) {
        struct json_object *o = json_object_new_object(), *kvm, *caps, *counters;

        if (!o)
                return NULL;
        json_object_object_add(o, "bus_name", json_object_new_string(SERROR_BUS_NAME));
        json_object_object_add(o, "version", json_object_new_string(s->version ?: ""));
        json_object_object_add(o, "architecture", json_object_new_string(s->architecture ?: ""));
        json_object_object_add(o, "start_timestamp_usec", json_object_new_uint64(s->start_timestamp));

        kvm = json_object_new_object();
        json_object_object_add(kvm, "device", json_object_new_string(s->kvm_device ?: ""));
        json_object_object_add(kvm, "usable", json_object_new_boolean(s->kvm_usable));
        json_object_object_add(kvm, "error", isempty(s->kvm_error) ? NULL : json_object_new_string(s->kvm_error));
        json_object_object_add(kvm, "api_version", json_object_new_int(s->kvm_api_version));
        caps = json_object_new_object();
        for (unsigned i = 0; i < s->n_caps; i++) {
                struct json_object *c = json_object_new_object();
                json_object_object_add(c, "present", json_object_new_boolean(s->caps[i].value > 0));
                json_object_object_add(c, "value", json_object_new_int64(s->caps[i].value));
                json_object_object_add(caps, s->caps[i].name, c);
        }
        json_object_object_add(kvm, "capabilities", caps);
        json_object_object_add(o, "kvm", kvm);

        json_object_object_add(o, "attached_vms", json_object_new_int64(s->attached_vms));
        json_object_object_add(o, "attached_vcpus", json_object_new_int64(s->attached_vcpus));
        counters = json_object_new_object();
        for (unsigned i = 0; i < s->n_counters; i++)
                json_object_object_add(counters, s->counters[i].name, json_object_new_uint64((uint64_t) s->counters[i].value));
        json_object_object_add(o, "counters", counters);
        return o;
}

static void format_since(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t) (usec / 1000000u), now = time(NULL);
        struct tm tm;
        char when[64];
        long ago;

        if (!localtime_r(&t, &tm) || strftime(when, sizeof(when), "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0) {
                snprintf(buf, size, "n/a");
                return;
        }
        ago = now > t ? (long) (now - t) : 0;
        if (ago < 120)
                snprintf(buf, size, "%s; %lds ago", when, ago);
        else if (ago < 7200)
                snprintf(buf, size, "%s; %ldmin ago", when, ago / 60);
        else
                snprintf(buf, size, "%s; %ldh ago", when, ago / 3600);
}

static void status_print(const Status *s) {
        char since[128];

        format_since(s->start_timestamp, since, sizeof(since));
        printf("serrord %s on %s\n", s->version ?: "?", SERROR_BUS_NAME);
        printf("     Since: %s\n", since);
        printf("      Host: %s\n", s->architecture ?: "?");
        if (s->kvm_usable)
                printf("       KVM: %s usable (API %d)\n", s->kvm_device, s->kvm_api_version);
        else
                printf("       KVM: %s not usable: %s\n", s->kvm_device ?: "?", s->kvm_error ?: "?");
        for (unsigned i = 0; i < s->n_caps; i++) {
                if (s->caps[i].value > 0)
                        printf("            %-30s yes (%" PRId64 ")\n", s->caps[i].name, s->caps[i].value);
                else
                        printf("            %-30s absent\n", s->caps[i].name);
        }
        printf("  Attached: %" PRIu32 " VMs, %" PRIu32 " vcpus\n", s->attached_vms, s->attached_vcpus);
        for (unsigned i = 0; i < s->n_counters; i++)
                printf("%s%-18s %" PRIu64 "\n", i == 0 ? "  Counters: " : "            ", s->counters[i].name,
                       (uint64_t) s->counters[i].value);
}

int verb_status(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        Status s = {};
        int r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = status_fetch(bus, &s);
        sd_bus_flush_close_unref(bus);
        if (r < 0) {
                status_done(&s);
                return r;
        }
        if (arg_json != JSON_OFF) {
                _cleanup_json_ struct json_object *o = status_to_json(&s);
                if (!o)
                        r = log_error_errno(-ENOMEM, "out of memory");
                else
                        json_print(o);
        } else
                status_print(&s);
        status_done(&s);
        return r;
}
