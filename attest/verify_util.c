// SPDX-License-Identifier: GPL-2.0-only
#include "attest/verify_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/fd.h"
#include "lib/json.h"

int attest_fail(char *err, size_t err_len, int code, const char *tee, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !err_len)
		return code;
	n = snprintf(err, err_len, "%s evidence: ", tee);
	if (n >= 0 && (size_t)n < err_len) {
		va_start(ap, fmt);
		vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return code;
}

char *attest_hex(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = 0;
	return s;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int unhex_n(const char *s, size_t slen, uint8_t *out)
{
	for (size_t i = 0; i < slen / 2; i++) {
		int a = nibble(s[2 * i]), b = nibble(s[2 * i + 1]);

		if (a < 0 || b < 0)
			return -EINVAL;
		out[i] = (uint8_t)(a << 4 | b);
	}
	return 0;
}

int attest_unhex(const char *s, uint8_t *out, size_t want)
{
	if (!s || strlen(s) != 2 * want)
		return -EINVAL;
	return unhex_n(s, 2 * want, out);
}

int attest_set_hex(json_t *obj, const char *key, const uint8_t *p, size_t n)
{
	char *h = attest_hex(p, n);

	if (!h)
		return -ENOMEM;
	if (json_object_set_new(obj, key, json_string(h)) < 0) {
		free(h);
		return -ENOMEM;
	}
	free(h);
	return 0;
}

int attest_get_bytes(const json_t *obj, const char *where, const char *key, enum attest_enc enc,
		     size_t max, uint8_t **ret, size_t *ret_len, char *msg, size_t msg_len)
{
	/* base64 of max bytes is at most 4*ceil(max/3); hex is 2*max. */
	size_t smax = enc == ATTEST_HEX ? 2 * max : 4 * ((max + 2) / 3);
	struct vjson_err e;
	const char *s;
	uint8_t *out;
	size_t n, slen;
	int r;

	r = vjson_get_string(obj, where, key, smax, &s, &e);
	if (r < 0) {
		snprintf(msg, msg_len, "%s", e.msg);
		return -EBADMSG;
	}
	slen = strlen(s);
	switch (enc) {
	case ATTEST_HEX:
		if (slen % 2) {
			snprintf(msg, msg_len, "'%s.%s' is not hex", where, key);
			return -EBADMSG;
		}
		out = malloc(slen / 2 + 1);
		if (!out)
			return -ENOMEM;
		if (unhex_n(s, slen, out) < 0) {
			free(out);
			snprintf(msg, msg_len, "'%s.%s' is not hex", where, key);
			return -EBADMSG;
		}
		n = slen / 2;
		break;
	case ATTEST_B64URL_ANY:
		/* Azure's attester pads its base64url; the alphabet stays strict. */
		while (slen && s[slen - 1] == '=')
			slen--;
		if (b64url_decode(s, slen, &out, &n) < 0) {
			snprintf(msg, msg_len, "'%s.%s' is not base64url", where, key);
			return -EBADMSG;
		}
		break;
	default:
		if (b64_decode(s, slen, &out, &n) < 0) {
			snprintf(msg, msg_len, "'%s.%s' is not base64", where, key);
			return -EBADMSG;
		}
		break;
	}
	if (n > max) {
		free(out);
		snprintf(msg, msg_len, "'%s.%s' is longer than %zu bytes", where, key, max);
		return -EBADMSG;
	}
	*ret = out;
	*ret_len = n;
	return 0;
}

int attest_trust_read(const struct attest_verify_opts *opts, const char *rel, uint8_t **ret,
		      size_t *ret_len)
{
	char path[4096];
	char *buf;
	int r;

	if (!opts || !opts->trust_dir)
		return -ENOENT;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", opts->trust_dir, rel) >= sizeof(path))
		return -ENAMETOOLONG;
	r = fd_read_file(path, ATTEST_TRUST_FILE_MAX, &buf, ret_len);
	if (r < 0)
		return r;
	*ret = (uint8_t *)buf;
	return 0;
}
