// SPDX-License-Identifier: GPL-2.0-only
#include "attest/jws.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>

#include "attest/jwk.h"
#include "lib/errbuf.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/json.h"

const char *attest_jws_alg(EVP_PKEY *key)
{
	const char *crv;

	if (!key)
		return NULL;
	if (EVP_PKEY_is_a(key, "ED25519"))
		return "EdDSA";
	crv = attest_jwk_curve(key);
	if (crv && strcmp(crv, "P-256") == 0)
		return "ES256";
	return NULL;
}

/* ECDSA DER <-> JOSE raw r||s (32 bytes each for P-256). */
static int der_to_raw(const uint8_t *der, size_t len, uint8_t raw[64])
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	int ok;

	if (!sig)
		return -EINVAL;
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
	ECDSA_SIG_free(sig);
	return ok ? 0 : -EINVAL;
}

static int raw_to_der(const uint8_t raw[64], uint8_t **ret, size_t *ret_len)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, 32, NULL), *s = BN_bin2bn(raw + 32, 32, NULL);
	unsigned char *der = NULL;
	int n;

	if (!sig || !r || !s || !ECDSA_SIG_set0(sig, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return -ENOMEM;
	}
	n = i2d_ECDSA_SIG(sig, &der);
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return -EINVAL;
	*ret = der;
	*ret_len = (size_t)n;
	return 0;
}

static char *b64url_json(const json_t *v)
{
	_cleanup_free_ char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *out;

	if (!s || b64url_encode(s, strlen(s), &out) < 0)
		return NULL;
	return out;
}

int attest_jws_sign(EVP_PKEY *key, const json_t *header, const json_t *payload, char **ret)
{
	_cleanup_free_ char *h = NULL, *p = NULL, *input = NULL, *sig64 = NULL;
	_cleanup_free_ uint8_t *sig = NULL;
	const char *alg = attest_jws_alg(key), *halg;
	const EVP_MD *md;
	uint8_t raw[64];
	EVP_MD_CTX *ctx;
	size_t siglen = 0;
	char *out;
	int ok;

	halg = json_string_value(json_object_get(header, "alg"));
	if (!alg || !halg || strcmp(alg, halg) != 0)
		return -EINVAL;
	h = b64url_json(header);
	p = b64url_json(payload);
	if (!h || !p || asprintf(&input, "%s.%s", h, p) < 0)
		return -ENOMEM;
	md = strcmp(alg, "ES256") == 0 ? EVP_sha256() : NULL;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestSignInit(ctx, NULL, md, NULL, key) > 0 &&
	     EVP_DigestSign(ctx, NULL, &siglen, (uint8_t *)input, strlen(input)) > 0 &&
	     (sig = malloc(siglen)) &&
	     EVP_DigestSign(ctx, sig, &siglen, (uint8_t *)input, strlen(input)) > 0;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	if (md) {
		if (der_to_raw(sig, siglen, raw) < 0)
			return -EIO;
		ok = b64url_encode(raw, sizeof(raw), &sig64) >= 0;
	} else {
		ok = b64url_encode(sig, siglen, &sig64) >= 0;
	}
	if (!ok || asprintf(&out, "%s.%s", input, sig64) < 0)
		return -ENOMEM;
	*ret = out;
	return 0;
}

static int decode_json(const char *s, size_t n, const char *what, json_t **ret, char *err,
		       size_t err_len)
{
	_cleanup_free_ uint8_t *raw = NULL;
	struct vjson_err e;
	size_t rl;

	if (b64url_decode(s, n, &raw, &rl) < 0)
		return errbuf_set(err, err_len, -EBADMSG, "JWS %s is not unpadded base64url", what);
	if (vjson_parse((char *)raw, rl, ATTEST_JWS_MAX, 16, ret, &e) < 0)
		return errbuf_set(err, err_len, -EBADMSG, "JWS %s: %s", what, e.msg);
	if (!json_is_object(*ret)) {
		json_decref(*ret);
		return errbuf_set(err, err_len, -EBADMSG, "JWS %s is not a JSON object", what);
	}
	return 0;
}

int attest_jws_verify(const char *jws, size_t len, EVP_PKEY *key, json_t **ret_header,
		      json_t **ret_payload, char *err, size_t err_len)
{
	uint8_t *sig = NULL, *der = NULL;
	const char *d1, *d2, *alg, *kalg;
	json_t *hdr = NULL, *pay = NULL;
	size_t siglen, derlen;
	int r;

	if (len > ATTEST_JWS_MAX)
		return errbuf_set(err, err_len, -EBADMSG, "JWS is longer than %u bytes", ATTEST_JWS_MAX);
	d1 = memchr(jws, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jws)) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jws)))
		return errbuf_set(err, err_len, -EBADMSG, "JWS is not three dot-separated parts");
	r = decode_json(jws, (size_t)(d1 - jws), "header", &hdr, err, err_len);
	if (r < 0)
		return r;
	r = decode_json(d1 + 1, (size_t)(d2 - d1 - 1), "payload", &pay, err, err_len);
	if (r < 0)
		goto out;
	alg = json_string_value(json_object_get(hdr, "alg"));
	if (!alg) {
		r = errbuf_set(err, err_len, -EBADMSG, "JWS header has no 'alg'");
		goto out;
	}
	if (b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - jws), &sig, &siglen) < 0) {
		r = errbuf_set(err, err_len, -EBADMSG, "JWS signature is not unpadded base64url");
		goto out;
	}
	if (key) {
		EVP_MD_CTX *ctx;
		int ok;

		kalg = attest_jws_alg(key);
		if (!kalg || strcmp(kalg, alg) != 0) {
			r = errbuf_set(err, err_len, -EKEYREJECTED, "JWS 'alg' '%.16s' does not match the key",
				 alg);
			goto out;
		}
		if (strcmp(alg, "ES256") == 0) {
			if (siglen != 64 || raw_to_der(sig, &der, &derlen) < 0) {
				r = errbuf_set(err, err_len, -EKEYREJECTED, "ES256 signature is not 64 bytes");
				goto out;
			}
		}
		ctx = EVP_MD_CTX_new();
		ok = ctx && EVP_DigestVerifyInit(ctx, NULL, der ? EVP_sha256() : NULL, NULL, key) > 0 &&
		     EVP_DigestVerify(ctx, der ? der : sig, der ? derlen : siglen, (const uint8_t *)jws,
				      (size_t)(d2 - jws)) == 1;
		EVP_MD_CTX_free(ctx);
		if (!ok) {
			r = errbuf_set(err, err_len, -EKEYREJECTED, "JWS signature does not verify");
			goto out;
		}
	}
	if (ret_header)
		*ret_header = json_incref(hdr);
	if (ret_payload)
		*ret_payload = json_incref(pay);
	r = 0;
out:
	free(sig);
	OPENSSL_free(der);
	json_decref(hdr);
	json_decref(pay);
	return r;
}
