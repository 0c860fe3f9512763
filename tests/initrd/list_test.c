// SPDX-License-Identifier: GPL-2.0-only
/* The initrd list: every entry type, every kind of bad line, resolution, ordering. */
#include "tests/harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "initrd/list.h"
#include "lib/cleanup.h"
#include "lib/fd.h"

static struct initrd_list *parse(const char *text, int *ret, char *err, size_t err_len)
{
	struct initrd_list *l = initrd_list_new();

	err[0] = '\0';
	*ret = initrd_list_parse(l, "t.list", text, strlen(text), err, err_len);
	if (*ret == 0)
		*ret = initrd_list_finish(l, err, err_len);
	return l;
}

static const struct initrd_entry *find(const struct initrd_list *l, const char *path)
{
	for (size_t i = 0; i < initrd_list_count(l); i++)
		if (strcmp(initrd_list_get(l, i)->path, path) == 0)
			return initrd_list_get(l, i);
	return NULL;
}

TEST(parses_every_entry_type_with_owner_and_mode)
{
	char err[512];
	int r;
	struct initrd_list *l = parse("# comment\n\n"
				      "dir /etc 0750 1 2\n"
				      "file /etc/hostname /etc/hostname 0640 3 4   # trailing\n"
				      "slink /bin/sh busybox 0777 0 0\n"
				      "nod /dev/console 0600 0 5 c 5 1\n"
				      "nod /dev/vda 0660 0 6 b 254 0\n",
				      &r, err, sizeof(err));
	const struct initrd_entry *e;

	ASSERT_EQ(0, r);
	e = find(l, "etc");
	ASSERT_NONNULL(e);
	EXPECT_EQ(INITRD_DIR, e->type);
	EXPECT_EQ(0750, e->mode);
	EXPECT_EQ(1, e->uid);
	EXPECT_EQ(2, e->gid);
	e = find(l, "etc/hostname");
	ASSERT_NONNULL(e);
	EXPECT_EQ(INITRD_FILE, e->type);
	EXPECT_STREQ("/etc/hostname", e->source);
	EXPECT_EQ(3, e->uid);
	e = find(l, "bin/sh");
	ASSERT_NONNULL(e);
	EXPECT_EQ(INITRD_SYMLINK, e->type);
	EXPECT_STREQ("busybox", e->source);
	e = find(l, "dev/vda");
	ASSERT_NONNULL(e);
	EXPECT_TRUE(e->block);
	EXPECT_EQ(254, e->major);
	e = find(l, "dev/console");
	ASSERT_NONNULL(e);
	EXPECT_FALSE(e->block);
	EXPECT_EQ(5, e->major);
	EXPECT_EQ(1, e->minor);
	/* Parents nobody listed are root-owned 0755 directories. */
	e = find(l, "dev");
	ASSERT_NONNULL(e);
	EXPECT_EQ(INITRD_DIR, e->type);
	EXPECT_EQ(0755, e->mode);
	initrd_list_free(l);
}

static const struct {
	const char *text;
	int err;
	const char *msg;
} bad_lines[] = {
	{ "dir /a 0755 0\n", -EINVAL, "t.list:1: 'dir' takes 4 fields, not 3" },
	{ "\n\ndir /a 0755 0 0 0\n", -EINVAL, "t.list:3: 'dir' takes 4 fields" },
	{ "dir /a 0888 0 0\n", -EINVAL, "bad field in 'dir' line" },
	{ "dir /a 17777 0 0\n", -EINVAL, "bad field" },
	{ "dir /a -1 0 0\n", -EINVAL, "bad field" },
	{ "dir /a 0755 4294967295 0\n", -EINVAL, "bad field" },
	{ "dir /a 0755 0 x\n", -EINVAL, "bad field" },
	{ "dir /a/../../etc 0755 0 0\n", -EINVAL, "cannot add '/a/../../etc'" },
	{ "dir / 0755 0 0\n", -EINVAL, "cannot add '/'" },
	{ "frob /a\n", -EINVAL, "unknown entry type 'frob'" },
	{ "nod /dev/x 0600 0 0 x 1 1\n", -EINVAL, "bad field in 'nod'" },
	{ "nod /dev/x 0600 0 0 c 4096 1\n", -EINVAL, "bad field in 'nod'" },
	{ "file /x /nonexistent/veil 0644 0 0\n", -ENOENT, "cannot read '/nonexistent/veil'" },
	{ "dir ${VEIL_SURELY_UNSET_VAR} 0755 0 0\n", -EINVAL, "variable 'VEIL_SURELY_UNSET_VAR'" },
	{ "dir ${bad-name} 0755 0 0\n", -EINVAL, "bad variable reference" },
	{ "dir ${UNTERMINATED 0755 0 0\n", -EINVAL, "bad variable reference" },
	{ "module virtio_net\n", -EINVAL, "before any kernel line" },
	{ "kernel\n", -EINVAL, "'kernel' takes KVER" },
	{ "kernel ../x\n", -EINVAL, "bad kernel release" },
	{ "include /nonexistent/x.list\n", -ENOENT, "cannot read list '/nonexistent/x.list'" },
	{ "bin /x /nonexistent/prog 0755 0 0\n", -ENOENT, "cannot read '/nonexistent/prog'" },
	{ "lib libveil-does-not-exist.so.9\n", -ENOENT, "'libveil-does-not-exist.so.9' needed" },
	{ "slink /a/b x 0777 0 0\nslink /a y 0777 0 0\n", -ENOTDIR, "which is not a directory" },
	{ "dir /a 0755 0 0\ndir /a 0700 0 0\n", -EEXIST, "conflicting entries for '/a'" },
	{ "dir /a 0755 0 0\ndir /a 0755 0 0\ndir /a 0700 0 0\n", -EEXIST, "conflicting entries" },
	{ "dir /a 0755 0 0 a b c d e f g h i j k l m n\n", -EINVAL, "too many fields" },
};

TEST(rejects_each_bad_line_with_a_message_naming_it)
{
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		char err[512];
		int r;
		struct initrd_list *l = parse(bad_lines[i].text, &r, err, sizeof(err));

		EXPECT_EQ(bad_lines[i].err, r);
		if (!strstr(err, bad_lines[i].msg))
			harness_fail(__FILE__, __LINE__, false, "case %zu: message '%s' lacks '%s'",
				     i, err, bad_lines[i].msg);
		initrd_list_free(l);
	}
}

TEST(rejects_a_line_longer_than_the_limit_and_nul_bytes)
{
	struct initrd_list *l = initrd_list_new();
	char *big = malloc(INITRD_LINE_MAX + 10), err[256];

	ASSERT_NONNULL(big);
	memset(big, 'a', INITRD_LINE_MAX + 9);
	big[INITRD_LINE_MAX + 9] = '\0';
	EXPECT_EQ(-EINVAL, initrd_list_parse(l, "t", big, strlen(big), err, sizeof(err)));
	EXPECT_NONNULL(strstr(err, "longer than"));
	EXPECT_EQ(-EINVAL, initrd_list_parse(l, "t", "dir /a\0 0755 0 0\n", 17, err, sizeof(err)));
	EXPECT_NONNULL(strstr(err, "NUL byte"));
	free(big);
	initrd_list_free(l);
}

TEST(expands_defined_variables_before_the_environment)
{
	struct initrd_list *l = initrd_list_new();
	static const char text[] = "dir /${D}/x${D} 0755 0 0\n";
	char err[256];

	setenv("D", "fromenv", 1);
	ASSERT_EQ(0, initrd_list_parse(l, "t", text, strlen(text), err, sizeof(err)));
	ASSERT_EQ(0, initrd_list_set_var(l, "D", "def"));
	ASSERT_EQ(0, initrd_list_parse(l, "t", text, strlen(text), err, sizeof(err)));
	ASSERT_EQ(0, initrd_list_finish(l, err, sizeof(err)));
	EXPECT_NONNULL(find(l, "fromenv/xfromenv"));
	EXPECT_NONNULL(find(l, "def/xdef"));
	initrd_list_free(l);
}

TEST(sorts_parents_first_and_collapses_identical_duplicates)
{
	char err[256];
	int r;
	struct initrd_list *l = parse("file /z/b /etc/hostname 0644 0 0\n"
				      "dir /a 0755 0 0\n"
				      "file /z/b /etc/hostname 0644 0 0\n"
				      "slink /a-b x 0777 0 0\n",
				      &r, err, sizeof(err));

	ASSERT_EQ(0, r);
	ASSERT_EQ(4, initrd_list_count(l));
	EXPECT_STREQ("a", initrd_list_get(l, 0)->path);
	EXPECT_STREQ("a-b", initrd_list_get(l, 1)->path);
	EXPECT_STREQ("z", initrd_list_get(l, 2)->path);
	EXPECT_STREQ("z/b", initrd_list_get(l, 3)->path);
	initrd_list_free(l);
}

static const struct {
	const char *in, *out;
	int err;
} norm_cases[] = {
	{ "/a/b", "a/b", 0 },	     { "a//b/", "a/b", 0 },	{ "/./a/./b", "a/b", 0 },
	{ "/", NULL, -EINVAL },	     { "", NULL, -EINVAL },	{ "/a/../b", NULL, -EINVAL },
	{ "..", NULL, -EINVAL },     { "/a/..b", "a/..b", 0 },	{ "/...", "...", 0 },
};

TEST(normalises_archive_paths_and_refuses_dotdot)
{
	for (size_t i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		char out[64];
		int r = initrd_path_normalise(norm_cases[i].in, out, sizeof(out));

		EXPECT_EQ(norm_cases[i].err, r);
		if (r == 0)
			EXPECT_STREQ(norm_cases[i].out, out);
	}
}

TEST(bin_adds_the_interpreter_and_libraries_like_ldd)
{
	char err[512];
	int r;
	struct initrd_list *l = parse("bin /bin/true /usr/bin/true 0755 0 0\n", &r, err,
				      sizeof(err));

	ASSERT_EQ(0, r);
	EXPECT_NONNULL(find(l, "bin/true"));
	EXPECT_NONNULL(find(l, "lib64/ld-linux-x86-64.so.2"));
	EXPECT_NONNULL(find(l, "lib/x86_64-linux-gnu/libc.so.6"));
	initrd_list_free(l);
}

TEST(lib_adds_a_library_by_soname_with_its_needs)
{
	char err[512];
	int r;
	struct initrd_list *l = parse("lib libz.so.1\n", &r, err, sizeof(err));

	ASSERT_EQ(0, r);
	EXPECT_NONNULL(find(l, "lib/x86_64-linux-gnu/libz.so.1"));
	EXPECT_NONNULL(find(l, "lib/x86_64-linux-gnu/libc.so.6"));
	initrd_list_free(l);
}

TEST(module_adds_dependencies_first_and_writes_the_load_order)
{
	char p[4096], *kver, err[512], text[512];
	const struct initrd_entry *e;
	struct initrd_list *l;
	size_t n;
	int r;

	snprintf(p, sizeof(p), "%s/vm/kernel/6.1/kver", harness_builddir());
	ASSERT_EQ(0, fd_read_file(p, 256, &kver, &n));
	kver[strcspn(kver, "\n")] = '\0';
	snprintf(text, sizeof(text), "kernel %s\nmodule virtio_net pvpanic_mmio\nmodule virtio\n",
		 kver);
	l = parse(text, &r, err, sizeof(err));
	ASSERT_EQ(0, r);
	e = find(l, INITRD_MODULES_FILE);
	ASSERT_NONNULL(e);
	ASSERT_NONNULL(e->data);
	TH_LOG("%.*s", (int)e->data_len, e->data);
	/* virtio before virtio_net, each once, pvpanic before pvpanic-mmio. */
	{
		char *virtio = strstr(e->data, "/virtio.ko\n"), *net = strstr(e->data, "/virtio_net.ko\n");
		char *pv = strstr(e->data, "/pvpanic.ko\n"), *mmio = strstr(e->data, "/pvpanic-mmio.ko\n");

		ASSERT_NONNULL(virtio);
		ASSERT_NONNULL(net);
		ASSERT_NONNULL(pv);
		ASSERT_NONNULL(mmio);
		EXPECT_LT(virtio, net);
		EXPECT_LT(pv, mmio);
		EXPECT_NULL(strstr(virtio + 1, "/virtio.ko\n"));
	}
	snprintf(p, sizeof(p), "lib/modules/%s/kernel/drivers/net/virtio_net.ko", kver);
	EXPECT_NONNULL(find(l, p));
	free(kver);
	initrd_list_free(l);

	l = parse("kernel 6.1.0-56-amd64\nmodule veil_no_such_module\n", &r, err, sizeof(err));
	EXPECT_EQ(-ENOENT, r);
	EXPECT_NONNULL(strstr(err, "modprobe --show-depends 'veil_no_such_module'"));
	initrd_list_free(l);
}

TEST(compressed_module_is_shipped_decompressed_under_its_plain_name)
{
	char tmp[] = "/tmp/veil-initrd-XXXXXX", p[4096], cmd[8192], *kver, err[512], text[512];
	_cleanup_free_ char *orig = NULL;
	const struct initrd_entry *e;
	struct initrd_list *l;
	size_t n, olen;
	int r;

	snprintf(p, sizeof(p), "%s/vm/kernel/6.1/kver", harness_builddir());
	ASSERT_EQ(0, fd_read_file(p, 256, &kver, &n));
	kver[strcspn(kver, "\n")] = '\0';
	snprintf(p, sizeof(p), "/lib/modules/%s/kernel/drivers/misc/pvpanic/pvpanic.ko", kver);
	if (access(p, R_OK) != 0) {
		free(kver);
		SKIP("no uncompressed pvpanic.ko of the test bed kernel on this host");
	}
	ASSERT_EQ(0, fd_read_file(p, 64 << 20, &orig, &olen));
	ASSERT_NONNULL(mkdtemp(tmp));
	/* A module tree as Debian's 6.12 ships it: .ko.xz, indexed by depmod. */
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/lib/modules/%s/kernel && xz -c %s >%s/lib/modules/%s/kernel/pvpanic.ko.xz"
		 " && depmod -b %s %s", tmp, kver, p, tmp, kver, tmp, kver);
	ASSERT_EQ(0, system(cmd));
	snprintf(text, sizeof(text), "kernel %s %s\nmodule pvpanic\n", kver, tmp);
	l = parse(text, &r, err, sizeof(err));
	TH_LOG("%s", err);
	ASSERT_EQ(0, r);
	snprintf(p, sizeof(p), "lib/modules/%s/kernel/pvpanic.ko", kver);
	e = find(l, p);
	ASSERT_NONNULL(e);
	/* The kernel's bytes, decompressed at build time: finit_module needs no flag. */
	ASSERT_NONNULL(e->data);
	EXPECT_EQ(olen, e->data_len);
	EXPECT_EQ(0, memcmp(orig, e->data, olen));
	snprintf(p, sizeof(p), "lib/modules/%s/kernel/pvpanic.ko.xz", kver);
	EXPECT_NULL(find(l, p));
	e = find(l, INITRD_MODULES_FILE);
	ASSERT_NONNULL(e);
	EXPECT_NONNULL(strstr(e->data, "/pvpanic.ko\n"));
	EXPECT_NULL(strstr(e->data, ".xz"));
	initrd_list_free(l);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	EXPECT_EQ(0, system(cmd));
	free(kver);
}

static const struct {
	const char *text, *root;
	int err;
	size_t n;
	const char *first;
} depends[] = {
	{ "insmod /lib/modules/6.1/kernel/a.ko \ninsmod /lib/modules/6.1/kernel/b.ko opt=1\n", "/", 0,
	  2, "/lib/modules/6.1/kernel/a.ko" },
	{ "builtin virtio_pci\ninsmod /lib/modules/6.1/x.ko.xz\n", NULL, 0, 1,
	  "/lib/modules/6.1/x.ko.xz" },
	{ "insmod /r/oot/lib/modules/6.12/x.ko.xz\n", "/r/oot/", 0, 1, "/lib/modules/6.12/x.ko.xz" },
	{ "insmod /other/lib/modules/6.12/x.ko\n", "/r/oot", -EINVAL, 0, NULL },
	{ "insmod /etc/shadow\n", NULL, -EINVAL, 0, NULL },
	{ "insmod /lib/modules/../../etc/shadow\n", NULL, -EINVAL, 0, NULL },
	{ "rm -rf /\n", NULL, -EINVAL, 0, NULL },
	{ "insmod\n", NULL, -EINVAL, 0, NULL },
	{ "", NULL, 0, 0, NULL },
};

TEST(parses_show_depends_output_and_refuses_anything_else)
{
	for (size_t i = 0; i < sizeof(depends) / sizeof(depends[0]); i++) {
		char **paths = NULL;
		size_t n = 0;
		int r = initrd_parse_show_depends(depends[i].text, strlen(depends[i].text),
						  depends[i].root, &paths, &n);

		EXPECT_EQ(depends[i].err, r);
		if (r == 0) {
			EXPECT_EQ(depends[i].n, n);
			if (n)
				EXPECT_STREQ(depends[i].first, paths[0]);
		}
		for (size_t j = 0; j < n; j++)
			free(paths[j]);
		free(paths);
	}
}
