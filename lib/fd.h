/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VEIL_LIB_FD_H
#define VEIL_LIB_FD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads until len bytes or EOF; returns the count (short only at EOF) or -errno. */
ssize_t fd_read_full(int fd, void *buf, size_t len);
/* Writes all len bytes; 0 or -errno. */
int fd_write_full(int fd, const void *buf, size_t len);
int fd_set_nonblock(int fd, bool on);
int fd_set_cloexec(int fd, bool on);
/* Closes every fd >= 3 not in keep[] (PID 1 and workers start clean). */
int fd_close_stray(const int *keep, size_t n_keep);
/*
 * Reads a whole file of at most max bytes into a malloc'd, NUL-terminated
 * buffer. -EFBIG when it is larger: nothing from outside is read unbounded.
 */
int fd_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
int fd_read_all(int fd, size_t max, char **ret, size_t *ret_len);
/* Writes data to path atomically (temp file, fsync, rename) with mode. */
int fd_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

#endif
