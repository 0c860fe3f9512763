// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <jansson.h>

#include "launcher/initdata.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

TEST(matches_the_shared_initdata_vectors)
{
	char path[512], h[129], err[200];
	json_t *doc, *cases, *c;
	size_t i;

	/* A copy of the shared vectors, in the tree so CI needs nothing outside it. */
	snprintf(path, sizeof(path), "%s/tests/attest/vectors/sample/initdata-vectors.json",
		 harness_srcdir());
	doc = json_load_file(path, 0, NULL);
	ASSERT_NONNULL(doc);
	cases = json_object_get(doc, "cases");
	ASSERT_GT(json_array_size(cases), 0);
	json_array_foreach(cases, i, c) {
		const char *toml = json_string_value(json_object_get(c, "initdata_toml"));
		struct initdata *d;

		ASSERT_EQ(0, launcher_initdata_parse(toml, strlen(toml), &d, err, sizeof(err)));
		hex(d->digest, d->digest_len, h);
		EXPECT_STREQ(json_string_value(json_object_get(c, "digest_hex")), h);
		EXPECT_STREQ(json_string_value(json_object_get(c, "algorithm")), d->algorithm);
		ASSERT_NONNULL(launcher_initdata_get(d, "aa.toml"));
		EXPECT_STREQ("[token_configs.kbs]\nurl = \"http://127.0.0.1:8080\"\n",
			     launcher_initdata_get(d, "aa.toml")->value);
		launcher_initdata_free(d);
	}
	json_decref(doc);
}

TEST(reads_every_string_form)
{
	static const char doc[] =
		"# comment\n"
		"version = \"0.1.0\"   # trailing\n"
		"algorithm = 'sha256'\r\n"
		"\n[data]\n"
		"basic = \"a\\tb\\n\\\"q\\\" \\u00e9\"\n"
		"'lit.key' = 'C:\\path'\n"
		"ml = '''\nline1\n  'quoted' line2\n'''\n"
		"\"veil.json\" = '''{\"version\":1}'''\n"
		"ends = '''x'''''\n";
	struct initdata *d;
	char err[200];

	ASSERT_EQ(0, launcher_initdata_parse(doc, sizeof(doc) - 1, &d, err, sizeof(err)));
	EXPECT_STREQ("a\tb\n\"q\" \xc3\xa9", launcher_initdata_get(d, "basic")->value);
	EXPECT_STREQ("C:\\path", launcher_initdata_get(d, "lit.key")->value);
	EXPECT_STREQ("line1\n  'quoted' line2\n", launcher_initdata_get(d, "ml")->value);
	EXPECT_STREQ("{\"version\":1}", launcher_initdata_get(d, "veil.json")->value);
	EXPECT_STREQ("x''", launcher_initdata_get(d, "ends")->value);
	EXPECT_EQ(32, d->digest_len);
	launcher_initdata_free(d);
}

#define HDR "version = \"0.1.0\"\nalgorithm = \"sha256\"\n"

static const struct {
	const char *doc;
	const char *err;
} bad[] = {
	{ "", "'version' is missing" },
	{ "algorithm = \"sha256\"\n[data]\n", "'version' is missing" },
	{ "version = \"0.1.0\"\n[data]\n", "'algorithm' is missing" },
	{ HDR, "[data] is missing" },
	{ "version = \"0.2.0\"\nalgorithm = \"sha256\"\n[data]\n", "'version'" },
	{ "version = \"0.1.0\"\nalgorithm = \"sha-256\"\n[data]\n", "'algorithm'" },
	{ HDR "[data]\n[data]\n", "defined twice" },
	{ HDR "[other]\n", "unknown table" },
	{ HDR "[[data]]\n", "arrays of tables" },
	{ HDR "extra = \"1\"\n[data]\n", "unknown key 'extra'" },
	{ HDR "version = \"0.1.0\"\n[data]\n", "defined twice" },
	{ HDR "[data]\na = \"1\"\na = \"2\"\n", "defined twice" },
	{ HDR "[data]\na = 1\n", "expected a string" },
	{ HDR "[data]\na = true\n", "expected a string" },
	{ HDR "[data]\na = \"unterminated\n", "unterminated" },
	{ HDR "[data]\na = 'unterminated\n", "unterminated" },
	{ HDR "[data]\na = '''never closed\n", "unterminated" },
	{ HDR "[data]\na = \"\"\"ml basic\"\"\"\n", "not supported" },
	{ HDR "[data]\na = \"\\q\"\n", "unknown escape" },
	{ HDR "[data]\na = \"\\uD800\"\n", "scalar" },
	{ HDR "[data]\na.b = \"x\"\n", "dotted key" },
	{ HDR "[data]\na = \"x\" junk\n", "after the value" },
	{ HDR "[data]\n= \"x\"\n", "expected a key" },
	{ HDR "[data]\na \"x\"\n", "expected '='" },
	{ HDR "[data]\na = \"ctl\x01\"\n", "control character" },
};

TEST(rejects_malformed_initdata_naming_the_line)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct initdata *d = NULL;
		char err[200] = "";
		int r = launcher_initdata_parse(bad[i].doc, strlen(bad[i].doc), &d, err, sizeof(err));

		EXPECT_EQ(-EINVAL, r);
		EXPECT_NULL(d);
		if (!strstr(err, bad[i].err))
			harness_fail(__FILE__, __LINE__, false, "case %zu: '%s' does not say '%s'", i,
				     err, bad[i].err);
	}
}

TEST(rejects_nul_bytes_and_oversized_documents)
{
	static const char nul[] = HDR "[data]\na = \"x\0y\"\n";
	struct initdata *d;
	char err[200];
	char *big = malloc(INITDATA_MAX + 1);

	EXPECT_EQ(-EINVAL, launcher_initdata_parse(nul, sizeof(nul) - 1, &d, err, sizeof(err)));
	ASSERT_NONNULL(big);
	memset(big, '#', INITDATA_MAX + 1);
	EXPECT_EQ(-E2BIG, launcher_initdata_parse(big, INITDATA_MAX + 1, &d, err, sizeof(err)));
	free(big);
}

TEST(digest_covers_the_exact_bytes)
{
	static const char a[] = HDR "[data]\nk = 'v'\n";
	static const char b[] = HDR "[data]\nk = 'v' \n";
	struct initdata *da, *db;
	char err[200];

	ASSERT_EQ(0, launcher_initdata_parse(a, sizeof(a) - 1, &da, err, sizeof(err)));
	ASSERT_EQ(0, launcher_initdata_parse(b, sizeof(b) - 1, &db, err, sizeof(err)));
	EXPECT_STREQ(launcher_initdata_get(da, "k")->value, launcher_initdata_get(db, "k")->value);
	EXPECT_NE(0, memcmp(da->digest, db->digest, 32));
	launcher_initdata_free(da);
	launcher_initdata_free(db);
}
