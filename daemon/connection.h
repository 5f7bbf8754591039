/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One agent connection on the attach socket: receive, fds, the send queue, limits and the VMM's lifetime.
 * What each message means is attach-handlers.c's. */
#pragma once

#include <ev.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "attach-proto.h"
#include "attach-socket.h"
#include "escape.h"
#include "macro.h"

typedef struct AttachServer AttachServer;
typedef struct VM VM;

/* /proc/PID/comm holds at most 15 bytes (the kernel's TASK_COMM_LEN is 16). */
#define PEER_COMM_MAX 16

typedef struct Connection {
        AttachServer *server;
        int fd;
        ev_io io;
        int pidfd; /* the peer process: readable once it has exited */
        ev_io pidfd_io;
        struct ucred peer;
        char peer_comm[ESCAPE_SIZE(PEER_COMM_MAX)]; /* escaped */

        VM *vm; /* set by an accepted HELLO; owned */
        pid_t vmm_pid;    /* the VMM as serrord sees it: the peer, or the process a ptrace helper speaks for */
        pid_t vmm_ns_pid; /* the VMM's pid in its own PID namespace (vmm_pid outside containers and for a helper) */
        bool via_helper;  /* HELLO had capability PTRACE: the peer is serror-attach-pid */

        AttachSendq out; /* answers and notices the socket has not taken yet */
        bool close_after_flush;
        const char *close_reason; /* why, once decided (static text) */
        /* Until HELLO: the HELLO deadline. Once closing with output left: how
         * long the agent gets to read its notice. */
        ev_timer deadline;
        bool kcmp_skipped; /* logged that the kcmp check cannot run for this VM */

        struct Connection *next, *prev;
} Connection;

/* Takes ownership of fd (even on failure). Checks credentials: a refused peer
 * gets a notice and is closed, and -EACCES is returned. */
int connection_new(AttachServer *s, int fd, Connection **ret);
/* Forgets the VM (closing its vcpu fds), stops watchers, closes the socket. */
Connection *connection_free(Connection *c, const char *reason);

/* Queue a message to the agent. 0 or a negative errno. */
int connection_send(Connection *c, const AttachMsg *m);
/* Queue a REPLY to request_id (0: a connection-level notice); error is an errno, 0 for success. */
/* A process's command name, escaped: it chose it (prctl(PR_SET_NAME)), and
 * it goes into log lines. "?" when it cannot be read. */
void connection_read_comm(pid_t pid, char *buf, size_t size);
int connection_reply(Connection *c, uint64_t request_id, int error, const char *fmt, ...) _printf_(4, 5);
/* Queue a connection-level notice (REPLY with request id 0). */
int connection_send_notice(Connection *c, int error, const char *message);
/* Send a connection-level notice (REPLY with request id 0) and end the
 * connection: its VM, if any, is forgotten and its fds closed at once; the
 * socket stays only while the notice waits for the agent, at most
 * CONNECTION_CLOSE_GRACE_S seconds. */
void connection_close_with_notice(Connection *c, int error, const char *message);
/* If the peer has already hung up, processes what it sent, frees c and
 * returns true: such a connection must not count against a limit. */
bool connection_reap_if_closed(Connection *c);

#define CONNECTION_CLOSE_GRACE_S 2.0
