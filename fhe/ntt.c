// SPDX-License-Identifier: GPL-2.0-only
/*
 * Negacyclic NTT: Cooley-Tukey forward (natural -> bit-reversed order) and
 * Gentleman-Sande inverse, Harvey's lazy butterflies with Shoup constants
 * (values < 4q forward, < 2q inverse; q < 2^50 so 4q < 2^52). The portable
 * path lives here; AVX2 and AVX-512 IFMA in their own objects, chosen at run
 * time from cpuid. Outputs are fully reduced, so every path is bit-identical.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fhe/internal.h"

static unsigned bitrev(unsigned x, unsigned bits)
{
	unsigned r = 0;

	for (unsigned i = 0; i < bits; i++)
		r |= ((x >> i) & 1) << (bits - 1 - i);
	return r;
}

/* A generator of the 2N-th roots: the smallest psi whose N-th power is -1. */
static uint64_t find_psi(uint64_t q, unsigned log_n)
{
	uint64_t m = 2ull << log_n;

	for (uint64_t g = 2; g < 1000000; g++) {
		uint64_t psi = fhe_powmod(g, (q - 1) / m, q);

		if (fhe_powmod(psi, m >> 1, q) == q - 1)
			return psi;
	}
	return 0;
}

void ntt_table_free(struct ntt_table *t)
{
	if (!t)
		return;
	free(t->fwd);
	free(t);
}

/*
 * Lane layouts of the small-distance stages (AVX-512: two vectors A = 0..7,
 * B = 8..15 hold 16 consecutive values; X gets the top halves of pairs, Y
 * the bottom). Shared with ntt_avx512.c through ntt_lane_index().
 */
void ntt_lane_index(unsigned dist, unsigned lane, unsigned *x, unsigned *y);
void ntt_lane_index(unsigned dist, unsigned lane, unsigned *x, unsigned *y)
{
	/* pair number `lane` within the 16-value block */
	unsigned grp = lane / dist, off = lane % dist;

	*x = grp * 2 * dist + off;
	*y = *x + dist;
}

int ntt_table_new(uint64_t q, unsigned log_n, struct ntt_table **ret)
{
	unsigned n = 1u << log_n;
	struct ntt_table *t;
	uint64_t psi, ipsi, *mem;
	double *dm;
	size_t words = 6 * (size_t)n + 12 * (size_t)(n / 2);

	psi = find_psi(q, log_n);
	if (!psi)
		return -EINVAL;
	ipsi = fhe_invmod(psi, q);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	/* one block: u64 tables, then double tables */
	mem = aligned_alloc(64, (words + 4 * (size_t)n + 8 * (size_t)(n / 2)) * 8);
	if (!mem) {
		free(t);
		return -ENOMEM;
	}
	t->q = q;
	t->log_n = log_n;
	t->n = n;
	t->bits = 64 - __builtin_clzll(q);
	t->mu = (uint64_t)(((u128)1 << (50 + t->bits)) / q);
	t->fwd = mem;
	t->fwd_s64 = mem + n;
	t->fwd_s52 = mem + 2 * n;
	t->inv = mem + 3 * n;
	t->inv_s64 = mem + 4 * n;
	t->inv_s52 = mem + 5 * n;
	for (unsigned s = 0; s < 3; s++) {
		t->fx[s] = mem + 6 * n + (4 * s + 0) * (n / 2);
		t->fx_s52[s] = mem + 6 * n + (4 * s + 1) * (n / 2);
		t->ix[s] = mem + 6 * n + (4 * s + 2) * (n / 2);
		t->ix_s52[s] = mem + 6 * n + (4 * s + 3) * (n / 2);
	}
	dm = (double *)(mem + words);
	t->fwd_d = dm;
	t->fwd_dq = dm + n;
	t->inv_d = dm + 2 * n;
	t->inv_dq = dm + 3 * n;
	for (unsigned s = 0; s < 2; s++) {
		t->fx_d[s] = dm + 4 * n + (4 * s + 0) * (n / 2);
		t->fx_dq[s] = dm + 4 * n + (4 * s + 1) * (n / 2);
		t->ix_d[s] = dm + 4 * n + (4 * s + 2) * (n / 2);
		t->ix_dq[s] = dm + 4 * n + (4 * s + 3) * (n / 2);
	}

	for (unsigned k = 0; k < n; k++) {
		unsigned e = bitrev(k, log_n);

		t->fwd[k] = fhe_powmod(psi, e, q);
		t->inv[k] = fhe_powmod(ipsi, e, q);
		t->fwd_s64[k] = shoup64(t->fwd[k], q);
		t->fwd_s52[k] = shoup52(t->fwd[k], q);
		t->inv_s64[k] = shoup64(t->inv[k], q);
		t->inv_s52[k] = shoup52(t->inv[k], q);
		t->fwd_d[k] = (double)t->fwd[k];
		t->fwd_dq[k] = (double)t->fwd[k] / (double)q;
		t->inv_d[k] = (double)t->inv[k];
		t->inv_dq[k] = (double)t->inv[k] / (double)q;
	}
	t->ninv = fhe_invmod(n, q);
	t->ninv_s64 = shoup64(t->ninv, q);
	t->ninv_s52 = shoup52(t->ninv, q);
	t->ninv_d = (double)t->ninv;
	t->ninv_dq = (double)t->ninv / (double)q;

	/*
	 * Expanded twiddles: for distance d in {4, 2, 1} (stage s = 0, 1, 2),
	 * entry blk*8 + lane is the twiddle of pair `lane` of 16-block blk.
	 * Forward stage with distance d has m = n / (2d) groups, twiddle m + g.
	 */
	for (unsigned s = 0; s < 3; s++) {
		unsigned d = 4u >> s, m = n / (2 * d);

		for (unsigned blk = 0; blk < n / 16; blk++)
			for (unsigned lane = 0; lane < 8; lane++) {
				unsigned x, y, g;

				ntt_lane_index(d, lane, &x, &y);
				g = (blk * 16 + x) / (2 * d);
				t->fx[s][blk * 8 + lane] = t->fwd[m + g];
				t->fx_s52[s][blk * 8 + lane] = t->fwd_s52[m + g];
				t->ix[s][blk * 8 + lane] = t->inv[m + g];
				t->ix_s52[s][blk * 8 + lane] = t->inv_s52[m + g];
			}
	}
	/*
	 * AVX2 (4 lanes, two vectors A, B = 8 values): distance 2 puts
	 * X = {A0,A1,B0,B1}; distance 1 puts X = {A0,B0,A2,B2}.
	 */
	for (unsigned blk = 0; blk < n / 8; blk++) {
		static const unsigned x2[4] = { 0, 1, 4, 5 }, x1[4] = { 0, 4, 2, 6 };

		for (unsigned lane = 0; lane < 4; lane++) {
			unsigned g2 = (blk * 8 + x2[lane]) / 4, m2 = n / 4;
			unsigned g1 = (blk * 8 + x1[lane]) / 2, m1 = n / 2;

			t->fx_d[0][blk * 4 + lane] = t->fwd_d[m2 + g2];
			t->fx_dq[0][blk * 4 + lane] = t->fwd_dq[m2 + g2];
			t->ix_d[0][blk * 4 + lane] = t->inv_d[m2 + g2];
			t->ix_dq[0][blk * 4 + lane] = t->inv_dq[m2 + g2];
			t->fx_d[1][blk * 4 + lane] = t->fwd_d[m1 + g1];
			t->fx_dq[1][blk * 4 + lane] = t->fwd_dq[m1 + g1];
			t->ix_d[1][blk * 4 + lane] = t->inv_d[m1 + g1];
			t->ix_dq[1][blk * 4 + lane] = t->inv_dq[m1 + g1];
		}
	}
	*ret = t;
	return 0;
}

void ntt_fwd_portable(const struct ntt_table *t, uint64_t *a)
{
	const uint64_t q = t->q, q2 = 2 * q;
	unsigned n = t->n, d = n;

	for (unsigned m = 1; m < n; m <<= 1) {
		d >>= 1;
		for (unsigned i = 0; i < m; i++) {
			const uint64_t w = t->fwd[m + i], ws = t->fwd_s64[m + i];
			uint64_t *x = a + 2 * i * d, *y = x + d;

			for (unsigned j = 0; j < d; j++) {
				uint64_t u = csub(x[j], q2);
				uint64_t v = mul_shoup_lazy(y[j], w, ws, q);

				x[j] = u + v;
				y[j] = u - v + q2;
			}
		}
	}
	for (unsigned j = 0; j < n; j++)
		a[j] = csub(csub(a[j], q2), q);
}

void ntt_inv_portable(const struct ntt_table *t, uint64_t *a)
{
	const uint64_t q = t->q, q2 = 2 * q;
	unsigned n = t->n, d = 1;

	for (unsigned m = n >> 1; m >= 1; m >>= 1) {
		for (unsigned i = 0; i < m; i++) {
			const uint64_t w = t->inv[m + i], ws = t->inv_s64[m + i];
			uint64_t *x = a + 2 * i * d, *y = x + d;

			for (unsigned j = 0; j < d; j++) {
				uint64_t u = x[j], v = y[j];

				x[j] = csub(u + v, q2);
				y[j] = mul_shoup_lazy(u - v + q2, w, ws, q);
			}
		}
		d <<= 1;
	}
	for (unsigned j = 0; j < n; j++)
		a[j] = csub(mul_shoup_lazy(a[j], t->ninv, t->ninv_s64, q), q);
}

/* ---- dispatch ---- */

static enum fhe_isa isa_forced = FHE_ISA_AUTO;
static enum fhe_isa isa_cur = FHE_ISA_AUTO;

bool fhe_isa_supported(enum fhe_isa isa)
{
	__builtin_cpu_init();
	switch (isa) {
	case FHE_ISA_AUTO:
	case FHE_ISA_PORTABLE:
		return true;
	case FHE_ISA_AVX2:
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	case FHE_ISA_AVX512IFMA:
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512ifma");
	}
	return false;
}

const char *fhe_isa_name(enum fhe_isa isa)
{
	switch (isa) {
	case FHE_ISA_AUTO:
		return "auto";
	case FHE_ISA_PORTABLE:
		return "portable";
	case FHE_ISA_AVX2:
		return "avx2";
	case FHE_ISA_AVX512IFMA:
		return "avx512ifma";
	}
	return "?";
}

static enum fhe_isa best_isa(void)
{
	if (fhe_isa_supported(FHE_ISA_AVX512IFMA))
		return FHE_ISA_AVX512IFMA;
	if (fhe_isa_supported(FHE_ISA_AVX2))
		return FHE_ISA_AVX2;
	return FHE_ISA_PORTABLE;
}

int fhe_set_isa(enum fhe_isa isa)
{
	if (isa > FHE_ISA_AVX512IFMA)
		return -EINVAL;
	if (!fhe_isa_supported(isa))
		return -ENOTSUP;
	isa_forced = isa;
	isa_cur = isa == FHE_ISA_AUTO ? best_isa() : isa;
	return 0;
}

enum fhe_isa ntt_isa(void)
{
	if (isa_cur == FHE_ISA_AUTO) {
		const char *e = getenv("VEIL_FHE_ISA");
		enum fhe_isa want = FHE_ISA_AUTO;

		if (e && strcmp(e, "portable") == 0)
			want = FHE_ISA_PORTABLE;
		else if (e && strcmp(e, "avx2") == 0)
			want = FHE_ISA_AVX2;
		else if (e && strcmp(e, "avx512ifma") == 0)
			want = FHE_ISA_AVX512IFMA;
		/* An unsupported request falls back to the best path. */
		isa_cur = want != FHE_ISA_AUTO && fhe_isa_supported(want) ? want : best_isa();
	}
	return isa_cur;
}

enum fhe_isa fhe_get_isa(void)
{
	return ntt_isa();
}

void ntt_fwd(const struct ntt_table *t, uint64_t *a)
{
	switch (ntt_isa()) {
	case FHE_ISA_AVX512IFMA:
		ntt_fwd_avx512(t, a);
		break;
	case FHE_ISA_AVX2:
		ntt_fwd_avx2(t, a);
		break;
	default:
		ntt_fwd_portable(t, a);
	}
}

void ntt_inv(const struct ntt_table *t, uint64_t *a)
{
	switch (ntt_isa()) {
	case FHE_ISA_AVX512IFMA:
		ntt_inv_avx512(t, a);
		break;
	case FHE_ISA_AVX2:
		ntt_inv_avx2(t, a);
		break;
	default:
		ntt_inv_portable(t, a);
	}
}

int fhe_ntt_forward(const struct fhe_params *p, unsigned prime, uint64_t *a)
{
	if (!p || !a || prime >= p->nprimes)
		return -EINVAL;
	for (unsigned i = 0; i < p->n; i++)
		if (a[i] >= p->q[prime])
			return -ERANGE;
	ntt_fwd(p->ntt[prime], a);
	return 0;
}

int fhe_ntt_inverse(const struct fhe_params *p, unsigned prime, uint64_t *a)
{
	if (!p || !a || prime >= p->nprimes)
		return -EINVAL;
	for (unsigned i = 0; i < p->n; i++)
		if (a[i] >= p->q[prime])
			return -ERANGE;
	ntt_inv(p->ntt[prime], a);
	return 0;
}

/* ---- pointwise ---- */

void poly_mul(const struct ntt_table *t, uint64_t *c, const uint64_t *a, const uint64_t *b)
{
	if (ntt_isa() == FHE_ISA_AVX512IFMA) {
		poly_mul_avx512(t, c, a, b, 0);
		return;
	}
	for (unsigned k = 0; k < t->n; k++)
		c[k] = mulmod_barrett(a[k], b[k], t->q, t->bits, t->mu);
}

void poly_mul_add(const struct ntt_table *t, uint64_t *c, const uint64_t *a, const uint64_t *b)
{
	if (ntt_isa() == FHE_ISA_AVX512IFMA) {
		poly_mul_avx512(t, c, a, b, 1);
		return;
	}
	for (unsigned k = 0; k < t->n; k++)
		c[k] = addmod(c[k], mulmod_barrett(a[k], b[k], t->q, t->bits, t->mu), t->q);
}

void poly_add(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, uint64_t q)
{
	for (size_t k = 0; k < n; k++)
		c[k] = addmod(a[k], b[k], q);
}

void poly_sub(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n, uint64_t q)
{
	for (size_t k = 0; k < n; k++)
		c[k] = submod(a[k], b[k], q);
}

void poly_neg(uint64_t *c, size_t n, uint64_t q)
{
	for (size_t k = 0; k < n; k++)
		c[k] = csub(q - c[k], q);
}
