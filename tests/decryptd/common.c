// SPDX-License-Identifier: GPL-2.0-only
#include "tests/decryptd/common.h"

#include <dirent.h>
#include <errno.h>
#include <keyutils.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/fd.h"
#include "lib/frame.h"
#include "tests/harness.h"

const char *dd_my_cgroup(void)
{
	static char cg[4097];

	if (decryptd_pid_cgroup(getpid(), cg, sizeof(cg)) < 0)
		SKIP("no cgroup v2 hierarchy: peers cannot be identified");
	return cg;
}

static void subst(char *out, size_t cap, const char *fmt, const char *sock)
{
	const char *p = strstr(fmt, "@SOCK@");

	if (!p) {
		snprintf(out, cap, "%s", fmt);
		return;
	}
	snprintf(out, cap, "%.*s%s%s", (int)(p - fmt), fmt, sock, p + 6);
}

void dd_start(struct dd *d, const char *config_fmt, const char *const *keys)
{
	char bin[4200], text[65536];
	FILE *f;

	if (access("/proc/sys/kernel/io_uring_disabled", R_OK) == 0) {
		f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
		if (f && fgetc(f) == '2')
			SKIP("io_uring is disabled (kernel.io_uring_disabled = 2)");
		if (f)
			fclose(f);
	}
	snprintf(d->dir, sizeof(d->dir), "/tmp/veil-dd-XXXXXX");
	if (!mkdtemp(d->dir))
		harness_fail(__FILE__, __LINE__, true, "mkdtemp: %m");
	snprintf(d->sock, sizeof(d->sock), "%s/dd.sock", d->dir);
	snprintf(d->cfg, sizeof(d->cfg), "%s/config.json", d->dir);
	subst(text, sizeof(text), config_fmt, d->sock);
	f = fopen(d->cfg, "w");
	fputs(text, f);
	fclose(f);
	snprintf(bin, sizeof(bin), "%s/veil-decryptd", harness_builddir());

	/* a session keyring of our own, inherited by the service */
	if (keyctl_join_session_keyring(NULL) < 0)
		SKIP("cannot create a session keyring: %m");
	for (; keys && keys[0]; keys += 2)
		if (add_key("user", keys[0], keys[1], strlen(keys[1]), KEY_SPEC_SESSION_KEYRING) < 0)
			harness_fail(__FILE__, __LINE__, true, "add_key '%s': %m", keys[0]);

	d->pid = fork();
	if (d->pid == 0) {
		execl(bin, bin, "--config", d->cfg, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		int fd = dd_connect(d), st;

		if (fd >= 0) {
			uint8_t buf[256];
			struct decryptd_reply r;
			int ret = dd_ping(fd, 0, "", &r, buf, sizeof(buf));

			close(fd);
			/* any reply: the event loop runs, so the seccomp filter is on */
			if (ret == 0)
				return;
		}
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			harness_fail(__FILE__, __LINE__, true, "veil-decryptd exited early (status %d)",
				     st);
		}
		usleep(10000);
	}
	harness_fail(__FILE__, __LINE__, true, "veil-decryptd did not listen on '%s'", d->sock);
}

void dd_stop(struct dd *d)
{
	char cmd[128];
	int st = 0;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			harness_fail(__FILE__, __LINE__, false,
				     "veil-decryptd did not exit cleanly: status 0x%x", st);
		d->pid = 0;
	}
	if (d->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
		if (system(cmd) != 0)
			TH_LOG("could not remove %s", d->dir);
	}
}

int dd_connect(const struct dd *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

int dd_read_reply(int fd, uint8_t *buf, size_t cap, struct decryptd_reply *r)
{
	size_t len;
	int ret = frame_read(fd, buf, cap, &len);

	if (ret < 0)
		return ret;
	return decryptd_parse_reply(buf, len, r);
}

int dd_wait_eof(int fd)
{
	char c;
	ssize_t n = read(fd, &c, 1);

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

int dd_ping(int fd, uint32_t id, const char *echo, struct decryptd_reply *r, uint8_t *buf,
	    size_t cap)
{
	uint8_t *req;
	size_t len;
	int ret;

	ret = decryptd_build_ping(id, echo, strlen(echo), &req, &len);
	if (ret < 0)
		return ret;
	ret = fd_write_full(fd, req, len);
	free(req);
	if (ret < 0)
		return ret;
	return dd_read_reply(fd, buf, cap, r);
}

size_t dd_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	size_t n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

long dd_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}
