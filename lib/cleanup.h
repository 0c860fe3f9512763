/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Scope-bound cleanup, systemd style. Ownership moves are explicit:
 * return TAKE_PTR(p) / TAKE_FD(fd). Don't mix these with goto unwinding in
 * one function.
 */
#ifndef VEIL_LIB_CLEANUP_H
#define VEIL_LIB_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAKE_PTR(p)                                  \
	({                                           \
		__typeof__(p) *_pp = &(p);           \
		__typeof__(p) _v = *_pp;             \
		*_pp = NULL;                         \
		_v;                                  \
	})

#define TAKE_FD(fd)                                  \
	({                                           \
		int *_pfd = &(fd);                   \
		int _v = *_pfd;                      \
		*_pfd = -1;                          \
		_v;                                  \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	/* Never retried on EINTR: on Linux the fd is gone either way. */
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* For buffers that held secrets: the caller sets the size it must wipe. */
struct wipe_buf {
	void *p;
	size_t len;
};

static inline void wipe_bufp(struct wipe_buf *b)
{
	if (b->p) {
		explicit_bzero(b->p, b->len);
		free(b->p);
	}
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_wipe_ _cleanup_(wipe_bufp)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
