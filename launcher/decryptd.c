// SPDX-License-Identifier: GPL-2.0-only
/* veil-decryptd started, supervised and stopped by veil-init (launcher/decryptd.h). */
#include "launcher/decryptd.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"
#include "launcher/lsm.h"

#define DD_NAME MANIFEST_DECRYPTD_NAME
#define DD_CONFIG LAUNCHER_DD_DIR "/decryptd.json"
#define DD_SOCKET LAUNCHER_DD_SOCK_DIR "/decryptd.sock"
#define DD_RECEIPTS LAUNCHER_DD_DIR "/receipts"
#define DD_ERR_MAX 256
#define DD_SET_UP '\1'	/* the child's word: set up, waiting to enter its cgroup */

struct launcher_decryptd {
	const struct manifest *m;
	struct keyring *kr;
	char exe[4096];
	char *cgroup;		/* its leaf */
	struct launcher_lsm *lsm;	/* NULL: BPF LSM not active (degraded mode) */
	uint64_t cgid;		/* its leaf's id, registered with the LSM (0: not) */
	key_serial_t ring;	/* veil:ctr:veil-decryptd, linking the FHE key */
	pid_t pid;		/* 0: not running */
	int pidfd;
	int tfd;		/* restart timer, watched by PID 1's loop */
	unsigned int restarts;
	bool halted;		/* its key was revoked: never started again */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The service binary: beside veil-init (build tree, /usr/bin), else /usr/bin. */
static int find_exe(char *buf, size_t len)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		snprintf(buf, len, "%s/veil-decryptd", dirname(self));
		if (access(buf, X_OK) == 0)
			return 0;
	}
	snprintf(buf, len, "/usr/bin/veil-decryptd");
	if (access(buf, X_OK) == 0)
		return 0;
	return -ENOENT;
}

static bool granted_any(const struct manifest *m, const char *ctr)
{
	for (size_t i = 0; i < m->dd.n_models; i++)
		for (size_t k = 0; k < m->dd.models[i].n_grant; k++)
			if (strcmp(m->dd.models[i].grant[k], ctr) == 0)
				return true;
	return false;
}

/*
 * The service's config: the socket, its sizes, the models with the key's
 * keyring description, and the cgroup (as /proc/PID/cgroup shows it, i.e.
 * relative to the cgroup2 mount) of every container granted some model.
 */
static int write_config(const struct launcher_pod *pod, const char *key_desc)
{
	const struct manifest *m = pod->m;
	_cleanup_free_ char *mnt = NULL, *text = NULL;
	json_t *root, *ctrs, *models;
	size_t ml;
	int r;

	r = launcher_cgroup_find_mount(&mnt);
	if (r < 0)
		return log_err("Failed to find the cgroup2 mount: %s", strerror(-r));
	ml = strlen(mnt);
	root = json_pack("{s:s,s:I,s:I,s:I,s:s,s:{},s:{}}", "socket", DD_SOCKET, "workers",
			 (json_int_t)m->dd.workers, "queue", (json_int_t)m->dd.queue,
			 "max_connections", (json_int_t)m->dd.max_connections, "io", "auto",
			 "containers", "models");
	if (!root)
		return -ENOMEM;
	ctrs = json_object_get(root, "containers");
	models = json_object_get(root, "models");
	r = 0;
	if (m->dd.receipts && json_object_set_new(root, "receipts", json_string(DD_RECEIPTS)) < 0)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < pod->n_units; i++) {
		const struct launcher_unit *u = &pod->units[i];

		if (u->state != UNIT_WAITING || !granted_any(m, u->mc->name))
			continue;
		if (strncmp(u->cgroup, mnt, ml) != 0 || u->cgroup[ml] != '/') {
			r = log_err("container '%s': cgroup '%s' is not under '%s'", u->mc->name,
				    u->cgroup, mnt);
			break;
		}
		if (json_object_set_new(ctrs, u->cgroup + ml, json_string(u->mc->name)) < 0)
			r = -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < m->dd.n_models; i++) {
		const struct manifest_decryptd_model *dm = &m->dd.models[i];
		json_t *g = json_array(), *o;

		for (size_t k = 0; g && k < dm->n_grant; k++)
			if (json_array_append_new(g, json_string(dm->grant[k])) < 0) {
				json_decref(g);
				g = NULL;
			}
		o = g ? json_pack("{s:s,s:s,s:o}", "sealed", dm->sealed, "key", key_desc, "grant", g)
		      : NULL;
		if (!o || json_object_set_new(models, dm->name, o) < 0)
			r = -ENOMEM;
	}
	if (r == 0) {
		text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
		r = text ? fd_write_file_atomic(DD_CONFIG, text, strlen(text), 0600) : -ENOMEM;
		if (r < 0)
			log_err("Failed to write '%s': %s", DD_CONFIG, strerror(-r));
	}
	json_decref(root);
	return r;
}

/* A tmpfs of the service's own: its config, receipts, and sock/ for the containers. */
static int make_dirs(void)
{
	/*
	 * 0711, outside /run/veil (0700): a container's first process resolves
	 * the bind source as root of its user namespace, an unprivileged user
	 * here, so it must be able to traverse (not list) the way to sock/.
	 */
	if (mkdir(LAUNCHER_DD_DIR, 0711) < 0 && errno != EEXIST)
		return log_err("Failed to create '%s': %m", LAUNCHER_DD_DIR);
	if (mount("tmpfs", LAUNCHER_DD_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0711,size=4m") < 0)
		return log_err("Failed to mount a tmpfs on '%s': %m", LAUNCHER_DD_DIR);
	/* Containers traverse only this one: connect() needs search here, write on the socket. */
	if (mkdir(LAUNCHER_DD_SOCK_DIR, 0755) < 0)
		return log_err("Failed to create '%s': %m", LAUNCHER_DD_SOCK_DIR);
	return 0;
}

/* The socket directory, read-only at /run/veil of each granted container. */
static int add_mounts(struct launcher_pod *pod)
{
	for (size_t i = 0; i < pod->n_units; i++) {
		struct launcher_unit *u = &pod->units[i];
		struct oci_config *cfg = u->cfg;
		struct oci_mount *mm, *mnt;

		if (u->state != UNIT_WAITING || !granted_any(pod->m, u->mc->name))
			continue;
		mm = realloc(cfg->mounts, (cfg->n_mounts + 1) * sizeof(*mm));
		if (!mm)
			return -ENOMEM;
		cfg->mounts = mm;
		mnt = &mm[cfg->n_mounts];
		*mnt = (struct oci_mount){
			.destination = strdup(LAUNCHER_DD_CTR_DIR),
			.type = strdup("bind"),
			.source = strdup(LAUNCHER_DD_SOCK_DIR),
			.flags = MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			.bind_ro = true,
		};
		cfg->n_mounts++;
		if (!mnt->destination || !mnt->type || !mnt->source)
			return -ENOMEM;
		log_info("container '%s' may decrypt: veil-decryptd's socket at %s/decryptd.sock",
			 u->mc->name, LAUNCHER_DD_CTR_DIR);
	}
	return 0;
}

static void __attribute__((noreturn)) child_fail(int err_fd, const char *what)
{
	char msg[DD_ERR_MAX];
	int n = snprintf(msg, sizeof(msg), "%s: %s", what, strerror(errno));

	(void)!write(err_fd, msg, (size_t)(n < (int)sizeof(msg) ? n : (int)sizeof(msg) - 1));
	_exit(127);
}

/*
 * In the forked child, still uid 0 with every capability and still in PID 1's
 * cgroup: join the key's ring, make the file system read-only but for the
 * service's tmpfs, drop every capability but CAP_IPC_LOCK (for mlockall), no
 * new privileges; then say so and wait while PID 1 moves it into its own
 * cgroup, and exec. The service then hardens itself further (seccomp).
 *
 * The order is the LSM's (docs/threat-model.md): its cgroup is registered and
 * sealed by the first exec in it, after which the policy refuses mounts and
 * linking keys there. A restarted service must still join its ring and make
 * its mounts, so all of that happens outside the cgroup, and the child
 * enters it when nothing is left but execve.
 */
static void __attribute__((noreturn)) child_main(const struct launcher_decryptd *d, int sync_fd,
						 int err_fd)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	struct mount_attr rw = { .attr_clr = MOUNT_ATTR_RDONLY };
	const cap_value_t lock = CAP_IPC_LOCK;
	char *const argv[] = { (char *)"veil-decryptd", (char *)"--config", (char *)DD_CONFIG, NULL };
	char *const envp[] = { NULL };
	sigset_t none;
	cap_t caps;
	char b;
	int fd;

	if (read(sync_fd, &b, 1) != 1)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (keyring_join_container(DD_NAME, d->ring) < 0)
		child_fail(err_fd, "Failed to join its keyring");
	/* Before every mount turns nodev. */
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0)
		child_fail(err_fd, "Failed to open /dev/null");
	if (fd > 0)
		close(fd);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(err_fd, "Failed to make its mounts private");
	if (syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof(ro)) < 0 ||
	    syscall(SYS_mount_setattr, AT_FDCWD, LAUNCHER_DD_DIR, AT_RECURSIVE, &rw, sizeof(rw)) < 0)
		child_fail(err_fd, "Failed to make its file system read-only");
	/* Every capability goes but CAP_IPC_LOCK, which mlockall of a service of its size needs. */
	for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if (c != CAP_IPC_LOCK && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			child_fail(err_fd, "Failed to drop the bounding set");
	caps = cap_init();
	if (!caps || cap_set_flag(caps, CAP_PERMITTED, 1, &lock, CAP_SET) < 0 ||
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, &lock, CAP_SET) < 0 || cap_set_proc(caps) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		child_fail(err_fd, "Failed to drop its capabilities");
	cap_free(caps);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(err_fd, "Failed to set no_new_privs");
	b = DD_SET_UP;
	if (write(err_fd, &b, 1) != 1 || read(sync_fd, &b, 1) != 1)
		_exit(127);
	execve(d->exe, argv, envp);
	child_fail(err_fd, "Failed to execute veil-decryptd");
}

static int move_into(pid_t pid, const char *cgroup)
{
	_cleanup_free_ char *procs = NULL;
	_cleanup_close_ int fd = -1;
	char v[16];
	int n;

	if (asprintf(&procs, "%s/cgroup.procs", cgroup) < 0)
		return -ENOMEM;
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(v, sizeof(v), "%d", pid);
	return fd_write_full(fd, v, (size_t)n);
}

static void log_exit(const char *what, const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		log_info("veil-decryptd (pid %d) %s with status %d", si->si_pid, what, si->si_status);
	else
		log_warn("veil-decryptd (pid %d) %s: killed by signal %d", si->si_pid, what,
			 si->si_status);
}

static int spawn(struct launcher_decryptd *d)
{
	int sync_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, pidfd = -1;
	struct clone_args a = { 0 };
	char msg[DD_ERR_MAX];
	ssize_t n;
	pid_t pid;
	int r = 0;

	if (pipe2(sync_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0) {
		r = log_err("Failed to create pipes for veil-decryptd: %m");
		goto out;
	}
	/*
	 * Not a new PID namespace: SO_PEERCRED must name the peers as /proc shows
	 * them. Not CLONE_INTO_CGROUP: it enters its cgroup after its set-up.
	 */
	a.flags = CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
	a.pidfd = (uint64_t)(uintptr_t)&pidfd;
	a.exit_signal = SIGCHLD;
	pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
	if (pid < 0) {
		r = log_err("Failed to start veil-decryptd: clone3: %m");
		goto out;
	}
	if (pid == 0) {
		close(sync_p[1]);
		close(err_p[0]);
		child_main(d, sync_p[0], err_p[1]);
	}
	close(sync_p[0]);
	close(err_p[1]);
	sync_p[0] = err_p[1] = -1;
	if (write(sync_p[1], "1", 1) != 1)
		r = log_err("Failed to release veil-decryptd: %m");
	/* Set up (one byte), or why not (a message, then EOF). */
	n = r == 0 ? read(err_p[0], msg, sizeof(msg) - 1) : 0;
	if (r == 0 && !(n == 1 && msg[0] == DD_SET_UP)) {
		if (n > 0) {
			msg[n] = '\0';
			log_err("veil-decryptd: %s", msg);
		} else {
			log_err("veil-decryptd: exited during its set-up");
		}
		r = -ECANCELED;
	}
	if (r == 0) {
		r = move_into(pid, d->cgroup);
		if (r < 0) {
			errno = -r;
			log_err("Failed to move veil-decryptd into '%s': %m", d->cgroup);
		}
	}
	if (r == 0 && write(sync_p[1], "2", 1) != 1)
		r = log_err("Failed to release veil-decryptd: %m");
	close(sync_p[1]);
	sync_p[1] = -1;
	if (r < 0) {
		kill(pid, SIGKILL);
	} else {
		/* EOF: it reached execve. Bytes: why it did not. */
		n = read(err_p[0], msg, sizeof(msg) - 1);
		if (n > 0) {
			msg[n] = '\0';
			log_err("veil-decryptd: %s", msg);
			r = -ECANCELED;
		}
	}
	if (r < 0) {
		while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
			;
		close(pidfd);
		goto out;
	}
	d->pid = pid;
	d->pidfd = pidfd;
	log_info("veil-decryptd started as pid %d (cgroup '%s', key ring %d)", pid, d->cgroup,
		 (int)d->ring);
out:
	for (int i = 0; i < 2; i++) {
		if (sync_p[i] >= 0)
			close(sync_p[i]);
		if (err_p[i] >= 0)
			close(err_p[i]);
	}
	return r;
}

/* Listening: its socket in its own network namespace's /proc/PID/net/unix, flag __SO_ACCEPTCON. */
static bool listening(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/net/unix", pid);
	if (fd_read_file(path, 4u << 20, &buf, &len) < 0)
		return false;
	for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		unsigned long flags;
		size_t ll;

		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		ll = strlen(line);
		if (ll > strlen(DD_SOCKET) && strcmp(line + ll - strlen(DD_SOCKET), DD_SOCKET) == 0 &&
		    sscanf(line, "%*s %*s %*s %lx", &flags) == 1 && (flags & 0x10000))
			return true;
	}
	return false;
}

static int wait_ready(struct launcher_decryptd *d)
{
	uint64_t deadline = now_ms() + LAUNCHER_DD_READY_MS;

	while (now_ms() < deadline) {
		siginfo_t si = { 0 };

		if (waitid(P_PIDFD, (id_t)d->pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid) {
			log_exit("exited before it listened", &si);
			close(d->pidfd);
			d->pidfd = -1;
			d->pid = 0;
			return -ECHILD;
		}
		if (listening(d->pid))
			return 0;
		struct pollfd p = { .fd = d->pidfd, .events = POLLIN };
		(void)poll(&p, 1, 20);
	}
	log_err("veil-decryptd did not listen within %u ms", LAUNCHER_DD_READY_MS);
	return -ETIMEDOUT;
}

/* The next attempt after the policy's backoff, or none when the restarts are used up. */
static void schedule_restart(struct launcher_decryptd *d, const struct manifest_decryptd *p)
{
	struct itimerspec its = { 0 };
	uint64_t delay;

	if (d->restarts >= p->restart_max) {
		log_err("veil-decryptd: restarted %u times, giving up; decryption is unavailable",
			d->restarts);
		return;
	}
	delay = p->backoff_ms;
	for (unsigned int i = 0; i < d->restarts && delay < p->backoff_max_ms; i++)
		delay *= 2;
	if (delay > p->backoff_max_ms)
		delay = p->backoff_max_ms;
	d->restarts++;
	log_info("veil-decryptd: restart %u/%u in %llu ms", d->restarts, p->restart_max,
		 (unsigned long long)delay);
	its.it_value.tv_sec = (time_t)(delay / 1000);
	its.it_value.tv_nsec = (long)(delay % 1000) * 1000000;
	if (timerfd_settime(d->tfd, 0, &its, NULL) < 0)
		log_err("veil-decryptd: Failed to arm its restart timer: %m");
}

static bool on_exit_cb(struct launcher_pod *pod, const siginfo_t *si, void *arg)
{
	struct launcher_decryptd *d = arg;
	const struct manifest_decryptd *p = &pod->m->dd;
	bool again;

	if (!d->pid || si->si_pid != d->pid)
		return false;
	log_exit("exited", si);
	close(d->pidfd);
	d->pidfd = -1;
	d->pid = 0;
	again = p->restart == LAUNCHER_RESTART_ALWAYS ||
		(p->restart == LAUNCHER_RESTART_ON_FAILURE &&
		 (si->si_code != CLD_EXITED || si->si_status != 0));
	if (again && !d->halted)
		schedule_restart(d, p);
	return true;
}

static int on_timer(struct launcher_pod *pod, void *arg)
{
	struct launcher_decryptd *d = arg;
	uint64_t exp;

	if (read(d->tfd, &exp, sizeof(exp)) != (ssize_t)sizeof(exp) || d->pid || d->halted)
		return 0;
	/* Not waited for: PID 1's loop does not block. Clients retry meanwhile. */
	if (spawn(d) < 0)
		/* Counted like an exit: the policy's next attempt, or it gives up. */
		schedule_restart(d, &pod->m->dd);
	return 0;
}

static void dd_free(struct launcher_decryptd *d)
{
	if (d->tfd >= 0)
		close(d->tfd);
	if (d->cgid)
		(void)launcher_lsm_remove(d->lsm, d->cgid);
	if (d->cgroup) {
		(void)launcher_cgroup_remove(d->cgroup);
		free(d->cgroup);
	}
	if (d->ring > 0)
		(void)keyring_container_done(d->kr, DD_NAME);
	free(d);
}

/* Re-attestation revoked the pod's keys: the key in the service's memory goes too. */
static void on_revoked(struct launcher_pod *pod, const char *why, void *arg)
{
	struct launcher_decryptd *d = arg;
	struct itimerspec off = { 0 };

	(void)pod;
	d->halted = true;
	(void)timerfd_settime(d->tfd, 0, &off, NULL);
	if (!d->pid)
		return;
	log_warn("stopping veil-decryptd (SIGKILL): %s", why);
	/* KILL, not TERM: nothing it would do on the way out is worth another decryption */
	if (syscall(SYS_pidfd_send_signal, d->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		log_err("veil-decryptd: Failed to send SIGKILL: %m");
}

int launcher_decryptd_start(struct launcher_pod *pod, struct keyring *kr,
			    const struct launcher_cgroups *cg, struct launcher_lsm *lsm,
			    struct launcher_decryptd **ret)
{
	const struct manifest *m = pod->m;
	const struct manifest_resource *res = NULL;
	struct oci_config limits = { .memory_limit = -1, .memory_swap = -1, .pids_limit = -1,
				     .cpu_quota = -1 };
	char desc[KEYRING_DESC_MAX];
	const char *path;
	struct launcher_decryptd *d;
	int r;

	*ret = NULL;
	if (!kr)
		return log_err("veil-decryptd needs its key from the KBS: the manifest has no 'kbs'");
	for (size_t i = 0; i < m->n_resources; i++)
		if (strcmp(m->resources[i].name, m->decryptd_key) == 0)
			res = &m->resources[i];
	if (!res || keyring_uri_to_desc(res->uri, strlen(res->uri), desc, sizeof(desc)) < 0)
		return log_err("decryptd.key '%s' names no resource", m->decryptd_key);
	path = desc + strlen(KEYRING_DESC_PREFIX);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->m = m;
	d->kr = kr;
	d->lsm = lsm;
	d->pidfd = -1;
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->tfd < 0) {
		r = log_err("Failed to create veil-decryptd's restart timer: %m");
		goto fail;
	}
	r = find_exe(d->exe, sizeof(d->exe));
	if (r < 0) {
		log_err("Failed to find veil-decryptd beside veil-init or in /usr/bin");
		goto fail;
	}
	r = keyring_container_new(kr, DD_NAME, &path, 1, &d->ring);
	if (r < 0) {
		log_err("veil-decryptd: Failed to grant it key '%s': %s", path, strerror(-r));
		d->ring = 0;
		goto fail;
	}
	r = launcher_cgroup_leaf(cg, DD_NAME, &limits, &d->cgroup);
	if (r < 0)
		goto fail;
	/* Confined like a container: its ring and its key, nothing else (lsm.h). */
	if (lsm) {
		r = launcher_lsm_add_decryptd(lsm, kr, m, d->cgroup, d->ring, &d->cgid);
		if (r < 0) {
			log_err("veil-decryptd: Failed to register it with the LSM: %s", strerror(-r));
			goto fail;
		}
	}
	r = make_dirs();
	if (r == 0)
		r = write_config(pod, desc);
	if (r == 0)
		r = add_mounts(pod);
	if (r == 0)
		r = launcher_pod_reaper(pod, on_exit_cb, d);
	if (r == 0)
		r = launcher_pod_watch(pod, d->tfd, "veil-decryptd restart", on_timer, d);
	if (r == 0)
		r = launcher_pod_on_revoke(pod, on_revoked, d);
	if (r < 0) {
		log_err("Failed to prepare veil-decryptd: %s", strerror(-r));
		goto fail;
	}
	r = spawn(d);
	if (r == 0)
		r = wait_ready(d);
	if (r < 0)
		goto fail;
	log_info("veil-decryptd listens: %zu model(s), key '%s' (ring %d)", m->dd.n_models, path,
		 (int)d->ring);
	*ret = d;
	return 0;
fail:
	if (d->pid) {
		(void)syscall(SYS_pidfd_send_signal, d->pidfd, SIGKILL, NULL, 0);
		(void)waitid(P_PIDFD, (id_t)d->pidfd, &(siginfo_t){ 0 }, WEXITED);
		close(d->pidfd);
	}
	dd_free(d);
	return r < 0 ? r : -EIO;
}

void launcher_decryptd_stop(struct launcher_decryptd *d)
{
	unsigned int grace;
	siginfo_t si = { 0 };

	if (!d)
		return;
	if (d->pid) {
		struct pollfd p = { .fd = d->pidfd, .events = POLLIN };

		grace = d->m->grace_ms < 1000 ? 1000 : d->m->grace_ms;
		if (syscall(SYS_pidfd_send_signal, d->pidfd, SIGTERM, NULL, 0) < 0 && errno != ESRCH)
			log_warn("veil-decryptd: Failed to send SIGTERM: %m");
		if (poll(&p, 1, (int)grace) == 0) {
			log_warn("veil-decryptd did not stop in %u ms: SIGKILL", grace);
			(void)syscall(SYS_pidfd_send_signal, d->pidfd, SIGKILL, NULL, 0);
		}
		while (waitid(P_PIDFD, (id_t)d->pidfd, &si, WEXITED) < 0 && errno == EINTR)
			;
		if (si.si_pid)
			log_exit("stopped", &si);
		close(d->pidfd);
	}
	dd_free(d);
}
