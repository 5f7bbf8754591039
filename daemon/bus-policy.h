/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policies on the bus: load, start, stop, unload, list, show, reload, stop-all. */
#pragma once

#include <systemd/sd-bus.h>

typedef struct Manager Manager;
typedef struct LoadedPolicy LoadedPolicy;

int bus_policy_method_load(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_policy_method_start(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_policy_method_stop(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_policy_method_unload(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_policy_method_list(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_policy_method_get(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_policy_method_reload(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_policy_method_stop_all(sd_bus_message *message, void *userdata, sd_bus_error *error);

void bus_policy_emit_changed(Manager *m, const LoadedPolicy *rp);
void bus_policy_emit_removed(Manager *m, const char *name);
