// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil-decryptd's seccomp allowlist, built here and installed by the service
 * itself (decryptd_harden.c). It lives in libveil-fhe.a so that veil-init and
 * `veil measure` digest the very filter the service runs under for the
 * isolation event (launcher/lsm.h), without starting it.
 */
#include "fhe/decryptd.h"

#include <errno.h>
#include <seccomp.h>

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

int decryptd_seccomp_build(void **ret)
{
	scmp_filter_ctx ctx;
	uint32_t deflt = SCMP_ACT_KILL_PROCESS;
	int r;

#if defined(__SANITIZE_ADDRESS__)
	/* ASan/LSan need ptrace, clone, ... at exit: log instead of kill in those builds */
	deflt = SCMP_ACT_LOG;
#endif
	ctx = seccomp_init(deflt);
	if (!ctx)
		return -ENOMEM;
	/* threads exist already; only the ones without CLONE_THREAD would be new processes */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	for (size_t i = 0; r == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}
