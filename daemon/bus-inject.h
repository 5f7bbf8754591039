/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Injection on the bus: the Inject and GetHistory methods and the InjectionDone signal. */
#pragma once

#include <systemd/sd-bus.h>

typedef struct Manager Manager;
typedef struct InjectionRecord InjectionRecord;

/* The D-Bus type of one outcome record (serrord(8), D-BUS INTERFACE). */
#define INJECTION_RECORD_SIGNATURE "ttsusubssis(bbbt)(bbt)(bbbt)tts"

/* Inject flags. */
enum {
        INJECT_FLAG_WAIT = 1u << 0,
        INJECT_FLAG_ALLOW_IDS = 1u << 1,
        INJECT_FLAG_DRY_RUN = 1u << 2,
        _INJECT_FLAGS_ALL = (1u << 3) - 1,
};

int bus_inject_method_inject(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_inject_method_get_history(sd_bus_message *message, void *userdata, sd_bus_error *error);

int bus_inject_method_subscribe(sd_bus_message *message, void *userdata, sd_bus_error *error);
int bus_inject_method_unsubscribe(sd_bus_message *message, void *userdata, sd_bus_error *error);

void bus_inject_emit_done(Manager *m, const InjectionRecord *r);
