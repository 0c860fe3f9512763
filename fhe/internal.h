/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals shared by the fhe/ sources; not part of the public API. */
#ifndef VEIL_FHE_INTERNAL_H
#define VEIL_FHE_INTERNAL_H

#include <stdint.h>

#include "fhe/fhe.h"

typedef unsigned __int128 u128;

#define MASK52 ((1ull << 52) - 1)

/* Per-prime NTT tables. Powers of psi (a primitive 2N-th root) in bit-reversed order. */
struct ntt_table {
	uint64_t q;
	unsigned log_n, n, bits;
	uint64_t mu;		/* floor(2^(50+bits) / q): Barrett for a*b mod q */
	uint64_t *fwd, *fwd_s64, *fwd_s52;	/* psi^bitrev(k), Shoup 64 and 52 */
	uint64_t *inv, *inv_s64, *inv_s52;	/* psi^-bitrev(k) */
	uint64_t ninv, ninv_s64, ninv_s52;
	/* AVX-512: twiddles of the stages with distance 4, 2, 1 expanded per lane */
	uint64_t *fx[3], *fx_s52[3], *ix[3], *ix_s52[3];
	/* AVX2 (double precision): w and w/q */
	double *fwd_d, *fwd_dq, *inv_d, *inv_dq;
	double ninv_d, ninv_dq;
	double *fx_d[2], *fx_dq[2], *ix_d[2], *ix_dq[2];	/* distance 2, 1 */
};

struct fhe_params {
	int refs;
	unsigned preset;
	unsigned log_n, n, nprimes;
	uint64_t q[FHE_MAX_PRIMES];
	unsigned qbits[FHE_MAX_PRIMES];
	double logq;
	uint8_t hash[FHE_HASH_SIZE];
	struct ntt_table *ntt[FHE_MAX_PRIMES];
	/* qinv[l][i] = q_l^-1 mod q_i (rescale), with Shoup 64 */
	uint64_t qinv[FHE_MAX_PRIMES][FHE_MAX_PRIMES], qinv_s[FHE_MAX_PRIMES][FHE_MAX_PRIMES];
};

struct fhe_secret_key {
	struct fhe_params *params;
	uint8_t *seed;		/* secmem block: FHE_SEED_SIZE, then s at +64 */
	uint64_t *s;		/* nprimes * N, NTT form, inside that block */
};

struct fhe_public_key {
	struct fhe_params *params;
	uint8_t seed_a[FHE_SEED_SIZE];	/* pk1 = a expands from it */
	uint64_t *p0, *p1;	/* nprimes * N, NTT form */
};

/*
 * Constant-time checking (tests/fhe/ct_test): values derived from the secret
 * that are public by design (the public key's seed) are declassified for
 * valgrind memcheck. Outside valgrind this is a few no-op instructions.
 */
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define ct_declassify(p, len) VALGRIND_MAKE_MEM_DEFINED(p, len)
#else
#define ct_declassify(p, len) ((void)(p), (void)(len))
#endif

/* ---- modular arithmetic ---- */
static inline uint64_t shoup64(uint64_t w, uint64_t q)
{
	return (uint64_t)(((u128)w << 64) / q);
}

static inline uint64_t shoup52(uint64_t w, uint64_t q)
{
	return (uint64_t)(((u128)w << 52) / q);
}

/* x * w mod q in [0, 2q), x < 2^64 (Harvey). */
static inline uint64_t mul_shoup_lazy(uint64_t x, uint64_t w, uint64_t ws, uint64_t q)
{
	uint64_t qt = (uint64_t)(((u128)x * ws) >> 64);

	return x * w - qt * q;
}

/* x - q if x >= q (x < 2q < 2^63), with no branch for the compiler to make */
static inline uint64_t csub(uint64_t x, uint64_t q)
{
	uint64_t d = x - q;

	return d + (q & (0 - (d >> 63)));
}

static inline uint64_t mulmod_slow(uint64_t a, uint64_t b, uint64_t q)
{
	return (uint64_t)(((u128)a * b) % q);
}

/* a*b mod q for a, b < q < 2^50 by Barrett; the same estimate as the IFMA path. */
static inline uint64_t mulmod_barrett(uint64_t a, uint64_t b, uint64_t q, unsigned bits,
				      uint64_t mu)
{
	u128 x = (u128)a * b;
	uint64_t h = (uint64_t)(x >> (bits - 2));
	uint64_t qt = (uint64_t)(((u128)h * mu) >> 52);
	uint64_t r = (uint64_t)x - qt * q;

	r = csub(r, q);
	return csub(r, q);
}

static inline uint64_t addmod(uint64_t a, uint64_t b, uint64_t q)
{
	return csub(a + b, q);
}

static inline uint64_t submod(uint64_t a, uint64_t b, uint64_t q)
{
	return csub(a + q - b, q);
}

uint64_t fhe_powmod(uint64_t b, uint64_t e, uint64_t q);
uint64_t fhe_invmod(uint64_t a, uint64_t q);

/* A signed integer (|v| < 2^63) as a residue, without branches. */
static inline uint64_t from_signed(int64_t v, uint64_t q)
{
	return (uint64_t)v + (q & (uint64_t)(v >> 63));
}

/* ---- NTT ---- */
int ntt_table_new(uint64_t q, unsigned log_n, struct ntt_table **ret);
void ntt_table_free(struct ntt_table *t);
void ntt_fwd(const struct ntt_table *t, uint64_t *a);
void ntt_inv(const struct ntt_table *t, uint64_t *a);
void ntt_fwd_portable(const struct ntt_table *t, uint64_t *a);
void ntt_inv_portable(const struct ntt_table *t, uint64_t *a);
void ntt_fwd_avx2(const struct ntt_table *t, uint64_t *a);
void ntt_inv_avx2(const struct ntt_table *t, uint64_t *a);
void ntt_fwd_avx512(const struct ntt_table *t, uint64_t *a);
void ntt_inv_avx512(const struct ntt_table *t, uint64_t *a);
/* c[k] = a[k] * b[k] mod q, and c[k] += a[k] * b[k] (all < q). */
void poly_mul(const struct ntt_table *t, uint64_t *c, const uint64_t *a, const uint64_t *b);
void poly_mul_add(const struct ntt_table *t, uint64_t *c, const uint64_t *a, const uint64_t *b);
void poly_mul_avx512(const struct ntt_table *t, uint64_t *c, const uint64_t *a,
		     const uint64_t *b, int accumulate);
void rescale_prep_avx512(const struct ntt_table *t, uint64_t *tmp, const uint64_t *last,
			 uint64_t ql, const uint64_t *mask);
void rescale_finish_avx512(const struct ntt_table *t, uint64_t *c, const uint64_t *tmp,
			   uint64_t qinv);
void poly_add(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, uint64_t q);
void poly_sub(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, uint64_t q);
void poly_neg(uint64_t *c, size_t n, uint64_t q);
enum fhe_isa ntt_isa(void);

/* ---- randomness ---- */
struct prg;
/* A PRG keyed by SHAKE256(key || label || params hash). */
struct prg *prg_new(const uint8_t key[FHE_SEED_SIZE], const char *label, const uint8_t *hash);
/* A PRG keyed from OpenSSL's CSPRNG. */
struct prg *prg_new_random(void);
void prg_free(struct prg *g);
int prg_bytes(struct prg *g, void *out, size_t len);
/* Uniform residues mod q (rejection sampling on public or fresh randomness). */
int prg_uniform(struct prg *g, uint64_t q, unsigned bits, uint64_t *out, size_t n);
/* Ternary coefficients in {-1,0,1}, constant time; out as int8. */
int prg_ternary(struct prg *g, int8_t *out, size_t n);
/* Centered binomial, k = 21 (variance 10.5, sigma 3.24), constant time. */
int prg_cbd(struct prg *g, int8_t *out, size_t n);
/* Small signed coefficients -> NTT form residues on primes 0..level-1. */
void small_to_ntt(const struct fhe_params *p, const int8_t *v, unsigned level, uint64_t *out);

/* ---- misc ---- */
/* fhe_ciphertext_new without zeroing c0/c1: the caller writes every residue. */
struct fhe_ciphertext *fhe_ciphertext_alloc(struct fhe_params *p, unsigned level);
void fhe_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fhe_params_from_chain(unsigned log_n, unsigned nprimes, const uint64_t *q,
			  struct fhe_params **ret);
int fhe_params_same(const struct fhe_params *a, const struct fhe_params *b);
int fhe_encode_double(const struct fhe_params *p, double v, unsigned level, uint64_t *res);

#endif
