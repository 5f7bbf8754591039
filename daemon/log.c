/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrord's logging back ends: sd-journal with structured fields, or plain stderr lines. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
/* serrord passes CODE_FUNC itself: without this sd_journal_send() adds its
 * own CODE_FILE/CODE_LINE/CODE_FUNC, which name log_internal(). */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "log.h"

static LogTarget log_target = LOG_TARGET_AUTO;
static int log_max_level = LOG_INFO;
static int log_resolved = -1; /* LOG_TARGET_JOURNAL or LOG_TARGET_STDERR once decided */

static const char *const log_target_names[_LOG_TARGET_MAX] = {
        [LOG_TARGET_AUTO] = "auto",
        [LOG_TARGET_JOURNAL] = "journal",
        [LOG_TARGET_STDERR] = "stderr",
};

static const char *const log_level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "err",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int log_target_from_string(const char *s, LogTarget *ret) {
        for (int i = 0; i < _LOG_TARGET_MAX; i++)
                if (strcaseeq(s, log_target_names[i])) {
                        *ret = (LogTarget) i;
                        return 0;
                }
        return -EINVAL;
}

const char *log_target_to_string(LogTarget t) {
        return t >= 0 && t < _LOG_TARGET_MAX ? log_target_names[t] : NULL;
}

int log_level_from_string(const char *s, int *ret) {
        for (size_t i = 0; i < ELEMENTSOF(log_level_names); i++)
                if (strcaseeq(s, log_level_names[i])) {
                        *ret = (int) i;
                        return 0;
                }
        if (strcaseeq(s, "error")) {
                *ret = LOG_ERR;
                return 0;
        }
        return -EINVAL;
}

void log_set_target(LogTarget target) {
        log_target = target;
        log_resolved = -1;
}

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

/* systemd sets JOURNAL_STREAM=DEV:INODE when stderr is a journal stream. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

static int resolve_target(void) {
        if (log_resolved >= 0)
                return log_resolved;
        if (log_target == LOG_TARGET_AUTO)
                log_resolved = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
        else
                log_resolved = log_target;
        return log_resolved;
}

static void write_stderr(int level, const char *message) {
        /* One writev per line, so concurrent writers (tests) never interleave halves. */
        struct iovec iov[] = {
                { .iov_base = (void *) "serrord: ", .iov_len = 9 },
                { .iov_base = (void *) message, .iov_len = strlen(message) },
                { .iov_base = (void *) "\n", .iov_len = 1 },
        };

        (void) !writev(STDERR_FILENO, iov, (int) ELEMENTSOF(iov));
}

int log_internal(int level, int error, const char *func, const char *format, ...) {
        char message[1536];
        va_list ap;
        int saved = errno;

        if (error < 0)
                error = -error;
        if (level > log_max_level)
                return -error;

        errno = error;
        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        if (resolve_target() == LOG_TARGET_JOURNAL) {
                char errno_field[32];
                snprintf(errno_field, sizeof(errno_field), "ERRNO=%d", error);
                if (sd_journal_send("MESSAGE=%s", message, "PRIORITY=%d", level, "CODE_FUNC=%s", func,
                                    error > 0 ? errno_field : NULL, NULL) >= 0)
                        goto out;
        }
        write_stderr(level, message);
out:
        errno = saved;
        return -error;
}

int log_fields(int level, const char *message_id, const char *message, const char *const *fields) {
        size_t n = 0;

        if (level > log_max_level)
                return 0;
        for (const char *const *f = fields; f && *f; f++)
                n++;

        if (resolve_target() == LOG_TARGET_JOURNAL) {
                struct iovec iov[n + 3];
                char priority[16], msg[1600], mid[64];
                size_t k = 0;

                /* Each iovec is one whole KEY=value field (sd_journal_sendv). */
                iov[k].iov_base = msg;
                iov[k++].iov_len = (size_t) snprintf(msg, sizeof(msg), "MESSAGE=%.1500s", message);
                iov[k].iov_base = priority;
                iov[k++].iov_len = (size_t) snprintf(priority, sizeof(priority), "PRIORITY=%d", level);
                if (message_id) {
                        iov[k].iov_base = mid;
                        iov[k++].iov_len = (size_t) snprintf(mid, sizeof(mid), "MESSAGE_ID=%.32s", message_id);
                }
                for (size_t i = 0; i < n; i++)
                        iov[k++] = (struct iovec) { .iov_base = (void *) fields[i], .iov_len = strlen(fields[i]) };
                if (sd_journal_sendv(iov, (int) k) >= 0)
                        return 0;
        }

        /* On stderr the fields follow the message, so a reader of the text still has them: one
         * writev of the pieces, a whole line at once like write_stderr(). */
        {
                struct iovec iov[2 * n + 4];
                size_t k = 0;

                iov[k++] = (struct iovec) { .iov_base = (void *) "serrord: ", .iov_len = 9 };
                iov[k++] = (struct iovec) { .iov_base = (void *) message, .iov_len = strlen(message) };
                for (size_t i = 0; i < n; i++) {
                        iov[k++] = (struct iovec) { .iov_base = (void *) (i == 0 ? " [" : " "), .iov_len = i == 0 ? 2 : 1 };
                        iov[k++] = (struct iovec) { .iov_base = (void *) fields[i], .iov_len = strlen(fields[i]) };
                }
                iov[k++] = n > 0 ? (struct iovec) { .iov_base = (void *) "]\n", .iov_len = 2 }
                                 : (struct iovec) { .iov_base = (void *) "\n", .iov_len = 1 };
                (void) !writev(STDERR_FILENO, iov, (int) k);
        }
        return 0;
}
