// SPDX-License-Identifier: GPL-2.0-only
/*
 * The runner behind tests/harness.h: forks one child per test, captures its
 * output as KTAP comments, enforces the timeout, and prints KTAP v1.
 */
#include "tests/harness.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef VEIL_SRCDIR_DEFAULT
#define VEIL_SRCDIR_DEFAULT "."
#endif

#define DEFAULT_TIMEOUT 60
#define SKIP_REASON_MAX 512

static struct harness_test *tests_head, *tests_tail;
static unsigned int tests_count;
static int skip_fd = -1;	/* in the child: where the skip reason goes */
static bool test_failed;	/* in the child */
static bool test_skipped;	/* in the child */
sigjmp_buf harness_jmp;
bool harness_jmp_armed;

void harness_register(struct harness_test *t)
{
	if (tests_tail)
		tests_tail->next = t;
	else
		tests_head = t;
	tests_tail = t;
	tests_count++;
}

void harness_finish(void)
{
	fflush(NULL);
	_exit(test_skipped ? KSFT_SKIP : test_failed ? KSFT_FAIL : KSFT_PASS);
}

void harness_fail(const char *file, int line, bool fatal, const char *fmt, ...)
{
	va_list ap;

	test_failed = true;
	printf("%s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!fatal)
		return;
	if (harness_jmp_armed) {
		harness_jmp_armed = false;
		siglongjmp(harness_jmp, 1);
	}
	harness_finish();
}

void harness_skip(const char *fmt, ...)
{
	char reason[SKIP_REASON_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(reason))
		n = sizeof(reason) - 1;
	if (skip_fd >= 0 && write(skip_fd, reason, n) < 0)
		perror("harness: write skip reason");
	test_skipped = true;
	if (harness_jmp_armed) {
		harness_jmp_armed = false;
		siglongjmp(harness_jmp, 1);
	}
	harness_finish();
}

const char *harness_srcdir(void)
{
	const char *s = getenv("VEIL_SRCDIR");

	return s && *s ? s : VEIL_SRCDIR_DEFAULT;
}

const char *harness_builddir(void)
{
	static char dir[PATH_MAX];
	const char *s = getenv("VEIL_BUILDDIR");
	ssize_t n;

	if (s && *s)
		return s;
	/* The program is O/tests/AREA/NAME: strip three components. */
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n < 0)
		return ".";
	dir[n] = '\0';
	for (int i = 0; i < 3; i++) {
		char *slash = strrchr(dir, '/');

		if (!slash || slash == dir)
			return ".";
		*slash = '\0';
	}
	return dir;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Re-emit the child's output as KTAP comments, one "# " per line. */
static void emit_output(const char *buf, size_t len, bool *at_bol)
{
	for (size_t i = 0; i < len; i++) {
		if (*at_bol)
			fputs("# ", stdout);
		putchar(buf[i]);
		*at_bol = buf[i] == '\n';
	}
}

static void drain(int fd, bool *at_bol)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		emit_output(buf, n, at_bol);
}

enum result { R_PASS, R_FAIL, R_SKIP };

static enum result run_one(struct harness_test *t, unsigned int default_timeout,
			   char *detail, size_t detail_len)
{
	unsigned int timeout = t->timeout ? t->timeout : default_timeout;
	int out[2], skp[2], pidfd, status;
	bool at_bol = true, timed_out = false;
	double deadline;
	pid_t pid;

	detail[0] = '\0';
	fflush(NULL);
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(skp, O_CLOEXEC) < 0) {
		snprintf(detail, detail_len, "pipe: %s", strerror(errno));
		return R_FAIL;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(detail, detail_len, "fork: %s", strerror(errno));
		return R_FAIL;
	}
	if (pid == 0) {
		/* Own process group, so a timeout kills whatever the test started. */
		setpgid(0, 0);
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		setvbuf(stdout, NULL, _IOLBF, 0);
		skip_fd = skp[1];
		close(out[0]);
		close(skp[0]);
		t->fn(t);
		harness_finish();
	}
	close(out[1]);
	close(skp[1]);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	deadline = now_s() + timeout;

	for (;;) {
		struct pollfd p[2] = { { out[0], POLLIN, 0 }, { pidfd, POLLIN, 0 } };
		int left_ms = (int)((deadline - now_s()) * 1000);

		if (left_ms <= 0) {
			timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		if (poll(p, pidfd >= 0 ? 2 : 1, left_ms) < 0 && errno != EINTR)
			break;
		if (p[0].revents & (POLLIN | POLLHUP))
			drain(out[0], &at_bol);
		if ((p[0].revents & POLLHUP) && pidfd < 0)
			break;
		if (pidfd >= 0 && (p[1].revents & POLLIN))
			break;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* Stragglers in the test's process group must not outlive it. */
	kill(-pid, SIGKILL);
	drain(out[0], &at_bol);
	if (!at_bol)
		putchar('\n');
	close(out[0]);
	if (pidfd >= 0)
		close(pidfd);

	if (timed_out) {
		close(skp[0]);
		snprintf(detail, detail_len, "TIMEOUT after %us", timeout);
		return R_FAIL;
	}
	if (WIFSIGNALED(status)) {
		close(skp[0]);
		snprintf(detail, detail_len, "crashed: signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
		return R_FAIL;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_SKIP) {
		ssize_t n;

		fcntl(skp[0], F_SETFL, O_NONBLOCK);
		n = read(skp[0], detail, detail_len - 1);
		detail[n > 0 ? n : 0] = '\0';
		for (char *c = detail; *c; c++)
			if (*c == '\n' || *c == '#')
				*c = ' ';
		close(skp[0]);
		return R_SKIP;
	}
	close(skp[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_PASS)
		return R_PASS;
	snprintf(detail, detail_len, "exit status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return R_FAIL;
}

static bool selected(const char *name, int argc, char **argv)
{
	if (argc <= 1)
		return true;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	unsigned int plan = 0, n = 0, pass = 0, fail = 0, skip = 0, default_timeout = DEFAULT_TIMEOUT;
	const char *env = getenv("VEIL_TEST_TIMEOUT");
	char detail[SKIP_REASON_MAX];

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (struct harness_test *t = tests_head; t; t = t->next)
			puts(t->name);
		return 0;
	}
	if (env && atoi(env) > 0)
		default_timeout = atoi(env);
	/* A test that writes to a closed pipe must fail, not kill the runner. */
	signal(SIGPIPE, SIG_IGN);

	for (struct harness_test *t = tests_head; t; t = t->next)
		plan += selected(t->name, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("KTAP version 1\n1..%u\n", plan);

	for (struct harness_test *t = tests_head; t; t = t->next) {
		double t0;
		enum result r;

		if (!selected(t->name, argc, argv))
			continue;
		n++;
		printf("# RUN %s\n", t->name);
		t0 = now_s();
		r = run_one(t, default_timeout, detail, sizeof(detail));
		switch (r) {
		case R_PASS:
			pass++;
			printf("ok %u %s # %.3fs\n", n, t->name, now_s() - t0);
			break;
		case R_SKIP:
			skip++;
			printf("ok %u %s # SKIP %s\n", n, t->name, detail);
			break;
		case R_FAIL:
			fail++;
			if (detail[0])
				printf("# %s: %s\n", t->name, detail);
			printf("not ok %u %s\n", n, t->name);
			break;
		}
	}
	printf("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:0\n", pass, fail, skip);
	if (fail)
		return KSFT_FAIL;
	if (plan && skip == plan)
		return KSFT_SKIP;
	return KSFT_PASS;
}
