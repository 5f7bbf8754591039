/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bus-api.h"
#include "op-error.h"

static int errno_of_name(const char *name) {
#define NAME_TO_ERRNO(n, code) if (strcmp(name, n) == 0) return code;
        SERROR_BUS_ERRORS(NAME_TO_ERRNO)
#undef NAME_TO_ERRNO
        return EINVAL;
}

int op_error_set(OpError *e, const char *name, const char *format, ...) {
        va_list ap;

        e->name = name;
        va_start(ap, format);
        vsnprintf(e->message, sizeof(e->message), format, ap);
        va_end(ap);
        return -errno_of_name(name);
}

int op_error_set_errno(OpError *e, int error, const char *format, ...) {
        va_list ap;

        error = error < 0 ? -error : error;
        e->name = NULL;
        errno = error; /* for a %m in format */
        va_start(ap, format);
        vsnprintf(e->message, sizeof(e->message), format, ap);
        va_end(ap);
        return -error;
}
