// SPDX-License-Identifier: GPL-2.0-only
/* Confinement of veil-init's helpers that parse untrusted bytes. */
#include "launcher/confine.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"

/*
 * Landlock's uapi, spelled out here: Debian 12's headers are older than the
 * ABIs the running kernel may offer, and each ABI only adds fields and bits.
 */
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_RULE_PATH_BENEATH 1

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;	/* ABI 4 */
	uint64_t scoped;		/* ABI 6 */
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

enum {
	LL_FS_EXECUTE = 1u << 0,
	LL_FS_WRITE_FILE = 1u << 1,
	LL_FS_READ_FILE = 1u << 2,
	LL_FS_READ_DIR = 1u << 3,
	LL_FS_ABI1 = (1u << 13) - 1,	/* execute ... make_sym */
	LL_FS_REFER = 1u << 13,		/* ABI 2 */
	LL_FS_TRUNCATE = 1u << 14,	/* ABI 3 */
	LL_FS_IOCTL_DEV = 1u << 15,	/* ABI 5 */
	LL_NET_BIND_TCP = 1u << 0,	/* ABI 4 */
	LL_NET_CONNECT_TCP = 1u << 1,
	LL_SCOPE_ABSTRACT_UNIX = 1u << 0, /* ABI 6 */
	LL_SCOPE_SIGNAL = 1u << 1,
};

static int landlock(int ro_fd, int rw_fd, int *ret_abi)
{
	struct ll_ruleset_attr attr = { 0 };
	struct ll_path_beneath_attr ro, rw;
	_cleanup_close_ int rfd = -1;
	long abi;
	size_t size = sizeof(attr.handled_access_fs);

	*ret_abi = 0;
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;	/* not built or not enabled (lsm=): nothing to apply */
	attr.handled_access_fs = LL_FS_ABI1;
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rfd < 0)
		return -errno;
	ro = (struct ll_path_beneath_attr){ LL_FS_READ_FILE | LL_FS_READ_DIR, ro_fd };
	/* Everything handled but execute: the rootfs is made, never run, here. */
	rw = (struct ll_path_beneath_attr){ attr.handled_access_fs & ~(uint64_t)LL_FS_EXECUTE, rw_fd };
	if (syscall(SYS_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH, &ro, 0) < 0 ||
	    syscall(SYS_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH, &rw, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, rfd, 0) < 0)
		return -errno;
	*ret_abi = (int)abi;
	return 0;
}

static void cap_freep(cap_t *c)
{
	if (*c)
		cap_free(*c);
}

static int capabilities(const cap_value_t *keep, size_t n_keep)
{
	_cleanup_(cap_freep) cap_t caps = cap_init();	/* all clear */

	if (!caps)
		return -errno;
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		bool kept = false;

		for (size_t i = 0; i < n_keep; i++)
			kept |= keep[i] == c;
		/* Old kernels know fewer: EINVAL there is "already absent". */
		if (!kept && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	}
	if (n_keep && (cap_set_flag(caps, CAP_EFFECTIVE, (int)n_keep, keep, CAP_SET) < 0 ||
		       cap_set_flag(caps, CAP_PERMITTED, (int)n_keep, keep, CAP_SET) < 0))
		return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return cap_set_proc(caps) < 0 ? -errno : 0;
}

/*
 * What unpacking calls after confinement: reading blobs and writing the tree
 * (openat2 with RESOLVE_BENEATH, the *at family), memory, randomness for
 * OpenSSL, and the report to PID 1 on a pipe.
 */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(readv), SCMP_SYS(write), SCMP_SYS(writev),
	SCMP_SYS(pwrite64), SCMP_SYS(close), SCMP_SYS(openat), SCMP_SYS(openat2),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(lseek),
	SCMP_SYS(getdents64), SCMP_SYS(mkdirat), SCMP_SYS(mknodat), SCMP_SYS(symlinkat),
	SCMP_SYS(linkat), SCMP_SYS(unlinkat), SCMP_SYS(renameat2), SCMP_SYS(readlinkat),
	SCMP_SYS(fchownat), SCMP_SYS(fchown), SCMP_SYS(fchmodat), SCMP_SYS(fchmod),
	SCMP_SYS(utimensat), SCMP_SYS(fsetxattr), SCMP_SYS(lsetxattr), SCMP_SYS(ftruncate),
	SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(dup3), SCMP_SYS(mmap), SCMP_SYS(munmap),
	SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(mprotect), SCMP_SYS(brk), SCMP_SYS(mlock),
	SCMP_SYS(munlock), SCMP_SYS(getrandom), SCMP_SYS(futex), SCMP_SYS(clock_gettime),
	SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(geteuid), SCMP_SYS(getuid),
	SCMP_SYS(getegid), SCMP_SYS(getgid), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sched_yield), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(restart_syscall),
	SCMP_SYS(memfd_secret),	/* lib/secmem, for the layer keys */
};

/*
 * What a network helper is killed for: everything that reaches PID 1's
 * assets or the kernel's configuration, and nothing libcurl, OpenSSL or
 * tpm2-tss calls.
 */
static const int denied[] = {
	SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(bpf),
	SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
	SCMP_SYS(pidfd_getfd), SCMP_SYS(pidfd_send_signal), SCMP_SYS(kcmp),
	SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module),
	SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load), SCMP_SYS(reboot),
	SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(fsopen), SCMP_SYS(fsmount),
	SCMP_SYS(fsconfig), SCMP_SYS(fspick), SCMP_SYS(move_mount), SCMP_SYS(open_tree),
	SCMP_SYS(mount_setattr), SCMP_SYS(pivot_root), SCMP_SYS(chroot), SCMP_SYS(setns),
	SCMP_SYS(unshare), SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(io_uring_setup),
	SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register), SCMP_SYS(perf_event_open),
	SCMP_SYS(userfaultfd), SCMP_SYS(open_by_handle_at), SCMP_SYS(swapon),
	SCMP_SYS(swapoff), SCMP_SYS(iopl), SCMP_SYS(ioperm), SCMP_SYS(settimeofday),
	SCMP_SYS(clock_settime), SCMP_SYS(clock_adjtime), SCMP_SYS(adjtimex),
	SCMP_SYS(sethostname), SCMP_SYS(setdomainname), SCMP_SYS(acct), SCMP_SYS(quotactl),
	SCMP_SYS(syslog), SCMP_SYS(fanotify_init), SCMP_SYS(mknod), SCMP_SYS(mknodat),
	SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(setreuid), SCMP_SYS(setregid),
	SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setgroups), SCMP_SYS(capset),
};

/* What a helper's forbidden call gets: killed, or only logged in sanitizer builds. */
static uint32_t kill_action(void)
{
#if defined(__SANITIZE_ADDRESS__)
	/* ASan/LSan need more at exit (ptrace, clone): log in those builds instead */
	return SCMP_ACT_LOG;
#else
	return SCMP_ACT_KILL_PROCESS;
#endif
}

static int seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(kill_action());
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

static int seccomp_network(void)
{
	const scmp_datum_t self = (scmp_datum_t)getpid();
	const scmp_datum_t ns = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
				CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
	const uint32_t kill = kill_action();
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < sizeof(denied) / sizeof(denied[0]); i++)
		r = seccomp_rule_add(ctx, kill, denied[i], 0);
	/* Signals: to itself only (abort()); its threads use tgkill, which names itself. */
	if (r == 0)
		r = seccomp_rule_add(ctx, kill, SCMP_SYS(kill), 1, SCMP_A0(SCMP_CMP_NE, self));
	if (r == 0)
		r = seccomp_rule_add(ctx, kill, SCMP_SYS(tgkill), 1, SCMP_A0(SCMP_CMP_NE, self));
	if (r == 0)
		r = seccomp_rule_add(ctx, kill, SCMP_SYS(tkill), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, kill, SCMP_SYS(rt_sigqueueinfo), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, kill, SCMP_SYS(rt_tgsigqueueinfo), 0);
	/* Threads yes (curl's resolver), namespaces no; clone3's flags are out of reach. */
	for (unsigned int bit = 0; r == 0 && bit < 32; bit++)
		if (ns & (1ul << bit))
			r = seccomp_rule_add(ctx, kill, SCMP_SYS(clone), 1,
					     SCMP_A0(SCMP_CMP_MASKED_EQ, 1ul << bit, 1ul << bit));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

/* Read-only file system; the TPM's node and rw_dir writable; no signals out (ABI 6). */
static int landlock_network(const char *rw_dir, int *ret_abi)
{
	struct ll_ruleset_attr attr = { 0 };
	struct ll_path_beneath_attr rule;
	_cleanup_close_ int rfd = -1, root = -1, dev = -1, rw = -1;
	size_t size = sizeof(attr.handled_access_fs);
	uint64_t devices = LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_READ_DIR;
	long abi;

	*ret_abi = 0;
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;
	attr.handled_access_fs = LL_FS_ABI1;
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 5) {
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
		devices |= LL_FS_IOCTL_DEV;
	}
	if (abi >= 6) {
		/* The network is its job: TCP stays unhandled, only signals are scoped. */
		attr.scoped = LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rfd < 0)
		return -errno;
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	rule = (struct ll_path_beneath_attr){ LL_FS_READ_FILE | LL_FS_READ_DIR, root };
	if (syscall(SYS_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH, &rule, 0) < 0)
		return -errno;
	dev = open("/dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dev >= 0) {
		rule = (struct ll_path_beneath_attr){ devices, dev };
		if (syscall(SYS_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH, &rule, 0) < 0)
			return -errno;
	}
	/* Absent (no configfs-tsm here): nothing to grant; the helper fails there anyway. */
	rw = rw_dir ? open(rw_dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (rw >= 0) {
		rule = (struct ll_path_beneath_attr){ attr.handled_access_fs & ~(uint64_t)LL_FS_EXECUTE, rw };
		if (syscall(SYS_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH, &rule, 0) < 0)
			return -errno;
	}
	if (syscall(SYS_landlock_restrict_self, rfd, 0) < 0)
		return -errno;
	*ret_abi = (int)abi;
	return 0;
}

int launcher_confine_network_helper(const char *rw_dir, int *ret_landlock)
{
	int r;

	*ret_landlock = 0;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	r = capabilities(NULL, 0);
	if (r < 0)
		return r;
	r = landlock_network(rw_dir, ret_landlock);
	if (r < 0)
		return r;
	return seccomp_network();
}

int launcher_confine_helper(int ro_fd, int rw_fd, const cap_value_t *keep, size_t n_keep,
			    int *ret_landlock)
{
	int r;

	*ret_landlock = 0;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	r = capabilities(keep, n_keep);
	if (r < 0)
		return r;
	r = landlock(ro_fd, rw_fd, ret_landlock);
	if (r < 0)
		return r;
	return seccomp();
}
