/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One logger for every veil program. Sinks: stderr (default), /dev/kmsg with
 * syslog priorities, the console. Every call preserves errno, so "%m" and the
 * caller's later checks see the errno of the failure being reported.
 * Library code (keyring/, fhe/, ebpf/, attest/) logs at debug only.
 */
#ifndef VEIL_LIB_LOG_H
#define VEIL_LIB_LOG_H

#include <stdarg.h>
#include <syslog.h>

enum log_sink {
	LOG_SINK_STDERR = 1 << 0,
	LOG_SINK_KMSG = 1 << 1,
	LOG_SINK_CONSOLE = 1 << 2,
};

/* "veil-init" gives lines "veil-init: message". */
void log_set_prefix(const char *prefix);
void log_set_level(int level);	/* LOG_ERR .. LOG_DEBUG */
int log_get_level(void);
/* Opens the sinks not yet open; returns 0 or -errno of the first failure. */
int log_set_sinks(unsigned int sinks);
/* Writes to this fd instead of stderr (tests). -1 restores stderr. */
void log_set_stderr_fd(int fd);
void log_close(void);

int log_internal(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int log_internalv(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Each returns -errno as it was at the call, for "return log_err(...)". */
#define log_err(...) log_internal(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_internal(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, __VA_ARGS__)

#endif
