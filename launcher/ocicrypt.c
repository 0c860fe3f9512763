// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/ocicrypt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/secmem.h"

#define CIPHER "AES_256_CTR_HMAC_SHA256"
#define KEK_LEN 32
#define GCM_IV_LEN 12
#define GCM_TAG_LEN 16

struct ocicrypt_stream {
	EVP_CIPHER_CTX *ctr;
	EVP_MAC_CTX *mac;
	uint8_t want[32];
};

static int fail(struct vjson_err *e, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct vjson_err *e, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return r;
}

static void secmem_freep(uint8_t **p)
{
	secmem_free(*p);
}

/* An annotation holding base64 of a JSON object; ret_raw (optional) gets the decoded bytes. */
static int b64_annotation(const json_t *ann, const char *key, uint8_t **ret, size_t *ret_len,
			  struct vjson_err *e)
{
	const char *s;
	int r = vjson_get_string(ann, "annotations", key, OCICRYPT_ANN_MAX, &s, e);

	if (r < 0)
		return r;
	if (b64_decode(s, strlen(s), ret, ret_len) < 0)
		return fail(e, -EBADMSG, "annotation '%s' is not base64", key);
	return 0;
}

/* A std-base64 member (Go's []byte in JSON) of exactly want bytes, into out. */
static int b64_member(const json_t *o, const char *where, const char *key, uint8_t *out,
		      size_t want, struct vjson_err *e)
{
	_cleanup_free_ uint8_t *buf = NULL;
	const char *s;
	size_t n = 0;
	int r = vjson_get_string(o, where, key, 4096, &s, e);

	if (r < 0)
		return fail(e, -EBADMSG, "%s: '%s' missing or not a string", where, key);
	if (b64_decode(s, strlen(s), &buf, &n) < 0 || n != want) {
		if (buf)
			explicit_bzero(buf, n);
		return fail(e, -EBADMSG, "%s: '%s' must be base64 of %zu bytes", where, key, want);
	}
	memcpy(out, buf, want);
	explicit_bzero(buf, n);
	return 0;
}

static int parse_pubopts(const json_t *ann, uint8_t hmac[32], struct vjson_err *e)
{
	static const char *const keys[] = { "cipher", "hmac", "cipheroptions", NULL };
	_cleanup_(json_decrefp) json_t *o = NULL;
	_cleanup_free_ uint8_t *raw = NULL;
	const char *cipher;
	json_t *co;
	size_t n;
	int r;

	r = b64_annotation(ann, OCICRYPT_ANN_PUBOPTS, &raw, &n, e);
	if (r < 0)
		return r == -ENOENT ? fail(e, -EBADMSG, "encrypted layer without '%s'",
					   OCICRYPT_ANN_PUBOPTS) : r;
	if (vjson_parse((const char *)raw, n, OCICRYPT_OPTS_MAX, 4, &o, e) < 0 ||
	    !json_is_object(o) || vjson_check_keys(o, "pubopts", keys, e) < 0)
		return fail(e, -EBADMSG, "'%s': %s", OCICRYPT_ANN_PUBOPTS, e->msg);
	if (vjson_get_string(o, "pubopts", "cipher", 64, &cipher, e) < 0)
		return fail(e, -EBADMSG, "pubopts: 'cipher' missing");
	if (strcmp(cipher, CIPHER))
		return fail(e, -EOPNOTSUPP, "layer cipher '%.64s' is not supported (only %s)",
			    cipher, CIPHER);
	co = json_object_get(o, "cipheroptions");
	if (co && !json_is_null(co) && (!json_is_object(co) || json_object_size(co)))
		return fail(e, -EOPNOTSUPP, "pubopts: unexpected 'cipheroptions'");
	return b64_member(o, "pubopts", "hmac", hmac, 32, e);
}

/* The private options JSON (plaintext of a key wrap) into k. */
static int parse_privopts(const uint8_t *buf, size_t len, struct ocicrypt_key *k,
			  struct vjson_err *e)
{
	static const char *const keys[] = { "symkey", "digest", "cipheroptions", NULL };
	static const char *const cokeys[] = { "nonce", NULL };
	_cleanup_(json_decrefp) json_t *o = NULL;
	json_t *co;
	int r;

	if (vjson_parse((const char *)buf, len, OCICRYPT_OPTS_MAX, 4, &o, e) < 0 ||
	    !json_is_object(o) || vjson_check_keys(o, "layer options", keys, e) < 0)
		return fail(e, -EBADMSG, "unwrapped layer options are malformed");
	r = b64_member(o, "layer options", "symkey", k->key, sizeof(k->key), e);
	if (r < 0)
		goto out;
	if (vjson_get_object(o, "layer options", "cipheroptions", &co, e) < 0 ||
	    vjson_check_keys(co, "layer options.cipheroptions", cokeys, e) < 0) {
		r = fail(e, -EBADMSG, "layer options: 'cipheroptions' must hold the nonce");
		goto out;
	}
	r = b64_member(co, "layer options.cipheroptions", "nonce", k->nonce, sizeof(k->nonce), e);
out:
	/* jansson copied the base64 of the key: wipe it before the object goes. */
	if (o) {
		json_t *s = json_object_get(o, "symkey");

		if (json_is_string(s))
			explicit_bzero((char *)json_string_value(s), json_string_length(s));
	}
	return r;
}

static int try_jwe(const json_t *ann, const struct ocicrypt_keys *keys, struct ocicrypt_key *k,
		   struct vjson_err *e)
{
	EVP_PKEY *pk[OCICRYPT_KEYS_MAX];
	_cleanup_free_ uint8_t *raw = NULL;
	_cleanup_(secmem_freep) uint8_t *pt = NULL;
	size_t n = 0, ptl = 0, np = 0;
	int r;

	r = b64_annotation(ann, OCICRYPT_ANN_JWE, &raw, &n, e);
	if (r < 0)
		return r;
	if (!keys || !keys->n_jwe_keys)
		return fail(e, -ENOKEY, "no private key was released for the layer's JWE recipients");
	for (size_t i = 0; i < keys->n_jwe_keys && np < OCICRYPT_KEYS_MAX; i++) {
		if (launcher_ocicrypt_load_key(keys->jwe_keys[i].data, keys->jwe_keys[i].len,
					       &pk[np]) == 0)
			np++;
	}
	if (!np)
		return fail(e, -ENOKEY, "none of the released keys is a private key");
	r = launcher_ocicrypt_jwe_decrypt((const char *)raw, n, pk, np, &pt, &ptl, e);
	for (size_t i = 0; i < np; i++)
		EVP_PKEY_free(pk[i]);
	if (r < 0)
		return r;
	return parse_privopts(pt, ptl, k, e);
}

int launcher_ocicrypt_kid(const json_t *annotations, char **ret, struct vjson_err *e)
{
	static const char *const keys[] = { "kid", "wrapped_data", "iv", "wrap_type",
					    "provider", "provider_settings", "annotations", NULL };
	_cleanup_(json_decrefp) json_t *o = NULL;
	_cleanup_free_ uint8_t *raw = NULL;
	const char *kid, *prov = NULL;
	size_t n;
	int r;

	*ret = NULL;
	r = b64_annotation(annotations, OCICRYPT_ANN_COCO, &raw, &n, e);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (vjson_parse((const char *)raw, n, OCICRYPT_OPTS_MAX, 4, &o, e) < 0 ||
	    !json_is_object(o) || vjson_check_keys(o, "annotation packet", keys, e) < 0)
		return fail(e, -EBADMSG, "'%s': %s", OCICRYPT_ANN_COCO, e->msg);
	if (vjson_get_string_opt(o, "annotation packet", "provider", 64, &prov, e) < 0 ||
	    (prov && strcmp(prov, "kbs")))
		return fail(e, -EOPNOTSUPP, "annotation packet: only the 'kbs' provider is supported");
	if (vjson_get_string(o, "annotation packet", "kid", 1024, &kid, e) < 0 ||
	    strncmp(kid, "kbs://", 6))
		return fail(e, -EBADMSG, "annotation packet: 'kid' must be a kbs:// URI");
	*ret = strdup(kid);
	return *ret ? 0 : -ENOMEM;
}

static int try_coco(const json_t *ann, const struct ocicrypt_keys *keys, struct ocicrypt_key *k,
		    struct vjson_err *e)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	_cleanup_free_ uint8_t *raw = NULL, *wrapped = NULL;
	_cleanup_free_ char *kid = NULL;
	_cleanup_(secmem_freep) uint8_t *kek = NULL, *pt = NULL;
	uint8_t iv[GCM_IV_LEN];
	const char *wt, *wd;
	size_t n, wl = 0, kl = 0;
	EVP_CIPHER_CTX *c;
	int r, o1 = 0, o2 = 0;

	r = launcher_ocicrypt_kid(ann, &kid, e);
	if (r < 0)
		return r;
	if (!kid)
		return -ENOENT;
	r = b64_annotation(ann, OCICRYPT_ANN_COCO, &raw, &n, e);
	if (r < 0 || vjson_parse((const char *)raw, n, OCICRYPT_OPTS_MAX, 4, &o, e) < 0)
		return -EBADMSG;
	if (vjson_get_string(o, "annotation packet", "wrap_type", 32, &wt, e) < 0)
		return fail(e, -EBADMSG, "annotation packet: 'wrap_type' missing");
	if (strcmp(wt, "A256GCM"))
		return fail(e, -EOPNOTSUPP, "annotation packet: wrap_type '%.32s' (only A256GCM)",
			    wt);
	r = b64_member(o, "annotation packet", "iv", iv, sizeof(iv), e);
	if (r < 0)
		return r;
	if (vjson_get_string(o, "annotation packet", "wrapped_data", OCICRYPT_ANN_MAX, &wd, e) < 0 ||
	    b64_decode(wd, strlen(wd), &wrapped, &wl) < 0 || wl <= GCM_TAG_LEN ||
	    wl > OCICRYPT_OPTS_MAX)
		return fail(e, -EBADMSG, "annotation packet: 'wrapped_data' must be base64 of a "
			    "sealed layer options object");
	if (!keys || !keys->kbs_get)
		return fail(e, -ENOKEY, "no KBS key lookup for '%.200s'", kid);
	r = keys->kbs_get(keys->kbs_ctx, kid, &kek, &kl);
	if (r < 0)
		return fail(e, -ENOKEY, "the KBS resource '%.200s' was not released", kid);
	if (kl != KEK_LEN)
		return fail(e, -ENOKEY, "the KBS resource '%.200s' is not a 32-byte key", kid);
	pt = secmem_alloc(wl);
	c = EVP_CIPHER_CTX_new();
	if (!pt || !c) {
		EVP_CIPHER_CTX_free(c);
		return -ENOMEM;
	}
	if (!EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, GCM_IV_LEN, NULL) ||
	    !EVP_DecryptInit_ex(c, NULL, NULL, kek, iv) ||
	    !EVP_DecryptUpdate(c, pt, &o1, wrapped, (int)(wl - GCM_TAG_LEN)) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN,
				 wrapped + wl - GCM_TAG_LEN) ||
	    EVP_DecryptFinal_ex(c, pt + o1, &o2) <= 0) {
		EVP_CIPHER_CTX_free(c);
		ERR_clear_error();
		return fail(e, -ENOKEY, "the key '%.200s' does not open the annotation packet", kid);
	}
	EVP_CIPHER_CTX_free(c);
	return parse_privopts(pt, (size_t)(o1 + o2), k, e);
}

int launcher_ocicrypt_key(const json_t *annotations, const struct ocicrypt_keys *keys,
			  struct ocicrypt_key **ret, struct vjson_err *e)
{
	struct ocicrypt_key *k;
	struct vjson_err e2 = { { 0 } };
	int r, r2;

	if (!json_is_object(annotations))
		return fail(e, -EBADMSG, "encrypted layer without annotations");
	k = secmem_alloc(sizeof(*k));
	if (!k)
		return -ENOMEM;
	r = parse_pubopts(annotations, k->hmac, e);
	if (r < 0)
		goto bad;
	r = try_jwe(annotations, keys, k, e);
	if (r == 0)
		goto good;
	if (r != -ENOENT && r != -ENOKEY)
		goto bad;
	r2 = try_coco(annotations, keys, k, &e2);
	if (r2 == 0)
		goto good;
	if (r2 != -ENOENT) {
		r = r2;
		memcpy(e, &e2, sizeof(e2));
	} else if (r == -ENOENT) {
		r = fail(e, -EBADMSG, "encrypted layer has no wrapped key ('%s' or '%s')",
			 OCICRYPT_ANN_JWE, OCICRYPT_ANN_COCO);
	}
	/* Either way the key is missing: never a plaintext fallback. */
bad:
	secmem_free(k);
	return r;
good:
	*ret = k;
	return 0;
}

void launcher_ocicrypt_key_free(struct ocicrypt_key *k)
{
	secmem_free(k);
}

int launcher_ocicrypt_stream_new(const struct ocicrypt_key *k, struct ocicrypt_stream **ret)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	struct ocicrypt_stream *s = calloc(1, sizeof(*s));
	EVP_MAC *mac = NULL;

	if (!s)
		return -ENOMEM;
	s->ctr = EVP_CIPHER_CTX_new();
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac)
		s->mac = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (!s->ctr || !s->mac ||
	    !EVP_DecryptInit_ex(s->ctr, EVP_aes_256_ctr(), NULL, k->key, k->nonce) ||
	    !EVP_MAC_init(s->mac, k->key, sizeof(k->key), params)) {
		launcher_ocicrypt_stream_free(s);
		ERR_clear_error();
		return -ENOMEM;
	}
	memcpy(s->want, k->hmac, sizeof(s->want));
	*ret = s;
	return 0;
}

int launcher_ocicrypt_stream_update(struct ocicrypt_stream *s, const uint8_t *in, uint8_t *out,
				    size_t n)
{
	while (n) {
		int chunk = n > (1u << 30) ? 1 << 30 : (int)n, o = 0;

		if (!EVP_MAC_update(s->mac, in, (size_t)chunk) ||
		    !EVP_DecryptUpdate(s->ctr, out, &o, in, chunk) || o != chunk)
			return -EIO;
		in += chunk;
		out += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

int launcher_ocicrypt_stream_final(struct ocicrypt_stream *s)
{
	uint8_t got[32];
	size_t n = 0;
	int r;

	if (!EVP_MAC_final(s->mac, got, &n, sizeof(got)) || n != sizeof(got))
		return -EIO;
	r = CRYPTO_memcmp(got, s->want, sizeof(got)) ? -EBADMSG : 0;
	explicit_bzero(got, sizeof(got));
	return r;
}

void launcher_ocicrypt_stream_free(struct ocicrypt_stream *s)
{
	if (!s)
		return;
	EVP_CIPHER_CTX_free(s->ctr);	/* OpenSSL wipes the key schedule */
	EVP_MAC_CTX_free(s->mac);
	free(s);
}
