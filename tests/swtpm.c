// SPDX-License-Identifier: GPL-2.0-only
#include "tests/swtpm.h"

#include <jansson.h>

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

#include "attest/binding.h"
#include "attest/evidence.h"
#include "lib/base64.h"
#include "lib/fd.h"

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

int test_swtpm_trust_ak(struct test_swtpm *s, const char *trust_dir)
{
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 }, *der = NULL;
	struct attest_evidence_opts eo = { .tpm_tcti = s->tcti };
	char path[300];
	const char *ak;
	json_t *ev = NULL;
	size_t n;
	int r;

	r = attest_evidence_collect("tpm", binding, &eo, &ev, NULL, 0);
	if (r < 0)
		return r;
	ak = json_string_value(json_object_get(ev, "ak_public"));
	r = ak ? b64_decode(ak, strlen(ak), &der, &n) : -EBADMSG;
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/tpm/ak/pod.der", trust_dir);
		r = fd_write_file_atomic(path, der, n, 0644);
	}
	free(der);
	json_decref(ev);
	return r;
}
