// SPDX-License-Identifier: GPL-2.0-only
/* The `veil mkinitrd` verb: what it writes, and what it does with a bad list. */
#include "tests/harness.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fd.h"

/* Runs `veil mkinitrd ARGS` with output captured; its exit status. */
static int mkinitrd(const char *args, char *out, size_t out_len)
{
	char cmd[8192];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "%s/veil mkinitrd %s 2>&1", harness_builddir(), args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, out_len - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(writes_the_archive_and_replaces_it_atomically)
{
	char dir[] = "/tmp/veil-mkinitrd-XXXXXX", list[128], out[128], args[512], msg[4096];
	struct stat st;
	FILE *f;

	ASSERT_NONNULL(mkdtemp(dir));
	snprintf(list, sizeof(list), "%s/l", dir);
	snprintf(out, sizeof(out), "%s/o.cpio.gz", dir);
	f = fopen(list, "w");
	ASSERT_NONNULL(f);
	fputs("dir /etc 0755 0 0\nslink /etc/x ${TARGET} 0777 0 0\n", f);
	fclose(f);
	snprintf(args, sizeof(args), "-z -D TARGET=y %s -o %s", list, out);
	EXPECT_EQ(0, mkinitrd(args, msg, sizeof(msg)));
	ASSERT_EQ(0, stat(out, &st));
	EXPECT_GT(st.st_size, 20);
	/* Only the archive: no temporary file is left behind. */
	snprintf(args, sizeof(args), "ls %s | wc -l | grep -qx 2", dir);
	EXPECT_EQ(0, system(args));
	snprintf(args, sizeof(args), "rm -rf %s", dir);
	EXPECT_EQ(0, system(args));
}

TEST(bad_list_fails_naming_the_line_and_keeps_the_old_archive)
{
	char dir[] = "/tmp/veil-mkinitrd-XXXXXX", list[128], out[128], args[512], msg[4096];
	char *keep;
	size_t n;
	FILE *f;

	ASSERT_NONNULL(mkdtemp(dir));
	snprintf(list, sizeof(list), "%s/l", dir);
	snprintf(out, sizeof(out), "%s/o.cpio", dir);
	f = fopen(out, "w");
	ASSERT_NONNULL(f);
	fputs("old", f);
	fclose(f);
	f = fopen(list, "w");
	ASSERT_NONNULL(f);
	fputs("dir /etc 0755 0 0\nfile /etc/x\n", f);
	fclose(f);
	snprintf(args, sizeof(args), "%s -o %s", list, out);
	EXPECT_EQ(1, mkinitrd(args, msg, sizeof(msg)));
	EXPECT_NONNULL(strstr(msg, ":2: 'file' takes 5 fields, not 1"));
	ASSERT_EQ(0, fd_read_file(out, 16, &keep, &n));
	EXPECT_STREQ("old", keep);
	free(keep);
	EXPECT_EQ(1, mkinitrd("", msg, sizeof(msg)));
	EXPECT_NONNULL(strstr(msg, "usage: veil mkinitrd"));
	snprintf(args, sizeof(args), "--mtime -5 %s -o %s", list, out);
	EXPECT_EQ(1, mkinitrd(args, msg, sizeof(msg)));
	EXPECT_NONNULL(strstr(msg, "Bad --mtime '-5'"));
	snprintf(args, sizeof(args), "rm -rf %s", dir);
	EXPECT_EQ(0, system(args));
}
