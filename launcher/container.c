// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>

#include <keyutils.h>
#include <linux/openat2.h>

#include "keyring/keyring.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"

#define CHILD_ERR_MAX 512

extern char **environ;

struct child {
	const char *name;
	const struct oci_config *cfg;
	int sync_fd;	/* parent -> child: maps written (and, late entry: moved) */
	int err_fd;	/* child -> parent: reason of a failure (CLOEXEC: EOF on execve) */
	int out_fd;
	bool move_cgroup_ns;	/* no CLONE_INTO_CGROUP: unshare the cgroup ns after the move */
	int mounted_fd;	/* late entry: child -> parent "mounts done, move me" (else -1) */
	key_serial_t grants_ring;	/* linked into the new session keyring; 0: none */
};

/* In the child: report and exit. 126/127 for exec failures, 1 for setup. */
static void __attribute__((noreturn, format(printf, 3, 4)))
child_fail(const struct child *c, int status, const char *fmt, ...)
{
	char msg[CHILD_ERR_MAX];
	int saved = errno;
	va_list ap;
	int n;

	va_start(ap, fmt);
	errno = saved;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(c->err_fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	_exit(status);
}

static int write_file(const char *path, const char *data)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return fd_write_full(fd, data, strlen(data));
}

static int openat_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd;

	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* mkdir -p of path (or its parent and an empty file) inside root, never leaving it. */
static int make_in_root(int rootfd, const char *path, bool file)
{
	char buf[PATH_MAX], *p;
	int fd;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (p = buf + 1;; p++) {
		bool last = !*p;

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		fd = openat_in_root(rootfd, buf, O_PATH);
		if (fd >= 0) {
			close(fd);
		} else if (fd == -ENOENT) {
			char *slash = strrchr(buf, '/');
			int parent;

			*slash = '\0';
			parent = openat_in_root(rootfd, *buf ? buf : "/", O_PATH | O_DIRECTORY);
			*slash = '/';
			if (parent < 0)
				return parent;
			if (last && file)
				fd = openat(parent, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
			else
				fd = mkdirat(parent, slash + 1, 0755);
			if (fd < 0 && errno != EEXIST) {
				int r = -errno;

				close(parent);
				return r;
			}
			if (fd > 0)
				close(fd);
			close(parent);
		} else {
			return fd;
		}
		if (last)
			return 0;
		*p = '/';
	}
}

static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	return f;
}

static void do_mount(const struct child *c, int rootfd, const struct oci_mount *m)
{
	bool bind = !strcmp(m->type, "bind");
	struct stat st;
	char target[64];
	int fd, r;

	if (bind && stat(m->source, &st) < 0)
		child_fail(c, 1, "Failed to stat bind source '%s': %m", m->source);
	r = make_in_root(rootfd, m->destination, bind && !S_ISDIR(st.st_mode));
	if (r < 0) {
		errno = -r;
		child_fail(c, 1, "Failed to create mount point '%s': %m", m->destination);
	}
	fd = openat_in_root(rootfd, m->destination, O_PATH);
	if (fd < 0) {
		errno = -fd;
		child_fail(c, 1, "Failed to open mount point '%s': %m", m->destination);
	}
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	if (bind) {
		if (mount(m->source, target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
			child_fail(c, 1, "Failed to bind '%s' on '%s': %m", m->source, m->destination);
		unsigned long extra = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
		if (extra) {
			close(fd);
			fd = openat_in_root(rootfd, m->destination, O_PATH);
			snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
			if (fd < 0 || mount(NULL, target, NULL,
					    MS_BIND | MS_REMOUNT | extra | locked_flags(target), NULL) < 0)
				child_fail(c, 1, "Failed to remount '%s' with its options: %m",
					   m->destination);
		}
	} else {
		const char *data = m->data && *m->data ? m->data : NULL;
		char dbuf[128];

		if (!strcmp(m->type, "devpts") && !data) {
			snprintf(dbuf, sizeof(dbuf), "newinstance,ptmxmode=0666,mode=0620");
			data = dbuf;
		}
		if (mount(m->source, target, m->type, m->flags & ~(MS_BIND | MS_REC), data) < 0)
			child_fail(c, 1, "Failed to mount %s on '%s': %m", m->type, m->destination);
	}
	if (m->propagation) {
		close(fd);
		fd = openat_in_root(rootfd, m->destination, O_PATH);
		snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
		if (fd < 0 || mount(NULL, target, NULL, m->propagation, NULL) < 0)
			child_fail(c, 1, "Failed to set propagation of '%s': %m", m->destination);
	}
	close(fd);
}

static bool has_mount(const struct oci_config *cfg, const char *dest)
{
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (!strcmp(cfg->mounts[i].destination, dest))
			return true;
	return false;
}

/* A minimal /dev: the harmless character devices bound from the host, links, pts, shm. */
static void make_dev(const struct child *c, int rootfd)
{
	static const char *const devs[] = { "null", "zero", "full", "random", "urandom", "tty", NULL };
	static const char *const links[][2] = { { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
						{ "/proc/self/fd/1", "stdout" },
						{ "/proc/self/fd/2", "stderr" }, { "pts/ptmx", "ptmx" } };
	int devfd, r;

	if (!has_mount(c->cfg, "/dev")) {
		struct oci_mount m = { "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_NOEXEC, 0, false,
				       "mode=755,size=65536k" };

		do_mount(c, rootfd, &m);
	}
	for (int i = 0; devs[i]; i++) {
		char host[32], dst[32];
		struct oci_mount m = { dst, "bind", host, MS_BIND, 0, false, NULL };

		snprintf(host, sizeof(host), "/dev/%s", devs[i]);
		snprintf(dst, sizeof(dst), "/dev/%s", devs[i]);
		if (access(host, F_OK) < 0)
			continue;
		do_mount(c, rootfd, &m);
	}
	devfd = openat_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
	if (devfd < 0) {
		errno = -devfd;
		child_fail(c, 1, "Failed to open /dev: %m");
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][0], devfd, links[i][1]) < 0 && errno != EEXIST)
			child_fail(c, 1, "Failed to create /dev/%s: %m", links[i][1]);
	close(devfd);
	r = make_in_root(rootfd, "/dev/shm", false);
	if (r >= 0)
		r = make_in_root(rootfd, "/dev/pts", false);
	if (r < 0) {
		errno = -r;
		child_fail(c, 1, "Failed to create /dev/shm or /dev/pts: %m");
	}
	if (!has_mount(c->cfg, "/dev/pts")) {
		struct oci_mount m = { "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, 0, false,
				       "newinstance,ptmxmode=0666,mode=0620" };

		do_mount(c, rootfd, &m);
	}
}

static void mask_paths(const struct child *c)
{
	for (size_t i = 0; i < c->cfg->n_masked; i++) {
		const char *p = c->cfg->masked[i];
		struct stat st;

		if (lstat(p, &st) < 0) {
			if (errno == ENOENT)
				continue;
			child_fail(c, 1, "Failed to stat masked path '%s': %m", p);
		}
		if (S_ISDIR(st.st_mode)) {
			if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				  "size=0") < 0)
				child_fail(c, 1, "Failed to mask '%s': %m", p);
		} else if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0) {
			child_fail(c, 1, "Failed to mask '%s': %m", p);
		}
	}
	for (size_t i = 0; i < c->cfg->n_readonly; i++) {
		const char *p = c->cfg->readonly[i];

		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			child_fail(c, 1, "Failed to bind read-only path '%s': %m", p);
		}
		if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(p), NULL) < 0)
			child_fail(c, 1, "Failed to make '%s' read-only: %m", p);
	}
}

static void set_caps(const struct child *c)
{
	const struct oci_config *cfg = c->cfg;
	static const cap_flag_t flags[] = { 0, CAP_EFFECTIVE, CAP_INHERITABLE, CAP_PERMITTED };
	cap_t caps;

	for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++)
		if (!(cfg->caps[OCI_CAP_BOUNDING] & (1ull << v)) && CAP_IS_SUPPORTED(v) &&
		    cap_drop_bound(v) < 0)
			child_fail(c, 1, "Failed to drop capability %d from the bounding set: %m", v);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		child_fail(c, 1, "Failed to keep capabilities: %m");
	if (setgroups(cfg->n_groups, cfg->groups) < 0)
		child_fail(c, 1, "Failed to set additional groups: %m");
	if (setresgid(cfg->gid, cfg->gid, cfg->gid) < 0)
		child_fail(c, 1, "Failed to set gid %u: %m", cfg->gid);
	if (setresuid(cfg->uid, cfg->uid, cfg->uid) < 0)
		child_fail(c, 1, "Failed to set uid %u: %m", cfg->uid);
	caps = cap_init();
	if (!caps)
		child_fail(c, 1, "Out of memory");
	for (int s = OCI_CAP_EFFECTIVE; s <= OCI_CAP_PERMITTED; s++)
		for (cap_value_t v = 0; v <= 63; v++)
			if (cfg->caps[s] & (1ull << v))
				cap_set_flag(caps, flags[s], 1, &v, CAP_SET);
	if (cap_set_proc(caps) < 0)
		child_fail(c, 1, "Failed to set capabilities: %m");
	cap_free(caps);
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		child_fail(c, 1, "Failed to reset ambient capabilities: %m");
	for (cap_value_t v = 0; v <= 63; v++)
		if ((cfg->caps[OCI_CAP_AMBIENT] & (1ull << v)) && cap_set_ambient(v, CAP_SET) < 0)
			child_fail(c, 1, "Failed to raise ambient capability %d: %m", v);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		child_fail(c, 1, "Failed to reset keep-capabilities: %m");
}

/* The executable, found on the container's PATH before seccomp can forbid the search. */
static const char *find_exec(const struct oci_config *cfg, char *buf, size_t len)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	const char *a0 = cfg->args[0];

	if (strchr(a0, '/'))
		return a0;
	for (size_t i = 0; i < cfg->n_env; i++)
		if (!strncmp(cfg->env[i], "PATH=", 5))
			path = cfg->env[i] + 5;
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n && (size_t)snprintf(buf, len, "%.*s/%s", (int)n, path, a0) < len &&
		    access(buf, X_OK) == 0)
			return buf;
		path += n;
		if (*path == ':')
			path++;
	}
	return a0;
}

static int child_main(void *arg)
{
	const struct child *c = arg;
	const struct oci_config *cfg = c->cfg;
	char buf[PATH_MAX];
	const char *exe;
	int rootfd, nul;
	char b;

	sigset_t none;

	/* PID 1 blocks the signals its signalfd reads; the container starts with none blocked. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (read(c->sync_fd, &b, 1) != 1)
		_exit(1);	/* the parent gave up on us */
	if (c->mounted_fd < 0)
		close(c->sync_fd);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(c, 1, "Failed to set the parent-death signal: %m");
	if (c->move_cgroup_ns && c->mounted_fd < 0 && unshare(CLONE_NEWCGROUP) < 0)
		child_fail(c, 1, "Failed to create the cgroup namespace: %m");
	/*
	 * A fresh session keyring: nothing of PID 1's or another container's, and
	 * its granted keys linked in. This must come before the setresuid below:
	 * our credentials are still kuid 0 (veil-init's), which linking the
	 * grants ring needs; ns-root may map to any other kuid.
	 */
	if (keyring_join_container(c->name, c->grants_ring) < 0)
		child_fail(c, 1, "Failed to join the container's session keyring: %m");
	/* Root of the new user namespace while setting up (when 0 is mapped). */
	(void)!setresgid(0, 0, 0);
	(void)!setresuid(0, 0, 0);
	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(c->out_fd, 1) < 0 || dup2(c->out_fd, 2) < 0)
		child_fail(c, 1, "Failed to set up stdio: %m");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(c, 1, "Failed to make mounts private: %m");
	if (mount(cfg->root_path, cfg->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
		child_fail(c, 1, "Failed to bind the rootfs '%s': %m", cfg->root_path);
	rootfd = open(cfg->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		child_fail(c, 1, "Failed to open the rootfs '%s': %m", cfg->root_path);
	for (size_t i = 0; i < cfg->n_mounts; i++)
		do_mount(c, rootfd, &cfg->mounts[i]);
	make_dev(c, rootfd);
	if (fchdir(rootfd) < 0)
		child_fail(c, 1, "Failed to enter the rootfs: %m");
	/* pivot_root(".", ".") stacks the old root under the new; detaching it leaves the new. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		child_fail(c, 1, "Failed to pivot_root into '%s': %m", cfg->root_path);
	if (umount2(".", MNT_DETACH) < 0)
		child_fail(c, 1, "Failed to detach the old root: %m");
	if (chdir("/") < 0)
		child_fail(c, 1, "Failed to chdir to the new root: %m");
	close(rootfd);
	mask_paths(c);
	if (cfg->root_readonly &&
	    mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), NULL) < 0)
		child_fail(c, 1, "Failed to make the root read-only: %m");
	/*
	 * Late cgroup entry: every mount is done; now the parent moves us into the
	 * leaf the LSM confines (it refuses mounts there), and the cgroup namespace
	 * is rooted at the leaf.
	 */
	if (c->mounted_fd >= 0) {
		if (write(c->mounted_fd, "m", 1) != 1 || read(c->sync_fd, &b, 1) != 1)
			child_fail(c, 1, "Failed to hand over for the cgroup move: %m");
		close(c->mounted_fd);
		close(c->sync_fd);
		if (unshare(CLONE_NEWCGROUP) < 0)
			child_fail(c, 1, "Failed to create the cgroup namespace: %m");
	}
	for (size_t i = 0; i < cfg->n_sysctl; i++) {
		char p[256], *q;
		int r;

		snprintf(p, sizeof(p), "/proc/sys/%s", cfg->sysctl[i].key);
		for (q = p + 10; *q; q++)
			if (*q == '.')
				*q = '/';
		r = write_file(p, cfg->sysctl[i].value);
		if (r < 0) {
			errno = -r;
			child_fail(c, 1, "Failed to set sysctl '%s': %m", cfg->sysctl[i].key);
		}
	}
	if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		child_fail(c, 1, "Failed to set the hostname: %m");
	for (size_t i = 0; i < cfg->n_rlimits; i++) {
		struct rlimit rl = { cfg->rlimits[i].soft, cfg->rlimits[i].hard };

		if (setrlimit(cfg->rlimits[i].resource, &rl) < 0)
			child_fail(c, 1, "Failed to set rlimit %d: %m", cfg->rlimits[i].resource);
	}
	if (cfg->has_oom_score_adj) {
		char v[16];
		int r;

		snprintf(v, sizeof(v), "%d", cfg->oom_score_adj);
		r = write_file("/proc/self/oom_score_adj", v);
		if (r < 0) {
			errno = -r;
			child_fail(c, 1, "Failed to set oom_score_adj: %m");
		}
	}
	set_caps(c);
	if (cfg->umask >= 0)
		umask((mode_t)cfg->umask);
	if (chdir(cfg->cwd) < 0)
		child_fail(c, 1, "Failed to chdir to '%s': %m", cfg->cwd);
	if (cfg->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(c, 1, "Failed to set no_new_privs: %m");
	exe = find_exec(cfg, buf, sizeof(buf));
	environ = cfg->env ? cfg->env : (char *[]){ NULL };
	if (cfg->seccomp) {
		int r = launcher_seccomp_load(cfg->seccomp);

		if (r < 0) {
			errno = -r;
			child_fail(c, 1, "Failed to load the seccomp filter: %m");
		}
	}
	execve(exe, cfg->args, environ);
	child_fail(c, errno == ENOENT ? 127 : 126, "Failed to execute '%s': %m", cfg->args[0]);
}

static int write_map(pid_t pid, const char *file, const struct oci_idmap *m, size_t n)
{
	char path[64], buf[256];
	size_t len = 0;

	if (!n) {
		/* Default: the container's ids 0..65535 are the host's; capabilities stay in the ns. */
		static const struct oci_idmap def = { 0, 0, 65536 };

		m = &def;
		n = 1;
	}
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id,
					m[i].host_id, m[i].size);
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	return write_file(path, buf);
}

static pid_t clone3_raw(struct clone_args *a)
{
	return (pid_t)syscall(SYS_clone3, a, sizeof(*a));
}

static int move_into(pid_t pid, const char *cgroup_path)
{
	_cleanup_free_ char *procs = NULL;
	char v[16];

	snprintf(v, sizeof(v), "%d", pid);
	if (asprintf(&procs, "%s/cgroup.procs", cgroup_path) < 0)
		return -ENOMEM;
	return write_file(procs, v);
}

int launcher_container_start(const char *name, const struct oci_config *cfg,
			     const char *cgroup_path, int32_t grants_ring, unsigned int flags,
			     struct launcher_started *ret)
{
	int sync_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, out_p[2] = { -1, -1 };
	int mnt_p[2] = { -1, -1 };
	_cleanup_close_ int cgfd = -1;
	struct child c = { name, cfg, -1, -1, -1, false, -1, grants_ring };
	bool late = flags & LAUNCHER_START_CGROUP_AFTER_MOUNTS;
	struct clone_args a = { 0 };
	char msg[CHILD_ERR_MAX];
	int pidfd = -1, r, status;
	ssize_t n;
	pid_t pid;

	cgfd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return log_err("container '%s': Failed to open cgroup '%s': %m", name, cgroup_path);
	if (pipe2(sync_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0 || pipe2(out_p, O_CLOEXEC) < 0) {
		r = log_err("container '%s': Failed to create pipes: %m", name);
		goto fail;
	}
	if (late && pipe2(mnt_p, O_CLOEXEC) < 0) {
		r = log_err("container '%s': Failed to create pipes: %m", name);
		goto fail;
	}
	c.sync_fd = sync_p[0];
	c.err_fd = err_p[1];
	c.out_fd = out_p[1];
	c.mounted_fd = mnt_p[1];
	a.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
		  CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_PIDFD | CLONE_INTO_CGROUP;
	a.pidfd = (uint64_t)(uintptr_t)&pidfd;
	a.exit_signal = SIGCHLD;
	a.cgroup = (uint64_t)cgfd;
	if (late) {
		/* Starts in veil's own group; moved once its mounts are done. */
		a.flags &= ~(uint64_t)(CLONE_INTO_CGROUP | CLONE_NEWCGROUP);
		c.move_cgroup_ns = true;
	}
	pid = clone3_raw(&a);
	if (!late && pid < 0 && (errno == EINVAL || errno == E2BIG || errno == EOPNOTSUPP)) {
		/* No CLONE_INTO_CGROUP: move the child ourselves, it unshares its cgroup ns after. */
		a.flags &= ~(uint64_t)(CLONE_INTO_CGROUP | CLONE_NEWCGROUP);
		c.move_cgroup_ns = true;
		pid = clone3_raw(&a);
	}
	if (pid < 0) {
		r = log_err("container '%s': Failed to clone3: %m", name);
		goto fail;
	}
	if (pid == 0) {
		close(sync_p[1]);
		close(err_p[0]);
		close(out_p[0]);
		if (mnt_p[0] >= 0)
			close(mnt_p[0]);
		_exit(child_main(&c));
	}
	close(sync_p[0]);
	close(err_p[1]);
	close(out_p[1]);
	sync_p[0] = err_p[1] = out_p[1] = -1;
	if (mnt_p[1] >= 0) {
		close(mnt_p[1]);
		mnt_p[1] = -1;
	}
	if (c.move_cgroup_ns && !late) {
		r = move_into(pid, cgroup_path);
		if (r < 0) {
			errno = -r;
			log_err("container '%s': Failed to move it into '%s': %m", name, cgroup_path);
			goto kill;
		}
	}
	r = write_map(pid, "uid_map", cfg->uid_map, cfg->n_uid_map);
	if (r >= 0)
		r = write_map(pid, "gid_map", cfg->gid_map, cfg->n_gid_map);
	if (r < 0) {
		errno = -r;
		log_err("container '%s': Failed to write its uid/gid map: %m", name);
		goto kill;
	}
	if (write(sync_p[1], "1", 1) != 1) {
		r = log_err("container '%s': Failed to release it: %m", name);
		goto kill;
	}
	if (late) {
		char m;

		/* EOF instead of the byte: it failed during setup; the reason follows below. */
		if (read(mnt_p[0], &m, 1) == 1) {
			r = move_into(pid, cgroup_path);
			if (r < 0) {
				errno = -r;
				log_err("container '%s': Failed to move it into '%s': %m", name,
					cgroup_path);
				goto kill;
			}
			if (write(sync_p[1], "2", 1) != 1) {
				r = log_err("container '%s': Failed to release it: %m", name);
				goto kill;
			}
		}
		close(mnt_p[0]);
		mnt_p[0] = -1;
	}
	close(sync_p[1]);
	sync_p[1] = -1;
	/* EOF: it reached execve. Bytes: the reason it did not. */
	n = read(err_p[0], msg, sizeof(msg) - 1);
	close(err_p[0]);
	err_p[0] = -1;
	if (n > 0) {
		msg[n] = '\0';
		log_err("container '%s': %s", name, msg);
		while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
			;
		close(pidfd);
		close(out_p[0]);
		return -ECANCELED;
	}
	fd_set_nonblock(out_p[0], true);
	ret->pid = pid;
	ret->pidfd = pidfd;
	ret->out_fd = out_p[0];
	return 0;
kill:
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
fail:
	if (pidfd >= 0)
		close(pidfd);
	for (int i = 0; i < 2; i++) {
		if (sync_p[i] >= 0)
			close(sync_p[i]);
		if (err_p[i] >= 0)
			close(err_p[i]);
		if (out_p[i] >= 0)
			close(out_p[i]);
		if (mnt_p[i] >= 0)
			close(mnt_p[i]);
	}
	return r < 0 ? r : -EIO;
}
