/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Journal fields without snprintf(): one buffer, one pass per value. */
#include <string.h>

#include "journal-fields.h"
#include "macro.h"

static char *field_begin(FieldBuf *b, const char *key, size_t room) {
        size_t len = strlen(key);

        if (b->n + 1 >= ELEMENTSOF(b->fields) || b->used + len + room + 1 > sizeof(b->data))
                return NULL;
        b->fields[b->n++] = b->data + b->used;
        memcpy(b->data + b->used, key, len);
        b->used += len;
        return b->data + b->used;
}

static void field_end(FieldBuf *b, size_t len) {
        b->used += len;
        b->data[b->used++] = '\0';
        b->fields[b->n] = NULL;
}

void field_str(FieldBuf *b, const char *key, const char *value, size_t max) {
        size_t len = strnlen(value, max);
        char *p = field_begin(b, key, len);

        if (!p)
                return;
        memcpy(p, value, len);
        field_end(b, len);
}

void field_uint(FieldBuf *b, const char *key, uint64_t value) {
        char digits[20];
        size_t len = 0;
        char *p;

        do {
                digits[len++] = (char) ('0' + value % 10);
                value /= 10;
        } while (value);
        p = field_begin(b, key, len);
        if (!p)
                return;
        for (size_t i = 0; i < len; i++)
                p[i] = digits[len - 1 - i];
        field_end(b, len);
}

void field_hex(FieldBuf *b, const char *key, uint32_t value, unsigned width) {
        char *p = field_begin(b, key, 2 + width);

        if (!p)
                return;
        p[0] = '0';
        p[1] = 'x';
        for (unsigned i = 0; i < width; i++)
                p[2 + i] = "0123456789abcdef"[(value >> (4 * (width - 1 - i))) & 0xf];
        field_end(b, 2 + width);
}

void field_hex64(FieldBuf *b, const char *key, uint64_t value) {
        char *p = field_begin(b, key, 18);

        if (!p)
                return;
        p[0] = '0';
        p[1] = 'x';
        for (unsigned i = 0; i < 16; i++)
                p[2 + i] = "0123456789abcdef"[(value >> (4 * (15 - i))) & 0xf];
        field_end(b, 18);
}
