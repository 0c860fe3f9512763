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
