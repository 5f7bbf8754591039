/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attach socket's transport: send queue, sends with an fd, receives that collect fds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "list.h"
#include "attach-socket.h"
#include "macro.h"

struct AttachSendqItem {
        AttachSendqItem *next;
        size_t len;
        uint8_t data[];
};

int attach_sendq_push(AttachSendq *q, const uint8_t *data, size_t len) {
        AttachSendqItem *item;

        if (q->n >= q->max)
                return -ENOBUFS;
        item = malloc(sizeof(*item) + len);
        if (!item)
                return -ENOMEM;
        item->len = len;
        memcpy(item->data, data, len);
        QUEUE_APPEND(q->head, q->tail, item);
        q->n++;
        return 0;
}

static void sendq_pop(AttachSendq *q) {
        AttachSendqItem *item = q->head;

        q->head = item->next;
        if (!q->head)
                q->tail = NULL;
        q->n--;
        free(item);
}

int attach_sendq_flush(AttachSendq *q, int fd) {
        while (q->head) {
                int r = attach_socket_send(fd, q->head->data, q->head->len, -EBADF);

                if (r < 0)
                        return r;
                sendq_pop(q);
        }
        return 0;
}

void attach_sendq_clear(AttachSendq *q) {
        while (q->head)
                sendq_pop(q);
}

int attach_socket_send(int fd, const uint8_t *data, size_t len, int pass_fd) {
        union {
                struct cmsghdr align;
                uint8_t buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (pass_fd >= 0) {
                struct cmsghdr *c;

                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        }
        do
                /* MSG_NOSIGNAL: a closed peer must never SIGPIPE the VMM or serrord. */
                n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno(); /* EWOULDBLOCK is EAGAIN on Linux */
        return 0;
}

static void close_fd(int fd) {
        int saved = errno;

        (void) close(fd);
        errno = saved;
}

int attach_socket_receive(int fd, uint8_t *buf, size_t size, AttachReceived *ret) {
        union {
                struct cmsghdr align;
                uint8_t space[CMSG_SPACE(sizeof(int) * ATTACH_FDS_MAX)];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = size };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof(control),
        };
        AttachReceived rec = {};
        ssize_t n;

        /* MSG_TRUNC: the return value is the record's real length. */
        do
                n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EAGAIN ? 0 : negative_errno();

        /* Every fd first, whatever happens next, so that none can leak. */
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0)) {
                        rec.bad_control = true;
                        continue;
                }
                for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                        int passed;

                        memcpy(&passed, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                        if (rec.n_fds < ATTACH_FDS_MAX)
                                rec.fds[rec.n_fds++] = passed;
                        else {
                                close_fd(passed);
                                rec.fds_dropped = true;
                        }
                }
        }
        /* The kernel dropped what did not fit in the control buffer. */
        if (mh.msg_flags & MSG_CTRUNC)
                rec.fds_dropped = true;
        if (rec.bad_control || rec.fds_dropped) {
                for (unsigned i = 0; i < rec.n_fds; i++)
                        close_fd(rec.fds[i]);
                rec.n_fds = 0;
        }
        if (n == 0 && mh.msg_controllen == 0)
                return -ECONNRESET;
        rec.len = (size_t) n;
        rec.truncated = (size_t) n > size || (mh.msg_flags & MSG_TRUNC);
        *ret = rec;
        return 1;
}

void attach_socket_drain(int fd, unsigned max) {
        for (unsigned i = 0; i < max; i++) {
                uint8_t byte;
                AttachReceived rec;

                if (attach_socket_receive(fd, &byte, sizeof(byte), &rec) <= 0)
                        return;
                for (unsigned k = 0; k < rec.n_fds; k++)
                        close_fd(rec.fds[k]);
        }
}
