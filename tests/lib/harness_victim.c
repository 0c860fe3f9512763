// SPDX-License-Identifier: GPL-2.0-only
/*
 * Not run by `make check` directly: harness_selftest runs it and checks that
 * every outcome below is reported as what it is.
 */
#include "tests/harness.h"

#include <signal.h>
#include <unistd.h>

TEST(passes)
{
	ASSERT_EQ(2, 1 + 1);
}

TEST(fails_assertion)
{
	int seen = 41;

	ASSERT_EQ(42, seen);
	puts("unreachable after a failed ASSERT");
}

TEST(fails_expect_but_continues)
{
	EXPECT_STREQ("a", "b");
	puts("still running after EXPECT");
}

TEST(crashes)
{
	/* The default action even under ASan's SIGSEGV handler. */
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
}

TEST_TIMEOUT(times_out, 1)
{
	pause();
}

TEST(skips)
{
	SKIP("no such feature here");
}

FIXTURE(fx) {
	int value;
};

FIXTURE_SETUP(fx)
{
	self->value = 7;
}

FIXTURE_TEARDOWN(fx)
{
	printf("teardown saw %d\n", self->value);
}

TEST_F(fx, fixture_fails_and_tears_down)
{
	self->value = 8;
	ASSERT_EQ(9, self->value);
}
