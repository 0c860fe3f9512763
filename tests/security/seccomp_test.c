// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil's default container seccomp profile, natively: a forked child loads
 * it and tries each denied call; the same call without the profile is the
 * positive control (it must not give the profile's answer).
 */
#include "tests/harness.h"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher/seccomp_default.h"

#define KILLED (-SIGSYS)

struct call {
	const char *name;
	long nr;
	unsigned long a[6];
	int want;	/* errno under the profile, or KILLED */
};

#define HI (1UL << 32)

static const struct call denied[] = {
	{ "io_uring_setup", SYS_io_uring_setup, { 0, 0 }, EPERM },
	{ "io_uring_enter", SYS_io_uring_enter, { (unsigned long)-1 }, EPERM },
	{ "io_uring_register", SYS_io_uring_register, { (unsigned long)-1 }, EPERM },
	{ "keyctl_join_session", SYS_keyctl, { KEYCTL_JOIN_SESSION_KEYRING, 0 }, EPERM },
	{ "keyctl_setperm", SYS_keyctl, { KEYCTL_SETPERM, 0, 0 }, EPERM },
	{ "keyctl_link", SYS_keyctl, { KEYCTL_LINK, 0, 0 }, EPERM },
	{ "keyctl_invalidate", SYS_keyctl, { KEYCTL_INVALIDATE, 0 }, EPERM },
	{ "keyctl_read_high_bits", SYS_keyctl, { HI | KEYCTL_READ, 0, 0, 0 }, EPERM },
	{ "add_key", SYS_add_key, { 0, 0, 0, 0, 0 }, EPERM },
	{ "request_key", SYS_request_key, { 0, 0, 0, 0 }, EPERM },
	{ "bpf", SYS_bpf, { 0, 0, 0 }, EPERM },
	{ "perf_event_open", SYS_perf_event_open, { 0, 0, (unsigned long)-1, (unsigned long)-1, 0 },
	  EPERM },
	{ "userfaultfd", SYS_userfaultfd, { ~0UL }, EPERM },
	{ "ptrace_traceme", SYS_ptrace, { 0 /* PTRACE_TRACEME */ }, EPERM },
	{ "process_vm_readv", SYS_process_vm_readv, { 1, 0, 0, 0, 0, 0 }, EPERM },
	{ "mount", SYS_mount, { 0, (unsigned long)"/nonexistent-veil", 0, 4096 /* MS_BIND */ },
	  EPERM },
	{ "umount2", SYS_umount2, { (unsigned long)"/nonexistent-veil", 0 }, EPERM },
	{ "pivot_root", SYS_pivot_root,
	  { (unsigned long)"/nonexistent-veil", (unsigned long)"/nonexistent-veil" }, EPERM },
	{ "chroot", SYS_chroot, { (unsigned long)"/nonexistent-veil" }, EPERM },
	{ "open_tree", 428, { (unsigned long)-1, (unsigned long)"", 0 }, EPERM },
	{ "fsopen", 430, { 0, 0 }, EPERM },
	{ "unshare_user", SYS_unshare, { CLONE_NEWUSER }, EPERM },
	{ "unshare_mnt", SYS_unshare, { CLONE_NEWNS }, EPERM },
	{ "setns", SYS_setns, { (unsigned long)-1, 0 }, EPERM },
	{ "clone_newuser", SYS_clone, { CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0 }, EPERM },
	{ "clone3", 435, { 0, 0 }, ENOSYS },
	{ "socket_packet", SYS_socket, { AF_PACKET, SOCK_RAW, 0 }, EPERM },
	{ "socket_packet_high_bits", SYS_socket, { HI | AF_PACKET, SOCK_RAW, 0 }, EPERM },
	{ "socket_inet_raw", SYS_socket, { AF_INET, SOCK_RAW, 1 /* ICMP */ }, EPERM },
	{ "socket_inet6_raw", SYS_socket, { AF_INET6, SOCK_RAW | SOCK_CLOEXEC, 58 }, EPERM },
	{ "socket_vsock", SYS_socket, { 40 /* AF_VSOCK */, SOCK_STREAM, 0 }, EPERM },
	{ "open_by_handle_at", SYS_open_by_handle_at, { (unsigned long)-1, 0, 0 }, EPERM },
	{ "syslog", SYS_syslog, { 10 /* SIZE_BUFFER */, 0, 0 }, EPERM },
	{ "reboot", SYS_reboot, { 0, 0, 0, 0 }, EPERM },
	{ "swapon", SYS_swapon, { 0, 0 }, EPERM },
	{ "clock_settime", SYS_clock_settime, { 0, 0 }, EPERM },
	{ "settimeofday", SYS_settimeofday, { 0, 0 }, EPERM },
	{ "acct", SYS_acct, { 0 }, EPERM },
	{ "personality_other", SYS_personality, { 0x0400000 /* ADDR_NO_RANDOMIZE */ }, EPERM },
	{ "kcmp", SYS_kcmp, { 0, 0, 0, 0, 0 }, EPERM },
	{ "pidfd_getfd", 438, { (unsigned long)-1, 0, 0 }, EPERM },
	{ "fanotify_init", SYS_fanotify_init, { 0, 0 }, EPERM },
	{ "quotactl", SYS_quotactl, { 0, 0, 0, 0 }, EPERM },
	{ "kexec_load", SYS_kexec_load, { 0, 0, 0, 0 }, KILLED },
	{ "kexec_file_load", SYS_kexec_file_load, { (unsigned long)-1, (unsigned long)-1, 0, 0, 0 },
	  KILLED },
	{ "init_module", SYS_init_module, { 0, 0, 0 }, KILLED },
	{ "finit_module", SYS_finit_module, { (unsigned long)-1, 0, 0 }, KILLED },
	{ "delete_module", SYS_delete_module, { 0, 0 }, KILLED },
	{ "iopl", SYS_iopl, { 0 }, KILLED },
	{ "ioperm", SYS_ioperm, { 0, 0, 0 }, KILLED },
};

/* Runs the call in a child under a profile (0 none, 1 default, 2 service): errno, 0, or -signal. */
static int try_call_in(const struct call *c, int which)
{
	void *ctx = NULL;
	bool profile = which != 0;
	pid_t pid;
	int st;

	if (which == 1 && launcher_seccomp_default_build(&ctx) < 0)
		return -1000;
	if (which == 2 && launcher_seccomp_service_build(&ctx) < 0)
		return -1000;
	pid = fork();
	if (pid < 0)
		return -1001;
	if (pid == 0) {
		long r;

		if (profile && seccomp_load(ctx) < 0)
			_exit(250);
		r = syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
		if (r == 0 && c->nr == SYS_clone)
			_exit(0);	/* the clone child of the unfiltered control */
		_exit(r < 0 ? errno : 0);
	}
	if (ctx)
		seccomp_release(ctx);
	if (waitpid(pid, &st, 0) != pid)
		return -1002;
	if (WIFSIGNALED(st))
		return -WTERMSIG(st);
	return WEXITSTATUS(st);
}

static int try_call(const struct call *c, bool profile)
{
	return try_call_in(c, profile ? 1 : 0);
}

TEST(service_profile_adds_io_uring_and_nothing_else)
{
	static const struct call uring = { "io_uring_setup", SYS_io_uring_setup, { 0, 0 }, EINVAL };

	/* io_uring_setup(0, NULL) is EFAULT from the kernel itself, EPERM from the filter */
	EXPECT_EQ(EPERM, try_call_in(&uring, 1));
	EXPECT_EQ(EFAULT, try_call_in(&uring, 2));
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		if (strncmp(denied[i].name, "io_uring", 8) == 0)
			continue;
		EXPECT_EQ(denied[i].want, try_call_in(&denied[i], 2));
	}
}

TEST(denied_calls_fail_exactly_and_succeed_or_differ_without_profile)
{
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		const struct call *c = &denied[i];
		int with = try_call(c, true), without = try_call(c, false);

		if (with != c->want)
			TH_LOG("%s: with the profile %d, want %d", c->name, with, c->want);
		EXPECT_EQ(c->want, with);
		/* positive control: the kernel itself would have answered differently */
		if (without == c->want)
			TH_LOG("%s: without the profile also %d", c->name, without);
		EXPECT_NE(c->want, without);
	}
}

static int run_in_profile(char *const argv[], char *out, size_t len)
{
	void *ctx = NULL;
	int p[2], st;
	size_t used = 0;
	pid_t pid;

	if (launcher_seccomp_default_build(&ctx) < 0 || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		if (seccomp_load(ctx) < 0)
			_exit(250);
		execvp(argv[0], argv);
		_exit(127);
	}
	seccomp_release(ctx);
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], out + used, len - 1 - used);

		if (n <= 0)
			break;
		used += (size_t)n;
	}
	out[used] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TEST(ordinary_programs_run_under_the_profile)
{
	char *argv[] = { "sh", "-c",
			 "set -e; echo start; cat /proc/self/status > /dev/null; "
			 "ls / > /dev/null; sort < /etc/passwd > /dev/null; "
			 "d=$(mktemp -d); echo x > $d/f; mv $d/f $d/g; rm -r $d; "
			 "(sleep 0 &); wait; keyctl show @s > /dev/null; "
			 "getent hosts localhost > /dev/null; echo done", NULL };
	char out[4096];

	EXPECT_EQ(0, run_in_profile(argv, out, sizeof(out)));
	EXPECT_STREQ("start\ndone\n", out);
}

TEST(allowed_calls_work_under_the_profile)
{
	static const struct call ok[] = {
		{ "getppid", SYS_getppid, { 0 }, 0 },
		{ "keyctl_get_keyring_id", SYS_keyctl, { KEYCTL_GET_KEYRING_ID,
							 (unsigned long)KEY_SPEC_SESSION_KEYRING, 0 }, 0 },
		{ "socket_inet_stream", SYS_socket, { AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0 }, 0 },
		{ "socket_inet_dgram", SYS_socket, { AF_INET, SOCK_DGRAM, 0 }, 0 },
		{ "socket_unix", SYS_socket, { AF_UNIX, SOCK_SEQPACKET, 0 }, 0 },
		{ "socket_netlink", SYS_socket, { AF_NETLINK, SOCK_RAW, 0 }, 0 },
		{ "personality_query", SYS_personality, { 0xffffffff }, 0 },
		{ "clone_plain", SYS_clone, { SIGCHLD, 0, 0, 0, 0 }, 0 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int r = try_call(&ok[i], true);

		if (r != 0)
			TH_LOG("%s: %d", ok[i].name, r);
		EXPECT_EQ(0, r);
	}
}

TEST(profile_digest_is_stable_and_hex)
{
	void *a = NULL, *b = NULL;
	char ha[65], hb[65];

	ASSERT_EQ(0, launcher_seccomp_default_build(&a));
	ASSERT_EQ(0, launcher_seccomp_default_build(&b));
	ASSERT_EQ(0, launcher_seccomp_digest(a, ha));
	ASSERT_EQ(0, launcher_seccomp_digest(b, hb));
	EXPECT_STREQ(ha, hb);
	EXPECT_EQ(64, strspn(ha, "0123456789abcdef"));
	EXPECT_EQ(-EINVAL, launcher_seccomp_digest(NULL, ha));
	seccomp_release(a);
	seccomp_release(b);
}

TEST(default_digest_is_computed_once_and_ignores_no_new_privs)
{
	void *ctx = NULL;
	char fresh[65], memo[65], again[65];

	ASSERT_EQ(0, launcher_seccomp_default_build(&ctx));
	/* As veil-init builds it for a bundle without noNewPrivileges. */
	ASSERT_EQ(0, seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0));
	ASSERT_EQ(0, launcher_seccomp_digest(ctx, fresh));
	ASSERT_EQ(0, launcher_seccomp_default_digest(memo));
	ASSERT_EQ(0, launcher_seccomp_default_digest(again));
	EXPECT_STREQ(fresh, memo);
	EXPECT_STREQ(memo, again);
	EXPECT_EQ(-EINVAL, launcher_seccomp_default_digest(NULL));
	seccomp_release(ctx);
}

TEST(profile_is_a_binary_tree)
{
	void *ctx = NULL;
	uint32_t v = 0;

	ASSERT_EQ(0, launcher_seccomp_default_build(&ctx));
	ASSERT_EQ(0, seccomp_attr_get(ctx, SCMP_FLTATR_CTL_OPTIMIZE, &v));
	EXPECT_EQ(2, v);
	ASSERT_EQ(0, seccomp_attr_get(ctx, SCMP_FLTATR_CTL_NNP, &v));
	EXPECT_EQ(1, v);
	seccomp_release(ctx);
}
