/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared state and helpers of serrorctl's verbs. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "macro.h"

/* Exit codes (serrorctl(1), EXIT STATUS). Verbs return a negative errno or
 * one of these; main() maps errnos: -EINVAL to CLI_EXIT_USAGE, -EHOSTDOWN to
 * CLI_EXIT_NO_DAEMON, -ENOENT to CLI_EXIT_NOT_FOUND, -EACCES to
 * CLI_EXIT_DENIED, anything else to CLI_EXIT_FAILURE. */
enum {
        CLI_EXIT_SUCCESS = 0,
        CLI_EXIT_FAILURE = 1,
        CLI_EXIT_USAGE = 2,     /* unknown verb or option, wrong arguments, invalid value */
        CLI_EXIT_NO_DAEMON = 3, /* serrord is not reachable on the bus */
        CLI_EXIT_NOT_FOUND = 4, /* the VM named does not exist */
        CLI_EXIT_DENIED = 5,    /* the caller may not do this */
        CLI_EXIT_SKIPPED = 6,   /* inject: an SError was pending and the new one was dropped */
        CLI_EXIT_EXPIRED = 7,   /* inject: the deadline passed before it could land */
        CLI_EXIT_DRY_RUN = 8,   /* inject: dry run, nothing was written */
};

typedef enum JsonMode {
        JSON_OFF,
        JSON_SHORT,
        JSON_PRETTY,
} JsonMode;

extern JsonMode arg_json;
extern bool arg_allow_ids;
extern bool arg_legend;
/* inject */
extern const char *arg_vcpu;
extern const char *arg_on_pending;
extern uint64_t arg_timeout_usec;
extern bool arg_no_wait;
extern uint64_t arg_wait_reaction_usec; /* 0: --wait-reaction not given */
extern bool arg_dry_run;
/* history */
extern const char *arg_vm;
/* attach --pid (verb-attach.c) */
extern pid_t arg_pid;
extern const char *arg_name;
extern const char *arg_labels;
extern const char *arg_helper_log;

typedef struct Verb {
        const char *name;
        unsigned min_args; /* after the verb itself */
        unsigned max_args;
        int (*run)(int argc, char *argv[]);
        const char *args;    /* "VALUE", shown in help */
        const char *summary; /* one line */
        const char *details; /* the verb's --help body */
} Verb;

int verb_status(int argc, char *argv[]);
int verb_list(int argc, char *argv[]);
int verb_inject(int argc, char *argv[]);
int verb_history(int argc, char *argv[]);
int verb_monitor(int argc, char *argv[]);
int verb_attach(int argc, char *argv[]);
int verb_detach(int argc, char *argv[]);
int verb_decode(int argc, char *argv[]);
int verb_encode(int argc, char *argv[]);
int verb_policy(int argc, char *argv[]);
int verb_policy_daemon(int argc, char *argv[]);
int verb_stop_all(int argc, char *argv[]);

/* serrorctl policy plan's options. getopt_long() permutes, so serrorctl.c's
 * loop sees every option before any verb runs and hands these over; each
 * returns 0 or a usage error. */
int policy_arg_seed(const char *value);
int policy_arg_for(const char *value);
int policy_arg_vm(const char *value);

/* Prints one error line "serrorctl: ..." to stderr and returns -EINVAL. */
_printf_(1, 2) int usage_error(const char *fmt, ...);
/* Prints "serrorctl: ..." with the message, returns r. */
_printf_(2, 3) int log_error_errno(int r, const char *fmt, ...);

/* Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured). On failure
 * prints why and returns -EHOSTDOWN. */
int cli_bus_open(sd_bus **ret);
/* Reports a failed call; maps "nobody owns the name" to -EHOSTDOWN with one
 * clear line that names the bus name. Returns the negative errno to exit with. */
int cli_bus_call_failed(const char *what, const sd_bus_error *error, int r);

/* Flushes standard output. 0, or the negative errno of the first write to it
 * that failed (a full disk, a closed stdout), now or earlier. Prints nothing:
 * main() reports it once, on the way out. */
int cli_flush_stdout(void);

/* Prints obj per arg_json and releases nothing (the caller owns obj). */
void json_print(struct json_object *obj);
static inline struct json_object *json_object_put_null(struct json_object *o) {
        json_object_put(o);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_object *, json_object_put_null);
#define _cleanup_json_ _cleanup_(json_object_put_nullp)
