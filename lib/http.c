// SPDX-License-Identifier: GPL-2.0-only
#include "lib/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_client {
	CURL *curl;
	struct http_opts opts;
};

struct sink {
	char *buf;
	size_t len, cap, max;
	int overflow;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_data(char *p, size_t size, size_t n, void *userdata)
{
	struct sink *s = userdata;
	size_t len = size * n;

	if (s->len + len > s->max) {
		s->overflow = 1;
		return 0;	/* aborts the transfer */
	}
	if (s->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *nb;

		while (cap < s->len + len + 1)
			cap *= 2;
		nb = realloc(s->buf, cap);
		if (!nb)
			return 0;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return len;
}

int http_client_new(const struct http_opts *opts, struct http_client **ret)
{
	struct http_client *c;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (opts)
		c->opts = *opts;
	if (!c->opts.connect_timeout_ms)
		c->opts.connect_timeout_ms = 5000;
	if (!c->opts.timeout_ms)
		c->opts.timeout_ms = 30000;
	if (!c->opts.max_body)
		c->opts.max_body = HTTP_BODY_MAX_DEFAULT;
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		return -ENOMEM;
	}
	/* An empty cookie file turns the per-handle cookie engine on. */
	curl_easy_setopt(c->curl, CURLOPT_COOKIEFILE, "");
	*ret = c;
	return 0;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

static int curl_to_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_WRITE_ERROR:
		return -EFBIG;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
		return -EKEYREJECTED;
	default:
		return -EPROTO;
	}
}

int http_request(struct http_client *c, const char *method, const char *url, const void *body,
		 size_t body_len, const char *content_type, const char *bearer,
		 struct http_response *ret)
{
	struct curl_slist *hdrs = NULL;
	struct sink s = { .max = c->opts.max_body };
	char line[8192];
	CURLcode rc;
	CURL *h = c->curl;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	/* One handle per client, so the cookie engine keeps the session; options are set anew each time. */
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	if (strcmp(method, body ? "POST" : "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->opts.timeout_ms);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->opts.ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->opts.ca_file);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "veil");
	if (content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", content_type);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (bearer) {
		if (snprintf(line, sizeof(line), "Authorization: Bearer %s", bearer) >= (int)sizeof(line))
			return -E2BIG;
		hdrs = curl_slist_append(hdrs, line);
	}
	/* No "Expect: 100-continue" round trip for large bodies. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

	rc = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hdrs);
	/* The bearer token was on the stack; wipe our copy of the header line. */
	explicit_bzero(line, sizeof(line));
	if (rc != CURLE_OK) {
		r = s.overflow ? -EFBIG : curl_to_errno(rc);
		free(s.buf);
		return r;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ret->status);
	if (!s.buf) {
		s.buf = calloc(1, 1);
		if (!s.buf)
			return -ENOMEM;
	}
	ret->body = s.buf;
	ret->body_len = s.len;
	return 0;
}

void http_response_done(struct http_response *r)
{
	free(r->body);
	r->body = NULL;
}
