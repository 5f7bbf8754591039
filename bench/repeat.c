/* serror-bench-repeat: runs a command N times in the arm64 guest and prints each run's wall-clock time, exit status and first output line (make bench). */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One line of serrorctl inject --json for a single vcpu is well under this. */
#define FIRST_LINE_MAX 8192

static void usage(FILE *f) {
        fprintf(f, "Usage: serror-bench-repeat -t TAG [-n RUNS] [-m MOD] [-q] -- COMMAND [ARG...]\n"
                   "Runs COMMAND RUNS times (default 1), one after the other, and prints for each run\n"
                   "  E2E:BENCH TAG RUN USEC STATUS [FIRST-LINE]\n"
                   "USEC is the wall-clock time from fork to exit (CLOCK_MONOTONIC), STATUS the\n"
                   "exit status (128+N for signal N), FIRST-LINE the first line COMMAND wrote to\n"
                   "stdout (left out with -q). Every \"{}\" in an argument is replaced by RUN, or\n"
                   "RUN modulo MOD with -m MOD (RUN counts from 0).\n");
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* A copy of arg with every "{}" replaced by number. */
static char *substitute(const char *arg, const char *number) {
        size_t len = strlen(arg), nlen = strlen(number), n = 0;
        const char *p;
        char *out, *q;

        for (p = arg; (p = strstr(p, "{}")); p += 2)
                n++;
        out = malloc(len + n * nlen + 1);
        if (!out)
                return NULL;
        for (p = arg, q = out; *p;)
                if (p[0] == '{' && p[1] == '}') {
                        memcpy(q, number, nlen);
                        q += nlen;
                        p += 2;
                } else
                        *q++ = *p++;
        *q = '\0';
        return out;
}

static int parse_count(const char *s, unsigned long *ret) {
        char *end;
        unsigned long n;

        errno = 0;
        n = strtoul(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || n == 0 || n > 1000000)
                return -EINVAL;
        *ret = n;
        return 0;
}

/* Runs argv once; its stdout goes to a pipe, of which the first line is kept. */
static int run_once(char **argv, bool keep_output, char *first, size_t first_size, uint64_t *ret_usec,
                    int *ret_status) {
        int pipefd[2], status;
        size_t used = 0;
        uint64_t t0;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        t0 = now_usec();
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return r;
        }
        if (pid == 0) {
                if (dup2(pipefd[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execvp(argv[0], argv);
                fprintf(stderr, "serror-bench-repeat: cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(pipefd[1]);
        first[0] = '\0';
        for (;;) {
                char buf[4096];
                ssize_t n = read(pipefd[0], buf, sizeof buf);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                /* Keep the first line only; drain the rest so the child never blocks. */
                if (keep_output && used + 1 < first_size && !memchr(first, '\n', used)) {
                        size_t take = (size_t) n < first_size - 1 - used ? (size_t) n : first_size - 1 - used;
                        memcpy(first + used, buf, take);
                        used += take;
                        first[used] = '\0';
                }
        }
        close(pipefd[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret_usec = now_usec() - t0;
        first[strcspn(first, "\n")] = '\0';
        *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return 0;
}

int main(int argc, char **argv) {
        unsigned long runs = 1, mod = 0;
        const char *tag = NULL;
        bool keep_output = true;
        char **cmd;
        int c, n_cmd;

        while ((c = getopt(argc, argv, "t:n:m:qh")) >= 0) {
                switch (c) {
                case 't':
                        tag = optarg;
                        break;
                case 'n':
                        if (parse_count(optarg, &runs) < 0) {
                                fprintf(stderr, "serror-bench-repeat: -n takes 1 to 1000000, got \"%s\"\n", optarg);
                                return 2;
                        }
                        break;
                case 'm':
                        if (parse_count(optarg, &mod) < 0) {
                                fprintf(stderr, "serror-bench-repeat: -m takes 1 to 1000000, got \"%s\"\n", optarg);
                                return 2;
                        }
                        break;
                case 'q':
                        keep_output = false;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (!tag || strpbrk(tag, " \t\n") || optind >= argc) {
                usage(stderr);
                return 2;
        }
        n_cmd = argc - optind;
        cmd = calloc((size_t) n_cmd + 1, sizeof(char *));
        if (!cmd) {
                fprintf(stderr, "serror-bench-repeat: out of memory\n");
                return 1;
        }

        for (unsigned long run = 0; run < runs; run++) {
                static char first[FIRST_LINE_MAX];
                char number[24];
                uint64_t usec;
                int status, r;

                snprintf(number, sizeof number, "%lu", mod ? run % mod : run);
                for (int i = 0; i < n_cmd; i++) {
                        free(cmd[i]);
                        cmd[i] = substitute(argv[optind + i], number);
                        if (!cmd[i]) {
                                fprintf(stderr, "serror-bench-repeat: out of memory\n");
                                return 1;
                        }
                }
                r = run_once(cmd, keep_output, first, sizeof first, &usec, &status);
                if (r < 0) {
                        fprintf(stderr, "serror-bench-repeat: run %lu: %s\n", run, strerror(-r));
                        return 1;
                }
                printf("E2E:BENCH %s %lu %" PRIu64 " %d%s%s\n", tag, run, usec, status, first[0] ? " " : "", first);
                fflush(stdout);
        }
        for (int i = 0; i < n_cmd; i++)
                free(cmd[i]);
        free(cmd);
        return 0;
}
