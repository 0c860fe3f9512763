// SPDX-License-Identifier: GPL-2.0-only
/*
 * getppid() and open()+close() per-call cost with no policy, under veil's
 * default seccomp profile and (-l, where BPF LSM is active: the test-bed
 * guest) under seccomp plus veil's BPF LSM policy with the caller in a sealed
 * container cgroup, interleaved round by round in one run. Prints one line
 * per (mode, call): "MODE CALL median_ns min_ns".
 *
 *   syscall_bench [-n ITER] [-r ROUNDS] [-f FILE] [-l]
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ebpf/isolation.h"
#include "launcher/seccomp_default.h"

#define ROUNDS_MAX 101

enum { CALL_GETPPID, CALL_OPENCLOSE, N_CALLS };
static const char *const call_names[N_CALLS] = { "getppid", "open+close" };
enum { MODE_NONE, MODE_SECCOMP, MODE_LSM, N_MODES };
static const char *const mode_names[N_MODES] = { "none", "seccomp", "seccomp+lsm" };
static char cgroup_dir[128], cgroup_procs[256];

static int join_cgroup(void)
{
	int fd = open(cgroup_procs, O_WRONLY | O_CLOEXEC);
	int ok = fd >= 0 && write(fd, "0", 1) == 1;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* Registers a container cgroup and seals it with one execve inside. */
static int setup_lsm(struct ebpf_isolation **ret)
{
	char *dir = cgroup_dir;
	uint64_t id;
	pid_t pid;
	int st, r;

	r = ebpf_isolation_new(NULL, ret);
	if (r < 0) {
		fprintf(stderr, "syscall_bench: BPF LSM: %s\n", strerror(-r));
		return r;
	}
	snprintf(cgroup_dir, sizeof(cgroup_dir), "/sys/fs/cgroup/veil-bench-%d", (int)getpid());
	if (mkdir(dir, 0755) < 0 || ebpf_cgroup_id(dir, &id) < 0 ||
	    ebpf_isolation_add_container(*ret, "bench", id, 0) < 0)
		return -1;
	snprintf(cgroup_procs, sizeof(cgroup_procs), "%s/cgroup.procs", dir);
	pid = fork();
	if (pid == 0) {
		if (join_cgroup() < 0)
			_exit(1);
		execl("/proc/self/exe", "syscall_bench", "-S", (char *)NULL);
		_exit(1);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return 0;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double measure(int call, long iter, const char *file)
{
	double t0 = now_ns();

	for (long i = 0; i < iter; i++) {
		if (call == CALL_GETPPID) {
			syscall(SYS_getppid);
		} else {
			int fd = open(file, O_RDONLY | O_CLOEXEC);

			if (fd < 0)
				_exit(3);
			close(fd);
		}
	}
	return (now_ns() - t0) / (double)iter;
}

/* One batch in a fresh child (a seccomp filter cannot be removed). */
static double batch(int mode, int call, long iter, const char *file, double *shared)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (mode == MODE_LSM && join_cgroup() < 0)
			_exit(2);
		if (mode != MODE_NONE) {
			void *ctx;

			if (launcher_seccomp_default_build(&ctx) < 0 || seccomp_load(ctx) < 0)
				_exit(2);
		}
		measure(call, iter / 10, file);	/* warm up */
		*shared = measure(call, iter, file);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return *shared;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static double res[N_MODES][N_CALLS][ROUNDS_MAX];
	struct ebpf_isolation *iso = NULL;
	int n_modes = 2;
	static char tmpl[64];
	const char *file = NULL;
	long iter = 200000;
	int rounds = 7, opt, cpu;
	double *shared;
	cpu_set_t set;

	while ((opt = getopt(argc, argv, "n:r:f:lS")) != -1) {
		switch (opt) {
		case 'l': n_modes = 3; break;
		case 'S': return 0;	/* the sealing execve */
		case 'n': iter = atol(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'f': file = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-n ITER] [-r ROUNDS] [-f FILE] [-l]\n", argv[0]);
			return 2;
		}
	}
	if (iter < 10 || rounds < 1 || rounds > ROUNDS_MAX) {
		fprintf(stderr, "syscall_bench: bad -n or -r\n");
		return 2;
	}
	if (!file) {
		/* a regular file of our own, wherever the machine (or the guest) has tmpfs */
		static const char *const dirs[] = { "/tmp", "/run", "/dev/shm", "/dev" };

		for (size_t i = 0; !file && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
			int fd;

			snprintf(tmpl, sizeof(tmpl), "%s/veil-bench-XXXXXX", dirs[i]);
			fd = mkstemp(tmpl);
			if (fd >= 0) {
				close(fd);
				file = tmpl;
			}
		}
		if (!file) {
			fprintf(stderr, "syscall_bench: no place for a test file\n");
			return 1;
		}
	}
	if (n_modes == 3 && setup_lsm(&iso) < 0)
		return 1;
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 1;
	/* Pin to the last CPU: both modes see the same core. */
	cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	CPU_ZERO(&set);
	CPU_SET(cpu > 0 ? cpu : 0, &set);
	sched_setaffinity(0, sizeof(set), &set);

	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < N_CALLS; c++)
			for (int m = 0; m < n_modes; m++) {
				res[m][c][r] = batch(m, c, iter, file, shared);
				if (res[m][c][r] < 0) {
					fprintf(stderr, "syscall_bench: a batch failed\n");
					return 1;
				}
			}
	for (int m = 0; m < n_modes; m++)
		for (int c = 0; c < N_CALLS; c++) {
			qsort(res[m][c], (size_t)rounds, sizeof(double), cmp_double);
			printf("%s %s %.1f %.1f\n", mode_names[m], call_names[c],
			       res[m][c][rounds / 2], res[m][c][0]);
		}
	if (file == tmpl)
		unlink(tmpl);
	if (iso) {
		ebpf_isolation_free(iso);
		rmdir(cgroup_dir);
	}
	return 0;
}
