// SPDX-License-Identifier: GPL-2.0-only
/*
 * Runs inside the test-bed guest: BPF LSM is active, and the test bed's
 * skeleton denies one action (socket creation) to one cgroup v2 only.
 */
#include "tests/harness.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fd.h"
#include "tests/vm/testbed_lsm.skel.h"

#define CG_ROOT "/sys/fs/cgroup"

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stdout, fmt, ap);
}

/* errno of socket() in a child moved into cgroup dir (NULL: stay), 0 on success. */
static int socket_errno_in(const char *dir)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		char procs[256];
		int s;

		if (dir) {
			snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
			int fd = open(procs, O_WRONLY | O_CLOEXEC);

			if (fd < 0 || write(fd, "0", 1) != 1)
				_exit(200);
			close(fd);
		}
		s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		_exit(s >= 0 ? 0 : errno);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static unsigned long long cgroup_id(const char *dir)
{
	struct stat st;

	/* A cgroup v2 id is its kernfs inode number. */
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return 0;
	if (stat(dir, &st) < 0)
		return 0;
	return st.st_ino;
}

TEST(bpf_is_in_the_active_lsm_list)
{
	char *lsm, *save = NULL;
	size_t n;
	bool found = false;

	ASSERT_EQ(0, fd_read_file("/sys/kernel/security/lsm", 4096, &lsm, &n));
	TH_LOG("lsm: %s", lsm);
	for (char *t = strtok_r(lsm, ",\n", &save); t; t = strtok_r(NULL, ",\n", &save))
		found = found || strcmp(t, "bpf") == 0;
	EXPECT_TRUE(found);
	free(lsm);
}

TEST(skeleton_denies_sockets_in_the_confined_cgroup_only)
{
	unsigned long long confined = cgroup_id(CG_ROOT "/confined");
	unsigned long long free_id = cgroup_id(CG_ROOT "/free");
	struct testbed_lsm_bpf *skel;
	__u32 one = 1;

	ASSERT_NE(0, confined);
	ASSERT_NE(0, free_id);
	libbpf_set_print(libbpf_quiet);
	/* Before the program: allowed everywhere. */
	EXPECT_EQ(0, socket_errno_in(CG_ROOT "/confined"));

	skel = testbed_lsm_bpf__open_and_load();
	ASSERT_NONNULL(skel);
	ASSERT_EQ(0, bpf_map__update_elem(skel->maps.confined, &confined, sizeof(confined), &one,
					  sizeof(one), BPF_ANY));
	ASSERT_EQ(0, testbed_lsm_bpf__attach(skel));

	EXPECT_EQ(EPERM, socket_errno_in(CG_ROOT "/confined"));
	EXPECT_EQ(0, socket_errno_in(CG_ROOT "/free"));
	EXPECT_EQ(0, socket_errno_in(NULL));
	EXPECT_EQ(1, skel->bss->denied);

	testbed_lsm_bpf__destroy(skel);
	/* Detached with the skeleton: allowed again. */
	EXPECT_EQ(0, socket_errno_in(CG_ROOT "/confined"));
}
