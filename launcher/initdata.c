// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/initdata.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

struct reader {
	const char *p, *end;
	unsigned int line;
	char *err;
	size_t err_len;
};

static int fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct reader *r, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->err_len, "line %u: %s", r->line, msg);
	return -EINVAL;
}

static void skip_ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'))
		r->p++;
}

/* After a value or header: spaces, an optional comment, then a newline or the end. */
static int end_of_line(struct reader *r)
{
	skip_ws(r);
	if (r->p < r->end && *r->p == '#')
		while (r->p < r->end && *r->p != '\n')
			r->p++;
	if (r->p < r->end && *r->p == '\r')
		r->p++;
	if (r->p == r->end)
		return 0;
	if (*r->p != '\n')
		return fail(r, "unexpected '%c' after the value", *r->p);
	r->p++;
	r->line++;
	return 0;
}

struct buf {
	char *d;
	size_t n, cap;
};

static int buf_put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *d = realloc(b->d, cap);

		if (!d)
			return -ENOMEM;
		b->d = d;
		b->cap = cap;
	}
	memcpy(b->d + b->n, s, n);
	b->n += n;
	b->d[b->n] = '\0';
	return 0;
}

static int put_utf8(struct buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_put(b, u, n);
}

/* A control character other than tab never appears inside a string (TOML 1.0). */
static bool bad_ctl(char c)
{
	return ((unsigned char)c < 0x20 && c != '\t') || c == 0x7f;
}

static int basic_string(struct reader *r, struct buf *b)
{
	r->p++;	/* opening quote */
	for (;;) {
		char c;

		if (r->p >= r->end || *r->p == '\n')
			return fail(r, "unterminated basic string");
		c = *r->p++;
		if (c == '"')
			return 0;
		if (bad_ctl(c))
			return fail(r, "control character in a string");
		if (c != '\\') {
			if (buf_put(b, &c, 1) < 0)
				return -ENOMEM;
			continue;
		}
		if (r->p >= r->end)
			return fail(r, "unterminated escape");
		c = *r->p++;
		const char *map = NULL;
		switch (c) {
		case 'b': map = "\b"; break;
		case 't': map = "\t"; break;
		case 'n': map = "\n"; break;
		case 'f': map = "\f"; break;
		case 'r': map = "\r"; break;
		case '"': map = "\""; break;
		case '\\': map = "\\"; break;
		case 'u':
		case 'U': {
			int nd = c == 'u' ? 4 : 8;
			unsigned long cp = 0;

			if (r->end - r->p < nd)
				return fail(r, "short \\%c escape", c);
			for (int i = 0; i < nd; i++) {
				char h = *r->p++;
				int v = ('0' <= h && h <= '9') ? h - '0' :
					('a' <= h && h <= 'f') ? h - 'a' + 10 :
					('A' <= h && h <= 'F') ? h - 'A' + 10 : -1;
				if (v < 0)
					return fail(r, "bad hex digit in \\%c escape", c);
				cp = cp * 16 + (unsigned long)v;
			}
			if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
				return fail(r, "escape U+%lX is not a valid scalar value", cp);
			if (put_utf8(b, cp) < 0)
				return -ENOMEM;
			continue;
		}
		default:
			return fail(r, "unknown escape '\\%c'", c);
		}
		if (buf_put(b, map, 1) < 0)
			return -ENOMEM;
	}
}

static int literal_string(struct reader *r, struct buf *b)
{
	const char *s = ++r->p;

	while (r->p < r->end && *r->p != '\'' && *r->p != '\n') {
		if (bad_ctl(*r->p))
			return fail(r, "control character in a string");
		r->p++;
	}
	if (r->p >= r->end || *r->p != '\'')
		return fail(r, "unterminated literal string");
	if (buf_put(b, s, (size_t)(r->p - s)) < 0)
		return -ENOMEM;
	r->p++;
	return 0;
}

static int ml_literal_string(struct reader *r, struct buf *b)
{
	const char *s;

	r->p += 3;
	/* A newline right after the opening delimiter is trimmed. */
	if (r->p < r->end && *r->p == '\n') {
		r->p++;
		r->line++;
	} else if (r->end - r->p >= 2 && r->p[0] == '\r' && r->p[1] == '\n') {
		r->p += 2;
		r->line++;
	}
	s = r->p;
	for (;;) {
		if (r->end - r->p < 3)
			return fail(r, "unterminated multi-line literal string");
		if (r->p[0] == '\'' && r->p[1] == '\'' && r->p[2] == '\'')
			break;
		if (*r->p == '\n')
			r->line++;
		else if (bad_ctl(*r->p) && *r->p != '\r')
			return fail(r, "control character in a string");
		r->p++;
	}
	/* Up to two quotes may end the content: '''a''''' is "a''". */
	for (int extra = 0; extra < 2 && r->end - r->p > 3 && r->p[3] == '\''; extra++)
		r->p++;
	if (buf_put(b, s, (size_t)(r->p - s)) < 0)
		return -ENOMEM;
	r->p += 3;
	return 0;
}

static bool bare_char(char c)
{
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
	       c == '_' || c == '-';
}

static int read_key(struct reader *r, struct buf *k)
{
	int ret;

	if (r->p < r->end && *r->p == '"')
		ret = basic_string(r, k);
	else if (r->p < r->end && *r->p == '\'')
		ret = literal_string(r, k);
	else {
		const char *s = r->p;

		while (r->p < r->end && bare_char(*r->p))
			r->p++;
		if (r->p == s)
			return fail(r, "expected a key");
		ret = buf_put(k, s, (size_t)(r->p - s));
	}
	if (ret < 0)
		return ret;
	if (!k->d || !k->n)
		return fail(r, "empty key");
	if (k->n > INITDATA_KEY_MAX)
		return fail(r, "key longer than %u bytes", INITDATA_KEY_MAX);
	if (strlen(k->d) != k->n)
		return fail(r, "NUL in a key");
	skip_ws(r);
	if (r->p < r->end && *r->p == '.')
		return fail(r, "dotted key '%s.' is not supported (quote the key)", k->d);
	return 0;
}

static int read_value(struct reader *r, struct buf *v)
{
	if (r->end - r->p >= 3 && memcmp(r->p, "'''", 3) == 0)
		return ml_literal_string(r, v);
	if (r->end - r->p >= 3 && memcmp(r->p, "\"\"\"", 3) == 0)
		return fail(r, "multi-line basic strings are not supported");
	if (r->p < r->end && *r->p == '"')
		return basic_string(r, v);
	if (r->p < r->end && *r->p == '\'')
		return literal_string(r, v);
	return fail(r, "expected a string value");
}

static const EVP_MD *md_of(const char *alg)
{
	if (strcmp(alg, "sha256") == 0)
		return EVP_sha256();
	if (strcmp(alg, "sha384") == 0)
		return EVP_sha384();
	if (strcmp(alg, "sha512") == 0)
		return EVP_sha512();
	return NULL;
}

static int parse(struct reader *r, struct initdata *d)
{
	bool in_data = false, seen_data = false, have_version = false, have_alg = false;

	while (r->p < r->end) {
		struct buf k = { 0 }, v = { 0 };
		int ret;

		skip_ws(r);
		if (r->p >= r->end)
			break;
		if (*r->p == '#' || *r->p == '\n' || *r->p == '\r') {
			ret = end_of_line(r);
			if (ret < 0)
				return ret;
			continue;
		}
		if (*r->p == '[') {
			r->p++;
			skip_ws(r);
			if (r->p < r->end && *r->p == '[')
				return fail(r, "arrays of tables are not supported");
			ret = read_key(r, &k);
			if (ret < 0) {
				free(k.d);
				return ret;
			}
			skip_ws(r);
			if (r->p >= r->end || *r->p != ']') {
				free(k.d);
				return fail(r, "expected ']'");
			}
			r->p++;
			if (strcmp(k.d, "data") != 0) {
				ret = fail(r, "unknown table '[%s]' (only [data])", k.d);
				free(k.d);
				return ret;
			}
			free(k.d);
			if (seen_data)
				return fail(r, "table [data] defined twice");
			seen_data = in_data = true;
			ret = end_of_line(r);
			if (ret < 0)
				return ret;
			continue;
		}
		ret = read_key(r, &k);
		if (ret >= 0) {
			skip_ws(r);
			if (r->p >= r->end || *r->p != '=')
				ret = fail(r, "expected '=' after key '%s'", k.d);
		}
		if (ret >= 0) {
			r->p++;
			skip_ws(r);
			ret = read_value(r, &v);
		}
		if (ret >= 0 && !v.d)
			ret = buf_put(&v, "", 0);
		if (ret >= 0)
			ret = end_of_line(r);
		if (ret >= 0 && !in_data) {
			if (strcmp(k.d, "version") == 0 && !have_version) {
				if (strcmp(v.d, "0.1.0") != 0)
					ret = fail(r, "'version': '%.16s' is not 0.1.0", v.d);
				else {
					snprintf(d->version, sizeof(d->version), "%s", v.d);
					have_version = true;
				}
			} else if (strcmp(k.d, "algorithm") == 0 && !have_alg) {
				if (!md_of(v.d))
					ret = fail(r, "'algorithm': '%.16s' is not sha256, sha384 or sha512", v.d);
				else {
					snprintf(d->algorithm, sizeof(d->algorithm), "%s", v.d);
					have_alg = true;
				}
			} else if (strcmp(k.d, "version") == 0 || strcmp(k.d, "algorithm") == 0) {
				ret = fail(r, "'%s' defined twice", k.d);
			} else {
				ret = fail(r, "unknown key '%s' (only version, algorithm, [data])", k.d);
			}
			free(k.d);
			free(v.d);
			if (ret < 0)
				return ret;
			continue;
		}
		if (ret >= 0 && launcher_initdata_get(d, k.d))
			ret = fail(r, "'data.%s' defined twice", k.d);
		if (ret >= 0 && d->n_entries >= INITDATA_ENTRIES_MAX)
			ret = fail(r, "more than %u [data] entries", INITDATA_ENTRIES_MAX);
		if (ret < 0) {
			free(k.d);
			free(v.d);
			return ret;
		}
		d->entries[d->n_entries++] = (struct initdata_entry){ k.d, v.d, v.n };
	}
	if (!have_version)
		return fail(r, "'version' is missing");
	if (!have_alg)
		return fail(r, "'algorithm' is missing");
	if (!seen_data)
		return fail(r, "table [data] is missing");
	return 0;
}

int launcher_initdata_parse(const char *buf, size_t len, struct initdata **ret, char *err,
			    size_t err_len)
{
	struct reader r = { buf, buf + len, 1, err, err_len };
	struct initdata *d;
	unsigned int dl;
	int ret_;

	if (err_len)
		err[0] = '\0';
	if (len > INITDATA_MAX) {
		snprintf(err, err_len, "initdata is larger than %u bytes", INITDATA_MAX);
		return -E2BIG;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(err, err_len, "initdata contains a NUL byte");
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->entries = calloc(INITDATA_ENTRIES_MAX, sizeof(*d->entries));
	if (!d->entries) {
		free(d);
		return -ENOMEM;
	}
	ret_ = parse(&r, d);
	if (ret_ >= 0 && !EVP_Digest(buf, len, d->digest, &dl, md_of(d->algorithm), NULL))
		ret_ = -ENOMEM;
	if (ret_ < 0) {
		if (ret_ == -ENOMEM)
			snprintf(err, err_len, "out of memory");
		launcher_initdata_free(d);
		return ret_;
	}
	d->digest_len = dl;
	*ret = d;
	return 0;
}

struct initdata *launcher_initdata_free(struct initdata *d)
{
	if (!d)
		return NULL;
	for (size_t i = 0; i < d->n_entries; i++) {
		free(d->entries[i].key);
		free(d->entries[i].value);
	}
	free(d->entries);
	free(d);
	return NULL;
}

const struct initdata_entry *launcher_initdata_get(const struct initdata *d, const char *key)
{
	for (size_t i = 0; i < d->n_entries; i++)
		if (strcmp(d->entries[i].key, key) == 0)
			return &d->entries[i];
	return NULL;
}
