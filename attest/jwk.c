// SPDX-License-Identifier: GPL-2.0-only
#include "attest/jwk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "lib/errbuf.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/json.h"

static const struct {
	const char *jwk, *group;
	size_t coord;
} curves[] = {
	{ "P-256", "prime256v1", 32 },
	{ "P-384", "secp384r1", 48 },
	{ "P-521", "secp521r1", 66 },
};

/* Decodes member `key` of obj as unpadded base64url of exactly want bytes (0: any, up to max). */
static int get_b64url(const json_t *obj, const char *key, size_t want, size_t max, uint8_t **ret,
		      size_t *ret_len, char *err, size_t err_len)
{
	const char *s;
	struct vjson_err e;
	uint8_t *raw;
	size_t n;

	if (vjson_get_string(obj, "tee-pubkey", key, 4 * max / 3 + 4, &s, &e) < 0)
		return errbuf_set(err, err_len, -EINVAL, "%s", e.msg);
	if (b64url_decode(s, strlen(s), &raw, &n) < 0)
		return errbuf_set(err, err_len, -EINVAL, "'%s' is not unpadded base64url", key);
	if ((want && n != want) || n == 0) {
		free(raw);
		return errbuf_set(err, err_len, -EINVAL, "'%s' is %zu bytes, expected %zu", key, n, want);
	}
	*ret = raw;
	*ret_len = n;
	return 0;
}

static int ec_from_xy(const char *group, const uint8_t *x, const uint8_t *y, size_t coord,
		      EVP_PKEY **ret)
{
	uint8_t pt[1 + 2 * 66];
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	EVP_PKEY *pkey = NULL;
	int r = -EINVAL;

	pt[0] = 0x04;
	memcpy(pt + 1, x, coord);
	memcpy(pt + 1 + coord, y, coord);
	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		return -ENOMEM;
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * coord))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	/* A point off the curve would leak the ephemeral key's bits (invalid-curve attack). */
	chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!chk || EVP_PKEY_public_check(chk) <= 0)
		goto out;
	*ret = pkey;
	pkey = NULL;
	r = 0;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

static int rsa_from_ne(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen, EVP_PKEY **ret)
{
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
	int r = -EINVAL;

	bld = OSSL_PARAM_BLD_new();
	if (!bld || !bn || !be)
		goto out;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	*ret = pkey;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return r;
}

int attest_jwk_parse_tee_key(const json_t *jwk, EVP_PKEY **ret, char *err, size_t err_len)
{
	static const char *const ec_keys[] = { "kty", "crv", "alg", "x", "y", NULL };
	static const char *const rsa_keys[] = { "kty", "alg", "n", "e", NULL };
	const char *kty, *alg, *crv;
	struct vjson_err e;
	size_t i;
	int r;

	if (!json_is_object(jwk))
		return errbuf_set(err, err_len, -EINVAL, "'tee-pubkey': expected an object");
	if (vjson_get_string(jwk, "tee-pubkey", "kty", 16, &kty, &e) < 0 ||
	    vjson_get_string(jwk, "tee-pubkey", "alg", 32, &alg, &e) < 0)
		return errbuf_set(err, err_len, -EINVAL, "%s", e.msg);
	if (strcmp(kty, "EC") == 0) {
		_cleanup_free_ uint8_t *x = NULL, *y = NULL;
		size_t xl, yl;

		if (vjson_check_keys(jwk, "tee-pubkey", ec_keys, &e) < 0 ||
		    vjson_get_string(jwk, "tee-pubkey", "crv", 16, &crv, &e) < 0)
			return errbuf_set(err, err_len, -EINVAL, "%s", e.msg);
		if (strcmp(alg, ATTEST_JWE_ALG_ECDH) != 0)
			return errbuf_set(err, err_len, -EINVAL, "'tee-pubkey.alg' '%s' is not ECDH-ES+A256KW",
				    alg);
		for (i = 0; i < ARRAY_SIZE(curves); i++)
			if (strcmp(crv, curves[i].jwk) == 0)
				break;
		/* Trustee accepts P-256 and P-521 only. */
		if (i == ARRAY_SIZE(curves) || curves[i].coord == 48)
			return errbuf_set(err, err_len, -EINVAL, "'tee-pubkey.crv' '%s' is not P-256 or P-521",
				    crv);
		r = get_b64url(jwk, "x", curves[i].coord, curves[i].coord, &x, &xl, err, err_len);
		if (r < 0)
			return r;
		r = get_b64url(jwk, "y", curves[i].coord, curves[i].coord, &y, &yl, err, err_len);
		if (r < 0)
			return r;
		r = ec_from_xy(curves[i].group, x, y, curves[i].coord, ret);
		if (r < 0)
			return errbuf_set(err, err_len, r, "'tee-pubkey' is not a point on %s", crv);
		return 0;
	}
	if (strcmp(kty, "RSA") == 0) {
		_cleanup_free_ uint8_t *n = NULL, *ex = NULL;
		size_t nl, el;

		if (vjson_check_keys(jwk, "tee-pubkey", rsa_keys, &e) < 0)
			return errbuf_set(err, err_len, -EINVAL, "%s", e.msg);
		if (strcmp(alg, ATTEST_JWE_ALG_RSA) != 0)
			return errbuf_set(err, err_len, -EINVAL, "'tee-pubkey.alg' '%s' is not RSA-OAEP-256",
				    alg);
		r = get_b64url(jwk, "n", 0, ATTEST_RSA_BITS_MAX / 8, &n, &nl, err, err_len);
		if (r < 0)
			return r;
		r = get_b64url(jwk, "e", 0, 8, &ex, &el, err, err_len);
		if (r < 0)
			return r;
		if (n[0] == 0 || nl * 8 < ATTEST_RSA_BITS_MIN || nl * 8 > ATTEST_RSA_BITS_MAX)
			return errbuf_set(err, err_len, -EINVAL, "'tee-pubkey.n' is not a %d..%d-bit modulus",
				    ATTEST_RSA_BITS_MIN, ATTEST_RSA_BITS_MAX);
		if (!(n[nl - 1] & 1) || !(ex[el - 1] & 1) || (el == 1 && ex[0] < 3))
			return errbuf_set(err, err_len, -EINVAL, "'tee-pubkey' is not an RSA public key");
		r = rsa_from_ne(n, nl, ex, el, ret);
		if (r < 0)
			return errbuf_set(err, err_len, r, "'tee-pubkey' is not an RSA public key");
		return 0;
	}
	return errbuf_set(err, err_len, -EINVAL, "'tee-pubkey.kty' '%s' is not EC or RSA", kty);
}

int attest_jwk_parse_p256(const json_t *jwk, EVP_PKEY **ret, char *err, size_t err_len)
{
	_cleanup_free_ uint8_t *x = NULL, *y = NULL;
	const char *kty, *crv;
	struct vjson_err e;
	size_t xl, yl;
	int r;

	if (!json_is_object(jwk))
		return errbuf_set(err, err_len, -EINVAL, "'jwk': expected an object");
	if (vjson_get_string(jwk, "jwk", "kty", 16, &kty, &e) < 0 ||
	    vjson_get_string(jwk, "jwk", "crv", 16, &crv, &e) < 0)
		return errbuf_set(err, err_len, -EINVAL, "%s", e.msg);
	if (strcmp(kty, "EC") != 0 || strcmp(crv, "P-256") != 0)
		return errbuf_set(err, err_len, -EINVAL, "'jwk' is not an EC P-256 key");
	r = get_b64url(jwk, "x", 32, 32, &x, &xl, err, err_len);
	if (r < 0)
		return r;
	r = get_b64url(jwk, "y", 32, 32, &y, &yl, err, err_len);
	if (r < 0)
		return r;
	r = ec_from_xy("prime256v1", x, y, 32, ret);
	if (r < 0)
		return errbuf_set(err, err_len, r, "'jwk' is not a point on P-256");
	return 0;
}

const char *attest_jwk_curve(EVP_PKEY *key)
{
	char group[64];

	if (!key || !EVP_PKEY_is_a(key, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL))
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(curves); i++)
		if (strcmp(group, curves[i].group) == 0)
			return curves[i].jwk;
	return NULL;
}

static json_t *b64url_json(const uint8_t *p, size_t n)
{
	char *s;
	json_t *j;

	if (b64url_encode(p, n, &s) < 0)
		return NULL;
	j = json_string(s);
	free(s);
	return j;
}

static json_t *bn_json(EVP_PKEY *key, const char *name)
{
	BIGNUM *bn = NULL;
	uint8_t buf[ATTEST_RSA_BITS_MAX / 8];
	json_t *j = NULL;
	int n;

	if (!EVP_PKEY_get_bn_param(key, name, &bn))
		return NULL;
	n = BN_num_bytes(bn);
	if (n > 0 && (size_t)n <= sizeof(buf) && BN_bn2bin(bn, buf) == n)
		j = b64url_json(buf, (size_t)n);
	BN_free(bn);
	return j;
}

json_t *attest_jwk_from_key(EVP_PKEY *key, const char *alg)
{
	const char *crv = attest_jwk_curve(key);

	if (crv) {
		uint8_t pt[1 + 2 * 66];
		size_t n = 0, c;

		if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt,
						     sizeof(pt), &n) || n < 3 || pt[0] != 0x04)
			return NULL;
		c = (n - 1) / 2;
		return json_pack("{s:s, s:s, s:s, s:o, s:o}", "kty", "EC", "crv", crv, "alg",
				 alg ? alg : ATTEST_JWE_ALG_ECDH, "x", b64url_json(pt + 1, c), "y",
				 b64url_json(pt + 1 + c, c));
	}
	if (key && EVP_PKEY_is_a(key, "RSA"))
		return json_pack("{s:s, s:s, s:o, s:o}", "kty", "RSA", "alg",
				 alg ? alg : ATTEST_JWE_ALG_RSA, "n", bn_json(key, OSSL_PKEY_PARAM_RSA_N),
				 "e", bn_json(key, OSSL_PKEY_PARAM_RSA_E));
	return NULL;
}

int attest_key_load_pem(const char *path, EVP_PKEY **ret)
{
	_cleanup_wipe_ struct wipe_buf pem = { 0 };
	EVP_PKEY *key;
	char *buf;
	BIO *bio;
	int r;

	r = fd_read_file(path, 64 << 10, &buf, &pem.len);
	if (r < 0)
		return r;
	pem.p = buf;
	bio = BIO_new_mem_buf(pem.p, (int)pem.len);
	if (!bio)
		return -ENOMEM;
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!key)
		return -EINVAL;
	*ret = key;
	return 0;
}

int attest_key_save_pem(const char *path, EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *data;
	long n;
	int r = -EIO;

	if (!bio)
		return -ENOMEM;
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) > 0) {
		n = BIO_get_mem_data(bio, &data);
		r = n > 0 ? fd_write_file_atomic(path, data, (size_t)n, 0600) : -EIO;
	}
	BIO_free(bio);
	return r;
}
