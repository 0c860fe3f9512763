// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `tpm` verifier against real quotes: made here by swtpm + tpm2-tools,
 * and Trustee's recorded vector.
 */
#include "tests/harness.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "attest/eventlog.h"
#include "attest/verifier.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "tests/attest/testutil.h"

struct quote {
	char dir[256];
	char trust[300];
	struct attest_verify_opts opts;
	uint8_t binding[ATTEST_BINDING_LEN];
	json_t *ev;
};

static char *file_b64(const char *dir, const char *name)
{
	char path[512], *buf, *b64;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (fd_read_file(path, 1 << 20, &buf, &len) < 0)
		return NULL;
	if (b64_encode(buf, len, &b64) < 0)
		b64 = NULL;
	free(buf);
	return b64;
}

static char *pem_to_spki_b64(const char *path)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	char *b64 = NULL;
	int n;

	if (f)
		fclose(f);
	if (!k)
		return NULL;
	n = i2d_PUBKEY(k, &der);
	if (n > 0 && b64_encode(der, (size_t)n, &b64) < 0)
		b64 = NULL;
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	return b64;
}

static void run(const char *cmd)
{
	int st = system(cmd);

	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		SKIP("swtpm or tpm2-tools missing (scripts/deps installs them)");
	ASSERT_EQ(0, st);
}

/*
 * A quote by a fresh swtpm AK of type alg over PCRs extended by extends
 * (a string of "PCR:sha256=HEX" words), bound to a binding of byte fill.
 */
static void make_quote(struct quote *q, const char *alg, const char *extends, uint8_t fill)
{
	char cmd[4096], path[512], *spki, *msg, *sig;
	uint8_t pcrs[24 * 32];
	json_t *arr;
	size_t len;
	char *raw;

	memset(q, 0, sizeof(*q));
	snprintf(q->dir, sizeof(q->dir), "/tmp/veil-tpmq-XXXXXX");
	ASSERT_NONNULL(mkdtemp(q->dir));
	memset(q->binding, fill, sizeof(q->binding));
	snprintf(cmd, sizeof(cmd), "%s/tests/attest/tpm-quote %s %s %s %s", harness_srcdir(), q->dir,
		 alg, tu_hex(q->binding, 32), extends ? extends : "");
	run(cmd);
	snprintf(path, sizeof(path), "%s/ak.pem", q->dir);
	spki = pem_to_spki_b64(path);
	msg = file_b64(q->dir, "msg");
	sig = file_b64(q->dir, "sig");
	ASSERT_NONNULL(spki);
	ASSERT_NONNULL(msg);
	ASSERT_NONNULL(sig);
	snprintf(path, sizeof(path), "%s/pcrs", q->dir);
	ASSERT_EQ(0, fd_read_file(path, 4096, &raw, &len));
	ASSERT_EQ(sizeof(pcrs), len);
	memcpy(pcrs, raw, len);
	free(raw);
	arr = json_array();
	for (int i = 0; i < 24; i++)
		json_array_append_new(arr, json_string(tu_hex(pcrs + 32 * i, 32)));
	q->ev = json_pack("{s:{s:s, s:s, s:o}, s:s}", "tpm_quote", "signature", sig, "message", msg,
			  "pcrs", arr, "ak_public", spki);
	ASSERT_NONNULL(q->ev);
	free(spki);
	free(msg);
	free(sig);
	/* Trust the AK: <trust>/tpm/ak/ak.pem */
	snprintf(q->trust, sizeof(q->trust), "%s/trust", q->dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/tpm/ak && cp %s/ak.pem %s/tpm/ak/", q->trust, q->dir,
		 q->trust);
	ASSERT_EQ(0, system(cmd));
	q->opts.trust_dir = q->trust;
}

static void drop_quote(struct quote *q)
{
	char cmd[512];

	json_decref(q->ev);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", q->dir);
	if (q->dir[0])
		(void)!system(cmd);
}

static const char pcr8_extend[] =
	"8:sha256=8505e4e2a1b8c0d4f5e6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5eee127781";

static void check_good(const char *alg)
{
	uint8_t ext[32], cat[64], want8[32];
	json_t *claims = NULL;
	struct quote q;
	char err[256] = "";

	make_quote(&q, alg, pcr8_extend, 0x5a);
	ASSERT_EQ(0, attest_verify("tpm", q.ev, q.binding, &q.opts, &claims, err, sizeof(err)));
	ASSERT_NONNULL(claims);
	/* PCR 8 = SHA-256(zeros || digest), computed here independently of the TPM. */
	ASSERT_EQ(32, tu_unhex(strchr(pcr8_extend, '=') + 1, ext, sizeof(ext)));
	memset(cat, 0, 32);
	memcpy(cat + 32, ext, 32);
	ASSERT_EQ(1, EVP_Digest(cat, 64, want8, NULL, EVP_sha256(), NULL));
	EXPECT_STREQ(tu_hex(want8, 32), json_string_value(json_object_get(claims, "pcr08")));
	EXPECT_STREQ(tu_hex(want8, 32), json_string_value(json_object_get(claims, "init_data")));
	EXPECT_STREQ(tu_hex(q.binding, 32), json_string_value(json_object_get(claims, "report_data")));
	EXPECT_STREQ(json_string_value(json_object_get(q.ev, "ak_public")),
		     json_string_value(json_object_get(claims, "ak_public")));
	for (int i = 0; i < 24; i++) {
		char key[8];

		snprintf(key, sizeof(key), "pcr%02d", i);
		EXPECT_NONNULL(json_object_get(claims, key));
	}
	json_decref(claims);
	drop_quote(&q);
}

TEST_TIMEOUT(accepts_swtpm_rsa_quote_bound_to_the_binding, 60)
{
	check_good("rsa");
}

TEST_TIMEOUT(accepts_swtpm_ecdsa_quote_bound_to_the_binding, 60)
{
	check_good("ecc");
}

TEST_TIMEOUT(rejects_quote_of_an_untrusted_ak_or_another_binding, 60)
{
	struct attest_verify_opts none = { 0 };
	uint8_t other[ATTEST_BINDING_LEN];
	json_t *claims = NULL;
	struct quote q;
	char err[256] = "", cmd[1024];

	make_quote(&q, "rsa", NULL, 0x11);
	EXPECT_EQ(-EKEYREJECTED, attest_verify("tpm", q.ev, q.binding, &none, &claims, err, sizeof(err)));
	EXPECT_STREQ("tpm evidence: the AK is not a trusted AK", err);
	EXPECT_EQ(-EKEYREJECTED, attest_verify("tpm", q.ev, q.binding, NULL, &claims, err, sizeof(err)));
	/* Another key in the trust list does not help. */
	snprintf(cmd, sizeof(cmd),
		 "rm %s/tpm/ak/ak.pem && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
		 "2>/dev/null | openssl pkey -pubout -out %s/tpm/ak/other.pem 2>/dev/null",
		 q.trust, q.trust);
	ASSERT_EQ(0, system(cmd));
	EXPECT_EQ(-EKEYREJECTED, attest_verify("tpm", q.ev, q.binding, &q.opts, &claims, err, sizeof(err)));
	snprintf(cmd, sizeof(cmd), "cp %s/ak.pem %s/tpm/ak/", q.dir, q.trust);
	ASSERT_EQ(0, system(cmd));
	/* Only the first 32 bytes of the binding are in the quote. */
	memcpy(other, q.binding, sizeof(other));
	other[47] ^= 1;
	EXPECT_EQ(0, attest_verify("tpm", q.ev, other, &q.opts, &claims, err, sizeof(err)));
	json_decref(claims);
	claims = NULL;
	other[31] ^= 1;
	EXPECT_EQ(-EPERM, attest_verify("tpm", q.ev, other, &q.opts, &claims, err, sizeof(err)));
	EXPECT_STREQ("tpm evidence: quote extraData does not match the binding", err);
	EXPECT_NULL(claims);
	drop_quote(&q);
}

/* Flips one bit of a base64 member; returns the verifier's answer. */
static int verify_flipped(struct quote *q, const char *member, size_t bit)
{
	json_t *tq = json_object_get(q->ev, "tpm_quote");
	const char *b64 = json_string_value(json_object_get(tq, member));
	json_t *copy, *claims = NULL;
	uint8_t *raw;
	size_t n;
	char *enc;
	int r;

	if (b64_decode(b64, strlen(b64), &raw, &n) < 0 || bit >= n * 8)
		return 1;
	raw[bit / 8] ^= 1u << (bit % 8);
	if (b64_encode(raw, n, &enc) < 0)
		return 1;
	copy = json_deep_copy(q->ev);
	json_object_set_new(json_object_get(copy, "tpm_quote"), member, json_string(enc));
	r = attest_verify("tpm", copy, q->binding, &q->opts, &claims, NULL, 0);
	json_decref(claims);
	json_decref(copy);
	free(enc);
	free(raw);
	return r;
}

TEST_TIMEOUT(rejects_sampled_single_bit_changes_of_quote_or_signature, 120)
{
	struct quote q;
	uint8_t *raw;
	size_t n;
	const char *b64;

	make_quote(&q, "rsa", NULL, 0x22);
	b64 = json_string_value(json_object_get(json_object_get(q.ev, "tpm_quote"), "message"));
	ASSERT_EQ(0, b64_decode(b64, strlen(b64), &raw, &n));
	free(raw);
	for (size_t bit = 0; bit < n * 8; bit += 3) {
		int r = verify_flipped(&q, "message", bit);

		if (r == 0)
			TH_LOG("message bit %zu accepted", bit);
		EXPECT_NE(0, r);
	}
	b64 = json_string_value(json_object_get(json_object_get(q.ev, "tpm_quote"), "signature"));
	ASSERT_EQ(0, b64_decode(b64, strlen(b64), &raw, &n));
	free(raw);
	for (size_t bit = 0; bit < n * 8; bit += 7)
		EXPECT_NE(0, verify_flipped(&q, "signature", bit));
	drop_quote(&q);
}

TEST_TIMEOUT(rejects_a_changed_pcr_value, 60)
{
	json_t *claims = NULL, *pcrs;
	struct quote q;
	char err[256], v[65], orig;

	make_quote(&q, "ecc", NULL, 0x33);
	pcrs = json_object_get(json_object_get(q.ev, "tpm_quote"), "pcrs");
	for (int i = 0; i < 24; i += 5) {
		snprintf(v, sizeof(v), "%s", json_string_value(json_array_get(pcrs, i)));
		orig = v[10];
		v[10] = orig == '0' ? '1' : '0';
		json_array_set_new(pcrs, i, json_string(v));
		EXPECT_EQ(-EKEYREJECTED, attest_verify("tpm", q.ev, q.binding, &q.opts, &claims, err,
						       sizeof(err)));
		EXPECT_STREQ("tpm evidence: PCR values do not match the quoted PCR digest", err);
		v[10] = orig;
		json_array_set_new(pcrs, i, json_string(v));
	}
	EXPECT_EQ(0, attest_verify("tpm", q.ev, q.binding, &q.opts, &claims, err, sizeof(err)));
	json_decref(claims);
	drop_quote(&q);
}

/* veil-init's container events, extended into PCR 23, come back as claims. */
TEST_TIMEOUT(replays_the_runtime_log_against_quoted_pcr23, 60)
{
	static const char *const contents[] = {
		"{\"digest\":\"sha256:1111\",\"name\":\"model\"}",
		"{\"digest\":\"sha256:2222\",\"name\":\"decryptd\"}",
	};
	uint8_t log[4096];
	size_t loglen = 0;
	char extends[1024] = "", *b64;
	json_t *claims = NULL, *c;
	struct quote q;
	char err[256] = "";

	for (size_t i = 0; i < 2; i++) {
		struct eventlog_record r;
		uint8_t *rec;
		size_t len;

		ASSERT_EQ(0, eventlog_aael_encode(23, EVENTLOG_ALG_SHA256, "github.com/veil", "container",
						  contents[i], &rec, &len));
		ASSERT_GT(eventlog_parse_record(rec, len, &r), 0);
		snprintf(extends + strlen(extends), sizeof(extends) - strlen(extends),
			 " 23:sha256=%s", tu_hex(r.digest, 32));
		memcpy(log + loglen, rec, len);
		loglen += len;
		free(rec);
	}
	make_quote(&q, "rsa", extends, 0x44);
	ASSERT_GT(b64_encode(log, loglen, &b64), 0);
	json_object_set_new(q.ev, "aa_eventlog", json_string(b64));
	free(b64);
	ASSERT_EQ(0, attest_verify("tpm", q.ev, q.binding, &q.opts, &claims, err, sizeof(err)));
	c = json_object_get(claims, "containers");
	ASSERT_EQ(2, json_array_size(c));
	EXPECT_STREQ("model", json_string_value(json_object_get(json_array_get(c, 0), "name")));
	EXPECT_STREQ("sha256:2222", json_string_value(json_object_get(json_array_get(c, 1), "digest")));
	EXPECT_EQ(2, json_array_size(json_object_get(claims, "runtime_events")));
	json_decref(claims);
	claims = NULL;
	/* A log with one event left out does not replay to the quoted PCR 23. */
	ASSERT_GT(b64_encode(log, loglen / 2 + 1, &b64), 0);
	free(b64);
	{
		struct eventlog_record r;
		int n = eventlog_parse_record(log, loglen, &r);

		ASSERT_GT(b64_encode(log, (size_t)n, &b64), 0);
	}
	json_object_set_new(q.ev, "aa_eventlog", json_string(b64));
	free(b64);
	EXPECT_EQ(-EKEYREJECTED, attest_verify("tpm", q.ev, q.binding, &q.opts, &claims, err, sizeof(err)));
	EXPECT_STREQ("tpm evidence: replaying the event log does not give register 23", err);
	EXPECT_NULL(claims);
	drop_quote(&q);
}

/* Trustee's vector: signature and PCR digest verify; its 64-byte extraData is not our binding. */
TEST(trustee_vector_verifies_up_to_the_binding)
{
	json_t *ev = tu_load_json("tpm/trustee-tpm_evidence.json"), *claims = NULL;
	struct attest_verify_opts opts;
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };
	char trust[] = "/tmp/veil-tpmt-XXXXXX", path[512], err[256];
	const char *spki;
	uint8_t *der;
	size_t n;
	FILE *f;

	ASSERT_NONNULL(ev);
	ASSERT_NONNULL(mkdtemp(trust));
	snprintf(path, sizeof(path), "%s/tpm", trust);
	ASSERT_EQ(0, mkdir(path, 0700));
	snprintf(path, sizeof(path), "%s/tpm/ak", trust);
	ASSERT_EQ(0, mkdir(path, 0700));
	snprintf(path, sizeof(path), "%s/tpm/ak/trustee.der", trust);
	spki = json_string_value(json_object_get(ev, "ak_public"));
	ASSERT_EQ(0, b64_decode(spki, strlen(spki), &der, &n));
	f = fopen(path, "we");
	ASSERT_NONNULL(f);
	ASSERT_EQ(n, fwrite(der, 1, n, f));
	fclose(f);
	free(der);
	opts.trust_dir = trust;
	EXPECT_EQ(-EPERM, attest_verify("tpm", ev, binding, &opts, &claims, err, sizeof(err)));
	EXPECT_STREQ("tpm evidence: quote extraData does not match the binding", err);
	EXPECT_NULL(claims);
	/* Any change to the message, the signature or a PCR fails before the binding. */
	{
		struct quote q = { .ev = ev, .opts = opts };

		memcpy(q.binding, binding, sizeof(binding));
		for (size_t bit = 0; bit < 122 * 8; bit += 7)
			EXPECT_NE(-EPERM, verify_flipped(&q, "message", bit));
		for (size_t bit = 0; bit < 262 * 8; bit += 13)
			EXPECT_NE(-EPERM, verify_flipped(&q, "signature", bit));
	}
	json_array_set_new(json_object_get(json_object_get(ev, "tpm_quote"), "pcrs"), 3,
			   json_string("0000000000000000000000000000000000000000000000000000000000000001"));
	EXPECT_EQ(-EKEYREJECTED, attest_verify("tpm", ev, binding, &opts, &claims, err, sizeof(err)));
	json_decref(ev);
	snprintf(path, sizeof(path), "rm -rf %s", trust);
	(void)!system(path);
}

TEST(rejects_malformed_evidence_with_a_reason)
{
	static const char *const cases[][2] = {
		{ "{}", "'primary_evidence.tpm_quote'" },
		{ "{\"tpm_quote\":{\"signature\":\"AA==\",\"message\":\"AA==\",\"pcrs\":[]},\"ak_public\":\"AA==\",\"x\":1}", "x" },
		{ "{\"tpm_quote\":{\"signature\":\"AA==\",\"message\":\"AA==\",\"pcrs\":[]},\"ak_public\":\"!!\"}", "base64" },
		{ "{\"tpm_quote\":{\"signature\":\"AA==\",\"message\":\"AA==\",\"pcrs\":[]},\"ak_public\":\"AA==\"}", "DER" },
		{ "{\"tpm_quote\":{\"signature\":\"AA==\",\"pcrs\":[]},\"ak_public\":\"AA==\"}", "message" },
		{ "{\"tpm_quote\":{\"signature\":1,\"message\":\"AA==\",\"pcrs\":[]},\"ak_public\":\"AA==\"}", "signature" },
		{ "{\"tpm_quote\":[],\"ak_public\":\"AA==\"}", "tpm_quote" },
	};
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *ev = json_loads(cases[i][0], 0, NULL), *claims = NULL;
		char err[256] = "";

		ASSERT_NONNULL(ev);
		EXPECT_EQ(-EBADMSG, attest_verify("tpm", ev, binding, NULL, &claims, err, sizeof(err)));
		if (!strstr(err, cases[i][1]))
			TH_LOG("case %zu: '%s' lacks '%s'", i, err, cases[i][1]);
		EXPECT_NONNULL(strstr(err, cases[i][1]));
		EXPECT_NULL(claims);
		json_decref(ev);
	}
}
