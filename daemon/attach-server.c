/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attach socket: listening (own or socket-activated), accepting, and pausing on fd exhaustion. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "attach-server.h"
#include "connection.h"
#include "log.h"
#include "manager.h"

static int mkdir_parents(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        char *slash;

        if (!copy)
                return -ENOMEM;
        for (slash = strchr(copy + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                *slash = '/';
        }
        return 0;
}

/* A socket file left by a serrord that died is replaced; one that still
 * answers belongs to a running serrord and is not stolen. */
static int check_stale(const char *path, const struct sockaddr_un *sa, socklen_t len) {
        _cleanup_close_ int probe = -EBADF;
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (probe < 0)
                return negative_errno();
        if (connect(probe, (const struct sockaddr *) sa, len) == 0)
                return -EADDRINUSE;
        if (unlink(path) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

static int listen_on_path(AttachServer *s, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        socklen_t len;
        mode_t mode;
        gid_t group = 0;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return log_error_errno(ENAMETOOLONG, "Attach socket path %s is too long.", path);
        strcpy(sa.sun_path, path);
        len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);

        r = mkdir_parents(path);
        if (r < 0)
                return log_error_errno(r, "Failed to create the directory of %s: %m", path);
        r = check_stale(path, &sa, len);
        if (r == -EADDRINUSE)
                return log_error_errno(r, "Attach socket %s is in use: is another serrord running?", path);
        if (r == -EEXIST)
                return log_error_errno(r, "Attach socket path %s exists and is not a socket.", path);
        if (r < 0)
                return log_error_errno(r, "Failed to check %s: %m", path);

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create the attach socket: %m");
        if (bind(fd, (struct sockaddr *) &sa, len) < 0)
                return log_error_errno(errno, "Failed to bind the attach socket to %s: %m", path);

        /* The file mode is the first gate, SO_PEERCRED the second: a group
         * that exists gets 0660; listed non-root users need 0666. */
        if (s->access.n_groups > 0) {
                group = s->access.groups[0];
                mode = 0660;
        } else
                mode = s->access.n_users > 0 ? 0666 : 0600;
        if (chown(path, 0, group) < 0 && errno != EPERM)
                return log_error_errno(errno, "Failed to set the group of %s: %m", path);
        if (chmod(path, mode) < 0)
                return log_error_errno(errno, "Failed to set the mode of %s: %m", path);

        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "Failed to listen on %s: %m", path);
        s->listen_fd = TAKE_FD(fd);
        return 0;
}

static int take_activated_socket(AttachServer *s) {
        int n = sd_listen_fds(true);

        if (n <= 0)
                return n;
        for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++)
                if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) > 0) {
                        /* systemd passes it blocking; on_accept drains until EAGAIN. */
                        int flags = fcntl(fd, F_GETFL);
                        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                                return log_error_errno(errno, "Failed to make the attach socket non-blocking: %m");
                        s->listen_fd = fd;
                        s->socket_activated = true;
                        return 1;
                }
        log_warning("systemd passed %d fd(s) but none is a listening SOCK_SEQPACKET socket; creating %s.", n, s->path);
        return 0;
}

static void on_resume(struct ev_loop *loop, ev_timer *w, int revents) {
        AttachServer *s = container_of(w, AttachServer, resume);

        ev_io_start(loop, &s->io);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents) {
        AttachServer *s = container_of(w, AttachServer, io);

        /* Level-triggered, but drain the backlog anyway: one wake-up, many peers. */
        for (;;) {
                Connection *c;
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

                if (fd < 0) {
                        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                                return;
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                                /* Spinning on a full fd table helps nobody: pause. */
                                log_warning_errno(errno, "Failed to accept an agent (%m); pausing accept for 1 s.");
                                ev_io_stop(loop, &s->io);
                                ev_timer_set(&s->resume, 1., 0.);
                                ev_timer_start(loop, &s->resume);
                                return;
                        }
                        log_warning_errno(errno, "Failed to accept an agent: %m");
                        return;
                }
                (void) connection_new(s, fd, &c);
        }
}

int attach_server_new(Manager *m, const char *path, AttachServer **ret) {
        AttachServer *s;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return log_oom();
        s->manager = m;
        s->listen_fd = -EBADF;
        s->path = strdup(path);
        if (!s->path) {
                free(s);
                return log_oom();
        }
        access_list_resolve(&s->access, "[Attach]", m->config->attach_users, m->config->n_attach_users,
                            m->config->attach_groups, m->config->n_attach_groups);

        r = take_activated_socket(s);
        if (r == 0)
                r = listen_on_path(s, path);
        if (r < 0) {
                attach_server_free(s);
                return r;
        }
        ev_io_init(&s->io, on_accept, s->listen_fd, EV_READ);
        ev_timer_init(&s->resume, on_resume, 1., 0.);
        ev_io_start(m->loop, &s->io);
        log_info("Listening for agents on %s.", s->socket_activated ? "the socket systemd passed" : s->path);
        *ret = s;
        return 0;
}

AttachServer *attach_server_free(AttachServer *s) {
        if (!s)
                return NULL;
        /* Tell every agent why, so it reconnects to the next serrord with backoff. */
        for (Connection *c = s->connections; c; c = c->next)
                (void) connection_send_notice(c, ESHUTDOWN, "serrord is stopping");
        while (s->connections)
                connection_free(s->connections, "serrord is stopping");
        if (s->manager && s->manager->loop) {
                ev_io_stop(s->manager->loop, &s->io);
                ev_timer_stop(s->manager->loop, &s->resume);
        }
        if (s->listen_fd >= 0) {
                safe_close(s->listen_fd);
                /* Our own socket file goes with us; systemd's stays for the next start. */
                if (!s->socket_activated)
                        (void) unlink(s->path);
        }
        free(s->path);
        free(s);
        return NULL;
}
