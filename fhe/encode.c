// SPDX-License-Identifier: GPL-2.0-only
/*
 * Encoding. Coefficients: value * scale rounded into every prime. Slots: the
 * canonical embedding through the special FFT over the powers of 5 mod 2N
 * (slot j is the evaluation at zeta^(5^j), zeta = exp(i pi / N)). Scalars:
 * a constant polynomial, whose NTT is the constant itself. Decoding composes
 * the residues (CRT) into centered integers and divides by the scale.
 */
#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fhe/internal.h"

struct fhe_plaintext *fhe_plaintext_new(struct fhe_params *p, unsigned level)
{
	struct fhe_plaintext *pt;

	if (!p || level < 1 || level > p->nprimes)
		return NULL;
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return NULL;
	pt->data = aligned_alloc(64, (size_t)level * p->n * 8);
	if (!pt->data) {
		free(pt);
		return NULL;
	}
	memset(pt->data, 0, (size_t)level * p->n * 8);
	pt->params = fhe_params_ref(p);
	pt->level = level;
	return pt;
}

void fhe_plaintext_free(struct fhe_plaintext *pt)
{
	if (!pt)
		return;
	if (pt->data)
		explicit_bzero(pt->data, (size_t)pt->level * pt->params->n * 8);
	free(pt->data);
	fhe_params_free(pt->params);
	free(pt);
}

static double level_logq(const struct fhe_params *p, unsigned level)
{
	double l = 0;

	for (unsigned i = 0; i < level; i++)
		l += log2((double)p->q[i]);
	return l;
}

/* round(v) into the residues res[i * stride], i < level. */
static int encode_one(const struct fhe_params *p, double v, unsigned level, uint64_t *res,
		      size_t stride, double maxlog)
{
	double r = nearbyint(v);

	if (!isfinite(r) || (r != 0 && log2(fabs(r)) >= maxlog)) {
		fhe_set_error("value %g does not fit the modulus at level %u", v, level);
		return -ERANGE;
	}
	if (fabs(r) < 0x1p63) {
		int64_t x = (int64_t)r;
		uint64_t ax = x < 0 ? -(uint64_t)x : (uint64_t)x;

		for (unsigned i = 0; i < level; i++) {
			uint64_t m = ax % p->q[i];

			res[i * stride] = x < 0 && m ? p->q[i] - m : m;
		}
	} else {
		int e;
		double f = frexp(fabs(r), &e);	/* r = f * 2^e, f in [0.5, 1) */
		uint64_t mant = (uint64_t)ldexp(f, 53);

		for (unsigned i = 0; i < level; i++) {
			uint64_t m = mulmod_slow(mant % p->q[i], fhe_powmod(2, e - 53, p->q[i]),
						 p->q[i]);

			res[i * stride] = r < 0 && m ? p->q[i] - m : m;
		}
	}
	return 0;
}

int fhe_encode_double(const struct fhe_params *p, double v, unsigned level, uint64_t *res)
{
	return encode_one(p, v, level, res, p->n, level_logq(p, level) - 1);
}

static int check_args(struct fhe_params *p, double scale, unsigned level)
{
	if (!p || level < 1 || level > p->nprimes) {
		fhe_set_error("level %u is not in 1..%u", level, p ? p->nprimes : 0);
		return -EINVAL;
	}
	if (!(scale >= 1.0) || !isfinite(scale)) {
		fhe_set_error("scale %g is not >= 1", scale);
		return -EINVAL;
	}
	return 0;
}

/* Coefficients c[0..N) (already scaled) into an NTT-form plaintext. */
static int from_coeffs(struct fhe_params *p, const double *c, double scale, unsigned level,
		       enum fhe_encoding enc, struct fhe_plaintext **ret)
{
	struct fhe_plaintext *pt = fhe_plaintext_new(p, level);
	double maxlog = level_logq(p, level) - 1;
	int r;

	if (!pt)
		return -ENOMEM;
	for (unsigned k = 0; k < p->n; k++) {
		if (c[k] == 0)
			continue;
		r = encode_one(p, c[k], level, pt->data + k, p->n, maxlog);
		if (r < 0) {
			fhe_plaintext_free(pt);
			return r;
		}
	}
	for (unsigned i = 0; i < level; i++)
		ntt_fwd(p->ntt[i], pt->data + (size_t)i * p->n);
	pt->ntt = true;
	pt->scale = scale;
	pt->encoding = enc;
	*ret = pt;
	return 0;
}

int fhe_encode_coeffs(struct fhe_params *p, const double *values, size_t count, double scale,
		      unsigned level, struct fhe_plaintext **ret)
{
	double *c;
	int r = check_args(p, scale, level);

	if (r < 0)
		return r;
	if (!values || count > p->n) {
		fhe_set_error("%zu coefficients do not fit N = %u", count, p->n);
		return -EINVAL;
	}
	c = calloc(p->n, sizeof(double));
	if (!c)
		return -ENOMEM;
	for (size_t k = 0; k < count; k++)
		c[k] = values[k] * scale;
	r = from_coeffs(p, c, scale, level, FHE_ENC_COEFFS, ret);
	free(c);
	return r;
}

/* ---- special FFT ---- */

static unsigned rot_group(unsigned j, unsigned m)
{
	uint64_t r = 1;

	for (unsigned i = 0; i < j; i++)
		r = r * 5 % m;
	return (unsigned)r;
}

static void bit_reverse(double complex *v, unsigned n)
{
	for (unsigned i = 1, j = 0; i < n; i++) {
		unsigned bit = n >> 1;

		for (; j & bit; bit >>= 1)
			j ^= bit;
		j ^= bit;
		if (i < j) {
			double complex t = v[i];

			v[i] = v[j];
			v[j] = t;
		}
	}
}

struct fft_ctx {
	unsigned slots, m;
	unsigned *rot;
	double complex *ksi;
};

static int fft_ctx_init(struct fft_ctx *f, unsigned n)
{
	f->slots = n / 2;
	f->m = 2 * n;
	f->rot = malloc(f->slots * sizeof(*f->rot));
	f->ksi = malloc((f->m + 1) * sizeof(*f->ksi));
	if (!f->rot || !f->ksi) {
		free(f->rot);
		free(f->ksi);
		return -ENOMEM;
	}
	for (unsigned j = 0, r = 1; j < f->slots; j++) {
		f->rot[j] = r;
		r = (unsigned)((uint64_t)r * 5 % f->m);
	}
	for (unsigned j = 0; j <= f->m; j++) {
		double a = 2 * M_PI * j / f->m;

		f->ksi[j] = cos(a) + I * sin(a);
	}
	(void)rot_group;
	return 0;
}

static void fft_ctx_done(struct fft_ctx *f)
{
	free(f->rot);
	free(f->ksi);
}

/* slots -> coefficients (before scaling) */
static void fft_special_inv(const struct fft_ctx *f, double complex *v)
{
	unsigned n = f->slots;

	for (unsigned len = n; len >= 2; len >>= 1) {
		unsigned lenh = len >> 1, lenq = len << 2;

		for (unsigned i = 0; i < n; i += len)
			for (unsigned j = 0; j < lenh; j++) {
				unsigned idx = (lenq - (f->rot[j] % lenq)) * (f->m / lenq);
				double complex u = v[i + j] + v[i + j + lenh];
				double complex w = (v[i + j] - v[i + j + lenh]) * f->ksi[idx];

				v[i + j] = u;
				v[i + j + lenh] = w;
			}
	}
	bit_reverse(v, n);
	for (unsigned i = 0; i < n; i++)
		v[i] /= n;
}

/* coefficients -> slots */
static void fft_special(const struct fft_ctx *f, double complex *v)
{
	unsigned n = f->slots;

	bit_reverse(v, n);
	for (unsigned len = 2; len <= n; len <<= 1) {
		unsigned lenh = len >> 1, lenq = len << 2;

		for (unsigned i = 0; i < n; i += len)
			for (unsigned j = 0; j < lenh; j++) {
				unsigned idx = (f->rot[j] % lenq) * (f->m / lenq);
				double complex u = v[i + j];
				double complex w = v[i + j + lenh] * f->ksi[idx];

				v[i + j] = u + w;
				v[i + j + lenh] = u - w;
			}
	}
}

int fhe_encode_slots_complex(struct fhe_params *p, const double *re, const double *im,
			     size_t count, double scale, unsigned level,
			     struct fhe_plaintext **ret)
{
	struct fft_ctx f;
	double complex *v;
	double *c;
	int r = check_args(p, scale, level);

	if (r < 0)
		return r;
	if (!re || count > p->n / 2) {
		fhe_set_error("%zu values do not fit %u slots", count, p->n / 2);
		return -EINVAL;
	}
	r = fft_ctx_init(&f, p->n);
	if (r < 0)
		return r;
	v = calloc(f.slots, sizeof(*v));
	c = calloc(p->n, sizeof(*c));
	if (!v || !c) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < count; k++)
		v[k] = re[k] + I * (im ? im[k] : 0.0);
	fft_special_inv(&f, v);
	for (unsigned k = 0; k < f.slots; k++) {
		c[k] = creal(v[k]) * scale;
		c[k + f.slots] = cimag(v[k]) * scale;
	}
	r = from_coeffs(p, c, scale, level, FHE_ENC_SLOTS, ret);
out:
	free(v);
	free(c);
	fft_ctx_done(&f);
	return r;
}

int fhe_encode_slots(struct fhe_params *p, const double *values, size_t count, double scale,
		     unsigned level, struct fhe_plaintext **ret)
{
	return fhe_encode_slots_complex(p, values, NULL, count, scale, level, ret);
}

int fhe_encode_scalar(struct fhe_params *p, double value, double scale, unsigned level,
		      struct fhe_plaintext **ret)
{
	struct fhe_plaintext *pt;
	uint64_t res[FHE_MAX_PRIMES];
	int r = check_args(p, scale, level);

	if (r < 0)
		return r;
	r = encode_one(p, value * scale, level, res, 1, level_logq(p, level) - 1);
	if (r < 0)
		return r;
	pt = fhe_plaintext_new(p, level);
	if (!pt)
		return -ENOMEM;
	for (unsigned i = 0; i < level; i++)
		for (unsigned k = 0; k < p->n; k++)
			pt->data[(size_t)i * p->n + k] = res[i];
	pt->ntt = true;
	pt->scale = scale;
	pt->encoding = FHE_ENC_SLOTS;
	*ret = pt;
	return 0;
}

/* ---- CRT composition ---- */

/*
 * Garner's mixed-radix digits v_i with the top digit centered, then Horner in
 * double: X = v_0 + q_0 (v_1 + q_1 (... + q_{L-2} v_{L-1})). Exact in the
 * digits; the only approximation is the final rounding to a double, and only
 * values within q_0...q_{L-2} of +-Q/2 (overflowed garbage) could be misread.
 */
struct crt {
	unsigned level;
	uint64_t q[FHE_MAX_PRIMES];
	const struct ntt_table *t[FHE_MAX_PRIMES];
	uint64_t inv[FHE_MAX_PRIMES][FHE_MAX_PRIMES];	/* q_j^-1 mod q_i, j < i */
	uint64_t inv_s[FHE_MAX_PRIMES][FHE_MAX_PRIMES];
};

static void crt_init(struct crt *c, const struct fhe_params *p, unsigned level)
{
	memset(c, 0, sizeof(*c));
	c->level = level;
	for (unsigned i = 0; i < level; i++) {
		c->q[i] = p->q[i];
		c->t[i] = p->ntt[i];
		for (unsigned j = 0; j < i; j++) {
			c->inv[i][j] = fhe_invmod(p->q[j] % p->q[i], p->q[i]);
			c->inv_s[i][j] = shoup64(c->inv[i][j], p->q[i]);
		}
	}
}

static double crt_compose(const struct crt *c, const uint64_t *x, size_t stride)
{
	uint64_t v[FHE_MAX_PRIMES];
	unsigned L = c->level;
	double d;

	for (unsigned i = 0; i < L; i++) {
		uint64_t qi = c->q[i], t = x[i * stride];

		for (unsigned j = 0; j < i; j++) {
			uint64_t vj = mulmod_barrett(v[j], 1, qi, c->t[i]->bits, c->t[i]->mu);

			t = csub(mul_shoup_lazy(t + qi - vj, c->inv[i][j], c->inv_s[i][j], qi), qi);
		}
		v[i] = t;
	}
	d = v[L - 1] > c->q[L - 1] / 2 ? -(double)(c->q[L - 1] - v[L - 1]) : (double)v[L - 1];
	for (int i = (int)L - 2; i >= 0; i--)
		d = d * (double)c->q[i] + (double)v[i];
	return d;
}

/* Coefficient-form copy of a plaintext's residues (caller frees). */
static uint64_t *coeff_copy(const struct fhe_plaintext *pt)
{
	const struct fhe_params *p = pt->params;
	size_t words = (size_t)pt->level * p->n;
	uint64_t *c = aligned_alloc(64, words * 8);

	if (!c)
		return NULL;
	memcpy(c, pt->data, words * 8);
	if (pt->ntt)
		for (unsigned i = 0; i < pt->level; i++)
			ntt_inv(p->ntt[i], c + (size_t)i * p->n);
	return c;
}

static double finish(const struct fhe_plaintext *pt, double v)
{
	v /= pt->scale;
	if (pt->precision_bits)
		v = nearbyint(ldexp(v, pt->precision_bits)) / ldexp(1.0, pt->precision_bits);
	return v;
}

int fhe_decode_coeffs(const struct fhe_plaintext *pt, const size_t *idx, size_t count,
		      double *out)
{
	const struct fhe_params *p;
	struct crt c;
	uint64_t *x;

	if (!pt || !out || (count && !idx) || !(pt->scale > 0))
		return -EINVAL;
	p = pt->params;
	for (size_t k = 0; k < count; k++)
		if (idx[k] >= p->n)
			return -EINVAL;
	x = coeff_copy(pt);
	if (!x)
		return -ENOMEM;
	crt_init(&c, p, pt->level);
	for (size_t k = 0; k < count; k++)
		out[k] = finish(pt, crt_compose(&c, x + idx[k], p->n));
	free(x);
	return 0;
}

int fhe_decode_slots(const struct fhe_plaintext *pt, size_t count, double *re, double *im)
{
	const struct fhe_params *p;
	struct fft_ctx f;
	struct crt c;
	double complex *v;
	uint64_t *x;
	int r;

	if (!pt || !re || !(pt->scale > 0))
		return -EINVAL;
	p = pt->params;
	if (count > p->n / 2)
		return -EINVAL;
	r = fft_ctx_init(&f, p->n);
	if (r < 0)
		return r;
	x = coeff_copy(pt);
	v = malloc(f.slots * sizeof(*v));
	if (!x || !v) {
		free(x);
		free(v);
		fft_ctx_done(&f);
		return -ENOMEM;
	}
	crt_init(&c, p, pt->level);
	for (unsigned k = 0; k < f.slots; k++)
		v[k] = crt_compose(&c, x + k, p->n) / pt->scale +
		       I * (crt_compose(&c, x + k + f.slots, p->n) / pt->scale);
	fft_special(&f, v);
	for (size_t k = 0; k < count; k++) {
		double s = pt->scale;

		re[k] = finish(pt, creal(v[k]) * s);
		if (im)
			im[k] = finish(pt, cimag(v[k]) * s);
	}
	free(x);
	free(v);
	fft_ctx_done(&f);
	return 0;
}
