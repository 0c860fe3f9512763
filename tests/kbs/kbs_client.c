// SPDX-License-Identifier: GPL-2.0-only
#include "tests/kbs/kbs_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attest/binding.h"
#include "attest/jwe.h"
#include "attest/jwk.h"
#include "lib/base64.h"

int kc_init(struct kc *c, const char *base, const char *cacert)
{
	memset(c, 0, sizeof(*c));
	c->h = curl_easy_init();
	if (!c->h)
		return -ENOMEM;
	snprintf(c->base, sizeof(c->base), "%s", base);
	curl_easy_setopt(c->h, CURLOPT_COOKIEFILE, "");
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_USERAGENT, "veil-kbs-test");
	if (cacert)
		curl_easy_setopt(c->h, CURLOPT_CAINFO, cacert);
	return 0;
}

void kc_done(struct kc *c)
{
	if (c->h)
		curl_easy_cleanup(c->h);
	c->h = NULL;
}

void kc_forget_cookies(struct kc *c)
{
	curl_easy_setopt(c->h, CURLOPT_COOKIELIST, "ALL");
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct kc_resp *r = ud;
	char *nb = realloc(r->body, r->len + size * n + 1);

	if (!nb)
		return 0;
	memcpy(nb + r->len, p, size * n);
	r->body = nb;
	r->len += size * n;
	r->body[r->len] = 0;
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct kc_resp *r = ud;
	size_t len = size * n;

	if (len > 12 && strncasecmp(p, "Set-Cookie: ", 12) == 0)
		snprintf(r->cookie, sizeof(r->cookie), "%.*s", (int)(len - 12 - 2), p + 12);
	if (len > 14 && strncasecmp(p, "Content-Type: ", 14) == 0)
		snprintf(r->ctype, sizeof(r->ctype), "%.*s", (int)(len - 14 - 2), p + 14);
	return len;
}

int kc_request(struct kc *c, const char *method, const char *path, const char *ctype,
	       const void *body, size_t len, const char *bearer, struct kc_resp *ret)
{
	struct curl_slist *hdrs = NULL;
	char url[4096], line[8192];
	CURLcode rc;

	memset(ret, 0, sizeof(*ret));
	snprintf(url, sizeof(url), "%s%s", c->base, path);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	}
	snprintf(line, sizeof(line), "Content-Type: %s", ctype ? ctype : "application/json");
	if (body)
		hdrs = curl_slist_append(hdrs, line);
	/* Large bodies keep curl's "Expect: 100-continue", so a refusal comes before the upload. */
	if (len < (1u << 20))
		hdrs = curl_slist_append(hdrs, "Expect:");
	if (bearer) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", bearer);
		hdrs = curl_slist_append(hdrs, line);
	}
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, ret);
	curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->h, CURLOPT_HEADERDATA, ret);
	rc = curl_easy_perform(c->h);
	curl_slist_free_all(hdrs);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, NULL);
	if (rc != CURLE_OK) {
		fprintf(stderr, "# curl %s %s: %s\n", method, path, curl_easy_strerror(rc));
		kc_resp_done(ret);
		return -EIO;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &ret->status);
	if (getenv("KBS_CLIENT_TRACE")) {
		double t_conn = 0, t_tls = 0, t_first = 0, t_total = 0;

		curl_easy_getinfo(c->h, CURLINFO_CONNECT_TIME, &t_conn);
		curl_easy_getinfo(c->h, CURLINFO_APPCONNECT_TIME, &t_tls);
		curl_easy_getinfo(c->h, CURLINFO_STARTTRANSFER_TIME, &t_first);
		curl_easy_getinfo(c->h, CURLINFO_TOTAL_TIME, &t_total);
		fprintf(stderr, "trace %s %s: connect %.1f tls %.1f first-byte %.1f total %.1f ms\n", method,
			path, t_conn * 1e3, t_tls * 1e3, t_first * 1e3, t_total * 1e3);
	}
	return 0;
}

void kc_resp_done(struct kc_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

const char *kc_error_type(const struct kc_resp *r, char *buf, size_t len)
{
	static const char ns[] = "https://github.com/confidential-containers/kbs/errors/";
	json_t *o = r->body ? json_loads(r->body, 0, NULL) : NULL;
	const char *t = json_string_value(json_object_get(o, "type"));

	snprintf(buf, len, "%s", t && strncmp(t, ns, sizeof(ns) - 1) == 0 ? t + sizeof(ns) - 1 : "");
	json_decref(o);
	return buf;
}

int kc_auth(struct kc *c, const char *tee, char **ret_nonce)
{
	char body[256];
	struct kc_resp r;
	json_t *o;
	int rc = -EPROTO;

	snprintf(body, sizeof(body),
		 "{\"version\":\"0.4.0\",\"tee\":\"%s\",\"extra-params\":{\"supported-hash-algorithms\":[\"sha384\"]}}",
		 tee);
	if (kc_request(c, "POST", "/kbs/v0/auth", NULL, body, strlen(body), NULL, &r) < 0)
		return -EIO;
	o = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
	if (json_string_value(json_object_get(o, "nonce"))) {
		*ret_nonce = strdup(json_string_value(json_object_get(o, "nonce")));
		rc = *ret_nonce ? 0 : -ENOMEM;
	}
	json_decref(o);
	kc_resp_done(&r);
	return rc;
}

char *kc_sample_attestation(const char *nonce, const char *bind_nonce, EVP_PKEY *key)
{
	uint8_t b[ATTEST_BINDING_LEN];
	json_t *jwk = attest_jwk_from_key(key, NULL), *o;
	char *rd = NULL, *s = NULL;

	if (!jwk || attest_binding(bind_nonce, jwk, "", b) < 0 || b64_encode(b, sizeof(b), &rd) < 0) {
		json_decref(jwk);
		return NULL;
	}
	o = json_pack("{s:n, s:{s:s, s:O}, s:{s:{s:s, s:s}, s:s}}", "init-data", "runtime-data",
		      "nonce", nonce, "tee-pubkey", jwk, "tee-evidence", "primary_evidence", "svn", "1",
		      "report_data", rd, "additional_evidence", "");
	if (o)
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	json_decref(jwk);
	free(rd);
	return s;
}

int kc_rcar_sample(struct kc *c, EVP_PKEY *key, char **ret_token)
{
	char *nonce = NULL, *body;
	struct kc_resp r;
	json_t *o;
	int rc;

	rc = kc_auth(c, "sample", &nonce);
	if (rc < 0)
		return rc;
	body = kc_sample_attestation(nonce, nonce, key);
	free(nonce);
	if (!body)
		return -ENOMEM;
	rc = kc_request(c, "POST", "/kbs/v0/attest", NULL, body, strlen(body), NULL, &r);
	free(body);
	if (rc < 0)
		return rc;
	rc = -EPROTO;
	o = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
	if (json_string_value(json_object_get(o, "token"))) {
		*ret_token = strdup(json_string_value(json_object_get(o, "token")));
		rc = *ret_token ? 0 : -ENOMEM;
	}
	json_decref(o);
	kc_resp_done(&r);
	return rc;
}

int kc_get_resource(struct kc *c, const char *path, const char *bearer, EVP_PKEY *key,
		    unsigned char **ret, size_t *ret_len)
{
	char url[512], err[256];
	struct kc_resp r;
	int rc;

	snprintf(url, sizeof(url), "/kbs/v0/resource/%s", path);
	rc = kc_request(c, "GET", url, NULL, NULL, 0, bearer, &r);
	if (rc < 0)
		return rc;
	if (r.status != 200) {
		rc = -(int)r.status;
		kc_resp_done(&r);
		return rc;
	}
	rc = attest_jwe_decrypt(key, r.body, r.len, ret, ret_len, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "# JWE: %s\n", err);
	kc_resp_done(&r);
	return rc;
}
