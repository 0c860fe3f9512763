// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/boot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"

#define NEWROOT "/.veil-root"

static int set_opt(char **slot, const char *v)
{
	char *d = strdup(v);

	if (!d)
		return -ENOMEM;
	free(*slot);
	*slot = d;
	return 0;
}

int launcher_boot_parse_cmdline(const char *cmdline, struct boot_options *o)
{
	char buf[BOOT_CMDLINE_MAX + 1], *save = NULL, *w;
	int r = 0;

	if (strlen(cmdline) > BOOT_CMDLINE_MAX)
		return -E2BIG;
	strcpy(buf, cmdline);
	for (w = strtok_r(buf, " \t\n", &save); w && r >= 0; w = strtok_r(NULL, " \t\n", &save)) {
		char *eq = strchr(w, '=');
		const char *v = eq ? eq + 1 : NULL;

		if (strncmp(w, "veil.", 5) != 0)
			continue;
		if (eq)
			*eq = '\0';
		if (!strcmp(w, "veil.manifest") && v && *v == '/')
			r = set_opt(&o->manifest, v);
		else if (!strcmp(w, "veil.initdata") && v && *v == '/')
			r = set_opt(&o->initdata, v);
		else if (!strcmp(w, "veil.tpm") && v && *v)
			r = set_opt(&o->tpm, v);
		else if (!strcmp(w, "veil.eventlog") && v && *v == '/')
			r = set_opt(&o->eventlog, v);
		else if (!strcmp(w, "veil.net") && v && *v)
			r = set_opt(&o->net, v);
		else if (!strcmp(w, "veil.debug") && !v)
			o->loglevel = LOG_DEBUG;
		else if (!strcmp(w, "veil.loglevel") && v && v[0] >= '0' && v[0] <= '7' && !v[1])
			o->loglevel = v[0] - '0';
		else
			log_warn("Ignoring unknown or malformed kernel option '%s%s%s'", w, v ? "=" : "",
				 v ? v : "");
	}
	return r;
}

void launcher_boot_options_done(struct boot_options *o)
{
	free(o->manifest);
	free(o->initdata);
	free(o->tpm);
	free(o->eventlog);
	free(o->net);
	memset(o, 0, sizeof(*o));
}

/* The initial rootfs shows as fstype "rootfs" for "/" in mountinfo (needs /proc). */
static bool root_is_initial(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char mnt[256], *sep = strstr(line, " - ");

		if (sep && sscanf(line, "%*s %*s %*s %*s %255s", mnt) == 1 && !strcmp(mnt, "/"))
			return !strncmp(sep, " - rootfs ", 10);
	}
	return false;
}

int launcher_boot_move_root(void)
{
	if (mkdir("/proc", 0555) < 0 && errno != EEXIST)
		return -errno;
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 && errno != EBUSY)
		return -errno;
	if (!root_is_initial())
		return 0;	/* /proc stays mounted; stage 1 finds it busy */
	if (umount2("/proc", MNT_DETACH) < 0)
		return -errno;
	/*
	 * The initial rootfs has no parent mount, so pivot_root refuses it. A bind
	 * mount of it, moved onto /, has one: no copy, no re-exec, and every file
	 * keeps the mode the initrd gave it (the kernel's unpacking applies none of
	 * PID 1's umask), which is what `veil measure --pcr` saw on the host.
	 */
	if (mkdir(NEWROOT, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (mount("/", NEWROOT, NULL, MS_BIND, NULL) < 0)
		return -errno;
	if (chdir(NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		return -errno;
	/* The mount point, empty now and visible in the new root: not part of the pod. */
	(void)rmdir(NEWROOT);
	return 1;
}

static int mount_one(const char *src, const char *dst, const char *type, unsigned long flags,
		     const char *data)
{
	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		return log_err("Failed to create '%s': %m", dst);
	if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY)
		return log_err("Failed to mount %s on '%s': %m", type, dst);
	return 0;
}

int launcher_boot_mount_api(void)
{
	static const struct {
		const char *src, *dst, *type;
		unsigned long flags;
		const char *data;
		bool optional;
	} m[] = {
		{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false },
		{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false },
		{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", false },
		{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666", false },
		{ "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", false },
		{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", false },
		{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", false },
		{ "securityfs", "/sys/kernel/security", "securityfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, true },
		{ "cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, "nsdelegate", false },
		{ "bpffs", "/sys/fs/bpf", "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700", true },
	};
	int r;

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		r = mount_one(m[i].src, m[i].dst, m[i].type, m[i].flags, m[i].data);
		if (r < 0 && !m[i].optional)
			return r;
	}
	if (mkdir("/run/veil", 0700) < 0 && errno != EEXIST)
		return log_err("Failed to create /run/veil: %m");
	return 0;
}

int launcher_boot_harden(void)
{
	struct rlimit rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return log_err("Failed to make veil-init non-dumpable: %m");
	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		return log_err("Failed to disable core dumps: %m");
#ifndef __SANITIZE_ADDRESS__
	/*
	 * (Not under ASan: its terabytes of reserved shadow cannot be locked.)
	 * ONFAULT: every page PID 1 touches is locked the moment it is touched
	 * (a secret is touched when it is written), without faulting in all of
	 * its shared libraries' mappings up front (~0.2 s of a TCG boot with 54).
	 */
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) < 0)
		log_warn("Failed to lock veil-init's memory: %m");
#endif
	return fd_close_stray(NULL, 0);
}

/*
 * The serial console transmits after write() returns: let it drain, or the
 * last lines (the reason, the power-off) can be lost with the VM.
 */
static void drain_console(void)
{
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	int left = 0;

	if (fd < 0)
		return;
	/* At most a second: a stuck console must not keep the VM from powering off. */
	for (int i = 0; i < 100 && ioctl(fd, TIOCOUTQ, &left) == 0 && left > 0; i++)
		usleep(10000);
	close(fd);
}

void launcher_emergency(bool sandbox, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("emergency: %s", msg);
	if (sandbox)
		_exit(1);
	log_err("emergency: powering off");
	drain_console();
	sync();
	reboot(RB_POWER_OFF);
	/* Only if the power-off itself failed; PID 1 must not return. */
	for (;;)
		pause();
}

void launcher_boot_poweroff(void)
{
	static const char *const mnts[] = { "/sys/fs/bpf", "/sys/fs/cgroup", "/sys/kernel/security",
					    "/tmp", "/dev/shm", "/dev/pts" };

	sync();
	for (size_t i = 0; i < sizeof(mnts) / sizeof(mnts[0]); i++)
		(void)umount2(mnts[i], MNT_DETACH);
	sync();
	log_info("powering off");
	drain_console();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
