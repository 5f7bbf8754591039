/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One agent connection: hardened receive with fd passing, the HELLO/VCPU_ATTACH rules, replies, and the VMM's pidfd. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "list.h"
#include "attach-server.h"
#include "connection.h"
#include "escape.h"
#include "injection.h"
#include "kvm-fd.h"
#include "log.h"
#include "manager.h"
#include "parse-util.h"
#include "read-file.h"
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
        if (c->vm) {
                log_info("VM %s (pid %d) detached: %s.", c->vm->name, (int) c->peer.pid, reason);
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

int connection_send(Connection *c, const attach_msg *m) {
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

_printf_(4, 5) static int reply(Connection *c, uint64_t request_id, int error, const char *fmt, ...) {
        attach_msg m = { .type = ATTACH_MSG_REPLY, .request_id = request_id };
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
        return reply(c, 0, error, "%s", message);
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
                log_info("VM %s (pid %d) detached: %s.", c->vm->name, (int) c->peer.pid, message);
                c->vm = vm_free(c->vm, message);
        }
        c->close_after_flush = true;
        ev_timer_stop(loop, &c->deadline);
        ev_timer_set(&c->deadline, CONNECTION_CLOSE_GRACE_S, 0.);
        ev_timer_start(loop, &c->deadline);
        connection_update_io(c);
}

/* The pid a process (or, under /task/, a thread) has in its own PID namespace. */
static int read_ns_pid(const char *status_path, pid_t *ret) {
        _cleanup_free_ char *text = NULL;
        int pid, r;

        r = read_regular_file(status_path, 16384, &text, NULL);
        if (r < 0)
                return r;
        r = parse_status_nspid(text, &pid);
        if (r < 0)
                return r;
        *ret = pid;
        return 0;
}

/*
 * The VMM's thread that its agent calls tid, as serrord sees it. An agent in
 * another PID namespace (a container) names its threads by that namespace's
 * ids: find the thread of the peer whose innermost id is tid. 0 or -ESRCH.
 */
static int resolve_vmm_tid(const Connection *c, pid_t tid, pid_t *ret) {
        _cleanup_(closedirp) DIR *d = NULL;
        char path[96];
        struct dirent *de;

        if (c->vmm_ns_pid == c->peer.pid) {
                snprintf(path, sizeof(path), "/proc/%d/task/%d", (int) c->peer.pid, (int) tid);
                if (access(path, F_OK) < 0)
                        return -ESRCH;
                *ret = tid;
                return 0;
        }
        snprintf(path, sizeof(path), "/proc/%d/task", (int) c->peer.pid);
        d = opendir(path);
        if (!d)
                return -ESRCH;
        while ((de = readdir(d))) {
                pid_t ns_tid;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/task/%.20s/status", (int) c->peer.pid, de->d_name);
                if (read_ns_pid(path, &ns_tid) == 0 && ns_tid == tid) {
                        *ret = (pid_t) atoi(de->d_name);
                        return 0;
                }
        }
        return -ESRCH;
}

/* A kick with a signal the VMM does not catch would kill it (DOMAIN.md 5). */
static int signal_caught(pid_t pid, int sig) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[256];
        unsigned long long mask;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "SigCgt: %llx", &mask) == 1)
                        return (mask >> (sig - 1)) & 1;
        return -EIO;
}

static int handle_hello(Connection *c, const attach_msg *m) {
        Manager *manager = c->server->manager;
        const attach_hello *h = &m->hello;
        int r;

        if (c->vm)
                return reply(c, m->request_id, EALREADY, "HELLO was already accepted on this connection (VM %s)",
                             c->vm->name);
        if (h->arch != attach_arch_native())
                return reply(c, m->request_id, EINVAL, "HELLO says architecture %s, but this host is %s",
                             attach_arch_to_string(h->arch) ?: "?", attach_arch_to_string(attach_arch_native()) ?: "?");
        /* The agent knows its pid as its own PID namespace numbers it: in a
         * container that is not the pid SO_PEERCRED gives serrord. */
        if (h->vmm_pid != c->peer.pid) {
                char status[64];
                pid_t ns_pid;

                snprintf(status, sizeof(status), "/proc/%d/status", (int) c->peer.pid);
                if (read_ns_pid(status, &ns_pid) < 0 || ns_pid != h->vmm_pid)
                        return reply(c, m->request_id, EPERM,
                                     "HELLO says VMM pid %d, but the peer is pid %d (%d in its PID namespace)",
                                     (int) h->vmm_pid, (int) c->peer.pid, read_ns_pid(status, &ns_pid) < 0 ? -1 : (int) ns_pid);
        }
        if (manager_find_vm(manager, h->name))
                return reply(c, m->request_id, EEXIST, "a VM named %s is already attached", h->name);
        if (h->has_uuid && manager_find_vm_by_uuid(manager, h->uuid))
                return reply(c, m->request_id, EEXIST, "a VM with this UUID is already attached");
        if (c->peer.uid != 0 && manager_count_vms_of_uid(manager, c->peer.uid) >= manager->config->max_vms_per_user)
                return reply(c, m->request_id, EDQUOT, "uid %u already has %u VMs attached (MaxVMsPerUser=)",
                             (unsigned) c->peer.uid, manager->config->max_vms_per_user);

        r = vm_new(manager, c, h, c->peer.pid, c->peer.uid, &c->vm);
        if (r < 0)
                return reply(c, m->request_id, -r, "serrord could not register the VM: %s", strerror(-r));
        c->vmm_ns_pid = h->vmm_pid;
        ev_timer_stop(manager->loop, &c->deadline);
        if (c->vmm_ns_pid != c->peer.pid)
                log_info("VM %s attached: pid %d (%d in its PID namespace) (%s), uid %u, %u label(s).", h->name,
                         (int) c->peer.pid, (int) c->vmm_ns_pid, c->peer_comm, (unsigned) c->peer.uid, h->n_labels);
        else
                log_info("VM %s attached: pid %d (%s), uid %u, %u label(s).", h->name, (int) c->peer.pid,
                         c->peer_comm, (unsigned) c->peer.uid, h->n_labels);
        return reply(c, m->request_id, 0, "attached as %s", h->name);
}

static int check_vcpu_fd(int fd, uint32_t claimed, char *why, size_t size) {
        char path[64], link[256];
        uint32_t index = UINT32_MAX;
        kvm_fd_kind kind;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = readlink(path, link, sizeof(link) - 1);
        if (n < 0)
                return snprintf(why, size, "cannot read what the fd is: %s", strerror(errno)), -EBADF;
        link[n] = '\0';
        kind = kvm_fd_classify_link(link, &index);
        if (kind != KVM_FD_VCPU)
                return snprintf(why, size, "the fd is %s (%.100s)", kvm_fd_kind_describe(kind), link), -ENOTTY;
        if (index != claimed)
                return snprintf(why, size, "the fd is vcpu %" PRIu32 ", but VCPU_ATTACH claims vcpu %" PRIu32, index,
                                claimed),
                       -EINVAL;
        return 0;
}

/* The fd must be one the peer itself holds, not a vcpu of some other VMM it
 * got hold of: find it in the peer's fd table with kcmp(2). 0 when found,
 * -EXDEV when not, another negative errno when the check cannot be made
 * (no permission to inspect the peer: the check is then skipped). */
static int peer_holds_fd(pid_t peer, int fd) {
        _cleanup_(closedirp) DIR *d = NULL;
        char path[64];
        struct dirent *de;
        pid_t self = getpid();

        snprintf(path, sizeof(path), "/proc/%d/fd", (int) peer);
        d = opendir(path);
        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                char *end;
                long theirs = strtol(de->d_name, &end, 10);
                long r;

                if (de->d_name[0] == '.' || *end != '\0')
                        continue;
                r = syscall(SYS_kcmp, peer, self, KCMP_FILE, (unsigned long) theirs, (unsigned long) fd);
                if (r == 0)
                        return 0;
                if (r < 0 && (errno == EPERM || errno == EACCES))
                        return -EPERM;
        }
        return -EXDEV;
}

static int handle_vcpu_attach(Connection *c, const attach_msg *m, int *fd) {
        const attach_vcpu_attach *a = &m->vcpu_attach;
        Manager *manager = c->server->manager;
        char why[192];
        pid_t tid;
        int r;

        if (!c->vm)
                return reply(c, m->request_id, ENOTCONN, "send HELLO before VCPU_ATTACH");
        r = check_vcpu_fd(*fd, a->vcpu, why, sizeof(why));
        if (r < 0)
                return reply(c, m->request_id, -r, "vcpu %" PRIu32 " refused: %s", a->vcpu, why);
        if (vm_find_vcpu(c->vm, a->vcpu))
                return reply(c, m->request_id, EEXIST, "vcpu %" PRIu32 " of %s is already attached", a->vcpu,
                             c->vm->name);
        if (c->vm->n_vcpus >= manager->config->max_vcpus_per_vm)
                return reply(c, m->request_id, EDQUOT, "%s already has %u vcpus attached (MaxVcpusPerVM=)",
                             c->vm->name, manager->config->max_vcpus_per_vm);
        r = resolve_vmm_tid(c, a->tid, &tid);
        if (r < 0)
                return reply(c, m->request_id, ESRCH, "thread %d is not a thread of the VMM (pid %d)", (int) a->tid,
                             (int) c->vmm_ns_pid);
        r = peer_holds_fd(c->peer.pid, *fd);
        if (r == -EXDEV)
                return reply(c, m->request_id, EXDEV, "vcpu %" PRIu32 " refused: the fd is a vcpu of another process",
                             a->vcpu);
        if (r < 0 && !c->kcmp_skipped) {
                /* Once per VM: the operator should know this check is off for it. */
                c->kcmp_skipped = true;
                log_notice_errno(r, "VM %s: cannot check with kcmp(2) that its vcpu fds are held by pid %d (uid %u): %m. "
                                 "serrord needs CAP_SYS_PTRACE for a VMM of another uid; the fd's type, vcpu index "
                                 "and thread are still checked.",
                                 c->vm->name, (int) c->peer.pid, (unsigned) c->peer.uid);
        }
        r = signal_caught(c->peer.pid, a->kick_signal);
        if (r == 0)
                return reply(c, m->request_id, EINVAL,
                             "the VMM does not handle signal %d (%s): a kick would kill it; install a handler first",
                             a->kick_signal, strsignal(a->kick_signal));

        r = vm_add_vcpu(c->vm, a->vcpu, tid, a->kick_signal, *fd);
        if (r < 0)
                return reply(c, m->request_id, -r, "serrord could not attach vcpu %" PRIu32 ": %s", a->vcpu,
                             strerror(-r));
        *fd = -EBADF; /* the vcpu owns it now */
        manager->counters[COUNTER_ATTACH_ACCEPTED]++;
        log_debug("VM %s: vcpu %" PRIu32 " attached (thread %d, kick signal %d).", c->vm->name, a->vcpu, (int) a->tid,
                  a->kick_signal);
        return reply(c, m->request_id, 0, "vcpu %" PRIu32 " attached", a->vcpu);
}

static int handle_vcpu_detach(Connection *c, const attach_msg *m) {
        int r;

        if (!c->vm)
                return reply(c, m->request_id, ENOTCONN, "send HELLO before VCPU_DETACH");
        r = vm_remove_vcpu(c->vm, m->vcpu_detach.vcpu);
        if (r == -ENOENT)
                return reply(c, m->request_id, ENOENT, "vcpu %" PRIu32 " is not attached", m->vcpu_detach.vcpu);
        log_debug("VM %s: vcpu %" PRIu32 " detached.", c->vm->name, m->vcpu_detach.vcpu);
        return reply(c, m->request_id, 0, "vcpu %" PRIu32 " detached", m->vcpu_detach.vcpu);
}

/* Returns 0 to go on, or a negative errno when the connection must close. */
static int handle_datagram(Connection *c, const uint8_t *buf, size_t len, int flags, int *fds, unsigned n_fds) {
        Manager *manager = c->server->manager;
        serror_diag diag = {};
        attach_header h = {};
        attach_msg m;
        int r;

        r = attach_header_decode(buf, len, &h, &diag);
        if (r == -EMSGSIZE) {
                manager->counters[COUNTER_ATTACH_REFUSED]++;
                return reply(c, 0, EMSGSIZE, "%s", diag.message);
        }
        if (r < 0) {
                /* Not our magic: the peer does not speak this protocol, and nothing it sends can be trusted. */
                log_warning("pid %d (%s) does not speak the attach protocol (%s); closing its connection.",
                            (int) c->peer.pid, c->peer_comm, diag.message);
                manager->counters[COUNTER_ATTACH_REFUSED]++;
                return -EPROTO;
        }
        if (flags & MSG_TRUNC) {
                manager->counters[COUNTER_ATTACH_REFUSED]++;
                return reply(c, h.request_id, EMSGSIZE, "message larger than %u bytes refused", ATTACH_MSG_SIZE_MAX);
        }
        if (flags & MSG_CTRUNC) {
                manager->counters[COUNTER_ATTACH_REFUSED]++;
                return reply(c, h.request_id, EBADF, "too many fds: a %s carries %u",
                             attach_msg_type_to_string(h.type) ?: "message", attach_msg_type_fds(h.type));
        }

        r = attach_msg_decode(buf, len, &m, &diag);
        if (r < 0) {
                manager->counters[COUNTER_ATTACH_REFUSED]++;
                if (r == -EPROTO)
                        return -EPROTO;
                return reply(c, h.request_id, -r, "%s", diag.message);
        }
        if (n_fds != attach_msg_type_fds(m.type)) {
                manager->counters[COUNTER_ATTACH_REFUSED]++;
                return reply(c, m.request_id, EBADF, "%s carries %u fd(s), got %u", attach_msg_type_to_string(m.type),
                             attach_msg_type_fds(m.type), n_fds);
        }
        if (!(attach_msg_type_senders(m.type) & ATTACH_SENDER_AGENT)) {
                manager->counters[COUNTER_ATTACH_REFUSED]++;
                return reply(c, m.request_id, EBADMSG, "%s is sent by serrord, not by agents",
                             attach_msg_type_to_string(m.type));
        }

        switch (m.type) {
        case ATTACH_MSG_HELLO:
                return handle_hello(c, &m);
        case ATTACH_MSG_VCPU_ATTACH:
                r = handle_vcpu_attach(c, &m, &fds[0]);
                if (fds[0] >= 0)
                        manager->counters[COUNTER_ATTACH_REFUSED]++;
                return r;
        case ATTACH_MSG_VCPU_DETACH:
                return handle_vcpu_detach(c, &m);
        case ATTACH_MSG_BYE:
                c->close_after_flush = true;
                c->close_reason = "the agent said BYE";
                (void) reply(c, m.request_id, 0, "bye");
                return -ESHUTDOWN;
        case ATTACH_MSG_REPLY:
        case ATTACH_MSG_INJECT_RESULT:
                if (!c->vm) {
                        log_debug("pid %d sent %s before HELLO; ignored.", (int) c->peer.pid,
                                  attach_msg_type_to_string(m.type));
                        return 0;
                }
                return injection_handle_answer(manager, c->vm, &m);
        default:
                return reply(c, m.request_id, EOPNOTSUPP, "message type %u is not handled", (unsigned) m.type);
        }
}

static void close_fds(int *fds, unsigned n) {
        for (unsigned i = 0; i < n; i++)
                fds[i] = safe_close(fds[i]);
}

/* 1 when a datagram was handled, 0 when none was waiting, negative to close. */
static int connection_receive_one(Connection *c) {
        static uint8_t buf[ATTACH_MSG_SIZE_MAX];
        attach_received rec;
        int r;

        r = attach_socket_receive(c->fd, buf, sizeof(buf), &rec);
        if (r <= 0)
                return r;
        if (rec.bad_control)
                return reply(c, 0, EBADMSG, "unexpected control message (only SCM_RIGHTS is accepted)") < 0 ? -ECONNRESET : 1;

        r = handle_datagram(c, buf, rec.truncated ? sizeof(buf) : rec.len,
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

/* The peer's command name, escaped: the peer chose it (prctl(PR_SET_NAME)),
 * and it goes into log lines. */
static void read_comm(pid_t pid, char *buf, size_t size) {
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
        read_comm(c->peer.pid, c->peer_comm, sizeof(c->peer_comm));
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
