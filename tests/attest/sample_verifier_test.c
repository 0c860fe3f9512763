// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include "attest/verifier.h"
#include "lib/base64.h"

static json_t *evidence_for(const uint8_t *rd, size_t len)
{
	char *b64;
	json_t *ev;

	if (b64_encode(rd, len, &b64) < 0)
		return NULL;
	ev = json_pack("{s:s, s:s}", "svn", "1", "report_data", b64);
	free(b64);
	return ev;
}

TEST(accepts_evidence_bound_to_the_binding)
{
	uint8_t binding[ATTEST_BINDING_LEN];
	json_t *ev, *claims = NULL;

	memset(binding, 0x42, sizeof(binding));
	ev = evidence_for(binding, sizeof(binding));
	ASSERT_NONNULL(ev);
	ASSERT_EQ(0, attest_verify("sample", ev, binding, NULL, &claims, NULL, 0));
	ASSERT_NONNULL(claims);
	EXPECT_STREQ("1", json_string_value(json_object_get(claims, "svn")));
	json_decref(claims);
	json_decref(ev);
}

TEST(rejects_other_binding_short_binding_and_bad_shape)
{
	uint8_t binding[ATTEST_BINDING_LEN], other[ATTEST_BINDING_LEN];
	char err[256];
	json_t *ev, *claims = NULL;

	memset(binding, 0x42, sizeof(binding));
	memcpy(other, binding, sizeof(other));
	other[47] ^= 1;
	ev = evidence_for(other, sizeof(other));
	EXPECT_EQ(-EPERM, attest_verify("sample", ev, binding, NULL, &claims, err, sizeof(err)));
	json_decref(ev);
	ev = evidence_for(binding, 32);
	EXPECT_EQ(-EPERM, attest_verify("sample", ev, binding, NULL, &claims, err, sizeof(err)));
	json_decref(ev);
	ev = json_pack("{s:i}", "svn", 1);
	EXPECT_EQ(-EBADMSG, attest_verify("sample", ev, binding, NULL, &claims, err, sizeof(err)));
	json_decref(ev);
	EXPECT_NULL(claims);
}

TEST(unknown_tee_is_not_supported)
{
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };
	char err[256];
	json_t *claims = NULL, *ev = json_object();

	EXPECT_EQ(-EOPNOTSUPP, attest_verify("nosuchtee", ev, binding, NULL, &claims, err, sizeof(err)));
	EXPECT_STREQ("no verifier for TEE 'nosuchtee'", err);
	json_decref(ev);
}
