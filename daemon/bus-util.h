/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bus layer's helpers: callers' strings bounded on the way in; refusals and arrays on the way out. */
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

/* Appends the elements of an array already opened in reply. */
typedef int (*bus_fill_fn)(sd_bus_message *reply, const void *userdata);
/* Append an array of contents (fill() appends its elements) to reply, and send it. */
int bus_send_with_array(sd_bus_message *reply, const char *contents, bus_fill_fn fill, const void *userdata);
/* The same as the whole answer to call. */
int bus_reply_with_array(sd_bus_message *call, const char *contents, bus_fill_fn fill, const void *userdata);
