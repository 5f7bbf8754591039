/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What libserror-preload attaches a VMM as: the VM's name, UUID, labels and kick signal, from the VMM's own command line and SERROR_* variables. Pure: the caller reads /proc and the environment. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach-proto.h"
#include "serror/syndrome.h"

/* Where the VM's name came from, for the line the preload logs. */
typedef enum PreloadNameSource {
        PRELOAD_NAME_ENV,      /* SERROR_VM_NAME */
        PRELOAD_NAME_CMDLINE,  /* QEMU's -name */
        PRELOAD_NAME_FALLBACK, /* the program's name and pid */
} PreloadNameSource;

typedef struct PreloadConfig {
        char vm_name[ATTACH_NAME_MAX + 1];
        PreloadNameSource name_source;
        /* The name had characters the protocol does not allow (they became
         * '_') or was longer than ATTACH_NAME_MAX (it was cut). */
        bool name_changed;
        bool has_uuid;
        uint8_t uuid[ATTACH_UUID_SIZE];
        unsigned n_labels;
        char label_text[ATTACH_LABELS_MAX][ATTACH_LABEL_KEY_MAX + 1 + ATTACH_LABEL_VALUE_MAX + 1];
        /* NULL-terminated pointers into label_text, as serror_agent_options wants. */
        const char *labels[ATTACH_LABELS_MAX + 1];
        int kick_signal;
} PreloadConfig;

/* The environment and process facts the configuration is made from; any
 * string may be NULL (absent). cmdline is /proc/self/cmdline: arguments
 * each ended by a NUL. */
typedef struct PreloadInputs {
        const char *cmdline;
        size_t cmdline_size;
        const char *env_vm_name;   /* SERROR_VM_NAME */
        const char *env_labels;    /* SERROR_VM_LABELS: key=value, separated by commas or spaces */
        const char *env_kick;      /* SERROR_KICK_SIGNAL: SIGUSR1, SIGUSR2, SIGRTMIN+N or a number */
        pid_t pid;
} PreloadInputs;

/* The default kick: QEMU's own SIG_IPI. */
#define PRELOAD_KICK_SIGNAL_DEFAULT 10 /* SIGUSR1 */

/* 0, or -EINVAL with diag naming the variable or argument that was wrong
 * (a bad SERROR_VM_NAME is refused, not repaired: the operator chose it).
 * *ret written in full on success. */
int preload_config_build(const PreloadInputs *in, PreloadConfig *ret, serror_diag *diag);

/* The value of QEMU's -name option ("guest=NAME,debug-threads=on",
 * "NAME,process=P", with ",," for a comma) reduced to the guest name.
 * 0, -ENOENT (no guest name in it) or -ENAMETOOLONG (over size-1 bytes). */
int preload_qemu_name_value(const char *value, char *buf, size_t size);

/* "6b1e5ac1-...": 0 or -EINVAL. */
int preload_uuid_parse(const char *s, uint8_t ret[static ATTACH_UUID_SIZE]);

/* SIGUSR1, SIGUSR2, SIGRTMIN, SIGRTMIN+N, SIGRTMAX-N or a number, checked
 * against attach_kick_signal_is_valid(). sigrtmin and sigrtmax are the C
 * library's values, passed in. 0 or -EINVAL. */
int preload_kick_signal_parse(const char *s, int sigrtmin, int sigrtmax, int *ret);

/* Replace LD_PRELOAD's entries naming a file called libserror-preload.so
 * (any directory, any suffix after it) in value, written to buf: children of
 * the VMM must not load the agent again. Entries are separated by ':' or
 * blanks. Returns true when something was removed. */
bool preload_env_without_self(const char *value, char *buf, size_t size);
