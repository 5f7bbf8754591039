/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reads serrord.conf into a DaemonConfig; every key is documented in serrord(8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon-config.h"
#include "attach-proto.h"
#include "macro.h"
#include "parse-util.h"
#include "read-file.h"

#define CONFIG_FILE_MAX (1024 * 1024)

int daemon_config_init(DaemonConfig *c) {
        *c = (DaemonConfig) {
                .log_level = LOG_INFO,
                .log_target = LOG_TARGET_AUTO,
                .kvm_device = strdup("/dev/kvm"),
                .attach_socket = strdup(DAEMON_DEFAULT_ATTACH_SOCKET),
                .max_connections = 256,
                .max_connections_per_user = 32,
                .hello_timeout_usec = 5 * 1000000ULL,
                .max_vms_per_user = 64,
                .max_vcpus_per_vm = 1024,
                .history_size = 1000,
                .guards = { .rate_burst = 1, .max_severity = SERROR_SEVERITY_UC },
                .policy_dir = strdup(DAEMON_DEFAULT_POLICY_DIR),
        };
        /* The group the deployment creates for VMM users and operators. */
        strcpy(c->attach_groups[c->n_attach_groups++].name, "serror");
        strcpy(c->control_groups[c->n_control_groups++].name, "serror");
        return c->kvm_device && c->attach_socket && c->policy_dir ? 0 : -ENOMEM;
}

void daemon_config_done(DaemonConfig *c) {
        free(c->kvm_device);
        c->kvm_device = NULL;
        free(c->attach_socket);
        c->attach_socket = NULL;
        free(c->policy_dir);
        c->policy_dir = NULL;
}

static int set_path(char **field, const char *value) {
        char *copy = strdup(value);

        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

int daemon_config_set_attach_socket(DaemonConfig *c, const char *path) {
        return set_path(&c->attach_socket, path);
}

/* A space-separated list of names or numbers; an empty value empties the list. */
static int parse_id_list(const char *value, ConfigId *ids, unsigned *n, serror_diag *diag) {
        const char *p = value;

        *n = 0;
        while (*p) {
                size_t len;

                p += strspn(p, " \t");
                len = strcspn(p, " \t");
                if (len == 0)
                        break;
                if (len >= sizeof(ids[0].name)) {
                        snprintf(diag->message, sizeof(diag->message), "name '%.*s...' is too long", 20, p);
                        return -EINVAL;
                }
                if (*n >= DAEMON_CONFIG_ID_MAX) {
                        snprintf(diag->message, sizeof(diag->message), "more than %d names", DAEMON_CONFIG_ID_MAX);
                        return -EINVAL;
                }
                memcpy(ids[*n].name, p, len);
                ids[*n].name[len] = '\0';
                (*n)++;
                p += len;
        }
        return 0;
}

static int parse_limit(const char *value, unsigned max, unsigned *ret, serror_diag *diag) {
        uint32_t v;

        if (parse_u32(value, &v) < 0 || v == 0 || v > max) {
                snprintf(diag->message, sizeof(diag->message), "expected a number from 1 to %u, got '%.64s'", max, value);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

static int diag_text(serror_diag *diag, const char *what, const char *value) {
        snprintf(diag->message, sizeof(diag->message), "%s, got '%.64s'", what, value);
        return -EINVAL;
}

static int config_assign(const char *section, const char *key, const char *value, void *userdata,
                         serror_diag *diag) {
        DaemonConfig *c = userdata;

        if (streq(section, "Daemon")) {
                if (streq(key, "LogLevel"))
                        return log_level_from_string(value, &c->log_level) < 0 ?
                                diag_text(diag, "expected err, warning, notice, info or debug", value) : 0;
                if (streq(key, "LogTarget"))
                        return log_target_from_string(value, &c->log_target) < 0 ?
                                diag_text(diag, "expected auto, journal or stderr", value) : 0;
                if (streq(key, "KvmDevice"))
                        return value[0] != '/' ? diag_text(diag, "expected an absolute path", value) :
                                                 set_path(&c->kvm_device, value);
        } else if (streq(section, "Attach")) {
                if (streq(key, "Socket"))
                        return value[0] != '/' ? diag_text(diag, "expected an absolute path", value) :
                                                 set_path(&c->attach_socket, value);
                if (streq(key, "AllowUsers"))
                        return parse_id_list(value, c->attach_users, &c->n_attach_users, diag);
                if (streq(key, "AllowGroups"))
                        return parse_id_list(value, c->attach_groups, &c->n_attach_groups, diag);
                if (streq(key, "MaxConnections"))
                        return parse_limit(value, 65536, &c->max_connections, diag);
                if (streq(key, "MaxConnectionsPerUser"))
                        return parse_limit(value, 65536, &c->max_connections_per_user, diag);
                if (streq(key, "HelloTimeout"))
                        return parse_duration_usec(value, &c->hello_timeout_usec) < 0 || c->hello_timeout_usec == 0 ?
                                diag_text(diag, "expected a duration above 0 such as 5s or 500ms", value) : 0;
                if (streq(key, "MaxVMsPerUser"))
                        return parse_limit(value, 65536, &c->max_vms_per_user, diag);
                if (streq(key, "MaxVcpusPerVM"))
                        return parse_limit(value, ATTACH_VCPU_INDEX_MAX + 1, &c->max_vcpus_per_vm, diag);
        } else if (streq(section, "History")) {
                if (streq(key, "Size"))
                        return parse_limit(value, 1000000, &c->history_size, diag);
        } else if (streq(section, "Guards")) {
                if (streq(key, "RateLimit")) {
                        char *end;
                        double v = strtod(value, &end);
                        if (end == value || *end || !(v >= 0) || v > 1e6)
                                return diag_text(diag, "expected injections per second, 0 to 1000000", value);
                        c->guards.rate_limit = v;
                        return 0;
                }
                if (streq(key, "RateBurst"))
                        return parse_limit(value, 1000000, &c->guards.rate_burst, diag);
                if (streq(key, "MinGap"))
                        return parse_duration_usec(value, &c->guards.min_gap_usec) < 0 ?
                                diag_text(diag, "expected a duration such as 100ms or 0", value) : 0;
                if (streq(key, "MaxSeverity")) {
                        static const struct { const char *name; int severity; } caps[] = {
                                { "ce", SERROR_SEVERITY_CE },   { "ueo", SERROR_SEVERITY_UEO },
                                { "uer", SERROR_SEVERITY_UER }, { "ueu", SERROR_SEVERITY_UEU },
                                { "uc", SERROR_SEVERITY_UC },
                        };
                        for (size_t i = 0; i < ELEMENTSOF(caps); i++)
                                if (strcaseeq(value, caps[i].name)) {
                                        c->guards.max_severity = caps[i].severity;
                                        return 0;
                                }
                        return diag_text(diag, "expected ce, ueo, uer, ueu or uc", value);
                }
                if (streq(key, "DryRun"))
                        return parse_boolean(value, &c->guards.dry_run) < 0 ? diag_text(diag, "expected yes or no", value) : 0;
        } else if (streq(section, "Policies")) {
                if (streq(key, "Directory"))
                        return value[0] != '/' ? diag_text(diag, "expected an absolute path", value) :
                                                 set_path(&c->policy_dir, value);
        } else if (streq(section, "Control")) {
                if (streq(key, "AllowGroups"))
                        return parse_id_list(value, c->control_groups, &c->n_control_groups, diag);
        } else {
                snprintf(diag->message, sizeof(diag->message),
                         "unknown section [%.32s] (known: [Daemon], [Attach], [History], [Guards], [Policies], [Control])", section);
                return -EINVAL;
        }
        snprintf(diag->message, sizeof(diag->message), "unknown key in [%s]", section);
        return -EINVAL;
}

int daemon_config_load(DaemonConfig *c, const char *path, bool missing_ok, serror_diag *diag) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_regular_file(path, CONFIG_FILE_MAX, &text, &len);
        if (r == -ENOENT && missing_ok)
                return 0;
        if (r == -EFBIG) {
                snprintf(diag->message, sizeof(diag->message), "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
                return r;
        }
        if (r < 0) {
                snprintf(diag->message, sizeof(diag->message), "%s: %s", path, read_file_strerror(r));
                return r;
        }

        r = conf_parse(text, len, config_assign, c, diag);
        if (r < 0) {
                char inner[sizeof(diag->message)];
                memcpy(inner, diag->message, sizeof(inner));
                snprintf(diag->message, sizeof(diag->message), "%.60s: %.120s", path, inner);
                return r;
        }
        return 0;
}
