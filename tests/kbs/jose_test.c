// SPDX-License-Identifier: GPL-2.0-only
/* Binding, JWK, JWE and JWS against the shared vectors and each other. */
#include "tests/harness.h"

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "attest/binding.h"
#include "attest/jwe.h"
#include "attest/jwk.h"
#include "attest/jws.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/secmem.h"

static json_t *load_vector(const char *rel)
{
	char path[4096];
	json_error_t jerr;

	/* Copies of testdata/attestation's synthetic vectors (see tests/kbs/testdata/SOURCES). */
	snprintf(path, sizeof(path), "%s/tests/kbs/testdata/%s", harness_srcdir(), rel);
	return json_load_file(path, 0, &jerr);
}

static EVP_PKEY *pem_key(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);

	BIO_free(bio);
	return k;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

TEST(jcs_sorts_keys_and_matches_trustee_unit_vector)
{
	json_t *v = json_loads("{\"b\":1,\"a\":\"test\",\"c\":{\"d\":\"e\"}}", 0, NULL);
	uint8_t md[48];
	unsigned int n;
	char *s, h[97];

	ASSERT_NONNULL(v);
	ASSERT_EQ(0, attest_jcs(v, &s));
	EXPECT_STREQ("{\"a\":\"test\",\"b\":1,\"c\":{\"d\":\"e\"}}", s);
	EVP_Digest(s, strlen(s), md, &n, EVP_sha384(), NULL);
	hex(md, 48, h);
	EXPECT_EQ(0, strncmp(h, "e71ce8e70d814ba6", 16));
	EXPECT_EQ(0, strcmp(h + 96 - 9, "da78870c3"));
	free(s);
	json_decref(v);
}

TEST(jcs_escapes_minimally_and_refuses_reals)
{
	json_t *v = json_pack("{s:s, s:f}", "k", "a/b\"\x01\xc3\xa9", "r", 1.5);
	char *s;

	ASSERT_EQ(-EDOM, attest_jcs(v, &s));
	json_object_del(v, "r");
	ASSERT_EQ(0, attest_jcs(v, &s));
	EXPECT_STREQ("{\"k\":\"a/b\\\"\\u0001\xc3\xa9\"}", s);
	free(s);
	json_decref(v);
}

TEST(binding_matches_every_rcar_vector)
{
	json_t *d = load_vector("sample/rcar-runtime-data-vectors.json"), *c;
	size_t i;

	ASSERT_NONNULL(d);
	json_array_foreach(json_object_get(d, "cases"), i, c) {
		json_t *rt = json_object_get(c, "runtime-data");
		uint8_t b[48];
		char h[97], *canon;
		json_t *o;

		ASSERT_EQ(0, attest_binding(json_string_value(json_object_get(rt, "nonce")),
					    json_object_get(rt, "tee-pubkey"), "", b));
		hex(b, 48, h);
		EXPECT_STREQ(json_string_value(json_object_get(c, "report_data_sha384_hex")), h);
		o = json_pack("{s:s, s:O, s:O}", "additional-evidence", "", "nonce",
			      json_object_get(rt, "nonce"), "tee-pubkey", json_object_get(rt, "tee-pubkey"));
		ASSERT_EQ(0, attest_jcs(o, &canon));
		EXPECT_STREQ(json_string_value(json_object_get(c, "hashed_object_canonical_json")), canon);
		free(canon);
		json_decref(o);
	}
	EXPECT_EQ(3, i);
	json_decref(d);
}

TEST(tee_keys_of_the_vectors_parse_and_export_identically)
{
	json_t *d = load_vector("sample/rcar-runtime-data-vectors.json"), *c;
	size_t i;

	ASSERT_NONNULL(d);
	json_array_foreach(json_object_get(d, "cases"), i, c) {
		json_t *jwk = json_object_get(json_object_get(c, "runtime-data"), "tee-pubkey"), *out;
		EVP_PKEY *k = NULL;
		char err[256];

		ASSERT_EQ(0, attest_jwk_parse_tee_key(jwk, &k, err, sizeof(err)));
		out = attest_jwk_from_key(k, NULL);
		ASSERT_NONNULL(out);
		EXPECT_TRUE(json_equal(jwk, out));
		json_decref(out);
		EVP_PKEY_free(k);
	}
	json_decref(d);
}

static const struct {
	const char *json, *why;
} bad_jwks[] = {
	{ "[]", "expected an object" },
	{ "{\"kty\":\"EC\",\"crv\":\"P-384\",\"alg\":\"ECDH-ES+A256KW\",\"x\":\"AA\",\"y\":\"AA\"}", "P-384" },
	{ "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES\",\"x\":\"AA\",\"y\":\"AA\"}", "alg" },
	{ "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\",\"x\":\"AA\",\"y\":\"AA\"}", "bytes" },
	{ "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\",\"x\":\"AA\",\"y\":\"AA\",\"kid\":\"1\"}", "kid" },
	{ "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", "not a point" },
	{ "{\"kty\":\"RSA\",\"alg\":\"RSA-OAEP\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", "RSA-OAEP-256" },
	{ "{\"kty\":\"RSA\",\"alg\":\"RSA-OAEP-256\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", "modulus" },
	{ "{\"kty\":\"oct\",\"alg\":\"A256KW\",\"k\":\"AA\"}", "kty" },
	{ "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\",\"x\":\"AA==\",\"y\":\"AA\"}", "base64url" },
};

TEST(tee_key_parser_rejects_each_bad_jwk_with_its_reason)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_jwks); i++) {
		json_t *j = json_loads(bad_jwks[i].json, JSON_DECODE_ANY, NULL);
		EVP_PKEY *k = NULL;
		char err[256] = "";

		ASSERT_NONNULL(j);
		EXPECT_EQ(-EINVAL, attest_jwk_parse_tee_key(j, &k, err, sizeof(err)));
		EXPECT_NULL(k);
		if (!strstr(err, bad_jwks[i].why))
			harness_fail(__FILE__, __LINE__, false, "case %zu: '%s' lacks '%s'", i, err,
				     bad_jwks[i].why);
		json_decref(j);
	}
}

static void decrypt_vector(const char *name)
{
	json_t *d = load_vector(name);
	EVP_PKEY *k;
	uint8_t *pt, *want;
	size_t n, wn;
	char *resp, err[256] = "";

	ASSERT_NONNULL(d);
	k = pem_key(json_string_value(json_object_get(d, "tee_private_key_pem")));
	ASSERT_NONNULL(k);
	resp = json_dumps(json_object_get(d, "response"), JSON_COMPACT);
	ASSERT_EQ(0, attest_jwe_decrypt(k, resp, strlen(resp), &pt, &n, err, sizeof(err)));
	const char *w = json_string_value(json_object_get(d, "expected_plaintext_b64"));
	ASSERT_EQ(0, b64_decode(w, strlen(w), &want, &wn));
	ASSERT_EQ(wn, n);
	EXPECT_MEMEQ(want, pt, n);
	secmem_free(pt);
	/* One flipped character in every member fails. */
	for (const char *m = "ciphertext"; m; m = strcmp(m, "ciphertext") == 0 ? "tag" :
					      strcmp(m, "tag") == 0 ? "encrypted_key" :
					      strcmp(m, "encrypted_key") == 0 ? "iv" :
					      strcmp(m, "iv") == 0 ? "protected" : NULL) {
		json_t *r = json_deep_copy(json_object_get(d, "response"));
		char *s = strdup(json_string_value(json_object_get(r, m))), *t;

		s[3] = s[3] == 'A' ? 'B' : 'A';
		json_object_set_new(r, m, json_string(s));
		t = json_dumps(r, JSON_COMPACT);
		pt = NULL;
		EXPECT_NE(0, attest_jwe_decrypt(k, t, strlen(t), &pt, &n, err, sizeof(err)));
		EXPECT_NULL(pt);
		free(t);
		free(s);
		json_decref(r);
	}
	free(want);
	free(resp);
	EVP_PKEY_free(k);
	json_decref(d);
}

TEST(jwe_vector_p256_decrypts_and_tampering_fails)
{
	decrypt_vector("jwe/ecdh-es-a256kw-p256.json");
}

TEST(jwe_vector_p521_decrypts_and_tampering_fails)
{
	decrypt_vector("jwe/ecdh-es-a256kw-p521.json");
}

TEST(jwe_vector_rsa_oaep_256_decrypts_and_tampering_fails)
{
	decrypt_vector("jwe/rsa-oaep-256.json");
}

static void roundtrip(EVP_PKEY *k, const char *want_hdr_prefix)
{
	static const char msg[] = "model key bytes \x00\x01\x02";
	char *jwe, err[256];
	uint8_t *pt;
	size_t n;
	json_t *o, *h;
	uint8_t *hraw;
	size_t hl;
	const char *prot;

	ASSERT_EQ(0, attest_jwe_encrypt(k, msg, sizeof(msg), &jwe));
	o = json_loads(jwe, 0, NULL);
	ASSERT_NONNULL(o);
	EXPECT_EQ(5, json_object_size(o));
	prot = json_string_value(json_object_get(o, "protected"));
	ASSERT_EQ(0, b64url_decode(prot, strlen(prot), &hraw, &hl));
	EXPECT_EQ(0, strncmp((char *)hraw, want_hdr_prefix, strlen(want_hdr_prefix)));
	h = json_loads((char *)hraw, 0, NULL);
	EXPECT_NONNULL(h);
	ASSERT_EQ(0, attest_jwe_decrypt(k, jwe, strlen(jwe), &pt, &n, err, sizeof(err)));
	ASSERT_EQ(sizeof(msg), n);
	EXPECT_MEMEQ(msg, pt, n);
	secmem_free(pt);
	json_decref(h);
	json_decref(o);
	free(hraw);
	free(jwe);
}

TEST(jwe_encrypt_roundtrips_with_trustee_header_bytes)
{
	EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

	roundtrip(p256, "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"");
	roundtrip(p521, "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"crv\":\"P-521\",\"kty\":\"EC\",\"x\":\"");
	roundtrip(rsa, "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}");
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(rsa);
}

TEST(jwe_decrypt_refuses_the_wrong_key_and_other_curves)
{
	EVP_PKEY *a = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *b = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *c = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	char *jwe, err[256];
	uint8_t *pt = NULL;
	size_t n;

	ASSERT_EQ(0, attest_jwe_encrypt(a, "x", 1, &jwe));
	EXPECT_EQ(-EKEYREJECTED, attest_jwe_decrypt(b, jwe, strlen(jwe), &pt, &n, err, sizeof(err)));
	EXPECT_EQ(-EKEYREJECTED, attest_jwe_decrypt(c, jwe, strlen(jwe), &pt, &n, err, sizeof(err)));
	EXPECT_EQ(-EBADMSG, attest_jwe_decrypt(a, jwe, strlen(jwe) - 1, &pt, &n, err, sizeof(err)));
	EXPECT_NULL(pt);
	free(jwe);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(c);
}

TEST(jws_es256_and_eddsa_sign_verify_and_reject_tampering)
{
	EVP_PKEY *es = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *keys[] = { es, ed };
	const char *algs[] = { "ES256", "EdDSA" };

	for (int i = 0; i < 2; i++) {
		json_t *h = json_pack("{s:s, s:s}", "typ", "JWT", "alg", algs[i]);
		json_t *p = json_pack("{s:s, s:i}", "role", "admin", "exp", 4000000000);
		json_t *gp = NULL;
		char *jws, err[256];

		ASSERT_EQ(0, attest_jws_sign(keys[i], h, p, &jws));
		ASSERT_EQ(0, attest_jws_verify(jws, strlen(jws), keys[i], NULL, &gp, err, sizeof(err)));
		EXPECT_TRUE(json_equal(p, gp));
		EXPECT_EQ(-EKEYREJECTED,
			  attest_jws_verify(jws, strlen(jws), keys[1 - i], NULL, NULL, err, sizeof(err)));
		jws[strlen(jws) - 2] ^= 1;
		EXPECT_NE(0, attest_jws_verify(jws, strlen(jws), keys[i], NULL, NULL, err, sizeof(err)));
		json_decref(gp);
		json_decref(h);
		json_decref(p);
		free(jws);
	}
	EVP_PKEY_free(es);
	EVP_PKEY_free(ed);
}
