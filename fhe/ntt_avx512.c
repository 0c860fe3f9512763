// SPDX-License-Identifier: GPL-2.0-only
/*
 * AVX-512 IFMA52 NTT: 8 lanes, Harvey butterflies with 52-bit Shoup
 * constants (vpmadd52{lo,hi}uq), q < 2^50 so lazy values < 4q fit 52 bits.
 * Distances >= 8 use whole vectors; 4, 2, 1 permute two vectors into pair
 * halves. Built with -mavx512f -mavx512ifma, called only after cpuid says so.
 */
#include <immintrin.h>

#include "fhe/internal.h"

void ntt_lane_index(unsigned dist, unsigned lane, unsigned *x, unsigned *y);

struct perm {
	__m512i x, y, a, b;	/* gather X, Y from (A,B); scatter back to A, B from (X,Y) */
};

static void make_perm(unsigned dist, struct perm *p)
{
	long long ix[8], iy[8], ia[8], ib[8];

	for (unsigned l = 0; l < 8; l++) {
		unsigned x, y;

		ntt_lane_index(dist, l, &x, &y);
		ix[l] = x;
		iy[l] = y;
		/* element x of the block came from X lane l: index l; y: 8 + l */
		if (x < 8)
			ia[x] = l;
		else
			ib[x - 8] = l;
		if (y < 8)
			ia[y] = 8 + l;
		else
			ib[y - 8] = 8 + l;
	}
	p->x = _mm512_loadu_si512(ix);
	p->y = _mm512_loadu_si512(iy);
	p->a = _mm512_loadu_si512(ia);
	p->b = _mm512_loadu_si512(ib);
}

static inline __m512i mulshoup(__m512i x, __m512i w, __m512i ws, __m512i q)
{
	const __m512i z = _mm512_setzero_si512();
	__m512i qt = _mm512_madd52hi_epu64(z, x, ws);
	__m512i a = _mm512_madd52lo_epu64(z, x, w);
	__m512i b = _mm512_madd52lo_epu64(z, qt, q);

	return _mm512_and_si512(_mm512_sub_epi64(a, b), _mm512_set1_epi64(MASK52));
}

static inline __m512i vcsub(__m512i x, __m512i q)
{
	return _mm512_min_epu64(x, _mm512_sub_epi64(x, q));
}

static inline void fwd_bf(__m512i *x, __m512i *y, __m512i w, __m512i ws, __m512i q, __m512i q2)
{
	__m512i u = vcsub(*x, q2);
	__m512i v = mulshoup(*y, w, ws, q);

	*x = _mm512_add_epi64(u, v);
	*y = _mm512_add_epi64(_mm512_sub_epi64(u, v), q2);
}

static inline void inv_bf(__m512i *x, __m512i *y, __m512i w, __m512i ws, __m512i q, __m512i q2)
{
	__m512i u = *x, v = *y;

	*x = vcsub(_mm512_add_epi64(u, v), q2);
	*y = mulshoup(_mm512_add_epi64(_mm512_sub_epi64(u, v), q2), w, ws, q);
}

void ntt_fwd_avx512(const struct ntt_table *t, uint64_t *a)
{
	const __m512i q = _mm512_set1_epi64(t->q), q2 = _mm512_set1_epi64(2 * t->q);
	unsigned n = t->n, d = n;
	struct perm pm[3];

	for (unsigned s = 0; s < 3; s++)
		make_perm(4u >> s, &pm[s]);
	for (unsigned m = 1; d > 8; m <<= 1) {
		d >>= 1;
		for (unsigned i = 0; i < m; i++) {
			const __m512i w = _mm512_set1_epi64(t->fwd[m + i]);
			const __m512i ws = _mm512_set1_epi64(t->fwd_s52[m + i]);
			uint64_t *x = a + 2 * i * d, *y = x + d;

			for (unsigned j = 0; j < d; j += 8) {
				__m512i vx = _mm512_loadu_si512(x + j), vy = _mm512_loadu_si512(y + j);

				fwd_bf(&vx, &vy, w, ws, q, q2);
				_mm512_storeu_si512(x + j, vx);
				_mm512_storeu_si512(y + j, vy);
			}
		}
	}
	/* distances 4, 2, 1, then the final reduction, block by block */
	for (unsigned blk = 0; blk < n / 16; blk++) {
		__m512i va = _mm512_loadu_si512(a + 16 * blk);
		__m512i vb = _mm512_loadu_si512(a + 16 * blk + 8);

		for (unsigned s = 0; s < 3; s++) {
			__m512i vx = _mm512_permutex2var_epi64(va, pm[s].x, vb);
			__m512i vy = _mm512_permutex2var_epi64(va, pm[s].y, vb);
			__m512i w = _mm512_loadu_si512(t->fx[s] + 8 * blk);
			__m512i ws = _mm512_loadu_si512(t->fx_s52[s] + 8 * blk);

			fwd_bf(&vx, &vy, w, ws, q, q2);
			va = _mm512_permutex2var_epi64(vx, pm[s].a, vy);
			vb = _mm512_permutex2var_epi64(vx, pm[s].b, vy);
		}
		va = vcsub(vcsub(va, q2), q);
		vb = vcsub(vcsub(vb, q2), q);
		_mm512_storeu_si512(a + 16 * blk, va);
		_mm512_storeu_si512(a + 16 * blk + 8, vb);
	}
}

void ntt_inv_avx512(const struct ntt_table *t, uint64_t *a)
{
	const __m512i q = _mm512_set1_epi64(t->q), q2 = _mm512_set1_epi64(2 * t->q);
	unsigned n = t->n, d = 16;
	struct perm pm[3];

	for (unsigned s = 0; s < 3; s++)
		make_perm(4u >> s, &pm[s]);
	/* distances 1, 2, 4 first */
	for (unsigned blk = 0; blk < n / 16; blk++) {
		__m512i va = _mm512_loadu_si512(a + 16 * blk);
		__m512i vb = _mm512_loadu_si512(a + 16 * blk + 8);

		for (int s = 2; s >= 0; s--) {
			__m512i vx = _mm512_permutex2var_epi64(va, pm[s].x, vb);
			__m512i vy = _mm512_permutex2var_epi64(va, pm[s].y, vb);
			__m512i w = _mm512_loadu_si512(t->ix[s] + 8 * blk);
			__m512i ws = _mm512_loadu_si512(t->ix_s52[s] + 8 * blk);

			inv_bf(&vx, &vy, w, ws, q, q2);
			va = _mm512_permutex2var_epi64(vx, pm[s].a, vy);
			vb = _mm512_permutex2var_epi64(vx, pm[s].b, vy);
		}
		_mm512_storeu_si512(a + 16 * blk, va);
		_mm512_storeu_si512(a + 16 * blk + 8, vb);
	}
	d = 8;
	for (unsigned m = n / 16; m >= 1; m >>= 1) {
		for (unsigned i = 0; i < m; i++) {
			const __m512i w = _mm512_set1_epi64(t->inv[m + i]);
			const __m512i ws = _mm512_set1_epi64(t->inv_s52[m + i]);
			uint64_t *x = a + 2 * i * d, *y = x + d;

			for (unsigned j = 0; j < d; j += 8) {
				__m512i vx = _mm512_loadu_si512(x + j), vy = _mm512_loadu_si512(y + j);

				inv_bf(&vx, &vy, w, ws, q, q2);
				_mm512_storeu_si512(x + j, vx);
				_mm512_storeu_si512(y + j, vy);
			}
		}
		d <<= 1;
	}
	{
		const __m512i w = _mm512_set1_epi64(t->ninv), ws = _mm512_set1_epi64(t->ninv_s52);

		for (unsigned j = 0; j < n; j += 8) {
			__m512i v = _mm512_loadu_si512(a + j);

			_mm512_storeu_si512(a + j, vcsub(mulshoup(v, w, ws, q), q));
		}
	}
}

/* c = a*b mod q (or c += a*b), Barrett with the estimate of mulmod_barrett(). */
void poly_mul_avx512(const struct ntt_table *t, uint64_t *c, const uint64_t *a,
		     const uint64_t *b, int accumulate)
{
	const __m512i z = _mm512_setzero_si512(), q = _mm512_set1_epi64(t->q);
	const __m512i mu = _mm512_set1_epi64(t->mu), m52 = _mm512_set1_epi64(MASK52);
	const __m128i sh_hi = _mm_cvtsi32_si128(54 - t->bits), sh_lo = _mm_cvtsi32_si128(t->bits - 2);

	for (unsigned k = 0; k < t->n; k += 8) {
		__m512i va = _mm512_loadu_si512(a + k), vb = _mm512_loadu_si512(b + k);
		__m512i lo = _mm512_madd52lo_epu64(z, va, vb);
		__m512i hi = _mm512_madd52hi_epu64(z, va, vb);
		__m512i h = _mm512_or_si512(_mm512_sll_epi64(hi, sh_hi), _mm512_srl_epi64(lo, sh_lo));
		__m512i qt = _mm512_madd52hi_epu64(z, h, mu);
		__m512i r = _mm512_and_si512(_mm512_sub_epi64(lo, _mm512_madd52lo_epu64(z, qt, q)), m52);

		r = vcsub(vcsub(r, q), q);
		if (accumulate)
			r = vcsub(_mm512_add_epi64(r, _mm512_loadu_si512(c + k)), q);
		_mm512_storeu_si512(c + k, r);
	}
}

/*
 * Rescale helpers. tmp = centered(last) mod q_i - (q_L mod q_i) * mask, where
 * last < q_L < 2^50 and big = q_i - (q_L mod q_i) is added when last > q_L/2.
 */
void rescale_prep_avx512(const struct ntt_table *t, uint64_t *tmp, const uint64_t *last,
			 uint64_t ql, const uint64_t *mask)
{
	const __m512i z = _mm512_setzero_si512(), q = _mm512_set1_epi64(t->q);
	const __m512i mu = _mm512_set1_epi64(t->mu), m52 = _mm512_set1_epi64(MASK52);
	const __m512i half = _mm512_set1_epi64(ql >> 1);
	const uint64_t qlmod = ql % t->q;
	const __m512i fix = _mm512_set1_epi64(t->q - qlmod);
	const __m512i w = _mm512_set1_epi64(qlmod), ws = _mm512_set1_epi64(shoup52(qlmod, t->q));
	const __m128i sh = _mm_cvtsi32_si128(t->bits - 2);

	for (unsigned k = 0; k < t->n; k += 8) {
		__m512i v = _mm512_loadu_si512(last + k);
		__m512i qt = _mm512_madd52hi_epu64(z, _mm512_srl_epi64(v, sh), mu);
		__m512i r = _mm512_and_si512(_mm512_sub_epi64(v, _mm512_madd52lo_epu64(z, qt, q)), m52);
		__mmask8 big = _mm512_cmpgt_epu64_mask(v, half);

		r = vcsub(vcsub(r, q), q);
		r = vcsub(_mm512_mask_add_epi64(r, big, r, fix), q);
		if (mask) {
			__m512i mq = vcsub(mulshoup(_mm512_loadu_si512(mask + k), w, ws, q), q);

			r = vcsub(_mm512_add_epi64(_mm512_sub_epi64(r, mq), q), q);
		}
		_mm512_storeu_si512(tmp + k, r);
	}
}

/* c = (c - tmp) * qinv mod q_i */
void rescale_finish_avx512(const struct ntt_table *t, uint64_t *c, const uint64_t *tmp,
			   uint64_t qinv)
{
	const __m512i q = _mm512_set1_epi64(t->q);
	const __m512i w = _mm512_set1_epi64(qinv), ws = _mm512_set1_epi64(shoup52(qinv, t->q));

	for (unsigned k = 0; k < t->n; k += 8) {
		__m512i d = _mm512_sub_epi64(_mm512_add_epi64(_mm512_loadu_si512(c + k), q),
					     _mm512_loadu_si512(tmp + k));

		_mm512_storeu_si512(c + k, vcsub(mulshoup(d, w, ws, q), q));
	}
}
