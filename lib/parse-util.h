/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strict number and duration parsing: whole string, no sign surprises, range-checked. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Decimal, or hex with 0x. Leading/trailing whitespace, signs and empty input
 * are refused. 0, -EINVAL (not a number) or -ERANGE. */
int parse_u64(const char *s, uint64_t *ret);
int parse_u32(const char *s, uint32_t *ret);
/* "yes/no/true/false/on/off/1/0", case-insensitive. */
int parse_boolean(const char *s, bool *ret);
/* A duration: "250ms", "2s", "1.5s", "3min", "1h", "500us", or a bare number of
 * seconds. Result in microseconds. 0, -EINVAL or -ERANGE. */
int parse_duration_usec(const char *s, uint64_t *ret);

/* From the text of /proc/PID/status: the pid that process has in its own,
 * innermost PID namespace (the last number of the "NSpid:" line). 0, or
 * -ENOENT when there is no such line, -EINVAL when it is malformed. */
int parse_status_nspid(const char *status, int *ret);
