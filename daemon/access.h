/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may attach VMs and who may change serrord's state: root, plus configured users and groups. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon-config.h"

typedef struct AccessList {
        uid_t users[DAEMON_CONFIG_ID_MAX];
        unsigned n_users;
        gid_t groups[DAEMON_CONFIG_ID_MAX];
        unsigned n_groups;
} AccessList;

/* Resolve names to ids. A name that does not resolve is logged and left out:
 * the default group may not exist on a host that never created it. */
void access_list_resolve(AccessList *a, const char *what, const ConfigId *users, unsigned n_users,
                         const ConfigId *groups, unsigned n_groups);

/* Root always passes; otherwise the uid must be listed, or the primary gid
 * or one of the supplementary gids. */
bool access_list_allows(const AccessList *a, uid_t uid, gid_t gid, const gid_t *supplementary, size_t n_supplementary);
