// SPDX-License-Identifier: GPL-2.0-only
/* Evaluation: add, sub, plaintext and scalar products, rescale, level drop. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fhe/internal.h"

static int same_scale(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fabs(a);
}

static int check_pair(const struct fhe_ciphertext *a, const struct fhe_ciphertext *b)
{
	if (!a || !b || !fhe_params_same(a->params, b->params)) {
		fhe_set_error("ciphertexts of different parameter sets");
		return -EINVAL;
	}
	if (a->level != b->level) {
		fhe_set_error("levels differ (%u, %u)", a->level, b->level);
		return -EINVAL;
	}
	if (!same_scale(a->scale, b->scale)) {
		fhe_set_error("scales differ (%g, %g)", a->scale, b->scale);
		return -EINVAL;
	}
	return 0;
}

int fhe_add(struct fhe_ciphertext *a, const struct fhe_ciphertext *b)
{
	const struct fhe_params *p;
	int r = check_pair(a, b);

	if (r < 0)
		return r;
	p = a->params;
	for (unsigned i = 0; i < a->level; i++) {
		size_t o = (size_t)i * p->n;

		poly_add(a->c0 + o, a->c0 + o, b->c0 + o, p->n, p->q[i]);
		poly_add(a->c1 + o, a->c1 + o, b->c1 + o, p->n, p->q[i]);
	}
	a->seeded = false;
	return 0;
}

int fhe_sub(struct fhe_ciphertext *a, const struct fhe_ciphertext *b)
{
	const struct fhe_params *p;
	int r = check_pair(a, b);

	if (r < 0)
		return r;
	p = a->params;
	for (unsigned i = 0; i < a->level; i++) {
		size_t o = (size_t)i * p->n;

		poly_sub(a->c0 + o, a->c0 + o, b->c0 + o, p->n, p->q[i]);
		poly_sub(a->c1 + o, a->c1 + o, b->c1 + o, p->n, p->q[i]);
	}
	a->seeded = false;
	return 0;
}

static int check_plain(const struct fhe_ciphertext *a, const struct fhe_plaintext *pt)
{
	if (!a || !pt || !fhe_params_same(a->params, pt->params) || !pt->ntt) {
		fhe_set_error("plaintext is not an NTT-form plaintext of this parameter set");
		return -EINVAL;
	}
	if (pt->level < a->level) {
		fhe_set_error("plaintext level %u is below the ciphertext's %u", pt->level,
			      a->level);
		return -EINVAL;
	}
	return 0;
}

int fhe_add_plain(struct fhe_ciphertext *a, const struct fhe_plaintext *pt)
{
	const struct fhe_params *p;
	int r = check_plain(a, pt);

	if (r < 0)
		return r;
	if (!same_scale(a->scale, pt->scale)) {
		fhe_set_error("scales differ (%g, %g)", a->scale, pt->scale);
		return -EINVAL;
	}
	p = a->params;
	for (unsigned i = 0; i < a->level; i++) {
		size_t o = (size_t)i * p->n;

		poly_add(a->c0 + o, a->c0 + o, pt->data + o, p->n, p->q[i]);
	}
	return 0;
}

int fhe_mul_plain(struct fhe_ciphertext *a, const struct fhe_plaintext *pt)
{
	const struct fhe_params *p;
	int r = check_plain(a, pt);

	if (r < 0)
		return r;
	p = a->params;
	for (unsigned i = 0; i < a->level; i++) {
		size_t o = (size_t)i * p->n;

		poly_mul(p->ntt[i], a->c0 + o, a->c0 + o, pt->data + o);
		poly_mul(p->ntt[i], a->c1 + o, a->c1 + o, pt->data + o);
	}
	a->scale *= pt->scale;
	a->seeded = false;
	return 0;
}

int fhe_mul_scalar(struct fhe_ciphertext *a, double value, double scale)
{
	const struct fhe_params *p;
	int r;

	if (!a || !(scale >= 1.0))
		return -EINVAL;
	p = a->params;
	{
		/* residues of round(value*scale) on every prime of the level */
		uint64_t tmp[FHE_MAX_PRIMES * 1];
		struct fhe_params *pp = a->params;
		uint64_t *col = calloc((size_t)pp->n * a->level, 8);

		if (!col)
			return -ENOMEM;
		r = fhe_encode_double(pp, value * scale, a->level, col);
		for (unsigned i = 0; i < a->level; i++)
			tmp[i] = col[(size_t)i * pp->n];
		free(col);
		if (r < 0)
			return r;
		for (unsigned i = 0; i < a->level; i++) {
			uint64_t w = tmp[i], ws = shoup64(w, p->q[i]), q = p->q[i];
			uint64_t *c0 = a->c0 + (size_t)i * p->n, *c1 = a->c1 + (size_t)i * p->n;

			for (unsigned k = 0; k < p->n; k++) {
				c0[k] = csub(mul_shoup_lazy(c0[k], w, ws, q), q);
				c1[k] = csub(mul_shoup_lazy(c1[k], w, ws, q), q);
			}
		}
	}
	a->scale *= scale;
	a->seeded = false;
	return 0;
}

/* tmp = centered(last) mod q_i - (q_L mod q_i) * mask, as rescale_prep_avx512() */
static void rescale_prep(const struct ntt_table *t, uint64_t *tmp, const uint64_t *last,
			 uint64_t ql, const uint64_t *mask)
{
	uint64_t qi = t->q, qlmod = ql % qi, fix = qi - qlmod, half = ql >> 1;
	uint64_t qls = shoup64(qlmod, qi);

	for (unsigned k = 0; k < t->n; k++) {
		uint64_t v = last[k];
		uint64_t big = -(uint64_t)(v > half);
		uint64_t r = csub(mulmod_barrett(v, 1, qi, t->bits, t->mu) + (big & fix), qi);

		if (mask)
			r = submod(r, csub(mul_shoup_lazy(mask[k], qlmod, qls, qi), qi), qi);
		tmp[k] = r;
	}
}

/*
 * Divide by the last prime q_L with rounding. With `mask` (residues of a
 * coefficient-form polynomial r on primes 0..L-2), c0 also gains r: folding
 * q_L*r into the rescale's own NTT input costs no extra transform.
 */
int eval_rescale_masked(struct fhe_ciphertext *a, const uint64_t *mask);
int eval_rescale_masked(struct fhe_ciphertext *a, const uint64_t *mask)
{
	const struct fhe_params *p;
	unsigned L, n;
	uint64_t *last, *tmp, *c;
	uint64_t ql;

	if (!a)
		return -EINVAL;
	if (a->level < 2) {
		fhe_set_error("no prime left to rescale by");
		return -ERANGE;
	}
	p = a->params;
	L = a->level - 1;	/* index of the prime dropped */
	n = p->n;
	ql = p->q[L];
	last = aligned_alloc(64, (size_t)n * 8);
	tmp = aligned_alloc(64, (size_t)n * 8);
	if (!last || !tmp) {
		free(last);
		free(tmp);
		return -ENOMEM;
	}
	for (int poly = 0; poly < 2; poly++) {
		uint64_t *cp = poly ? a->c1 : a->c0;

		memcpy(last, cp + (size_t)L * n, (size_t)n * 8);
		ntt_inv(p->ntt[L], last);
		for (unsigned i = 0; i < L; i++) {
			const uint64_t *mi = mask && poly == 0 ? mask + (size_t)i * n : NULL;

			c = cp + (size_t)i * n;
			if (ntt_isa() == FHE_ISA_AVX512IFMA) {
				rescale_prep_avx512(p->ntt[i], tmp, last, ql, mi);
				ntt_fwd(p->ntt[i], tmp);
				rescale_finish_avx512(p->ntt[i], c, tmp, p->qinv[L][i]);
				continue;
			}
			rescale_prep(p->ntt[i], tmp, last, ql, mi);
			ntt_fwd(p->ntt[i], tmp);
			{
				uint64_t qi = p->q[i], w = p->qinv[L][i], ws = p->qinv_s[L][i];

				for (unsigned k = 0; k < n; k++)
					c[k] = csub(mul_shoup_lazy(c[k] + qi - tmp[k], w, ws, qi), qi);
			}
		}
	}
	free(last);
	free(tmp);
	/* the second half (c1) moves down: residues are prime-major */
	memmove(a->c0 + (size_t)L * n, a->c1, (size_t)L * n * 8);
	a->c1 = a->c0 + (size_t)L * n;
	a->level = L;
	a->scale /= (double)ql;
	a->seeded = false;
	return 0;
}

int fhe_rescale(struct fhe_ciphertext *a)
{
	return eval_rescale_masked(a, NULL);
}

int fhe_drop_to_level(struct fhe_ciphertext *a, unsigned level)
{
	size_t n;

	if (!a || level < 1 || level > a->level)
		return -EINVAL;
	n = a->params->n;
	memmove(a->c0 + (size_t)level * n, a->c1, (size_t)level * n * 8);
	a->c1 = a->c0 + (size_t)level * n;
	a->level = level;
	a->seeded = false;
	return 0;
}
