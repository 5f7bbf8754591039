/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-agent's connection to serrord: connect with backoff, HELLO, VCPU_ATTACH, the send queue, REPLYs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent-internal.h"
#include "agent-kvm.h"

/* Room for more fds than any message may carry, so that a peer sending too
 * many shows up as fds to close rather than as silently dropped ones. */

static void conn_drop_now(serror_agent *a, int error, const char *why);
static int pending_add(serror_agent *a, uint64_t id, AttachMsgType type, uint32_t vcpu);

static uint64_t conn_next_id(serror_agent *a) {
        uint64_t id = a->next_id++;

        /* Id 0 means "unreadable" on the wire; 2^64 requests will not happen,
         * but skipping it costs nothing. */
        if (a->next_id == 0)
                a->next_id = 1;
        return id;
}

/* ---------------------------------------------------------------- failures, backoff */

static bool error_is_absent_daemon(int error) {
        return error == -ENOENT || error == -ECONNREFUSED;
}

static void arm_reconnect(serror_agent *a) {
        struct itimerspec its = {};
        char buf[AGENT_STRERROR_MAX];
        uint64_t delay = agent_backoff_next(&a->backoff);

        agent_timespec_from_ns(delay, &its.it_value);
        if (timerfd_settime(a->reconnect_fd, 0, &its, NULL) < 0)
                agent_log(a, SERROR_AGENT_LOG_ERR, "cannot arm the reconnect timer: %s",
                          agent_strerror(negative_errno(), buf, sizeof(buf)));
}

void agent_conn_start(serror_agent *a) {
        struct itimerspec its = { .it_value.tv_nsec = 1 };

        /* The first attempt runs from the loop, not from serror_agent_new():
         * a VMM that starts the agent thread or adds its vcpus right after
         * creating the agent has them all in the first HELLO and attach round. */
        if (timerfd_settime(a->reconnect_fd, 0, &its, NULL) < 0)
                agent_conn_connect(a);
}

static void disarm_reconnect(serror_agent *a) {
        struct itimerspec its = {};

        (void) timerfd_settime(a->reconnect_fd, 0, &its, NULL);
}

/* Failures to connect repeat every second while serrord is away: log each
 * kind once, then quietly (debug) until a connection succeeds. */
static void log_conn_failure(serror_agent *a, int error, const char *what) {
        char buf[AGENT_STRERROR_MAX];
        int level;

        if (error == a->last_conn_error)
                level = SERROR_AGENT_LOG_DEBUG;
        else
                level = error_is_absent_daemon(error) ? SERROR_AGENT_LOG_INFO : SERROR_AGENT_LOG_WARNING;
        a->last_conn_error = error;
        agent_log(a, level, "%s %s: %s; retrying with backoff", what, a->socket_path,
                  agent_strerror(error, buf, sizeof(buf)));
}

/* ---------------------------------------------------------------- connecting */

static uint32_t hello_capabilities(serror_agent *a) {
        uint32_t caps = 0;

        if (a->esr_cap > 0)
                caps |= ATTACH_CAP_SERROR_ESR;
        /* Advisory and per connection: a VMM that starts calling before_run
         * later shows it in the next HELLO. */
        if (atomic_load(&a->any_pre_run))
                caps |= ATTACH_CAP_PRE_RUN;
        if (a->thread_started)
                caps |= ATTACH_CAP_AGENT_THREAD;
        if (agent_kvm_mce_supported())
                caps |= ATTACH_CAP_MCE;
        caps |= ATTACH_CAP_REACTION;
        if (a->proxy_pid > 0)
                caps |= ATTACH_CAP_PTRACE;
        return caps;
}

void agent_conn_connect(serror_agent *a) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = AGENT_EV_SOCKET };
        _cleanup_close_ int fd = -EBADF;
        AttachMsg m = {};
        int r;

        if (a->state != AGENT_CONN_WAITING || a->sock_fd >= 0)
                return;

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                log_conn_failure(a, negative_errno(), "cannot create a socket for");
                arm_reconnect(a);
                return;
        }
        /* Checked against sun_path's size in serror_agent_new(). */
        strncpy(sa.sun_path, a->socket_path, sizeof(sa.sun_path) - 1);
        /* An AF_UNIX connect() does not wait for the server to accept: it
         * succeeds or fails at once (EAGAIN when its backlog is full). */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                log_conn_failure(a, negative_errno(), "cannot connect to serrord at");
                arm_reconnect(a);
                return;
        }
        if (epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                log_conn_failure(a, negative_errno(), "cannot watch the connection to");
                arm_reconnect(a);
                return;
        }

        a->sock_fd = TAKE_FD(fd);
        a->sock_events = EPOLLIN;
        a->state = AGENT_CONN_HELLO;
        a->generation++;
        disarm_reconnect(a);

        m.type = ATTACH_MSG_HELLO;
        m.request_id = a->hello_id = conn_next_id(a);
        m.hello = a->hello;
        m.hello.vmm_pid = a->proxy_pid > 0 ? a->proxy_pid : getpid();
        m.hello.arch = attach_arch_native();
        m.hello.capabilities = hello_capabilities(a);
        r = agent_conn_queue(a, &m);
        if (r >= 0)
                r = pending_add(a, m.request_id, ATTACH_MSG_HELLO, 0);
        if (r < 0) {
                conn_drop_now(a, r, "cannot send HELLO");
                return;
        }
        agent_log(a, SERROR_AGENT_LOG_DEBUG, "connected to %s; sending HELLO", a->socket_path);
        /* Nothing else would wake the loop to send it: the socket is only
         * watched for input until a send meets a full buffer. */
        agent_conn_flush(a);
}

void agent_conn_on_reconnect_timer(serror_agent *a) {
        agent_conn_connect(a);
}

/* ---------------------------------------------------------------- dropping */


static void conn_drop_now(serror_agent *a, int error, const char *why) {
        char buf[AGENT_STRERROR_MAX];
        bool was_ready = a->state == AGENT_CONN_READY;

        if (a->sock_fd >= 0) {
                (void) epoll_ctl(a->epoll_fd, EPOLL_CTL_DEL, a->sock_fd, NULL);
                a->sock_fd = safe_close(a->sock_fd);
        }
        a->sock_events = 0;
        a->drop_error = 0;
        attach_sendq_clear(&a->out);
        a->n_pending = 0;
        a->n_attach_pending = 0;
        a->n_detach_pending = 0;
        for (AgentVcpu *v = a->vcpus; v; v = v->all_next) {
                /* Refused ones are tried again on the next connection. */
                v->attach = AGENT_VCPU_LOCAL;
                v->attach_id = 0;
                v->detach_pending = false;
        }
        /* Nobody can receive the results any more; serrord ends those
         * requests itself when the connection closes. */
        agent_inject_drop_all(a);

        if (why) {
                if (was_ready) {
                        agent_log(a, SERROR_AGENT_LOG_WARNING, "connection to serrord lost: %s%s%s; reconnecting", why,
                                  error ? ": " : "", error ? agent_strerror(error, buf, sizeof(buf)) : "");
                        a->last_conn_error = 0;
                } else if (error)
                        log_conn_failure(a, error, why);
                else
                        agent_log(a, SERROR_AGENT_LOG_INFO, "%s; retrying with backoff", why);
        }

        if (a->state == AGENT_CONN_STOPPED)
                return;
        a->state = AGENT_CONN_WAITING;
        arm_reconnect(a);
}

/* From places that may be deep inside a walk over requests: drop at the next
 * agent_conn_flush(), which only runs at the top of an API call. */
static void conn_drop_later(serror_agent *a, int error) {
        if (a->drop_error == 0)
                a->drop_error = error < 0 ? error : -EIO;
}

/* ---------------------------------------------------------------- sending */

int agent_conn_queue(serror_agent *a, const AttachMsg *m) {
        uint8_t buf[ATTACH_MSG_SIZE_MAX];
        serror_diag diag = {};
        size_t len;
        int r;

        if (a->sock_fd < 0)
                return -ENOTCONN;
        r = attach_msg_encode(m, buf, sizeof(buf), &len, &diag);
        if (r < 0) {
                agent_log(a, SERROR_AGENT_LOG_ERR, "cannot encode %s: %s (a bug in serror-agent)",
                          attach_msg_type_to_string(m->type) ?: "a message", diag.message);
                return r;
        }
        r = attach_sendq_push(&a->out, buf, len);
        if (r < 0)
                conn_drop_later(a, r);
        return r;
}

int agent_conn_notify(serror_agent *a, AttachMsg *m) {
        if (a->state != AGENT_CONN_READY)
                return -ENOTCONN;
        m->request_id = conn_next_id(a);
        return agent_conn_queue(a, m);
}

static int pending_add(serror_agent *a, uint64_t id, AttachMsgType type, uint32_t vcpu) {
        if (a->n_pending >= a->n_pending_allocated) {
                size_t n = a->n_pending_allocated ? a->n_pending_allocated * 2 : 16;
                AgentPending *p = reallocarray(a->pending, n, sizeof(*p));

                if (!p)
                        return -ENOMEM;
                a->pending = p;
                a->n_pending_allocated = n;
        }
        a->pending[a->n_pending++] = (AgentPending) { .id = id, .type = type, .vcpu = vcpu };
        return 0;
}

static bool pending_take(serror_agent *a, uint64_t id, AgentPending *ret) {
        for (size_t i = 0; i < a->n_pending; i++)
                if (a->pending[i].id == id) {
                        *ret = a->pending[i];
                        a->pending[i] = a->pending[--a->n_pending];
                        return true;
                }
        return false;
}


/* Lock held, READY. Returns -EAGAIN when the socket is full, 0 when all went
 * out, or another -errno that ends the connection. */
static int send_vcpu_detaches(serror_agent *a) {
        for (AgentVcpu *v = a->vcpus; v && a->n_detach_pending > 0; v = v->all_next) {
                uint8_t data[ATTACH_MSG_SIZE_MAX];
                AttachMsg m = {};
                size_t len;
                int r;

                if (!v->detach_pending)
                        continue;
                m.type = ATTACH_MSG_VCPU_DETACH;
                m.request_id = conn_next_id(a);
                m.vcpu_detach.vcpu = v->index;
                r = attach_msg_encode(&m, data, sizeof(data), &len, NULL);
                if (r >= 0)
                        r = attach_socket_send(a->sock_fd, data, len, -EBADF);
                if (r < 0)
                        return r;
                r = pending_add(a, m.request_id, ATTACH_MSG_VCPU_DETACH, v->index);
                if (r < 0)
                        return r;
                v->detach_pending = false;
                a->n_detach_pending--;
        }
        return 0;
}

/* Same contract as send_vcpu_detaches(). */
static int send_vcpu_attaches(serror_agent *a) {
        char buf[AGENT_STRERROR_MAX];

        for (AgentVcpu *v = a->vcpus; v && a->n_attach_pending > 0; v = v->all_next) {
                uint8_t data[ATTACH_MSG_SIZE_MAX];
                serror_diag diag = {};
                AttachMsg m = {};
                size_t len;
                int r;

                if (!v->present || v->attach != AGENT_VCPU_PENDING)
                        continue;
                m.type = ATTACH_MSG_VCPU_ATTACH;
                m.request_id = conn_next_id(a);
                m.vcpu_attach = (AttachVcpuAttach) { .vcpu = v->index, .tid = v->tid, .kick_signal = v->kick_signal };
                r = attach_msg_encode(&m, data, sizeof(data), &len, &diag);
                if (r >= 0)
                        r = attach_socket_send(a->sock_fd, data, len, v->fd);
                if (r == -EAGAIN)
                        return r;
                if (r == -EINVAL || r == -EBADF) {
                        /* A bad fd (closed by the VMM without removing the
                         * vcpu) fails this vcpu, not the connection. */
                        agent_log(a, SERROR_AGENT_LOG_WARNING, "cannot attach vcpu %u: %s", v->index,
                                  r == -EBADF ? "its fd is not open" :
                                  diag.message[0] ? diag.message : agent_strerror(r, buf, sizeof(buf)));
                        v->attach = AGENT_VCPU_REFUSED;
                        a->n_attach_pending--;
                        continue;
                }
                if (r < 0)
                        return r;
                r = pending_add(a, m.request_id, ATTACH_MSG_VCPU_ATTACH, v->index);
                if (r < 0)
                        return r;
                v->attach = AGENT_VCPU_SENT;
                v->attach_id = m.request_id;
                a->n_attach_pending--;
        }
        return 0;
}

static void update_sock_events(serror_agent *a, bool want_out) {
        uint32_t events = EPOLLIN | (want_out ? EPOLLOUT : 0);
        struct epoll_event ev = { .events = events, .data.u32 = AGENT_EV_SOCKET };

        if (a->sock_fd < 0 || events == a->sock_events)
                return;
        if (epoll_ctl(a->epoll_fd, EPOLL_CTL_MOD, a->sock_fd, &ev) >= 0)
                a->sock_events = events;
}

void agent_conn_flush(serror_agent *a) {
        char buf[AGENT_STRERROR_MAX];
        bool want_out = false;
        int r = 0;

        if (a->drop_error < 0) {
                conn_drop_now(a, a->drop_error,
                              a->drop_error == -ENOBUFS ? "serrord does not read its socket" : "cannot queue a message");
                return;
        }
        if (a->sock_fd < 0)
                return;

        r = attach_sendq_flush(&a->out, a->sock_fd);
        /* Queued answers first, then detaches, then attaches: a vcpu removed
         * and added again is detached before it is attached anew. */
        if (r >= 0 && a->state == AGENT_CONN_READY && a->n_detach_pending > 0)
                r = send_vcpu_detaches(a);
        if (r >= 0 && a->state == AGENT_CONN_READY && a->n_attach_pending > 0)
                r = send_vcpu_attaches(a);

        if (r == -EAGAIN)
                want_out = true;
        else if (r < 0) {
                conn_drop_now(a, r, agent_strerror(r, buf, sizeof(buf)));
                return;
        }
        update_sock_events(a, want_out);
}

void agent_conn_close_for_free(serror_agent *a) {
        uint8_t data[ATTACH_MSG_SIZE_MAX];
        AttachMsg m = { .type = ATTACH_MSG_BYE };
        size_t len;

        if (a->sock_fd < 0)
                return;
        /* Best effort, never waiting: what the socket takes now. */
        if (a->state == AGENT_CONN_READY || a->state == AGENT_CONN_HELLO) {
                a->drop_error = 0;
                agent_conn_flush(a);
                m.request_id = conn_next_id(a);
                if (a->sock_fd >= 0 && attach_msg_encode(&m, data, sizeof(data), &len, NULL) >= 0)
                        (void) attach_socket_send(a->sock_fd, data, len, -EBADF);
        }
        if (a->sock_fd >= 0) {
                (void) epoll_ctl(a->epoll_fd, EPOLL_CTL_DEL, a->sock_fd, NULL);
                a->sock_fd = safe_close(a->sock_fd);
        }
        attach_sendq_clear(&a->out);
        a->n_pending = 0;
}

/* ---------------------------------------------------------------- vcpus on the wire */

void agent_conn_vcpu_added(serror_agent *a, AgentVcpu *v) {
        v->attach_id = 0;
        if (a->state == AGENT_CONN_READY) {
                v->attach = AGENT_VCPU_PENDING;
                a->n_attach_pending++;
        } else
                /* Sent once the next HELLO is accepted. */
                v->attach = AGENT_VCPU_LOCAL;
}

void agent_conn_vcpu_removed(serror_agent *a, AgentVcpu *v) {
        switch (v->attach) {
        case AGENT_VCPU_PENDING:
                a->n_attach_pending--;
                break;
        case AGENT_VCPU_SENT:
        case AGENT_VCPU_ATTACHED:
                if (!v->detach_pending) {
                        v->detach_pending = true;
                        a->n_detach_pending++;
                }
                break;
        case AGENT_VCPU_LOCAL:
        case AGENT_VCPU_REFUSED:
                break;
        }
        v->attach = AGENT_VCPU_LOCAL;
        v->attach_id = 0;
}

/* ---------------------------------------------------------------- receiving */

static void reply_received(serror_agent *a, const AttachMsg *m) {
        const AttachReply *rp = &m->reply;
        char buf[AGENT_STRERROR_MAX];
        AgentPending p;
        AgentVcpu *v;

        if (m->request_id == 0) {
                /* A connection-level notice; serrord closes the connection after it. */
                if (rp->status == ECONNABORTED) {
                        agent_log(a, SERROR_AGENT_LOG_WARNING,
                                  "detached by the operator (%s); not reconnecting until the agent is freed",
                                  rp->message[0] ? rp->message : "no reason given");
                        a->state = AGENT_CONN_STOPPED;
                        disarm_reconnect(a);
                        conn_drop_now(a, 0, NULL);
                } else if (rp->status != 0) {
                        agent_log(a, SERROR_AGENT_LOG_WARNING, "serrord closes the connection: %s (%s)",
                                  rp->message[0] ? rp->message : "no reason given",
                                  agent_strerror(rp->status, buf, sizeof(buf)));
                        /* Logged just now: the drop itself stays quiet. */
                        a->last_conn_error = -rp->status;
                        conn_drop_now(a, 0, NULL);
                } else
                        agent_log(a, SERROR_AGENT_LOG_INFO, "serrord: %s", rp->message);
                return;
        }

        if (!pending_take(a, m->request_id, &p)) {
                agent_log(a, SERROR_AGENT_LOG_DEBUG, "REPLY for unknown request %llu ignored",
                          (unsigned long long) m->request_id);
                return;
        }

        switch (p.type) {
        case ATTACH_MSG_HELLO:
                if (a->state != AGENT_CONN_HELLO || p.id != a->hello_id)
                        return;
                if (rp->status != 0) {
                        int error = -rp->status;

                        if (error != a->last_conn_error)
                                agent_log(a, SERROR_AGENT_LOG_WARNING, "serrord refused the HELLO of VM %s: %s (%s)",
                                          a->hello.name, rp->message[0] ? rp->message : "no reason given",
                                          agent_strerror(error, buf, sizeof(buf)));
                        a->last_conn_error = error;
                        a->hello_refusal = error;
                        conn_drop_now(a, 0, NULL);
                        return;
                }
                a->hello_refusal = 0;
                a->state = AGENT_CONN_READY;
                agent_backoff_reset(&a->backoff);
                a->last_conn_error = 0;
                agent_log(a, SERROR_AGENT_LOG_INFO, "attached to serrord as VM %s", a->hello.name);
                for (v = a->vcpus; v; v = v->all_next)
                        if (v->present)
                                agent_conn_vcpu_added(a, v);
                return;

        case ATTACH_MSG_VCPU_ATTACH:
                v = agent_vcpu_lookup(a, p.vcpu);
                /* Stale when the vcpu was removed (and maybe added again) meanwhile. */
                if (!v || !v->present || v->attach != AGENT_VCPU_SENT || v->attach_id != p.id)
                        return;
                v->attach_id = 0;
                if (rp->status == 0) {
                        v->attach = AGENT_VCPU_ATTACHED;
                        agent_log(a, SERROR_AGENT_LOG_DEBUG, "vcpu %u attached", v->index);
                } else {
                        v->attach = AGENT_VCPU_REFUSED;
                        agent_log(a, SERROR_AGENT_LOG_WARNING, "serrord refused vcpu %u: %s (%s)", v->index,
                                  rp->message[0] ? rp->message : "no reason given",
                                  agent_strerror(rp->status, buf, sizeof(buf)));
                }
                return;

        case ATTACH_MSG_VCPU_DETACH:
                if (rp->status != 0)
                        agent_log(a, SERROR_AGENT_LOG_DEBUG, "serrord refused to detach vcpu %u: %s", p.vcpu,
                                  rp->message);
                return;

        default:
                return;
        }
}

static void queue_reply(serror_agent *a, uint64_t id, int error, const char *why) {
        AttachMsg m = { .type = ATTACH_MSG_REPLY, .request_id = id };

        m.reply.status = error < 0 ? -error : error;
        attach_message_copy(m.reply.message, why);
        (void) agent_conn_queue(a, &m);
}

/* The vcpu index of an INJECT whose payload did not decode, when readable
 * and in range (doc/attach-protocol.md 6.4). */
static uint32_t inject_vcpu_of(const uint8_t *data, size_t len) {
        uint32_t vcpu;

        if (len < ATTACH_HEADER_SIZE + 4)
                return ATTACH_VCPU_UNKNOWN;
        vcpu = (uint32_t) data[ATTACH_HEADER_SIZE] | (uint32_t) data[ATTACH_HEADER_SIZE + 1] << 8 |
               (uint32_t) data[ATTACH_HEADER_SIZE + 2] << 16 | (uint32_t) data[ATTACH_HEADER_SIZE + 3] << 24;
        return vcpu <= ATTACH_VCPU_INDEX_MAX ? vcpu : ATTACH_VCPU_UNKNOWN;
}

/* A record that did not decode, or that serrord may not send, or that came
 * with fds: answer it as doc/attach-protocol.md 3.1 and 8 say, and keep the
 * connection. decoded is the message when only its fds were wrong. */
static void refuse_message(serror_agent *a, const uint8_t *data, size_t len, const AttachMsg *decoded, int error,
                           const char *why) {
        AttachMsgType answer;
        AttachHeader h;

        agent_log(a, SERROR_AGENT_LOG_WARNING, "bad message from serrord: %s", why);
        if (attach_header_decode(data, len, &h, NULL) < 0) {
                /* Shorter than a header: nothing to name it by but id 0. */
                if (error == -EMSGSIZE)
                        queue_reply(a, 0, error, why);
                return;
        }

        answer = attach_msg_type_answer((AttachMsgType) h.type);
        if (answer == 0) {
                /* Answers are never answered (6.2); a malformed one ends the
                 * request it answers as failed. */
                if (h.type == ATTACH_MSG_REPLY && h.request_id != 0) {
                        AttachMsg m = { .type = ATTACH_MSG_REPLY, .request_id = h.request_id };

                        m.reply.status = EBADMSG;
                        attach_message_copy(m.reply.message, why);
                        reply_received(a, &m);
                }
                return;
        }
        /* An INJECT the agent can take as one is answered by an INJECT_RESULT;
         * one too large or in another version only by a REPLY (6.2). */
        if (answer == ATTACH_MSG_INJECT_RESULT && error != -EMSGSIZE && error != -EPROTONOSUPPORT)
                agent_inject_refuse(a, h.request_id, decoded ? decoded->inject.vcpu : inject_vcpu_of(data, len), error,
                                    why);
        else
                queue_reply(a, h.request_id, error, why);
}

static void message_received(serror_agent *a, const uint8_t *data, size_t len, bool bad_fds) {
        serror_diag diag = {};
        AttachHeader h;
        AttachMsg m;
        char why[sizeof(diag.message) + 64];
        int r;

        r = attach_msg_decode(data, len, &m, &diag);
        if (r == -EPROTO) {
                /* Not this protocol at all: nothing it says can be trusted. */
                conn_drop_now(a, r, "serrord does not speak the attach protocol");
                return;
        }
        if (r == -EPROTONOSUPPORT && attach_header_decode(data, len, &h, NULL) >= 0 && h.type == ATTACH_MSG_REPLY &&
            a->state == AGENT_CONN_HELLO && h.request_id == a->hello_id) {
                /* Our HELLO's version is not serrord's (section 9); this agent speaks only 1. */
                if (a->last_conn_error != -EPROTONOSUPPORT)
                        agent_log(a, SERROR_AGENT_LOG_WARNING,
                                  "serrord speaks attach protocol %u, this agent speaks %u; retrying with backoff",
                                  (unsigned) h.version, ATTACH_PROTO_VERSION);
                a->last_conn_error = -EPROTONOSUPPORT;
                conn_drop_now(a, 0, NULL);
                return;
        }
        if (r < 0) {
                refuse_message(a, data, len, NULL, r, diag.message);
                return;
        }
        if (bad_fds) {
                refuse_message(a, data, len, &m, -EBADF, "message carried file descriptors (closed)");
                return;
        }
        if (!(attach_msg_type_senders(m.type) & ATTACH_SENDER_DAEMON)) {
                (void) snprintf(why, sizeof(why), "%s is sent by agents only", attach_msg_type_to_string(m.type));
                refuse_message(a, data, len, &m, -EBADMSG, why);
                return;
        }

        switch (m.type) {
        case ATTACH_MSG_REPLY:
                reply_received(a, &m);
                break;
        case ATTACH_MSG_INJECT:
        case ATTACH_MSG_INJECT_MCE:
                agent_inject_receive(a, m.request_id, &m.inject);
                break;
        default:
                break;
        }
}


static void conn_receive(serror_agent *a) {
        for (unsigned i = 0; i < AGENT_RECV_BATCH && a->sock_fd >= 0; i++) {
                uint8_t data[ATTACH_MSG_SIZE_MAX];
                AttachReceived rec;
                char why[96];
                int r;

                r = attach_socket_receive(a->sock_fd, data, sizeof(data), &rec);
                if (r == 0)
                        return;
                if (r == -ECONNRESET) {
                        conn_drop_now(a, 0, "serrord closed the connection");
                        return;
                }
                if (r < 0) {
                        conn_drop_now(a, r, "receive failed");
                        return;
                }
                /* serrord never passes fds: any that came are closed at once. */
                for (unsigned k = 0; k < rec.n_fds; k++)
                        (void) safe_close(rec.fds[k]);
                if (rec.truncated) {
                        (void) snprintf(why, sizeof(why), "record of %zu bytes is longer than %u", rec.len,
                                        ATTACH_MSG_SIZE_MAX);
                        refuse_message(a, data, sizeof(data), NULL, -EMSGSIZE, why);
                        continue;
                }
                message_received(a, data, rec.len, rec.n_fds > 0 || rec.fds_dropped || rec.bad_control);
        }
}

void agent_conn_on_socket(serror_agent *a, uint32_t events) {
        if (a->sock_fd < 0)
                return; /* an event for a socket dropped earlier in the same batch */
        if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                conn_receive(a);
        if (a->sock_fd >= 0 && (events & EPOLLOUT))
                agent_conn_flush(a);
}
