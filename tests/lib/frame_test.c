// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <sys/socket.h>
#include <unistd.h>

#include "lib/frame.h"

TEST(parses_complete_frames_only)
{
	const uint8_t buf[] = { 0, 0, 0, 3, 'a', 'b', 'c', 0, 0 };
	const uint8_t *p;
	size_t n;

	EXPECT_EQ(0, frame_parse(buf, 3, 100, &p, &n));
	EXPECT_EQ(0, frame_parse(buf, 6, 100, &p, &n));
	ASSERT_EQ(7, frame_parse(buf, 7, 100, &p, &n));
	EXPECT_EQ(3, n);
	EXPECT_MEMEQ("abc", p, 3);
	ASSERT_EQ(7, frame_parse(buf, sizeof(buf), 100, &p, &n));
}

TEST(rejects_oversized_frame)
{
	const uint8_t big[] = { 0, 0, 1, 0 };
	const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff };
	const uint8_t *p;
	size_t n;

	EXPECT_EQ(-EMSGSIZE, frame_parse(big, sizeof(big), 255, &p, &n));
	EXPECT_EQ(0, frame_parse(big, sizeof(big), 256, &p, &n));
	EXPECT_EQ(-EMSGSIZE, frame_parse(huge, sizeof(huge), SIZE_MAX, &p, &n));
}

TEST(round_trips_over_a_socket)
{
	int sv[2];
	char buf[64];
	size_t n;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, frame_write(sv[0], "hello", 5, 64));
	ASSERT_EQ(0, frame_write(sv[0], "", 0, 64));
	ASSERT_EQ(0, frame_read(sv[1], buf, sizeof(buf), &n));
	EXPECT_EQ(5, n);
	EXPECT_MEMEQ("hello", buf, 5);
	ASSERT_EQ(0, frame_read(sv[1], buf, sizeof(buf), &n));
	EXPECT_EQ(0, n);
	close(sv[0]);
	EXPECT_EQ(-ENODATA, frame_read(sv[1], buf, sizeof(buf), &n));
	close(sv[1]);
}

TEST(reader_refuses_frame_over_its_cap_and_truncation)
{
	int sv[2];
	char buf[8];
	size_t n;
	const uint8_t partial[] = { 0, 0, 0, 4, 'x' };

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, frame_write(sv[0], "0123456789", 10, 64));
	EXPECT_EQ(-EMSGSIZE, frame_read(sv[1], buf, sizeof(buf), &n));
	close(sv[0]);
	close(sv[1]);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ((ssize_t)sizeof(partial), write(sv[0], partial, sizeof(partial)));
	close(sv[0]);
	EXPECT_EQ(-ECONNRESET, frame_read(sv[1], buf, sizeof(buf), &n));
	close(sv[1]);
}

TEST(writer_refuses_payload_over_cap)
{
	EXPECT_EQ(-EMSGSIZE, frame_write(-1, "abc", 3, 2));
}
