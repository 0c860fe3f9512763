// SPDX-License-Identifier: GPL-2.0-only
/*
 * AAEL runtime event log records (TCG2 crypto-agile form): encode, parse,
 * replay. The same parser walks a TDX CCEL, so replay also understands the
 * legacy SHA-1 "Spec ID Event03" header a firmware log starts with, EV_NO_ACTION
 * records (never extended) and the all-FF / all-00 terminator.
 */
#include "attest/eventlog.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define EV_NO_ACTION 0x3u
#define ALG_SHA1 0x0004u
#define ALG_SHA512 0x000Du
#define ALG_SM3_256 0x0012u
#define DIGESTS_MAX 8u		/* banks per record; real logs carry 1-4 */
#define LEGACY_HDR_LEN 32u	/* u32 pcr, u32 type, sha1[20], u32 size */

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

size_t eventlog_alg_size(uint16_t alg)
{
	switch (alg) {
	case ALG_SHA1:
		return 20;
	case EVENTLOG_ALG_SHA256:
		return 32;
	case EVENTLOG_ALG_SHA384:
		return 48;
	default:
		return 0;
	}
}

/* Every algorithm a record may carry, stored or not (so it can be skipped). */
static size_t any_alg_size(uint16_t alg)
{
	switch (alg) {
	case ALG_SHA512:
		return 64;
	case ALG_SM3_256:
		return 32;
	default:
		return eventlog_alg_size(alg);
	}
}

static const EVP_MD *alg_md(uint16_t alg)
{
	switch (alg) {
	case ALG_SHA1:
		return EVP_sha1();
	case EVENTLOG_ALG_SHA256:
		return EVP_sha256();
	case EVENTLOG_ALG_SHA384:
		return EVP_sha384();
	case ALG_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

static bool is_aael(uint32_t type, const uint8_t *ev, size_t ev_len)
{
	return type == EVENTLOG_EV_EVENT_TAG && ev_len >= 8 && get_le32(ev) == EVENTLOG_AAEL_ID;
}

/*
 * Parses one crypto-agile record. The stored digest is the one of want_alg
 * when the record has it (want_alg 0: the first); *ret_has_want says which.
 */
static int parse_record(const uint8_t *buf, size_t len, uint16_t want_alg,
			struct eventlog_record *ret, bool *ret_has_want)
{
	struct eventlog_record rec = { 0 };
	bool have = false, have_want = false;
	uint32_t count, ev_len;
	size_t off = 12;

	if (!buf || len < 12)
		return -EBADMSG;
	rec.reg = get_le32(buf);
	rec.type = get_le32(buf + 4);
	count = get_le32(buf + 8);
	if (count == 0 || count > DIGESTS_MAX)
		return -EBADMSG;
	for (uint32_t i = 0; i < count; i++) {
		uint16_t alg;
		size_t dlen;

		if (len - off < 2)
			return -EBADMSG;
		alg = (uint16_t)(buf[off] | buf[off + 1] << 8);
		off += 2;
		dlen = any_alg_size(alg);
		if (dlen == 0 || len - off < dlen)
			return -EBADMSG;
		if (eventlog_alg_size(alg) && (!have || (alg == want_alg && !have_want))) {
			rec.alg = alg;
			memcpy(rec.digest, buf + off, dlen);
			rec.digest_len = dlen;
			have = true;
			have_want = alg == want_alg;
		}
		off += dlen;
	}
	if (!have || len - off < 4)
		return -EBADMSG;
	ev_len = get_le32(buf + off);
	off += 4;
	if (ev_len > len - off || ev_len > EVENTLOG_MAX)
		return -EBADMSG;
	rec.event = buf + off;
	rec.event_len = ev_len;
	if (is_aael(rec.type, rec.event, rec.event_len)) {
		uint8_t md[EVP_MAX_MD_SIZE];
		size_t tlen = get_le32(rec.event + 4);
		unsigned int mdlen;
		size_t doff = 12;

		if (tlen != ev_len - 8 || tlen > EVENTLOG_TEXT_MAX)
			return -EBADMSG;
		rec.text = (const char *)rec.event + 8;
		rec.text_len = tlen;
		/* Every digest the record carries must be the hash of the tagged event. */
		for (uint32_t i = 0; i < count; i++) {
			uint16_t alg = (uint16_t)(buf[doff] | buf[doff + 1] << 8);
			size_t dlen = any_alg_size(alg);
			const EVP_MD *md_alg = alg_md(alg);

			doff += 2;
			if (!md_alg || EVP_Digest(rec.event, rec.event_len, md, &mdlen, md_alg, NULL) != 1 ||
			    mdlen != dlen || memcmp(md, buf + doff, dlen) != 0)
				return -EBADMSG;
			doff += dlen;
		}
	}
	off += ev_len;
	if (off > (size_t)INT32_MAX)
		return -EBADMSG;
	if (ret_has_want)
		*ret_has_want = have_want;
	*ret = rec;
	return (int)off;
}

int eventlog_parse_record(const uint8_t *buf, size_t len, struct eventlog_record *ret)
{
	return parse_record(buf, len, 0, ret, NULL);
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

size_t eventlog_spec_header_len(const uint8_t *buf, size_t len)
{
	static const char sig[] = "Spec ID Event03";
	uint32_t ev_len;

	if (!buf || len < LEGACY_HDR_LEN + sizeof(sig) || get_le32(buf + 4) != EV_NO_ACTION ||
	    !all_bytes(buf + 8, 20, 0))
		return 0;
	ev_len = get_le32(buf + 28);
	if (ev_len < sizeof(sig) || ev_len > len - LEGACY_HDR_LEN ||
	    memcmp(buf + LEGACY_HDR_LEN, sig, sizeof(sig)) != 0)
		return 0;
	return LEGACY_HDR_LEN + ev_len;
}

int eventlog_replay(const uint8_t *buf, size_t len, uint32_t reg, uint16_t alg,
		    uint8_t ret[EVENTLOG_DIGEST_MAX])
{
	uint8_t acc[EVENTLOG_DIGEST_MAX] = { 0 }, cat[2 * EVENTLOG_DIGEST_MAX];
	size_t dlen = eventlog_alg_size(alg), off;
	const EVP_MD *md = alg_md(alg);
	int count = 0;

	if (!dlen || !md || (!buf && len) || len > EVENTLOG_MAX)
		return -EBADMSG;
	off = eventlog_spec_header_len(buf, len);
	while (off < len) {
		struct eventlog_record rec;
		unsigned int mdlen;
		bool has_want;
		int n;

		/* CCEL: the log ends at the first all-FF or all-00 record header. */
		if (len - off >= 8 && (all_bytes(buf + off, 8, 0xff) || all_bytes(buf + off, 8, 0)))
			break;
		n = parse_record(buf + off, len - off, alg, &rec, &has_want);
		if (n < 0)
			return n;
		off += (size_t)n;
		if (rec.reg != reg || rec.type == EV_NO_ACTION)
			continue;
		if (!has_want)
			return -EBADMSG;
		memcpy(cat, acc, dlen);
		memcpy(cat + dlen, rec.digest, dlen);
		if (EVP_Digest(cat, 2 * dlen, acc, &mdlen, md, NULL) != 1 || mdlen != dlen)
			return -EBADMSG;
		if (count == INT32_MAX)
			return -EBADMSG;
		count++;
	}
	memcpy(ret, acc, EVENTLOG_DIGEST_MAX);
	return count;
}

static bool valid_word(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f')
			return false;
	return true;
}

int eventlog_aael_encode(uint32_t reg, uint16_t alg, const char *domain, const char *operation,
			 const char *content, uint8_t **ret, size_t *ret_len)
{
	size_t dlen = eventlog_alg_size(alg), tlen, ev_len, total;
	const EVP_MD *md = alg_md(alg);
	unsigned int mdlen;
	uint8_t *out, *ev;

	if ((alg != EVENTLOG_ALG_SHA256 && alg != EVENTLOG_ALG_SHA384) || !valid_word(domain) ||
	    !valid_word(operation) || !content || strchr(content, '\n') || !ret || !ret_len)
		return -EINVAL;
	tlen = strlen(domain) + 1 + strlen(operation) + 1 + strlen(content);
	if (tlen > EVENTLOG_TEXT_MAX)
		return -EINVAL;
	ev_len = 8 + tlen;
	total = 12 + 2 + dlen + 4 + ev_len;
	out = malloc(total);
	if (!out)
		return -ENOMEM;
	put_le32(out, reg);
	put_le32(out + 4, EVENTLOG_EV_EVENT_TAG);
	put_le32(out + 8, 1);
	out[12] = alg & 0xff;
	out[13] = alg >> 8;
	put_le32(out + 14 + dlen, (uint32_t)ev_len);
	ev = out + 18 + dlen;
	put_le32(ev, EVENTLOG_AAEL_ID);
	put_le32(ev + 4, (uint32_t)tlen);
	/* The text is "<domain> <operation> <content>", no terminator. */
	{
		char *t = (char *)ev + 8;
		size_t a = strlen(domain), b = strlen(operation);

		memcpy(t, domain, a);
		t[a] = ' ';
		memcpy(t + a + 1, operation, b);
		t[a + 1 + b] = ' ';
		memcpy(t + a + 2 + b, content, strlen(content));
	}
	if (EVP_Digest(ev, ev_len, out + 14, &mdlen, md, NULL) != 1 || mdlen != dlen) {
		free(out);
		return -ENOMEM;
	}
	*ret = out;
	*ret_len = total;
	return 0;
}
