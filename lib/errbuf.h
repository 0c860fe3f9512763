/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Library code returns -errno and, where the caller wants to know why, a
 * one-line reason in a caller's buffer (char *err, size_t err_len). This is
 * the one place that fills it.
 */
#ifndef VEIL_LIB_ERRBUF_H
#define VEIL_LIB_ERRBUF_H

#include <stddef.h>

/* Formats into err (when err is not NULL and err_len > 0) and returns r. */
int errbuf_set(char *err, size_t err_len, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
