/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A journal entry's KEY=value fields, built side by side in one buffer for log_fields(). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Written by hand: a dozen snprintf() calls cost more than the rest of an
 * outcome's bookkeeping. A field that does not fit is left out. */
typedef struct FieldBuf {
        char data[768];
        size_t used;
        const char *fields[24];
        unsigned n;
} FieldBuf;

/* value up to max bytes */
void field_str(FieldBuf *b, const char *key, const char *value, size_t max);
void field_uint(FieldBuf *b, const char *key, uint64_t value);
/* "0x" and width hex digits */
void field_hex(FieldBuf *b, const char *key, uint32_t value, unsigned width);
void field_hex64(FieldBuf *b, const char *key, uint64_t value);
