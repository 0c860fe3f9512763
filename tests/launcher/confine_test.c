// SPDX-License-Identifier: GPL-2.0-only
/*
 * The helpers' confinement (launcher/confine.h), one forked child per case.
 * The unpacker: what it needs works; reaching outside its two directories,
 * the network, the keyring, other processes, mounts and exec do not. The
 * network helper (re-attestation): files read, TCP, threads and its TPM work;
 * writing files, capabilities, the keyring, bpf, other processes, mounts,
 * namespaces and exec do not.
 */
#include "tests/harness.h"

#include <fcntl.h>
#include <keyutils.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher/confine.h"

#define KILLED 1000	/* the case's expectation: seccomp kills the helper */

static char base[] = "/tmp/veil-confine-XXXXXX";
static int ro_fd = -1, rw_fd = -1;

static void setup(void)
{
	char p[64];
	int fd;

	if (ro_fd >= 0)
		return;
	if (!mkdtemp(base))
		abort();
	snprintf(p, sizeof(p), "%s/ro", base);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/ro/blob", base);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	(void)!write(fd, "layer", 5);
	close(fd);
	snprintf(p, sizeof(p), "%s/rw", base);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/ro", base);
	ro_fd = open(p, O_RDONLY | O_DIRECTORY);
	snprintf(p, sizeof(p), "%s/rw", base);
	rw_fd = open(p, O_RDONLY | O_DIRECTORY);
	if (ro_fd < 0 || rw_fd < 0)
		abort();
}

/* Each test runs in its own process (tests/harness.c) with its own directory. */
static void done(void)
{
	char cmd[80];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (ro_fd >= 0 && system(cmd) != 0)
		TH_LOG("could not remove %s", base);
}

static int errno_of(long r)
{
	return r < 0 ? errno : 0;
}

/*
 * Runs fn in a confined child; returns its errno (0: the call worked), KILLED
 * when seccomp killed it, or -1 when the child broke otherwise. *ret_ll: the
 * Landlock ABI the child applied.
 */
static bool network_helper;	/* confined() applies launcher_confine_network_helper() */

static int confined(int (*fn)(void), int *ret_ll)
{
	static const cap_value_t keep[] = { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID };
	int p[2], st, ll = -1;
	pid_t pid;

	setup();
	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int r, e;

		close(p[0]);
		if (network_helper) {
			char rw[64];

			snprintf(rw, sizeof(rw), "%s/rw", base);
			r = launcher_confine_network_helper(rw, &ll);
		} else {
			r = launcher_confine_helper(ro_fd, rw_fd, keep, 4, &ll);
		}
		if (r < 0)
			_exit(200);
		(void)!write(p[1], &ll, sizeof(ll));
		e = fn();
		_exit(e > 199 ? 199 : e);
	}
	close(p[1]);
	if (read(p[0], &ll, sizeof(ll)) != sizeof(ll))
		ll = -1;
	close(p[0]);
	waitpid(pid, &st, 0);
	if (ret_ll)
		*ret_ll = ll;
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGSYS ? KILLED : -1;
	return WEXITSTATUS(st) == 200 ? -1 : WEXITSTATUS(st);
}

static int read_the_layout(void)
{
	char b[8];
	int fd = openat(ro_fd, "blob", O_RDONLY);

	return fd < 0 ? errno : (read(fd, b, sizeof(b)) == 5 ? 0 : EIO);
}

static int write_the_rootfs(void)
{
	int fd;

	if (mkdirat(rw_fd, "etc", 0755) < 0)
		return errno;
	fd = openat(rw_fd, "etc/passwd", O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write(fd, "root:x:0:0::/:/bin/sh\n", 22) != 22)
		return errno;
	close(fd);
	if (symlinkat("passwd", rw_fd, "etc/pw") < 0 || linkat(rw_fd, "etc/passwd", rw_fd, "etc/hard", 0) < 0 ||
	    fchownat(rw_fd, "etc/passwd", 1000, 1000, 0) < 0 || fchmodat(rw_fd, "etc/passwd", 0600, 0) < 0)
		return errno;
	return unlinkat(rw_fd, "etc/hard", 0) < 0 ? errno : 0;
}

static int write_the_layout(void)
{
	return errno_of(openat(ro_fd, "new", O_WRONLY | O_CREAT, 0644));
}

static int read_outside(void)
{
	return errno_of(open("/etc/hostname", O_RDONLY));
}

static int write_outside(void)
{
	return errno_of(open("/tmp/veil-confine-escape", O_WRONLY | O_CREAT, 0644));
}

static int climb_out_of_the_layout(void)
{
	return errno_of(openat(ro_fd, "../../../etc/hostname", O_RDONLY));
}

static int make_a_device(void)
{
	return errno_of(mknodat(rw_fd, "null", S_IFCHR | 0666, makedev(1, 3)));
}

static int open_a_socket(void)
{
	return errno_of(socket(AF_INET, SOCK_STREAM, 0));
}

static int read_a_key(void)
{
	char b[64];

	return errno_of(keyctl_read(KEY_SPEC_SESSION_KEYRING, b, sizeof(b)));
}

static int signal_pid1(void)
{
	return errno_of(kill(getppid(), 0));
}

static int trace_pid1(void)
{
	return errno_of(ptrace(PTRACE_ATTACH, getppid(), 0, 0));
}

static int mount_something(void)
{
	return errno_of(mount("tmpfs", "/tmp", "tmpfs", 0, NULL));
}

static int exec_a_program(void)
{
	char *argv[] = { "true", NULL };

	execve("/bin/true", argv, NULL);
	return errno;
}

static int load_bpf(void)
{
	return errno_of(syscall(SYS_bpf, 0, NULL, 0));
}

static int fork_again(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	return p < 0 ? errno : 0;
}

/* Each of fns, in its own confined child, is killed by seccomp. */
static void expect_killed(int (*const fns[])(void), const char *const names[], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = confined(fns[i], NULL);

		if (r != KILLED)
			TH_LOG("%s: %d", names[i], r);
		EXPECT_EQ(KILLED, r);
	}
}

TEST(an_unpacker_reads_its_layout_and_writes_its_rootfs)
{
	int ll;

	EXPECT_EQ(0, confined(read_the_layout, &ll));
	EXPECT_EQ(0, confined(write_the_rootfs, &ll));
	TH_LOG("Landlock ABI %d", ll);
	done();
}

TEST(an_unpacker_cannot_touch_files_outside_its_two_directories)
{
	int ll;

	if (confined(read_the_layout, &ll) != 0 || ll == 0) {
		done();
		SKIP("this kernel has no Landlock (lsm=): the file system is bounded by seccomp and "
		     "capabilities only");
	}
	EXPECT_EQ(EACCES, confined(write_the_layout, NULL));
	EXPECT_EQ(EACCES, confined(read_outside, NULL));
	EXPECT_EQ(EACCES, confined(write_outside, NULL));
	EXPECT_EQ(EACCES, confined(climb_out_of_the_layout, NULL));
	done();
}

TEST(an_unpacker_without_the_device_grant_cannot_make_device_nodes)
{
	EXPECT_EQ(EPERM, confined(make_a_device, NULL));
	done();
}

TEST(an_unpacker_is_killed_for_sockets_keys_signals_ptrace_mounts_exec_bpf_and_fork)
{
	int (*fns[])(void) = { open_a_socket, read_a_key, signal_pid1, trace_pid1,
			       mount_something, exec_a_program, load_bpf, fork_again };
	static const char *names[] = { "socket", "keyctl", "kill", "ptrace", "mount", "execve", "bpf",
				       "fork" };

#if defined(__SANITIZE_ADDRESS__)
	SKIP("sanitizer builds log instead of kill (ASan needs more system calls at exit)");
#endif
	expect_killed(fns, names, sizeof(fns) / sizeof(fns[0]));
	done();
}

/* The network helper's cases: a listener the parent opened before the fork. */
static int listener = -1;

static int listen_on_loopback(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(listener, 4) < 0)
		return -1;
	network_helper = true;
	return 0;
}

static int connect_over_tcp(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd;

	if (getsockname(listener, (struct sockaddr *)&a, &len) < 0)
		return errno;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, len) < 0)
		return errno;
	return write(fd, "GET /", 5) == 5 ? 0 : errno;
}

static void *resolver(void *arg)
{
	return arg;
}

static int run_a_thread(void)
{
	static int token;
	pthread_t t;
	void *ret = NULL;

	if (pthread_create(&t, NULL, resolver, &token) != 0 || pthread_join(t, &ret) != 0)
		return EAGAIN;
	return ret == &token ? 0 : EIO;
}

static int read_a_config_file(void)
{
	char b[8];
	int fd = open("/proc/self/status", O_RDONLY);

	return fd < 0 ? errno : (read(fd, b, sizeof(b)) == sizeof(b) ? 0 : EIO);
}

static int write_a_device(void)
{
	int fd = open("/dev/null", O_WRONLY);

	return fd < 0 ? errno : (write(fd, "x", 1) == 1 ? 0 : errno);
}

static int write_its_directory(void)
{
	int fd = openat(rw_fd, "inblob", O_WRONLY | O_CREAT | O_TRUNC, 0600);

	return fd < 0 ? errno : (write(fd, "nonce", 5) == 5 ? 0 : errno);
}

static int give_a_file_away(void)
{
	return errno_of(fchownat(rw_fd, "inblob", 1000, 1000, 0));
}

static int make_a_user_namespace(void)
{
	return errno_of(unshare(CLONE_NEWUSER));
}

static int clone_into_a_network_namespace(void)
{
	long p = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, NULL, NULL, NULL, 0);

	if (p == 0)
		_exit(0);
	return p < 0 ? errno : 0;
}

static int set_up_io_uring(void)
{
	return errno_of(syscall(SYS_io_uring_setup, 4, NULL));
}

static int become_another_user(void)
{
	return errno_of(setuid(1000));
}

TEST(a_network_helper_reads_files_connects_over_tcp_runs_threads_and_writes_its_devices)
{
	int ll;

	ASSERT_EQ(0, listen_on_loopback());
	EXPECT_EQ(0, confined(read_a_config_file, &ll));
	EXPECT_EQ(0, confined(connect_over_tcp, NULL));
	EXPECT_EQ(0, confined(run_a_thread, NULL));
	EXPECT_EQ(0, confined(write_a_device, NULL));
	EXPECT_EQ(0, confined(write_its_directory, NULL));
	TH_LOG("Landlock ABI %d", ll);
	done();
}

TEST(a_network_helper_has_no_capabilities_and_writes_no_file_outside_its_directory)
{
	int ll;

	ASSERT_EQ(0, listen_on_loopback());
	ASSERT_EQ(0, confined(write_its_directory, &ll));
	EXPECT_EQ(EPERM, confined(give_a_file_away, NULL));
	if (ll == 0) {
		done();
		SKIP("this kernel has no Landlock (lsm=): the file system is bounded by capabilities only");
	}
	EXPECT_EQ(EACCES, confined(write_outside, NULL));
	EXPECT_EQ(EACCES, confined(write_the_layout, NULL));
	done();
}

TEST(a_network_helper_is_killed_for_keys_bpf_ptrace_signals_mounts_namespaces_exec_and_io_uring)
{
	int (*fns[])(void) = { read_a_key, load_bpf, trace_pid1, signal_pid1, mount_something,
			       make_a_user_namespace, clone_into_a_network_namespace,
			       exec_a_program, set_up_io_uring, become_another_user };
	static const char *names[] = { "keyctl", "bpf", "ptrace", "kill", "mount", "unshare",
				       "clone(CLONE_NEWNET)", "execve", "io_uring_setup", "setuid" };

#if defined(__SANITIZE_ADDRESS__)
	SKIP("sanitizer builds log instead of kill (ASan needs more system calls at exit)");
#endif
	ASSERT_EQ(0, listen_on_loopback());
	expect_killed(fns, names, sizeof(fns) / sizeof(fns[0]));
	done();
}
