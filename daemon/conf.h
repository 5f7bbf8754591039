/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A parser for systemd-style INI text ([Section], Key=Value, # comments), without I/O. */
#pragma once

#include <stddef.h>

#include "serror/syndrome.h" /* serror_diag */

/* Called once per assignment. Return 0 to go on, or a negative errno with
 * diag filled (the parser prefixes the line number). */
typedef int (*conf_assignment_fn)(const char *section, const char *key, const char *value, void *userdata,
                                  serror_diag *diag);

/* Parse text (need not be NUL-terminated). Lines are at most 4095 bytes.
 * Errors name the line: "line 7: expected Key=Value, got 'foo'". */
int conf_parse(const char *text, size_t len, conf_assignment_fn fn, void *userdata, serror_diag *diag);
