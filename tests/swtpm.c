// SPDX-License-Identifier: GPL-2.0-only
#include "tests/swtpm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int can_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return 0;
	r = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return r;
}

int test_swtpm_start(struct test_swtpm *s)
{
	char state[128], server[64], ctrl[64];
	unsigned int seed = (unsigned int)getpid() ^ (unsigned int)time(NULL);

	if (system("command -v swtpm >/dev/null 2>&1") != 0)
		return -ENOENT;
	snprintf(s->dir, sizeof(s->dir), "/tmp/veil-swtpm-XXXXXX");
	if (!mkdtemp(s->dir))
		return -errno;
	for (int attempt = 0; attempt < 20; attempt++) {
		s->port = 20000 + (int)(rand_r(&seed) % 20000) * 2;
		if (can_connect(s->port) || can_connect(s->port + 1))
			continue;
		snprintf(state, sizeof(state), "dir=%s", s->dir);
		snprintf(server, sizeof(server), "type=tcp,port=%d", s->port);
		snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d", s->port + 1);
		s->pid = fork();
		if (s->pid < 0)
			return -errno;
		if (s->pid == 0) {
			execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate", state, "--server",
			       server, "--ctrl", ctrl, "--flags", "not-need-init,startup-clear",
			       (char *)NULL);
			_exit(127);
		}
		for (int i = 0; i < 200; i++) {
			int st;

			if (can_connect(s->port)) {
				snprintf(s->tcti, sizeof(s->tcti), "swtpm:host=127.0.0.1,port=%d",
					 s->port);
				return 0;
			}
			if (waitpid(s->pid, &st, WNOHANG) == s->pid)
				break;	/* port taken after all: try another */
			usleep(10000);
		}
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	return -EADDRINUSE;
}

void test_swtpm_stop(struct test_swtpm *s)
{
	char cmd[128];

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s->dir);
		s->dir[0] = '\0';
	}
}
