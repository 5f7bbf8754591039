/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strings that bus callers send: bounded on the way in, cut and escaped when quoted back. */
#pragma once

#include <stddef.h>
#include <systemd/sd-bus.h>

#include "escape.h"

/* Any string argument of serrord's methods other than a policy's text: names,
 * UUIDs, vcpu lists, syndromes, modes, a policy's source. */
#define BUS_ARG_MAX 256
/* How much of a caller's string an error message or a log line quotes. */
#define BUS_ECHO_MAX 64

/* 0, or an InvalidArgs error naming WHAT and the limit when s is longer than max bytes. */
int bus_arg_check(const char *s, size_t max, const char *what, sd_bus_error *error);

/* s quoted safely: escaped, and cut after BUS_ECHO_MAX bytes. The buffer lives
 * until the end of the enclosing block. */
#define bus_echo(s) escape_text((s), BUS_ECHO_MAX, (char[ESCAPE_SIZE(BUS_ECHO_MAX)]){ 0 }, ESCAPE_SIZE(BUS_ECHO_MAX))
