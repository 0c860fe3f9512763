// SPDX-License-Identifier: GPL-2.0-only
/* The `az-snp-vtpm` verifier against Trustee's recorded Azure evidence. */
#include "tests/harness.h"

#include "attest/verifier.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "tests/attest/testutil.h"

#define TEE "az-snp-vtpm"

static void v2_binding(uint8_t b[ATTEST_BINDING_LEN])
{
	ASSERT_EQ(48, tu_unhex("982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9a"
			       "a398f647caa2338748cd0fd9f5f819ef", b, ATTEST_BINDING_LEN));
}

static int verify(const json_t *ev, const uint8_t *binding, json_t **claims, char *err)
{
	*claims = NULL;
	return attest_verify(TEE, ev, binding, NULL, claims, err, 256);
}

TEST(accepts_trustee_v2_evidence_bound_to_its_report_data)
{
	json_t *ev = tu_load_json("az-snp-vtpm/trustee-evidence-v2.json"), *claims, *tpm;
	uint8_t binding[ATTEST_BINDING_LEN];
	char err[256] = "";

	ASSERT_NONNULL(ev);
	v2_binding(binding);
	ASSERT_EQ(0, verify(ev, binding, &claims, err));
	tpm = json_object_get(claims, "tpm");
	ASSERT_NONNULL(tpm);
	EXPECT_STREQ("84275b2f4312cd4fc6cbe6b152ad3c3683e513d9f1e23c34fca160c8cca7a6a7",
		     json_string_value(json_object_get(tpm, "pcr00")));
	EXPECT_STREQ("ffffffffffffffffffffffffffffffff" "ffffffffffffffffffffffffffffffff",
		     json_string_value(json_object_get(tpm, "pcr17")));
	EXPECT_STREQ(json_string_value(json_object_get(tpm, "pcr08")),
		     json_string_value(json_object_get(claims, "init_data")));
	EXPECT_STREQ(tu_hex(binding, 48), json_string_value(json_object_get(claims, "report_data")));
	/* Azure's claims are strings, as Trustee emits them. */
	EXPECT_TRUE(json_is_string(json_object_get(claims, "reported_tcb_microcode")));
	EXPECT_TRUE(json_is_string(json_object_get(claims, "policy_debug_allowed")));
	EXPECT_STREQ("false", json_string_value(json_object_get(claims, "policy_debug_allowed")));
	EXPECT_NONNULL(json_object_get(claims, "measurement"));
	json_decref(claims);
	json_decref(ev);
}

TEST(v1_evidence_verifies_up_to_its_challenge_binding)
{
	json_t *ev = tu_load_json("az-snp-vtpm/trustee-evidence-v1.json"), *claims;
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };
	char err[256] = "";

	ASSERT_NONNULL(ev);
	/* Its extraData is ASCII "challenge": everything before the binding passes. */
	EXPECT_EQ(-EPERM, verify(ev, binding, &claims, err));
	EXPECT_STREQ("az-snp-vtpm evidence: quote extraData does not match the binding", err);
	json_decref(ev);
}

TEST(rejects_another_binding)
{
	json_t *ev = tu_load_json("az-snp-vtpm/trustee-evidence-v2.json"), *claims;
	uint8_t binding[ATTEST_BINDING_LEN];
	char err[256] = "";

	v2_binding(binding);
	binding[40] ^= 4;
	EXPECT_EQ(-EPERM, verify(ev, binding, &claims, err));
	EXPECT_NULL(claims);
	json_decref(ev);
}

/* Flips bit `bit` of member (hex or b64url) and verifies. */
static int flipped(const json_t *orig, const uint8_t *binding, const char *member, bool hex,
		   size_t bit, size_t *ret_bits)
{
	json_t *ev = json_deep_copy(orig), *holder = hex ? json_object_get(ev, "tpm_quote") : ev;
	const char *s = json_string_value(json_object_get(holder, member));
	uint8_t *raw;
	size_t n = 0;
	char *enc = NULL;
	json_t *claims = NULL;
	int r;

	if (hex) {
		raw = malloc(strlen(s) / 2);
		n = (size_t)tu_unhex(s, raw, strlen(s) / 2);
	} else {
		size_t l = strlen(s);

		while (l && s[l - 1] == '=')
			l--;
		if (b64url_decode(s, l, &raw, &n) < 0)
			abort();
	}
	*ret_bits = n * 8;
	if (bit >= n * 8) {
		free(raw);
		json_decref(ev);
		return 1;
	}
	raw[bit / 8] ^= 1u << (bit % 8);
	if (hex)
		enc = strdup(tu_hex(raw, n));
	else if (b64url_encode(raw, n, &enc) < 0)
		abort();
	json_object_set_new(holder, member, json_string(enc));
	r = attest_verify(TEE, ev, binding, NULL, &claims, NULL, 0);
	json_decref(claims);
	json_decref(ev);
	free(enc);
	free(raw);
	return r;
}

TEST_TIMEOUT(rejects_sampled_single_bit_changes_of_every_signed_part, 180)
{
	json_t *ev = tu_load_json("az-snp-vtpm/trustee-evidence-v2.json");
	uint8_t binding[ATTEST_BINDING_LEN];
	size_t bits, tried = 0;

	v2_binding(binding);
	/* The SNP report's signed part and signature (HCL 0x20..0x350), the IGVM sizes and hash
	 * type and the variable data (0x4C0.. 0x4C0+20+1110); the HCL header and the padding
	 * after the variable data are not signed by anything. */
	for (size_t bit = 0x20 * 8; bit < 0x350 * 8; bit += 29, tried++)
		EXPECT_NE(0, flipped(ev, binding, "hcl_report", false, bit, &bits));
	for (size_t bit = 0x4C0 * 8; bit < (0x4C0 + 4) * 8; bit++, tried++)
		EXPECT_NE(0, flipped(ev, binding, "hcl_report", false, bit, &bits));
	for (size_t bit = (0x4C0 + 12) * 8; bit < (0x4C0 + 20 + 1110) * 8; bit += 41, tried++)
		EXPECT_NE(0, flipped(ev, binding, "hcl_report", false, bit, &bits));
	flipped(ev, binding, "message", true, 0, &bits);
	for (size_t bit = 0; bit < bits; bit += 7, tried++)
		EXPECT_NE(0, flipped(ev, binding, "message", true, bit, &bits));
	flipped(ev, binding, "signature", true, 0, &bits);
	for (size_t bit = 0; bit < bits; bit += 13, tried++)
		EXPECT_NE(0, flipped(ev, binding, "signature", true, bit, &bits));
	flipped(ev, binding, "vcek", false, 0, &bits);
	for (size_t bit = 0; bit < bits; bit += 53, tried++)
		EXPECT_NE(0, flipped(ev, binding, "vcek", false, bit, &bits));
	TH_LOG("%zu single-bit changes tried", tried);
	json_decref(ev);
}

TEST(rejects_a_changed_pcr)
{
	json_t *ev = tu_load_json("az-snp-vtpm/trustee-evidence-v2.json"), *claims;
	uint8_t binding[ATTEST_BINDING_LEN];
	char err[256] = "";

	v2_binding(binding);
	json_array_set_new(json_object_get(json_object_get(ev, "tpm_quote"), "pcrs"), 8,
			   json_string("0000000000000000000000000000000000000000000000000000000000000001"));
	EXPECT_EQ(-EKEYREJECTED, verify(ev, binding, &claims, err));
	EXPECT_STREQ("az-snp-vtpm evidence: PCR values do not match the quoted PCR digest", err);
	json_decref(ev);
}

TEST(rejects_malformed_evidence_with_a_reason)
{
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };
	json_t *good = tu_load_json("az-snp-vtpm/trustee-evidence-v2.json"), *ev, *claims;
	char err[256];

	ASSERT_NONNULL(good);
	ev = json_deep_copy(good);
	json_object_set_new(ev, "version", json_integer(0));
	EXPECT_EQ(-EBADMSG, verify(ev, binding, &claims, err));
	EXPECT_STREQ("az-snp-vtpm evidence: evidence version 0 is not 1 or 2", err);
	json_decref(ev);
	ev = json_deep_copy(good);
	json_object_del(ev, "hcl_report");
	EXPECT_EQ(-EBADMSG, verify(ev, binding, &claims, err));
	json_decref(ev);
	ev = json_deep_copy(good);
	json_object_set_new(json_object_get(ev, "tpm_quote"), "message", json_string("xyz"));
	EXPECT_EQ(-EBADMSG, verify(ev, binding, &claims, err));
	json_decref(ev);
	ev = json_deep_copy(good);
	json_object_set_new(ev, "hcl_report", json_string("SENMQQ"));
	EXPECT_EQ(-EBADMSG, verify(ev, binding, &claims, err));
	EXPECT_STREQ("az-snp-vtpm evidence: 'hcl_report' is not an HCL report", err);
	json_decref(ev);
	json_decref(good);
}
