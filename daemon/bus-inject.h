/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Injection on the bus: the Inject and GetHistory methods and the InjectionDone signal. */
#pragma once

#include <systemd/sd-bus.h>

typedef struct Manager Manager;
typedef struct InjectionRecord InjectionRecord;



int bus_inject_method_inject(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_inject_method_get_history(sd_bus_message *message, void *userdata, sd_bus_error *error);

int bus_inject_method_subscribe(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_inject_method_unsubscribe(sd_bus_message *message, void *userdata, sd_bus_error *error);

void bus_inject_emit_done(Manager *m, const InjectionRecord *r);
/* ReactionDone: the record again, its reaction final. */
void bus_inject_emit_reaction(Manager *m, const InjectionRecord *r);
