/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "escape.h"

const char *escape_text(const char *s, size_t max_in, char *buf, size_t size) {
        static const char hex[] = "0123456789abcdef";
        size_t out = 0, i;

        if (!s)
                s = "(null)";
        for (i = 0; i < max_in && s[i]; i++) {
                unsigned char c = (unsigned char) s[i];
                size_t need = (c < 0x20 || c > 0x7e || c == '\\') ? 4 : 1;

                /* Keep room for "..." and the NUL. */
                if (out + need + 4 > size)
                        break;
                if (need == 1)
                        buf[out++] = (char) c;
                else {
                        buf[out++] = '\\';
                        buf[out++] = 'x';
                        buf[out++] = hex[c >> 4];
                        buf[out++] = hex[c & 0xf];
                }
        }
        /* Stopped before the end: by max_in or by the room left. */
        if (s[i]) {
                memcpy(buf + out, "...", 3);
                out += 3;
        }
        buf[out] = '\0';
        return buf;
}
