/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strings that bus callers send: bounded on the way in, cut and escaped when quoted back. */
#pragma once

#include <stddef.h>
#include <systemd/sd-bus.h>

#include "op-error.h"

/* Any string argument of serrord's methods other than a policy's text: names,
 * UUIDs, vcpu lists, syndromes, modes, a policy's source. */
#define BUS_ARG_MAX 256

/* 0, or an InvalidArgs error naming WHAT and the limit when s is longer than max bytes. */
int bus_arg_check(const char *s, size_t max, const char *what, sd_bus_error *error);

/* The Manager's refusal r as the D-Bus error of its name (or of its errno). */
int bus_reply_op_error(sd_bus_error *error, const OpError *e, int r);
