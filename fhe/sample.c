// SPDX-License-Identifier: GPL-2.0-only
/*
 * Randomness and sampling. A PRG key comes from SHAKE256(seed || label ||
 * params hash) (or OpenSSL's CSPRNG); the stream is AES-256-CTR through EVP.
 * Secret-dependent samplers (ternary, centered binomial) take a fixed number
 * of random bytes per coefficient and have no secret-dependent branch or
 * address; tests/fhe/ct_check verifies that under valgrind.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fhe/internal.h"

struct prg {
	EVP_CIPHER_CTX *ctx;
};

static const uint8_t zeros[4096];

static struct prg *prg_from_key(const uint8_t key[32])
{
	static const uint8_t iv[16];
	struct prg *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->ctx = EVP_CIPHER_CTX_new();
	if (!g->ctx || EVP_EncryptInit_ex(g->ctx, EVP_aes_256_ctr(), NULL, key, iv) != 1) {
		prg_free(g);
		return NULL;
	}
	return g;
}

struct prg *prg_new(const uint8_t key[FHE_SEED_SIZE], const char *label, const uint8_t *hash)
{
	uint8_t k[32];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct prg *g = NULL;

	if (!md)
		return NULL;
	if (EVP_DigestInit_ex(md, EVP_shake256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, key, FHE_SEED_SIZE) == 1 &&
	    EVP_DigestUpdate(md, label, strlen(label) + 1) == 1 &&
	    EVP_DigestUpdate(md, hash, FHE_HASH_SIZE) == 1 &&
	    EVP_DigestFinalXOF(md, k, sizeof(k)) == 1)
		g = prg_from_key(k);
	EVP_MD_CTX_free(md);
	explicit_bzero(k, sizeof(k));
	return g;
}

struct prg *prg_new_random(void)
{
	uint8_t k[32];
	struct prg *g = NULL;

	if (RAND_bytes(k, sizeof(k)) == 1)
		g = prg_from_key(k);
	explicit_bzero(k, sizeof(k));
	return g;
}

void prg_free(struct prg *g)
{
	if (!g)
		return;
	EVP_CIPHER_CTX_free(g->ctx);
	free(g);
}

int prg_bytes(struct prg *g, void *out, size_t len)
{
	uint8_t *o = out;

	while (len) {
		int chunk = len > sizeof(zeros) ? (int)sizeof(zeros) : (int)len, outl = 0;

		if (EVP_EncryptUpdate(g->ctx, o, &outl, zeros, chunk) != 1 || outl != chunk)
			return -EIO;
		o += chunk;
		len -= chunk;
	}
	return 0;
}

int prg_uniform(struct prg *g, uint64_t q, unsigned bits, uint64_t *out, size_t n)
{
	uint64_t buf[512];
	uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
	size_t have = 0, used = 0;

	for (size_t k = 0; k < n;) {
		if (used == have) {
			int r = prg_bytes(g, buf, sizeof(buf));

			if (r < 0)
				return r;
			have = sizeof(buf) / 8;
			used = 0;
		}
		uint64_t v = buf[used++] & mask;

		if (v < q)	/* rejection depends only on discarded values */
			out[k++] = v;
	}
	return 0;
}

int prg_ternary(struct prg *g, int8_t *out, size_t n)
{
	uint32_t buf[1024];

	for (size_t k = 0; k < n; k += 1024) {
		size_t c = n - k < 1024 ? n - k : 1024;
		int r = prg_bytes(g, buf, c * 4);

		if (r < 0)
			return r;
		/* floor(3 * u / 2^32) is 0, 1 or 2 with bias < 2^-31 */
		for (size_t i = 0; i < c; i++)
			out[k + i] = (int8_t)((int)(((uint64_t)buf[i] * 3) >> 32) - 1);
		explicit_bzero(buf, sizeof(buf));
	}
	return 0;
}

static inline unsigned popcount32(uint32_t x)
{
	x = x - ((x >> 1) & 0x55555555u);
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	x = (x + (x >> 4)) & 0x0f0f0f0fu;
	return (x * 0x01010101u) >> 24;
}

int prg_cbd(struct prg *g, int8_t *out, size_t n)
{
	uint64_t buf[512];
	const uint64_t m21 = (1ull << 21) - 1;

	for (size_t k = 0; k < n; k += 512) {
		size_t c = n - k < 512 ? n - k : 512;
		int r = prg_bytes(g, buf, c * 8);

		if (r < 0)
			return r;
		for (size_t i = 0; i < c; i++) {
			uint64_t v = buf[i];

			out[k + i] = (int8_t)((int)popcount32((uint32_t)(v & m21)) -
					      (int)popcount32((uint32_t)((v >> 21) & m21)));
		}
		explicit_bzero(buf, sizeof(buf));
	}
	return 0;
}

void small_to_ntt(const struct fhe_params *p, const int8_t *v, unsigned level, uint64_t *out)
{
	for (unsigned i = 0; i < level; i++) {
		uint64_t *o = out + (size_t)i * p->n;

		for (unsigned k = 0; k < p->n; k++)
			o[k] = from_signed(v[k], p->q[i]);
		ntt_fwd(p->ntt[i], o);
	}
}
