/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrord's typed D-Bus errors and the errno each one maps to. */
#pragma once

#include <systemd/sd-bus.h>

#include "bus-names.h"

extern const sd_bus_error_map serror_bus_error_map[];
