/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attach socket's transport, the same at both ends: a bounded send queue of whole records, one send with an fd, and one receive that takes every fd a record carries. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attach-proto.h"

typedef struct AttachSendqItem AttachSendqItem;

/* Encoded records waiting for a SOCK_SEQPACKET socket, in order. */
typedef struct AttachSendq {
        AttachSendqItem *head, *tail;
        unsigned n;
        unsigned max; /* a peer that leaves this many unread is not reading at all */
} AttachSendq;

static inline void attach_sendq_init(AttachSendq *q, unsigned max) {
        *q = (AttachSendq) { .max = max };
}
/* Copy one record in: 0, -ENOBUFS when max are already waiting, or -ENOMEM. */
int attach_sendq_push(AttachSendq *q, const uint8_t *data, size_t len);
/* Send what the socket takes, oldest first: 0 when the queue is empty,
 * -EAGAIN when the socket is full (the rest waits), another -errno when
 * the peer is gone. */
int attach_sendq_flush(AttachSendq *q, int fd);
void attach_sendq_clear(AttachSendq *q);
static inline bool attach_sendq_is_empty(const AttachSendq *q) {
        return !q->head;
}

/* One record, with pass_fd as SCM_RIGHTS unless it is negative; never
 * raises SIGPIPE. 0, -EAGAIN when the socket is full, or another -errno. */
int attach_socket_send(int fd, const uint8_t *data, size_t len, int pass_fd);

typedef struct AttachReceived {
        size_t len;          /* the record's real length: above the buffer's size when truncated */
        bool truncated;      /* longer than the buffer; the buffer holds its head */
        int fds[ATTACH_FDS_MAX];
        unsigned n_fds;      /* the caller owns these */
        bool fds_dropped;    /* more fds came than ATTACH_FDS_MAX (all of them are closed then) */
        bool bad_control;    /* control data other than SCM_RIGHTS (every fd closed) */
} AttachReceived;

/* One recvmsg() without blocking. Every fd the record carried is either in
 * ret->fds or already closed, so none can leak. Returns 1 with *ret, 0 when
 * nothing waits, -ECONNRESET when the peer closed (a 0-byte record without
 * control data: recvmsg() cannot tell the two apart), or another -errno. */
int attach_socket_receive(int fd, uint8_t *buf, size_t size, AttachReceived *ret);

/* Read and discard up to max waiting records, closing the fds they carry:
 * before a socket is closed, so that no fd in flight stays open. */
void attach_socket_drain(int fd, unsigned max);
