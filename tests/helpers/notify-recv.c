/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test helper: binds a NOTIFY_SOCKET datagram socket and prints every sd_notify message it receives. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Usage: notify-recv PATH SECONDS — exits after SECONDS of silence, or at STOPPING=1. */
int main(int argc, char *argv[]) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, timeout_ms;

        if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: notify-recv PATH SECONDS\n");
                return 2;
        }
        timeout_ms = atoi(argv[2]) * 1000;
        strcpy(sa.sun_path, argv[1]);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                perror("notify-recv: bind");
                return 1;
        }
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                char buf[4096];
                ssize_t n;

                if (poll(&p, 1, timeout_ms) <= 0)
                        return 0;
                n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n < 0)
                        return errno == EINTR ? 0 : 1;
                buf[n] = '\0';
                /* One record per line: newlines inside a message become spaces. */
                for (ssize_t i = 0; i < n; i++)
                        if (buf[i] == '\n')
                                buf[i] = ' ';
                printf("%s\n", buf);
                fflush(stdout);
                if (strstr(buf, "STOPPING=1"))
                        return 0;
        }
}
