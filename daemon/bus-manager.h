/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The org.serror.serror1.Manager D-Bus interface. */
#pragma once

typedef struct Manager Manager;

#include <systemd/sd-bus.h>

int bus_manager_add(Manager *m);
/* Mutating methods: root, or a member of [Control] AllowGroups=. 0, or a
 * negative errno with a typed error set. */
int bus_check_control_access(Manager *m, sd_bus_message *message, sd_bus_error *error);
