/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM registry on the bus: ListVMs, DetachVM, and the VMAttached/VMDetached signals. */
#pragma once

#include <systemd/sd-bus.h>

typedef struct Manager Manager;
typedef struct VM VM;

int bus_vm_method_list(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_vm_method_detach(sd_bus_message *message, void *userdata, sd_bus_error *error);

void bus_vm_emit_attached(Manager *m, const VM *vm);
void bus_vm_emit_detached(Manager *m, const VM *vm, const char *reason);
/* PropertiesChanged for AttachedVMs and AttachedVcpus. */
void bus_manager_emit_attached_changed(Manager *m);
