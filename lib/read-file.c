/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "macro.h"
#include "read-file.h"

/* Open and fstat() path; a directory is refused here, so both readers say the same. */
static int open_stat(const char *path, int flags, int *ret_fd, struct stat *st) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | flags);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, st) < 0)
                return negative_errno();
        if (S_ISDIR(st->st_mode))
                return -EISDIR;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int read_regular_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        r = open_stat(path, O_NONBLOCK, &fd, &st);
        if (r < 0)
                return r;
        /* /dev/null stands for an empty file, as people write --config=/dev/null. */
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
                st.st_size = 0;
        else if (!S_ISREG(st.st_mode))
                return READ_FILE_NOT_REGULAR;
        if ((unsigned long long) st.st_size > max)
                return -EFBIG;
        return read_fd_whole(fd, max, ret, ret_size);
}

int read_named_file(const char *path, size_t max, char **ret, size_t *ret_size, size_t *ret_file_size) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        *ret_file_size = 0;
        r = open_stat(path, 0, &fd, &st);
        if (r < 0)
                return r;
        if (S_ISREG(st.st_mode) && (unsigned long long) st.st_size > max) {
                *ret_file_size = (size_t) st.st_size;
                return -EFBIG;
        }
        return read_fd_whole(fd, max, ret, ret_size);
}

int read_fd_whole(int fd, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;

        /* One byte more than allowed tells an over-long input from a full one. */
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + size, max + 1 - size);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

const char *read_file_strerror(int r) {
        if (r == READ_FILE_NOT_REGULAR)
                return "not a regular file";
        return strerror(-r);
}
