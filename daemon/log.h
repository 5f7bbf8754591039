/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrord's logging: the journal with structured fields, or stderr. Log once, where the decision is made. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO,    /* journal when stderr is connected to it, else stderr */
        LOG_TARGET_JOURNAL,
        LOG_TARGET_STDERR,
        _LOG_TARGET_MAX,
} LogTarget;

void log_set_target(LogTarget target);
void log_set_max_level(int level);
int log_get_max_level(void);
int log_target_from_string(const char *s, LogTarget *ret);
const char *log_target_to_string(LogTarget t);
int log_level_from_string(const char *s, int *ret);

/* Returns -abs(error) (or 0 when error is 0), so callers can `return log_..._errno(r, ...)`.
 * %m in the format expands to strerror(error). */
_printf_(4, 5) int log_internal(int level, int error, const char *func, const char *format, ...);

/* A structured record: MESSAGE plus extra fields, each "KEY=value", NULL-terminated. */
int log_fields(int level, const char *message_id, const char *message, const char *const *fields);

/* Whether a record at this level would be written: lets a caller skip formatting it. */
static inline bool log_enabled(int level) {
        return level <= log_get_max_level();
}

#define log_full_errno(level, error, ...) log_internal((level), (error), __func__, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_notice_errno(e, ...) log_full_errno(LOG_NOTICE, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
