// SPDX-License-Identifier: GPL-2.0-only
#include "tests/launcher/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/harness.h"

#define BUSYBOX "/bin/busybox"

static const char base_config[] =
	"{\"ociVersion\":\"1.0.2\","
	"\"process\":{\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"/bin/true\"],"
	"\"env\":[\"PATH=/bin\"],\"cwd\":\"/\",\"noNewPrivileges\":true,"
	"\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],"
	"\"permitted\":[\"CAP_KILL\"]}},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"veil-test\","
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"nodev\"]}],"
	"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
	"{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"user\"},{\"type\":\"cgroup\"}],"
	"\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":65536}],"
	"\"gidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":65536}]}}";

bool lt_have_busybox(void)
{
	return access(BUSYBOX, X_OK) == 0;
}

const char *lt_prog(const char *name)
{
	static char buf[4][512];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, 512, "%s/%s", harness_builddir(), name);
	return b;
}

int lt_tmpdir(char dir[64])
{
	snprintf(dir, 64, "/tmp/veil-lt-XXXXXX");
	return mkdtemp(dir) ? 0 : -errno;
}

void lt_rm_rf(const char *dir)
{
	char cmd[128];

	if (strncmp(dir, "/tmp/veil-lt-", 13) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

int lt_write(const char *path, const char *data)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fputs(data, f);
	return fclose(f) == 0 ? 0 : -errno;
}

char *lt_config(const char *patch_json)
{
	json_t *base = json_loads(base_config, 0, NULL), *patch;
	char *s;

	if (!base)
		return NULL;
	if (patch_json) {
		patch = json_loads(patch_json, 0, NULL);
		if (!patch) {
			json_decref(base);
			return NULL;
		}
		json_object_update_recursive(base, patch);
		json_decref(patch);
	}
	s = json_dumps(base, JSON_INDENT(1));
	json_decref(base);
	return s;
}

int lt_bundle(const char *dir, const char *name, const char *patch_json)
{
	static const char *const links[] = { "sh", "true", "false", "echo", "ls", "cat", "sleep",
					     "id", "hostname", "grep", "touch", "mkdir", "kill",
					     "ps", "wc", "head", "tr", "nproc", NULL };
	static const char *const dirs[] = { "bin", "proc", "sys", "dev", "tmp", "etc", "data", NULL };
	char p[512], t[512];
	char *cfg;
	int r;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (mkdir(p, 0755) < 0)
		return -errno;
	snprintf(p, sizeof(p), "%s/%s/rootfs", dir, name);
	if (mkdir(p, 0755) < 0)
		return -errno;
	for (int i = 0; dirs[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s/rootfs/%s", dir, name, dirs[i]);
		if (mkdir(p, 0755) < 0)
			return -errno;
	}
	snprintf(p, sizeof(p), "cp %s '%s/%s/rootfs/bin/busybox'", BUSYBOX, dir, name);
	if (system(p) != 0)
		return -EIO;
	for (int i = 0; links[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s/rootfs/bin/%s", dir, name, links[i]);
		if (symlink("busybox", p) < 0)
			return -errno;
	}
	snprintf(p, sizeof(p), "%s/%s/rootfs/etc/secret", dir, name);
	r = lt_write(p, "top secret\n");
	if (r < 0)
		return r;
	cfg = lt_config(patch_json);
	if (!cfg)
		return -EINVAL;
	snprintf(t, sizeof(t), "%s/%s/config.json", dir, name);
	r = lt_write(t, cfg);
	free(cfg);
	return r;
}

int lt_manifest(const char *dir, const char *fmt, ...)
{
	char p[256], *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	snprintf(p, sizeof(p), "%s/manifest.json", dir);
	r = lt_write(p, s);
	free(s);
	return r;
}

int lt_start(struct lt_run *r, const char *const *args)
{
	int p[2];

	memset(r, 0, sizeof(*r));
	r->out_fd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	r->pid = fork();
	if (r->pid < 0)
		return -errno;
	if (r->pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	close(p[1]);
	r->out_fd = p[0];
	return 0;
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int lt_wait(struct lt_run *r, int timeout_s)
{
	long long end = ms_now() + timeout_s * 1000LL;
	size_t len = 0, cap = 4096;
	int st;

	r->out = malloc(cap);
	if (!r->out)
		return -ENOMEM;
	for (;;) {
		struct pollfd pfd = { r->out_fd, POLLIN, 0 };
		long long left = end - ms_now();
		ssize_t n;

		if (left <= 0) {
			kill(r->pid, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if (len + 4096 > cap) {
			char *o = realloc(r->out, cap *= 2);

			if (!o)
				return -ENOMEM;
			r->out = o;
		}
		n = read(r->out_fd, r->out + len, 4095);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	r->out[len] = '\0';
	close(r->out_fd);
	r->out_fd = -1;
	if (waitpid(r->pid, &st, 0) < 0)
		return -errno;
	if (ms_now() >= end)
		r->status = -1;
	else
		r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

int lt_sandbox(struct lt_run *r, const char *dir, int timeout_s, const char *const *extra)
{
	const char *args[16];
	char man[256];
	int n = 0, ret;

	snprintf(man, sizeof(man), "%s/manifest.json", dir);
	args[n++] = lt_prog("veil-init");
	args[n++] = "--sandbox";
	for (; extra && *extra && n < 13; extra++)
		args[n++] = *extra;
	args[n++] = man;
	args[n] = NULL;
	ret = lt_start(r, args);
	if (ret < 0)
		return ret;
	ret = lt_wait(r, timeout_s);
	if (r->out && getenv("VEIL_TEST_VERBOSE"))
		fprintf(stdout, "%s", r->out);
	return ret;
}

void lt_run_done(struct lt_run *r)
{
	free(r->out);
	r->out = NULL;
	if (r->out_fd >= 0)
		close(r->out_fd);
}

char *lt_sh(int *status, const char *fmt, ...)
{
	char *cmd, *out = NULL;
	size_t len = 0;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0) {
		va_end(ap);
		return NULL;
	}
	va_end(ap);
	f = popen(cmd, "re");
	free(cmd);
	if (!f)
		return NULL;
	FILE *m = open_memstream(&out, &len);
	char buf[4096];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	fclose(m);
	st = pclose(f);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

bool lt_wait_for(struct lt_run *r, struct lt_tail *t, size_t from, const char *needle, int timeout_s)
{
	long long end = ms_now() + timeout_s * 1000LL;

	for (;;) {
		struct pollfd pfd = { r->out_fd, POLLIN, 0 };
		long long now;
		ssize_t n;

		if (t->buf && from <= t->len && strstr(t->buf + from, needle))
			return true;
		now = ms_now();
		if (now >= end || poll(&pfd, 1, (int)(end - now)) <= 0)
			return false;
		if (t->len + 4097 > t->cap) {
			char *b = realloc(t->buf, t->cap ? t->cap * 2 : 8192);

			if (!b)
				return false;
			t->buf = b;
			t->cap = t->cap ? t->cap * 2 : 8192;
		}
		n = read(r->out_fd, t->buf + t->len, 4096);
		if (n <= 0)
			return false;
		t->len += (size_t)n;
		t->buf[t->len] = '\0';
	}
}
