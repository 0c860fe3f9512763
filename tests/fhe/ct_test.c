// SPDX-License-Identifier: GPL-2.0-only
/*
 * Constant time: keygen, sampling, public-key derivation and decryption run
 * under valgrind memcheck with the secret seed marked undefined (the BoringSSL
 * technique, see ct_probe.c); memcheck must find no branch or address that
 * depends on it. Valgrind 3.19 cannot run AVX-512, so the IFMA path is not
 * covered here; the portable and AVX2 paths are.
 */
#include <sys/wait.h>

#include "tests/harness.h"

static int run_probe(const char *isa, const char *mode, int *ret_errors)
{
	char cmd[4096], line[512];
	FILE *f;
	int st, errors = 0;

#if defined(__SANITIZE_ADDRESS__)
	SKIP("valgrind cannot run AddressSanitizer builds; the check runs in the normal build");
#endif
	if (system("command -v valgrind >/dev/null 2>&1") != 0)
		SKIP("valgrind is not installed (scripts/deps installs it)");
	snprintf(cmd, sizeof(cmd),
		 "VEIL_FHE_ISA=%s valgrind -q --error-exitcode=99 %s/tests/fhe/ct-probe %s 2>&1",
		 isa, harness_builddir(), mode);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "uninitialised"))
			errors++;
	st = pclose(f);
	*ret_errors = errors;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST_TIMEOUT(secret_operations_have_no_secret_dependent_branches_portable, 120)
{
	int errors;

	EXPECT_EQ(0, run_probe("portable", "check", &errors));
	EXPECT_EQ(0, errors);
}

TEST_TIMEOUT(secret_operations_have_no_secret_dependent_branches_avx2, 120)
{
	int errors;

	EXPECT_EQ(0, run_probe("avx2", "check", &errors));
	EXPECT_EQ(0, errors);
}

TEST_TIMEOUT(the_check_catches_a_deliberate_secret_branch, 120)
{
	int errors;

	EXPECT_EQ(99, run_probe("portable", "leak", &errors));
	EXPECT_GE(errors, 1);
}
