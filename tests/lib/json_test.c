// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include "lib/json.h"

static json_t *parse_ok(const char *s)
{
	struct vjson_err e;
	json_t *v = NULL;

	if (vjson_parse(s, strlen(s), 4096, 8, &v, &e) < 0)
		TH_LOG("parse failed: %s", e.msg);
	return v;
}

TEST(parses_and_reads_typed_fields)
{
	json_t *v = parse_ok("{\"kbs\":{\"url\":\"https://kbs\",\"port\":8080,\"tls\":true},\"list\":[1,2]}");
	struct vjson_err e;
	const char *url;
	json_t *kbs, *list;
	int64_t port;
	bool tls;

	ASSERT_NONNULL(v);
	ASSERT_EQ(0, vjson_get_object(v, "", "kbs", &kbs, &e));
	ASSERT_EQ(0, vjson_get_string(kbs, "kbs", "url", 100, &url, &e));
	EXPECT_STREQ("https://kbs", url);
	ASSERT_EQ(0, vjson_get_int(kbs, "kbs", "port", 1, 65535, &port, &e));
	EXPECT_EQ(8080, port);
	ASSERT_EQ(0, vjson_get_bool(kbs, "kbs", "tls", &tls, &e));
	EXPECT_TRUE(tls);
	ASSERT_EQ(0, vjson_get_array(v, "", "list", 2, &list, &e));
	json_decref(v);
}

TEST(errors_name_the_field)
{
	json_t *v = parse_ok("{\"kbs\":{\"url\":5,\"port\":70000,\"extra\":1}}");
	struct vjson_err e;
	const char *url;
	json_t *kbs;
	int64_t port;
	static const char *const allowed[] = { "url", "port", NULL };

	ASSERT_NONNULL(v);
	ASSERT_EQ(0, vjson_get_object(v, "", "kbs", &kbs, &e));
	ASSERT_EQ(-EINVAL, vjson_get_string(kbs, "kbs", "url", 100, &url, &e));
	EXPECT_STREQ("'kbs.url': expected a string, got an integer", e.msg);
	ASSERT_EQ(-EINVAL, vjson_get_int(kbs, "kbs", "port", 1, 65535, &port, &e));
	EXPECT_STREQ("'kbs.port': 70000 is outside [1, 65535]", e.msg);
	ASSERT_EQ(-ENOENT, vjson_get_string(kbs, "kbs", "ca", 100, &url, &e));
	EXPECT_STREQ("'kbs.ca': required field is missing", e.msg);
	ASSERT_EQ(-EINVAL, vjson_check_keys(kbs, "kbs", allowed, &e));
	EXPECT_STREQ("'kbs.extra': unknown field", e.msg);
	json_decref(v);
}

TEST(optional_fields_leave_defaults)
{
	json_t *v = parse_ok("{}");
	struct vjson_err e;
	const char *s = "default";
	int64_t i = 7;
	bool b = true;

	ASSERT_NONNULL(v);
	EXPECT_EQ(0, vjson_get_string_opt(v, "", "a", 10, &s, &e));
	EXPECT_STREQ("default", s);
	EXPECT_EQ(0, vjson_get_int_opt(v, "", "b", 0, 10, &i, &e));
	EXPECT_EQ(7, i);
	EXPECT_EQ(0, vjson_get_bool_opt(v, "", "c", &b, &e));
	EXPECT_TRUE(b);
	json_decref(v);
}

TEST(rejects_oversized_documents)
{
	char buf[5000];
	struct vjson_err e;
	json_t *v = NULL;

	memset(buf, ' ', sizeof(buf));
	buf[0] = '{';
	buf[sizeof(buf) - 1] = '}';
	EXPECT_EQ(-E2BIG, vjson_parse(buf, sizeof(buf), 4096, 8, &v, &e));
	EXPECT_NULL(v);
}

TEST(rejects_deep_nesting)
{
	struct vjson_err e;
	json_t *v = NULL;
	const char *deep = "[[[[[[[[[[1]]]]]]]]]]";

	EXPECT_EQ(-EINVAL, vjson_parse(deep, strlen(deep), 4096, 8, &v, &e));
	EXPECT_STREQ("nesting deeper than 8 levels", e.msg);
	ASSERT_EQ(0, vjson_parse(deep, strlen(deep), 4096, 10, &v, &e));
	json_decref(v);
}

TEST(rejects_duplicates_nul_and_garbage)
{
	static const char *const bad[] = {
		"{\"a\":1,\"a\":2}", "{\"a\":\"x\\u0000y\"}", "{} x", "{", "", "{'a':1}", "[1,]",
		"{\"a\":NaN}",
	};
	struct vjson_err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *v = NULL;

		EXPECT_EQ(-EINVAL, vjson_parse(bad[i], strlen(bad[i]), 4096, 8, &v, &e));
		EXPECT_NULL(v);
	}
}

TEST(caps_string_and_array_sizes)
{
	json_t *v = parse_ok("{\"s\":\"abcdef\",\"a\":[1,2,3]}");
	struct vjson_err e;
	const char *s;
	json_t *a;

	ASSERT_NONNULL(v);
	EXPECT_EQ(-EINVAL, vjson_get_string(v, "", "s", 5, &s, &e));
	EXPECT_STREQ("'s': string of 6 bytes exceeds the limit of 5", e.msg);
	EXPECT_EQ(-EINVAL, vjson_get_array(v, "", "a", 2, &a, &e));
	EXPECT_STREQ("'a': 3 items exceed the limit of 2", e.msg);
	json_decref(v);
}
