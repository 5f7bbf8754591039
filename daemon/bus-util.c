/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "bus-util.h"

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

int bus_send_with_array(sd_bus_message *reply, const char *contents, bus_fill_fn fill, const void *userdata) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', contents);
        if (r < 0)
                return r;
        r = fill(reply, userdata);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int bus_reply_with_array(sd_bus_message *call, const char *contents, bus_fill_fn fill, const void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r < 0)
                return r;
        return bus_send_with_array(reply, contents, fill, userdata);
}
