// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dense layers y = W h + b under CKKS.
 *
 * Coefficient packing (the one veil uses): the bias is an extra column with
 * h_n = 1. A block of `cols` inputs and `rows` outputs is one polynomial,
 * w(X) = sum_r sum_j W'[r][j] X^(r*cols + cols-1-j), so coefficient
 * r*cols + cols-1 of w(X) h(X) is exactly sum_j W'[r][j] h_j and nothing wraps
 * around while rows*cols + cols - 1 <= N. W is encoded at 2^62, h at q_last,
 * so after the one rescale by q_last the outputs sit at scale 2^62. Every
 * other coefficient would reveal cross products of W and h to the key holder,
 * so the user masks them with fresh uniform residues inside the rescale.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fhe/internal.h"

int eval_rescale_masked(struct fhe_ciphertext *a, const uint64_t *mask);

void fhe_dense_free(struct fhe_dense *d)
{
	if (!d)
		return;
	if (d->ct)
		for (unsigned i = 0; i < d->row_blocks * d->col_blocks; i++)
			fhe_ciphertext_free(d->ct[i]);
	free(d->ct);
	fhe_params_free(d->params);
	free(d);
}

int fhe_dense_geometry(struct fhe_params *p, unsigned m, unsigned n, struct fhe_dense **ret)
{
	struct fhe_dense *d;
	unsigned cols;

	if (!p || !ret || m < 1 || n < 1 || m > (1u << 20) || n > (1u << 20)) {
		fhe_set_error("bad layer shape %u x %u", m, n);
		return -EINVAL;
	}
	if (p->nprimes < 2) {
		fhe_set_error("a dense layer needs a rescaling prime");
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	cols = n + 1 <= p->n / 2 ? n + 1 : p->n / 2;
	d->params = fhe_params_ref(p);
	d->m = m;
	d->n = n;
	d->cols = cols;
	d->rows = (p->n + 1) / cols - 1;
	if (d->rows > m)
		d->rows = m;
	d->row_blocks = (m + d->rows - 1) / d->rows;
	d->col_blocks = (n + 1 + cols - 1) / cols;
	*ret = d;
	return 0;
}

size_t fhe_dense_output_coeff(const struct fhe_dense *d, unsigned r)
{
	return (size_t)(r % d->rows) * d->cols + d->cols - 1;
}

int fhe_dense_seal(struct fhe_params *p, const struct fhe_public_key *pk,
		   const struct fhe_secret_key *sk, const double *W, const double *b,
		   unsigned m, unsigned n, struct fhe_dense **ret)
{
	struct fhe_dense *d = NULL;
	double *c = NULL;
	int r;

	if (!!pk == !!sk || !W || !b ||
	    (pk && !fhe_params_same(p, pk->params)) || (sk && !fhe_params_same(p, sk->params)))
		return -EINVAL;
	r = fhe_dense_geometry(p, m, n, &d);
	if (r < 0)
		return r;
	d->ct = calloc((size_t)d->row_blocks * d->col_blocks, sizeof(*d->ct));
	c = malloc(p->n * sizeof(*c));
	if (!d->ct || !c) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned rb = 0; rb < d->row_blocks; rb++)
		for (unsigned cb = 0; cb < d->col_blocks; cb++) {
			struct fhe_plaintext *pt;

			memset(c, 0, p->n * sizeof(*c));
			for (unsigned rl = 0; rl < d->rows && rb * d->rows + rl < m; rl++) {
				unsigned row = rb * d->rows + rl;

				for (unsigned j = 0; j < d->cols; j++) {
					unsigned col = cb * d->cols + j;
					double v = col < n ? W[(size_t)row * n + col] :
						   col == n ? b[row] : 0.0;

					c[rl * d->cols + d->cols - 1 - j] = v;
				}
			}
			r = fhe_encode_coeffs(p, c, p->n, FHE_DENSE_WEIGHT_SCALE, p->nprimes, &pt);
			if (r < 0)
				goto out;
			if (pk)
				r = fhe_encrypt(pk, pt, &d->ct[rb * d->col_blocks + cb]);
			else
				r = fhe_encrypt_symmetric(sk, pt, &d->ct[rb * d->col_blocks + cb]);
			fhe_plaintext_free(pt);
			if (r < 0)
				goto out;
		}
	*ret = d;
	d = NULL;
out:
	free(c);
	fhe_dense_free(d);
	return r;
}

/* Fresh uniform residues on primes 0..L-1 except at the output coefficients. */
static int make_mask(const struct fhe_dense *d, unsigned level, unsigned nrows, uint64_t *mask)
{
	const struct fhe_params *p = d->params;
	struct prg *g = prg_new_random();
	int r = 0;

	if (!g)
		return -ENOMEM;
	for (unsigned i = 0; i < level && r == 0; i++) {
		uint64_t *mi = mask + (size_t)i * p->n;

		r = prg_uniform(g, p->q[i], p->qbits[i], mi, p->n);
		for (unsigned rl = 0; rl < nrows; rl++)
			mi[(size_t)rl * d->cols + d->cols - 1] = 0;
	}
	prg_free(g);
	return r;
}

int fhe_dense_eval_ex(const struct fhe_dense *d, const double *h, bool mask,
		      struct fhe_ciphertext ***ret, unsigned *ret_count)
{
	const struct fhe_params *p;
	struct fhe_plaintext **hp = NULL;
	struct fhe_ciphertext **out = NULL;
	uint64_t *mk = NULL;
	double *hv = NULL;
	unsigned L;
	int r = 0;

	if (!d || !d->ct || !h || !ret || !ret_count)
		return -EINVAL;
	p = d->params;
	L = d->ct[0]->level;
	if (L < 2)
		return -ERANGE;
	hp = calloc(d->col_blocks, sizeof(*hp));
	out = calloc(d->row_blocks, sizeof(*out));
	hv = calloc(d->cols, sizeof(*hv));
	mk = mask ? aligned_alloc(64, (size_t)(L - 1) * p->n * 8) : NULL;
	if (!hp || !out || !hv || (mask && !mk)) {
		r = -ENOMEM;
		goto out;
	}
	/* h at scale q_last: the rescale then leaves W's scale */
	for (unsigned cb = 0; cb < d->col_blocks; cb++) {
		for (unsigned j = 0; j < d->cols; j++) {
			unsigned col = cb * d->cols + j;

			hv[j] = col < d->n ? h[col] : col == d->n ? 1.0 : 0.0;
		}
		r = fhe_encode_coeffs(d->params, hv, d->cols, (double)p->q[L - 1], L, &hp[cb]);
		if (r < 0)
			goto out;
	}
	for (unsigned rb = 0; rb < d->row_blocks; rb++) {
		const struct fhe_ciphertext *w0 = d->ct[rb * d->col_blocks];
		struct fhe_ciphertext *acc = fhe_ciphertext_new(d->params, L);
		unsigned nrows = d->m - rb * d->rows < d->rows ? d->m - rb * d->rows : d->rows;

		if (!acc) {
			r = -ENOMEM;
			goto out;
		}
		out[rb] = acc;
		for (unsigned cb = 0; cb < d->col_blocks; cb++) {
			const struct fhe_ciphertext *w = d->ct[rb * d->col_blocks + cb];

			if (w->level != L) {
				r = -EINVAL;
				goto out;
			}
			for (unsigned i = 0; i < L; i++) {
				size_t o = (size_t)i * p->n;

				if (cb == 0) {
					poly_mul(p->ntt[i], acc->c0 + o, w->c0 + o, hp[cb]->data + o);
					poly_mul(p->ntt[i], acc->c1 + o, w->c1 + o, hp[cb]->data + o);
				} else {
					poly_mul_add(p->ntt[i], acc->c0 + o, w->c0 + o, hp[cb]->data + o);
					poly_mul_add(p->ntt[i], acc->c1 + o, w->c1 + o, hp[cb]->data + o);
				}
			}
		}
		acc->scale = w0->scale * hp[0]->scale;
		acc->encoding = FHE_ENC_COEFFS;
		if (mask) {
			r = make_mask(d, L - 1, nrows, mk);
			if (r < 0)
				goto out;
		}
		r = eval_rescale_masked(acc, mk);
		if (r < 0)
			goto out;
	}
	*ret = out;
	*ret_count = d->row_blocks;
	out = NULL;
out:
	if (hp)
		for (unsigned cb = 0; cb < d->col_blocks; cb++)
			fhe_plaintext_free(hp[cb]);
	free(hp);
	free(hv);
	free(mk);
	fhe_ciphertexts_free(out, d->row_blocks);
	return r;
}

int fhe_dense_eval(const struct fhe_dense *d, const double *h, struct fhe_ciphertext ***ret,
		   unsigned *ret_count)
{
	return fhe_dense_eval_ex(d, h, true, ret, ret_count);
}

int fhe_dense_decode(const struct fhe_dense *d, struct fhe_plaintext *const *pts, double *y)
{
	size_t idx[64];

	if (!d || !pts || !y)
		return -EINVAL;
	for (unsigned rb = 0; rb < d->row_blocks; rb++) {
		unsigned base = rb * d->rows;
		unsigned nrows = d->m - base < d->rows ? d->m - base : d->rows;

		if (!pts[rb] || !fhe_params_same(pts[rb]->params, d->params))
			return -EINVAL;
		for (unsigned k = 0; k < nrows; k += 64) {
			unsigned c = nrows - k < 64 ? nrows - k : 64;
			int r;

			for (unsigned j = 0; j < c; j++)
				idx[j] = fhe_dense_output_coeff(d, base + k + j);
			r = fhe_decode_coeffs(pts[rb], idx, c, y + base + k);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int fhe_dense_decrypt(const struct fhe_secret_key *sk, const struct fhe_dense *d,
		      struct fhe_ciphertext *const *cts, unsigned count,
		      const struct fhe_flood *flood, double *y)
{
	size_t idx[64];

	if (!sk || !d || !cts || !y || count != d->row_blocks)
		return -EINVAL;
	for (unsigned rb = 0; rb < d->row_blocks; rb++) {
		unsigned base = rb * d->rows;
		unsigned nrows = d->m - base < d->rows ? d->m - base : d->rows;

		if (!cts[rb] || cts[rb]->encoding != FHE_ENC_COEFFS)
			return -EINVAL;
		for (unsigned k = 0; k < nrows; k += 64) {
			unsigned c = nrows - k < 64 ? nrows - k : 64;
			int r;

			for (unsigned j = 0; j < c; j++)
				idx[j] = fhe_dense_output_coeff(d, base + k + j);
			r = fhe_decrypt_coeffs(sk, cts[rb], idx, c, flood, y + base + k);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---- column-packed slots, for comparison ---- */

#define SLOT_SCALE 0x1p40

int fhe_dense_slots_seal(struct fhe_params *p, const struct fhe_public_key *pk,
			 const double *W, const double *b, unsigned m, unsigned n,
			 struct fhe_ciphertext ***ret_cols, struct fhe_ciphertext **ret_bias)
{
	struct fhe_ciphertext **cols;
	struct fhe_plaintext *pt = NULL;
	double *col;
	int r = 0;

	if (!p || !pk || !W || !b || m < 1 || m > p->n / 2 || n < 1 || p->nprimes < 2)
		return -EINVAL;
	cols = calloc(n, sizeof(*cols));
	col = malloc(m * sizeof(*col));
	if (!cols || !col) {
		free(cols);
		free(col);
		return -ENOMEM;
	}
	for (unsigned j = 0; j < n && r == 0; j++) {
		for (unsigned i = 0; i < m; i++)
			col[i] = W[(size_t)i * n + j];
		r = fhe_encode_slots(p, col, m, SLOT_SCALE, p->nprimes, &pt);
		if (r == 0)
			r = fhe_encrypt(pk, pt, &cols[j]);
		fhe_plaintext_free(pt);
		pt = NULL;
	}
	if (r == 0)
		r = fhe_encode_slots(p, b, m, SLOT_SCALE * (double)p->q[p->nprimes - 1],
				     p->nprimes, &pt);
	if (r == 0)
		r = fhe_encrypt(pk, pt, ret_bias);
	fhe_plaintext_free(pt);
	free(col);
	if (r < 0) {
		fhe_ciphertexts_free(cols, n);
		return r;
	}
	*ret_cols = cols;
	return 0;
}

int fhe_dense_slots_eval(struct fhe_params *p, struct fhe_ciphertext *const *cols,
			 const struct fhe_ciphertext *bias, unsigned n, const double *h,
			 struct fhe_ciphertext **ret)
{
	struct fhe_ciphertext *acc = NULL, *t = NULL;
	double hs;
	int r;

	if (!p || !cols || !bias || !h || !ret || n < 1)
		return -EINVAL;
	hs = (double)p->q[bias->level - 1];
	r = fhe_ciphertext_copy(bias, &acc);
	for (unsigned j = 0; j < n && r == 0; j++) {
		r = fhe_ciphertext_copy(cols[j], &t);
		if (r == 0)
			r = fhe_mul_scalar(t, h[j], hs);
		if (r == 0) {
			t->scale = acc->scale;	/* equal up to rounding of the product */
			r = fhe_add(acc, t);
		}
		fhe_ciphertext_free(t);
		t = NULL;
	}
	if (r == 0)
		r = fhe_rescale(acc);
	if (r < 0) {
		fhe_ciphertext_free(acc);
		return r;
	}
	*ret = acc;
	return 0;
}
