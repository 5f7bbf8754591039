/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One agent connection: hardened receive with fd passing, the send queue, limits, and the VMM's pidfd. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "list.h"
#include "attach-server.h"
#include "attach-handlers.h"
#include "connection.h"
#include "escape.h"
#include "log.h"
#include "manager.h"
#include "vm.h"

/* A peer that does not read its replies cannot make us buffer without end:
 * doc/attach-protocol.md section 10. */
#define CONNECTION_OUT_MAX 64u
/* Datagrams handled per wake-up, so one busy peer cannot starve the others. */
#define CONNECTION_BURST 32
/* Supplementary groups we look at for the allowlist. */
#define PEER_GROUPS_MAX 64

static void connection_update_io(Connection *c) {
        struct ev_loop *loop = c->server->manager->loop;
        int events = EV_READ | (attach_sendq_is_empty(&c->out) ? 0 : EV_WRITE);

        if (c->close_after_flush)
                events &= ~EV_READ;
        if ((c->io.events & (EV_READ | EV_WRITE)) == events && ev_is_active(&c->io))
                return;
        ev_io_stop(loop, &c->io);
        ev_io_set(&c->io, c->fd, events);
        if (events)
                ev_io_start(loop, &c->io);
}

/* Closing an AF_UNIX SEQPACKET socket with unread records makes the peer's
 * next recv() fail with ECONNRESET before it can read our last notice; read
 * and drop what is waiting (and every fd it carries) first. */
/* How long a connection's end waits for its VMM to be seen exiting. */
#define VMM_EXIT_WAIT_MS 50

static bool pidfd_has_exited(int pidfd, int wait_ms) {
        struct pollfd p = { .fd = pidfd, .events = POLLIN };

        if (pidfd < 0)
                return false;
        return poll(&p, 1, wait_ms) > 0 && (p.revents & POLLIN);
}

Connection *connection_free(Connection *c, const char *reason) {
        AttachServer *s;
        struct ev_loop *loop;

        if (!c)
                return NULL;
        s = c->server;
        loop = s->manager->loop;

        /* A reason decided earlier (BYE) beats how the socket happened to end. */
        if (c->close_reason)
                reason = c->close_reason;
        if (c->vm && c->vm->reactions)
                /* An exiting process closes its files (and says BYE, if its agent is freed)
                 * before it becomes a zombie and its pidfd readable: give it a moment. Only
                 * while a reaction window is open, and at most once per connection. */
                c->vm->vmm_exited = pidfd_has_exited(c->pidfd, VMM_EXIT_WAIT_MS);
        if (c->vm) {
                log_info("VM %s (pid %d) detached: %s.", c->vm->name, (int) c->vm->pid, reason);
                c->vm = vm_free(c->vm, reason);
        }
        ev_io_stop(loop, &c->io);
        ev_io_stop(loop, &c->pidfd_io);
        ev_timer_stop(loop, &c->deadline);
        /* No fd in flight may stay open with the socket. */
        attach_socket_drain(c->fd, CONNECTION_OUT_MAX);
        c->fd = safe_close(c->fd);
        c->pidfd = safe_close(c->pidfd);
        attach_sendq_clear(&c->out);

        LIST_REMOVE(s->connections, c);
        s->n_connections--;
        free(c);
        return NULL;
}

/* Flush what the socket takes now. 0, or a negative errno when the peer is gone. */
static int connection_flush(Connection *c) {
        int r = attach_sendq_flush(&c->out, c->fd);

        if (r < 0 && r != -EAGAIN)
                return r;
        connection_update_io(c);
        return 0;
}

int connection_send(Connection *c, const AttachMsg *m) {
        uint8_t buf[ATTACH_MSG_SIZE_MAX];
        serror_diag diag = {};
        size_t size;
        int r;

        r = attach_msg_encode(m, buf, sizeof(buf), &size, &diag);
        if (r < 0)
                return log_error_errno(r, "Failed to encode %s for pid %d: %s", attach_msg_type_to_string(m->type),
                                       (int) c->peer.pid, diag.message);
        r = attach_sendq_push(&c->out, buf, size);
        if (r < 0)
                return r;
        return connection_flush(c) < 0 ? -ECONNRESET : 0;
}

int connection_reply(Connection *c, uint64_t request_id, int error, const char *fmt, ...) {
        AttachMsg m = { .type = ATTACH_MSG_REPLY, .request_id = request_id };
        char text[ATTACH_MESSAGE_MAX + 1];
        va_list ap;

        m.reply.status = error < 0 ? -error : error;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        attach_message_copy(m.reply.message, text);
        return connection_send(c, &m);
}

int connection_send_notice(Connection *c, int error, const char *message) {
        return connection_reply(c, 0, error, "%s", message);
}

static int connection_receive_one(Connection *c);

static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents) {
        Connection *c = container_of(w, Connection, deadline);

        /* A busy serrord may reach the timer before the HELLO already waiting
         * in the socket: read what is there first. */
        for (unsigned i = 0; i < CONNECTION_BURST && !c->vm && !c->close_after_flush; i++) {
                int r = connection_receive_one(c);
                if (r == 0)
                        break;
                if (r < 0) {
                        connection_free(c, r == -ECONNRESET ? "connection closed" : "connection lost");
                        return;
                }
        }
        if (c->vm && !c->close_after_flush)
                return;
        if (c->close_after_flush) {
                log_info("Closed the connection of pid %d (%s): the agent did not read serrord's last notice.",
                         (int) c->peer.pid, c->peer_comm);
                connection_free(c, "the agent did not read serrord's last notice");
                return;
        }
        log_warning("Closed an agent connection: pid %d (%s) sent no HELLO within %.3g s (HelloTimeout=).",
                    (int) c->peer.pid, c->peer_comm, (double) c->server->manager->config->hello_timeout_usec / 1e6);
        c->server->manager->counters[COUNTER_ATTACH_REFUSED]++;
        connection_close_with_notice(c, ETIMEDOUT, "no HELLO in time (HelloTimeout=)");
}

void connection_close_with_notice(Connection *c, int error, const char *message) {
        struct ev_loop *loop = c->server->manager->loop;

        (void) connection_send_notice(c, error, message);
        if (attach_sendq_is_empty(&c->out)) {
                connection_free(c, message);
                return;
        }
        /* The agent is not reading. The decision is final now: the VM and its
         * vcpu fds go at once; only the socket waits a little for the notice. */
        if (c->vm) {
                log_info("VM %s (pid %d) detached: %s.", c->vm->name, (int) c->vm->pid, message);
                c->vm = vm_free(c->vm, message);
        }
        c->close_after_flush = true;
        ev_timer_stop(loop, &c->deadline);
        ev_timer_set(&c->deadline, CONNECTION_CLOSE_GRACE_S, 0.);
        ev_timer_start(loop, &c->deadline);
        connection_update_io(c);
}

static void close_fds(int *fds, unsigned n) {
        for (unsigned i = 0; i < n; i++)
                fds[i] = safe_close(fds[i]);
}

/* 1 when a datagram was handled, 0 when none was waiting, negative to close. */
static int connection_receive_one(Connection *c) {
        static uint8_t buf[ATTACH_MSG_SIZE_MAX];
        AttachReceived rec;
        int r;

        r = attach_socket_receive(c->fd, buf, sizeof(buf), &rec);
        if (r <= 0)
                return r;
        if (rec.bad_control)
                return connection_reply(c, 0, EBADMSG, "unexpected control message (only SCM_RIGHTS is accepted)") < 0 ? -ECONNRESET : 1;

        r = attach_handle_datagram(c, buf, rec.truncated ? sizeof(buf) : rec.len,
                            (rec.truncated ? MSG_TRUNC : 0) | (rec.fds_dropped ? MSG_CTRUNC : 0), rec.fds, rec.n_fds);
        close_fds(rec.fds, rec.n_fds); /* whatever no handler claimed */
        return r < 0 ? r : 1;
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents) {
        Connection *c = container_of(w, Connection, io);
        int r;

        if (revents & EV_WRITE) {
                r = connection_flush(c);
                if (r < 0) {
                        connection_free(c, "connection lost");
                        return;
                }
                if (c->close_after_flush && attach_sendq_is_empty(&c->out)) {
                        connection_free(c, "closed by serrord");
                        return;
                }
        }
        if (!(revents & EV_READ) || c->close_after_flush)
                return;

        for (int i = 0; i < CONNECTION_BURST; i++) {
                r = connection_receive_one(c);
                if (r == 0)
                        return;
                if (r == -ECONNABORTED)
                        return; /* already closing, with a notice */
                if (r < 0) {
                        if (c->close_after_flush && !attach_sendq_is_empty(&c->out)) {
                                /* BYE: the reply goes out first, then the connection closes. */
                                connection_update_io(c);
                                return;
                        }
                        connection_free(c, r == -ESHUTDOWN  ? "the agent said BYE" :
                                           r == -ECONNRESET ? "connection closed" :
                                           r == -ENOBUFS    ? "the agent does not read its socket (64 records wait)" :
                                                   r == -EPROTO     ? "protocol violation" :
                                                                      "connection lost");
                        return;
                }
                if (c->close_after_flush)
                        return;
        }
}

static void on_peer_exit(struct ev_loop *loop, ev_io *w, int revents) {
        Connection *c = container_of(w, Connection, pidfd_io);
        const char *reason = "the VMM process exited";

        /* What the VMM sent before it died still counts (a BYE, its last
         * INJECT_RESULTs): read it before forgetting the VM. */
        for (unsigned i = 0; i < CONNECTION_OUT_MAX && !c->close_after_flush; i++) {
                int r = connection_receive_one(c);
                if (r == -ECONNABORTED || r == -EPROTO)
                        break;
                if (r <= 0)
                        break;
        }
        /* The VMM is gone: its VM must not be kept alive by our fds. */
        connection_free(c, reason);
}

static int pidfd_open_peer(pid_t pid) {
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);

        if (fd < 0)
                return negative_errno();
        (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
}

void connection_read_comm(pid_t pid, char *buf, size_t size) {
        char path[64], raw[PEER_COMM_MAX + 1];
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        snprintf(buf, size, "?");
        snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        n = read(fd, raw, sizeof(raw) - 1);
        if (n <= 0)
                return;
        /* The kernel ends it with one newline; anything before it is the name. */
        if (raw[n - 1] == '\n')
                n--;
        raw[n] = '\0';
        escape_text(raw, sizeof(raw), buf, size);
}

bool connection_reap_if_closed(Connection *c) {
        struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };

        if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLHUP | POLLRDHUP | POLLERR)))
                return false;
        /* What it sent before it went still counts (a BYE, its last results). */
        for (unsigned i = 0; i < CONNECTION_OUT_MAX && !c->close_after_flush; i++)
                if (connection_receive_one(c) <= 0)
                        break;
        connection_free(c, "connection closed");
        return true;
}

/* Connections other than self whose peer is still there (of self's uid when
 * same_uid), plus self. Peers that hung up are reaped on the way: in a burst
 * of accepts their EOF may not have been read yet. */
static unsigned count_live_connections(AttachServer *s, Connection *self, bool same_uid) {
        unsigned n = 1;
        Connection *next;

        for (Connection *c = s->connections; c; c = next) {
                next = c->next;
                if (c == self || (same_uid && c->peer.uid != self->peer.uid))
                        continue;
                if (!connection_reap_if_closed(c))
                        n++;
        }
        return n;
}

int connection_new(AttachServer *s, int fd, Connection **ret) {
        Manager *m = s->manager;
        gid_t groups[PEER_GROUPS_MAX];
        socklen_t len = sizeof(struct ucred);
        Connection *c;
        size_t n_groups = 0;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c) {
                safe_close(fd);
                return log_oom();
        }
        c->server = s;
        c->fd = fd;
        c->pidfd = -EBADF;
        attach_sendq_init(&c->out, CONNECTION_OUT_MAX);
        ev_io_init(&c->io, on_io, fd, EV_READ);
        ev_io_init(&c->pidfd_io, on_peer_exit, -1, EV_READ);
        ev_timer_init(&c->deadline, on_deadline, 0., 0.);
        LIST_PREPEND(s->connections, c);
        s->n_connections++;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->peer, &len) < 0) {
                r = log_warning_errno(errno, "Failed to read an agent's credentials: %m");
                connection_free(c, "no credentials");
                return r;
        }
        len = sizeof(groups);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
                n_groups = len / sizeof(gid_t);
        connection_read_comm(c->peer.pid, c->peer_comm, sizeof(c->peer_comm));
        connection_update_io(c);

        if (!access_list_allows(&s->access, c->peer.uid, c->peer.gid, groups, n_groups)) {
                char text[160];
                snprintf(text, sizeof(text), "uid %u is not allowed to attach VMs (serrord.conf [Attach] AllowUsers=, AllowGroups=)",
                         (unsigned) c->peer.uid);
                log_warning("Refused an agent: pid %d (%s), %s.", (int) c->peer.pid, c->peer_comm, text);
                m->counters[COUNTER_ATTACH_REFUSED]++;
                connection_close_with_notice(c, EACCES, text);
                return -EACCES;
        }
        if (s->n_connections > m->config->max_connections &&
            count_live_connections(s, c, false) > m->config->max_connections) {
                log_warning("Refused an agent: pid %d (%s): %u connections (MaxConnections=).", (int) c->peer.pid,
                            c->peer_comm, m->config->max_connections);
                m->counters[COUNTER_ATTACH_REFUSED]++;
                connection_close_with_notice(c, EDQUOT, "too many agent connections (MaxConnections=)");
                return -EDQUOT;
        }
        /* One allowed user must not be able to take every connection. */
        if (c->peer.uid != 0 && count_live_connections(s, c, true) > m->config->max_connections_per_user) {
                log_warning("Refused an agent: pid %d (%s): uid %u has %u connections (MaxConnectionsPerUser=).",
                            (int) c->peer.pid, c->peer_comm, (unsigned) c->peer.uid,
                            m->config->max_connections_per_user);
                m->counters[COUNTER_ATTACH_REFUSED]++;
                connection_close_with_notice(c, EDQUOT, "too many connections from this uid (MaxConnectionsPerUser=)");
                return -EDQUOT;
        }

        c->pidfd = pidfd_open_peer(c->peer.pid);
        if (c->pidfd < 0) {
                r = c->pidfd;
                log_warning_errno(r, "Failed to watch agent pid %d: %m", (int) c->peer.pid);
                connection_free(c, "the VMM process cannot be watched");
                return r;
        }
        ev_io_set(&c->pidfd_io, c->pidfd, EV_READ);
        ev_io_start(m->loop, &c->pidfd_io);
        ev_timer_set(&c->deadline, (double) m->config->hello_timeout_usec / 1e6, 0.);
        ev_timer_start(m->loop, &c->deadline);
        log_debug("Agent connected: pid %d (%s), uid %u.", (int) c->peer.pid, c->peer_comm, (unsigned) c->peer.uid);
        *ret = c;
        return 0;
}
