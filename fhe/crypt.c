// SPDX-License-Identifier: GPL-2.0-only
/*
 * Encryption (public key; symmetric with a seeded c1), decryption, and the
 * IND-CPA-D mitigation: Gaussian noise flooding at decryption, then rounding
 * at decode.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "fhe/internal.h"

int pk_expand_a(const struct fhe_params *p, const uint8_t seed_a[FHE_SEED_SIZE], uint64_t *a,
		unsigned level);

/* c0 and c1 uninitialised: for a reader that writes every residue (fhe/serial.c) */
struct fhe_ciphertext *fhe_ciphertext_alloc(struct fhe_params *p, unsigned level)
{
	struct fhe_ciphertext *ct;
	size_t words;

	if (!p || level < 1 || level > p->nprimes)
		return NULL;
	words = (size_t)level * p->n;
	ct = calloc(1, sizeof(*ct));
	if (!ct)
		return NULL;
	ct->c0 = aligned_alloc(64, 2 * words * 8);
	if (!ct->c0) {
		free(ct);
		return NULL;
	}
	ct->c1 = ct->c0 + words;
	ct->params = fhe_params_ref(p);
	ct->level = level;
	return ct;
}

struct fhe_ciphertext *fhe_ciphertext_new(struct fhe_params *p, unsigned level)
{
	struct fhe_ciphertext *ct = fhe_ciphertext_alloc(p, level);

	if (ct)
		memset(ct->c0, 0, 2 * (size_t)level * p->n * 8);
	return ct;
}

void fhe_ciphertext_free(struct fhe_ciphertext *ct)
{
	if (!ct)
		return;
	free(ct->c0);
	fhe_params_free(ct->params);
	free(ct);
}

void fhe_ciphertexts_free(struct fhe_ciphertext **v, unsigned count)
{
	if (!v)
		return;
	for (unsigned i = 0; i < count; i++)
		fhe_ciphertext_free(v[i]);
	free(v);
}

int fhe_ciphertext_copy(const struct fhe_ciphertext *ct, struct fhe_ciphertext **ret)
{
	struct fhe_ciphertext *c;

	if (!ct || !ret)
		return -EINVAL;
	c = fhe_ciphertext_new(ct->params, ct->level);
	if (!c)
		return -ENOMEM;
	memcpy(c->c0, ct->c0, 2 * (size_t)ct->level * ct->params->n * 8);
	c->encoding = ct->encoding;
	c->scale = ct->scale;
	c->seeded = ct->seeded;
	memcpy(c->seed, ct->seed, FHE_SEED_SIZE);
	*ret = c;
	return 0;
}

static int check_pt(const struct fhe_params *p, const struct fhe_plaintext *pt)
{
	if (!pt || !fhe_params_same(p, pt->params) || !pt->ntt || pt->level < 1 ||
	    pt->level > p->nprimes) {
		fhe_set_error("plaintext is not an NTT-form plaintext of this parameter set");
		return -EINVAL;
	}
	return 0;
}

int fhe_encrypt(const struct fhe_public_key *pk, const struct fhe_plaintext *pt,
		struct fhe_ciphertext **ret)
{
	const struct fhe_params *p;
	struct fhe_ciphertext *ct = NULL;
	struct prg *g = NULL;
	int8_t *small = NULL;
	uint64_t *u = NULL, *e = NULL;
	size_t words;
	int r;

	if (!pk || !ret)
		return -EINVAL;
	p = pk->params;
	r = check_pt(p, pt);
	if (r < 0)
		return r;
	words = (size_t)pt->level * p->n;
	ct = fhe_ciphertext_new(pk->params, pt->level);
	u = aligned_alloc(64, words * 8);
	e = aligned_alloc(64, words * 8);
	small = malloc(p->n);
	g = prg_new_random();
	if (!ct || !u || !e || !small || !g) {
		r = -ENOMEM;
		goto out;
	}
	r = prg_ternary(g, small, p->n);
	if (r < 0)
		goto out;
	small_to_ntt(p, small, pt->level, u);
	/* c0 = p0*u + e0 + m */
	r = prg_cbd(g, small, p->n);
	if (r < 0)
		goto out;
	small_to_ntt(p, small, pt->level, e);
	for (unsigned i = 0; i < pt->level; i++) {
		size_t o = (size_t)i * p->n;

		poly_add(ct->c0 + o, e + o, pt->data + o, p->n, p->q[i]);
		poly_mul_add(p->ntt[i], ct->c0 + o, pk->p0 + o, u + o);
	}
	/* c1 = p1*u + e1 */
	r = prg_cbd(g, small, p->n);
	if (r < 0)
		goto out;
	small_to_ntt(p, small, pt->level, ct->c1);
	for (unsigned i = 0; i < pt->level; i++) {
		size_t o = (size_t)i * p->n;

		poly_mul_add(p->ntt[i], ct->c1 + o, pk->p1 + o, u + o);
	}
	ct->scale = pt->scale;
	ct->encoding = pt->encoding;
	*ret = ct;
	ct = NULL;
out:
	if (u)
		explicit_bzero(u, words * 8);
	if (e)
		explicit_bzero(e, words * 8);
	if (small)
		explicit_bzero(small, p->n);
	free(u);
	free(e);
	free(small);
	prg_free(g);
	fhe_ciphertext_free(ct);
	return r;
}

int fhe_encrypt_symmetric(const struct fhe_secret_key *sk, const struct fhe_plaintext *pt,
			  struct fhe_ciphertext **ret)
{
	const struct fhe_params *p;
	struct fhe_ciphertext *ct = NULL;
	struct prg *g = NULL;
	int8_t *small = NULL;
	size_t words;
	int r;

	if (!sk || !ret)
		return -EINVAL;
	p = sk->params;
	r = check_pt(p, pt);
	if (r < 0)
		return r;
	words = (size_t)pt->level * p->n;
	ct = fhe_ciphertext_new(sk->params, pt->level);
	small = malloc(p->n);
	g = prg_new_random();
	if (!ct || !small || !g) {
		r = -ENOMEM;
		goto out;
	}
	if (RAND_bytes(ct->seed, FHE_SEED_SIZE) != 1) {
		r = -EIO;
		goto out;
	}
	r = pk_expand_a(p, ct->seed, ct->c1, pt->level);
	if (r < 0)
		goto out;
	r = prg_cbd(g, small, p->n);
	if (r < 0)
		goto out;
	/* c0 = e + m - a*s */
	small_to_ntt(p, small, pt->level, ct->c0);
	for (unsigned i = 0; i < pt->level; i++) {
		size_t o = (size_t)i * p->n;
		uint64_t *c0 = ct->c0 + o;

		poly_add(c0, c0, pt->data + o, p->n, p->q[i]);
		poly_neg(c0, p->n, p->q[i]);
		poly_mul_add(p->ntt[i], c0, ct->c1 + o, sk->s + o);
		poly_neg(c0, p->n, p->q[i]);
	}
	ct->seeded = true;
	ct->scale = pt->scale;
	ct->encoding = pt->encoding;
	*ret = ct;
	ct = NULL;
out:
	if (small)
		explicit_bzero(small, p->n);
	free(small);
	prg_free(g);
	fhe_ciphertext_free(ct);
	(void)words;
	return r;
}

/* m = c0 + c1*s, coefficient form. */
static int decrypt_raw(const struct fhe_secret_key *sk, const struct fhe_ciphertext *ct,
		       struct fhe_plaintext **ret)
{
	const struct fhe_params *p;
	struct fhe_plaintext *pt;

	if (!sk || !ct || !ret)
		return -EINVAL;
	p = sk->params;
	if (!fhe_params_same(p, ct->params) || ct->level < 1 || ct->level > p->nprimes) {
		fhe_set_error("ciphertext does not belong to this key's parameter set");
		return -EINVAL;
	}
	pt = fhe_plaintext_new(sk->params, ct->level);
	if (!pt)
		return -ENOMEM;
	for (unsigned i = 0; i < ct->level; i++) {
		size_t o = (size_t)i * p->n;

		memcpy(pt->data + o, ct->c0 + o, p->n * 8);
		poly_mul_add(p->ntt[i], pt->data + o, ct->c1 + o, sk->s + o);
		ntt_inv(p->ntt[i], pt->data + o);
	}
	pt->ntt = false;
	pt->scale = ct->scale;
	pt->encoding = ct->encoding;
	*ret = pt;
	return 0;
}

int fhe_decrypt_unflooded(const struct fhe_secret_key *sk, const struct fhe_ciphertext *ct,
			  struct fhe_plaintext **ret)
{
	return decrypt_raw(sk, ct, ret);
}

/* e mod q for any |e| < 2^63, without a branch on the sign */
static uint64_t signed_mod(int64_t e, uint64_t q)
{
	uint64_t neg = (uint64_t)(e >> 63);
	uint64_t a = (((uint64_t)e ^ neg) - neg) % q;

	return csub(a + (neg & (q - 2 * a)), q);
}

static const struct fhe_flood flood_default = {
	FHE_FLOOD_STAT_SEC, FHE_FLOOD_LOG2_QUERIES, FHE_FLOOD_NOISE_LOG2,
};

double fhe_flood_log2_sigma(const struct fhe_flood *f)
{
	if (!f)
		f = &flood_default;
	/* sigma = sqrt(12 * tau) * 2^(s/2) * 2^noise */
	return 0.5 * log2(12.0) + 0.5 * f->log2_queries + 0.5 * f->stat_sec + f->noise_log2;
}

double fhe_flood_bound(const struct fhe_flood *f, double scale)
{
	/* 8 sigma for the noise (exceeded with probability < 2^-48) + sigma for rounding */
	return 9.0 * exp2(fhe_flood_log2_sigma(f)) / scale;
}

static int flood_check(const struct fhe_flood *flood, double scale, double *ret_lsig)
{
	double lsig = fhe_flood_log2_sigma(flood);

	if (flood->stat_sec > 128 || flood->log2_queries > 64 || flood->noise_log2 > 60 ||
	    lsig > 44) {
		fhe_set_error("flooding parameters out of range");
		return -EINVAL;
	}
	if (!(scale > 0) || log2(scale) - lsig < 1) {
		fhe_set_error("scale 2^%.1f leaves no precision above the flooding noise 2^%.1f",
			      log2(scale), lsig);
		return -ERANGE;
	}
	*ret_lsig = lsig;
	return 0;
}

/* count Gaussians of std sigma, rounded to integers, from a fresh CSPRNG key */
static int gaussians(struct prg *g, double sigma, int64_t *out, size_t count)
{
	uint64_t buf[2];

	for (size_t k = 0; k < count; k += 2) {
		int r = prg_bytes(g, buf, sizeof(buf));
		double u1, u2, rad;

		if (r < 0)
			return r;
		u1 = ((buf[0] >> 11) + 1) * 0x1p-53;
		u2 = (buf[1] >> 11) * 0x1p-53;
		rad = sqrt(-2.0 * log(u1)) * sigma;
		out[k] = llround(rad * cos(2 * M_PI * u2));
		if (k + 1 < count)
			out[k + 1] = llround(rad * sin(2 * M_PI * u2));
	}
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

int fhe_decrypt_coeffs(const struct fhe_secret_key *sk, const struct fhe_ciphertext *ct,
		       const size_t *idx, size_t count, const struct fhe_flood *flood,
		       double *out)
{
	const struct fhe_params *p;
	struct fhe_plaintext *pt = NULL;
	struct prg *g = NULL;
	int64_t e[64];
	double lsig;
	int r;

	if (!sk || !ct || !out || (count && !idx))
		return -EINVAL;
	if (!flood)
		flood = &flood_default;
	r = flood_check(flood, ct->scale, &lsig);
	if (r < 0)
		return r;
	p = sk->params;
	for (size_t k = 0; k < count; k++)
		if (idx[k] >= p->n)
			return -EINVAL;
	r = decrypt_raw(sk, ct, &pt);
	if (r < 0)
		return r;
	g = prg_new_random();
	if (!g) {
		r = -ENOMEM;
		goto out;
	}
	/* only the released coefficients are flooded; the rest never leave */
	for (size_t k = 0; k < count && r == 0; k += 64) {
		size_t c = count - k < 64 ? count - k : 64;

		r = gaussians(g, exp2(lsig), e, c);
		for (size_t j = 0; j < c && r == 0; j++) {
			size_t at = idx[k + j];

			for (unsigned i = 0; i < pt->level; i++) {
				uint64_t *d = pt->data + (size_t)i * p->n + at;

				*d = addmod(*d, signed_mod(e[j], p->q[i]), p->q[i]);
			}
		}
	}
	explicit_bzero(e, sizeof(e));
	if (r < 0)
		goto out;
	pt->precision_bits = (unsigned)floor(log2(ct->scale) - lsig);
	r = fhe_decode_coeffs(pt, idx, count, out);
out:
	prg_free(g);
	fhe_plaintext_free(pt);
	return r;
}

int fhe_decrypt(const struct fhe_secret_key *sk, const struct fhe_ciphertext *ct,
		const struct fhe_flood *flood, struct fhe_plaintext **ret)
{
	const struct fhe_params *p;
	struct fhe_plaintext *pt;
	struct prg *g;
	double lsig, sigma;
	uint64_t buf[512];
	int r;

	if (!flood)
		flood = &flood_default;
	if (!ct)
		return -EINVAL;
	r = flood_check(flood, ct->scale, &lsig);
	if (r < 0)
		return r;
	r = decrypt_raw(sk, ct, &pt);
	if (r < 0)
		return r;
	p = pt->params;
	g = prg_new_random();
	if (!g) {
		fhe_plaintext_free(pt);
		return -ENOMEM;
	}
	sigma = exp2(lsig);
	/* Box-Muller: two Gaussians per pair of 53-bit uniforms */
	for (unsigned k = 0; k < p->n; k += 256) {
		r = prg_bytes(g, buf, sizeof(buf));
		if (r < 0)
			break;
		for (unsigned j = 0; j < 256 && k + j < p->n; j += 2) {
			double u1 = ((buf[j] >> 11) + 1) * 0x1p-53;
			double u2 = (buf[j + 1] >> 11) * 0x1p-53;
			double rad = sqrt(-2.0 * log(u1)) * sigma;
			int64_t e0 = llround(rad * cos(2 * M_PI * u2));
			int64_t e1 = llround(rad * sin(2 * M_PI * u2));

			for (unsigned i = 0; i < pt->level; i++) {
				uint64_t *d = pt->data + (size_t)i * p->n + k + j;

				d[0] = addmod(d[0], signed_mod(e0, p->q[i]), p->q[i]);
				d[1] = addmod(d[1], signed_mod(e1, p->q[i]), p->q[i]);
			}
		}
	}
	explicit_bzero(buf, sizeof(buf));
	prg_free(g);
	if (r < 0) {
		fhe_plaintext_free(pt);
		return r;
	}
	pt->precision_bits = (unsigned)floor(log2(ct->scale) - lsig);
	*ret = pt;
	return 0;
}
