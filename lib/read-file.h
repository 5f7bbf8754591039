/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a whole configuration or policy file that only its administrator should have put there. */
#pragma once

#include <errno.h>
#include <stddef.h>

/*
 * What read_regular_file() returns for anything that is not a regular file
 * (a FIFO, a socket, a device): EMEDIUMTYPE, because no open() or read() of a
 * regular file yields it, so callers can name the problem exactly. /dev/null
 * reads as an empty file.
 */
#define READ_FILE_NOT_REGULAR (-EMEDIUMTYPE)

/*
 * Reads PATH whole into a NUL-terminated buffer (*ret, freed by the caller)
 * of at most max bytes. The file is opened without blocking and checked with
 * fstat() before anything is read: a FIFO or a symlink to one would otherwise
 * block the opener until a writer came. Returns 0; -ENOENT and the like from
 * open(); -EISDIR; READ_FILE_NOT_REGULAR; -EFBIG when larger than max.
 */
int read_regular_file(const char *path, size_t max, char **ret, size_t *ret_size);

/* The same for a file a user named on the command line: a pipe or a device
 * (/dev/stdin) is read too, and may block as the user expects. -EFBIG with
 * *ret_file_size the regular file's size, or 0 when a stream ran past max. */
int read_named_file(const char *path, size_t max, char **ret, size_t *ret_size, size_t *ret_file_size);

/* Reads fd to its end (a pipe too) into a NUL-terminated buffer of at most
 * max bytes: 0, -EFBIG past max, or -errno. */
int read_fd_whole(int fd, size_t max, char **ret, size_t *ret_size);

/* "not a regular file" for READ_FILE_NOT_REGULAR, strerror() otherwise. */
const char *read_file_strerror(int r);
