/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small HTTP client over libcurl for veil's clients (the RCAR client in
 * veil-init, tools): HTTPS with a pinned CA file, connect and total timeouts,
 * a cookie jar kept per client (the KBS session cookie), and a cap on every
 * response body. No redirects, no proxies from the environment.
 */
#ifndef VEIL_LIB_HTTP_H
#define VEIL_LIB_HTTP_H

#include <stddef.h>

#define HTTP_BODY_MAX_DEFAULT (4u << 20)

struct http_opts {
	const char *ca_file;		/* pinned CA bundle (PEM); NULL: system store */
	long connect_timeout_ms;	/* 0: 5000 */
	long timeout_ms;		/* whole request; 0: 30000 */
	size_t max_body;		/* 0: HTTP_BODY_MAX_DEFAULT */
};

struct http_client;

struct http_response {
	long status;
	char *body;			/* malloc'd, NUL-terminated */
	size_t body_len;
};

int http_client_new(const struct http_opts *opts, struct http_client **ret);
void http_client_free(struct http_client *c);

/*
 * One request. body may be NULL (GET/DELETE). content_type and bearer may be
 * NULL. 0 with *ret filled for any HTTP status; -ECONNREFUSED, -ETIMEDOUT,
 * -EHOSTUNREACH, -EPROTO (TLS or protocol), -EFBIG (body over the cap).
 */
int http_request(struct http_client *c, const char *method, const char *url, const void *body,
		 size_t body_len, const char *content_type, const char *bearer,
		 struct http_response *ret);
void http_response_done(struct http_response *r);

#endif
