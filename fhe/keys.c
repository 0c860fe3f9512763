// SPDX-License-Identifier: GPL-2.0-only
/*
 * Keys. The secret s is ternary, expanded from a 32-byte seed, held in NTT
 * form on every prime in lib/secmem memory. The public key is (-a*s + e, a)
 * with a expanded from a public seed, both deterministic in the secret seed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "fhe/internal.h"
#include "lib/secmem.h"

void fhe_secret_key_free(struct fhe_secret_key *sk)
{
	if (!sk)
		return;
	secmem_free(sk->seed);	/* one block: seed, then s */
	fhe_params_free(sk->params);
	free(sk);
}

void fhe_public_key_free(struct fhe_public_key *pk)
{
	if (!pk)
		return;
	free(pk->p0);
	fhe_params_free(pk->params);
	free(pk);
}

const struct fhe_params *fhe_secret_key_params(const struct fhe_secret_key *sk)
{
	return sk->params;
}

const struct fhe_params *fhe_public_key_params(const struct fhe_public_key *pk)
{
	return pk->params;
}

int fhe_keygen(struct fhe_params *p, const uint8_t seed[FHE_SEED_SIZE],
	       struct fhe_secret_key **ret)
{
	struct fhe_secret_key *sk;
	struct prg *g;
	int8_t *s8;
	int r;

	if (!p || !seed || !ret)
		return -EINVAL;
	sk = calloc(1, sizeof(*sk));
	if (!sk)
		return -ENOMEM;
	sk->params = fhe_params_ref(p);
	/* one locked block (each lib/secmem allocation costs syscalls): seed, then s */
	sk->seed = secmem_alloc(64 + (size_t)p->nprimes * p->n * 8);
	s8 = malloc(p->n);	/* transient, wiped below */
	if (!sk->seed || !s8) {
		free(s8);
		fhe_secret_key_free(sk);
		return -ENOMEM;
	}
	sk->s = (uint64_t *)(sk->seed + 64);
	memcpy(sk->seed, seed, FHE_SEED_SIZE);
	g = prg_new(seed, "veil-fhe secret", p->hash);
	r = g ? prg_ternary(g, s8, p->n) : -ENOMEM;
	prg_free(g);
	if (r < 0) {
		explicit_bzero(s8, p->n);
		free(s8);
		fhe_secret_key_free(sk);
		return r;
	}
	small_to_ntt(p, s8, p->nprimes, sk->s);
	explicit_bzero(s8, p->n);
	free(s8);
	*ret = sk;
	return 0;
}

int fhe_keygen_random(struct fhe_params *p, struct fhe_secret_key **ret)
{
	uint8_t seed[FHE_SEED_SIZE];
	int r;

	if (RAND_priv_bytes(seed, sizeof(seed)) != 1)
		return -EIO;
	r = fhe_keygen(p, seed, ret);
	explicit_bzero(seed, sizeof(seed));
	return r;
}

/* pk1 = a from seed_a, on all primes, NTT form (uniform there as anywhere). */
int pk_expand_a(const struct fhe_params *p, const uint8_t seed_a[FHE_SEED_SIZE], uint64_t *a,
		unsigned level);
int pk_expand_a(const struct fhe_params *p, const uint8_t seed_a[FHE_SEED_SIZE], uint64_t *a,
		unsigned level)
{
	struct prg *g = prg_new(seed_a, "veil-fhe a", p->hash);
	int r = 0;

	if (!g)
		return -ENOMEM;
	for (unsigned i = 0; i < level && r == 0; i++)
		r = prg_uniform(g, p->q[i], p->qbits[i], a + (size_t)i * p->n, p->n);
	prg_free(g);
	return r;
}

/* pk0 = -(a*s) + e; e from the secret seed, so the key is deterministic. */
int pk_compute_p0(const struct fhe_secret_key *sk, const uint8_t seed_a[FHE_SEED_SIZE],
		  uint64_t *p0, uint64_t *p1);
int pk_compute_p0(const struct fhe_secret_key *sk, const uint8_t seed_a[FHE_SEED_SIZE],
		  uint64_t *p0, uint64_t *p1)
{
	const struct fhe_params *p = sk->params;
	size_t words = (size_t)p->nprimes * p->n;
	uint64_t *e = NULL;
	int8_t *e8 = NULL;
	struct prg *g = NULL;
	int r;

	r = pk_expand_a(p, seed_a, p1, p->nprimes);
	if (r < 0)
		return r;
	e = malloc(words * 8);
	e8 = malloc(p->n);
	g = prg_new(sk->seed, "veil-fhe pk error", p->hash);
	if (!e || !e8 || !g) {
		r = -ENOMEM;
		goto out;
	}
	r = prg_cbd(g, e8, p->n);
	if (r < 0)
		goto out;
	small_to_ntt(p, e8, p->nprimes, e);
	for (unsigned i = 0; i < p->nprimes; i++) {
		size_t o = (size_t)i * p->n;

		poly_mul(p->ntt[i], p0 + o, p1 + o, sk->s + o);
		poly_sub(p0 + o, e + o, p0 + o, p->n, p->q[i]);
	}
out:
	if (e)
		explicit_bzero(e, words * 8);
	if (e8)
		explicit_bzero(e8, p->n);
	free(e);
	free(e8);
	prg_free(g);
	return r;
}

int fhe_public_key_new(const struct fhe_secret_key *sk, struct fhe_public_key **ret)
{
	const struct fhe_params *p;
	struct fhe_public_key *pk;
	struct prg *g;
	size_t words;
	int r;

	if (!sk || !ret)
		return -EINVAL;
	p = sk->params;
	words = (size_t)p->nprimes * p->n;
	pk = calloc(1, sizeof(*pk));
	if (!pk)
		return -ENOMEM;
	pk->params = fhe_params_ref(sk->params);
	pk->p0 = malloc(2 * words * 8);
	if (!pk->p0) {
		fhe_public_key_free(pk);
		return -ENOMEM;
	}
	pk->p1 = pk->p0 + words;
	g = prg_new(sk->seed, "veil-fhe pk seed", p->hash);
	r = g ? prg_bytes(g, pk->seed_a, FHE_SEED_SIZE) : -ENOMEM;
	prg_free(g);
	ct_declassify(pk->seed_a, FHE_SEED_SIZE);	/* published with the key */
	if (r == 0)
		r = pk_compute_p0(sk, pk->seed_a, pk->p0, pk->p1);
	if (r < 0) {
		fhe_public_key_free(pk);
		return r;
	}
	*ret = pk;
	return 0;
}
