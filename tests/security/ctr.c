// SPDX-License-Identifier: GPL-2.0-only
/* Containers for attack tests (see ctr.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ebpf/isolation.h"
#include "keyring/keyring.h"
#include "launcher/seccomp_default.h"
#include "tests/harness.h"
#include "tests/security/attack.h"
#include "tests/security/ctr.h"

/*
 * Re-executed with VEIL_ATTACK set, a test program is the attacker: it runs
 * the attack before the harness starts and exits with its result.
 */
__attribute__((constructor)) static void attack_mode(void)
{
	const char *name = getenv("VEIL_ATTACK");

	if (name)
		_exit(attack_run(name, getenv("VEIL_ATTACK_ARG")));
}

#define CGROUP2_SUPER_MAGIC 0x63677270

const char *ctr_cgroup_root(void)
{
	static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct statfs s;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (statfs(roots[i], &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC)
			return roots[i];
	return NULL;
}

int ctr_cgroup_new(const char *name, char **ret_path, uint64_t *ret_id)
{
	const char *root = ctr_cgroup_root();
	char *p;
	int r;

	if (!root)
		return -ENOENT;
	if (asprintf(&p, "%s/%s", root, name) < 0)
		return -ENOMEM;
	if (mkdir(p, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		free(p);
		return r;
	}
	r = ebpf_cgroup_id(p, ret_id);
	if (r < 0) {
		rmdir(p);
		free(p);
		return r;
	}
	*ret_path = p;
	return 0;
}

void ctr_cgroup_free(char *path)
{
	if (path)
		rmdir(path);
	free(path);
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

int ctr_attack(const struct ctr_spec *s, const char *attack, const char *arg)
{
	char attacker[4096], procs[4096];
	int sync1[2], sync2[2], st;
	void *filter = NULL;
	pid_t pid;
	char c;

	/* the test program itself, by its real path (so comm is its name) */
	{
		ssize_t n = readlink("/proc/self/exe", attacker, sizeof(attacker) - 1);

		if (n < 0)
			return -errno;
		attacker[n] = '\0';
	}
	if (s->seccomp && launcher_seccomp_default_build(&filter) < 0)
		return -EIO;
	if (pipe2(sync1, O_CLOEXEC) < 0 || pipe2(sync2, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/*
		 * The order of veil-init's container child: the keyring first (a
		 * sealed cgroup, say of a restarted container, may no longer
		 * link), then the user namespace (veil-init's clone3 creates it,
		 * outside the container cgroup), then veil-init moves it into its
		 * cgroup and writes its id maps; then seccomp and exec.
		 */
		if (s->name && keyring_join_container(s->name, s->ring) < 0)
			_exit(202);
		if (s->user != CTR_HOST_ROOT && unshare(CLONE_NEWUSER) < 0)
			_exit(203);
		if (write(sync1[1], "u", 1) != 1 || read(sync2[0], &c, 1) != 1)
			_exit(204);
		if (s->user != CTR_HOST_ROOT && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
			_exit(205);
		if (s->user == CTR_USERNS_USER &&
		    (setgroups(0, NULL) < 0 || setresgid(1000, 1000, 1000) < 0 ||
		     setresuid(1000, 1000, 1000) < 0))
			_exit(206);
		if (filter && seccomp_load(filter) < 0)
			_exit(207);
		if (setenv("VEIL_ATTACK", attack, 1) < 0 ||
		    (arg && setenv("VEIL_ATTACK_ARG", arg, 1) < 0))
			_exit(209);
		execl(attacker, attacker, (char *)NULL);
		_exit(208);
	}
	close(sync1[1]);
	close(sync2[0]);
	if (read(sync1[0], &c, 1) == 1) {
		char path[64], spid[16];

		if (s->cgroup) {
			snprintf(procs, sizeof(procs), "%s/cgroup.procs", s->cgroup);
			snprintf(spid, sizeof(spid), "%d", (int)pid);
			if (write_file(procs, spid) < 0)
				TH_LOG("move %d to '%s': %s", (int)pid, procs, strerror(errno));
		}
		if (s->user != CTR_HOST_ROOT) {
			snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
			write_file(path, "0 100000 65536\n");
			snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
			write_file(path, "0 100000 65536\n");
		}
		if (write(sync2[1], "g", 1) != 1)
			TH_LOG("sync: %s", strerror(errno));
	}
	close(sync1[0]);
	close(sync2[1]);
	if (filter)
		seccomp_release(filter);
	if (waitpid(pid, &st, 0) != pid)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
