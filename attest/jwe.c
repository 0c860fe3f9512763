// SPDX-License-Identifier: GPL-2.0-only
#include "attest/jwe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "attest/jwk.h"
#include "lib/errbuf.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/secmem.h"

#define CEK_LEN 32
#define IV_LEN 12
#define TAG_LEN 16
#define WRAPPED_LEN (CEK_LEN + 8)

/* Concat KDF (NIST SP 800-56A, RFC 7518 §4.6.2) = OpenSSL's SSKDF with SHA-256. */
static int concat_kdf(const uint8_t *z, size_t zlen, uint8_t kek[32])
{
	static const char alg[] = ATTEST_JWE_ALG_ECDH;
	uint8_t info[4 + sizeof(alg) - 1 + 4 + 4 + 4], *p = info;
	const size_t alen = sizeof(alg) - 1;
	OSSL_PARAM params[4];
	EVP_KDF_CTX *kctx;
	EVP_KDF *kdf;
	int ok;

	*p++ = 0, *p++ = 0, *p++ = 0, *p++ = (uint8_t)alen;
	memcpy(p, alg, alen);
	p += alen;
	memset(p, 0, 8);	/* empty apu, apv */
	p += 8;
	*p++ = 0, *p++ = 0, *p++ = 1, *p++ = 0;	/* 256 bits */
	kdf = EVP_KDF_fetch(NULL, "SSKDF", NULL);
	kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!kctx)
		return -ENOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, zlen);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info));
	params[3] = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, kek, 32, params) > 0;
	EVP_KDF_CTX_free(kctx);
	return ok ? 0 : -EIO;
}

static int ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t *z, size_t *zlen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
	int ok;

	ok = ctx && EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_derive_set_peer(ctx, peer) > 0 &&
	     EVP_PKEY_derive(ctx, z, zlen) > 0;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -EKEYREJECTED;
}

/* AES-256 key wrap (RFC 3394); enc 1 wraps, 0 unwraps (the integrity check fails as -EKEYREJECTED). */
static int aes_kw(int enc, const uint8_t kek[32], const uint8_t *in, size_t inlen, uint8_t *out,
		  size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, m = 0, ok;

	if (!ctx)
		return -ENOMEM;
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_wrap(), NULL, kek, NULL, enc) > 0 &&
	     EVP_CipherUpdate(ctx, out, &n, in, (int)inlen) > 0 &&
	     EVP_CipherFinal_ex(ctx, out + n, &m) > 0;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return -EKEYREJECTED;
	*outlen = (size_t)(n + m);
	return 0;
}

static int rsa_oaep(int enc, EVP_PKEY *key, const uint8_t *in, size_t inlen, uint8_t *out,
		    size_t *outlen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	int ok;

	ok = ctx && (enc ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) > 0 &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
	     EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) > 0 &&
	     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0 &&
	     (enc ? EVP_PKEY_encrypt(ctx, out, outlen, in, inlen) :
		    EVP_PKEY_decrypt(ctx, out, outlen, in, inlen)) > 0;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -EKEYREJECTED;
}

static int gcm(int enc, const uint8_t cek[CEK_LEN], const uint8_t iv[IV_LEN], const char *aad,
	       const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, m = 0, ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) > 0 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) > 0 &&
	     EVP_CipherInit_ex(ctx, NULL, NULL, cek, iv, enc) > 0 &&
	     EVP_CipherUpdate(ctx, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) > 0 &&
	     (len == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int)len) > 0);
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) > 0;
	ok = ok && EVP_CipherFinal_ex(ctx, out + (len ? n : 0), &m) > 0;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) > 0;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : enc ? -EIO : -EKEYREJECTED;
}

static void wipe_cek(uint8_t (*cek)[CEK_LEN])
{
	explicit_bzero(*cek, sizeof(*cek));
}

static char *b64u(const void *p, size_t n)
{
	char *s;

	return b64url_encode(p, n, &s) < 0 ? NULL : s;
}

int attest_jwe_encrypt(EVP_PKEY *recipient, const void *pt, size_t len, char **ret)
{
	_cleanup_free_ char *hdr = NULL, *prot = NULL, *ek64 = NULL, *iv64 = NULL, *ct64 = NULL,
			    *tag64 = NULL, *out = NULL;
	_cleanup_free_ uint8_t *ct = NULL;
	_cleanup_(wipe_cek) uint8_t cek[CEK_LEN];
	uint8_t iv[IV_LEN], tag[TAG_LEN], ek[1024];
	size_t eklen = sizeof(ek);
	const char *crv;
	int r;

	if (!recipient || len > ATTEST_JWE_PLAINTEXT_MAX)
		return -EINVAL;
	if (RAND_priv_bytes(cek, sizeof(cek)) <= 0 || RAND_bytes(iv, sizeof(iv)) <= 0)
		return -EIO;
	crv = attest_jwk_curve(recipient);
	if (crv && (strcmp(crv, "P-256") == 0 || strcmp(crv, "P-521") == 0)) {
		uint8_t z[66], kek[32];
		size_t zlen = sizeof(z);
		EVP_PKEY *eph;
		json_t *epk;

		eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", strcmp(crv, "P-256") == 0 ? "P-256" : "P-521");
		if (!eph)
			return -EIO;
		r = ecdh(eph, recipient, z, &zlen);
		if (r == 0)
			r = concat_kdf(z, zlen, kek);
		if (r == 0)
			r = aes_kw(1, kek, cek, sizeof(cek), ek, &eklen);
		explicit_bzero(z, sizeof(z));
		explicit_bzero(kek, sizeof(kek));
		epk = r == 0 ? attest_jwk_from_key(eph, NULL) : NULL;
		EVP_PKEY_free(eph);
		if (r == 0 && !epk)
			r = -ENOMEM;
		if (r < 0)
			return r;
		/* Trustee's exact bytes: alg, enc, then epk with crv, kty, x, y. */
		if (asprintf(&hdr,
			     "{\"alg\":\"" ATTEST_JWE_ALG_ECDH "\",\"enc\":\"A256GCM\",\"epk\":"
			     "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}}",
			     crv, json_string_value(json_object_get(epk, "x")),
			     json_string_value(json_object_get(epk, "y"))) < 0)
			hdr = NULL;
		json_decref(epk);
	} else if (EVP_PKEY_is_a(recipient, "RSA")) {
		r = rsa_oaep(1, recipient, cek, sizeof(cek), ek, &eklen);
		if (r < 0)
			return r;
		hdr = strdup("{\"alg\":\"" ATTEST_JWE_ALG_RSA "\",\"enc\":\"A256GCM\"}");
	} else {
		return -EOPNOTSUPP;
	}
	prot = hdr ? b64u(hdr, strlen(hdr)) : NULL;
	ct = malloc(len ? len : 1);
	if (!prot || !ct)
		return -ENOMEM;
	r = gcm(1, cek, iv, prot, pt, len, ct, tag);
	if (r < 0)
		return r;
	ek64 = b64u(ek, eklen);
	iv64 = b64u(iv, sizeof(iv));
	ct64 = b64u(ct, len);
	tag64 = b64u(tag, sizeof(tag));
	if (!ek64 || !iv64 || !ct64 || !tag64)
		return -ENOMEM;
	if (asprintf(&out,
		     "{\"protected\":\"%s\",\"encrypted_key\":\"%s\",\"iv\":\"%s\","
		     "\"ciphertext\":\"%s\",\"tag\":\"%s\"}",
		     prot, ek64, iv64, ct64, tag64) < 0) {
		out = NULL;
		return -ENOMEM;
	}
	*ret = TAKE_PTR(out);
	return 0;
}

static int member(const json_t *o, const char *key, size_t want, size_t max, uint8_t **ret,
		  size_t *ret_len, char *err, size_t err_len)
{
	const char *s;
	struct vjson_err e;

	if (vjson_get_string(o, "jwe", key, max / 3 * 4 + 8, &s, &e) < 0)
		return errbuf_set(err, err_len, -EBADMSG, "%s", e.msg);
	if (b64url_decode(s, strlen(s), ret, ret_len) < 0)
		return errbuf_set(err, err_len, -EBADMSG, "'%s' is not unpadded base64url", key);
	if (want && *ret_len != want) {
		/* The caller's cleanup owns *ret: leave it nothing to free twice. */
		free(*ret);
		*ret = NULL;
		return errbuf_set(err, err_len, -EBADMSG, "'%s' is %zu bytes, expected %zu", key, *ret_len,
			    want);
	}
	return 0;
}

static int unwrap_ec(EVP_PKEY *key, const json_t *hdr, const uint8_t *ek, size_t eklen,
		     uint8_t cek[CEK_LEN], char *err, size_t err_len)
{
	static const char *const hkeys[] = { "alg", "enc", "epk", NULL };
	static const char *const ekeys[] = { "crv", "kty", "x", "y", NULL };
	const char *crv = attest_jwk_curve(key), *ecrv;
	json_t *epk, *tmp;
	struct vjson_err e;
	EVP_PKEY *peer = NULL;
	uint8_t z[66], kek[32];
	size_t zlen = sizeof(z), n = 0;
	int r;

	if (vjson_check_keys(hdr, "protected", hkeys, &e) < 0 ||
	    vjson_get_object(hdr, "protected", "epk", &epk, &e) < 0 ||
	    vjson_check_keys(epk, "protected.epk", ekeys, &e) < 0 ||
	    vjson_get_string(epk, "protected.epk", "crv", 16, &ecrv, &e) < 0)
		return errbuf_set(err, err_len, -EBADMSG, "%s", e.msg);
	if (!crv || strcmp(crv, ecrv) != 0)
		return errbuf_set(err, err_len, -EKEYREJECTED, "'epk.crv' '%.16s' is not the key's curve", ecrv);
	if (eklen != WRAPPED_LEN)
		return errbuf_set(err, err_len, -EBADMSG, "'encrypted_key' is %zu bytes, expected %d", eklen,
			    WRAPPED_LEN);
	/* Reuse the tee-pubkey parser: it checks lengths and that the point is on the curve. */
	tmp = json_deep_copy(epk);
	if (!tmp || json_object_set_new(tmp, "alg", json_string(ATTEST_JWE_ALG_ECDH)) < 0) {
		json_decref(tmp);
		return -ENOMEM;
	}
	r = attest_jwk_parse_tee_key(tmp, &peer, err, err_len);
	json_decref(tmp);
	if (r < 0)
		return errbuf_set(err, err_len, -EBADMSG, "'epk' is not a valid %s public key", crv);
	r = ecdh(key, peer, z, &zlen);
	EVP_PKEY_free(peer);
	if (r == 0)
		r = concat_kdf(z, zlen, kek);
	if (r == 0)
		r = aes_kw(0, kek, ek, eklen, cek, &n);
	explicit_bzero(z, sizeof(z));
	explicit_bzero(kek, sizeof(kek));
	if (r == 0 && n != CEK_LEN)
		r = -EKEYREJECTED;
	if (r < 0)
		return errbuf_set(err, err_len, r, "the content key does not unwrap with this key");
	return 0;
}

int attest_jwe_decrypt(EVP_PKEY *key, const char *json, size_t len, uint8_t **ret,
		       size_t *ret_len, char *err, size_t err_len)
{
	static const char *const keys[] = { "protected", "encrypted_key", "iv", "ciphertext", "tag",
					    NULL };
	_cleanup_free_ uint8_t *hraw = NULL, *ek = NULL, *iv = NULL, *ct = NULL, *tag = NULL;
	size_t hl, ekl, ivl, ctl, tagl;
	const char *prot, *alg, *enc;
	_cleanup_(wipe_cek) uint8_t cek[CEK_LEN];
	_cleanup_(json_decrefp) json_t *o = NULL, *hdr = NULL;
	uint8_t *pt;
	struct vjson_err e;
	int r;

	if (!key)
		return -EINVAL;
	r = vjson_parse(json, len, ATTEST_JWE_MAX, 8, &o, &e);
	if (r < 0)
		return errbuf_set(err, err_len, -EBADMSG, "JWE: %s", e.msg);
	if (!json_is_object(o))
		return errbuf_set(err, err_len, -EBADMSG, "JWE is not a JSON object");
	if (vjson_check_keys(o, "jwe", keys, &e) < 0 ||
	    vjson_get_string(o, "jwe", "protected", 4096, &prot, &e) < 0)
		return errbuf_set(err, err_len, -EBADMSG, "%s", e.msg);
	if ((r = member(o, "protected", 0, 3072, &hraw, &hl, err, err_len)) < 0 ||
	    (r = member(o, "encrypted_key", 0, 1024, &ek, &ekl, err, err_len)) < 0 ||
	    (r = member(o, "iv", IV_LEN, IV_LEN, &iv, &ivl, err, err_len)) < 0 ||
	    (r = member(o, "ciphertext", 0, ATTEST_JWE_PLAINTEXT_MAX, &ct, &ctl, err, err_len)) < 0 ||
	    (r = member(o, "tag", TAG_LEN, TAG_LEN, &tag, &tagl, err, err_len)) < 0)
		return r;
	if (vjson_parse((char *)hraw, hl, 3072, 4, &hdr, &e) < 0 || !json_is_object(hdr))
		return errbuf_set(err, err_len, -EBADMSG, "'protected' is not a JSON object");
	if (vjson_get_string(hdr, "protected", "alg", 32, &alg, &e) < 0 ||
	    vjson_get_string(hdr, "protected", "enc", 32, &enc, &e) < 0)
		return errbuf_set(err, err_len, -EBADMSG, "%s", e.msg);
	if (strcmp(enc, "A256GCM") != 0)
		return errbuf_set(err, err_len, -EOPNOTSUPP, "'enc' '%.32s' is not A256GCM", enc);
	if (strcmp(alg, ATTEST_JWE_ALG_ECDH) == 0) {
		r = unwrap_ec(key, hdr, ek, ekl, cek, err, err_len);
	} else if (strcmp(alg, ATTEST_JWE_ALG_RSA) == 0) {
		static const char *const hkeys[] = { "alg", "enc", NULL };
		uint8_t buf[ATTEST_RSA_BITS_MAX / 8];
		size_t n = sizeof(buf);

		if (vjson_check_keys(hdr, "protected", hkeys, &e) < 0)
			r = errbuf_set(err, err_len, -EBADMSG, "%s", e.msg);
		else if (!EVP_PKEY_is_a(key, "RSA"))
			r = errbuf_set(err, err_len, -EKEYREJECTED, "RSA-OAEP-256 needs an RSA key");
		else if (rsa_oaep(0, key, ek, ekl, buf, &n) < 0 || n != CEK_LEN)
			r = errbuf_set(err, err_len, -EKEYREJECTED,
				 "the content key does not decrypt with this key");
		else
			memcpy(cek, buf, CEK_LEN);
		explicit_bzero(buf, sizeof(buf));
	} else {
		r = errbuf_set(err, err_len, -EOPNOTSUPP, "'alg' '%.32s' is not supported", alg);
	}
	if (r < 0)
		return r;
	pt = secmem_alloc(ctl + 1);
	if (!pt)
		return -ENOMEM;
	r = gcm(0, cek, iv, prot, ct, ctl, pt, tag);
	if (r < 0) {
		secmem_free(pt);
		return errbuf_set(err, err_len, r, "the ciphertext does not authenticate");
	}
	*ret = pt;
	*ret_len = ctl;
	return 0;
}
