/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Why the Manager refused an operation, in the API's terms but without sd-bus. */
#pragma once

#include "escape.h"
#include "macro.h"

/* An error name of lib/bus-api.h (or InvalidArgs) and a sentence for a user.
 * The bus layer turns it into the D-Bus error; a refusal with no name is
 * answered by its errno alone. */
typedef struct OpError {
        const char *name;
        char message[1024];
} OpError;

/* Fill e and return the negative errno the API gives name (bus-api.h's table;
 * EINVAL for InvalidArgs). */
int op_error_set(OpError *e, const char *name, const char *format, ...) _printf_(3, 4);
/* The same for a failure that has an errno but no name of its own. */
int op_error_set_errno(OpError *e, int error, const char *format, ...) _printf_(3, 4);

/* How much of a caller's string an error message or a log line quotes. */
#define ECHO_MAX 64
/* s quoted safely: escaped, and cut after ECHO_MAX bytes. The buffer lives
 * until the end of the enclosing block. */
#define echo_arg(s) escape_text((s), ECHO_MAX, (char[ESCAPE_SIZE(ECHO_MAX)]){ 0 }, ESCAPE_SIZE(ECHO_MAX))
