/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test client for serrord's attach socket: real KVM fds and every bad input the protocol must survive. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach-proto.h"
#include "macro.h"

/* Usage: attach-client SOCKET SCENARIO [NAME] [ARG]
 * Prints one line per answer: "<request-id> <status> <errno name> <message>",
 * or "closed" when serrord closed the connection. Exit 0 unless the client
 * itself failed. ATTACH_CLIENT_COMM sets the client's command name.
 * Scenario ptrace-hello speaks for pid ARG ("self": its own) as the
 * attach-by-pid helper does, holds the connection until stdin closes, and
 * then prints whatever else serrord sent meanwhile (a refusal must be the
 * last word on a HELLO). */

static int sock = -1;
static uint64_t next_id = 1;
static int kvm_fd = -1, vm_fd = -1;

static void on_kick(int sig) {
}

static void die(const char *what) {
        fprintf(stderr, "attach-client: %s: %s\n", what, strerror(errno));
        exit(1);
}

static void connect_to(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (sock < 0 || connect(sock, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                die("connect");
}

static void send_raw(const void *buf, size_t len, const int *fds, unsigned n_fds) {
        union {
                struct cmsghdr align;
                uint8_t space[CMSG_SPACE(sizeof(int) * 253)];
        } control = {};
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (n_fds > 0) {
                struct cmsghdr *cm;
                mh.msg_control = &control;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
        }
        /* A daemon that refused us may already have closed: read its notice anyway. */
        if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno != EPIPE && errno != ECONNRESET)
                die("sendmsg");
}

static size_t encode(const AttachMsg *m, uint8_t *buf) {
        serror_diag diag = {};
        size_t len;

        if (attach_msg_encode(m, buf, ATTACH_MSG_SIZE_MAX, &len, &diag) < 0) {
                fprintf(stderr, "attach-client: encode: %s\n", diag.message);
                exit(1);
        }
        return len;
}

static void send_msg(AttachMsg *m, const int *fds, unsigned n_fds) {
        uint8_t buf[ATTACH_MSG_SIZE_MAX];

        m->request_id = next_id++;
        send_raw(buf, encode(m, buf), fds, n_fds);
}

/* Print the next answer; returns its status, or -1 when the connection closed. */
static int expect_reply(void) {
        uint8_t buf[ATTACH_MSG_SIZE_MAX];
        struct pollfd p = { .fd = sock, .events = POLLIN };
        serror_diag diag = {};
        AttachMsg m;
        ssize_t n;

        if (poll(&p, 1, 5000) <= 0) {
                printf("timeout\n");
                return -1;
        }
        n = recv(sock, buf, sizeof(buf), 0);
        if (n < 0 && errno == ECONNRESET)
                /* A pending reset is reported before queued records (AF_UNIX). */
                n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
        if (n <= 0) {
                printf("closed\n");
                return -1;
        }
        if (attach_msg_decode(buf, (size_t) n, &m, &diag) < 0) {
                printf("garbage %s\n", diag.message);
                return -1;
        }
        if (m.type != ATTACH_MSG_REPLY) {
                /* This client never answers requests: it plays a wedged agent. */
                printf("%s %llu (not answered)\n", attach_msg_type_to_string(m.type), (unsigned long long) m.request_id);
                fflush(stdout);
                return 0;
        }
        printf("%llu %d %s %s\n", (unsigned long long) m.request_id, m.reply.status,
               m.reply.status ? strerrorname_np(m.reply.status) : "OK", m.reply.message);
        fflush(stdout);
        return m.reply.status;
}

static void hello(const char *name) {
        AttachMsg m = { .type = ATTACH_MSG_HELLO };

        m.hello.vmm_pid = getpid();
        m.hello.arch = attach_arch_native();
        snprintf(m.hello.name, sizeof(m.hello.name), "%s", name);
        m.hello.n_labels = 1;
        strcpy(m.hello.labels[0].key, "role");
        strcpy(m.hello.labels[0].value, "test-client");
        send_msg(&m, NULL, 0);
        expect_reply();
}

static int make_vcpu(unsigned index) {
        int fd;

        if (kvm_fd < 0) {
                kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
                if (kvm_fd < 0)
                        die("open /dev/kvm");
                vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
                if (vm_fd < 0)
                        die("KVM_CREATE_VM");
        }
        fd = ioctl(vm_fd, KVM_CREATE_VCPU, index);
        if (fd < 0)
                die("KVM_CREATE_VCPU");
        return fd;
}

/* A plain fd that needs no KVM. */
static int make_memfd(void) {
        int fd = memfd_create("kvm-vcpu:0", MFD_CLOEXEC);

        if (fd < 0)
                die("memfd_create");
        return fd;
}

static void vcpu_attach(uint32_t index, pid_t tid, int sig, int fd) {
        AttachMsg m = { .type = ATTACH_MSG_VCPU_ATTACH };

        m.vcpu_attach.vcpu = index;
        m.vcpu_attach.tid = tid;
        m.vcpu_attach.kick_signal = sig;
        send_msg(&m, &fd, 1);
        expect_reply();
}

static void header_only(uint16_t type, uint32_t payload, size_t total) {
        uint8_t buf[ATTACH_MSG_SIZE_MAX * 2] = {};
        uint32_t magic = ATTACH_PROTO_MAGIC, id = (uint32_t) next_id++;
        uint16_t version = ATTACH_PROTO_VERSION;

        /* Layout per doc/attach-protocol.md: magic, version, type, payload size, reserved, request id (LE). */
        memcpy(buf, &magic, 4);
        memcpy(buf + 4, &version, 2);
        memcpy(buf + 6, &type, 2);
        memcpy(buf + 8, &payload, 4);
        memcpy(buf + 16, &id, 4);
        send_raw(buf, total, NULL, 0);
        expect_reply();
}

int main(int argc, char *argv[]) {
        const char *scenario, *name;
        struct sigaction sa = { .sa_handler = on_kick };
        pid_t tid = gettid();

        if (argc < 3) {
                fprintf(stderr, "usage: attach-client SOCKET SCENARIO [NAME]\n");
                return 2;
        }
        scenario = argv[2];
        name = argc > 3 ? argv[3] : "client-vm";
        sigaction(SIGUSR1, &sa, NULL);
        /* A command name of the test's choosing, as any peer may set its own. */
        if (getenv("ATTACH_CLIENT_COMM"))
                (void) prctl(PR_SET_NAME, getenv("ATTACH_CLIENT_COMM"));
        connect_to(argv[1]);

        if (streq(scenario, "hello")) {
                hello(name);
        } else if (streq(scenario, "attach")) {
                /* Attach N real vcpus and hold them until stdin closes. */
                unsigned n = argc > 4 ? (unsigned) atoi(argv[4]) : 1;
                char c;
                struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = -1, .events = POLLIN } };
                hello(name);
                for (unsigned i = 0; i < n; i++)
                        vcpu_attach(i, tid, SIGUSR1, make_vcpu(i));
                p[1].fd = sock;
                /* Hold until stdin closes; print whatever serrord sends meanwhile. */
                while (poll(p, 2, -1) > 0) {
                        if (p[0].revents && read(STDIN_FILENO, &c, 1) <= 0)
                                break;
                        if (p[1].revents && expect_reply() < 0)
                                break;
                }
        } else if (streq(scenario, "attach-before-hello")) {
                vcpu_attach(0, tid, SIGUSR1, make_memfd());
        } else if (streq(scenario, "hello-twice")) {
                hello(name);
                hello(name);
        } else if (streq(scenario, "regular-file-fd")) {
                hello(name);
                vcpu_attach(0, tid, SIGUSR1, open("/etc/passwd", O_RDONLY | O_CLOEXEC));
        } else if (streq(scenario, "memfd-fd")) {
                /* A memfd named like a vcpu: its link text must not pass for one. */
                hello(name);
                vcpu_attach(0, tid, SIGUSR1, make_memfd());
        } else if (streq(scenario, "no-fd")) {
                AttachMsg m = { .type = ATTACH_MSG_VCPU_ATTACH };
                hello(name);
                m.vcpu_attach.tid = tid;
                m.vcpu_attach.kick_signal = SIGUSR1;
                send_msg(&m, NULL, 0);
                expect_reply();
        } else if (streq(scenario, "socket-fd")) {
                int sv[2];
                hello(name);
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                        die("socketpair");
                vcpu_attach(0, tid, SIGUSR1, sv[0]);
        } else if (streq(scenario, "kvm-fd")) {
                hello(name);
                make_vcpu(0);
                vcpu_attach(0, tid, SIGUSR1, kvm_fd);
        } else if (streq(scenario, "vm-fd")) {
                hello(name);
                make_vcpu(0);
                vcpu_attach(0, tid, SIGUSR1, vm_fd);
        } else if (streq(scenario, "wrong-index")) {
                hello(name);
                vcpu_attach(3, tid, SIGUSR1, make_vcpu(0));
        } else if (streq(scenario, "same-vcpu-twice")) {
                int fd = make_vcpu(0);
                hello(name);
                vcpu_attach(0, tid, SIGUSR1, fd);
                vcpu_attach(0, tid, SIGUSR1, fd);
        } else if (streq(scenario, "uncaught-signal")) {
                hello(name);
                vcpu_attach(0, tid, SIGUSR2, make_vcpu(0));
        } else if (streq(scenario, "foreign-thread")) {
                hello(name);
                vcpu_attach(0, 1, SIGUSR1, make_vcpu(0));
        } else if (streq(scenario, "foreign-vcpu")) {
                /* A child that shares our connection sends a vcpu only it holds:
                 * serrord's peer (us) never had that fd. */
                pid_t child;
                hello(name);
                child = fork();
                if (child < 0)
                        die("fork");
                if (child == 0) {
                        AttachMsg m = { .type = ATTACH_MSG_VCPU_ATTACH };
                        int fd = make_vcpu(0);
                        m.vcpu_attach.tid = getppid();
                        m.vcpu_attach.kick_signal = SIGUSR1;
                        send_msg(&m, &fd, 1);
                        _exit(0);
                }
                waitpid(child, NULL, 0);
                expect_reply();
        } else if (streq(scenario, "many-fds")) {
                int fds[200];
                AttachMsg m = { .type = ATTACH_MSG_VCPU_ATTACH };
                uint8_t buf[ATTACH_MSG_SIZE_MAX];
                hello(name);
                for (unsigned i = 0; i < ELEMENTSOF(fds); i++)
                        fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
                m.request_id = next_id++;
                m.vcpu_attach.tid = tid;
                m.vcpu_attach.kick_signal = SIGUSR1;
                send_raw(buf, encode(&m, buf), fds, ELEMENTSOF(fds));
                expect_reply();
        } else if (streq(scenario, "fd-on-hello")) {
                AttachMsg m = { .type = ATTACH_MSG_HELLO };
                uint8_t buf[ATTACH_MSG_SIZE_MAX];
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                m.request_id = next_id++;
                m.hello.vmm_pid = getpid();
                m.hello.arch = attach_arch_native();
                strcpy(m.hello.name, name);
                send_raw(buf, encode(&m, buf), &fd, 1);
                expect_reply();
        } else if (streq(scenario, "oversized")) {
                hello(name);
                header_only(ATTACH_MSG_VCPU_DETACH, ATTACH_MSG_SIZE_MAX + 100 - ATTACH_HEADER_SIZE,
                            ATTACH_MSG_SIZE_MAX + 100);
        } else if (streq(scenario, "truncated")) {
                /* A header that promises a 4-byte VCPU_DETACH payload, and 2 bytes of it. */
                hello(name);
                header_only(ATTACH_MSG_VCPU_DETACH, 4, ATTACH_HEADER_SIZE + 2);
        } else if (streq(scenario, "unknown-type")) {
                hello(name);
                header_only(99, 0, ATTACH_HEADER_SIZE);
        } else if (streq(scenario, "inject-from-agent")) {
                AttachMsg m = { .type = ATTACH_MSG_INJECT };
                hello(name);
                m.inject.mode = SERROR_MODE_MERGE;
                m.inject.timeout_ns = 1000000;
                send_msg(&m, NULL, 0);
                expect_reply();
        } else if (streq(scenario, "short")) {
                uint8_t junk[10] = { 'S', 'E', 'R', 'A' };
                send_raw(junk, sizeof(junk), NULL, 0);
                expect_reply();
                /* The connection stays usable after a short record. */
                hello(name);
        } else if (streq(scenario, "bad-magic")) {
                uint8_t junk[64];
                memset(junk, 'x', sizeof(junk));
                send_raw(junk, sizeof(junk), NULL, 0);
                expect_reply();
                expect_reply();
        } else if (streq(scenario, "detach-unknown")) {
                AttachMsg m = { .type = ATTACH_MSG_VCPU_DETACH };
                hello(name);
                m.vcpu_detach.vcpu = 7;
                send_msg(&m, NULL, 0);
                expect_reply();
        } else if (streq(scenario, "bye-empty")) {
                AttachMsg m = { .type = ATTACH_MSG_BYE };
                hello(name);
                send_msg(&m, NULL, 0);
                expect_reply();
                expect_reply();
        } else if (streq(scenario, "hello-raw-name")) {
                /* A HELLO whose name the encoder would refuse (NAME, at most 64
                 * bytes): encoded with a placeholder of the same length, which
                 * is then overwritten in the record. */
                AttachMsg m = { .type = ATTACH_MSG_HELLO };
                uint8_t buf[ATTACH_MSG_SIZE_MAX];
                size_t len, n = strlen(name);
                uint8_t *at;

                m.request_id = next_id++;
                m.hello.vmm_pid = getpid();
                m.hello.arch = attach_arch_native();
                memset(m.hello.name, 'p', n < ATTACH_NAME_MAX ? n : ATTACH_NAME_MAX);
                len = encode(&m, buf);
                at = memmem(buf, len, m.hello.name, strlen(m.hello.name));
                if (!at || n > ATTACH_NAME_MAX) {
                        fprintf(stderr, "attach-client: cannot place the name\n");
                        return 1;
                }
                memcpy(at, name, n);
                send_raw(buf, len, NULL, 0);
                expect_reply();
        } else if (streq(scenario, "hello-no-read")) {
                /* An agent that stops reading: attaches N vcpus (argv[4], real
                 * ones), then sends M requests (argv[5]) whose answers it never
                 * reads, enough to fill serrord's side of the socket, and holds
                 * until stdin closes. */
                unsigned n = argc > 4 ? (unsigned) atoi(argv[4]) : 0;
                unsigned unread = argc > 5 ? (unsigned) atoi(argv[5]) : 40;
                char c;

                hello(name);
                for (unsigned i = 0; i < n; i++)
                        vcpu_attach(i, tid, SIGUSR1, make_vcpu(i));
                for (unsigned i = 0; i < unread; i++) {
                        AttachMsg m = { .type = ATTACH_MSG_VCPU_DETACH };
                        m.vcpu_detach.vcpu = 1000 + i;
                        send_msg(&m, NULL, 0);
                }
                printf("holding\n");
                fflush(stdout);
                while (read(STDIN_FILENO, &c, 1) > 0)
                        ;
        } else if (streq(scenario, "silent")) {
                /* Connects and says nothing: prints serrord's notice and how
                 * long it took serrord to close the connection. */
                struct timespec t0, t1;

                clock_gettime(CLOCK_MONOTONIC, &t0);
                while (expect_reply() >= 0)
                        ;
                clock_gettime(CLOCK_MONOTONIC, &t1);
                printf("closed after %lld ms\n",
                       (long long) ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
        } else if (streq(scenario, "zero-length")) {
                /* A 0-byte record after HELLO: recvmsg() cannot tell it from the end. */
                hello(name);
                send_raw("", 0, NULL, 0);
                expect_reply();
        } else if (streq(scenario, "ptrace-hello")) {
                AttachMsg m = { .type = ATTACH_MSG_HELLO };
                char c;

                m.hello.vmm_pid = argc > 4 && !streq(argv[4], "self") ? atoi(argv[4]) : getpid();
                m.hello.arch = attach_arch_native();
                m.hello.capabilities = ATTACH_CAP_PTRACE | ATTACH_CAP_AGENT_THREAD;
                snprintf(m.hello.name, sizeof(m.hello.name), "%s", name);
                send_msg(&m, NULL, 0);
                (void) expect_reply();
                while (read(STDIN_FILENO, &c, 1) > 0)
                        ;
                for (;;) {
                        struct pollfd p = { .fd = sock, .events = POLLIN };

                        if (poll(&p, 1, 0) <= 0 || expect_reply() < 0)
                                break;
                }
        } else if (streq(scenario, "bye")) {
                AttachMsg m = { .type = ATTACH_MSG_BYE };
                hello(name);
                vcpu_attach(0, tid, SIGUSR1, make_vcpu(0));
                send_msg(&m, NULL, 0);
                expect_reply();
                expect_reply();
        } else {
                fprintf(stderr, "attach-client: unknown scenario '%s'\n", scenario);
                return 2;
        }
        return 0;
}
