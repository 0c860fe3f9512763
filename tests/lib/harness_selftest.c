// SPDX-License-Identifier: GPL-2.0-only
/*
 * The harness tests itself: harness_victim holds one test of every outcome;
 * its KTAP must report each as what it is, and prove must fail on it.
 */
#include "tests/harness.h"

#include <sys/wait.h>

#define OUT_MAX (64 * 1024)

/* Runs a shell command, returns its exit status and (in *out) its output. */
static int run(const char *cmd, char *out)
{
	FILE *f = popen(cmd, "r");
	size_t n;
	int st;

	if (!f)
		return -1;
	n = fread(out, 1, OUT_MAX - 1, f);
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int run_victim(const char *args, char *out)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "'%s/tests/lib/harness_victim' %s 2>&1", harness_builddir(), args);
	return run(cmd, out);
}

static char out[OUT_MAX];

TEST(reports_every_outcome_as_what_it_is)
{
	ASSERT_EQ(1, run_victim("", out));
	TH_LOG("victim output follows");
	EXPECT_NONNULL(strstr(out, "KTAP version 1\n1..7\n"));
	EXPECT_NONNULL(strstr(out, "ok 1 passes"));
	EXPECT_NONNULL(strstr(out, "not ok 2 fails_assertion"));
	/* The failing values are printed. */
	EXPECT_NONNULL(strstr(out, "Expected 42 (42) == seen (41)"));
	EXPECT_NULL(strstr(out, "unreachable after a failed ASSERT"));
	EXPECT_NONNULL(strstr(out, "not ok 3 fails_expect_but_continues"));
	EXPECT_NONNULL(strstr(out, "still running after EXPECT"));
	EXPECT_NONNULL(strstr(out, "crashes: crashed: signal 11"));
	EXPECT_NONNULL(strstr(out, "not ok 4 crashes"));
	EXPECT_NONNULL(strstr(out, "times_out: TIMEOUT after 1s"));
	EXPECT_NONNULL(strstr(out, "not ok 5 times_out"));
	EXPECT_NONNULL(strstr(out, "ok 6 skips # SKIP no such feature here"));
	EXPECT_NONNULL(strstr(out, "not ok 7 fx_fixture_fails_and_tears_down"));
	EXPECT_NONNULL(strstr(out, "# teardown saw 8"));
	EXPECT_NONNULL(strstr(out, "# Totals: pass:1 fail:5 xfail:0 xpass:0 skip:1 error:0"));
}

TEST(plan_counts_selected_tests_and_exit_codes_follow_kselftest)
{
	ASSERT_EQ(0, run_victim("passes skips", out));
	EXPECT_NONNULL(strstr(out, "1..2\n"));
	ASSERT_EQ(4, run_victim("skips", out));
	EXPECT_NONNULL(strstr(out, "1..1\n"));
	ASSERT_EQ(0, run_victim("no_such_test", out));
	EXPECT_NONNULL(strstr(out, "1..0\n"));
}

TEST(a_failing_test_makes_prove_fail)
{
	char cmd[8192];

	if (system("command -v prove >/dev/null 2>&1") != 0)
		SKIP("prove is not installed");
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && prove --exec '%s/tests/run-test' tests/lib/harness_victim :: fails_assertion 2>&1",
		 harness_builddir(), harness_srcdir());
	EXPECT_NE(0, run(cmd, out));
	EXPECT_NONNULL(strstr(out, "Result: FAIL"));
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && prove --exec '%s/tests/run-test' tests/lib/harness_victim :: passes skips 2>&1",
		 harness_builddir(), harness_srcdir());
	EXPECT_EQ(0, run(cmd, out));
	EXPECT_NONNULL(strstr(out, "Result: PASS"));
}
