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

int decryptd_seccomp(void)
{
	void *ctx;
	int r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	r = decryptd_seccomp_build(&ctx);
	if (r < 0)
		return r;
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
