// SPDX-License-Identifier: GPL-2.0-only
#include "tests/vm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fd.h"
#include "tests/harness.h"

const char *vm_path(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", harness_builddir(), rel);
	return buf;
}

const char *vm_src_path(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", harness_srcdir(), rel);
	return buf;
}

int vm_run(char **ret_out, const char *arg, ...)
{
	const char *args[VM_MAX_ARGS + 1];
	size_t n = 0;
	va_list ap;

	va_start(ap, arg);
	for (const char *a = arg; a; a = va_arg(ap, const char *)) {
		if (n >= VM_MAX_ARGS) {
			va_end(ap);
			return -E2BIG;
		}
		args[n++] = a;
	}
	va_end(ap);
	args[n] = NULL;
	return vm_runv(ret_out, args);
}

int vm_runv(char **ret_out, const char *const *args)
{
	const char *argv[VM_MAX_ARGS + 2];
	char runner[4096], *out = NULL;
	size_t n = 0, len = 0;
	int p[2], status, r;
	pid_t pid;

	argv[n++] = vm_src_path(runner, sizeof(runner), "tests/vm/run-in-guest");
	for (; *args; args++) {
		if (n > VM_MAX_ARGS)
			return -E2BIG;
		argv[n++] = *args;
	}
	argv[n] = NULL;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		setenv("VEIL_SRCDIR", harness_srcdir(), 1);
		setenv("VEIL_BUILDDIR", harness_builddir(), 1);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	close(p[1]);
	r = fd_read_all(p[0], VM_OUTPUT_MAX, &out, &len);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (r < 0)
		return r;
	fwrite(out, 1, len, stdout);
	fflush(stdout);
	if (ret_out)
		*ret_out = out;
	else
		free(out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
