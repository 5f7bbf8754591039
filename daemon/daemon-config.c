/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reads serrord.conf into a DaemonConfig; every key is documented in serrord(8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon-config.h"
#include "macro.h"

#define CONFIG_FILE_MAX (1024 * 1024)

int daemon_config_init(DaemonConfig *c) {
        *c = (DaemonConfig) {
                .log_level = LOG_INFO,
                .log_target = LOG_TARGET_AUTO,
                .kvm_device = strdup("/dev/kvm"),
        };
        return c->kvm_device ? 0 : -ENOMEM;
}

void daemon_config_done(DaemonConfig *c) {
        free(c->kvm_device);
        c->kvm_device = NULL;
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
                if (streq(key, "KvmDevice")) {
                        char *copy;
                        if (value[0] != '/')
                                return diag_text(diag, "expected an absolute path", value);
                        copy = strdup(value);
                        if (!copy)
                                return -ENOMEM;
                        free(c->kvm_device);
                        c->kvm_device = copy;
                        return 0;
                }
        } else {
                snprintf(diag->message, sizeof(diag->message), "unknown section [%s] (known: [Daemon])", section);
                return -EINVAL;
        }
        snprintf(diag->message, sizeof(diag->message), "unknown key in [%s]", section);
        return -EINVAL;
}

int daemon_config_load(DaemonConfig *c, const char *path, bool missing_ok, serror_diag *diag) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        f = fopen(path, "re");
        if (!f) {
                r = negative_errno();
                if (r == -ENOENT && missing_ok)
                        return 0;
                snprintf(diag->message, sizeof(diag->message), "%s: %s", path, strerror(-r));
                return r;
        }
        text = malloc(CONFIG_FILE_MAX + 1);
        if (!text)
                return -ENOMEM;
        len = fread(text, 1, CONFIG_FILE_MAX + 1, f);
        if (ferror(f)) {
                snprintf(diag->message, sizeof(diag->message), "%s: read error", path);
                return -EIO;
        }
        if (len > CONFIG_FILE_MAX) {
                snprintf(diag->message, sizeof(diag->message), "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
                return -EFBIG;
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
