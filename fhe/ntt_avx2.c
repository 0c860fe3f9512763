// SPDX-License-Identifier: GPL-2.0-only
/*
 * AVX2 + FMA NTT in double precision. AVX2 has no 64-bit multiply, so the
 * butterfly works on exact integers held in doubles (q < 2^50): the product
 * w*y is split exactly into hi + lo with one FMA, the quotient comes from the
 * precomputed w/q (Shoup's idea in floating point), and r = hi - qt*q + lo is
 * exact because it is an integer below 2^53. Values stay fully reduced, so
 * the result equals the integer paths bit for bit. Conversions use the 2^52
 * trick (values < 2^52 map to doubles exactly).
 */
#include <immintrin.h>

#include "fhe/internal.h"

static inline __m256d to_d(__m256i v)
{
	const __m256i magic = _mm256_set1_epi64x(0x4330000000000000ll);

	return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(v, magic)),
			     _mm256_set1_pd(0x1p52));
}

static inline __m256i to_u(__m256d v)
{
	const __m256i magic = _mm256_set1_epi64x(0x4330000000000000ll);

	return _mm256_xor_si256(_mm256_castpd_si256(_mm256_add_pd(v, _mm256_set1_pd(0x1p52))),
				magic);
}

/* y * w mod q in [0, q) for 0 <= y < q. */
static inline __m256d mulmod(__m256d y, __m256d w, __m256d wq, __m256d q)
{
	__m256d qt = _mm256_floor_pd(_mm256_mul_pd(y, wq));
	__m256d hi = _mm256_mul_pd(y, w);
	__m256d lo = _mm256_fmsub_pd(y, w, hi);
	__m256d r = _mm256_add_pd(_mm256_fnmadd_pd(qt, q, hi), lo);
	__m256d neg = _mm256_cmp_pd(r, _mm256_setzero_pd(), _CMP_LT_OQ);

	r = _mm256_add_pd(r, _mm256_and_pd(neg, q));
	return _mm256_sub_pd(r, _mm256_and_pd(_mm256_cmp_pd(r, q, _CMP_GE_OQ), q));
}

static inline void fwd_bf(__m256d *x, __m256d *y, __m256d w, __m256d wq, __m256d q)
{
	__m256d v = mulmod(*y, w, wq, q), u = *x;
	__m256d s = _mm256_add_pd(u, v), d = _mm256_sub_pd(u, v);

	*x = _mm256_sub_pd(s, _mm256_and_pd(_mm256_cmp_pd(s, q, _CMP_GE_OQ), q));
	*y = _mm256_add_pd(d, _mm256_and_pd(_mm256_cmp_pd(d, _mm256_setzero_pd(), _CMP_LT_OQ), q));
}

static inline void inv_bf(__m256d *x, __m256d *y, __m256d w, __m256d wq, __m256d q)
{
	__m256d u = *x, v = *y;
	__m256d s = _mm256_add_pd(u, v), d = _mm256_sub_pd(u, v);

	*x = _mm256_sub_pd(s, _mm256_and_pd(_mm256_cmp_pd(s, q, _CMP_GE_OQ), q));
	d = _mm256_add_pd(d, _mm256_and_pd(_mm256_cmp_pd(d, _mm256_setzero_pd(), _CMP_LT_OQ), q));
	*y = mulmod(d, w, wq, q);
}

static void convert_in(uint64_t *a, unsigned n)
{
	for (unsigned j = 0; j < n; j += 4)
		_mm256_storeu_pd((double *)(a + j), to_d(_mm256_loadu_si256((__m256i *)(a + j))));
}

static void convert_out(uint64_t *a, unsigned n)
{
	for (unsigned j = 0; j < n; j += 4)
		_mm256_storeu_si256((__m256i *)(a + j), to_u(_mm256_loadu_pd((double *)(a + j))));
}

void ntt_fwd_avx2(const struct ntt_table *t, uint64_t *a)
{
	const __m256d q = _mm256_set1_pd((double)t->q);
	unsigned n = t->n, d = n;
	double *f = (double *)a;

	convert_in(a, n);
	for (unsigned m = 1; d > 4; m <<= 1) {
		d >>= 1;
		for (unsigned i = 0; i < m; i++) {
			const __m256d w = _mm256_set1_pd(t->fwd_d[m + i]);
			const __m256d wq = _mm256_set1_pd(t->fwd_dq[m + i]);
			double *x = f + 2 * i * d, *y = x + d;

			for (unsigned j = 0; j < d; j += 4) {
				__m256d vx = _mm256_loadu_pd(x + j), vy = _mm256_loadu_pd(y + j);

				fwd_bf(&vx, &vy, w, wq, q);
				_mm256_storeu_pd(x + j, vx);
				_mm256_storeu_pd(y + j, vy);
			}
		}
	}
	for (unsigned blk = 0; blk < n / 8; blk++) {
		__m256d va = _mm256_loadu_pd(f + 8 * blk), vb = _mm256_loadu_pd(f + 8 * blk + 4);
		__m256d vx, vy;

		/* distance 2 */
		vx = _mm256_permute2f128_pd(va, vb, 0x20);
		vy = _mm256_permute2f128_pd(va, vb, 0x31);
		fwd_bf(&vx, &vy, _mm256_loadu_pd(t->fx_d[0] + 4 * blk),
		       _mm256_loadu_pd(t->fx_dq[0] + 4 * blk), q);
		va = _mm256_permute2f128_pd(vx, vy, 0x20);
		vb = _mm256_permute2f128_pd(vx, vy, 0x31);
		/* distance 1 */
		vx = _mm256_unpacklo_pd(va, vb);
		vy = _mm256_unpackhi_pd(va, vb);
		fwd_bf(&vx, &vy, _mm256_loadu_pd(t->fx_d[1] + 4 * blk),
		       _mm256_loadu_pd(t->fx_dq[1] + 4 * blk), q);
		_mm256_storeu_pd(f + 8 * blk, _mm256_unpacklo_pd(vx, vy));
		_mm256_storeu_pd(f + 8 * blk + 4, _mm256_unpackhi_pd(vx, vy));
	}
	convert_out(a, n);
}

void ntt_inv_avx2(const struct ntt_table *t, uint64_t *a)
{
	const __m256d q = _mm256_set1_pd((double)t->q);
	unsigned n = t->n, d;
	double *f = (double *)a;

	convert_in(a, n);
	for (unsigned blk = 0; blk < n / 8; blk++) {
		__m256d va = _mm256_loadu_pd(f + 8 * blk), vb = _mm256_loadu_pd(f + 8 * blk + 4);
		__m256d vx, vy;

		vx = _mm256_unpacklo_pd(va, vb);
		vy = _mm256_unpackhi_pd(va, vb);
		inv_bf(&vx, &vy, _mm256_loadu_pd(t->ix_d[1] + 4 * blk),
		       _mm256_loadu_pd(t->ix_dq[1] + 4 * blk), q);
		va = _mm256_unpacklo_pd(vx, vy);
		vb = _mm256_unpackhi_pd(vx, vy);
		vx = _mm256_permute2f128_pd(va, vb, 0x20);
		vy = _mm256_permute2f128_pd(va, vb, 0x31);
		inv_bf(&vx, &vy, _mm256_loadu_pd(t->ix_d[0] + 4 * blk),
		       _mm256_loadu_pd(t->ix_dq[0] + 4 * blk), q);
		_mm256_storeu_pd(f + 8 * blk, _mm256_permute2f128_pd(vx, vy, 0x20));
		_mm256_storeu_pd(f + 8 * blk + 4, _mm256_permute2f128_pd(vx, vy, 0x31));
	}
	d = 4;
	for (unsigned m = n / 8; m >= 1; m >>= 1) {
		for (unsigned i = 0; i < m; i++) {
			const __m256d w = _mm256_set1_pd(t->inv_d[m + i]);
			const __m256d wq = _mm256_set1_pd(t->inv_dq[m + i]);
			double *x = f + 2 * i * d, *y = x + d;

			for (unsigned j = 0; j < d; j += 4) {
				__m256d vx = _mm256_loadu_pd(x + j), vy = _mm256_loadu_pd(y + j);

				inv_bf(&vx, &vy, w, wq, q);
				_mm256_storeu_pd(x + j, vx);
				_mm256_storeu_pd(y + j, vy);
			}
		}
		d <<= 1;
	}
	{
		const __m256d w = _mm256_set1_pd(t->ninv_d), wq = _mm256_set1_pd(t->ninv_dq);

		for (unsigned j = 0; j < n; j += 4)
			_mm256_storeu_pd(f + j, mulmod(_mm256_loadu_pd(f + j), w, wq, q));
	}
	convert_out(a, n);
}
