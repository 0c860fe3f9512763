// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include "keyring/uri.h"

static const struct {
	const char *uri;
	int ret;
	const char *desc;
} uris[] = {
	{ "kbs:///default/key/model", 0, "veil:default/key/model" },
	{ "kbs://kbs.example:8080/repo/fhe/sk-1", 0, "veil:repo/fhe/sk-1" },
	{ "kbs://[::1]:8080/a/b/c", 0, "veil:a/b/c" },
	{ "kbs:///a_1/b-2/c.3", 0, "veil:a_1/b-2/c.3" },
	{ "kbs:///a/b", -EINVAL, NULL },
	{ "kbs:///a/b/c/d", -EINVAL, NULL },
	{ "kbs:///a//c", -EINVAL, NULL },
	{ "kbs:///a/b/", -EINVAL, NULL },
	{ "kbs:////a/b/c", -EINVAL, NULL },
	{ "kbs:///.hidden/b/c", -EINVAL, NULL },
	{ "kbs:///a/../c", -EINVAL, NULL },
	{ "kbs:///a/b/c?x=1", -EINVAL, NULL },
	{ "kbs:///a/b/c#f", -EINVAL, NULL },
	{ "kbs:///a/b/c d", -EINVAL, NULL },
	{ "kbs:///a/b/c%2F", -EINVAL, NULL },
	{ "kbs://user@host/a/b/c", -EINVAL, NULL },
	{ "kbs://host", -EINVAL, NULL },
	{ "kbs+sample:///a/b/c", -EPROTONOSUPPORT, NULL },
	{ "https:///a/b/c", -EPROTONOSUPPORT, NULL },
	{ "kbs:/", -EPROTONOSUPPORT, NULL },
	{ "", -EPROTONOSUPPORT, NULL },
};

TEST(maps_kbs_uris_to_key_descriptions)
{
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		char desc[KEYRING_DESC_MAX] = "";
		int r = keyring_uri_to_desc(uris[i].uri, strlen(uris[i].uri), desc, sizeof(desc));

		if (uris[i].ret != r)
			TH_LOG("uri '%s'", uris[i].uri);
		EXPECT_EQ(uris[i].ret, r);
		if (uris[i].desc && r == 0)
			EXPECT_STREQ(uris[i].desc, desc);
	}
}

TEST(refuses_overlong_segments_and_short_buffers)
{
	char seg[KEYRING_SEGMENT_MAX + 2], path[3 * sizeof(seg) + 4], desc[KEYRING_DESC_MAX];

	memset(seg, 'a', KEYRING_SEGMENT_MAX);
	seg[KEYRING_SEGMENT_MAX] = '\0';
	snprintf(path, sizeof(path), "%s/%s/%s", seg, seg, seg);
	ASSERT_EQ(0, keyring_path_to_desc(path, desc, sizeof(desc)));
	EXPECT_EQ(strlen(path) + 5, strlen(desc));
	EXPECT_EQ(-ENOBUFS, keyring_path_to_desc(path, desc, strlen(path) + 5));
	seg[KEYRING_SEGMENT_MAX] = 'a';
	seg[KEYRING_SEGMENT_MAX + 1] = '\0';
	snprintf(path, sizeof(path), "x/y/%s", seg);
	EXPECT_EQ(-ENAMETOOLONG, keyring_path_to_desc(path, desc, sizeof(desc)));
}

TEST(refuses_embedded_nul_and_null_arguments)
{
	char desc[KEYRING_DESC_MAX];

	EXPECT_EQ(-EINVAL, keyring_uri_to_desc("kbs:///a/b/c\0d", 14, desc, sizeof(desc)));
	EXPECT_EQ(-EINVAL, keyring_uri_to_desc(NULL, 0, desc, sizeof(desc)));
	EXPECT_EQ(-EINVAL, keyring_path_to_desc("a/b/c", NULL, 0));
	EXPECT_EQ(-EINVAL, keyring_path_to_desc("", desc, sizeof(desc)));
}
