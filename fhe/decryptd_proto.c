// SPDX-License-Identifier: GPL-2.0-only
/* veil-decryptd's wire format: strict parsing, and the builders both sides use. */
#include "fhe/decryptd.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/frame.h"

static const char *const status_names[] = {
	[DECRYPTD_OK] = "ok",
	[DECRYPTD_BUSY] = "busy",
	[DECRYPTD_DENIED] = "denied",
	[DECRYPTD_BAD_REQUEST] = "bad request",
	[DECRYPTD_UNKNOWN_MODEL] = "unknown model",
	[DECRYPTD_BAD_CIPHERTEXT] = "bad ciphertext",
	[DECRYPTD_INTERNAL] = "internal error",
};

const char *decryptd_status_name(enum decryptd_status s)
{
	return (unsigned int)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s]
										 : "unknown status";
}

static int bad(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, DECRYPTD_MSG_MAX + 1, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static bool name_ok(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

int decryptd_parse_request(const uint8_t *p, size_t len, struct decryptd_request *ret,
			   char msg[DECRYPTD_MSG_MAX + 1])
{
	struct decryptd_request r = { 0 };
	size_t off, nl;

	msg[0] = '\0';
	if (len >= DECRYPTD_HDR_LEN)
		ret->id = get32(p + 4);
	else
		ret->id = 0;
	if (len < DECRYPTD_HDR_LEN)
		return bad(msg, "request of %zu bytes is shorter than its %u-byte header", len,
			   DECRYPTD_HDR_LEN);
	if (len > DECRYPTD_REQ_MAX)
		return bad(msg, "request of %zu bytes exceeds %u", len, DECRYPTD_REQ_MAX);
	if (p[0] != DECRYPTD_VERSION)
		return bad(msg, "protocol version %u unsupported (want %u)", p[0], DECRYPTD_VERSION);
	if (p[2] || p[3])
		return bad(msg, "reserved header bytes are not zero");
	r.op = p[1];
	r.id = get32(p + 4);
	r.body = p + DECRYPTD_HDR_LEN;
	r.body_len = len - DECRYPTD_HDR_LEN;
	switch (r.op) {
	case DECRYPTD_OP_PING:
		if (r.body_len > DECRYPTD_PING_MAX)
			return bad(msg, "ping body of %zu bytes exceeds %u", r.body_len,
				   DECRYPTD_PING_MAX);
		break;
	case DECRYPTD_OP_DECRYPT:
		off = 0;
		if (r.body_len < 1)
			return bad(msg, "decrypt request without a model name");
		nl = r.body[off++];
		if (nl < 1 || nl > DECRYPTD_NAME_MAX)
			return bad(msg, "model name of %zu bytes (must be 1..%u)", nl,
				   DECRYPTD_NAME_MAX);
		if (r.body_len - off < nl + 1)
			return bad(msg, "model name runs past the end of the request");
		if (!name_ok((const char *)r.body + off, nl))
			return bad(msg, "model name holds characters outside [A-Za-z0-9._-]");
		memcpy(r.name, r.body + off, nl);
		r.name[nl] = '\0';
		off += nl;
		r.n_ct = r.body[off++];
		if (r.n_ct < 1 || r.n_ct > DECRYPTD_CT_MAX)
			return bad(msg, "%u ciphertexts (must be 1..%u)", r.n_ct, DECRYPTD_CT_MAX);
		for (unsigned int i = 0; i < r.n_ct; i++) {
			size_t cl;

			if (r.body_len - off < 4)
				return bad(msg, "ciphertext %u: length cut short", i);
			cl = get32(r.body + off);
			off += 4;
			if (cl == 0)
				return bad(msg, "ciphertext %u is empty", i);
			if (cl > r.body_len - off)
				return bad(msg, "ciphertext %u of %zu bytes runs past the end", i, cl);
			r.ct[i] = r.body + off;
			r.ct_len[i] = cl;
			off += cl;
		}
		if (off != r.body_len)
			return bad(msg, "%zu trailing bytes after the last ciphertext",
				   r.body_len - off);
		break;
	default:
		return bad(msg, "unknown operation %u", r.op);
	}
	*ret = r;
	return 0;
}

static uint8_t *frame_new(uint32_t id, uint8_t op, size_t body_len, size_t *ret_len)
{
	size_t plen = DECRYPTD_HDR_LEN + body_len;
	uint8_t *b;

	if (plen > DECRYPTD_REQ_MAX)
		return NULL;
	b = calloc(1, FRAME_HDR_LEN + plen);
	if (!b)
		return NULL;
	put32(b, (uint32_t)plen);
	b[4] = DECRYPTD_VERSION;
	b[5] = op;
	put32(b + 8, id);
	*ret_len = FRAME_HDR_LEN + plen;
	return b;
}

int decryptd_build_ping(uint32_t id, const void *echo, size_t len, uint8_t **ret,
			size_t *ret_len)
{
	uint8_t *b;

	if (len > DECRYPTD_PING_MAX)
		return -EMSGSIZE;
	b = frame_new(id, DECRYPTD_OP_PING, len, ret_len);
	if (!b)
		return -ENOMEM;
	if (len)
		memcpy(b + FRAME_HDR_LEN + DECRYPTD_HDR_LEN, echo, len);
	*ret = b;
	return 0;
}

int decryptd_build_decrypt(uint32_t id, const char *model, const uint8_t *const *ct,
			   const size_t *ct_len, unsigned int n_ct, uint8_t **ret, size_t *ret_len)
{
	size_t nl = strlen(model), body = 2 + nl, off;
	uint8_t *b, *p;

	if (!nl || nl > DECRYPTD_NAME_MAX || !n_ct || n_ct > DECRYPTD_CT_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < n_ct; i++) {
		if (ct_len[i] > DECRYPTD_REQ_MAX)
			return -EMSGSIZE;
		body += 4 + ct_len[i];
	}
	b = frame_new(id, DECRYPTD_OP_DECRYPT, body, ret_len);
	if (!b)
		return body > DECRYPTD_REQ_MAX ? -EMSGSIZE : -ENOMEM;
	p = b + FRAME_HDR_LEN + DECRYPTD_HDR_LEN;
	off = 0;
	p[off++] = (uint8_t)nl;
	memcpy(p + off, model, nl);
	off += nl;
	p[off++] = (uint8_t)n_ct;
	for (unsigned int i = 0; i < n_ct; i++) {
		put32(p + off, (uint32_t)ct_len[i]);
		off += 4;
		memcpy(p + off, ct[i], ct_len[i]);
		off += ct_len[i];
	}
	*ret = b;
	return 0;
}

int decryptd_build_reply(uint32_t id, enum decryptd_status st, const void *body, size_t len,
			 uint8_t *out, size_t cap)
{
	size_t plen = DECRYPTD_HDR_LEN + len;

	if (plen > DECRYPTD_REPLY_MAX || FRAME_HDR_LEN + plen > cap)
		return -EMSGSIZE;
	put32(out, (uint32_t)plen);
	out[4] = DECRYPTD_VERSION;
	out[5] = (uint8_t)st;
	out[6] = out[7] = 0;
	put32(out + 8, id);
	if (len)
		memcpy(out + FRAME_HDR_LEN + DECRYPTD_HDR_LEN, body, len);
	return (int)(FRAME_HDR_LEN + plen);
}

int decryptd_build_outputs(uint32_t id, const double *y, size_t n, uint8_t *out, size_t cap)
{
	size_t len = 4 + 8 * n;
	uint8_t *p = out + FRAME_HDR_LEN + DECRYPTD_HDR_LEN;
	int r;

	if (n > DECRYPTD_OUT_MAX)
		return -EMSGSIZE;
	r = decryptd_build_reply(id, DECRYPTD_OK, NULL, 0, out, cap);
	if (r < 0 || (size_t)r + len > cap)
		return -EMSGSIZE;
	put32(out, (uint32_t)(DECRYPTD_HDR_LEN + len));
	put32(p, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		uint64_t u;

		memcpy(&u, &y[i], 8);
		u = htole64(u);
		memcpy(p + 4 + 8 * i, &u, 8);
	}
	return (int)(FRAME_HDR_LEN + DECRYPTD_HDR_LEN + len);
}

int decryptd_parse_reply(const uint8_t *p, size_t len, struct decryptd_reply *ret)
{
	if (len < DECRYPTD_HDR_LEN || len > DECRYPTD_REPLY_MAX || p[0] != DECRYPTD_VERSION ||
	    p[2] || p[3] || p[1] > DECRYPTD_INTERNAL)
		return -EBADMSG;
	ret->status = p[1];
	ret->id = get32(p + 4);
	ret->body = p + DECRYPTD_HDR_LEN;
	ret->body_len = len - DECRYPTD_HDR_LEN;
	return 0;
}

int decryptd_reply_outputs(const struct decryptd_reply *r, double *y, size_t cap, size_t *ret_n)
{
	size_t n;

	if (r->status != DECRYPTD_OK || r->body_len < 4)
		return -EBADMSG;
	n = get32(r->body);
	if (n > DECRYPTD_OUT_MAX || r->body_len != 4 + 8 * n)
		return -EBADMSG;
	if (n > cap)
		return -ENOBUFS;
	for (size_t i = 0; i < n; i++) {
		uint64_t u;

		memcpy(&u, r->body + 4 + 8 * i, 8);
		u = le64toh(u);
		memcpy(&y[i], &u, 8);
	}
	*ret_n = n;
	return 0;
}
