/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attach protocol as serrord applies it to one agent's datagrams: HELLO,
 * VCPU_ATTACH and its fd checks, VCPU_DETACH, BYE, and answers to injections.
 * The transport (receive, fds, queue, lifetime) is connection.c's. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attach-handlers.h"
#include "attach-server.h"
#include "injection.h"
#include "kvm-fd.h"
#include "log.h"
#include "manager.h"
#include "reaction-watch.h"
#include "parse-util.h"
#include "read-file.h"
#include "vm.h"

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

        if (c->vmm_ns_pid == c->vmm_pid) {
                snprintf(path, sizeof(path), "/proc/%d/task/%d", (int) c->vmm_pid, (int) tid);
                if (access(path, F_OK) < 0)
                        return -ESRCH;
                *ret = tid;
                return 0;
        }
        snprintf(path, sizeof(path), "/proc/%d/task", (int) c->vmm_pid);
        d = opendir(path);
        if (!d)
                return -ESRCH;
        while ((de = readdir(d))) {
                pid_t ns_tid;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/task/%.20s/status", (int) c->vmm_pid, de->d_name);
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

/* A ptrace helper must be able to trace any VMM itself: root, or
 * CAP_SYS_PTRACE in its effective set (/proc/PID/status CapEff). */
static bool peer_may_ptrace(const Connection *c) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[256];
        unsigned long long caps;

        if (c->peer.uid == 0)
                return true;
        snprintf(path, sizeof(path), "/proc/%d/status", (int) c->peer.pid);
        f = fopen(path, "re");
        if (!f)
                return false;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "CapEff: %llx", &caps) == 1)
                        return (caps >> 19) & 1; /* CAP_SYS_PTRACE */
        return false;
}

/* HELLO with capability PTRACE: may serror-attach-pid speak for vmm_pid?
 * 0, or the (positive) errno to refuse it with and why. */
static int hello_helper_refusal(const Connection *c, const AttachHello *h, char *why, size_t size) {
        char path[64];

        if (!peer_may_ptrace(c))
                return snprintf(why, size, "HELLO speaks for pid %d by ptrace (capability PTRACE), which needs root or "
                                "CAP_SYS_PTRACE; pid %d (uid %u) has neither",
                                (int) h->vmm_pid, (int) c->peer.pid, (unsigned) c->peer.uid),
                       EPERM;
        if (h->vmm_pid == c->peer.pid)
                return snprintf(why, size, "HELLO has capability PTRACE but speaks for its own pid %d", (int) h->vmm_pid),
                       EINVAL;
        snprintf(path, sizeof(path), "/proc/%d", (int) h->vmm_pid);
        if (access(path, F_OK) < 0)
                return snprintf(why, size, "HELLO speaks for pid %d, which does not exist", (int) h->vmm_pid), ESRCH;
        for (VM *vm = c->server->manager->vms; vm; vm = vm->next)
                if (vm->pid == h->vmm_pid)
                        return snprintf(why, size, "pid %d is already attached as VM %s", (int) h->vmm_pid, vm->name),
                               EEXIST;
        return 0;
}

static int handle_hello(Connection *c, const AttachMsg *m) {
        Manager *manager = c->server->manager;
        const AttachHello *h = &m->hello;
        int r;

        if (c->vm)
                return connection_reply(c, m->request_id, EALREADY, "HELLO was already accepted on this connection (VM %s)",
                             c->vm->name);
        if (h->arch != attach_arch_native())
                return connection_reply(c, m->request_id, EINVAL, "HELLO says architecture %s, but this host is %s",
                             attach_arch_to_string(h->arch) ?: "?", attach_arch_to_string(attach_arch_native()) ?: "?");
        bool via_helper = h->capabilities & ATTACH_CAP_PTRACE;

        if (via_helper) {
                char why[192];
                int refusal = hello_helper_refusal(c, h, why, sizeof(why));

                if (refusal != 0)
                        return connection_reply(c, m->request_id, refusal, "%s", why);
        } else if (h->vmm_pid != c->peer.pid) {
                /* The agent knows its pid as its own PID namespace numbers it: in a
                 * container that is not the pid SO_PEERCRED gives serrord. */
                char status[64];
                pid_t ns_pid;

                snprintf(status, sizeof(status), "/proc/%d/status", (int) c->peer.pid);
                if (read_ns_pid(status, &ns_pid) < 0 || ns_pid != h->vmm_pid)
                        return connection_reply(c, m->request_id, EPERM,
                                     "HELLO says VMM pid %d, but the peer is pid %d (%d in its PID namespace)",
                                     (int) h->vmm_pid, (int) c->peer.pid, read_ns_pid(status, &ns_pid) < 0 ? -1 : (int) ns_pid);
        }
        if (manager_find_vm(manager, h->name))
                return connection_reply(c, m->request_id, EEXIST, "a VM named %s is already attached", h->name);
        if (h->has_uuid && manager_find_vm_by_uuid(manager, h->uuid))
                return connection_reply(c, m->request_id, EEXIST, "a VM with this UUID is already attached");
        if (c->peer.uid != 0 && manager_count_vms_of_uid(manager, c->peer.uid) >= manager->config->max_vms_per_user)
                return connection_reply(c, m->request_id, EDQUOT, "uid %u already has %u VMs attached (MaxVMsPerUser=)",
                             (unsigned) c->peer.uid, manager->config->max_vms_per_user);

        c->via_helper = via_helper;
        c->vmm_pid = via_helper ? h->vmm_pid : c->peer.pid;
        c->vmm_ns_pid = h->vmm_pid;
        r = vm_new(manager, c, h, c->vmm_pid, c->peer.uid, &c->vm);
        if (r < 0)
                return connection_reply(c, m->request_id, -r, "serrord could not register the VM: %s", strerror(-r));
        ev_timer_stop(manager->loop, &c->deadline);
        if (via_helper) {
                char vmm_comm[ESCAPE_SIZE(PEER_COMM_MAX)];

                connection_read_comm(c->vmm_pid, vmm_comm, sizeof(vmm_comm));
                log_info("VM %s attached: pid %d (%s) through the ptrace helper pid %d (%s), uid %u, %u label(s).",
                         h->name, (int) c->vmm_pid, vmm_comm, (int) c->peer.pid, c->peer_comm, (unsigned) c->peer.uid,
                         h->n_labels);
        } else if (c->vmm_ns_pid != c->peer.pid)
                log_info("VM %s attached: pid %d (%d in its PID namespace) (%s), uid %u, %u label(s).", h->name,
                         (int) c->peer.pid, (int) c->vmm_ns_pid, c->peer_comm, (unsigned) c->peer.uid, h->n_labels);
        else
                log_info("VM %s attached: pid %d (%s), uid %u, %u label(s).", h->name, (int) c->peer.pid,
                         c->peer_comm, (unsigned) c->peer.uid, h->n_labels);
        return connection_reply(c, m->request_id, 0, "attached as %s", h->name);
}

static int check_vcpu_fd(int fd, uint32_t claimed, char *why, size_t size) {
        char path[64], link[256];
        uint32_t index = UINT32_MAX;
        KvmFdKind kind;
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

static int handle_vcpu_attach(Connection *c, const AttachMsg *m, int *fd) {
        const AttachVcpuAttach *a = &m->vcpu_attach;
        Manager *manager = c->server->manager;
        char why[192];
        pid_t tid;
        int r;

        if (!c->vm)
                return connection_reply(c, m->request_id, ENOTCONN, "send HELLO before VCPU_ATTACH");
        r = check_vcpu_fd(*fd, a->vcpu, why, sizeof(why));
        if (r < 0)
                return connection_reply(c, m->request_id, -r, "vcpu %" PRIu32 " refused: %s", a->vcpu, why);
        if (vm_find_vcpu(c->vm, a->vcpu))
                return connection_reply(c, m->request_id, EEXIST, "vcpu %" PRIu32 " of %s is already attached", a->vcpu,
                             c->vm->name);
        if (c->vm->n_vcpus >= manager->config->max_vcpus_per_vm)
                return connection_reply(c, m->request_id, EDQUOT, "%s already has %u vcpus attached (MaxVcpusPerVM=)",
                             c->vm->name, manager->config->max_vcpus_per_vm);
        r = resolve_vmm_tid(c, a->tid, &tid);
        if (r < 0)
                return connection_reply(c, m->request_id, ESRCH, "thread %d is not a thread of the VMM (pid %d)", (int) a->tid,
                             (int) c->vmm_ns_pid);
        r = peer_holds_fd(c->vmm_pid, *fd);
        if (r == -EXDEV)
                return connection_reply(c, m->request_id, EXDEV, "vcpu %" PRIu32 " refused: the fd is a vcpu of another process",
                             a->vcpu);
        if (r < 0 && !c->kcmp_skipped) {
                /* Once per VM: the operator should know this check is off for it. */
                c->kcmp_skipped = true;
                log_notice_errno(r, "VM %s: cannot check with kcmp(2) that its vcpu fds are held by pid %d (uid %u): %m. "
                                 "serrord needs CAP_SYS_PTRACE for a VMM of another uid; the fd's type, vcpu index "
                                 "and thread are still checked.",
                                 c->vm->name, (int) c->vmm_pid, (unsigned) c->peer.uid);
        }
        r = signal_caught(c->vmm_pid, a->kick_signal);
        if (r == 0)
                return connection_reply(c, m->request_id, EINVAL,
                             "the VMM does not handle signal %d (%s): a kick would kill it; install a handler first",
                             a->kick_signal, strsignal(a->kick_signal));

        r = vm_add_vcpu(c->vm, a->vcpu, tid, a->kick_signal, *fd);
        if (r < 0)
                return connection_reply(c, m->request_id, -r, "serrord could not attach vcpu %" PRIu32 ": %s", a->vcpu,
                             strerror(-r));
        *fd = -EBADF; /* the vcpu owns it now */
        manager->counters[COUNTER_ATTACH_ACCEPTED]++;
        log_debug("VM %s: vcpu %" PRIu32 " attached (thread %d, kick signal %d).", c->vm->name, a->vcpu, (int) a->tid,
                  a->kick_signal);
        return connection_reply(c, m->request_id, 0, "vcpu %" PRIu32 " attached", a->vcpu);
}

static int handle_vcpu_detach(Connection *c, const AttachMsg *m) {
        int r;

        if (!c->vm)
                return connection_reply(c, m->request_id, ENOTCONN, "send HELLO before VCPU_DETACH");
        r = vm_remove_vcpu(c->vm, m->vcpu_detach.vcpu);
        if (r == -ENOENT)
                return connection_reply(c, m->request_id, ENOENT, "vcpu %" PRIu32 " is not attached", m->vcpu_detach.vcpu);
        log_debug("VM %s: vcpu %" PRIu32 " detached.", c->vm->name, m->vcpu_detach.vcpu);
        return connection_reply(c, m->request_id, 0, "vcpu %" PRIu32 " detached", m->vcpu_detach.vcpu);
}

int attach_handle_datagram(Connection *c, const uint8_t *buf, size_t len, int flags, int *fds, unsigned n_fds) {
        Manager *manager = c->server->manager;
        serror_diag diag = {};
        AttachHeader h = {};
        AttachMsg m;
        int r;

        r = attach_header_decode(buf, len, &h, &diag);
        if (r == -EMSGSIZE) {
                manager->counters[COUNTER_ATTACH_REFUSED]++;
                return connection_reply(c, 0, EMSGSIZE, "%s", diag.message);
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
                return connection_reply(c, h.request_id, EMSGSIZE, "message larger than %u bytes refused", ATTACH_MSG_SIZE_MAX);
        }
        if (flags & MSG_CTRUNC) {
                manager->counters[COUNTER_ATTACH_REFUSED]++;
                return connection_reply(c, h.request_id, EBADF, "too many fds: a %s carries %u",
                             attach_msg_type_to_string(h.type) ?: "message", attach_msg_type_fds(h.type));
        }

        r = attach_msg_decode(buf, len, &m, &diag);
        if (r < 0) {
                manager->counters[COUNTER_ATTACH_REFUSED]++;
                if (r == -EPROTO)
                        return -EPROTO;
                return connection_reply(c, h.request_id, -r, "%s", diag.message);
        }
        if (n_fds != attach_msg_type_fds(m.type)) {
                manager->counters[COUNTER_ATTACH_REFUSED]++;
                return connection_reply(c, m.request_id, EBADF, "%s carries %u fd(s), got %u", attach_msg_type_to_string(m.type),
                             attach_msg_type_fds(m.type), n_fds);
        }
        if (!(attach_msg_type_senders(m.type) & ATTACH_SENDER_AGENT)) {
                manager->counters[COUNTER_ATTACH_REFUSED]++;
                return connection_reply(c, m.request_id, EBADMSG, "%s is sent by serrord, not by agents",
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
                (void) connection_reply(c, m.request_id, 0, "bye");
                return -ESHUTDOWN;
        case ATTACH_MSG_REPLY:
        case ATTACH_MSG_INJECT_RESULT:
                if (!c->vm) {
                        log_debug("pid %d sent %s before HELLO; ignored.", (int) c->peer.pid,
                                  attach_msg_type_to_string(m.type));
                        return 0;
                }
                return injection_handle_answer(manager, c->vm, &m);
        case ATTACH_MSG_REACTION:
                /* A notice: never answered, whatever it says. */
                if (c->vm)
                        reaction_handle_notice(manager, c->vm, &m.reaction);
                return 0;
        default:
                return connection_reply(c, m.request_id, EOPNOTSUPP, "message type %u is not handled", (unsigned) m.type);
        }
}
