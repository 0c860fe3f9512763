// SPDX-License-Identifier: GPL-2.0-only
#include "attest/rcar.h"

#include <errno.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/binding.h"
#include "attest/jwe.h"
#include "attest/jwk.h"
#include "lib/errbuf.h"
#include "lib/cleanup.h"
#include "lib/http.h"
#include "lib/json.h"
#include "lib/secmem.h"

#define RCAR_RESPONSE_JSON_MAX (64u << 10)

struct rcar_client {
	struct rcar_opts opts;
	struct http_client *http;
	EVP_PKEY *key;			/* ephemeral; the JWE recipient */
	json_t *tee_pubkey;
	char *token;
	struct rcar_stats stats;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int rcar_new(const struct rcar_opts *opts, struct rcar_client **ret)
{
	struct http_opts ho = { 0 };
	struct rcar_client *c;
	int r;

	if (!opts->url || !opts->tee)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->opts = *opts;
	if (!c->opts.connect_timeout_ms)
		c->opts.connect_timeout_ms = 3000;
	if (!c->opts.request_timeout_ms)
		c->opts.request_timeout_ms = 10000;
	if (!c->opts.deadline_ms)
		c->opts.deadline_ms = 60000;
	if (!c->opts.backoff_ms)
		c->opts.backoff_ms = 200;
	ho.ca_file = opts->ca_file;
	ho.connect_timeout_ms = c->opts.connect_timeout_ms;
	ho.timeout_ms = c->opts.request_timeout_ms;
	ho.max_body = ATTEST_JWE_MAX;
	r = http_client_new(&ho, &c->http);
	if (r < 0) {
		free(c);
		return r;
	}
	/* The key that unwraps resources: fresh per client, kept only in memory. */
	c->key = EVP_EC_gen("P-256");
	c->tee_pubkey = c->key ? attest_jwk_from_key(c->key, ATTEST_JWE_ALG_ECDH) : NULL;
	if (!c->tee_pubkey) {
		rcar_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

static void forget_token(struct rcar_client *c)
{
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
		c->token = NULL;
	}
}

void rcar_free(struct rcar_client *c)
{
	if (!c)
		return;
	forget_token(c);
	json_decref(c->tee_pubkey);
	EVP_PKEY_free(c->key);
	http_client_free(c->http);
	free(c);
}

const struct rcar_stats *rcar_stats(const struct rcar_client *c)
{
	return &c->stats;
}

/* Copies a KBS ErrorInformation body (or a short excerpt of anything else) into err. */
static int kbs_error(const struct http_response *resp, const char *what, char *err, size_t err_len,
		     int r)
{
	struct vjson_err e;
	json_t *v = NULL;
	const char *type = NULL, *detail = NULL;

	if (vjson_parse(resp->body, resp->body_len, RCAR_RESPONSE_JSON_MAX, 4, &v, &e) == 0 &&
	    vjson_get_string(v, "", "type", 256, &type, &e) == 0 &&
	    vjson_get_string(v, "", "detail", 1024, &detail, &e) == 0) {
		const char *slash = strrchr(type, '/');

		errbuf_set(err, err_len, r, "%s: HTTP %ld %s: %s", what, resp->status, slash ? slash + 1 : type,
		    detail);
	} else {
		errbuf_set(err, err_len, r, "%s: HTTP %ld with a body that is not ErrorInformation (%zu bytes)",
		    what, resp->status, resp->body_len);
	}
	json_decref(v);
	return r;
}

static bool retryable(int r, long status)
{
	if (r < 0)
		return r == -ECONNREFUSED || r == -ETIMEDOUT || r == -EHOSTUNREACH || r == -EPROTO;
	return status >= 500;
}

/* Sleeps the backoff for attempt n (full jitter), not past the deadline. Returns false at the deadline. */
static bool backoff(const struct rcar_client *c, unsigned int n, double deadline)
{
	double base = c->opts.backoff_ms / 1000.0 * (double)(1u << (n < 10 ? n : 10));
	unsigned int rnd = 0;
	double left = deadline - now_s(), delay;
	struct timespec ts;

	if (left <= 0)
		return false;
	RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
	delay = base / 2 + base / 2 * (rnd / (double)UINT32_MAX);
	if (delay > left)
		delay = left;
	ts.tv_sec = (time_t)delay;
	ts.tv_nsec = (long)((delay - ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
	return now_s() < deadline;
}

static int post_json(struct rcar_client *c, const char *path, json_t *body,
		     struct http_response *resp)
{
	_cleanup_free_ char *text = json_dumps(body, JSON_COMPACT);
	char url[2048];
	double t0 = now_s();
	int r;

	if (!text)
		return -ENOMEM;
	if (snprintf(url, sizeof(url), "%s%s", c->opts.url, path) >= (int)sizeof(url))
		return -ENAMETOOLONG;
	r = http_request(c->http, "POST", url, text, strlen(text), "application/json", NULL, resp);
	c->stats.network_s += now_s() - t0;
	return r;
}

/* One /auth + /attest exchange, no retries. */
static int attest_once(struct rcar_client *c, char *err, size_t err_len)
{
	uint8_t binding[ATTEST_BINDING_LEN];
	struct http_response resp = { 0 };
	struct vjson_err e;
	const char *nonce, *token;
	json_t *req, *challenge = NULL, *evidence = NULL, *reply = NULL;
	double t0;
	int r;

	req = json_pack("{s:s, s:s, s:{s:[s,s,s]}}", "version", RCAR_PROTOCOL_VERSION, "tee",
			c->opts.tee, "extra-params", "supported-hash-algorithms", "sha256", "sha384",
			"sha512");
	if (!req)
		return -ENOMEM;
	r = post_json(c, "/kbs/v0/auth", req, &resp);
	json_decref(req);
	if (r < 0)
		return errbuf_set(err, err_len, r, "KBS '%s' /auth: %s", c->opts.url, strerror(-r));
	if (resp.status != 200) {
		r = kbs_error(&resp, "/auth", err, err_len, resp.status >= 500 ? -EAGAIN : -EACCES);
		goto out;
	}
	if (vjson_parse(resp.body, resp.body_len, RCAR_RESPONSE_JSON_MAX, 4, &challenge, &e) < 0 ||
	    vjson_get_string(challenge, "", "nonce", RCAR_NONCE_MAX, &nonce, &e) < 0) {
		r = errbuf_set(err, err_len, -EBADMSG, "/auth: malformed challenge: %s", e.msg);
		goto out;
	}
	if (!*nonce) {
		r = errbuf_set(err, err_len, -EBADMSG, "/auth: empty nonce");
		goto out;
	}
	r = attest_binding(nonce, c->tee_pubkey, "", binding);
	if (r < 0)
		goto out;
	t0 = now_s();
	r = attest_evidence_collect(c->opts.tee, binding, c->opts.evidence, &evidence, err, err_len);
	c->stats.evidence_s += now_s() - t0;
	if (r < 0)
		goto out;
	req = json_pack("{s:{s:s, s:O}, s:{s:O, s:s}}", "runtime-data", "nonce", nonce,
			"tee-pubkey", c->tee_pubkey, "tee-evidence", "primary_evidence", evidence,
			"additional_evidence", "");
	if (req && c->opts.initdata &&
	    json_object_set_new(req, "init-data",
				json_pack("{s:s, s:s}", "format", "toml", "body", c->opts.initdata)) < 0) {
		json_decref(req);
		req = NULL;
	}
	if (!req) {
		r = -ENOMEM;
		goto out;
	}
	http_response_done(&resp);
	r = post_json(c, "/kbs/v0/attest", req, &resp);
	json_decref(req);
	if (r < 0) {
		r = errbuf_set(err, err_len, r, "KBS '%s' /attest: %s", c->opts.url, strerror(-r));
		goto out;
	}
	if (resp.status != 200) {
		r = kbs_error(&resp, "/attest", err, err_len, resp.status >= 500 ? -EAGAIN : -EACCES);
		goto out;
	}
	if (vjson_parse(resp.body, resp.body_len, RCAR_TOKEN_MAX + 1024, 4, &reply, &e) < 0 ||
	    vjson_get_string(reply, "", "token", RCAR_TOKEN_MAX, &token, &e) < 0) {
		r = errbuf_set(err, err_len, -EBADMSG, "/attest: malformed reply: %s", e.msg);
		goto out;
	}
	forget_token(c);
	c->token = strdup(token);
	r = c->token ? 0 : -ENOMEM;
	c->stats.attestations++;
out:
	http_response_done(&resp);
	json_decref(challenge);
	json_decref(evidence);
	json_decref(reply);
	return r;
}

static int attest_until(struct rcar_client *c, double deadline, char *err, size_t err_len)
{
	for (unsigned int n = 0;; n++) {
		int r = attest_once(c, err, err_len);

		c->stats.attempts++;
		/* -EAGAIN: the KBS answered 5xx. Evidence and protocol errors are final. */
		if (r == 0 || !(r == -EAGAIN || retryable(r, 0)))
			return r;
		if (!backoff(c, n, deadline)) {
			char last[RCAR_ERR_MAX];

			snprintf(last, sizeof(last), "%s", err && *err ? err : strerror(-r));
			return errbuf_set(err, err_len, -ETIMEDOUT,
				   "attestation deadline of %ld ms passed; last error: %s",
				   c->opts.deadline_ms, last);
		}
	}
}

int rcar_attest(struct rcar_client *c, char *err, size_t err_len)
{
	if (err && err_len)
		*err = '\0';
	return attest_until(c, now_s() + c->opts.deadline_ms / 1000.0, err, err_len);
}

static bool valid_segment(const char *s, size_t n)
{
	if (n == 0 || n > 128 || (n <= 2 && s[0] == '.' && (n == 1 || s[1] == '.')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static bool valid_resource_path(const char *path)
{
	const char *p = path;

	for (int i = 0; i < 3; i++) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (!valid_segment(p, n) || (i < 2) != (end != NULL))
			return false;
		p = end ? end + 1 : p + n;
	}
	return true;
}

int rcar_get_resource(struct rcar_client *c, const char *path, uint8_t **ret, size_t *ret_len,
		      char *err, size_t err_len)
{
	double deadline = now_s() + c->opts.deadline_ms / 1000.0;
	bool reattested = false;
	char url[2048];
	int r;

	if (err && err_len)
		*err = '\0';
	if (!valid_resource_path(path))
		return errbuf_set(err, err_len, -EINVAL, "invalid resource path '%.200s'", path);
	if (snprintf(url, sizeof(url), "%s/kbs/v0/resource/%s", c->opts.url, path) >=
	    (int)sizeof(url))
		return -ENAMETOOLONG;
	if (!c->token) {
		r = attest_until(c, deadline, err, err_len);
		if (r < 0)
			return r;
	}
	for (unsigned int n = 0;; n++) {
		struct http_response resp = { 0 };
		double t0 = now_s();

		r = http_request(c->http, "GET", url, NULL, 0, NULL, c->token, &resp);
		c->stats.network_s += now_s() - t0;
		c->stats.attempts++;
		if (r == 0 && resp.status == 200) {
			t0 = now_s();
			r = attest_jwe_decrypt(c->key, resp.body, resp.body_len, ret, ret_len, err,
					       err_len);
			c->stats.jwe_s += now_s() - t0;
			http_response_done(&resp);
			if (r < 0 && err && err_len) {
				char inner[RCAR_ERR_MAX];

				snprintf(inner, sizeof(inner), "%s", err);
				errbuf_set(err, err_len, r, "resource '%s': JWE rejected: %s", path, inner);
			}
			return r;
		}
		if (r == 0 && resp.status == 404) {
			r = kbs_error(&resp, "resource", err, err_len, -ENOENT);
			http_response_done(&resp);
			return r;
		}
		if (r == 0 && resp.status == 401 && !reattested) {
			/* Token expired or policy changed: attest again, once for this resource. */
			http_response_done(&resp);
			reattested = true;
			r = attest_until(c, deadline, err, err_len);
			if (r < 0)
				return r;
			continue;
		}
		if (r == 0 && !retryable(0, resp.status)) {
			r = kbs_error(&resp, "resource", err, err_len, -EACCES);
			http_response_done(&resp);
			return r;
		}
		if (r < 0)
			errbuf_set(err, err_len, r, "KBS '%s' resource: %s", c->opts.url, strerror(-r));
		else
			kbs_error(&resp, "resource", err, err_len, -EAGAIN);
		http_response_done(&resp);
		if (!backoff(c, n, deadline)) {
			char last[RCAR_ERR_MAX];

			snprintf(last, sizeof(last), "%s", err && *err ? err : "");
			return errbuf_set(err, err_len, -ETIMEDOUT,
				   "resource '%s': deadline of %ld ms passed; last error: %s", path,
				   c->opts.deadline_ms, last);
		}
	}
}
