// SPDX-License-Identifier: GPL-2.0-only
/* The binary format: round trips, sizes, and rejection of every corrupted field. */
#include <math.h>

#include "tests/harness.h"

#include "fhe/fhe.h"
#include "lib/secmem.h"

static const uint8_t seed[FHE_SEED_SIZE] = { 9, 9, 9 };

FIXTURE(ser) {
	struct fhe_params *p;
	struct fhe_secret_key *sk;
	struct fhe_public_key *pk;
	struct fhe_ciphertext *ct;	/* public-key encrypted, level 3 */
	uint8_t *buf;
	size_t len;
};

FIXTURE_SETUP(ser)
{
	double v[8] = { 1, -2, 3.5, 0, 0, 0, 0, 7 };
	struct fhe_plaintext *pt;

	ASSERT_EQ(0, fhe_params_preset(FHE_PRESET_DENSE_8192, &self->p));
	ASSERT_EQ(0, fhe_keygen(self->p, seed, &self->sk));
	ASSERT_EQ(0, fhe_public_key_new(self->sk, &self->pk));
	ASSERT_EQ(0, fhe_encode_coeffs(self->p, v, 8, 0x1p40, 3, &pt));
	ASSERT_EQ(0, fhe_encrypt(self->pk, pt, &self->ct));
	fhe_plaintext_free(pt);
	ASSERT_EQ(0, fhe_ciphertext_serialize(self->ct, &self->buf, &self->len));
}

FIXTURE_TEARDOWN(ser)
{
	free(self->buf);
	fhe_ciphertext_free(self->ct);
	fhe_public_key_free(self->pk);
	fhe_secret_key_free(self->sk);
	fhe_params_free(self->p);
}

TEST_F(ser, ciphertext_round_trips_bit_packed)
{
	struct fhe_ciphertext *back;

	/* 2 polys x (50 + 50 + 45 bits) x 8192 / 8 + header */
	EXPECT_EQ((size_t)56 + 2 * (51200 + 51200 + 46080), self->len);
	ASSERT_EQ(0, fhe_ciphertext_deserialize(self->p, self->buf, self->len, &back));
	EXPECT_EQ(self->ct->level, back->level);
	EXPECT_TRUE(back->scale == self->ct->scale);
	EXPECT_MEMEQ(self->ct->c0, back->c0, 3 * 8192 * 8);
	EXPECT_MEMEQ(self->ct->c1, back->c1, 3 * 8192 * 8);
	fhe_ciphertext_free(back);
}

TEST_F(ser, seeded_ciphertext_is_half_the_size_and_decrypts_the_same)
{
	double v[2] = { 0.75, -1.5 }, out[2];
	size_t idx[2] = { 0, 1 };
	struct fhe_plaintext *pt, *dec;
	struct fhe_ciphertext *ct, *back;
	uint8_t *b;
	size_t len;

	ASSERT_EQ(0, fhe_encode_coeffs(self->p, v, 2, 0x1p40, 3, &pt));
	ASSERT_EQ(0, fhe_encrypt_symmetric(self->sk, pt, &ct));
	ASSERT_EQ(0, fhe_ciphertext_serialize(ct, &b, &len));
	EXPECT_EQ((size_t)56 + 32 + 51200 + 51200 + 46080, len);
	ASSERT_EQ(0, fhe_ciphertext_deserialize(self->p, b, len, &back));
	EXPECT_MEMEQ(ct->c1, back->c1, 3 * 8192 * 8);
	ASSERT_EQ(0, fhe_decrypt_unflooded(self->sk, back, &dec));
	ASSERT_EQ(0, fhe_decode_coeffs(dec, idx, 2, out));
	EXPECT_LE(fabs(out[0] - 0.75), 1e-8);
	EXPECT_LE(fabs(out[1] + 1.5), 1e-8);
	free(b);
	fhe_plaintext_free(pt);
	fhe_plaintext_free(dec);
	fhe_ciphertext_free(ct);
	fhe_ciphertext_free(back);
}

TEST_F(ser, keys_and_params_round_trip)
{
	uint8_t *b;
	size_t len;
	struct fhe_secret_key *sk2;
	struct fhe_public_key *pk2;
	struct fhe_params *p2;
	uint8_t *b2;
	size_t len2;

	ASSERT_EQ(0, fhe_secret_key_serialize(self->sk, &b, &len));
	EXPECT_EQ((size_t)56 + 4 + 32, len);	/* compact: fits a kernel user key */
	ASSERT_EQ(0, fhe_secret_key_deserialize(NULL, b, len, &sk2));
	secmem_free(b);
	ASSERT_EQ(0, fhe_public_key_new(sk2, &pk2));
	ASSERT_EQ(0, fhe_public_key_serialize(self->pk, &b, &len));
	ASSERT_EQ(0, fhe_public_key_serialize(pk2, &b2, &len2));
	ASSERT_EQ(len, len2);
	EXPECT_MEMEQ(b, b2, len);	/* same seed, same public key */
	free(b2);
	fhe_public_key_free(pk2);
	ASSERT_EQ(0, fhe_public_key_deserialize(self->p, b, len, &pk2));
	free(b);
	fhe_public_key_free(pk2);
	fhe_secret_key_free(sk2);
	ASSERT_EQ(0, fhe_params_serialize(self->p, &b, &len));
	ASSERT_EQ(0, fhe_params_deserialize(b, len, &p2));
	EXPECT_MEMEQ(fhe_params_hash(self->p), fhe_params_hash(p2), FHE_HASH_SIZE);
	EXPECT_EQ(fhe_params_preset_id(self->p), fhe_params_preset_id(p2));
	free(b);
	fhe_params_free(p2);
}

struct corruption {
	const char *what;
	size_t off;	/* byte to change; SIZE_MAX-k: k bytes from the end */
	int op;		/* 0 xor, 1 set, 2 truncate to off, 3 append a byte, 4 set 7 bytes */
	uint8_t val;
	const char *msg;	/* expected in fhe_last_error() */
};

#define END(k) ((size_t)-1 - (k))

static const struct corruption table[] = {
	{ "empty", 0, 2, 0, "shorter than the header" },
	{ "short header", 55, 2, 0, "shorter than the header" },
	{ "magic byte 0", 0, 0, 0x20, "magic" },
	{ "magic byte 3", 3, 1, 'X', "magic" },
	{ "version", 4, 1, 2, "version" },
	{ "version high byte", 5, 1, 1, "version" },
	{ "kind params", 6, 1, 1, "expected a ciphertext" },
	{ "kind unknown", 6, 1, 77, "expected a ciphertext" },
	{ "unknown flag", 7, 0, 0x80, "unknown flags" },
	{ "ntt flag cleared", 7, 1, 0, "not in NTT form" },
	{ "seeded flag set", 7, 1, 3, "body is" },
	{ "encoding", 8, 1, 9, "unknown encoding" },
	{ "level zero", 9, 1, 0, "level 0" },
	{ "level too high", 9, 1, 4, "level 4" },
	{ "level lower", 9, 1, 2, "body is" },
	{ "reserved", 10, 1, 1, "reserved" },
	{ "body length", 12, 0, 1, "body length" },
	{ "body length high", 15, 1, 0x10, "body length" },
	{ "params hash", 20, 0, 0x01, "another parameter set" },
	{ "scale infinite", 54, 5, 0, "scale" },
	{ "scale negative", 55, 1, 0xc0, "scale" },
	{ "scale below one", 55, 1, 0x00, "scale below 1" },
	{ "truncated body", END(1), 2, 0, "body length" },
	{ "extra byte", 0, 3, 0, "body length" },
	{ "residue of prime 0 >= q", 56, 4, 0xff, "residue 0 of prime 0" },
	{ "residue of prime 2 >= q", 56 + 51200 + 51200, 4, 0xff, "residue 0 of prime 2" },
	{ "residue in c1 >= q", 56 + 148480, 4, 0xff, "c1: residue 0 of prime 0" },
	{ "last residue of c1 >= q", END(6), 4, 0xff, "c1" },
};

TEST_F(ser, rejects_every_corrupted_field)
{
	ASSERT_GE(sizeof(table) / sizeof(table[0]), 20u);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct corruption *c = &table[i];
		size_t len = self->len, off = c->off;
		uint8_t *b = malloc(self->len + 1);
		struct fhe_ciphertext *ct = NULL;
		int r;

		memcpy(b, self->buf, self->len);
		if (off >= END(16))
			off = self->len - 1 - (END(0) - off);
		switch (c->op) {
		case 0:
			b[off] ^= c->val;
			break;
		case 1:
			b[off] = c->val;
			break;
		case 2:
			len = off;
			break;
		case 3:
			b[len++] = 0;
			break;
		case 4:
			memset(b + off, c->val, 7);
			break;
		case 5:	/* +infinity */
			b[54] = 0xf0;
			b[55] = 0x7f;
			break;
		}
		r = fhe_ciphertext_deserialize(self->p, b, len, &ct);
		if (r != -EBADMSG || !strstr(fhe_last_error(), c->msg))
			harness_fail(__FILE__, __LINE__, false, "%s: r=%d error '%s', want '%s'",
				     c->what, r, fhe_last_error(), c->msg);
		EXPECT_NULL(ct);
		free(b);
	}
}

TEST_F(ser, rejects_corrupted_keys_and_params)
{
	uint8_t *b;
	size_t len;
	struct fhe_secret_key *sk;
	struct fhe_params *p;
	struct fhe_public_key *pk;

	ASSERT_EQ(0, fhe_secret_key_serialize(self->sk, &b, &len));
	b[FHE_HEADER_SIZE] = 9;	/* unknown preset */
	EXPECT_EQ(-EBADMSG, fhe_secret_key_deserialize(NULL, b, len, &sk));
	EXPECT_EQ(-EBADMSG, fhe_secret_key_deserialize(NULL, b, len - 1, &sk));
	secmem_free(b);
	ASSERT_EQ(0, fhe_params_serialize(self->p, &b, &len));
	b[FHE_HEADER_SIZE + 8] ^= 2;	/* q0 no longer prime / = 1 mod 2N */
	EXPECT_EQ(-EBADMSG, fhe_params_deserialize(b, len, &p));
	b[FHE_HEADER_SIZE + 8] ^= 2;
	b[FHE_HEADER_SIZE] = 11;	/* N = 2048 */
	EXPECT_EQ(-EBADMSG, fhe_params_deserialize(b, len, &p));
	free(b);
	ASSERT_EQ(0, fhe_public_key_serialize(self->pk, &b, &len));
	b[7] = 2;	/* seeded flag cleared */
	EXPECT_EQ(-EBADMSG, fhe_public_key_deserialize(self->p, b, len, &pk));
	free(b);
	EXPECT_EQ(-EBADMSG, fhe_peek((const uint8_t *)"VFHX", 4, NULL));
}

/*
 * The reader extracts residues a 64-bit word at a time, specialised per prime
 * width: for every width it must read exactly what the writer packed, and
 * name the first residue that is not below its prime, wherever it sits in a
 * group of 8 (first, middle, last, and the block's final residues, whose
 * loads would run past the block).
 */
TEST(reader_matches_writer_at_every_prime_width)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (unsigned b = FHE_MIN_PRIME_BITS; b <= FHE_MAX_PRIME_BITS; b++) {
		unsigned bits[2] = { b, FHE_MIN_PRIME_BITS + FHE_MAX_PRIME_BITS - b };
		static const size_t at[] = { 0, 3, 7, 8, 4093, 4094, 4095 };
		struct fhe_params *p;
		struct fhe_plaintext *pt, *back = NULL;
		uint8_t *buf;
		size_t len, n = 4096;

		ASSERT_EQ(0, fhe_params_new(12, 2, bits, &p));
		pt = fhe_plaintext_new(p, 2);
		ASSERT_NONNULL(pt);
		for (unsigned i = 0; i < 2; i++) {
			uint64_t q = fhe_params_prime(p, i);

			for (size_t k = 0; k < n; k++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				/* the extremes too: 0 and q - 1 (all ones in the top bits) */
				pt->data[i * n + k] = k % 97 == 1 ? q - 1 : k % 89 == 2 ? 0 : x % q;
			}
		}
		ASSERT_EQ(0, fhe_plaintext_serialize(pt, &buf, &len));
		EXPECT_EQ((size_t)56 + n * (bits[0] + bits[1]) / 8, len);
		ASSERT_EQ(0, fhe_plaintext_deserialize(p, buf, len, &back));
		EXPECT_MEMEQ(pt->data, back->data, 2 * n * sizeof(uint64_t));
		fhe_plaintext_free(back);
		free(buf);
		for (unsigned i = 0; i < 2; i++)
			for (size_t a = 0; a < sizeof(at) / sizeof(at[0]); a++) {
				uint64_t keep = pt->data[i * n + at[a]];
				char want[64];

				pt->data[i * n + at[a]] = fhe_params_prime(p, i);	/* == q */
				ASSERT_EQ(0, fhe_plaintext_serialize(pt, &buf, &len));
				back = NULL;
				EXPECT_EQ(-EBADMSG, fhe_plaintext_deserialize(p, buf, len, &back));
				EXPECT_NULL(back);
				snprintf(want, sizeof(want), "residue %zu of prime %u is not below q",
					 at[a], i);
				if (!strstr(fhe_last_error(), want))
					harness_fail(__FILE__, __LINE__, false,
						     "%u bits: error '%s', want '%s'", b,
						     fhe_last_error(), want);
				free(buf);
				pt->data[i * n + at[a]] = keep;
			}
		fhe_plaintext_free(pt);
		fhe_params_free(p);
	}
}
