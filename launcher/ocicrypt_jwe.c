// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JWE of ocicrypt's "jwe" key wrapper, as go-jose writes it: the general
 * JSON serialization {"protected","recipients":[{"header","encrypted_key"}],
 * "iv","ciphertext","tag"} (plus a stray top-level "encrypted_key"), or the
 * flattened one. alg RSA-OAEP (SHA-1, ocicrypt's choice for RSA keys),
 * RSA-OAEP-256 or ECDH-ES+A256KW; enc A256GCM with AAD = the protected text.
 * attest/jwe.c covers Trustee's flattened JWE only, hence this file.
 */
#include "launcher/ocicrypt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/secmem.h"

#define CEK_LEN 32
#define IV_LEN 12
#define TAG_LEN 16
#define EK_MAX 1024		/* RSA-8192 ciphertext */
#define RECIPIENTS_MAX 64

static int fail(struct vjson_err *e, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct vjson_err *e, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return r;
}

static void pkey_freep(EVP_PKEY **k)
{
	EVP_PKEY_free(*k);
}

static void pctx_freep(EVP_PKEY_CTX **c)
{
	EVP_PKEY_CTX_free(*c);
}

static void cctx_freep(EVP_CIPHER_CTX **c)
{
	EVP_CIPHER_CTX_free(*c);
}

int launcher_ocicrypt_load_key(const uint8_t *data, size_t len, EVP_PKEY **ret)
{
	BIO *b;
	EVP_PKEY *k = NULL;

	if (!data || !len || len > OCICRYPT_JWE_MAX)
		return -EINVAL;
	b = BIO_new_mem_buf(data, (int)len);
	if (!b)
		return -ENOMEM;
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!k) {
		const unsigned char *p = data;

		k = d2i_AutoPrivateKey(NULL, &p, (long)len);
	}
	ERR_clear_error();
	if (!k)
		return -EINVAL;
	*ret = k;
	return 0;
}

/* A base64url member of o, decoded; exactly want bytes when want != 0. */
static int member(const json_t *o, const char *key, size_t want, size_t max, uint8_t **ret,
		  size_t *ret_len, struct vjson_err *e)
{
	const char *s = NULL;
	int r = vjson_get_string(o, "jwe", key, OCICRYPT_JWE_MAX, &s, e);

	if (r < 0)
		return r == -ENOENT ? fail(e, -EBADMSG, "JWE: '%s' missing", key) :
				      fail(e, -EBADMSG, "JWE: '%s' is not a string", key);
	if (b64url_decode(s, strlen(s), ret, ret_len) < 0)
		return fail(e, -EBADMSG, "JWE: '%s' is not base64url", key);
	if ((want && *ret_len != want) || *ret_len > max) {
		free(*ret);
		*ret = NULL;
		return fail(e, -EBADMSG, "JWE: '%s' has the wrong length (%zu bytes)", key, *ret_len);
	}
	return 0;
}

static int rsa_unwrap(EVP_PKEY *key, bool sha256, const uint8_t *ek, size_t eklen,
		      uint8_t cek[CEK_LEN])
{
	_cleanup_(pctx_freep) EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	const EVP_MD *md = sha256 ? EVP_sha256() : EVP_sha1();
	uint8_t buf[EK_MAX];
	size_t n = sizeof(buf);
	bool ok;

	ok = c && EVP_PKEY_decrypt_init(c) > 0 &&
	     EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) > 0 &&
	     EVP_PKEY_CTX_set_rsa_oaep_md(c, md) > 0 && EVP_PKEY_CTX_set_rsa_mgf1_md(c, md) > 0 &&
	     EVP_PKEY_decrypt(c, buf, &n, ek, eklen) > 0 && n == CEK_LEN;
	if (ok)
		memcpy(cek, buf, CEK_LEN);
	explicit_bzero(buf, sizeof(buf));
	ERR_clear_error();
	return ok ? 0 : -ENOKEY;
}

/* The ephemeral public key of a recipient: {"kty":"EC","crv","x","y"} on the private key's curve. */
static int epk_parse(const json_t *epk, EVP_PKEY *priv, EVP_PKEY **ret, struct vjson_err *e)
{
	static const char *const keys[] = { "kty", "crv", "x", "y", NULL };
	char group[64];
	const char *kty, *crv, *want;
	uint8_t *x = NULL, *y = NULL;
	size_t xl, yl, cl;
	uint8_t pt[1 + 2 * 66];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *c = NULL;
	EVP_PKEY *k = NULL;
	int r;

	if (!json_is_object(epk) || vjson_check_keys(epk, "epk", keys, e) < 0)
		return fail(e, -EBADMSG, "JWE: 'epk' is not an EC public JWK");
	if (vjson_get_string(epk, "epk", "kty", 8, &kty, e) < 0 || strcmp(kty, "EC") ||
	    vjson_get_string(epk, "epk", "crv", 16, &crv, e) < 0)
		return fail(e, -EBADMSG, "JWE: 'epk' is not an EC public JWK");
	if (!EVP_PKEY_get_utf8_string_param(priv, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    NULL))
		return -ENOKEY;
	want = !strcmp(group, "prime256v1") ? "P-256" : !strcmp(group, "secp384r1") ? "P-384" :
	       !strcmp(group, "secp521r1") ? "P-521" : NULL;
	if (!want || strcmp(want, crv))
		return -ENOKEY;
	cl = !strcmp(crv, "P-256") ? 32 : !strcmp(crv, "P-384") ? 48 : 66;
	if (member(epk, "x", cl, cl, &x, &xl, e) < 0)
		return fail(e, -EBADMSG, "JWE: 'epk' coordinates are malformed");
	if (member(epk, "y", cl, cl, &y, &yl, e) < 0) {
		free(x);
		return fail(e, -EBADMSG, "JWE: 'epk' coordinates are malformed");
	}
	pt[0] = 4;
	memcpy(pt + 1, x, cl);
	memcpy(pt + 1 + cl, y, cl);
	free(x);
	free(y);
	r = -ENOMEM;
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * cl))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !c || EVP_PKEY_fromdata_init(c) <= 0)
		goto out;
	r = -EBADMSG;
	if (EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		fail(e, r, "JWE: 'epk' is not a point on %s", crv);
		goto out;
	}
	/* fromdata does not check the point; a full public check does. */
	EVP_PKEY_CTX_free(c);
	c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	if (!c || EVP_PKEY_public_check(c) <= 0) {
		EVP_PKEY_free(k);
		k = NULL;
		fail(e, r, "JWE: 'epk' is not a point on %s", crv);
		goto out;
	}
	*ret = k;
	r = 0;
out:
	EVP_PKEY_CTX_free(c);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	ERR_clear_error();
	return r;
}

/* length-prefixed field of the Concat KDF's OtherInfo (RFC 7518 §4.6.2) */
static void put_field(EVP_MD_CTX *md, const uint8_t *p, size_t n)
{
	uint8_t be[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };

	EVP_DigestUpdate(md, be, 4);
	if (n)
		EVP_DigestUpdate(md, p, n);
}

/* Z = ECDH(key, peer); KEK = Concat KDF (RFC 7518 §4.6.2); CEK = AES key unwrap. */
static int derive_unwrap(EVP_PKEY *key, EVP_PKEY *peer, const uint8_t *apu, size_t apul,
			 const uint8_t *apv, size_t apvl, const uint8_t *ek, size_t eklen,
			 uint8_t cek[CEK_LEN])
{
	static const char alg[] = "ECDH-ES+A256KW";
	static const uint8_t bits[4] = { 0, 0, 1, 0 };	/* 256 */
	static const uint8_t one[4] = { 0, 0, 0, 1 };
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_CIPHER_CTX *w = EVP_CIPHER_CTX_new();
	uint8_t z[66], kek[32], out[CEK_LEN + 8];
	size_t zl = sizeof(z);
	int r = -ENOKEY, n1 = 0, n2 = 0;

	if (!c || !md || !w) {
		r = -ENOMEM;
		goto out;
	}
	if (EVP_PKEY_derive_init(c) <= 0 || EVP_PKEY_derive_set_peer(c, peer) <= 0 ||
	    EVP_PKEY_derive(c, z, &zl) <= 0 || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		goto out;
	EVP_DigestUpdate(md, one, 4);
	EVP_DigestUpdate(md, z, zl);
	put_field(md, (const uint8_t *)alg, strlen(alg));
	put_field(md, apu, apul);
	put_field(md, apv, apvl);
	EVP_DigestUpdate(md, bits, 4);
	if (!EVP_DigestFinal_ex(md, kek, NULL))
		goto out;
	EVP_CIPHER_CTX_set_flags(w, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (!EVP_DecryptInit_ex(w, EVP_aes_256_wrap(), NULL, kek, NULL) ||
	    !EVP_DecryptUpdate(w, out, &n1, ek, (int)eklen) ||
	    !EVP_DecryptFinal_ex(w, out + n1, &n2) || n1 + n2 != CEK_LEN)
		goto out;
	memcpy(cek, out, CEK_LEN);
	r = 0;
out:
	EVP_CIPHER_CTX_free(w);
	EVP_MD_CTX_free(md);
	EVP_PKEY_CTX_free(c);
	explicit_bzero(z, sizeof(z));
	explicit_bzero(kek, sizeof(kek));
	explicit_bzero(out, sizeof(out));
	ERR_clear_error();
	return r;
}

static int ecdh_unwrap(EVP_PKEY *key, const json_t *hdr, const uint8_t *ek, size_t eklen,
		       uint8_t cek[CEK_LEN], struct vjson_err *e)
{
	_cleanup_(pkey_freep) EVP_PKEY *peer = NULL;
	_cleanup_free_ uint8_t *apu = NULL, *apv = NULL;
	size_t apul = 0, apvl = 0;
	int r;

	r = epk_parse(json_object_get(hdr, "epk"), key, &peer, e);
	if (r < 0)
		return r;
	if (json_object_get(hdr, "apu") && member(hdr, "apu", 0, 1024, &apu, &apul, e) < 0)
		return -EBADMSG;
	if (json_object_get(hdr, "apv") && member(hdr, "apv", 0, 1024, &apv, &apvl, e) < 0)
		return -EBADMSG;
	if (eklen != CEK_LEN + 8)
		return fail(e, -EBADMSG, "JWE: wrapped key has the wrong length");
	return derive_unwrap(key, peer, apu, apul, apv, apvl, ek, eklen, cek);
}

static int gcm_open(const uint8_t cek[CEK_LEN], const uint8_t *iv, const char *aad,
		    const uint8_t *ct, size_t ctlen, const uint8_t *tag, uint8_t *out)
{
	_cleanup_(cctx_freep) EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, f = 0;

	if (!c)
		return -ENOMEM;
	if (!EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) ||
	    !EVP_DecryptInit_ex(c, NULL, NULL, cek, iv) ||
	    !EVP_DecryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) ||
	    !EVP_DecryptUpdate(c, out, &n, ct, (int)ctlen) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, (void *)tag) ||
	    EVP_DecryptFinal_ex(c, out + n, &f) <= 0) {
		ERR_clear_error();
		return -EKEYREJECTED;
	}
	return 0;
}

/* protected ∪ shared unprotected ∪ recipient header; duplicates are an error (RFC 7516 §7.2.1). */
static int merged_header(const json_t *prot, const json_t *shared, const json_t *rcpt,
			 json_t **ret, struct vjson_err *e)
{
	const json_t *parts[3] = { prot, shared, rcpt };
	json_t *h = json_object();

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < 3; i++) {
		const char *k;
		json_t *v;

		if (!parts[i] || json_is_null(parts[i]))
			continue;
		if (!json_is_object(parts[i])) {
			json_decref(h);
			return fail(e, -EBADMSG, "JWE: a header is not an object");
		}
		json_object_foreach((json_t *)parts[i], k, v) {
			if (json_object_get(h, k)) {
				json_decref(h);
				return fail(e, -EBADMSG, "JWE: header '%s' appears twice", k);
			}
			json_object_set(h, k, v);
		}
	}
	*ret = h;
	return 0;
}

int launcher_ocicrypt_jwe_decrypt(const char *json, size_t len, EVP_PKEY *const *keys,
				  size_t n_keys, uint8_t **ret, size_t *ret_len,
				  struct vjson_err *e)
{
	static const char *const top[] = { "protected", "unprotected", "recipients", "header",
					   "encrypted_key", "aad", "iv", "ciphertext", "tag",
					   NULL };
	_cleanup_(json_decrefp) json_t *root = NULL, *prot = NULL, *flat = NULL;
	_cleanup_free_ uint8_t *protb = NULL, *iv = NULL, *ct = NULL, *tag = NULL;
	_cleanup_free_ char *aad = NULL;
	size_t protl, ivl, ctl, tagl;
	const char *prots, *aads = NULL, *enc;
	json_t *rcpts, *shared;
	bool supported = false;
	int r;

	r = vjson_parse(json, len, OCICRYPT_JWE_MAX, 8, &root, e);
	if (r < 0)
		return fail(e, -EBADMSG, "JWE: %s", e->msg);
	if (!json_is_object(root) || vjson_check_keys(root, "jwe", top, e) < 0)
		return fail(e, -EBADMSG, "JWE: not a JWE JSON object (%s)", e->msg);
	if (vjson_get_string(root, "jwe", "protected", OCICRYPT_JWE_MAX, &prots, e) < 0)
		return fail(e, -EBADMSG, "JWE: 'protected' missing");
	if (b64url_decode(prots, strlen(prots), &protb, &protl) < 0 ||
	    vjson_parse((const char *)protb, protl, 64u << 10, 4, &prot, e) < 0 ||
	    !json_is_object(prot))
		return fail(e, -EBADMSG, "JWE: 'protected' is not base64url JSON");
	if (vjson_get_string_opt(root, "jwe", "aad", OCICRYPT_JWE_MAX, &aads, e) < 0)
		return fail(e, -EBADMSG, "JWE: 'aad' is not a string");
	if (asprintf(&aad, "%s%s%s", prots, aads ? "." : "", aads ? aads : "") < 0) {
		aad = NULL;
		return -ENOMEM;
	}
	r = member(root, "iv", IV_LEN, IV_LEN, &iv, &ivl, e);
	if (r < 0)
		return r;
	r = member(root, "tag", TAG_LEN, TAG_LEN, &tag, &tagl, e);
	if (r < 0)
		return r;
	r = member(root, "ciphertext", 0, OCICRYPT_OPTS_MAX, &ct, &ctl, e);
	if (r < 0)
		return r;

	shared = json_object_get(root, "unprotected");
	rcpts = json_object_get(root, "recipients");
	if (!rcpts) {
		/* flattened: one recipient made of the top-level members */
		flat = json_pack("[{s:O?,s:O?}]", "header", json_object_get(root, "header"),
				 "encrypted_key", json_object_get(root, "encrypted_key"));
		if (!flat)
			return -ENOMEM;
		rcpts = flat;
	}
	if (!json_is_array(rcpts) || !json_array_size(rcpts) ||
	    json_array_size(rcpts) > RECIPIENTS_MAX)
		return fail(e, -EBADMSG, "JWE: 'recipients' must be an array of 1 to %d",
			    RECIPIENTS_MAX);

	for (size_t i = 0; i < json_array_size(rcpts); i++) {
		json_t *rc = json_array_get(rcpts, i);
		_cleanup_(json_decrefp) json_t *hdr = NULL;
		_cleanup_free_ uint8_t *ek = NULL;
		size_t ekl;
		const char *alg;

		if (!json_is_object(rc))
			return fail(e, -EBADMSG, "JWE: recipient %zu is not an object", i);
		r = merged_header(prot, shared, json_object_get(rc, "header"), &hdr, e);
		if (r < 0)
			return r;
		if (vjson_get_string(hdr, "jwe", "enc", 32, &enc, e) < 0 || strcmp(enc, "A256GCM"))
			return fail(e, -EOPNOTSUPP, "JWE: content encryption must be A256GCM");
		if (json_object_get(hdr, "zip") || json_object_get(hdr, "crit"))
			return fail(e, -EOPNOTSUPP, "JWE: 'zip' and 'crit' are not supported");
		if (vjson_get_string(hdr, "jwe", "alg", 32, &alg, e) < 0)
			return fail(e, -EBADMSG, "JWE: recipient %zu has no 'alg'", i);
		if (strcmp(alg, "RSA-OAEP") && strcmp(alg, "RSA-OAEP-256") &&
		    strcmp(alg, "ECDH-ES+A256KW"))
			continue;
		supported = true;
		r = member(rc, "encrypted_key", 0, EK_MAX, &ek, &ekl, e);
		if (r < 0)
			return r;
		for (size_t k = 0; k < n_keys; k++) {
			uint8_t cek[CEK_LEN];
			uint8_t *pt;
			bool is_rsa = EVP_PKEY_is_a(keys[k], "RSA");

			if (alg[0] == 'R' && is_rsa)
				r = rsa_unwrap(keys[k], !strcmp(alg, "RSA-OAEP-256"), ek, ekl, cek);
			else if (alg[0] == 'E' && EVP_PKEY_is_a(keys[k], "EC"))
				r = ecdh_unwrap(keys[k], hdr, ek, ekl, cek, e);
			else
				continue;
			if (r == -EBADMSG)
				return r;
			if (r < 0)
				continue;
			pt = secmem_alloc(ctl + 1);
			if (!pt) {
				explicit_bzero(cek, sizeof(cek));
				return -ENOMEM;
			}
			r = gcm_open(cek, iv, aad, ct, ctl, tag, pt);
			explicit_bzero(cek, sizeof(cek));
			if (r < 0) {
				secmem_free(pt);
				continue;
			}
			*ret = pt;
			*ret_len = ctl;
			return 0;
		}
	}
	if (!supported)
		return fail(e, -EOPNOTSUPP, "JWE: no recipient uses RSA-OAEP, RSA-OAEP-256 or "
			    "ECDH-ES+A256KW");
	return fail(e, -ENOKEY, "JWE: none of the %zu key(s) opens any of the %zu recipient(s)",
		    n_keys, json_array_size(rcpts));
}
