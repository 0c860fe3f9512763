// SPDX-License-Identifier: GPL-2.0-only
/*
 * The versioned binary format. Header (56 bytes, little endian):
 *   0 "VFHE"  4 u16 version  6 u8 kind  7 u8 flags  8 u8 encoding  9 u8 level
 *  10 u16 zero  12 u32 body length  16 params hash[32]  48 f64 scale
 * Residues are bit-packed at the width of their prime, each prime's block
 * padded to a byte with zero bits. Parsing is strict and names what is wrong
 * (fhe_last_error()); every failure is -EBADMSG unless stated.
 */
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fhe/internal.h"
#include "lib/secmem.h"

#define F_SEEDED 0x01
#define F_NTT 0x02
#define F_KNOWN (F_SEEDED | F_NTT)

static const uint8_t magic[4] = { 'V', 'F', 'H', 'E' };

struct hdr {
	unsigned kind, flags, encoding, level;
	uint32_t body_len;
	uint8_t hash[FHE_HASH_SIZE];
	double scale;
};

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static size_t packed_size(const struct fhe_params *p, unsigned level)
{
	size_t s = 0;

	for (unsigned i = 0; i < level; i++)
		s += ((size_t)p->n * p->qbits[i] + 7) / 8;
	return s;
}

static uint8_t *pack(const struct fhe_params *p, unsigned level, const uint64_t *v, uint8_t *o)
{
	for (unsigned i = 0; i < level; i++) {
		unsigned bits = p->qbits[i], have = 0;
		u128 acc = 0;

		for (unsigned k = 0; k < p->n; k++) {
			acc |= (u128)v[(size_t)i * p->n + k] << have;
			have += bits;
			while (have >= 8) {
				*o++ = (uint8_t)acc;
				acc >>= 8;
				have -= 8;
			}
		}
		if (have)
			*o++ = (uint8_t)acc;
	}
	return o;
}

static uint64_t load64le(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, sizeof(v));
	return le64toh(v);
}

/*
 * One prime's block of len bytes: n residues of `bits` bits, least
 * significant bit first. A residue starts at most 7 bits into its first byte
 * and is at most FHE_MAX_PRIME_BITS (50) bits wide, so one unaligned 64-bit
 * load holds all of it: no per-bit or per-byte loop, and no branch per
 * residue (the range check only collects a flag). Residues whose 8-byte load
 * would run past the block come from a zero-padded copy. Inlined with a
 * constant `bits` per prime width (unpack_fixed), the shifts and offsets of a
 * group of 8 residues (exactly `bits` bytes) are constants.
 * Returns whether some residue is not below q.
 */
static inline __attribute__((always_inline)) bool
unpack_block(const uint8_t *in, size_t len, uint64_t *v, size_t n, unsigned bits, uint64_t q)
{
	const uint64_t mask = (1ull << bits) - 1;
	uint64_t bad = 0;
	size_t k = 0, groups = 0;

	/* whole groups of 8 whose last load (7*bits/8 + 8 bytes in) stays inside */
	if (len >= 8 + bits)
		groups = (len - 8 - bits) / bits + 1;
	if (groups > n / 8)
		groups = n / 8;
	for (size_t g = 0; g < groups; g++, in += bits, v += 8) {
		for (unsigned j = 0; j < 8; j++) {
			uint64_t x = load64le(in + (j * bits) / 8) >> ((j * bits) % 8) & mask;

			v[j] = x;
			bad |= x >= q;
		}
	}
	k = groups * 8;
	len -= groups * bits;
	for (size_t pos = 0; k < n; k++, v++, pos += bits) {
		uint8_t t[8] = { 0 };
		size_t b = pos / 8, m = len - b < 8 ? len - b : 8;
		uint64_t x;

		memcpy(t, in + b, m);
		x = load64le(t) >> (pos % 8) & mask;
		*v = x;
		bad |= x >= q;
	}
	return bad;
}

#define UNPACK_WIDTH(b) \
	case b: return unpack_block(in, len, v, n, b, q)

static bool unpack_fixed(const uint8_t *in, size_t len, uint64_t *v, size_t n, unsigned bits,
			 uint64_t q)
{
	_Static_assert(FHE_MIN_PRIME_BITS == 30 && FHE_MAX_PRIME_BITS == 50,
		       "unpack_fixed lists the prime widths 30..50");
	switch (bits) {
	UNPACK_WIDTH(30); UNPACK_WIDTH(31); UNPACK_WIDTH(32); UNPACK_WIDTH(33);
	UNPACK_WIDTH(34); UNPACK_WIDTH(35); UNPACK_WIDTH(36); UNPACK_WIDTH(37);
	UNPACK_WIDTH(38); UNPACK_WIDTH(39); UNPACK_WIDTH(40); UNPACK_WIDTH(41);
	UNPACK_WIDTH(42); UNPACK_WIDTH(43); UNPACK_WIDTH(44); UNPACK_WIDTH(45);
	UNPACK_WIDTH(46); UNPACK_WIDTH(47); UNPACK_WIDTH(48); UNPACK_WIDTH(49);
	UNPACK_WIDTH(50);
	default: return unpack_block(in, len, v, n, bits, q);	/* not reached: params checked */
	}
}

static int unpack(const struct fhe_params *p, unsigned level, const uint8_t *in, uint64_t *v,
		  const char *what)
{
	for (unsigned i = 0; i < level; i++) {
		unsigned bits = p->qbits[i];
		size_t n = p->n, len = (n * bits + 7) / 8, tail = n * bits % 8;

		if (unpack_fixed(in, len, v, n, bits, p->q[i])) {
			/* the first one, named as the format's reader always has */
			for (size_t k = 0; k < n; k++)
				if (v[k] >= p->q[i]) {
					fhe_set_error("%s: residue %zu of prime %u is not below q", what,
						      k, i);
					return -EBADMSG;
				}
		}
		if (tail && in[len - 1] >> tail) {
			fhe_set_error("%s: nonzero padding after prime %u", what, i);
			return -EBADMSG;
		}
		in += len;
		v += n;
	}
	return 0;
}

static uint8_t *write_hdr(uint8_t *b, const struct hdr *h)
{
	uint64_t s;

	memcpy(b, magic, 4);
	put16(b + 4, FHE_FORMAT_VERSION);
	b[6] = (uint8_t)h->kind;
	b[7] = (uint8_t)h->flags;
	b[8] = (uint8_t)h->encoding;
	b[9] = (uint8_t)h->level;
	put16(b + 10, 0);
	put32(b + 12, h->body_len);
	memcpy(b + 16, h->hash, FHE_HASH_SIZE);
	memcpy(&s, &h->scale, 8);
	put64(b + 48, s);
	return b + FHE_HEADER_SIZE;
}

static const char *kind_name(unsigned k)
{
	static const char *const names[] = { "?", "parameters", "secret key", "public key",
					     "plaintext", "ciphertext" };

	return k < 6 ? names[k] : "?";
}

/* Header checks common to every kind. p may be NULL (params, secret key). */
static int read_hdr(const uint8_t *b, size_t len, unsigned want, const struct fhe_params *p,
		    struct hdr *h)
{
	uint64_t s;

	if (!b || len < FHE_HEADER_SIZE) {
		fhe_set_error("%s: %zu bytes is shorter than the header", kind_name(want), len);
		return -EBADMSG;
	}
	if (len > FHE_SERIAL_MAX) {
		fhe_set_error("%s: %zu bytes is over the limit", kind_name(want), len);
		return -E2BIG;
	}
	if (memcmp(b, magic, 4) != 0) {
		fhe_set_error("bad magic (not a veil FHE object)");
		return -EBADMSG;
	}
	if (get16(b + 4) != FHE_FORMAT_VERSION) {
		fhe_set_error("format version %u is not %u", get16(b + 4), FHE_FORMAT_VERSION);
		return -EBADMSG;
	}
	h->kind = b[6];
	h->flags = b[7];
	h->encoding = b[8];
	h->level = b[9];
	h->body_len = get32(b + 12);
	memcpy(h->hash, b + 16, FHE_HASH_SIZE);
	s = get64(b + 48);
	memcpy(&h->scale, &s, 8);
	if (h->kind != want) {
		fhe_set_error("object is a %s, expected a %s", kind_name(h->kind), kind_name(want));
		return -EBADMSG;
	}
	if (h->flags & ~F_KNOWN) {
		fhe_set_error("%s: unknown flags 0x%02x", kind_name(want), h->flags);
		return -EBADMSG;
	}
	if (h->encoding > FHE_ENC_SLOTS) {
		fhe_set_error("%s: unknown encoding %u", kind_name(want), h->encoding);
		return -EBADMSG;
	}
	if (get16(b + 10) != 0) {
		fhe_set_error("%s: reserved header field is not zero", kind_name(want));
		return -EBADMSG;
	}
	if (h->body_len != len - FHE_HEADER_SIZE) {
		fhe_set_error("%s: body length %u but %zu bytes follow the header", kind_name(want),
			      h->body_len, len - FHE_HEADER_SIZE);
		return -EBADMSG;
	}
	if (!isfinite(h->scale) || h->scale < 0) {
		fhe_set_error("%s: scale is not a finite non-negative number", kind_name(want));
		return -EBADMSG;
	}
	if (p) {
		if (memcmp(h->hash, p->hash, FHE_HASH_SIZE) != 0) {
			fhe_set_error("%s: made for another parameter set", kind_name(want));
			return -EBADMSG;
		}
		if (h->level < 1 || h->level > p->nprimes) {
			fhe_set_error("%s: level %u is not in 1..%u", kind_name(want), h->level,
				      p->nprimes);
			return -EBADMSG;
		}
	}
	return 0;
}

static int alloc_out(size_t body, int secret, uint8_t **ret, size_t *ret_len)
{
	size_t len = FHE_HEADER_SIZE + body;
	uint8_t *b = secret ? secmem_alloc(len) : calloc(1, len);

	if (!b)
		return -ENOMEM;
	*ret = b;
	*ret_len = len;
	return 0;
}

/* ---- parameters ---- */

int fhe_params_serialize(const struct fhe_params *p, uint8_t **ret, size_t *ret_len)
{
	struct hdr h = { FHE_KIND_PARAMS, 0, 0, 0, 0, { 0 }, 0 };
	size_t body;
	uint8_t *b, *o;
	int r;

	if (!p || !ret || !ret_len)
		return -EINVAL;
	body = 8 + 8 * (size_t)p->nprimes;
	r = alloc_out(body, 0, &b, ret_len);
	if (r < 0)
		return r;
	h.level = p->nprimes;
	h.body_len = (uint32_t)body;
	memcpy(h.hash, p->hash, FHE_HASH_SIZE);
	o = write_hdr(b, &h);
	o[0] = (uint8_t)p->log_n;
	o[1] = (uint8_t)p->nprimes;
	put16(o + 2, (uint16_t)p->preset);
	for (unsigned i = 0; i < p->nprimes; i++)
		put64(o + 8 + 8 * i, p->q[i]);
	*ret = b;
	return 0;
}

int fhe_params_deserialize(const uint8_t *buf, size_t len, struct fhe_params **ret)
{
	struct hdr h;
	const uint8_t *o = buf + FHE_HEADER_SIZE;
	uint64_t q[FHE_MAX_PRIMES];
	struct fhe_params *p;
	unsigned preset, nprimes;
	int r;

	if (!ret)
		return -EINVAL;
	r = read_hdr(buf, len, FHE_KIND_PARAMS, NULL, &h);
	if (r < 0)
		return r;
	if (h.body_len < 8) {
		fhe_set_error("parameters: body too short");
		return -EBADMSG;
	}
	nprimes = o[1];
	preset = get16(o + 2);
	if (nprimes < 1 || nprimes > FHE_MAX_PRIMES || h.body_len != 8 + 8 * nprimes ||
	    h.level != nprimes) {
		fhe_set_error("parameters: prime count %u does not match the sizes", nprimes);
		return -EBADMSG;
	}
	if (get32(o + 4) != 0 || h.flags || h.encoding || h.scale != 0) {
		fhe_set_error("parameters: reserved fields are not zero");
		return -EBADMSG;
	}
	for (unsigned i = 0; i < nprimes; i++)
		q[i] = get64(o + 8 + 8 * i);
	r = fhe_params_from_chain(o[0], nprimes, q, &p);
	if (r < 0) {
		if (r == -EINVAL)
			r = -EBADMSG;
		return r;
	}
	if (memcmp(p->hash, h.hash, FHE_HASH_SIZE) != 0) {
		fhe_params_free(p);
		fhe_set_error("parameters: hash does not match the primes");
		return -EBADMSG;
	}
	if (preset) {
		struct fhe_params *ref;

		r = fhe_params_preset(preset, &ref);
		if (r < 0 || memcmp(ref->hash, p->hash, FHE_HASH_SIZE) != 0) {
			if (r == 0)
				fhe_params_free(ref);
			fhe_params_free(p);
			fhe_set_error("parameters: preset %u does not have these primes", preset);
			return -EBADMSG;
		}
		fhe_params_free(ref);
		p->preset = preset;
	}
	*ret = p;
	return 0;
}

/* ---- keys ---- */

int fhe_secret_key_serialize(const struct fhe_secret_key *sk, uint8_t **ret, size_t *ret_len)
{
	struct hdr h = { FHE_KIND_SECRET_KEY, 0, 0, 0, 0, { 0 }, 0 };
	uint8_t *b, *o;
	int r;

	if (!sk || !ret || !ret_len)
		return -EINVAL;
	r = alloc_out(4 + FHE_SEED_SIZE, 1, &b, ret_len);
	if (r < 0)
		return r;
	h.level = sk->params->nprimes;
	h.body_len = 4 + FHE_SEED_SIZE;
	memcpy(h.hash, sk->params->hash, FHE_HASH_SIZE);
	o = write_hdr(b, &h);
	put32(o, sk->params->preset);
	memcpy(o + 4, sk->seed, FHE_SEED_SIZE);
	*ret = b;
	return 0;
}

int fhe_secret_key_deserialize(struct fhe_params *p, const uint8_t *buf, size_t len,
			       struct fhe_secret_key **ret)
{
	struct fhe_params *own = NULL;
	struct hdr h;
	unsigned preset;
	int r;

	if (!ret)
		return -EINVAL;
	r = read_hdr(buf, len, FHE_KIND_SECRET_KEY, p, &h);
	if (r < 0)
		return r;
	if (h.body_len != 4 + FHE_SEED_SIZE || h.flags || h.encoding || h.scale != 0) {
		fhe_set_error("secret key: wrong size or nonzero reserved fields");
		return -EBADMSG;
	}
	preset = get32(buf + FHE_HEADER_SIZE);
	if (!p) {
		r = fhe_params_preset(preset, &own);
		if (r < 0) {
			fhe_set_error("secret key: unknown parameter preset %u", preset);
			return -EBADMSG;
		}
		p = own;
		if (memcmp(h.hash, p->hash, FHE_HASH_SIZE) != 0 || h.level != p->nprimes) {
			fhe_params_free(own);
			fhe_set_error("secret key: hash does not match preset %u", preset);
			return -EBADMSG;
		}
	} else if (preset != p->preset || h.level != p->nprimes) {
		fhe_set_error("secret key: preset or level does not match the parameters");
		return -EBADMSG;
	}
	r = fhe_keygen(p, buf + FHE_HEADER_SIZE + 4, ret);
	fhe_params_free(own);
	return r;
}

int fhe_public_key_serialize(const struct fhe_public_key *pk, uint8_t **ret, size_t *ret_len)
{
	struct hdr h = { FHE_KIND_PUBLIC_KEY, F_SEEDED | F_NTT, 0, 0, 0, { 0 }, 0 };
	const struct fhe_params *p;
	uint8_t *b, *o;
	size_t body;
	int r;

	if (!pk || !ret || !ret_len)
		return -EINVAL;
	p = pk->params;
	body = FHE_SEED_SIZE + packed_size(p, p->nprimes);
	r = alloc_out(body, 0, &b, ret_len);
	if (r < 0)
		return r;
	h.level = p->nprimes;
	h.body_len = (uint32_t)body;
	memcpy(h.hash, p->hash, FHE_HASH_SIZE);
	o = write_hdr(b, &h);
	memcpy(o, pk->seed_a, FHE_SEED_SIZE);
	pack(p, p->nprimes, pk->p0, o + FHE_SEED_SIZE);
	*ret = b;
	return 0;
}

int pk_expand_a(const struct fhe_params *p, const uint8_t seed_a[FHE_SEED_SIZE], uint64_t *a,
		unsigned level);

int fhe_public_key_deserialize(struct fhe_params *p, const uint8_t *buf, size_t len,
			       struct fhe_public_key **ret)
{
	struct fhe_public_key *pk;
	struct hdr h;
	size_t words;
	int r;

	if (!p || !ret)
		return -EINVAL;
	r = read_hdr(buf, len, FHE_KIND_PUBLIC_KEY, p, &h);
	if (r < 0)
		return r;
	if (h.level != p->nprimes || h.flags != (F_SEEDED | F_NTT) || h.encoding || h.scale != 0) {
		fhe_set_error("public key: level, flags or reserved fields are wrong");
		return -EBADMSG;
	}
	if (h.body_len != FHE_SEED_SIZE + packed_size(p, p->nprimes)) {
		fhe_set_error("public key: body is %u bytes, expected %zu", h.body_len,
			      FHE_SEED_SIZE + packed_size(p, p->nprimes));
		return -EBADMSG;
	}
	words = (size_t)p->nprimes * p->n;
	pk = calloc(1, sizeof(*pk));
	if (!pk)
		return -ENOMEM;
	pk->params = fhe_params_ref(p);
	pk->p0 = malloc(2 * words * 8);
	if (!pk->p0) {
		fhe_public_key_free(pk);
		return -ENOMEM;
	}
	pk->p1 = pk->p0 + words;
	memcpy(pk->seed_a, buf + FHE_HEADER_SIZE, FHE_SEED_SIZE);
	r = unpack(p, p->nprimes, buf + FHE_HEADER_SIZE + FHE_SEED_SIZE, pk->p0, "public key");
	if (r == 0)
		r = pk_expand_a(p, pk->seed_a, pk->p1, p->nprimes);
	if (r < 0) {
		fhe_public_key_free(pk);
		return r;
	}
	*ret = pk;
	return 0;
}

/* ---- plaintexts and ciphertexts ---- */

int fhe_plaintext_serialize(const struct fhe_plaintext *pt, uint8_t **ret, size_t *ret_len)
{
	struct hdr h = { FHE_KIND_PLAINTEXT, 0, 0, 0, 0, { 0 }, 0 };
	size_t body;
	uint8_t *b, *o;
	int r;

	if (!pt || !ret || !ret_len)
		return -EINVAL;
	body = packed_size(pt->params, pt->level);
	r = alloc_out(body, 0, &b, ret_len);
	if (r < 0)
		return r;
	h.flags = pt->ntt ? F_NTT : 0;
	h.encoding = pt->encoding;
	h.level = pt->level;
	h.body_len = (uint32_t)body;
	h.scale = pt->scale;
	memcpy(h.hash, pt->params->hash, FHE_HASH_SIZE);
	o = write_hdr(b, &h);
	pack(pt->params, pt->level, pt->data, o);
	*ret = b;
	return 0;
}

int fhe_plaintext_deserialize(struct fhe_params *p, const uint8_t *buf, size_t len,
			      struct fhe_plaintext **ret)
{
	struct fhe_plaintext *pt;
	struct hdr h;
	int r;

	if (!p || !ret)
		return -EINVAL;
	r = read_hdr(buf, len, FHE_KIND_PLAINTEXT, p, &h);
	if (r < 0)
		return r;
	if (h.flags & F_SEEDED) {
		fhe_set_error("plaintext: seeded flag set");
		return -EBADMSG;
	}
	if (h.body_len != packed_size(p, h.level)) {
		fhe_set_error("plaintext: body is %u bytes, expected %zu", h.body_len,
			      packed_size(p, h.level));
		return -EBADMSG;
	}
	pt = fhe_plaintext_new(p, h.level);
	if (!pt)
		return -ENOMEM;
	r = unpack(p, h.level, buf + FHE_HEADER_SIZE, pt->data, "plaintext");
	if (r < 0) {
		fhe_plaintext_free(pt);
		return r;
	}
	pt->ntt = h.flags & F_NTT;
	pt->encoding = h.encoding;
	pt->scale = h.scale;
	*ret = pt;
	return 0;
}

int fhe_ciphertext_serialize(const struct fhe_ciphertext *ct, uint8_t **ret, size_t *ret_len)
{
	struct hdr h = { FHE_KIND_CIPHERTEXT, F_NTT, 0, 0, 0, { 0 }, 0 };
	const struct fhe_params *p;
	size_t body;
	uint8_t *b, *o;
	int r;

	if (!ct || !ret || !ret_len)
		return -EINVAL;
	p = ct->params;
	body = packed_size(p, ct->level);
	body = ct->seeded ? FHE_SEED_SIZE + body : 2 * body;
	r = alloc_out(body, 0, &b, ret_len);
	if (r < 0)
		return r;
	h.flags |= ct->seeded ? F_SEEDED : 0;
	h.encoding = ct->encoding;
	h.level = ct->level;
	h.body_len = (uint32_t)body;
	h.scale = ct->scale;
	memcpy(h.hash, p->hash, FHE_HASH_SIZE);
	o = write_hdr(b, &h);
	if (ct->seeded) {
		memcpy(o, ct->seed, FHE_SEED_SIZE);
		pack(p, ct->level, ct->c0, o + FHE_SEED_SIZE);
	} else {
		o = pack(p, ct->level, ct->c0, o);
		pack(p, ct->level, ct->c1, o);
	}
	*ret = b;
	return 0;
}

int fhe_ciphertext_deserialize(struct fhe_params *p, const uint8_t *buf, size_t len,
			       struct fhe_ciphertext **ret)
{
	struct fhe_ciphertext *ct;
	struct hdr h;
	size_t want;
	const uint8_t *o = buf + FHE_HEADER_SIZE;
	int r;

	if (!p || !ret)
		return -EINVAL;
	r = read_hdr(buf, len, FHE_KIND_CIPHERTEXT, p, &h);
	if (r < 0)
		return r;
	if (!(h.flags & F_NTT)) {
		fhe_set_error("ciphertext: not in NTT form");
		return -EBADMSG;
	}
	if (!(h.scale >= 1.0)) {
		fhe_set_error("ciphertext: scale below 1");
		return -EBADMSG;
	}
	want = packed_size(p, h.level);
	want = h.flags & F_SEEDED ? FHE_SEED_SIZE + want : 2 * want;
	if (h.body_len != want) {
		fhe_set_error("ciphertext: body is %u bytes, expected %zu", h.body_len, want);
		return -EBADMSG;
	}
	ct = fhe_ciphertext_alloc(p, h.level);	/* every residue is written below */
	if (!ct)
		return -ENOMEM;
	if (h.flags & F_SEEDED) {
		memcpy(ct->seed, o, FHE_SEED_SIZE);
		r = unpack(p, h.level, o + FHE_SEED_SIZE, ct->c0, "ciphertext c0");
		if (r == 0)
			r = pk_expand_a(p, ct->seed, ct->c1, h.level);
		ct->seeded = true;
	} else {
		r = unpack(p, h.level, o, ct->c0, "ciphertext c0");
		if (r == 0)
			r = unpack(p, h.level, o + packed_size(p, h.level), ct->c1, "ciphertext c1");
	}
	if (r < 0) {
		fhe_ciphertext_free(ct);
		return r;
	}
	ct->encoding = h.encoding;
	ct->scale = h.scale;
	*ret = ct;
	return 0;
}

int fhe_peek(const uint8_t *buf, size_t len, enum fhe_kind *ret_kind)
{
	if (!buf || len < FHE_HEADER_SIZE || memcmp(buf, magic, 4) != 0 ||
	    get16(buf + 4) != FHE_FORMAT_VERSION || buf[6] < FHE_KIND_PARAMS ||
	    buf[6] > FHE_KIND_CIPHERTEXT) {
		fhe_set_error("not a veil FHE object");
		return -EBADMSG;
	}
	if (ret_kind)
		*ret_kind = buf[6];
	return 0;
}
