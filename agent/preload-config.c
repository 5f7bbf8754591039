/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-preload's configuration from the VMM's command line and environment: the VM's name and UUID from QEMU's -name and -uuid, or SERROR_VM_NAME; labels; the kick signal. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse-util.h"
#include "preload-config.h"
#include "text-util.h"

static int hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = ascii_tolower(c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int preload_uuid_parse(const char *s, uint8_t ret[static ATTACH_UUID_SIZE]) {
        uint8_t b[ATTACH_UUID_SIZE];
        size_t n = 0;

        if (!s || !attach_name_looks_like_uuid(s))
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                int hi, lo;

                if (*p == '-')
                        continue;
                hi = hex_digit(p[0]);
                lo = hex_digit(p[1]);
                if (hi < 0 || lo < 0 || n >= sizeof b)
                        return -EINVAL;
                b[n++] = (uint8_t) (hi << 4 | lo);
                p++;
        }
        if (n != sizeof b)
                return -EINVAL;
        memcpy(ret, b, sizeof b);
        return 0;
}

/* QEMU's option syntax: comma-separated elements, ",," an escaped comma, and
 * for -name an implied first key "guest". Copies element number `which`
 * (from 0) unescaped into buf; returns its length, -ENOENT when there are
 * fewer elements, -ENAMETOOLONG when it does not fit. */
static int qemu_opts_element(const char *value, unsigned which, char *buf, size_t size) {
        unsigned index = 0;
        size_t n = 0;

        for (const char *p = value;; p++) {
                bool end = *p == '\0' || (*p == ',' && p[1] != ',');

                if (end) {
                        if (index == which) {
                                buf[n] = '\0';
                                return (int) n;
                        }
                        if (*p == '\0')
                                return -ENOENT;
                        index++;
                        continue;
                }
                if (*p == ',')
                        p++; /* ",," */
                if (index == which) {
                        if (n + 1 >= size)
                                return -ENAMETOOLONG;
                        buf[n++] = *p;
                }
        }
}

int preload_qemu_name_value(const char *value, char *buf, size_t size) {
        char element[256];

        if (!value || size == 0)
                return -ENOENT;
        for (unsigned i = 0;; i++) {
                int r = qemu_opts_element(value, i, element, sizeof element);
                const char *v;

                if (r == -ENOENT)
                        return -ENOENT;
                if (r == -ENAMETOOLONG) {
                        /* Over 255 bytes: far past ATTACH_NAME_MAX either way. */
                        if (i == 0 || strncmp(value, "guest=", 6) == 0)
                                return -ENAMETOOLONG;
                        continue;
                }
                if (strncmp(element, "guest=", 6) == 0)
                        v = element + 6;
                else if (i == 0 && !strchr(element, '='))
                        v = element; /* the implied key */
                else
                        continue;
                if (*v == '\0')
                        return -ENOENT;
                if (strlen(v) >= size)
                        return -ENAMETOOLONG;
                strcpy(buf, v);
                return 0;
        }
}

static bool name_char_is_allowed(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '-';
}

/* A name from the VMM's own arguments is repaired rather than refused: the
 * operator chose it for libvirt or QEMU, not for us, and the VM must still
 * attach. Returns true when it changed. */
static bool name_repair(const char *in, char out[static ATTACH_NAME_MAX + 1]) {
        size_t n = 0;
        bool changed = false;

        for (const char *p = in; *p; p++) {
                if (n == ATTACH_NAME_MAX) {
                        changed = true;
                        break;
                }
                if (name_char_is_allowed(*p)) {
                        out[n++] = *p;
                } else {
                        out[n++] = '_';
                        changed = true;
                }
        }
        out[n] = '\0';
        /* A name shaped like a UUID would be read as one by every lookup. */
        if (attach_name_looks_like_uuid(out)) {
                out[8] = '_';
                changed = true;
        }
        return changed;
}

/* The value after argument `option` (or its "--" spelling), the last one
 * given, as QEMU takes the last. NULL when absent. */
static const char *cmdline_option(const char *cmdline, size_t size, const char *option) {
        const char *found = NULL;
        const char *end = cmdline + size;
        const char *arg = cmdline;

        while (arg < end) {
                size_t len = strnlen(arg, (size_t) (end - arg));
                const char *next = arg + len + 1;
                const char *name = arg;

                if (len >= 2 && name[0] == '-' && name[1] == '-')
                        name++;
                if (strcmp(name, option) == 0 && next < end && strnlen(next, (size_t) (end - next)) < (size_t) (end - next))
                        found = next;
                arg = next;
        }
        return found;
}

/* The last path component of argv[0]. */
static const char *cmdline_program(const char *cmdline, size_t size) {
        const char *slash;

        if (!cmdline || size == 0 || strnlen(cmdline, size) == size || cmdline[0] == '\0')
                return "vmm";
        slash = strrchr(cmdline, '/');
        return slash && slash[1] ? slash + 1 : cmdline;
}

int preload_kick_signal_parse(const char *s, int sigrtmin, int sigrtmax, int *ret) {
        uint32_t n = 0;
        int sig;

        if (!s)
                return -EINVAL;
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        if (strcasecmp(s, "USR1") == 0)
                sig = SIGUSR1;
        else if (strcasecmp(s, "USR2") == 0)
                sig = SIGUSR2;
        else if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
                bool min = ascii_tolower(s[3]) == 'i';
                const char *rest = s + 5;

                if (*rest == '\0')
                        sig = min ? sigrtmin : sigrtmax;
                else if ((min && *rest == '+') || (!min && *rest == '-')) {
                        if (parse_u32(rest + 1, &n) < 0 || n > (uint32_t) (sigrtmax - sigrtmin))
                                return -EINVAL;
                        sig = min ? sigrtmin + (int) n : sigrtmax - (int) n;
                } else
                        return -EINVAL;
        } else {
                if (parse_u32(s, &n) < 0 || n > ATTACH_SIGNAL_MAX)
                        return -EINVAL;
                sig = (int) n;
                /* The C library's own real-time signals sit below SIGRTMIN. */
                if (sig > 31 && sig < sigrtmin)
                        return -EINVAL;
        }
        if (!attach_kick_signal_is_valid(sig))
                return -EINVAL;
        *ret = sig;
        return 0;
}

static int labels_parse(const char *text, PreloadConfig *c, serror_diag *diag) {
        const char *p = text;

        while (*p) {
                char item[sizeof c->label_text[0]];
                AttachLabel label;
                size_t len = strcspn(p, ", \t");

                if (len == 0) {
                        p++;
                        continue;
                }
                if (len >= sizeof item)
                        return diag_fail(diag, -EINVAL, "SERROR_VM_LABELS: the label \"%.*s...\" is too long",
                                         20, p);
                memcpy(item, p, len);
                item[len] = '\0';
                p += len;
                if (attach_label_from_string(item, &label, diag) < 0) {
                        serror_diag inner = *diag;

                        return diag_fail(diag, -EINVAL, "SERROR_VM_LABELS: %s", inner.message);
                }
                for (unsigned i = 0; i < c->n_labels; i++)
                        if (strncmp(c->label_text[i], item, strlen(label.key) + 1) == 0)
                                return diag_fail(diag, -EINVAL, "SERROR_VM_LABELS: the key \"%s\" is given twice",
                                                 label.key);
                if (c->n_labels == ATTACH_LABELS_MAX)
                        return diag_fail(diag, -EINVAL, "SERROR_VM_LABELS: more than %u labels", ATTACH_LABELS_MAX);
                strcpy(c->label_text[c->n_labels], item);
                c->labels[c->n_labels] = c->label_text[c->n_labels];
                c->n_labels++;
        }
        return 0;
}

int preload_config_build(const PreloadInputs *in, PreloadConfig *ret, serror_diag *diag) {
        PreloadConfig c = { .kick_signal = PRELOAD_KICK_SIGNAL_DEFAULT };
        serror_diag scratch;
        const char *value;
        int r;

        if (!diag)
                diag = &scratch;

        if (in->env_vm_name && in->env_vm_name[0]) {
                if (!attach_vm_name_is_valid(in->env_vm_name))
                        return diag_fail(diag, -EINVAL,
                                         "SERROR_VM_NAME \"%.64s\" is not a VM name: 1 to %u of A-Z a-z 0-9 . _ -, not shaped like a UUID",
                                         in->env_vm_name, ATTACH_NAME_MAX);
                strcpy(c.vm_name, in->env_vm_name);
                c.name_source = PRELOAD_NAME_ENV;
        } else {
                char name[256];

                value = in->cmdline ? cmdline_option(in->cmdline, in->cmdline_size, "-name") : NULL;
                if (value && preload_qemu_name_value(value, name, sizeof name) == 0) {
                        c.name_changed = name_repair(name, c.vm_name);
                        c.name_source = PRELOAD_NAME_CMDLINE;
                } else {
                        char fallback[ATTACH_NAME_MAX + 32];

                        (void) snprintf(fallback, sizeof fallback, "%.48s-%d",
                                        cmdline_program(in->cmdline, in->cmdline_size), (int) in->pid);
                        (void) name_repair(fallback, c.vm_name);
                        c.name_source = PRELOAD_NAME_FALLBACK;
                }
        }

        value = in->cmdline ? cmdline_option(in->cmdline, in->cmdline_size, "-uuid") : NULL;
        if (value) {
                r = preload_uuid_parse(value, c.uuid);
                if (r < 0)
                        return diag_fail(diag, r, "-uuid \"%.40s\" is not a UUID", value);
                c.has_uuid = memcmp(c.uuid, (uint8_t[ATTACH_UUID_SIZE]) {}, ATTACH_UUID_SIZE) != 0;
        }

        if (in->env_labels) {
                r = labels_parse(in->env_labels, &c, diag);
                if (r < 0)
                        return r;
        }

        if (in->env_kick && in->env_kick[0]) {
                r = preload_kick_signal_parse(in->env_kick, SIGRTMIN, SIGRTMAX, &c.kick_signal);
                if (r < 0)
                        return diag_fail(diag, r,
                                         "SERROR_KICK_SIGNAL \"%.32s\" is not a usable kick: SIGUSR1, SIGUSR2, SIGRTMIN+N, SIGRTMAX-N or a number",
                                         in->env_kick);
        }

        *ret = c;
        /* Pointers into the copy, not into the local. */
        for (unsigned i = 0; i < ret->n_labels; i++)
                ret->labels[i] = ret->label_text[i];
        ret->labels[ret->n_labels] = NULL;
        return 0;
}

static bool entry_is_self(const char *entry, size_t len) {
        static const char self[] = "libserror-preload.so";
        const char *base = entry;

        for (size_t i = 0; i < len; i++)
                if (entry[i] == '/')
                        base = entry + i + 1;
        len -= (size_t) (base - entry);
        return len >= sizeof self - 1 && memcmp(base, self, sizeof self - 1) == 0;
}

bool preload_env_without_self(const char *value, char *buf, size_t size) {
        const char *p = value;
        size_t n = 0;
        bool removed = false;

        if (size == 0)
                return false;
        buf[0] = '\0';
        while (p && *p) {
                size_t len = strcspn(p, ": \t");

                if (len > 0) {
                        if (entry_is_self(p, len))
                                removed = true;
                        else if (n + (n > 0) + len < size) {
                                if (n > 0)
                                        buf[n++] = ':';
                                memcpy(buf + n, p, len);
                                n += len;
                                buf[n] = '\0';
                        }
                }
                p += len;
                if (*p)
                        p++;
        }
        return removed;
}
