// SPDX-License-Identifier: GPL-2.0-only
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static const char *log_prefix = "veil";
static int log_level = LOG_INFO;
static unsigned int log_sinks = LOG_SINK_STDERR;
static int kmsg_fd = -1;
static int console_fd = -1;
static int stderr_fd = STDERR_FILENO;

void log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

void log_set_level(int level)
{
	if (level < LOG_EMERG)
		level = LOG_EMERG;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

void log_set_stderr_fd(int fd)
{
	stderr_fd = fd >= 0 ? fd : STDERR_FILENO;
}

int log_set_sinks(unsigned int sinks)
{
	int r = 0;

	if ((sinks & LOG_SINK_KMSG) && kmsg_fd < 0) {
		kmsg_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (kmsg_fd < 0) {
			r = -errno;
			sinks &= ~LOG_SINK_KMSG;
		}
	}
	if ((sinks & LOG_SINK_CONSOLE) && console_fd < 0) {
		console_fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (console_fd < 0) {
			if (!r)
				r = -errno;
			sinks &= ~LOG_SINK_CONSOLE;
		}
	}
	log_sinks = sinks;
	return r;
}

void log_close(void)
{
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	if (console_fd >= 0)
		close(console_fd);
	kmsg_fd = console_fd = -1;
	log_sinks = LOG_SINK_STDERR;
}

static void write_all_ignoring(int fd, const struct iovec *iov, int n)
{
	/* A log line is best effort: a full console must not stall or kill PID 1. */
	(void)!writev(fd, iov, n);
}

int log_internalv(int level, const char *fmt, va_list ap)
{
	int saved = errno;
	char line[LOG_LINE_MAX], kprefix[8];
	int n;

	if (level > log_level)
		goto out;
	errno = saved;	/* for %m */
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	while (n > 0 && line[n - 1] == '\n')
		n--;

	struct iovec iov[4] = {
		{ (void *)log_prefix, strlen(log_prefix) },
		{ (void *)": ", 2 },
		{ line, (size_t)n },
		{ (void *)"\n", 1 },
	};
	if (log_sinks & LOG_SINK_STDERR)
		write_all_ignoring(stderr_fd, iov, 4);
	if ((log_sinks & LOG_SINK_CONSOLE) && console_fd >= 0)
		write_all_ignoring(console_fd, iov, 4);
	if ((log_sinks & LOG_SINK_KMSG) && kmsg_fd >= 0) {
		/* /dev/kmsg takes one record per write, "<prio>" first (facility user). */
		struct iovec kiov[5];
		int kn = snprintf(kprefix, sizeof(kprefix), "<%d>", LOG_USER | level);

		kiov[0] = (struct iovec){ kprefix, (size_t)kn };
		memcpy(&kiov[1], iov, sizeof(iov));
		write_all_ignoring(kmsg_fd, kiov, 5);
	}
out:
	errno = saved;
	return -saved;
}

int log_internal(int level, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = log_internalv(level, fmt, ap);
	va_end(ap);
	return r;
}
