// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include "lib/base64.h"

struct vec {
	const char *raw;
	const char *std;
	const char *url;
};

/* RFC 4648 §10 test vectors. */
static const struct vec rfc[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

TEST(encodes_rfc4648_vectors)
{
	for (size_t i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		char *s = NULL;

		ASSERT_EQ((int)strlen(rfc[i].std), b64_encode(rfc[i].raw, strlen(rfc[i].raw), &s));
		EXPECT_STREQ(rfc[i].std, s);
		free(s);
		ASSERT_EQ((int)strlen(rfc[i].url), b64url_encode(rfc[i].raw, strlen(rfc[i].raw), &s));
		EXPECT_STREQ(rfc[i].url, s);
		free(s);
	}
}

TEST(decodes_rfc4648_vectors)
{
	for (size_t i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		uint8_t *out;
		size_t n;

		ASSERT_EQ(0, b64_decode(rfc[i].std, strlen(rfc[i].std), &out, &n));
		ASSERT_EQ(strlen(rfc[i].raw), n);
		EXPECT_MEMEQ(rfc[i].raw, out, n);
		free(out);
		ASSERT_EQ(0, b64url_decode(rfc[i].url, strlen(rfc[i].url), &out, &n));
		ASSERT_EQ(strlen(rfc[i].raw), n);
		EXPECT_MEMEQ(rfc[i].raw, out, n);
		free(out);
	}
}

TEST(uses_each_alphabet_for_high_bytes)
{
	const uint8_t raw[] = { 0xfb, 0xff, 0xbf };
	char *s;

	ASSERT_EQ(4, b64_encode(raw, 3, &s));
	EXPECT_STREQ("+/+/", s);
	free(s);
	ASSERT_EQ(4, b64url_encode(raw, 3, &s));
	EXPECT_STREQ("-_-_", s);
	free(s);
}

TEST(rejects_malformed_standard_input)
{
	static const char *const bad[] = {
		"Zg",		/* padding missing */
		"Zg=",		/* short quantum */
		"Zg===",	/* too much padding */
		"Z===",		/* three pads */
		"Zm9v Yg==",	/* whitespace */
		"Zm9v\nYg==",	/* newline */
		"Zh==",		/* non-canonical trailing bits */
		"Zm9=",		/* non-canonical trailing bits */
		"Zm=v",		/* padding in the middle */
		"=m9v",		/* padding first */
		"-_-_",		/* url alphabet */
		"Zm9v\0Yg=",	/* NUL */
		"Zm9vYg==Zm9v",	/* data after padding */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *out = NULL;
		size_t n;
		size_t len = i == 11 ? 8 : strlen(bad[i]);

		EXPECT_EQ(-EINVAL, b64_decode(bad[i], len, &out, &n));
		if (out)
			TH_LOG("accepted '%s'", bad[i]);
		EXPECT_NULL(out);
	}
}

TEST(rejects_malformed_url_input)
{
	static const char *const bad[] = { "Zg==", "Zg=", "Z", "Zh", "+/+/", "Zm9v Yg", "Zm9vY" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *out = NULL;
		size_t n;

		EXPECT_EQ(-EINVAL, b64url_decode(bad[i], strlen(bad[i]), &out, &n));
		EXPECT_NULL(out);
	}
}

TEST(round_trips_every_length_up_to_300)
{
	uint8_t raw[300];

	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 151 + 7);
	for (size_t len = 0; len <= sizeof(raw); len++) {
		char *s;
		uint8_t *out;
		size_t n;

		ASSERT_GE(b64_encode(raw, len, &s), 0);
		ASSERT_EQ(0, b64_decode(s, strlen(s), &out, &n));
		ASSERT_EQ(len, n);
		ASSERT_MEMEQ(raw, out, len);
		free(s);
		free(out);
		ASSERT_GE(b64url_encode(raw, len, &s), 0);
		ASSERT_EQ(0, b64url_decode(s, strlen(s), &out, &n));
		ASSERT_EQ(len, n);
		ASSERT_MEMEQ(raw, out, len);
		free(s);
		free(out);
	}
}

TEST(kbs_nonce_is_44_characters)
{
	uint8_t nonce[32] = { 0 };
	char *s;

	/* reference/kbs-protocol.md: 32-byte nonce, standard base64 with padding. */
	ASSERT_EQ(44, b64_encode(nonce, sizeof(nonce), &s));
	EXPECT_EQ('=', s[43]);
	free(s);
}
