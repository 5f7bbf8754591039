/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "bus-args.h"

int bus_arg_check(const char *s, size_t max, const char *what, sd_bus_error *error) {
        if (strnlen(s, max + 1) <= max)
                return 0;
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "The %s is longer than %zu bytes (it begins \"%s\").",
                                 what, max, echo_arg(s));
}

int bus_reply_op_error(sd_bus_error *error, const OpError *e, int r) {
        if (e->name)
                return sd_bus_error_set(error, e->name, e->message);
        if (e->message[0])
                return sd_bus_error_set_errnof(error, r, "%s", e->message);
        return r;
}
