/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small RCAR client over libcurl for veil-kbs's tests and benchmark: real
 * HTTPS, the server's CA pinned, a cookie store per client as the reference
 * client keeps one.
 */
#ifndef VEIL_TESTS_KBS_CLIENT_H
#define VEIL_TESTS_KBS_CLIENT_H

#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

struct kc {
	CURL *h;
	char base[128];
};

struct kc_resp {
	long status;
	char *body;
	size_t len;
	char cookie[160];	/* the Set-Cookie value, if any */
	char ctype[64];
};

/* base "https://127.0.0.1:PORT"; cacert NULL for plain HTTP. */
int kc_init(struct kc *c, const char *base, const char *cacert);
void kc_done(struct kc *c);
/* Drops the cookie store (a new client identity). */
void kc_forget_cookies(struct kc *c);

/* method "GET"/"POST"/...; bearer (may be NULL) goes in Authorization. 0 or -EIO. */
int kc_request(struct kc *c, const char *method, const char *path, const char *ctype,
	       const void *body, size_t len, const char *bearer, struct kc_resp *ret);
void kc_resp_done(struct kc_resp *r);
/* The ErrorInformation type suffix of an error reply ("" when there is none). */
const char *kc_error_type(const struct kc_resp *r, char *buf, size_t len);

/* /auth for tee; 0 and the nonce (malloc'd). */
int kc_auth(struct kc *c, const char *tee, char **ret_nonce);
/* The /attest body for sample evidence bound to nonce and key (bind_nonce may differ to forge). */
char *kc_sample_attestation(const char *nonce, const char *bind_nonce, EVP_PKEY *key);
/* Full handshake with sample evidence; 0 and the token (malloc'd). */
int kc_rcar_sample(struct kc *c, EVP_PKEY *key, char **ret_token);
/* GET a resource and decrypt it with key; 0 and the plaintext (secmem), else -status. */
int kc_get_resource(struct kc *c, const char *path, const char *bearer, EVP_PKEY *key,
		    unsigned char **ret, size_t *ret_len);

#endif
