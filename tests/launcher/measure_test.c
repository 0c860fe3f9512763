// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher/measure.h"
#include "tests/launcher/util.h"

FIXTURE(bundle)
{
	char dir[64];
	char bundle[128];
	uint8_t d0[32];
};

FIXTURE_SETUP(bundle)
{
	char err[MEASURE_ERR_MAX], p[256];
	int fd;

	if (!lt_have_busybox())
		SKIP("busybox-static is not installed");
	ASSERT_EQ(0, lt_tmpdir(self->dir));
	ASSERT_EQ(0, lt_bundle(self->dir, "b", NULL));
	snprintf(self->bundle, sizeof(self->bundle), "%s/b", self->dir);
	/* A file larger than one batch of io_uring reads. */
	snprintf(p, sizeof(p), "%s/rootfs/data/big", self->bundle);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0);
	for (int i = 0; i < 5 * 1024; i++) {
		char blk[1024];

		memset(blk, i & 0xff, sizeof(blk));
		ASSERT_EQ(sizeof(blk), write(fd, blk, sizeof(blk)));
	}
	close(fd);
	ASSERT_EQ(0, launcher_measure_bundle(self->bundle, 0, self->d0, NULL, err));
}

FIXTURE_TEARDOWN(bundle)
{
	lt_rm_rf(self->dir);
}

static bool same(const char *bundle, const uint8_t d0[32])
{
	char err[MEASURE_ERR_MAX];
	uint8_t d[32];

	if (launcher_measure_bundle(bundle, 0, d, NULL, err) < 0) {
		TH_LOG("measure: %s", err);
		return false;
	}
	return memcmp(d, d0, 32) == 0;
}

TEST_F(bundle, digest_is_stable_across_runs_and_thread_counts)
{
	char err[MEASURE_ERR_MAX];
	struct measure_stats st;
	uint8_t d1[32], d4[32];

	ASSERT_EQ(0, launcher_measure_bundle(self->bundle, 1, d1, &st, err));
	ASSERT_EQ(0, launcher_measure_bundle(self->bundle, 4, d4, NULL, err));
	EXPECT_MEMEQ(self->d0, d1, 32);
	EXPECT_MEMEQ(self->d0, d4, 32);
	EXPECT_GE(st.bytes, 5 * 1024 * 1024);
	EXPECT_GE(st.entries, 20);
}

TEST_F(bundle, one_byte_changes_the_digest)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/rootfs/data/big", self->bundle);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(1, pwrite(fd, "x", 1, 4 * 1024 * 1024 + 7));
	EXPECT_FALSE(same(self->bundle, self->d0));
	ASSERT_EQ(1, pwrite(fd, "\0", 1, 4 * 1024 * 1024 + 7));
	close(fd);
	EXPECT_TRUE(same(self->bundle, self->d0));
}

TEST_F(bundle, mode_change_changes_the_digest)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/rootfs/etc/secret", self->bundle);
	ASSERT_EQ(0, chmod(p, 0600));
	EXPECT_FALSE(same(self->bundle, self->d0));
	ASSERT_EQ(0, chmod(p, 0644));
	EXPECT_TRUE(same(self->bundle, self->d0));
}

TEST_F(bundle, owner_change_changes_the_digest)
{
	char p[256];

	if (geteuid() != 0)
		SKIP("chown needs root");
	snprintf(p, sizeof(p), "%s/rootfs/etc/secret", self->bundle);
	ASSERT_EQ(0, chown(p, 1000, 1000));
	EXPECT_FALSE(same(self->bundle, self->d0));
	ASSERT_EQ(0, chown(p, 0, 0));
	EXPECT_TRUE(same(self->bundle, self->d0));
}

TEST_F(bundle, link_target_change_changes_the_digest)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/rootfs/bin/cat", self->bundle);
	ASSERT_EQ(0, unlink(p));
	ASSERT_EQ(0, symlink("./busybox", p));
	EXPECT_FALSE(same(self->bundle, self->d0));
	ASSERT_EQ(0, unlink(p));
	ASSERT_EQ(0, symlink("busybox", p));
	EXPECT_TRUE(same(self->bundle, self->d0));
}

TEST_F(bundle, new_empty_file_and_config_bytes_change_the_digest)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/rootfs/data/empty", self->bundle);
	ASSERT_EQ(0, lt_write(p, ""));
	EXPECT_FALSE(same(self->bundle, self->d0));
	ASSERT_EQ(0, unlink(p));
	snprintf(p, sizeof(p), "%s/config.json", self->bundle);
	{
		int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);

		ASSERT_GE(fd, 0);
		ASSERT_EQ(1, write(fd, " ", 1));
		close(fd);
	}
	EXPECT_FALSE(same(self->bundle, self->d0));
}

TEST_F(bundle, veil_measure_prints_the_same_digest)
{
	char hex[7 + 65], *out;
	int st;

	launcher_digest_hex(self->d0, hex);
	out = lt_sh(&st, "%s measure %s", lt_prog("veil"), self->bundle);
	ASSERT_NONNULL(out);
	EXPECT_EQ(0, st);
	out[strcspn(out, "\n")] = '\0';
	EXPECT_STREQ(hex, out);
	free(out);
}

TEST_F(bundle, forked_measurement_equals_in_process)
{
	char err[MEASURE_ERR_MAX], *cfg, *rootfs;
	uint8_t d[32];
	size_t len;

	ASSERT_EQ(0, launcher_bundle_read(self->bundle, &cfg, &len, &rootfs, err));
	ASSERT_EQ(0, launcher_measure_forked(rootfs, cfg, len, d, err));
	EXPECT_MEMEQ(self->d0, d, 32);
	free(cfg);
	free(rootfs);
}

TEST_F(bundle, helpers_started_together_each_give_their_own_digest)
{
	char err[MEASURE_ERR_MAX], *cfg, *rootfs;
	struct launcher_measure_job jobs[3];
	uint8_t d[32], other[32];
	size_t len;

	ASSERT_EQ(0, launcher_bundle_read(self->bundle, &cfg, &len, &rootfs, err));
	/* The middle job measures other config bytes: a different digest, finished in order. */
	ASSERT_EQ(0, launcher_measure_start(rootfs, cfg, len, &jobs[0]));
	ASSERT_EQ(0, launcher_measure_start(rootfs, "{}", 2, &jobs[1]));
	ASSERT_EQ(0, launcher_measure_start(rootfs, cfg, len, &jobs[2]));
	ASSERT_EQ(0, launcher_measure_finish(&jobs[0], d, err));
	EXPECT_MEMEQ(self->d0, d, 32);
	ASSERT_EQ(0, launcher_measure_finish(&jobs[1], other, err));
	EXPECT_NE(0, memcmp(self->d0, other, 32));
	ASSERT_EQ(0, launcher_measure_finish(&jobs[2], d, err));
	EXPECT_MEMEQ(self->d0, d, 32);
	EXPECT_EQ(-1, jobs[2].fd);
	free(cfg);
	free(rootfs);
}

TEST(failed_helper_reports_its_error)
{
	char err[MEASURE_ERR_MAX];
	struct launcher_measure_job job;
	uint8_t d[32];

	ASSERT_EQ(0, launcher_measure_start("/nonexistent/rootfs", "{}", 2, &job));
	EXPECT_LT(launcher_measure_finish(&job, d, err), 0);
	EXPECT_NONNULL(strstr(err, "/nonexistent/rootfs"));
}

TEST(missing_rootfs_is_an_error_naming_it)
{
	char err[MEASURE_ERR_MAX];
	uint8_t d[32];

	EXPECT_LT(launcher_measure_rootfs("/nonexistent/rootfs", 0, d, NULL, err), 0);
	EXPECT_NONNULL(strstr(err, "/nonexistent/rootfs"));
}
