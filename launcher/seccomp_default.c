// SPDX-License-Identifier: GPL-2.0-only
/* veil's default container seccomp profile (see seccomp_default.h). */
#include <errno.h>
#include <stdbool.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <seccomp.h>

#include "launcher/seccomp_default.h"
#include "lib/cleanup.h"

/*
 * Allowed without argument checks. Names libseccomp does not know on this
 * architecture are skipped.
 */
static const char *const allowed[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk",
	"capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime",
	"clock_getres", "clock_gettime", "clock_nanosleep", "close", "close_range", "connect",
	"copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
	"epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
	"epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
	"faccessat", "faccessat2", "fadvise64", "fallocate", "fanotify_mark", "fchdir",
	"fchmod", "fchmodat", "fchown", "fchownat", "fcntl", "fdatasync", "fgetxattr",
	"flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstatfs",
	"fsync", "ftruncate", "futex", "futex_waitv", "futimesat", "get_mempolicy",
	"get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents", "getdents64",
	"getegid", "geteuid", "getgid", "getgroups", "getitimer", "getpeername", "getpgid",
	"getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresuid",
	"getrlimit", "getrusage", "getsid", "getsockname", "getsockopt", "gettid",
	"gettimeofday", "getuid", "getxattr", "inotify_add_watch", "inotify_init",
	"inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents",
	"io_pgetevents", "io_setup", "io_submit", "ioctl", "ioprio_get", "ioprio_set", "kill",
	"landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown",
	"lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "lremovexattr",
	"lseek", "lsetxattr", "lstat", "madvise", "membarrier", "memfd_create", "memfd_secret",
	"mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall",
	"mmap", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
	"mq_timedsend", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync",
	"munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat",
	"open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe",
	"pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "prctl", "pread64",
	"preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pwrite64", "pwritev",
	"pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recvfrom",
	"recvmmsg", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat",
	"renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
	"rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_tgsigqueueinfo", "sched_get_priority_max",
	"sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
	"sched_getscheduler", "sched_rr_get_interval", "sched_setaffinity", "sched_setattr",
	"sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
	"semget", "semop", "semtimedop", "send", "sendfile", "sendmmsg", "sendmsg", "sendto",
	"set_robust_list", "set_thread_area", "set_tid_address", "setfsgid", "setfsuid",
	"setgid", "setgroups", "setitimer", "setpgid", "setpriority", "setregid", "setresgid",
	"setresuid", "setreuid", "setrlimit", "setsid", "setsockopt", "setuid", "setxattr",
	"shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
	"signalfd4", "socketpair", "splice", "stat", "statfs", "statx", "symlink", "symlinkat",
	"sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
	"timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_settime",
	"timerfd_create", "timerfd_gettime", "timerfd_settime", "times", "tkill", "truncate",
	"umask", "uname", "unlink", "unlinkat", "utime", "utimensat", "utimes", "vfork",
	"vmsplice", "wait4", "waitid", "write", "writev",
};

/* Kill the process: nothing legitimate in a container calls these. */
static const char *const killed[] = {
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"iopl", "ioperm",
};

/* keyctl commands that only look: read a granted key, find it, describe it. */
static const int keyctl_allowed[] = {
	KEYCTL_GET_KEYRING_ID, KEYCTL_DESCRIBE, KEYCTL_SEARCH, KEYCTL_READ, KEYCTL_GET_SECURITY,
};

/* Namespace flags clone() may not carry (clone3 hides its flags in memory). */
#define NS_FLAGS                                                                         \
	((uint64_t)(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
		    CLONE_NEWNET | CLONE_NEWCGROUP | 0x00000080 /* CLONE_NEWTIME */))

/*
 * Sockets: families and types a container may open. Everything else fails,
 * packet sockets and raw IP sockets in particular (netlink is SOCK_RAW by
 * nature). The family is an int: compare only its low 32 bits, so high bits
 * the kernel ignores cannot sneak past.
 */
static const struct {
	int family, type;
} sockets[] = {
	{ AF_UNIX, SOCK_STREAM },	{ AF_UNIX, SOCK_DGRAM },   { AF_UNIX, SOCK_SEQPACKET },
	{ AF_INET, SOCK_STREAM },	{ AF_INET, SOCK_DGRAM },   { AF_INET, SOCK_SEQPACKET },
	{ AF_INET6, SOCK_STREAM },	{ AF_INET6, SOCK_DGRAM },  { AF_INET6, SOCK_SEQPACKET },
	{ AF_NETLINK, SOCK_RAW },	{ AF_NETLINK, SOCK_DGRAM },
};

/* personality(2): Docker's list (PER_LINUX, UNAME26, and the query). */
static const uint64_t personalities[] = { 0x0, 0x0008, 0x20000, 0x20008, 0xffffffff };

static int rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned int n,
		const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;	/* not on this architecture */
	return seccomp_rule_add_array(ctx, action, nr, n, cmp);
}

static int add_rules(scmp_filter_ctx ctx)
{
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
		r = rule(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(killed); i++) {
		r = rule(ctx, SCMP_ACT_KILL_PROCESS, killed[i], 0, NULL);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(keyctl_allowed); i++) {
		struct scmp_arg_cmp c = SCMP_A0_64(SCMP_CMP_EQ, (uint64_t)keyctl_allowed[i]);

		r = rule(ctx, SCMP_ACT_ALLOW, "keyctl", 1, &c);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(personalities); i++) {
		struct scmp_arg_cmp c = SCMP_A0_64(SCMP_CMP_EQ, personalities[i]);

		r = rule(ctx, SCMP_ACT_ALLOW, "personality", 1, &c);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(sockets); i++) {
		struct scmp_arg_cmp c[2] = {
			SCMP_A0_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, (uint64_t)sockets[i].family),
			SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xf, (uint64_t)sockets[i].type),
		};

		r = rule(ctx, SCMP_ACT_ALLOW, "socket", 2, c);
		if (r < 0)
			return r;
	}
	{
		struct scmp_arg_cmp c = SCMP_A0_64(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0);

		r = rule(ctx, SCMP_ACT_ALLOW, "clone", 1, &c);
		if (r < 0)
			return r;
	}
	/* ENOSYS, not EPERM: glibc then falls back to clone(), which is checked. */
	return rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
}

static int build(void **ret_ctx, bool service)
{
	static const char *const uring[] = { "io_uring_setup", "io_uring_enter", "io_uring_register" };
	scmp_filter_ctx ctx;
	int r;

	if (!ret_ctx)
		return -EINVAL;
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return -ENOMEM;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (r == 0)
		r = add_rules(ctx);
	for (size_t i = 0; service && r == 0 && i < ARRAY_SIZE(uring); i++)
		r = rule(ctx, SCMP_ACT_ALLOW, uring[i], 0, NULL);
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*ret_ctx = ctx;
	return 0;
}

int launcher_seccomp_default_build(void **ret_ctx)
{
	return build(ret_ctx, false);
}

int launcher_seccomp_service_build(void **ret_ctx)
{
	return build(ret_ctx, true);
}

int launcher_seccomp_default_digest(char hex[65])
{
	/* PID 1's main thread and the single-threaded tools call this: no lock. */
	static char memo[65];
	void *ctx = NULL;
	int r;

	if (!hex)
		return -EINVAL;
	if (!memo[0]) {
		r = launcher_seccomp_default_build(&ctx);
		if (r < 0)
			return r;
		r = launcher_seccomp_digest(ctx, memo);
		seccomp_release(ctx);
		if (r < 0) {
			memo[0] = '\0';
			return r;
		}
	}
	memcpy(hex, memo, sizeof(memo));
	return 0;
}

int launcher_seccomp_digest(void *ctx, char hex[65])
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ void *buf = NULL;
	unsigned char md[32];
	unsigned int mdlen = 0;
	off_t len;
	int r;

	if (!ctx || !hex)
		return -EINVAL;
	fd = memfd_create("veil-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf((scmp_filter_ctx)ctx, fd);
	if (r < 0)
		return r;
	len = lseek(fd, 0, SEEK_END);
	if (len < 0)
		return -errno;
	if (len == 0 || (size_t)len > SECCOMP_DEFAULT_BPF_MAX)
		return -EFBIG;
	buf = malloc((size_t)len);
	if (!buf)
		return -ENOMEM;
	if (pread(fd, buf, (size_t)len, 0) != len)
		return -EIO;
	if (!EVP_Digest(buf, (size_t)len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -EIO;
	for (unsigned int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}
