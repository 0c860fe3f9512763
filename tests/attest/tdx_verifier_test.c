// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `tdx` verifier against Trustee's recorded quotes. Their REPORTDATA is
 * not a binding of ours, so tests that need a match write one into a copy,
 * which breaks the quote's signature: the claims say so. The signature chain
 * of the untouched quotes is tested on its own.
 */
#include "tests/harness.h"

#include <openssl/evp.h>

#include "attest/eventlog.h"
#include "attest/tdx.h"
#include "attest/verifier.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "tests/attest/testutil.h"

#define BODY 48
#define BODY_V5 54
#define RTMR0 (16 + 48 + 48 + 8 + 8 + 8 + 48 + 48 + 48 + 48)
#define REPORT_DATA (RTMR0 + 4 * 48)

static json_t *evidence(const uint8_t *q, size_t n, const uint8_t *log, size_t loglen)
{
	char *b64, *lb = NULL;
	json_t *ev;

	if (b64_encode(q, n, &b64) < 0 || (log && b64_encode(log, loglen, &lb) < 0))
		return NULL;
	ev = json_pack("{s:s, s:s?}", "quote", b64, "cc_eventlog", lb);
	free(b64);
	free(lb);
	return ev;
}

static uint8_t *load(const char *name, size_t *n, size_t body, uint8_t binding[ATTEST_BINDING_LEN])
{
	uint8_t *q = tu_read_vector(name, n);

	if (!q)
		return NULL;
	for (int i = 0; i < ATTEST_BINDING_LEN; i++)
		binding[i] = (uint8_t)(0xb0 + i);
	memcpy(q + body + REPORT_DATA, binding, ATTEST_BINDING_LEN);
	memset(q + body + REPORT_DATA + ATTEST_BINDING_LEN, 0, 16);
	return q;
}

static int verify(json_t *ev, const uint8_t *binding, json_t **claims, char *err)
{
	*claims = NULL;
	return attest_verify("tdx", ev, binding, NULL, claims, err, 256);
}

TEST(parses_quote_v4_into_trustees_claims)
{
	json_t *want = tu_load_json("tdx/trustee-parse_tdx_claims_expected.json"), *ev, *claims;
	uint8_t binding[ATTEST_BINDING_LEN], *q;
	const char *k;
	json_t *v;
	size_t n;
	char err[256] = "";

	ASSERT_NONNULL(want);
	q = load("tdx/trustee-tdx_quote_4.dat", &n, BODY, binding);
	ASSERT_NONNULL(q);
	ev = evidence(q, n, NULL, 0);
	ASSERT_EQ(0, verify(ev, binding, &claims, err));
	json_object_foreach(json_object_get(json_object_get(want, "quote"), "header"), k, v)
		EXPECT_STREQ(json_string_value(v), json_string_value(json_object_get(
			json_object_get(json_object_get(claims, "quote"), "header"), k)));
	json_object_foreach(json_object_get(json_object_get(want, "quote"), "body"), k, v) {
		const char *got = json_string_value(
			json_object_get(json_object_get(json_object_get(claims, "quote"), "body"), k));

		if (strcmp(k, "report_data") == 0)
			EXPECT_STREQ(tu_hex(q + BODY + REPORT_DATA, 64), got);
		else
			EXPECT_STREQ(json_string_value(v), got);
	}
	EXPECT_TRUE(json_equal(json_object_get(want, "td_attributes"),
			       json_object_get(claims, "td_attributes")));
	EXPECT_STREQ(json_string_value(json_object_get(want, "init_data")),
		     json_string_value(json_object_get(claims, "init_data")));
	/* The changed REPORTDATA breaks the signature, and without collateral no TCB is known. */
	EXPECT_TRUE(json_is_false(json_object_get(claims, "signature_verified")));
	EXPECT_STREQ("quote signature does not verify with its attestation key",
		     json_string_value(json_object_get(claims, "signature_error")));
	EXPECT_STREQ("Unverified", json_string_value(json_object_get(claims, "tcb_status")));
	json_decref(claims);
	json_decref(ev);
	json_decref(want);
	free(q);
}

TEST(parses_quote_v5_with_a_tdx15_body)
{
	uint8_t binding[ATTEST_BINDING_LEN], *q;
	json_t *ev, *claims, *body;
	size_t n;
	char err[256] = "";

	q = load("tdx/trustee-tdx_quote_5.dat", &n, BODY_V5, binding);
	ASSERT_NONNULL(q);
	ev = evidence(q, n, NULL, 0);
	ASSERT_EQ(0, verify(ev, binding, &claims, err));
	body = json_object_get(json_object_get(claims, "quote"), "body");
	EXPECT_STREQ("0500", json_string_value(json_object_get(json_object_get(json_object_get(claims, "quote"), "header"), "version")));
	EXPECT_STREQ(tu_hex(q + BODY_V5 + 16 + 48 + 48 + 8 + 8 + 8, 48),
		     json_string_value(json_object_get(body, "mr_td")));
	EXPECT_STREQ(tu_hex(q + BODY_V5 + 584 + 16, 48), json_string_value(json_object_get(body, "mr_servicetd")));
	json_decref(claims);
	json_decref(ev);
	free(q);
}

TEST(exposes_a_nonzero_mrconfigid_as_init_data)
{
	uint8_t binding[ATTEST_BINDING_LEN], *q;
	json_t *ev, *claims;
	size_t n;
	char err[256] = "";
	const size_t mrc = BODY + 16 + 48 + 48 + 8 + 8 + 8 + 48;

	q = load("tdx/trustee-tdx_quote_6.dat", &n, BODY, binding);
	ASSERT_NONNULL(q);
	ev = evidence(q, n, NULL, 0);
	ASSERT_EQ(0, verify(ev, binding, &claims, err));
	EXPECT_STREQ(tu_hex(q + mrc, 48), json_string_value(json_object_get(claims, "init_data")));
	EXPECT_STRNE("000000000000000000000000000000000000000000000000"
		     "000000000000000000000000000000000000000000000000",
		     json_string_value(json_object_get(claims, "init_data")));
	json_decref(claims);
	json_decref(ev);
	free(q);
}

TEST(rejects_reportdata_that_is_not_the_binding)
{
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 }, *q;
	json_t *ev, *claims;
	size_t n;
	char err[256] = "";

	/* The recorded quote as it is: its REPORTDATA binds someone else's key. */
	q = tu_read_vector("tdx/trustee-tdx_quote_4.dat", &n);
	ASSERT_NONNULL(q);
	memcpy(binding, q + BODY + REPORT_DATA, ATTEST_BINDING_LEN);
	ev = evidence(q, n, NULL, 0);
	EXPECT_EQ(-EPERM, verify(ev, binding, &claims, err));
	EXPECT_STREQ("tdx evidence: REPORTDATA does not match the binding", err);
	EXPECT_NULL(claims);
	json_decref(ev);
	free(q);
}

TEST(replays_the_event_log_against_the_rtmrs)
{
	static const char *const contents[] = { "{\"digest\":\"sha256:aa\",\"name\":\"model\"}",
						"{\"digest\":\"sha256:bb\",\"name\":\"api\"}" };
	uint8_t binding[ATTEST_BINDING_LEN], *q, log[2048], rtmr3[48] = { 0 }, cat[96];
	size_t n, loglen = 0;
	json_t *ev, *claims, *c;
	char err[256] = "";

	q = load("tdx/trustee-tdx_quote_4.dat", &n, BODY, binding);
	ASSERT_NONNULL(q);
	for (size_t i = 0; i < 2; i++) {
		struct eventlog_record r;
		uint8_t *rec;
		size_t len;

		ASSERT_EQ(0, eventlog_aael_encode(4, EVENTLOG_ALG_SHA384, "github.com/veil", "container",
						  contents[i], &rec, &len));
		ASSERT_GT(eventlog_parse_record(rec, len, &r), 0);
		memcpy(cat, rtmr3, 48);
		memcpy(cat + 48, r.digest, 48);
		ASSERT_EQ(1, EVP_Digest(cat, 96, rtmr3, NULL, EVP_sha384(), NULL));
		memcpy(log + loglen, rec, len);
		loglen += len;
		free(rec);
	}
	memset(log + loglen, 0xff, 8);	/* the CCEL terminator the attester appends */
	/* A quote whose RTMR0-2 are empty and RTMR3 holds the two events. */
	memset(q + BODY + RTMR0, 0, 3 * 48);
	memcpy(q + BODY + RTMR0 + 3 * 48, rtmr3, 48);
	ev = evidence(q, n, log, loglen + 8);
	ASSERT_EQ(0, verify(ev, binding, &claims, err));
	c = json_object_get(claims, "containers");
	ASSERT_EQ(2, json_array_size(c));
	EXPECT_STREQ("api", json_string_value(json_object_get(json_array_get(c, 1), "name")));
	json_decref(claims);
	json_decref(ev);
	/* One event short. */
	ev = evidence(q, n, log, loglen / 2);
	EXPECT_EQ(-EBADMSG, verify(ev, binding, &claims, err));
	json_decref(ev);
	q[BODY + RTMR0 + 3 * 48] ^= 1;
	ev = evidence(q, n, log, loglen);
	EXPECT_EQ(-EKEYREJECTED, verify(ev, binding, &claims, err));
	EXPECT_STREQ("tdx evidence: replaying the event log does not give RTMR3", err);
	json_decref(ev);
	/* Records for RTMR0 (CC-MR 1) must replay to it too; the recorded RTMR0 is not this. */
	q[BODY + RTMR0 + 3 * 48] ^= 1;
	{
		uint8_t *rec;
		size_t len;

		ASSERT_EQ(0, eventlog_aael_encode(1, EVENTLOG_ALG_SHA384, "fw", "boot", "x", &rec, &len));
		memcpy(log + loglen, rec, len);
		loglen += len;
		free(rec);
	}
	ev = evidence(q, n, log, loglen);
	EXPECT_EQ(-EKEYREJECTED, verify(ev, binding, &claims, err));
	EXPECT_STREQ("tdx evidence: replaying the event log does not give RTMR0", err);
	json_decref(ev);
	free(q);
}

TEST(rejects_malformed_quotes_with_a_reason)
{
	uint8_t binding[ATTEST_BINDING_LEN], *q;
	size_t n;
	struct {
		size_t off;
		uint8_t val;
		size_t len;
		const char *err;
	} cases[] = {
		{ 0, 3, 0, "tdx evidence: quote version 3 is not 4 or 5" },
		{ 4, 0x00, 0, "tdx evidence: quote is not an ECDSA-P256 TDX quote (key type 2, TEE 0)" },
		{ 2, 3, 0, "tdx evidence: quote is not an ECDSA-P256 TDX quote (key type 3, TEE 81)" },
		{ 632 + 1, 0x20, 0, "tdx evidence: quote signature data is truncated" },
		{ 0, 4, 600, "tdx evidence: quote is 600 bytes: too short" },
		{ 0, 4, 636, "tdx evidence: quote signature data is truncated" },
	};

	q = load("tdx/trustee-tdx_quote_6.dat", &n, BODY, binding);
	ASSERT_NONNULL(q);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t *c = malloc(n);
		json_t *ev, *claims;
		char err[256] = "";

		memcpy(c, q, n);
		c[cases[i].off] = cases[i].val;
		ev = evidence(c, cases[i].len ? cases[i].len : n, NULL, 0);
		EXPECT_EQ(-EBADMSG, verify(ev, binding, &claims, err));
		EXPECT_STREQ(cases[i].err, err);
		json_decref(ev);
		free(c);
	}
	/* Trailing bytes after the signature data must be zero padding. */
	q[n - 1] = 1;
	{
		json_t *ev = evidence(q, n, NULL, 0), *claims;
		char err[256];

		EXPECT_EQ(-EBADMSG, verify(ev, binding, &claims, err));
		EXPECT_STREQ("tdx evidence: quote has trailing bytes after its signature data", err);
		json_object_set_new(ev, "cc_eventlog", json_integer(5));
		EXPECT_EQ(-EBADMSG, verify(ev, binding, &claims, err));
		json_object_set_new(ev, "extra", json_null());
		EXPECT_EQ(-EBADMSG, verify(ev, binding, &claims, err));
		json_decref(ev);
	}
	free(q);
}

/* Where the signed part ends and the signature data starts, for v4 and v5 quotes. */
static size_t signed_len(const uint8_t *q)
{
	return q[0] == 4 ? 632 : 54 + ((size_t)q[50] | (size_t)q[51] << 8);
}

static size_t sig_data_len(const uint8_t *q)
{
	const uint8_t *p = q + signed_len(q);

	return (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
}

TEST(signature_chains_of_the_recorded_quotes_verify_to_intels_root)
{
	static const char *const names[] = { "tdx/trustee-tdx_quote_4.dat", "tdx/trustee-tdx_quote_5.dat",
					     "tdx/trustee-tdx_quote_6.dat" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		size_t n, sl;
		uint8_t *q = tu_read_vector(names[i], &n);
		char msg[200] = "";

		ASSERT_NONNULL(q);
		sl = signed_len(q);
		EXPECT_EQ(0, attest_tdx_quote_signature(q, sl, q + sl + 4, sig_data_len(q), msg, sizeof(msg)));
		if (msg[0])
			TH_LOG("%s: %s", names[i], msg);
		free(q);
	}
}

TEST_TIMEOUT(rejects_sampled_single_bit_changes_of_quote_signature_and_certificates, 120)
{
	size_t n, sl, sdl, tried = 0;
	uint8_t *q = tu_read_vector("tdx/trustee-tdx_quote_4.dat", &n);

	ASSERT_NONNULL(q);
	sl = signed_len(q);
	sdl = sig_data_len(q);
	for (size_t bit = 0; bit < (sl + 4 + sdl) * 8; bit += 29) {
		size_t byte = bit / 8;
		uint8_t *p = q + byte;
		char msg[200];
		int r;

		if (byte >= sl && byte < sl + 4)
			continue;	/* the length field: checked by the parser, not signed */
		/* Inside the PEM chain flip only base64 characters whose every bit counts. */
		if (byte > sl + 4 + 134 + 384 + 64 + 2 + 32 + 6) {
			bool b64 = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');

			if (!b64 || p[1] == '=' || p[1] == '\n' || p[2] == '=')
				continue;
			bit = byte * 8;	/* bit 0: the character stays in the alphabet or leaves it */
		}
		q[byte] ^= 1u << (bit % 8);
		r = attest_tdx_quote_signature(q, sl, q + sl + 4, sdl, msg, sizeof(msg));
		if (r == 0)
			TH_LOG("byte %zu bit %zu accepted", byte, bit % 8);
		EXPECT_NE(0, r);
		q[byte] ^= 1u << (bit % 8);
		tried++;
	}
	TH_LOG("%zu single-bit changes tried", tried);
	free(q);
}
