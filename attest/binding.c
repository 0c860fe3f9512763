// SPDX-License-Identifier: GPL-2.0-only
#include "attest/binding.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/cleanup.h"

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
	char *np;
	size_t ncap;

	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		np = realloc(b->p, ncap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void put_string(struct sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char esc[7];

	put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': put(b, "\\\"", 2); break;
		case '\\': put(b, "\\\\", 2); break;
		case '\b': put(b, "\\b", 2); break;
		case '\f': put(b, "\\f", 2); break;
		case '\n': put(b, "\\n", 2); break;
		case '\r': put(b, "\\r", 2); break;
		case '\t': put(b, "\\t", 2); break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof(esc), "\\u00%c%c", hex[c >> 4], hex[c & 15]);
				put(b, esc, 6);
			} else {
				put(b, (const char *)&s[i], 1);
			}
		}
	}
	put(b, "\"", 1);
}

/* Next UTF-16 code unit sequence of a UTF-8 key (jansson guarantees valid UTF-8). */
static size_t utf16_units(const char *s, uint16_t *out, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p && n + 2 <= max) {
		uint32_t cp;

		if (*p < 0x80) {
			cp = *p++;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = (uint32_t)(*p++ & 0x1f) << 6;
			cp |= *p ? (*p++ & 0x3f) : 0;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = (uint32_t)(*p++ & 0x0f) << 12;
			for (int k = 6; k >= 0; k -= 6)
				cp |= *p ? (uint32_t)(*p++ & 0x3f) << k : 0;
		} else {
			cp = (uint32_t)(*p++ & 0x07) << 18;
			for (int k = 12; k >= 0; k -= 6)
				cp |= *p ? (uint32_t)(*p++ & 0x3f) << k : 0;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			out[n++] = (uint16_t)(0xd800 | (cp >> 10));
			out[n++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
		} else {
			out[n++] = (uint16_t)cp;
		}
	}
	return n;
}

static int key_cmp(const void *a, const void *b)
{
	const char *ka = *(const char *const *)a, *kb = *(const char *const *)b;
	uint16_t ua[128], ub[128];
	size_t na, nb, i;

	/* Pure ASCII (every key the protocol uses): byte order is code-unit order. */
	na = utf16_units(ka, ua, ARRAY_SIZE(ua));
	nb = utf16_units(kb, ub, ARRAY_SIZE(ub));
	for (i = 0; i < na && i < nb; i++)
		if (ua[i] != ub[i])
			return ua[i] < ub[i] ? -1 : 1;
	if (na != nb)
		return na < nb ? -1 : 1;
	return strcmp(ka, kb);
}

static void put_value(struct sbuf *b, const json_t *v, int depth)
{
	char num[32];

	if (b->err)
		return;
	if (depth > 64) {
		b->err = -ELOOP;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		const char **keys;
		const char *k;
		json_t *c;

		keys = calloc(n ? n : 1, sizeof(*keys));
		if (!keys) {
			b->err = -ENOMEM;
			return;
		}
		json_object_foreach((json_t *)v, k, c)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), key_cmp);
		put(b, "{", 1);
		for (i = 0; i < n; i++) {
			if (i)
				put(b, ",", 1);
			put_string(b, keys[i], strlen(keys[i]));
			put(b, ":", 1);
			put_value(b, json_object_get(v, keys[i]), depth + 1);
		}
		put(b, "}", 1);
		free(keys);
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *c;

		put(b, "[", 1);
		json_array_foreach(v, i, c) {
			if (i)
				put(b, ",", 1);
			put_value(b, c, depth + 1);
		}
		put(b, "]", 1);
		break;
	}
	case JSON_STRING:
		put_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER: {
		json_int_t i = json_integer_value(v);

		/* ES6 numbers are doubles: beyond 2^53 the canonical text differs. */
		if (i > (1LL << 53) || i < -(1LL << 53)) {
			b->err = -EDOM;
			return;
		}
		snprintf(num, sizeof(num), "%" PRId64, (int64_t)i);
		put(b, num, strlen(num));
		break;
	}
	case JSON_REAL:
		b->err = -EDOM;
		break;
	case JSON_TRUE:
		put(b, "true", 4);
		break;
	case JSON_FALSE:
		put(b, "false", 5);
		break;
	case JSON_NULL:
		put(b, "null", 4);
		break;
	}
}

int attest_jcs(const json_t *v, char **ret)
{
	struct sbuf b = { 0 };

	if (!v)
		return -EINVAL;
	put_value(&b, v, 0);
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*ret = b.p;
	return 0;
}

int attest_binding(const char *nonce, const json_t *tee_pubkey, const char *additional,
		   uint8_t ret[ATTEST_BINDING_LEN])
{
	_cleanup_free_ char *canon = NULL;
	unsigned int n = 0;
	json_t *o;
	int r;

	if (!nonce || !tee_pubkey)
		return -EINVAL;
	o = json_pack("{s:s, s:O}", "nonce", nonce, "tee-pubkey", tee_pubkey);
	if (!o)
		return -ENOMEM;
	if (additional && json_object_set_new(o, "additional-evidence", json_string(additional)) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	r = attest_jcs(o, &canon);
	json_decref(o);
	if (r < 0)
		return r;
	if (!EVP_Digest(canon, strlen(canon), ret, &n, EVP_sha384(), NULL) || n != ATTEST_BINDING_LEN)
		return -EIO;
	return 0;
}
