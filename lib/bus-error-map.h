/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-api.h's error table as sd-bus takes it; for serrord and serrorctl, the two ends that link libsystemd. */
#pragma once

#include <systemd/sd-bus.h>

#include "bus-api.h"

#define SERROR_BUS_ERROR_MAP_ENTRY(name, code) SD_BUS_ERROR_MAP(name, code),

static const sd_bus_error_map serror_bus_error_map[] = {
        SERROR_BUS_ERRORS(SERROR_BUS_ERROR_MAP_ENTRY)
        SD_BUS_ERROR_MAP_END
};

#undef SERROR_BUS_ERROR_MAP_ENTRY
