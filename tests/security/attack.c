// SPDX-License-Identifier: GPL-2.0-only
/*
 * The attacks (see attack.h). None finishes anything that would hurt the
 * guest: signals are signal 0 or SIGCONT, ptrace is PTRACE_SEIZE + detach,
 * device and /proc files are opened and closed, never written.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/reboot.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "tests/security/attack.h"

#define SETUP_FAILED ATTACK_SETUP_FAILED

static const char *arg;

static int ret(long r)
{
	return r < 0 ? errno : 0;
}

static int open_close(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static pid_t target(void)
{
	return arg ? (pid_t)atoi(arg) : getppid();
}

static int a_kill(void) { return ret(kill(target(), 0)); }
static int a_kill_pid1(void) { return ret(kill(1, 0)); }
static int a_sigcont(void) { return ret(kill(target(), SIGCONT)); }
static int a_tgkill_pid1(void) { return ret(syscall(SYS_tgkill, 1, 1, 0)); }

static int a_pidfd_signal(void)
{
	int fd = (int)syscall(SYS_pidfd_open, target(), 0);

	if (fd < 0)
		return SETUP_FAILED;
	return ret(syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0));
}

static int a_ptrace(pid_t pid)
{
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0)
		return errno;
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return 0;
}
static int a_ptrace_parent(void) { return a_ptrace(target()); }
static int a_ptrace_pid1(void) { return a_ptrace(1); }
static int a_ptrace_traceme(void) { return ret(ptrace(PTRACE_TRACEME, 0, 0, 0)); }

static int a_proc_file(const char *what)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)target(), what);
	return open_close(path, O_RDONLY);
}
static int a_proc_mem(void) { return a_proc_file("mem"); }
static int a_proc_environ(void) { return a_proc_file("environ"); }
static int a_proc1_mem(void) { return open_close("/proc/1/mem", O_RDONLY); }
static int a_proc1_environ(void) { return open_close("/proc/1/environ", O_RDONLY); }

static int a_process_vm_readv(void)
{
	char buf[8];
	struct iovec l = { buf, sizeof(buf) }, r = { (void *)0x400000, sizeof(buf) };

	return ret(syscall(SYS_process_vm_readv, target(), &l, 1, &r, 1, 0));
}

static int a_bpf(void)
{
	union bpf_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	fd = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	if (fd >= 0)
		close((int)fd);
	return ret(fd);
}

static int a_perf(void)
{
	struct perf_event_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_SOFTWARE;
	a.size = sizeof(a);
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	a.disabled = 1;
	fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
	if (fd >= 0)
		close((int)fd);
	return ret(fd);
}

static int a_init_module(void)
{
	static char junk[64] = "not an ELF module";

	return ret(syscall(SYS_init_module, junk, sizeof(junk), ""));
}

static int a_finit_module(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return SETUP_FAILED;
	return ret(syscall(SYS_finit_module, fd, "", 0));
}

static int a_kexec_load(void)
{
	/* no segments: at most unloads a kernel nobody loaded */
	return ret(syscall(SYS_kexec_load, 0, 0, NULL, 0));
}

static int a_kexec_file_load(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return SETUP_FAILED;
	return ret(syscall(SYS_kexec_file_load, fd, -1, 1, "", 4 /* KEXEC_FILE_NO_INITRAMFS */));
}

static int new_mount_ns(void)
{
	return unshare(CLONE_NEWNS) < 0 ? errno : 0;
}

static int a_mount_private(void)
{
	int r = new_mount_ns();

	return r ? r : ret(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
}

static int a_mount_tmpfs(void)
{
	int r = new_mount_ns();

	return r ? r : ret(mount("veil-attack", "/tmp", "tmpfs", 0, NULL));
}

static int a_umount(void)
{
	int r = new_mount_ns();

	return r ? r : ret(umount2("/proc", MNT_DETACH));
}

static int a_pivot_root(void)
{
	int r = new_mount_ns();

	return r ? r : ret(syscall(SYS_pivot_root, ".", "."));
}

static int a_move_mount(void)
{
	int r = new_mount_ns(), fd;

	if (r)
		return r;
	fd = (int)syscall(428 /* open_tree */, AT_FDCWD, "/proc", 1 /* OPEN_TREE_CLONE */);
	if (fd < 0)
		return errno;
	return ret(syscall(429 /* move_mount */, fd, "", AT_FDCWD, "/tmp",
			   4 /* MOVE_MOUNT_F_EMPTY_PATH */));
}

static int a_chroot_escape(void)
{
	if (mkdir("/tmp/veil-jail", 0700) < 0 && errno != EEXIST)
		return SETUP_FAILED;
	if (chroot("/tmp/veil-jail") < 0)
		return errno;
	for (int i = 0; i < 16; i++)
		if (chdir("..") < 0)
			return errno;
	return ret(chroot("."));
}

static int a_socket(int family, int type, int proto)
{
	int fd = socket(family, type | SOCK_CLOEXEC, proto);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}
static int a_raw_socket(void) { return a_socket(AF_INET, SOCK_RAW, 1); }
static int a_raw6_socket(void) { return a_socket(AF_INET6, SOCK_RAW, 58); }
static int a_packet_socket(void) { return a_socket(AF_PACKET, SOCK_RAW, 0); }

static int a_userns(void) { return ret(unshare(CLONE_NEWUSER)); }
static int a_setns_pid1(void)
{
	int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	return ret(setns(fd, CLONE_NEWNS));
}

static int a_open_path(void) { return open_close(arg, O_RDONLY); }
static int a_open_write(void) { return open_close(arg, O_WRONLY); }
static int a_mem(void) { return open_close("/dev/mem", O_RDONLY); }
static int a_kmsg_write(void) { return open_close("/dev/kmsg", O_WRONLY); }
static int a_kcore(void) { return open_close("/proc/kcore", O_RDONLY); }
static int a_securityfs(void) { return open_close("/sys/kernel/security/lsm", O_RDONLY); }
static int a_bpffs(void) { return open_close("/sys/fs/bpf", O_RDONLY | O_DIRECTORY); }
static int a_sysfs_write(void) { return open_close("/sys/kernel/mm/transparent_hugepage/enabled", O_WRONLY); }
static int a_cgroup_write(void) { return open_close("/sys/fs/cgroup/cgroup.procs", O_WRONLY); }
static int a_sysrq(void) { return open_close("/proc/sysrq-trigger", O_WRONLY); }
static int a_sysctl_write(void) { return open_close("/proc/sys/kernel/hostname", O_WRONLY); }

static int a_open_by_handle(void)
{
	struct {
		unsigned int bytes;
		int type;
		unsigned char h[8];
	} fh = { 8, 1, { 2, 0, 0, 0, 0, 0, 0, 0 } };	/* inode 2: a root directory */
	long fd = syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY);

	if (fd >= 0)
		close((int)fd);
	return ret(fd);
}

static int a_io_uring(void)
{
	unsigned char params[120] = { 0 };
	long fd = syscall(425 /* io_uring_setup */, 4, params);

	if (fd >= 0)
		close((int)fd);
	return ret(fd);
}

static int a_userfaultfd(void)
{
	long fd = syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd >= 0)
		close((int)fd);
	return ret(fd);
}

/*
 * Calls that need a capability of the initial user namespace. Each is
 * harmless should it work: Ctrl-Alt-Del off, the clock set to what it
 * reads, a swap file that does not exist, one I/O port, the log read into a
 * small buffer, a /dev/null node in /tmp, accounting off, uid 0, no caps.
 */
static int a_reboot(void)
{
	return ret(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
			   LINUX_REBOOT_CMD_CAD_OFF, NULL));
}
static int a_clock_settime(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return SETUP_FAILED;
	return ret(clock_settime(CLOCK_REALTIME, &ts));
}
static int a_swapon(void) { return ret(syscall(SYS_swapon, "/tmp/veil-no-swap", 0)); }
static int a_ioperm(void) { return ret(syscall(SYS_ioperm, 0x80, 1, 1)); }
static int a_syslog(void)
{
	char buf[64];

	return ret(syscall(SYS_syslog, 3 /* SYSLOG_ACTION_READ_ALL */, buf, (int)sizeof(buf)));
}
static int a_mknod(void)
{
	int r = ret(mknod("/tmp/veil-null", S_IFCHR | 0600, makedev(1, 3)));

	unlink("/tmp/veil-null");
	return r;
}
static int a_acct(void) { return ret(syscall(SYS_acct, NULL)); }
static int a_setuid0(void) { return ret(syscall(SYS_setuid, 0)); }
static int a_capset(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0xff, sizeof(d));	/* every capability, which no container holds */
	return ret(syscall(SYS_capset, &h, d));
}

static int key_serial(void) { return arg ? atoi(arg) : 0; }
static int a_key_read(void)
{
	char buf[64];

	return ret(syscall(SYS_keyctl, KEYCTL_READ, key_serial(), buf, sizeof(buf)));
}
static int a_key_describe(void)
{
	char buf[256];

	return ret(syscall(SYS_keyctl, KEYCTL_DESCRIBE, key_serial(), buf, sizeof(buf)));
}
static int a_key_link(void)
{
	return ret(syscall(SYS_keyctl, KEYCTL_LINK, key_serial(), KEY_SPEC_SESSION_KEYRING));
}
static int a_key_setperm(void)
{
	return ret(syscall(SYS_keyctl, KEYCTL_SETPERM, key_serial(), 0x3f3f3f3f));
}
static int a_key_revoke(void) { return ret(syscall(SYS_keyctl, KEYCTL_REVOKE, key_serial())); }
static int a_key_invalidate(void)
{
	return ret(syscall(SYS_keyctl, KEYCTL_INVALIDATE, key_serial()));
}
static int a_key_search(void)
{
	return ret(syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", arg, 0));
}
static int a_key_join(void)
{
	return ret(syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, arg));
}
static int a_add_key(void)
{
	return ret(syscall(SYS_add_key, "user", "veil:default/key/planted", "x", 1,
			   KEY_SPEC_SESSION_KEYRING));
}

static const struct {
	const char *name;
	int (*fn)(void);
} attacks[] = {
	{ "kill", a_kill },
	{ "kill_pid1", a_kill_pid1 },
	{ "sigcont", a_sigcont },
	{ "tgkill_pid1", a_tgkill_pid1 },
	{ "pidfd_signal", a_pidfd_signal },
	{ "ptrace", a_ptrace_parent },
	{ "ptrace_pid1", a_ptrace_pid1 },
	{ "ptrace_traceme", a_ptrace_traceme },
	{ "proc_mem", a_proc_mem },
	{ "proc_environ", a_proc_environ },
	{ "proc1_mem", a_proc1_mem },
	{ "proc1_environ", a_proc1_environ },
	{ "process_vm_readv", a_process_vm_readv },
	{ "bpf", a_bpf },
	{ "perf_event_open", a_perf },
	{ "init_module", a_init_module },
	{ "finit_module", a_finit_module },
	{ "kexec_load", a_kexec_load },
	{ "kexec_file_load", a_kexec_file_load },
	{ "mount_private", a_mount_private },
	{ "mount_tmpfs", a_mount_tmpfs },
	{ "umount", a_umount },
	{ "pivot_root", a_pivot_root },
	{ "move_mount", a_move_mount },
	{ "chroot_escape", a_chroot_escape },
	{ "raw_socket", a_raw_socket },
	{ "raw6_socket", a_raw6_socket },
	{ "packet_socket", a_packet_socket },
	{ "userns", a_userns },
	{ "setns_pid1", a_setns_pid1 },
	{ "open", a_open_path },
	{ "open_write", a_open_write },
	{ "dev_mem", a_mem },
	{ "kmsg_write", a_kmsg_write },
	{ "kcore", a_kcore },
	{ "securityfs", a_securityfs },
	{ "bpffs", a_bpffs },
	{ "sysfs_write", a_sysfs_write },
	{ "cgroup_write", a_cgroup_write },
	{ "sysrq", a_sysrq },
	{ "sysctl_write", a_sysctl_write },
	{ "open_by_handle_at", a_open_by_handle },
	{ "io_uring", a_io_uring },
	{ "userfaultfd", a_userfaultfd },
	{ "key_read", a_key_read },
	{ "key_describe", a_key_describe },
	{ "key_link", a_key_link },
	{ "key_setperm", a_key_setperm },
	{ "key_revoke", a_key_revoke },
	{ "key_invalidate", a_key_invalidate },
	{ "key_search", a_key_search },
	{ "key_join", a_key_join },
	{ "add_key", a_add_key },
	{ "reboot", a_reboot },
	{ "clock_settime", a_clock_settime },
	{ "swapon", a_swapon },
	{ "ioperm", a_ioperm },
	{ "syslog", a_syslog },
	{ "mknod", a_mknod },
	{ "acct", a_acct },
	{ "setuid0", a_setuid0 },
	{ "capset", a_capset },
};

int attack_run(const char *name, const char *a)
{
	arg = a;
	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++)
		if (strcmp(attacks[i].name, name) == 0)
			return attacks[i].fn();
	fprintf(stderr, "attack: unknown '%s'\n", name);
	return SETUP_FAILED;
}
