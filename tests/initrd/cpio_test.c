// SPDX-License-Identifier: GPL-2.0-only
/* The newc writer: exact headers, alignment, a peer reader, determinism, gzip. */
#include "tests/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "initrd/cpio.h"
#include "initrd/list.h"
#include "lib/fd.h"

static const char list_text[] = "dir /etc 0750 1 2\n"
				"file /etc/hostname ${HOSTFILE} 0640 3 4\n"
				"slink /etc/mtab ../proc/self/mounts 0777 0 0\n"
				"nod /dev/console 0600 0 0 c 5 1\n";

/* Builds list_text into a memfd; returns the fd (data at offset 0) or -errno. */
static int build(const struct initrd_cpio_opts *o, char **ret, size_t *ret_len)
{
	struct initrd_list *l = initrd_list_new();
	char err[256];
	int fd, r;

	setenv("HOSTFILE", "/etc/hostname", 1);
	r = initrd_list_parse(l, "t", list_text, strlen(list_text), err, sizeof(err));
	if (r == 0)
		r = initrd_list_finish(l, err, sizeof(err));
	fd = memfd_create("cpio", MFD_CLOEXEC);
	if (r == 0 && fd < 0)
		r = -errno;
	if (r == 0)
		r = initrd_write_cpio(l, fd, o, err, sizeof(err));
	initrd_list_free(l);
	if (r < 0) {
		printf("# %s\n", err);
		return r;
	}
	lseek(fd, 0, SEEK_SET);
	r = fd_read_all(fd, 1u << 20, ret, ret_len);
	return r < 0 ? r : fd;
}

static unsigned long field(const char *h, int i)
{
	char f[9];

	memcpy(f, h + 6 + 8 * i, 8);
	f[8] = '\0';
	return strtoul(f, NULL, 16);
}

TEST(writes_newc_headers_with_fixed_inodes_owners_and_mtime)
{
	struct initrd_cpio_opts o = { .mtime = 1234567890 };
	char *buf;
	size_t len, off = 0;
	unsigned int entries = 0;
	int fd = build(&o, &buf, &len);

	ASSERT_GE(fd, 0);
	/* First entry: "dev" (sorted), an implicit 0755 root-owned dir, inode 1. */
	ASSERT_EQ(0, memcmp(buf, "070701", 6));
	EXPECT_EQ(1, field(buf, 0));
	EXPECT_EQ(S_IFDIR | 0755, field(buf, 1));
	EXPECT_EQ(1234567890, field(buf, 5));
	EXPECT_EQ(0, memcmp(buf + 110, "dev", 4));
	/* Walk every header: magic, 4-byte alignment, names, the trailer last. */
	for (;;) {
		unsigned long namesize, filesize;
		const char *name;

		ASSERT_LE(off + 110, len);
		ASSERT_EQ(0, memcmp(buf + off, "070701", 6));
		filesize = field(buf + off, 6);
		namesize = field(buf + off, 11);
		name = buf + off + 110;
		entries++;
		if (strcmp(name, "etc/hostname") == 0) {
			EXPECT_EQ(S_IFREG | 0640, field(buf + off, 1));
			EXPECT_EQ(3, field(buf + off, 2));
			EXPECT_EQ(4, field(buf + off, 3));
		} else if (strcmp(name, "dev/console") == 0) {
			EXPECT_EQ(S_IFCHR | 0600, field(buf + off, 1));
			EXPECT_EQ(5, field(buf + off, 9));
			EXPECT_EQ(1, field(buf + off, 10));
		} else if (strcmp(name, "etc/mtab") == 0) {
			EXPECT_EQ(S_IFLNK | 0777, field(buf + off, 1));
			EXPECT_EQ(strlen("../proc/self/mounts"), filesize);
		}
		off += 110 + namesize;
		off = (off + 3) & ~3ul;
		if (strcmp(name, "TRAILER!!!") == 0)
			break;
		off += filesize;
		off = (off + 3) & ~3ul;
	}
	EXPECT_EQ(len, off);
	EXPECT_EQ(6, entries);	/* dev, dev/console, etc, etc/hostname, etc/mtab, trailer */
	free(buf);
	close(fd);
}

TEST(gnu_cpio_reads_back_contents_modes_and_links)
{
	struct initrd_cpio_opts o = {};
	char dir[] = "/tmp/veil-cpio-XXXXXX", cmd[512], path[256], *buf, *want, *got;
	size_t len, wl, gl;
	struct stat st;
	int fd = build(&o, &buf, &len);
	FILE *p;

	ASSERT_GE(fd, 0);
	ASSERT_NONNULL(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cd %s && cpio -i --quiet -d --no-absolute-filenames", dir);
	p = popen(cmd, "w");
	ASSERT_NONNULL(p);
	ASSERT_EQ(len, fwrite(buf, 1, len, p));
	EXPECT_EQ(0, pclose(p));
	snprintf(path, sizeof(path), "%s/etc/hostname", dir);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0640, st.st_mode & 07777);
	ASSERT_EQ(0, fd_read_file(path, 4096, &got, &gl));
	ASSERT_EQ(0, fd_read_file("/etc/hostname", 4096, &want, &wl));
	ASSERT_EQ(wl, gl);
	EXPECT_MEMEQ(want, got, wl);
	snprintf(path, sizeof(path), "%s/etc/mtab", dir);
	{
		char target[64] = "";

		EXPECT_GT(readlink(path, target, sizeof(target) - 1), 0);
		EXPECT_STREQ("../proc/self/mounts", target);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	EXPECT_EQ(0, system(cmd));
	free(want);
	free(got);
	free(buf);
	close(fd);
}

TEST(same_list_gives_same_bytes_and_mtime_changes_them)
{
	struct initrd_cpio_opts o = {};
	char *a, *b, *c;
	size_t al, bl, cl;
	int fa = build(&o, &a, &al), fb = build(&o, &b, &bl), fc;

	ASSERT_GE(fa, 0);
	ASSERT_GE(fb, 0);
	ASSERT_EQ(al, bl);
	EXPECT_MEMEQ(a, b, al);
	o.mtime = 1;
	fc = build(&o, &c, &cl);
	ASSERT_GE(fc, 0);
	EXPECT_NE(0, memcmp(a, c, al));
	free(a);
	free(b);
	free(c);
	close(fa);
	close(fb);
	close(fc);
}

TEST(gzip_output_is_deterministic_and_decompresses_to_the_plain_archive)
{
	struct initrd_cpio_opts plain = {}, gz = { .gzip = true };
	char *p, *g1, *g2, tmp[] = "/tmp/veil-cpio-gz-XXXXXX", cmd[256], *un;
	size_t pl, gl1, gl2, ul;
	int fp = build(&plain, &p, &pl), f1 = build(&gz, &g1, &gl1), f2 = build(&gz, &g2, &gl2);
	int t;

	ASSERT_GE(fp, 0);
	ASSERT_GE(f1, 0);
	ASSERT_GE(f2, 0);
	ASSERT_EQ(gl1, gl2);
	EXPECT_MEMEQ(g1, g2, gl1);
	/* gzip magic, deflate, mtime 0, OS Unix */
	EXPECT_EQ(0x1f, (unsigned char)g1[0]);
	EXPECT_EQ(0x8b, (unsigned char)g1[1]);
	EXPECT_EQ(0, g1[4] | g1[5] | g1[6] | g1[7]);
	EXPECT_EQ(3, g1[9]);
	t = mkstemp(tmp);
	ASSERT_GE(t, 0);
	ASSERT_EQ(0, fd_write_full(t, g1, gl1));
	close(t);
	snprintf(cmd, sizeof(cmd), "gzip -dc < %s > %s.out", tmp, tmp);
	ASSERT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd), "%s.out", tmp);
	ASSERT_EQ(0, fd_read_file(cmd, 1u << 20, &un, &ul));
	ASSERT_EQ(pl, ul);
	EXPECT_MEMEQ(p, un, pl);
	unlink(tmp);
	unlink(cmd);
	free(p);
	free(g1);
	free(g2);
	free(un);
	close(fp);
	close(f1);
	close(f2);
}

TEST(a_source_that_vanished_fails_with_its_name)
{
	struct initrd_list *l = initrd_list_new();
	struct initrd_entry e = { .path = "x", .type = INITRD_FILE, .mode = 0644,
				  .source = "/nonexistent/veil-src" };
	struct initrd_cpio_opts o = {};
	char err[256] = "";
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	ASSERT_EQ(0, initrd_list_add(l, &e));
	ASSERT_EQ(0, initrd_list_finish(l, err, sizeof(err)));
	EXPECT_EQ(-ENOENT, initrd_write_cpio(l, fd, &o, err, sizeof(err)));
	EXPECT_NONNULL(strstr(err, "/nonexistent/veil-src"));
	close(fd);
	initrd_list_free(l);
}
