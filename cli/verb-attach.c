/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrorctl attach --pid: starts serror-attach-pid for a running VMM that has no agent, and reports whether serrord took it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "macro.h"
#include "parse-util.h"

pid_t arg_pid = 0;
const char *arg_name = NULL;
const char *arg_labels = NULL;
const char *arg_helper_log = NULL;

/* The helper reports on this fd in the child. */
#define READY_FD 3
/* Finding the vcpu threads takes up to 3 s, serrord's answer up to 10 s. */
#define READY_TIMEOUT_MS 20000

static const char *helper_path(void) {
        const char *p = getenv("SERROR_ATTACH_PID_HELPER");

        return p && *p ? p : PKGLIBEXECDIR "/serror-attach-pid";
}

/* In the child: the helper outlives serrorctl, in its own session, its
 * output in the log file or nowhere; only the ready fd leads back. */
_noreturn_ static void exec_helper(int ready) {
        char pid_arg[32], ready_arg[32];
        const char *argv[12];
        unsigned n = 0;
        int fd;

        (void) setsid();
        if (ready != READY_FD) {
                if (dup2(ready, READY_FD) < 0)
                        _exit(127);
        } else
                (void) fcntl(READY_FD, F_SETFD, 0);
        fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                _exit(127);
        (void) dup2(fd, STDIN_FILENO);
        (void) dup2(fd, STDOUT_FILENO);
        if (arg_helper_log) {
                int log = open(arg_helper_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
                if (log < 0) {
                        dprintf(READY_FD, "failed 1 cannot open --helper-log %s: %s\n", arg_helper_log, strerror(errno));
                        _exit(1);
                }
                (void) dup2(log, STDERR_FILENO);
        } else
                (void) dup2(fd, STDERR_FILENO);

        snprintf(pid_arg, sizeof(pid_arg), "--pid=%d", (int) arg_pid);
        snprintf(ready_arg, sizeof(ready_arg), "--ready-fd=%d", READY_FD);
        argv[n++] = "serror-attach-pid";
        argv[n++] = pid_arg;
        argv[n++] = ready_arg;
        if (arg_name)
                argv[n++] = "--name", argv[n++] = arg_name;
        if (arg_labels)
                argv[n++] = "--labels", argv[n++] = arg_labels;
        if (arg_helper_log)
                argv[n++] = "--verbose";
        argv[n] = NULL;
        (void) execv(helper_path(), (char *const *) argv);
        dprintf(READY_FD, "failed 1 cannot run %s: %s\n", helper_path(), strerror(errno));
        _exit(127);
}

/* The helper's exit codes (serror-attach-pid(8)) as errnos main() maps to serrorctl's. */
static int helper_code_to_errno(int code) {
        switch (code) {
        case 2:
                return -EINVAL;
        case 4:
                return -ENOENT;
        case 5:
                return -EACCES;
        default:
                return -EIO;
        }
}

int verb_attach(int argc, char *argv[]) {
        _cleanup_close_ int ready_read = -EBADF;
        int pipefd[2], status, code = 1;
        char line[640] = "", name[96];
        int vmm_pid = 0;
        unsigned vcpus = 0;
        size_t have = 0;
        pid_t child;

        (void) argc;
        (void) argv;
        if (arg_pid <= 0)
                return usage_error("attach needs --pid=PID: the VMM to attach");
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return negative_errno();
        child = fork();
        if (child < 0) {
                int r = negative_errno();
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                return r;
        }
        if (child == 0) {
                safe_close(pipefd[0]);
                exec_helper(pipefd[1]);
        }
        safe_close(pipefd[1]);
        ready_read = pipefd[0];

        /* One line, or EOF when the helper died before it could say. */
        while (have < sizeof(line) - 1 && !memchr(line, '\n', have)) {
                struct pollfd p = { .fd = ready_read, .events = POLLIN };
                ssize_t n;
                int r = poll(&p, 1, READY_TIMEOUT_MS);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r == 0) {
                        fprintf(stderr, "serrorctl: serror-attach-pid (pid %d) did not report within %d s; stopping it.\n",
                                (int) child, READY_TIMEOUT_MS / 1000);
                        (void) kill(child, SIGTERM);
                        return -ETIMEDOUT;
                }
                n = read(ready_read, line + have, sizeof(line) - 1 - have);
                if (n <= 0)
                        break;
                have += (size_t) n;
        }
        line[have] = '\0';
        line[strcspn(line, "\n")] = '\0';

        if (sscanf(line, "attached %95s %d %u", name, &vmm_pid, &vcpus) == 3) {
                if (arg_json != JSON_OFF) {
                        _cleanup_json_ struct json_object *o = json_object_new_object();

                        json_object_object_add(o, "name", json_object_new_string(name));
                        json_object_object_add(o, "pid", json_object_new_int(vmm_pid));
                        json_object_object_add(o, "vcpus", json_object_new_int((int) vcpus));
                        json_object_object_add(o, "helper_pid", json_object_new_int((int) child));
                        json_print(o);
                } else
                        printf("Attached VM %s (pid %d, %u vcpu%s) through serror-attach-pid, pid %d.\n"
                               "Each injection stops the vcpu's thread briefly; serrorctl detach %s lets it go.\n",
                               name, vmm_pid, vcpus, vcpus == 1 ? "" : "s", (int) child, name);
                return 0;
        }

        /* It failed: its status, once it has exited, says how. */
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        if (sscanf(line, "failed %d", &code) == 1) {
                const char *message = strchr(line + strlen("failed "), ' ');
                fprintf(stderr, "serrorctl: cannot attach pid %d: %s\n", (int) arg_pid, message ? message + 1 : "?");
        } else {
                code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
                fprintf(stderr, "serrorctl: cannot attach pid %d: %s %s\n", (int) arg_pid, helper_path(),
                        WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited without a word");
        }
        return helper_code_to_errno(code);
}
