// SPDX-License-Identifier: GPL-2.0-only
#include "kbs/token.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest/jwk.h"
#include "attest/jws.h"
#include "kbs/proto.h"
#include "lib/errbuf.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/fd.h"

static int load_chain(const char *path, EVP_PKEY *key, json_t **ret, char *err, size_t err_len)
{
	_cleanup_free_ char *pem = NULL;
	json_t *x5c = json_array();
	size_t len;
	BIO *bio;
	X509 *c;
	int r;

	if (!x5c)
		return -ENOMEM;
	r = fd_read_file(path, 1 << 20, &pem, &len);
	if (r < 0) {
		json_decref(x5c);
		return errbuf_set(err, err_len, r, "Failed to read '%s': %s", path, strerror(-r));
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	while (bio && (c = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		unsigned char *der = NULL;
		char *b64;
		int n;

		if (json_array_size(x5c) == 0 && EVP_PKEY_eq(X509_get0_pubkey(c), key) != 1) {
			X509_free(c);
			r = errbuf_set(err, err_len, -EINVAL, "'%s': the first certificate is not the signer's", path);
			break;
		}
		n = i2d_X509(c, &der);
		X509_free(c);
		if (n <= 0 || b64_encode(der, (size_t)n, &b64) < 0) {
			OPENSSL_free(der);
			r = -ENOMEM;
			break;
		}
		OPENSSL_free(der);
		json_array_append_new(x5c, json_string(b64));
		free(b64);
	}
	BIO_free(bio);
	if (r == 0 && json_array_size(x5c) == 0)
		r = errbuf_set(err, err_len, -EINVAL, "'%s' holds no PEM certificate", path);
	if (r < 0) {
		json_decref(x5c);
		return r;
	}
	*ret = x5c;
	return 0;
}

int kbs_token_signer_init(struct kbs_token_signer *s, const char *key_path, const char *chain_path,
			  char *err, size_t err_len)
{
	json_t *x5c = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	if (key_path) {
		r = attest_key_load_pem(key_path, &s->key);
		if (r < 0)
			return errbuf_set(err, err_len, r, "Failed to load the token key '%s': %s", key_path,
				    strerror(-r));
	} else {
		s->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if (!s->key)
			return -ENOMEM;
	}
	if (!attest_jws_alg(s->key) || strcmp(attest_jws_alg(s->key), "ES256") != 0) {
		kbs_token_signer_done(s);
		return errbuf_set(err, err_len, -EINVAL, "the token key is not an EC P-256 key");
	}
	s->jwk = attest_jwk_from_key(s->key, "ES256");
	if (!s->jwk) {
		kbs_token_signer_done(s);
		return -ENOMEM;
	}
	if (chain_path) {
		r = load_chain(chain_path, s->key, &x5c, err, err_len);
		if (r < 0) {
			kbs_token_signer_done(s);
			return r;
		}
		json_object_set_new(s->jwk, "x5c", x5c);
	}
	return 0;
}

void kbs_token_signer_done(struct kbs_token_signer *s)
{
	EVP_PKEY_free(s->key);
	json_decref(s->jwk);
	memset(s, 0, sizeof(*s));
}

/* AR4SI trustworthiness vector: the tier the status names, in every claim. */
static json_t *trust_vector(const char *status)
{
	int v = strcmp(status, "affirming") == 0 ? 2 : strcmp(status, "warning") == 0 ? 32 :
		strcmp(status, "contraindicated") == 0 ? 96 : 0;

	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "instance-identity", v,
			 "configuration", v, "executables", v, "file-system", 0, "hardware", v,
			 "runtime-opaque", 0, "storage-opaque", 0, "sourced-data", 0);
}

int kbs_token_issue(const struct kbs_token_signer *s, const struct kbs_token_input *in, char **ret)
{
	json_t *hdr, *ev, *claims;
	const json_t *rd;
	int r;

	ev = json_pack("{s:O, s:O}", in->tee, in->tee_claims, "runtime_data_claims", in->runtime_data);
	if (!ev)
		return -ENOMEM;
	/* Trustee moves report_data and init_data out of the TEE claims. */
	rd = json_object_get(in->tee_claims, "report_data");
	if (rd) {
		json_object_set(ev, "report_data", (json_t *)rd);
		json_object_del(json_object_get(ev, in->tee), "report_data");
	}
	rd = json_object_get(in->tee_claims, "init_data");
	if (rd) {
		json_object_set(ev, "init_data", (json_t *)rd);
		json_object_del(json_object_get(ev, in->tee), "init_data");
	}
	if (in->init_data_toml)
		json_object_set_new(ev, "init_data_claims", json_pack("{s:s}", "toml", in->init_data_toml));
	claims = json_pack("{s:s, s:I, s:I, s:s, s:{s:s, s:s}, s:{s:{s:s, s:o, s:s, s:o}}}",
			   "eat_profile", KBS_TOKEN_PROFILE, "iat", (json_int_t)in->now, "exp",
			   (json_int_t)(in->now + in->lifetime), "iss", KBS_TOKEN_ISSUER,
			   "ear.verifier-id", "developer", "https://confidentialcontainers.org",
			   "build", "veil-kbs", "submods", "cpu0", "ear.status", in->status,
			   "ear.trustworthiness-vector", trust_vector(in->status),
			   "ear.appraisal-policy-id", "default", "ear.veraison.annotated-evidence", ev);
	if (!claims)
		return -ENOMEM;
	hdr = json_pack("{s:s, s:s, s:O}", "typ", "JWT", "alg", "ES256", "jwk", s->jwk);
	r = hdr ? attest_jws_sign(s->key, hdr, claims, ret) : -ENOMEM;
	json_decref(hdr);
	json_decref(claims);
	return r;
}

int kbs_token_verify(const struct kbs_token_signer *s, const char *jwt, size_t len, int64_t now,
		     json_t **ret_claims, char *err, size_t err_len)
{
	json_t *hdr = NULL, *claims = NULL, *jwk, *exp, *iat;
	int r;

	r = attest_jws_verify(jwt, len, s->key, &hdr, &claims, err, err_len);
	if (r < 0)
		return r;
	jwk = json_object_get(hdr, "jwk");
	if (!jwk || !json_equal(json_object_get(jwk, "x"), json_object_get(s->jwk, "x")) ||
	    !json_equal(json_object_get(jwk, "y"), json_object_get(s->jwk, "y"))) {
		r = errbuf_set(err, err_len, -EKEYREJECTED, "the token's 'jwk' is not this KBS's signer");
		goto out;
	}
	exp = json_object_get(claims, "exp");
	iat = json_object_get(claims, "iat");
	if (!json_is_integer(exp) || !json_is_integer(iat)) {
		r = errbuf_set(err, err_len, -EBADMSG, "the token lacks integer 'exp' and 'iat'");
		goto out;
	}
	if (json_integer_value(exp) <= now) {
		r = errbuf_set(err, err_len, -ETIMEDOUT, "the token expired");
		goto out;
	}
	if (json_integer_value(iat) > now + 60) {
		r = errbuf_set(err, err_len, -EKEYREJECTED, "the token is issued in the future");
		goto out;
	}
	if (!kbs_token_evidence(claims) || !kbs_token_tee(claims)) {
		r = errbuf_set(err, err_len, -EBADMSG, "the token has no annotated evidence");
		goto out;
	}
	*ret_claims = json_incref(claims);
	r = 0;
out:
	json_decref(hdr);
	json_decref(claims);
	return r;
}

static const json_t *cpu0(const json_t *claims)
{
	return json_object_get(json_object_get(claims, "submods"), "cpu0");
}

const json_t *kbs_token_evidence(const json_t *claims)
{
	const json_t *ev = json_object_get(cpu0(claims), "ear.veraison.annotated-evidence");

	return json_is_object(ev) ? ev : NULL;
}

const char *kbs_token_status(const json_t *claims)
{
	return json_string_value(json_object_get(cpu0(claims), "ear.status"));
}

const char *kbs_token_tee(const json_t *claims)
{
	const json_t *ev = kbs_token_evidence(claims);
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)ev, k, v)
		if (kbs_tee_known(k))
			return k;
	return NULL;
}
