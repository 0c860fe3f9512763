// SPDX-License-Identifier: GPL-2.0-only
/*
 * Parameter sets: NTT-friendly prime chains found deterministically, the
 * HomomorphicEncryption.org security check, named presets, a hash that binds
 * every object to its set.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fhe/internal.h"

static __thread char last_error[160];

void fhe_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

const char *fhe_last_error(void)
{
	return last_error;
}

uint64_t fhe_powmod(uint64_t b, uint64_t e, uint64_t q)
{
	uint64_t r = 1 % q;

	b %= q;
	while (e) {
		if (e & 1)
			r = mulmod_slow(r, b, q);
		b = mulmod_slow(b, b, q);
		e >>= 1;
	}
	return r;
}

uint64_t fhe_invmod(uint64_t a, uint64_t q)
{
	return fhe_powmod(a, q - 2, q);	/* q prime */
}

/* Deterministic Miller-Rabin for 64-bit n (these bases suffice below 2^64). */
static int is_prime(uint64_t n)
{
	static const uint64_t bases[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37 };
	uint64_t d = n - 1;
	unsigned s = 0;

	if (n < 2)
		return 0;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		if (n % bases[i] == 0)
			return n == bases[i];
	while (!(d & 1)) {
		d >>= 1;
		s++;
	}
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		uint64_t x = fhe_powmod(bases[i], d, n);

		if (x == 1 || x == n - 1)
			continue;
		for (unsigned r = 1; r < s; r++) {
			x = mulmod_slow(x, x, n);
			if (x == n - 1)
				break;
		}
		if (x != n - 1)
			return 0;
	}
	return 1;
}

/* HomomorphicEncryption.org standard, ternary secret, 128-bit classical. */
int fhe_security_max_logq(unsigned log_n)
{
	static const int maxq[] = { [10] = 27, [11] = 54, [12] = 109, [13] = 218,
				    [14] = 438, [15] = 881 };

	if (log_n < 10 || log_n > 15)
		return -EINVAL;
	return maxq[log_n];
}

int fhe_security_check(unsigned log_n, double logq)
{
	int max = fhe_security_max_logq(log_n);

	if (max < 0)
		return max;
	if (!(logq > 0) || logq > max) {
		fhe_set_error("log2 Q = %.1f exceeds %d, the 128-bit limit for N = 2^%u", logq,
			      max, log_n);
		return -EPERM;
	}
	return 0;
}

static void params_hash(struct fhe_params *p)
{
	uint8_t buf[8 + 8 * FHE_MAX_PRIMES];
	unsigned len = 0, hl = 0;

	buf[len++] = (uint8_t)p->log_n;
	buf[len++] = (uint8_t)p->nprimes;
	for (unsigned i = 0; i < p->nprimes; i++)
		for (unsigned b = 0; b < 8; b++)
			buf[len++] = (uint8_t)(p->q[i] >> (8 * b));
	EVP_Digest(buf, len, p->hash, &hl, EVP_sha256(), NULL);
}

void fhe_params_free(struct fhe_params *p)
{
	/* atomic: every object made from p holds a reference, and decryptd's workers share p */
	if (!p || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (unsigned i = 0; i < p->nprimes; i++)
		ntt_table_free(p->ntt[i]);
	free(p);
}

struct fhe_params *fhe_params_ref(struct fhe_params *p)
{
	if (p)
		__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

static int params_from_primes(unsigned log_n, unsigned nprimes, const uint64_t *q,
			      struct fhe_params **ret)
{
	struct fhe_params *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->refs = 1;
	p->log_n = log_n;
	p->n = 1u << log_n;
	p->nprimes = nprimes;
	for (unsigned i = 0; i < nprimes; i++) {
		p->q[i] = q[i];
		p->qbits[i] = 64 - __builtin_clzll(q[i]);
		p->logq += log2((double)q[i]);
	}
	params_hash(p);
	for (unsigned i = 0; i < nprimes; i++) {
		r = ntt_table_new(q[i], log_n, &p->ntt[i]);
		if (r < 0) {
			fhe_params_free(p);
			return r;
		}
	}
	for (unsigned l = 0; l < nprimes; l++)
		for (unsigned i = 0; i < nprimes; i++) {
			if (i == l)
				continue;
			p->qinv[l][i] = fhe_invmod(q[l] % q[i], q[i]);
			p->qinv_s[l][i] = shoup64(p->qinv[l][i], q[i]);
		}
	*ret = p;
	return 0;
}

/* Validates a chain read from outside or asked for by a caller. */
static int check_chain(unsigned log_n, unsigned nprimes, const uint64_t *q)
{
	double logq = 0;

	if (log_n < FHE_MIN_LOG_N || log_n > FHE_MAX_LOG_N) {
		fhe_set_error("N = 2^%u is outside 2^%d..2^%d", log_n, FHE_MIN_LOG_N, FHE_MAX_LOG_N);
		return -EINVAL;
	}
	if (nprimes < 1 || nprimes > FHE_MAX_PRIMES) {
		fhe_set_error("%u primes (1..%d allowed)", nprimes, FHE_MAX_PRIMES);
		return -EINVAL;
	}
	for (unsigned i = 0; i < nprimes; i++) {
		if (q[i] >> FHE_MAX_PRIME_BITS || q[i] < (1ull << (FHE_MIN_PRIME_BITS - 1)) ||
		    q[i] % (2ull << log_n) != 1 || !is_prime(q[i])) {
			fhe_set_error("modulus %u is not a prime = 1 mod 2N of %d..%d bits", i,
				      FHE_MIN_PRIME_BITS, FHE_MAX_PRIME_BITS);
			return -EINVAL;
		}
		for (unsigned j = 0; j < i; j++)
			if (q[j] == q[i]) {
				fhe_set_error("modulus %u repeats modulus %u", i, j);
				return -EINVAL;
			}
		logq += log2((double)q[i]);
	}
	return fhe_security_check(log_n, logq);
}

int fhe_params_new(unsigned log_n, unsigned nprimes, const unsigned *bits,
		   struct fhe_params **ret)
{
	uint64_t q[FHE_MAX_PRIMES];
	double logq = 0;
	int r;

	if (log_n < FHE_MIN_LOG_N || log_n > FHE_MAX_LOG_N || nprimes < 1 ||
	    nprimes > FHE_MAX_PRIMES || !bits) {
		fhe_set_error("bad N or prime count");
		return -EINVAL;
	}
	for (unsigned i = 0; i < nprimes; i++) {
		if (bits[i] < FHE_MIN_PRIME_BITS || bits[i] > FHE_MAX_PRIME_BITS) {
			fhe_set_error("prime %u: %u bits is outside %d..%d", i, bits[i],
				      FHE_MIN_PRIME_BITS, FHE_MAX_PRIME_BITS);
			return -EINVAL;
		}
		logq += bits[i];
	}
	/* Refuse before searching: the bound on log2 Q is the sum of the sizes. */
	r = fhe_security_check(log_n, logq - nprimes * 0.01);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < nprimes; i++) {
		uint64_t m = 2ull << log_n;
		uint64_t c = ((1ull << bits[i]) - 1) / m * m + 1;
		int found = 0;

		for (; c > (1ull << (bits[i] - 1)); c -= m) {
			int dup = 0;

			for (unsigned j = 0; j < i; j++)
				dup |= q[j] == c;
			if (!dup && is_prime(c)) {
				found = 1;
				break;
			}
		}
		if (!found) {
			fhe_set_error("no %u-bit prime = 1 mod 2N left", bits[i]);
			return -ENOENT;
		}
		q[i] = c;
	}
	r = check_chain(log_n, nprimes, q);
	if (r < 0)
		return r;
	return params_from_primes(log_n, nprimes, q, ret);
}

int fhe_params_preset(enum fhe_preset preset, struct fhe_params **ret)
{
	static const unsigned dense_bits[] = { 50, 50, 45 };
	unsigned log_n;
	struct fhe_params *p;
	int r;

	switch (preset) {
	case FHE_PRESET_DENSE_8192:
		log_n = 13;
		break;
	case FHE_PRESET_DENSE_16384:
		log_n = 14;
		break;
	case FHE_PRESET_DENSE_32768:
		log_n = 15;
		break;
	default:
		fhe_set_error("unknown parameter preset %d", (int)preset);
		return -EINVAL;
	}
	r = fhe_params_new(log_n, 3, dense_bits, &p);
	if (r < 0)
		return r;
	p->preset = preset;
	*ret = p;
	return 0;
}

int fhe_params_from_chain(unsigned log_n, unsigned nprimes, const uint64_t *q,
			  struct fhe_params **ret)
{
	int r = check_chain(log_n, nprimes, q);

	if (r < 0)
		return r;
	return params_from_primes(log_n, nprimes, q, ret);
}

int fhe_params_same(const struct fhe_params *a, const struct fhe_params *b)
{
	return a == b || (a && b && memcmp(a->hash, b->hash, FHE_HASH_SIZE) == 0);
}

unsigned fhe_params_n(const struct fhe_params *p)
{
	return p->n;
}

unsigned fhe_params_nprimes(const struct fhe_params *p)
{
	return p->nprimes;
}

uint64_t fhe_params_prime(const struct fhe_params *p, unsigned i)
{
	return i < p->nprimes ? p->q[i] : 0;
}

unsigned fhe_params_preset_id(const struct fhe_params *p)
{
	return p->preset;
}

const uint8_t *fhe_params_hash(const struct fhe_params *p)
{
	return p->hash;
}
