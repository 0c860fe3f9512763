// SPDX-License-Identifier: GPL-2.0-only
#include "tests/kbs/kbs_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/fd.h"
#include "tests/harness.h"

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int kbs_proc_start(struct kbs_proc *p, const char *extra, bool spec_status)
{
	char cmd[2048], path[512], cfg[2048], *port = NULL;
	size_t len;
	FILE *f;

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/veil-kbs-test.XXXXXX");
	if (!mkdtemp(p->dir))
		return -errno;
	snprintf(p->cacert, sizeof(p->cacert), "%s/tls.crt", p->dir);
	snprintf(p->admin_key, sizeof(p->admin_key), "%s/admin.key", p->dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout %s/tls.key "
		 "-out %s -days 1 -nodes -subj /CN=veil-kbs-test -addext subjectAltName=IP:127.0.0.1 "
		 ">/dev/null 2>&1", p->dir, p->cacert);
	if (run(cmd) != 0)
		return -ENOEXEC;
	snprintf(cmd, sizeof(cmd), "%s/veil kbs-admin keygen --private %s --public %s/admin.pub",
		 harness_builddir(), p->admin_key, p->dir);
	if (run(cmd) != 0)
		return -ENOEXEC;
	snprintf(cfg, sizeof(cfg),
		 "{\"listen\":\"127.0.0.1:0\",\"state_dir\":\"%s/state\",\"threads\":2,"
		 "\"tls\":{\"certificate\":\"%s\",\"private_key\":\"%s/tls.key\"},"
		 "\"admin\":{\"public_key\":\"%s/admin.pub\"}%s%s}",
		 p->dir, p->cacert, p->dir, p->dir, extra ? "," : "", extra ? extra : "");
	snprintf(path, sizeof(path), "%s/kbs.json", p->dir);
	if (fd_write_file_atomic(path, cfg, strlen(cfg), 0600) < 0)
		return -EIO;
	p->pid = fork();
	if (p->pid < 0)
		return -errno;
	if (p->pid == 0) {
		char bin[512], pf[512], logf[512];
		int fd;

		snprintf(bin, sizeof(bin), "%s/veil-kbs", harness_builddir());
		snprintf(pf, sizeof(pf), "%s/port", p->dir);
		snprintf(logf, sizeof(logf), "%s/kbs.log", p->dir);
		fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0)
			dup2(fd, 2);
		execl(bin, bin, "--config", path, "--port-file", pf,
		      spec_status ? "--spec-status" : NULL, NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "%s/port", p->dir);
	for (int i = 0; i < 500; i++) {
		if (fd_read_file(path, 64, &port, &len) == 0)
			break;
		if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
			p->pid = 0;
			return -ECHILD;
		}
		usleep(10000);
	}
	if (!port)
		return -ETIMEDOUT;
	snprintf(p->base, sizeof(p->base), "https://127.0.0.1:%d", atoi(port));
	free(port);
	snprintf(cmd, sizeof(cmd), "%s/veil kbs-admin token --key %s", harness_builddir(), p->admin_key);
	f = popen(cmd, "r");
	if (!f || !fgets(p->admin_token, sizeof(p->admin_token), f)) {
		if (f)
			pclose(f);
		return -EIO;
	}
	pclose(f);
	p->admin_token[strcspn(p->admin_token, "\n")] = 0;
	return 0;
}

void kbs_proc_stop(struct kbs_proc *p)
{
	char cmd[512];

	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
	}
	if (p->dir[0] && !getenv("VEIL_KEEP_TMP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
		run(cmd);
	}
}

int kbs_proc_admin(struct kbs_proc *p, const char *fmt, ...)
{
	char args[2048], cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	/* The verb goes first, then the connection options. */
	const char *sp = strchr(args, ' ');
	snprintf(cmd, sizeof(cmd), "%s/veil kbs-admin %.*s --url %s --cacert %s --key %s%s 2>>%s/admin.log",
		 harness_builddir(), sp ? (int)(sp - args) : (int)strlen(args), args, p->base, p->cacert,
		 p->admin_key, sp ? sp : "", p->dir);
	return run(cmd);
}
