/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrorctl's error reporting, bus connection and JSON output. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-api.h"
#include "bus-error-map.h"
#include "cli.h"

int usage_error(const char *fmt, ...) {
        va_list ap;

        fputs("serrorctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return -EINVAL;
}

int log_error_errno(int r, const char *fmt, ...) {
        va_list ap;

        fputs("serrorctl: ", stderr);
        errno = r < 0 ? -r : r;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return r < 0 ? r : -r;
}

static const char *system_bus_address(void) {
        const char *e = getenv("DBUS_SYSTEM_BUS_ADDRESS");
        return e ?: "unix:path=/run/dbus/system_bus_socket";
}

int cli_bus_open(sd_bus **ret) {
        int r;

        /* So that sd_bus_error_get_errno() reads serrord's typed errors as bus-api.h says. */
        r = sd_bus_error_add_map(serror_bus_error_map);
        if (r < 0)
                return log_error_errno(r, "Failed to register serrord's D-Bus errors: %m");
        r = sd_bus_open_system(ret);
        if (r < 0) {
                fprintf(stderr, "serrorctl: serrord is not reachable: cannot connect to the system bus at %s (%s), so %s cannot answer.\n",
                        system_bus_address(), strerror(-r), SERROR_BUS_NAME);
                return -EHOSTDOWN;
        }
        return 0;
}

int cli_bus_call_failed(const char *what, const sd_bus_error *error, int r) {
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
                fprintf(stderr, "serrorctl: serrord is not running: nothing owns %s on the system bus.\n",
                        SERROR_BUS_NAME);
                return -EHOSTDOWN;
        }
        if (!sd_bus_error_is_set(error)) {
                fprintf(stderr, "serrorctl: %s: %s\n", what, strerror(r < 0 ? -r : r));
                return r < 0 ? r : -EIO;
        }
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED) ||
            sd_bus_error_has_name(error, SERROR_BUS_ERROR_ACCESS_DENIED))
                fprintf(stderr, "serrorctl: %s: permission denied: %s\n", what, error->message ?: "");
        else if (strncmp(error->name, SERROR_BUS_ERROR_PREFIX, strlen(SERROR_BUS_ERROR_PREFIX)) == 0)
                /* serrord's typed errors carry a whole sentence. */
                fprintf(stderr, "serrorctl: %s\n", error->message ?: error->name);
        else
                fprintf(stderr, "serrorctl: %s: %s\n", what, error->message ?: error->name);
        /* The errno bus-api.h gives the error; main() turns it into the exit status. */
        return -sd_bus_error_get_errno(error);
}

void json_print(struct json_object *obj) {
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

        flags |= arg_json == JSON_PRETTY ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN;
        puts(json_object_to_json_string_ext(obj, flags));
}

/* The first failure is the one worth reporting: later ones only repeat it,
 * and errno is long gone by the time ferror() is asked. */
static int stdout_errno;

int cli_flush_stdout(void) {
        if (fflush(stdout) != 0) {
                if (stdout_errno == 0)
                        stdout_errno = errno > 0 ? errno : EIO;
        } else if (ferror(stdout) && stdout_errno == 0)
                stdout_errno = EIO;
        return -stdout_errno;
}
