// SPDX-License-Identifier: GPL-2.0-only
/* Encoding, encryption and evaluation against double arithmetic, with stated bounds. */
#include <math.h>

#include "tests/harness.h"

#include "fhe/fhe.h"

static uint64_t rs = 88172645463325252ull;

static double urand(double lo, double hi)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return lo + (hi - lo) * (double)(rs >> 11) * 0x1p-53;
}

static const uint8_t seed1[FHE_SEED_SIZE] = { 1, 2, 3, 4, 5, 6, 7, 8 };

FIXTURE(ckks) {
	struct fhe_params *p;
	struct fhe_secret_key *sk;
	struct fhe_public_key *pk;
};

FIXTURE_SETUP(ckks)
{
	ASSERT_EQ(0, fhe_params_preset(FHE_PRESET_DENSE_8192, &self->p));
	ASSERT_EQ(0, fhe_keygen(self->p, seed1, &self->sk));
	ASSERT_EQ(0, fhe_public_key_new(self->sk, &self->pk));
}

FIXTURE_TEARDOWN(ckks)
{
	fhe_public_key_free(self->pk);
	fhe_secret_key_free(self->sk);
	fhe_params_free(self->p);
}

static double max_err(const double *a, const double *b, size_t n)
{
	double m = 0;

	for (size_t i = 0; i < n; i++)
		m = fmax(m, fabs(a[i] - b[i]));
	return m;
}

TEST_F(ckks, coefficient_encoding_round_trips_exactly_at_scale)
{
	double v[300], out[300];
	size_t idx[300];
	struct fhe_plaintext *pt;

	for (int i = 0; i < 300; i++) {
		v[i] = urand(-16, 16);
		idx[i] = i;
	}
	ASSERT_EQ(0, fhe_encode_coeffs(self->p, v, 300, 0x1p40, 3, &pt));
	ASSERT_EQ(0, fhe_decode_coeffs(pt, idx, 300, out));
	EXPECT_LE(max_err(v, out, 300), 0x1p-40);
	fhe_plaintext_free(pt);
	/* scale 2^62 needs more than one 64-bit word: still exact to 2^-52 relative */
	ASSERT_EQ(0, fhe_encode_coeffs(self->p, v, 300, 0x1p62, 2, &pt));
	ASSERT_EQ(0, fhe_decode_coeffs(pt, idx, 300, out));
	EXPECT_LE(max_err(v, out, 300), 1e-14);
	fhe_plaintext_free(pt);
}

TEST_F(ckks, slot_encoding_round_trips)
{
	double v[4096], out[4096];
	struct fhe_plaintext *pt;

	for (int i = 0; i < 4096; i++)
		v[i] = urand(-8, 8);
	ASSERT_EQ(0, fhe_encode_slots(self->p, v, 4096, 0x1p40, 3, &pt));
	ASSERT_EQ(0, fhe_decode_slots(pt, 4096, out, NULL));
	EXPECT_LE(max_err(v, out, 4096), 1e-9);
	fhe_plaintext_free(pt);
}

TEST_F(ckks, slot_products_are_polynomial_products)
{
	double a[64], b[64], ab[64], out[64];
	struct fhe_plaintext *pa, *pb;
	struct fhe_ciphertext *ct;

	for (int i = 0; i < 64; i++) {
		a[i] = urand(-2, 2);
		b[i] = urand(-2, 2);
		ab[i] = a[i] * b[i];
	}
	ASSERT_EQ(0, fhe_encode_slots(self->p, a, 64, 0x1p40, 3, &pa));
	ASSERT_EQ(0, fhe_encode_slots(self->p, b, 64, (double)fhe_params_prime(self->p, 2), 3, &pb));
	ASSERT_EQ(0, fhe_encrypt(self->pk, pa, &ct));
	ASSERT_EQ(0, fhe_mul_plain(ct, pb));
	ASSERT_EQ(0, fhe_rescale(ct));
	EXPECT_EQ(2u, ct->level);
	fhe_plaintext_free(pa);
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, ct, &pa));
	ASSERT_EQ(0, fhe_decode_slots(pa, 64, out, NULL));
	EXPECT_LE(max_err(ab, out, 64), 1e-6);
	fhe_plaintext_free(pa);
	fhe_plaintext_free(pb);
	fhe_ciphertext_free(ct);
}

TEST_F(ckks, scalar_encoding_fills_every_slot)
{
	double out[16];
	struct fhe_plaintext *pt;

	ASSERT_EQ(0, fhe_encode_scalar(self->p, -3.25, 0x1p40, 2, &pt));
	ASSERT_EQ(0, fhe_decode_slots(pt, 16, out, NULL));
	for (int i = 0; i < 16; i++)
		EXPECT_LE(fabs(out[i] + 3.25), 1e-9);
	fhe_plaintext_free(pt);
}

static void enc_dec(struct _fixture_ckks *self, bool symmetric)
{
	double v[512], out[512];
	size_t idx[512];
	struct fhe_plaintext *pt, *dec;
	struct fhe_ciphertext *ct;

	for (int i = 0; i < 512; i++) {
		v[i] = urand(-16, 16);
		idx[i] = i * 16;
	}
	{
		double *c = calloc(8192, sizeof(double));

		for (int i = 0; i < 512; i++)
			c[i * 16] = v[i];
		ASSERT_EQ(0, fhe_encode_coeffs(self->p, c, 8192, 0x1p40, 3, &pt));
		free(c);
	}
	if (symmetric)
		ASSERT_EQ(0, fhe_encrypt_symmetric(self->sk, pt, &ct));
	else
		ASSERT_EQ(0, fhe_encrypt(self->pk, pt, &ct));
	EXPECT_EQ(symmetric, ct->seeded);
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, ct, &dec));
	ASSERT_EQ(0, fhe_decode_coeffs(dec, idx, 512, out));
	/* fresh noise: |e| < 2^12 integer units with overwhelming probability */
	EXPECT_LE(max_err(v, out, 512), 0x1p12 / 0x1p40);
	EXPECT_GT(max_err(v, out, 512), 0);	/* there is noise */
	fhe_plaintext_free(pt);
	fhe_plaintext_free(dec);
	fhe_ciphertext_free(ct);
}

TEST_F(ckks, public_key_encryption_decrypts_within_2_to_minus_28)
{
	enc_dec(self, false);
}

TEST_F(ckks, symmetric_encryption_decrypts_within_2_to_minus_28)
{
	enc_dec(self, true);
}

TEST_F(ckks, dense_product_equals_plain_product)
{
	enum { M = 10, N = 256 };
	double W[M * N], b[M], h[N], y[M], ref[M];
	struct fhe_dense *d;
	struct fhe_ciphertext **out;
	struct fhe_plaintext *pt;
	unsigned count;

	for (int i = 0; i < M * N; i++)
		W[i] = urand(-0.5, 0.5);
	for (int i = 0; i < N; i++)
		h[i] = urand(0, 1);
	for (int i = 0; i < M; i++) {
		b[i] = urand(-0.5, 0.5);
		ref[i] = b[i];
		for (int j = 0; j < N; j++)
			ref[i] += W[i * N + j] * h[j];
	}
	ASSERT_EQ(0, fhe_dense_seal(self->p, self->pk, NULL, W, b, M, N, &d));
	EXPECT_EQ(1u, d->row_blocks * d->col_blocks);
	ASSERT_EQ(0, fhe_dense_eval(d, h, &out, &count));
	ASSERT_EQ(1u, count);
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, out[0], &pt));
	ASSERT_EQ(0, fhe_dense_decode(d, &pt, y));
	EXPECT_LE(max_err(y, ref, M), 1e-9);
	fhe_plaintext_free(pt);
	ASSERT_EQ(0, fhe_decrypt(self->sk, out[0], NULL, &pt));
	ASSERT_EQ(0, fhe_dense_decode(d, &pt, y));
	EXPECT_LE(max_err(y, ref, M), fhe_flood_bound(NULL, 0x1p62));
	EXPECT_LE(fhe_flood_bound(NULL, 0x1p62), 0x1p-20);
	fhe_plaintext_free(pt);
	fhe_ciphertexts_free(out, count);
	fhe_dense_free(d);
}

/* Each operation against double arithmetic. Values |x| <= 4 at scale 2^40.
 * A fresh ciphertext's noise has std ~340 per coefficient, ~sqrt(N)*340/2^40
 * ~ 3e-8 per slot; the bounds below are 1e-6 (> 20 sigma) or looser. */
TEST_F(ckks, evaluation_matches_double_arithmetic)
{
	enum { K = 64 };
	double a[K], b[K], c[K], out[K], ref[K];
	size_t idx[K];
	struct fhe_plaintext *pa, *pb, *pc, *dec;
	struct fhe_ciphertext *ca, *cb, *t;
	double q2 = (double)fhe_params_prime(self->p, 2);

	for (int i = 0; i < K; i++) {
		a[i] = urand(-4, 4);
		b[i] = urand(-4, 4);
		c[i] = urand(-4, 4);
		idx[i] = i;
	}
	ASSERT_EQ(0, fhe_encode_slots(self->p, a, K, 0x1p40, 3, &pa));
	ASSERT_EQ(0, fhe_encode_slots(self->p, b, K, 0x1p40, 3, &pb));
	ASSERT_EQ(0, fhe_encode_slots(self->p, c, K, q2, 3, &pc));
	ASSERT_EQ(0, fhe_encrypt(self->pk, pa, &ca));
	ASSERT_EQ(0, fhe_encrypt_symmetric(self->sk, pb, &cb));

	/* add */
	ASSERT_EQ(0, fhe_ciphertext_copy(ca, &t));
	ASSERT_EQ(0, fhe_add(t, cb));
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, t, &dec));
	ASSERT_EQ(0, fhe_decode_slots(dec, K, out, NULL));
	for (int i = 0; i < K; i++)
		ref[i] = a[i] + b[i];
	EXPECT_LE(max_err(out, ref, K), 1e-6);
	fhe_plaintext_free(dec);
	/* sub */
	ASSERT_EQ(0, fhe_sub(t, cb));
	ASSERT_EQ(0, fhe_sub(t, cb));
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, t, &dec));
	ASSERT_EQ(0, fhe_decode_slots(dec, K, out, NULL));
	for (int i = 0; i < K; i++)
		ref[i] = a[i] - b[i];
	EXPECT_LE(max_err(out, ref, K), 1e-6);
	fhe_plaintext_free(dec);
	/* add plain */
	ASSERT_EQ(0, fhe_add_plain(t, pb));
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, t, &dec));
	ASSERT_EQ(0, fhe_decode_slots(dec, K, out, NULL));
	EXPECT_LE(max_err(out, a, K), 1e-6);
	fhe_plaintext_free(dec);
	fhe_ciphertext_free(t);
	/* multiply by plaintext, rescale */
	ASSERT_EQ(0, fhe_ciphertext_copy(ca, &t));
	ASSERT_EQ(0, fhe_mul_plain(t, pc));
	ASSERT_EQ(0, fhe_rescale(t));
	EXPECT_LE(fabs(t->scale - 0x1p40), 1e-3);
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, t, &dec));
	ASSERT_EQ(0, fhe_decode_slots(dec, K, out, NULL));
	for (int i = 0; i < K; i++)
		ref[i] = a[i] * c[i];
	EXPECT_LE(max_err(out, ref, K), 4e-6);
	fhe_plaintext_free(dec);
	/* drop to level 1 keeps the value */
	ASSERT_EQ(0, fhe_drop_to_level(t, 1));
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, t, &dec));
	ASSERT_EQ(0, fhe_decode_slots(dec, K, out, NULL));
	EXPECT_LE(max_err(out, ref, K), 1e-6);
	fhe_plaintext_free(dec);
	EXPECT_EQ(-ERANGE, fhe_rescale(t));
	fhe_ciphertext_free(t);
	/* multiply by scalar */
	ASSERT_EQ(0, fhe_ciphertext_copy(ca, &t));
	ASSERT_EQ(0, fhe_mul_scalar(t, -1.75, q2));
	ASSERT_EQ(0, fhe_rescale(t));
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, t, &dec));
	ASSERT_EQ(0, fhe_decode_slots(dec, K, out, NULL));
	for (int i = 0; i < K; i++)
		ref[i] = -1.75 * a[i];
	EXPECT_LE(max_err(out, ref, K), 1e-6);
	fhe_plaintext_free(dec);
	/* mismatches are refused */
	EXPECT_EQ(-EINVAL, fhe_add(t, ca));
	fhe_ciphertext_free(t);
	(void)idx;
	fhe_plaintext_free(pa);
	fhe_plaintext_free(pb);
	fhe_plaintext_free(pc);
	fhe_ciphertext_free(ca);
	fhe_ciphertext_free(cb);
}

static void dense_case(struct _fixture_ckks *self, unsigned M, unsigned N, bool symmetric,
		       unsigned want_cts)
{
	double *W = malloc(sizeof(double) * M * N), *b = malloc(sizeof(double) * M);
	double *h = malloc(sizeof(double) * N), *y = malloc(sizeof(double) * M);
	double *ref = malloc(sizeof(double) * M);
	struct fhe_dense *d;
	struct fhe_ciphertext **out;
	unsigned count;

	for (unsigned i = 0; i < M * N; i++)
		W[i] = urand(-0.5, 0.5);
	for (unsigned i = 0; i < N; i++)
		h[i] = urand(0, 1);
	for (unsigned i = 0; i < M; i++) {
		b[i] = urand(-0.5, 0.5);
		ref[i] = b[i];
		for (unsigned j = 0; j < N; j++)
			ref[i] += W[i * N + j] * h[j];
	}
	ASSERT_EQ(0, fhe_dense_seal(self->p, symmetric ? NULL : self->pk,
				    symmetric ? self->sk : NULL, W, b, M, N, &d));
	EXPECT_EQ(want_cts, d->row_blocks * d->col_blocks);
	ASSERT_EQ(0, fhe_dense_eval(d, h, &out, &count));
	ASSERT_EQ(d->row_blocks, count);
	ASSERT_EQ(0, fhe_dense_decrypt(self->sk, d, out, count, NULL, y));
	EXPECT_LE(max_err(y, ref, M), fhe_flood_bound(NULL, 0x1p62));
	fhe_ciphertexts_free(out, count);
	fhe_dense_free(d);
	free(W);
	free(b);
	free(h);
	free(y);
	free(ref);
}

TEST_F(ckks, dense_product_splits_rows_and_columns_over_ciphertexts)
{
	dense_case(self, 40, 256, false, 2);	/* 30 rows per ciphertext */
	dense_case(self, 3, 5000, true, 2 * 3);	/* columns over 2 blocks, rows 1 per ct */
}

TEST_F(ckks, dense_masks_every_non_output_coefficient)
{
	enum { M = 10, N = 256 };
	double W[M * N], b[M], h[N];
	struct fhe_dense *d;
	struct fhe_ciphertext **masked, **plain;
	struct fhe_plaintext *pm, *pp;
	unsigned count, same = 0, outputs_equal = 0, hi[2] = { 0, 0 };
	uint64_t q0;

	for (int i = 0; i < M * N; i++)
		W[i] = urand(-0.5, 0.5);
	for (int i = 0; i < N; i++)
		h[i] = urand(0, 1);
	for (int i = 0; i < M; i++)
		b[i] = 0.25;
	ASSERT_EQ(0, fhe_dense_seal(self->p, self->pk, NULL, W, b, M, N, &d));
	ASSERT_EQ(0, fhe_dense_eval(d, h, &masked, &count));
	ASSERT_EQ(0, fhe_dense_eval_ex(d, h, false, &plain, &count));
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, masked[0], &pm));
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, plain[0], &pp));
	q0 = fhe_params_prime(self->p, 0);
	for (unsigned k = 0; k < 8192; k++) {
		bool out = false;

		for (unsigned r = 0; r < M; r++)
			out |= fhe_dense_output_coeff(d, r) == k;
		if (out) {
			/* outputs agree up to noise */
			uint64_t a = pm->data[k], c = pp->data[k];
			uint64_t diff = a > c ? a - c : c - a;

			outputs_equal += diff < (1ull << 20) || q0 - diff < (1ull << 20);
			continue;
		}
		same += pm->data[k] == pp->data[k];
		hi[pm->data[k] >= q0 / 2]++;	/* uniform mod q0: half above q0/2 */
	}
	EXPECT_EQ((unsigned)M, outputs_equal);
	EXPECT_EQ(0u, same);
	/* 8182 draws: |hi - lo| beyond 6 sigma (~540) would not be uniform */
	EXPECT_LT(abs((int)hi[1] - (int)hi[0]), 540);
	fhe_plaintext_free(pm);
	fhe_plaintext_free(pp);
	fhe_ciphertexts_free(masked, count);
	fhe_ciphertexts_free(plain, count);
	fhe_dense_free(d);
}

TEST_F(ckks, flooding_changes_outputs_by_at_most_its_bound)
{
	enum { M = 10, N = 64, RUNS = 20 };
	double W[M * N], b[M], h[N], y0[M], y[M], maxd = 0, sumsq = 0;
	struct fhe_dense *d;
	struct fhe_ciphertext **out;
	struct fhe_plaintext *pt;
	struct fhe_flood f = { FHE_FLOOD_STAT_SEC, FHE_FLOOD_LOG2_QUERIES, FHE_FLOOD_NOISE_LOG2 };
	unsigned count, n = 0;

	for (int i = 0; i < M * N; i++)
		W[i] = urand(-2, 2);
	for (int i = 0; i < N; i++)
		h[i] = urand(0, 1);
	for (int i = 0; i < M; i++)
		b[i] = urand(-1, 1);
	ASSERT_EQ(0, fhe_dense_seal(self->p, self->pk, NULL, W, b, M, N, &d));
	ASSERT_EQ(0, fhe_dense_eval(d, h, &out, &count));
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, out[0], &pt));
	ASSERT_EQ(0, fhe_dense_decode(d, &pt, y0));
	fhe_plaintext_free(pt);
	for (int run = 0; run < RUNS; run++) {
		ASSERT_EQ(0, fhe_dense_decrypt(self->sk, d, out, count, &f, y));
		for (int i = 0; i < M; i++) {
			maxd = fmax(maxd, fabs(y[i] - y0[i]));
			sumsq += (y[i] - y0[i]) * (y[i] - y0[i]);
			n++;
		}
	}
	/* never more than the bound; and really flooded: std near sigma/scale */
	EXPECT_LE(maxd, fhe_flood_bound(&f, 0x1p62));
	EXPECT_GT(sqrt(sumsq / n), 0.5 * exp2(fhe_flood_log2_sigma(&f)) / 0x1p62);
	EXPECT_LT(sqrt(sumsq / n), 2.0 * exp2(fhe_flood_log2_sigma(&f)) / 0x1p62);
	/* the documented default keeps >= 20 bits after the point */
	EXPECT_LE(fhe_flood_bound(NULL, 0x1p62), 0x1p-20);
	/* too much flooding for the scale is refused, not silently useless */
	f.noise_log2 = 30;
	EXPECT_EQ(-EINVAL, fhe_dense_decrypt(self->sk, d, out, count, &f, y));
	fhe_ciphertexts_free(out, count);
	fhe_dense_free(d);
}

TEST_F(ckks, column_packed_slot_variant_matches_plain_product)
{
	enum { M = 10, N = 16 };
	double W[M * N], b[M], h[N], y[M], ref[M];
	struct fhe_ciphertext **cols, *bias, *out;
	struct fhe_plaintext *pt;

	for (int i = 0; i < M * N; i++)
		W[i] = urand(-0.5, 0.5);
	for (int i = 0; i < N; i++)
		h[i] = urand(0, 1);
	for (int i = 0; i < M; i++) {
		b[i] = urand(-0.5, 0.5);
		ref[i] = b[i];
		for (int j = 0; j < N; j++)
			ref[i] += W[i * N + j] * h[j];
	}
	ASSERT_EQ(0, fhe_dense_slots_seal(self->p, self->pk, W, b, M, N, &cols, &bias));
	ASSERT_EQ(0, fhe_dense_slots_eval(self->p, cols, bias, N, h, &out));
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, out, &pt));
	ASSERT_EQ(0, fhe_decode_slots(pt, M, y, NULL));
	EXPECT_LE(max_err(y, ref, M), 1e-6);
	fhe_plaintext_free(pt);
	fhe_ciphertext_free(out);
	fhe_ciphertext_free(bias);
	fhe_ciphertexts_free(cols, N);
}
