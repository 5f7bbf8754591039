/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrord's configuration file (serrord(8), CONFIGURATION). */
#pragma once

#include <stdbool.h>

#include "guards.h"
#include "log.h"
#include "serror/syndrome.h"

#define DAEMON_CONFIG_DEFAULT_PATH SYSCONFDIR "/serror/serrord.conf"

#define DAEMON_CONFIG_ID_MAX 16

#define DAEMON_DEFAULT_ATTACH_SOCKET "/run/serrord/attach.sock"
#define DAEMON_DEFAULT_POLICY_DIR SYSCONFDIR "/serror/policies.d"

/* A user or group by name or number, as written; resolved at start. */
typedef struct ConfigId {
        char name[64];
} ConfigId;

typedef struct DaemonConfig {
        int log_level;          /* [Daemon] LogLevel= */
        LogTarget log_target;   /* [Daemon] LogTarget= */
        char *kvm_device;       /* [Daemon] KvmDevice= */

        char *attach_socket;    /* [Attach] Socket= */
        ConfigId attach_users[DAEMON_CONFIG_ID_MAX];  /* [Attach] AllowUsers= (root is always allowed) */
        unsigned n_attach_users;
        ConfigId attach_groups[DAEMON_CONFIG_ID_MAX]; /* [Attach] AllowGroups= */
        unsigned n_attach_groups;
        unsigned max_connections;   /* [Attach] MaxConnections= */
        unsigned max_connections_per_user; /* [Attach] MaxConnectionsPerUser= (not root) */
        uint64_t hello_timeout_usec; /* [Attach] HelloTimeout= */
        unsigned max_vms_per_user;  /* [Attach] MaxVMsPerUser= */
        unsigned max_vcpus_per_vm;  /* [Attach] MaxVcpusPerVM= */

        unsigned history_size;      /* [History] Size= */

        GuardConfig guards;         /* [Guards] */
        char *policy_dir;           /* [Policies] Directory= */

        ConfigId control_groups[DAEMON_CONFIG_ID_MAX]; /* [Control] AllowGroups= (root is always allowed) */
        unsigned n_control_groups;
} DaemonConfig;

int daemon_config_init(DaemonConfig *c);
void daemon_config_done(DaemonConfig *c);
/* Reads path. A missing file is fine when it is the default path (missing_ok),
 * an error otherwise. 0 or a negative errno with diag naming file and line. */
/* Replace the attach socket path (from --attach-socket). */
int daemon_config_set_attach_socket(DaemonConfig *c, const char *path);

int daemon_config_load(DaemonConfig *c, const char *path, bool missing_ok, serror_diag *diag);
