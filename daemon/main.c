/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrord: argument parsing and the run function. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bus-api.h"
#include "daemon-config.h"
#include "log.h"
#include "manager.h"

/* Exit codes (serrord(8)). */
enum {
        EXIT_RUNTIME = 1, /* started, then failed (bus lost, name taken, ...) */
        EXIT_USAGE = 2,   /* bad option or configuration */
};

static const char *arg_config = NULL;
static int arg_log_level = -1;
static int arg_log_target = -1;
static const char *arg_attach_socket = NULL;

static void help(void) {
        printf("Usage: serrord [OPTIONS...]\n"
               "\n"
               "The serror daemon: keeps the registry of KVM guests attached to it and\n"
               "decides which SErrors to inject into them, where and when. It serves\n"
               "serrorctl on the D-Bus system bus as %s.\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help and exit\n"
               "     --version           Show the version and exit\n"
               "  -c --config=PATH       Read the configuration from PATH\n"
               "                         (default: %s; missing is fine)\n"
               "     --log-target=TARGET auto, journal or stderr (default: auto, the journal\n"
               "                         when started by systemd, else stderr)\n"
               "     --log-level=LEVEL   err, warning, notice, info or debug (default: info)\n"
               "     --attach-socket=PATH\n"
               "                         Where VMM agents connect (default: %s,\n"
               "                         or the socket systemd passes)\n"
               "\n"
               "The bus is the system bus, or DBUS_SYSTEM_BUS_ADDRESS when it is set.\n"
               "Signals: SIGTERM and SIGINT stop the daemon cleanly.\n"
               "See serrord(8) for the configuration file and exit codes.\n",
               SERROR_BUS_NAME, DAEMON_CONFIG_DEFAULT_PATH, DAEMON_DEFAULT_ATTACH_SOCKET);
}

/* 1 to run, 0 to exit successfully (help/version), negative on a usage error. */
static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_LOG_TARGET,
                ARG_LOG_LEVEL,
                ARG_ATTACH_SOCKET,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "config", required_argument, NULL, 'c' },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "attach-socket", required_argument, NULL, ARG_ATTACH_SOCKET },
                {},
        };
        int c;

        /* getopt prints its own message for unknown options; ours name the value. */
        while ((c = getopt_long(argc, argv, "hc:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("serrord %s\n", PACKAGE_VERSION);
                        return 0;
                case 'c':
                        arg_config = optarg;
                        break;
                case ARG_LOG_TARGET: {
                        LogTarget t;
                        if (log_target_from_string(optarg, &t) < 0) {
                                fprintf(stderr, "serrord: invalid --log-target '%s': expected auto, journal or stderr\n", optarg);
                                return -EINVAL;
                        }
                        arg_log_target = (int) t;
                        break;
                }
                case ARG_LOG_LEVEL:
                        if (log_level_from_string(optarg, &arg_log_level) < 0) {
                                fprintf(stderr, "serrord: invalid --log-level '%s': expected err, warning, notice, info or debug\n",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_ATTACH_SOCKET:
                        if (optarg[0] != '/') {
                                fprintf(stderr, "serrord: invalid --attach-socket '%s': expected an absolute path\n", optarg);
                                return -EINVAL;
                        }
                        arg_attach_socket = optarg;
                        break;
                case '?':
                        fprintf(stderr, "Try 'serrord --help' for more information.\n");
                        return -EINVAL;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                fprintf(stderr, "serrord: unexpected argument '%s' (serrord takes options only)\n", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

/* Every attached vcpu costs serrord one fd, so 1,000 vcpus outgrow the
 * usual soft limit of 1024. serrord never uses select(), so the soft limit
 * can go up to the hard one (systemd's advice for daemons). */
static void raise_fd_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static int run(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        DaemonConfig config;
        serror_diag diag = {};
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;

        r = daemon_config_init(&config);
        if (r < 0) {
                fprintf(stderr, "serrord: out of memory\n");
                return EXIT_RUNTIME;
        }
        r = daemon_config_load(&config, arg_config ?: DAEMON_CONFIG_DEFAULT_PATH, !arg_config, &diag);
        if (r < 0) {
                /* Logging is not set up yet: the configuration says where it goes. */
                fprintf(stderr, "serrord: invalid configuration: %s\n", diag.message);
                daemon_config_done(&config);
                return EXIT_USAGE;
        }
        if (arg_attach_socket && daemon_config_set_attach_socket(&config, arg_attach_socket) < 0) {
                fprintf(stderr, "serrord: out of memory\n");
                daemon_config_done(&config);
                return EXIT_RUNTIME;
        }
        log_set_target(arg_log_target >= 0 ? (LogTarget) arg_log_target : config.log_target);
        log_set_max_level(arg_log_level >= 0 ? arg_log_level : config.log_level);

        /* A peer that closes its socket early must not kill the daemon. */
        signal(SIGPIPE, SIG_IGN);
        raise_fd_limit();

        r = manager_new(&config, &m);
        if (r < 0) {
                log_error_errno(r, "Failed to allocate the manager: %m");
                goto out;
        }
        r = manager_startup(m);
        if (r < 0)
                goto out;
        r = manager_run(m);
out:
        m = manager_free(m);
        daemon_config_done(&config);
        return r < 0 ? EXIT_RUNTIME : EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        return run(argc, argv);
}
