/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs an sd-bus connection inside a libev loop: io, timeout and a prepare hook (STYLE.md example 10). */
#pragma once

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct BusLoop {
        struct ev_loop *loop;
        sd_bus *bus;      /* borrowed: the owner of the BusLoop owns the bus */
        ev_io io;
        ev_timer timer;
        ev_prepare prepare;
        int error;        /* set when sd_bus_process() failed; the loop is broken out of */
        bool woken;       /* the bus fd or its timer fired since the last dispatch */
        uint64_t timeout_usec; /* what the timer is armed for (sd_bus_get_timeout()), UINT64_MAX none */
} BusLoop;

int bus_loop_attach(BusLoop *b, struct ev_loop *loop, sd_bus *bus);
/* Stops every watcher; safe on a BusLoop that was never attached. */
void bus_loop_detach(BusLoop *b);
