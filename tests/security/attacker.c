// SPDX-License-Identifier: GPL-2.0-only
/*
 * The workload of tests/security/pod_test: runs inside a container that
 * veil-init (real PID 1) started, and prints one line per attack:
 *
 *   attack NAME: OK | ERRNO-NAME | SIGNAL-NAME
 *
 * attacker ATTACK[=ARG]... (names from tests/security/attack.c), plus
 * veilkey=URI, which reads a granted key with libveilkey's code (the result
 * line carries the key's length, never its bytes). An ARG that is a kbs://
 * URI stands for the serial of that granted key (found with veilkey_find),
 * so a test can aim the key attacks at a serial it cannot know beforehand;
 * if the key is not found the line says "setup failed". The result line
 * names the attack as given (NAME or NAME=ARG). Each attack runs in a
 * child of its own, so one that seccomp kills (SIGSYS) ends only itself.
 *
 * decrypt_restart=MODEL:FILE is the client of veil-decryptd across a
 * restart and a failed re-attestation: decrypts FILE's ciphertexts (a .vct)
 * through /run/veil/decryptd.sock until served, then until the service is
 * gone, until served again, until gone again, and then checks that it stays
 * gone for DD_STAY_DOWN_S; one line per phase ("decrypt MODEL: served
 * (Y...)", "... down (ERRNO)", "... served again (Y...)", "... down again
 * (ERRNO)", "... stays down", or "... gave up ..." / "... served again after
 * it went down again").
 *
 * kill_after_receipt=PID:FILE leaves a helper behind that SIGKILLs PID a
 * second after FILE (veil-decryptd's receipts) is first non-empty, and
 * says so ("dd-killer: ..."). It is what kills the service in the guest of
 * tests/security/pod_test, from the service's own cgroup.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include "fhe/decryptd.h"
#include "keyring/veilkey.h"
#include "lib/fd.h"
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

#define DD_SOCK "/run/veil/decryptd.sock"
#define DD_PHASE_S 120	/* per phase: a restart under TCG takes seconds */
#define DD_STAY_DOWN_S 8	/* longer than the restart backoff the test gives it */

/* One decryption: 0 with the first three outputs in y, or -errno. */
static int decrypt_once(const char *model, const char *file, double y[3])
{
	const uint8_t *ct[DECRYPTD_CT_MAX];
	size_t ct_len[DECRYPTD_CT_MAX], n_y = 0;
	double out[64];
	char *buf = NULL, msg[256];
	unsigned int n;
	int fd, st, r;
	size_t len;

	r = fd_read_file(file, 1u << 20, &buf, &len);
	if (r < 0)
		return r;
	r = decryptd_vct_parse((const uint8_t *)buf, len, ct, ct_len, &n);
	fd = r < 0 ? r : decryptd_client_connect(DD_SOCK);
	if (fd >= 0) {
		r = decryptd_client_decrypt(fd, 1, model, ct, ct_len, n, out, 64, &n_y, &st, msg,
					    sizeof(msg));
		close(fd);
	} else {
		r = fd;
	}
	free(buf);
	if (r == 0 && n_y < 3)
		r = -EBADMSG;
	if (r == 0)
		memcpy(y, out, 3 * sizeof(*y));
	return r;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void decrypt_restart(const char *arg)
{
	static const char *const phase[] = { "served", "down", "served again", "down again" };
	char model[64], file[256];
	const char *colon = strchr(arg, ':');
	double y[3] = { 0 };
	int r = 0;

	if (!colon || colon - arg >= (long)sizeof(model) || strlen(colon + 1) >= sizeof(file)) {
		printf("decrypt %s: bad argument\n", arg);
		return;
	}
	snprintf(model, sizeof(model), "%.*s", (int)(colon - arg), arg);
	snprintf(file, sizeof(file), "%s", colon + 1);
	for (int p = 0; p < 4; p++) {
		double end = now_s() + DD_PHASE_S;
		bool want_ok = p % 2 == 0;

		for (;;) {
			r = decrypt_once(model, file, y);
			if ((r == 0) == want_ok)
				break;
			if (now_s() > end) {
				printf("decrypt %s: gave up waiting to be %s (%s)\n", model, phase[p],
				       r ? strerrorname_np(-r) ?: "?" : "OK");
				return;
			}
			usleep(want_ok ? 100000 : 20000);
		}
		if (want_ok)
			printf("decrypt %s: %s (%.6f %.6f %.6f)\n", model, phase[p], y[0], y[1], y[2]);
		else
			printf("decrypt %s: %s (%s)\n", model, phase[p], strerrorname_np(-r) ?: "?");
	}
	for (double end = now_s() + DD_STAY_DOWN_S; now_s() < end; usleep(200000))
		if (decrypt_once(model, file, y) == 0) {
			printf("decrypt %s: served again after it went down again\n", model);
			return;
		}
	printf("decrypt %s: stays down\n", model);
}

static void kill_after_receipt(const char *arg)
{
	char *end;
	long pid = strtol(arg, &end, 10);
	struct stat st;
	pid_t child;

	if (pid <= 1 || *end != ':') {
		printf("attack kill_after_receipt=%s: bad argument\n", arg);
		return;
	}
	fflush(stdout);
	child = fork();
	if (child < 0) {
		printf("attack kill_after_receipt=%s: fork failed\n", arg);
		return;
	}
	if (child > 0) {
		printf("attack kill_after_receipt=%s: waiting\n", arg);
		return;
	}
	for (int i = 0; i < 3000; i++) {
		if (stat(end + 1, &st) == 0 && st.st_size > 0) {
			sleep(1);
			printf("dd-killer: killing pid %ld after its first decryption\n", pid);
			fflush(stdout);
			_exit(kill((pid_t)pid, SIGKILL) < 0 ? 1 : 0);
		}
		usleep(100000);
	}
	printf("dd-killer: no receipt in '%s'\n", end + 1);
	_exit(1);
}

static void run(const char *spec)
{
	char name[64], serial[16];
	const char *eq = strchr(spec, '='), *arg = eq ? eq + 1 : NULL;
	size_t len = eq ? (size_t)(eq - spec) : strlen(spec);
	ssize_t key_len = -1;
	int st, r;
	pid_t pid;

	if (len >= sizeof(name) || strlen(spec) > 200) {
		printf("attack %s: bad name\n", spec);
		return;
	}
	memcpy(name, spec, len);
	name[len] = '\0';
	if (!strcmp(name, "decrypt_restart") && arg) {
		decrypt_restart(arg);
		return;
	}
	if (!strcmp(name, "kill_after_receipt") && arg) {
		kill_after_receipt(arg);
		return;
	}
	if (!strcmp(name, "veilkey")) {
		r = veilkey(arg, &key_len);
		if (r)
			printf("attack veilkey %s: %s\n", arg, strerrorname_np(r));
		else
			printf("attack veilkey %s: OK length %zd\n", arg, key_len);
		return;
	}
	if (arg && !strncmp(arg, "kbs://", 6)) {
		int32_t k = veilkey_find(arg);

		if (k < 0) {
			printf("attack %s: setup failed (%s)\n", spec, strerrorname_np(-k) ?: "?");
			return;
		}
		snprintf(serial, sizeof(serial), "%d", (int)k);
		arg = serial;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("attack %s: fork failed\n", spec);
		return;
	}
	if (pid == 0)
		_exit(attack_run(name, arg));
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return;
	if (WIFSIGNALED(st))
		printf("attack %s: SIG%s\n", spec, sigabbrev_np(WTERMSIG(st)) ?: "?");
	else if (WEXITSTATUS(st) == 0)
		printf("attack %s: OK\n", spec);
	else if (WEXITSTATUS(st) == ATTACK_SETUP_FAILED)
		printf("attack %s: setup failed\n", spec);
	else
		printf("attack %s: %s\n", spec, strerrorname_np(WEXITSTATUS(st)) ?: "?");
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
