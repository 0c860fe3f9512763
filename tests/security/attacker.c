// SPDX-License-Identifier: GPL-2.0-only
/*
 * The workload of tests/security/pod_test: runs inside a container that
 * veil-init (real PID 1) started, and prints one line per attack:
 *
 *   attack NAME: OK | ERRNO-NAME | SIGNAL-NAME
 *
 * attacker ATTACK[=ARG]... (names from tests/security/attack.c), plus
 * veilkey=URI, which reads a granted key with libveilkey's code (the result
 * line carries the key's length, never its bytes). Each attack runs in a
 * child of its own, so one that seccomp kills (SIGSYS) ends only itself.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keyring/veilkey.h"
#include "tests/security/attack.h"

/*
 * Under SANITIZE=1 the leak checker runs at exit and needs /proc and ptrace,
 * which a container lacks or is denied: it would turn every run into status 1.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static int veilkey(const char *uri, ssize_t *ret_len)
{
	unsigned char buf[4096];
	ssize_t n = veilkey_read(uri, buf, sizeof(buf));

	explicit_bzero(buf, sizeof(buf));
	if (n < 0)
		return (int)-n;
	*ret_len = n;
	return 0;
}

static void run(const char *spec)
{
	char name[64];
	const char *eq = strchr(spec, '='), *arg = eq ? eq + 1 : NULL;
	size_t len = eq ? (size_t)(eq - spec) : strlen(spec);
	ssize_t key_len = -1;
	int st, r;
	pid_t pid;

	if (len >= sizeof(name)) {
		printf("attack %s: bad name\n", spec);
		return;
	}
	memcpy(name, spec, len);
	name[len] = '\0';
	if (!strcmp(name, "veilkey")) {
		r = veilkey(arg, &key_len);
		if (r)
			printf("attack veilkey %s: %s\n", arg, strerrorname_np(r));
		else
			printf("attack veilkey %s: OK length %zd\n", arg, key_len);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("attack %s: fork failed\n", name);
		return;
	}
	if (pid == 0)
		_exit(attack_run(name, arg));
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return;
	if (WIFSIGNALED(st))
		printf("attack %s: SIG%s\n", name, sigabbrev_np(WTERMSIG(st)) ?: "?");
	else if (WEXITSTATUS(st) == 0)
		printf("attack %s: OK\n", name);
	else if (WEXITSTATUS(st) == ATTACK_SETUP_FAILED)
		printf("attack %s: setup failed\n", name);
	else
		printf("attack %s: %s\n", name, strerrorname_np(WEXITSTATUS(st)) ?: "?");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("attacker: uid %d euid %d\n", (int)getuid(), (int)geteuid());
	for (int i = 1; i < argc; i++)
		run(argv[i]);
	printf("attacker: done\n");
	return 0;
}
