/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrord's configuration file (serrord(8), CONFIGURATION). */
#pragma once

#include <stdbool.h>

#include "log.h"
#include "serror/syndrome.h"

#define DAEMON_CONFIG_DEFAULT_PATH SYSCONFDIR "/serror/serrord.conf"

typedef struct DaemonConfig {
        int log_level;          /* [Daemon] LogLevel= */
        LogTarget log_target;   /* [Daemon] LogTarget= */
        char *kvm_device;       /* [Daemon] KvmDevice= */
} DaemonConfig;

int daemon_config_init(DaemonConfig *c);
void daemon_config_done(DaemonConfig *c);
/* Reads path. A missing file is fine when it is the default path (missing_ok),
 * an error otherwise. 0 or a negative errno with diag naming file and line. */
int daemon_config_load(DaemonConfig *c, const char *path, bool missing_ok, serror_diag *diag);
