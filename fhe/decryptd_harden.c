// SPDX-License-Identifier: GPL-2.0-only
/* veil-decryptd hardens itself and takes its key from the kernel keyring. */
#include "fhe/decryptd.h"

#include <errno.h>
#include <keyutils.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "lib/secmem.h"

#define KEY_MAX (32u << 10)	/* the kernel's limit for a "user" key */

int decryptd_harden(bool *ret_locked)
{
	struct rlimit rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		return -errno;
	/* ONFAULT: lock what is touched, without committing every thread stack up front */
	*ret_locked = mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0;
	return 0;
}

/*
 * What the running service calls: the ring thread (io_uring_enter, getsockopt
 * and /proc reads for peer identity, shutdown/close) and the workers (futex,
 * memory, getrandom for flooding). Everything else kills the process;
 * io_uring_setup and io_uring_register are not on the list, so no new ring
 * or registration can be made after start.
 */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(close), SCMP_SYS(openat),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(lseek), SCMP_SYS(io_uring_enter),
	SCMP_SYS(getsockopt), SCMP_SYS(sendto), SCMP_SYS(shutdown), SCMP_SYS(pidfd_send_signal), SCMP_SYS(futex),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(mprotect),
	SCMP_SYS(brk), SCMP_SYS(getrandom), SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(sched_yield), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigaction),
	SCMP_SYS(sigaltstack), SCMP_SYS(tgkill), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(rseq), SCMP_SYS(set_robust_list), SCMP_SYS(fcntl), SCMP_SYS(restart_syscall),
	SCMP_SYS(mlock), SCMP_SYS(munlock),
};

int decryptd_seccomp(void)
{
	scmp_filter_ctx ctx;
	uint32_t deflt = SCMP_ACT_KILL_PROCESS;
	int r = 0;

#if defined(__SANITIZE_ADDRESS__)
	/* ASan/LSan need ptrace, clone, ... at exit: log instead of kill in those builds */
	deflt = SCMP_ACT_LOG;
#endif
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	ctx = seccomp_init(deflt);
	if (!ctx)
		return -ENOMEM;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	for (size_t i = 0; r == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* threads exist already; only the ones without CLONE_THREAD would be new processes */
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

int decryptd_key_read(const char *desc, uint8_t **ret, size_t *ret_len)
{
	key_serial_t id;
	long n, m;
	uint8_t *buf;

	id = keyctl_search(KEY_SPEC_SESSION_KEYRING, "user", desc, 0);
	if (id < 0)
		return -errno;
	n = keyctl_read(id, NULL, 0);
	if (n < 0)
		return -errno;
	if (n == 0 || (size_t)n > KEY_MAX)
		return -EMSGSIZE;
	buf = secmem_alloc((size_t)n);
	if (!buf)
		return -errno;
	m = keyctl_read(id, (char *)buf, (size_t)n);
	if (m != n) {
		int err = m < 0 ? -errno : -EAGAIN;

		secmem_free(buf);
		return err;
	}
	*ret = buf;
	*ret_len = (size_t)n;
	return 0;
}
