// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/secmem.h"

/* Reads the smaps entry of the mapping holding p; 1 if `flag` is in VmFlags. */
static int vmflag(const void *p, const char *flag)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	bool in = false;
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (unsigned long)p >= lo && (unsigned long)p < hi;
			continue;
		}
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			found = strstr(line, flag) != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

TEST(allocates_zeroed_locked_undumpable_memory)
{
	uint8_t *p;

	secmem_allow_memfd_secret(false);
	p = secmem_alloc(100);
	ASSERT_NONNULL(p);
	EXPECT_EQ(100, secmem_size(p));
	EXPECT_FALSE(secmem_is_secret(p));
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(0, p[i]);
	EXPECT_EQ(1, vmflag(p, " lo"));	/* mlocked */
	EXPECT_EQ(1, vmflag(p, " dd"));	/* MADV_DONTDUMP */
	EXPECT_EQ(1, vmflag(p, " wf"));	/* MADV_WIPEONFORK */
	secmem_free(p);
}

TEST(forked_child_sees_zeros)
{
	uint8_t *p;
	pid_t pid;
	int st;

	secmem_allow_memfd_secret(false);
	p = secmem_alloc(64);
	ASSERT_NONNULL(p);
	memset(p, 0xa5, 64);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		for (int i = 0; i < 64; i++)
			if (p[i])
				_exit(1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	secmem_free(p);
}

TEST(uses_memfd_secret_when_the_kernel_has_it)
{
	uint8_t *p;

	p = secmem_alloc(32);
	ASSERT_NONNULL(p);
	if (!secmem_is_secret(p)) {
		secmem_free(p);
		SKIP("memfd_secret(2) unavailable on this kernel (secretmem disabled)");
	}
	memset(p, 1, 32);
	EXPECT_EQ(1, p[31]);
	EXPECT_EQ(1, vmflag(p, " dd"));
	secmem_free(p);
}

TEST(refuses_zero_and_oversized_requests)
{
	EXPECT_NULL(secmem_alloc(0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NULL(secmem_alloc(SECMEM_MAX + 1));
	secmem_free(NULL);
}
