// SPDX-License-Identifier: GPL-2.0-only
/* Layer unpacking: hostile tar entries, whiteouts, opaque directories. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher/unpack.h"
#include "lib/cleanup.h"
#include "tests/harness.h"
#include "tests/images/testutil.h"

FIXTURE(root) {
	char root[512], outside[512];
	int rootfd;
};

FIXTURE_SETUP(root)
{
	const char *s = it_scratch();

	ASSERT_NONNULL(s);
	snprintf(self->root, sizeof(self->root), "%s/a/b/root", s);
	snprintf(self->outside, sizeof(self->outside), "%s/outside", s);
	ASSERT_EQ(0, it_run("mkdir -p '%s' '%s' && echo sentinel > '%s/sentinel'", self->root,
			    self->outside, self->outside));
	self->rootfd = open(self->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_GE(self->rootfd, 0);
}

FIXTURE_TEARDOWN(root)
{
	close(self->rootfd);
	it_cleanup();
}

static int apply(int rootfd, const struct tar_ent *ents, size_t n, const struct unpack_opts *o,
		 struct vjson_err *e)
{
	uint8_t *tar;
	size_t len;
	int r = it_tar(ents, n, &tar, &len);

	if (r < 0)
		return r;
	r = launcher_unpack_layer(rootfd, tar, len, UNPACK_NONE, o, NULL, e);
	free(tar);
	return r;
}

/* Nothing beside the sentinel outside, nothing above the root. */
static void assert_outside_untouched(const char *outside, const char *root)
{
	char p[600];
	uint8_t *buf = NULL;
	size_t n = 0;

	ASSERT_EQ(1, it_count(outside));
	snprintf(p, sizeof(p), "%s/sentinel", outside);
	ASSERT_EQ(0, it_read(p, &buf, &n));
	ASSERT_EQ(9u, n);
	ASSERT_MEMEQ("sentinel\n", buf, 9);
	free(buf);
	snprintf(p, sizeof(p), "%s/..", root);
	ASSERT_EQ(1, it_count(p));	/* only root itself in a/b */
}

TEST_F(root, hostile_entries_are_refused_without_touching_anything_outside)
{
	static char huge[70000];
	char abs_out[600], abs_link[600], rel_out[64];
	struct tar_ent cases[][3] = {
		{ { 'f', "../evil", "x" } },
		{ { 'f', "/evil", "x" } },
		{ { 'f', "./a/../../evil", "x" } },
		{ { 'f', "a/../../../outside/evil", "x" } },
		{ { 'l', "link", "../../../outside" } },
		{ { 'l', "d/link", "../../x" } },
		{ { 'l', "link", abs_out }, { 'f', "link/evil", "x" } },
		{ { 'l', "link", abs_out }, { 'd', "link/sub" } },
		{ { 'l', "link", abs_out }, { 'l', "link/evil", "x" } },
		{ { 'h', "hl", "../outside/sentinel" } },
		{ { 'h', "hl", abs_link } },
		{ { 'l', "link", abs_out }, { 'h', "hl", "link/sentinel" } },
		{ { 'c', "null" } },
		{ { 'f', "suid", "x", 04755 } },
		{ { 'f', "sgid", "x", 02755 } },
		{ { 'f', huge, "x" } },
		{ { 'f', "dup", "x" }, { 'f', "dup", "y" } },
		{ { 'f', ".wh..", "" } },
		{ { 'f', "x", "1" }, { 'f', ".wh.x", "" } },
		{ { 'l', "empty", "" } },
	};
	static const int want[] = { -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL,
				    -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EPERM,  -EPERM,
				    -EPERM,  -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL };
	static const size_t nents[] = { 1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 2, 1, 1, 1, 1, 2, 1, 2, 1 };

	_Static_assert(ARRAY_SIZE(want) == ARRAY_SIZE(cases), "table");
	_Static_assert(ARRAY_SIZE(nents) == ARRAY_SIZE(cases), "table");
	memset(huge, 'a', sizeof(huge) - 1);
	snprintf(abs_out, sizeof(abs_out), "%s", self->outside);
	snprintf(abs_link, sizeof(abs_link), "%s/sentinel", self->outside);
	snprintf(rel_out, sizeof(rel_out), "../../../outside");
	(void)rel_out;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vjson_err e = { { 0 } };
		int r;

		ASSERT_EQ(0, it_run("rm -rf '%s' && mkdir '%s'", self->root, self->root));
		close(self->rootfd);
		self->rootfd = open(self->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = apply(self->rootfd, cases[i], nents[i], NULL, &e);
		TH_LOG("case %zu: %d %s", i, r, e.msg);
		EXPECT_EQ(want[i], r);
		EXPECT_NE(0, e.msg[0]);
		assert_outside_untouched(self->outside, self->root);
	}
}

TEST_F(root, devices_and_setuid_files_unpack_when_allowed)
{
	struct tar_ent ents[] = { { 'f', "suid", "x", 04755 }, { 'c', "null" }, { 'p', "fifo" } };
	struct unpack_opts o = { .allow_devices = true, .allow_setuid = true, .chown = 0 };
	struct vjson_err e = { { 0 } };
	char p[600];
	struct stat st;

	ASSERT_EQ(0, apply(self->rootfd, ents, 3, &o, &e));
	snprintf(p, sizeof(p), "%s/suid", self->root);
	ASSERT_EQ(0, stat(p, &st));
	EXPECT_EQ(04755u, st.st_mode & 07777);
	snprintf(p, sizeof(p), "%s/null", self->root);
	ASSERT_EQ(0, lstat(p, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	snprintf(p, sizeof(p), "%s/fifo", self->root);
	ASSERT_EQ(0, lstat(p, &st));
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST_F(root, later_layer_replaces_a_symlink_instead_of_writing_through_it)
{
	char abs_t[600], p[700];
	struct tar_ent l1[] = { { 'l', "f", abs_t } };
	struct tar_ent l2[] = { { 'f', "f", "new" } };
	struct vjson_err e = { { 0 } };
	struct stat st;

	snprintf(abs_t, sizeof(abs_t), "%s/target", self->outside);
	ASSERT_EQ(0, apply(self->rootfd, l1, 1, NULL, &e));
	ASSERT_EQ(0, apply(self->rootfd, l2, 1, NULL, &e));
	snprintf(p, sizeof(p), "%s/f", self->root);
	ASSERT_EQ(0, lstat(p, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(3, st.st_size);
	assert_outside_untouched(self->outside, self->root);
}

TEST_F(root, whiteouts_and_opaque_dirs_remove_lower_layers_only)
{
	struct tar_ent l1[] = {
		{ 'd', "a" }, { 'f', "a/x", "x" }, { 'f', "a/y", "y" }, { 'd', "b" },
		{ 'f', "b/z", "z" }, { 'f', "keep", "k" }, { 'l', "gone-link", "keep" },
	};
	struct tar_ent l2[] = {
		{ 'f', "a/new", "n" }, { 'f', "a/.wh..wh..opq", "" }, { 'f', ".wh.b", "" },
		{ 'f', ".wh.gone-link", "" }, { 'f', ".wh.never-existed", "" },
	};
	struct vjson_err e = { { 0 } };
	char p[700];
	struct stat st;

	ASSERT_EQ(0, apply(self->rootfd, l1, ARRAY_SIZE(l1), NULL, &e));
	ASSERT_EQ(0, apply(self->rootfd, l2, ARRAY_SIZE(l2), NULL, &e));
	snprintf(p, sizeof(p), "%s/a", self->root);
	EXPECT_EQ(1, it_count(p));
	snprintf(p, sizeof(p), "%s/a/new", self->root);
	EXPECT_EQ(0, stat(p, &st));
	snprintf(p, sizeof(p), "%s/b", self->root);
	EXPECT_NE(0, lstat(p, &st));
	snprintf(p, sizeof(p), "%s/gone-link", self->root);
	EXPECT_NE(0, lstat(p, &st));
	snprintf(p, sizeof(p), "%s/keep", self->root);
	EXPECT_EQ(0, stat(p, &st));
	EXPECT_EQ(2, it_count(self->root));	/* a, keep: no .wh. files left */
}

TEST_F(root, hard_links_inside_the_root_share_the_inode)
{
	struct tar_ent ents[] = { { 'd', "d" }, { 'f', "d/f", "data" }, { 'h', "g", "d/f" } };
	struct vjson_err e = { { 0 } };
	struct stat a, b;
	char p[700];

	ASSERT_EQ(0, apply(self->rootfd, ents, 3, NULL, &e));
	snprintf(p, sizeof(p), "%s/d/f", self->root);
	ASSERT_EQ(0, stat(p, &a));
	snprintf(p, sizeof(p), "%s/g", self->root);
	ASSERT_EQ(0, stat(p, &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST(clean_path_normalises_and_refuses_escapes)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "a/b", "a/b" }, { "./a//b/", "a/b" }, { ".", "" }, { "./", "" }, { "a/./b", "a/b" },
	};
	static const char *const bad[] = { "/a", "..", "a/../b", "../", "a/..", "//x" };
	char out[UNPACK_PATH_MAX + 1];

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		ASSERT_EQ(0, launcher_unpack_clean_path(ok[i].in, out, sizeof(out)));
		EXPECT_STREQ(ok[i].out, out);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, launcher_unpack_clean_path(bad[i], out, sizeof(out)));
}

TEST_F(root, corrupt_archives_are_refused)
{
	static const uint8_t junk[1024] = { 'n', 'o', 't', ' ', 'a', ' ', 't', 'a', 'r', 1, 2 };
	struct vjson_err e = { { 0 } };

	EXPECT_EQ(-EBADMSG, launcher_unpack_layer(self->rootfd, junk, sizeof(junk), UNPACK_GZIP,
						  NULL, NULL, &e));
	EXPECT_EQ(-EBADMSG, launcher_unpack_layer(self->rootfd, junk, sizeof(junk), UNPACK_NONE,
						  NULL, NULL, &e));
}

/* The image config's diff_id pins the uncompressed tar, trailing blocks included. */
TEST_F(root, diff_id_of_the_uncompressed_tar_is_checked)
{
	static const struct tar_ent ents[] = {
		{ 'd', "etc", NULL, 0 }, { 'f', "etc/hello", "hello\n", 0 },
	};
	struct unpack_opts o = { .chown = 0 };
	struct vjson_err e = { { 0 } };
	char hex[65], good[72], bad[72], path[600];
	uint8_t *tar, *gz;
	size_t len, gzlen;

	ASSERT_EQ(0, it_tar(ents, 2, &tar, &len));
	/* Padding after the end-of-archive blocks, as some tar writers leave it. */
	tar = realloc(tar, len + 10240);
	ASSERT_NONNULL(tar);
	memset(tar + len, 0, 10240);
	len += 10240;
	it_sha256_hex(tar, len, hex);
	snprintf(good, sizeof(good), "sha256:%s", hex);
	snprintf(bad, sizeof(bad), "sha256:%s", hex);
	bad[7] = bad[7] == '0' ? '1' : '0';
	snprintf(path, sizeof(path), "%s/../layer.tar", self->root);
	ASSERT_EQ(0, it_write(path, tar, len));
	ASSERT_EQ(0, it_run("gzip -n -1 '%s'", path));
	snprintf(path, sizeof(path), "%s/../layer.tar.gz", self->root);
	ASSERT_EQ(0, it_read(path, &gz, &gzlen));

	o.diff_id = good;
	EXPECT_EQ(0, launcher_unpack_layer(self->rootfd, tar, len, UNPACK_NONE, &o, NULL, &e));
	EXPECT_EQ(0, launcher_unpack_layer(self->rootfd, gz, gzlen, UNPACK_GZIP, &o, NULL, &e));
	o.diff_id = bad;
	EXPECT_EQ(-EBADMSG, launcher_unpack_layer(self->rootfd, tar, len, UNPACK_NONE, &o, NULL, &e));
	EXPECT_NONNULL(strstr(e.msg, "diff_id"));
	e.msg[0] = '\0';
	EXPECT_EQ(-EBADMSG, launcher_unpack_layer(self->rootfd, gz, gzlen, UNPACK_GZIP, &o, NULL, &e));
	EXPECT_NONNULL(strstr(e.msg, "diff_id"));
	EXPECT_NONNULL(strstr(e.msg, hex));
	free(tar);
	free(gz);
}
