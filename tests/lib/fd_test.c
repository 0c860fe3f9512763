// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fd.h"

TEST(reads_capped_files)
{
	char path[] = "/tmp/veil-fd-XXXXXX";
	int fd = mkstemp(path);
	char *buf;
	size_t n;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fd_write_full(fd, "0123456789", 10));
	close(fd);
	ASSERT_EQ(0, fd_read_file(path, 10, &buf, &n));
	EXPECT_EQ(10, n);
	EXPECT_STREQ("0123456789", buf);
	free(buf);
	EXPECT_EQ(-EFBIG, fd_read_file(path, 9, &buf, &n));
	EXPECT_EQ(-ENOENT, fd_read_file("/nonexistent/x", 10, &buf, &n));
	EXPECT_EQ(-EISDIR, fd_read_file("/tmp", 10, &buf, &n));
	unlink(path);
}

TEST(caps_unsized_streams)
{
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	char *buf;
	size_t n;

	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EFBIG, fd_read_all(fd, 100000, &buf, &n));
	close(fd);
}

TEST(closes_stray_fds_but_keeps_listed_ones)
{
	int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);

	ASSERT_GE(a, 3);
	ASSERT_GE(b, 3);
	ASSERT_EQ(0, fd_close_stray(&b, 1));
	EXPECT_EQ(-1, fcntl(a, F_GETFD));
	EXPECT_GE(fcntl(b, F_GETFD), 0);
	EXPECT_GE(fcntl(1, F_GETFD), 0);
}

TEST(atomic_write_sets_mode_and_replaces)
{
	char dir[] = "/tmp/veil-fd-XXXXXX", path[64];
	struct stat st;
	char *buf;
	size_t n;

	ASSERT_NONNULL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	ASSERT_EQ(0, fd_write_file_atomic(path, "one", 3, 0600));
	ASSERT_EQ(0, fd_write_file_atomic(path, "two!", 4, 0600));
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	ASSERT_EQ(0, fd_read_file(path, 100, &buf, &n));
	EXPECT_STREQ("two!", buf);
	free(buf);
	unlink(path);
	rmdir(dir);
}

TEST(toggles_nonblock_and_cloexec)
{
	int p[2];

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, fd_set_nonblock(p[0], true));
	EXPECT_TRUE(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	ASSERT_EQ(0, fd_set_cloexec(p[0], true));
	EXPECT_TRUE(fcntl(p[0], F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, fd_set_cloexec(p[0], false));
	EXPECT_FALSE(fcntl(p[0], F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(-EBADF, fd_set_nonblock(-1, true));
}
