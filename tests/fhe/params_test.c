// SPDX-License-Identifier: GPL-2.0-only
/* Parameter sets: primes, the security check, determinism, frozen known answers. */
#include <math.h>
#include <pthread.h>

#include <openssl/evp.h>

#include "tests/harness.h"

#include "fhe/fhe.h"
#include "fhe/internal.h"
#include "lib/secmem.h"

TEST(security_table_matches_homomorphicencryption_org)
{
	EXPECT_EQ(109, fhe_security_max_logq(12));
	EXPECT_EQ(218, fhe_security_max_logq(13));
	EXPECT_EQ(438, fhe_security_max_logq(14));
	EXPECT_EQ(881, fhe_security_max_logq(15));
	EXPECT_EQ(-EINVAL, fhe_security_max_logq(16));
}

TEST(security_check_rejects_oversized_q)
{
	static const unsigned three50[] = { 50, 50, 50 }, five50[] = { 50, 50, 50, 50, 50 };
	struct fhe_params *p = NULL;

	EXPECT_EQ(-EPERM, fhe_security_check(12, 110));
	EXPECT_EQ(0, fhe_security_check(12, 109));
	EXPECT_EQ(-EPERM, fhe_security_check(13, 218.5));
	/* 150 bits at N=4096 is below 128-bit security: refused */
	EXPECT_EQ(-EPERM, fhe_params_new(12, 3, three50, &p));
	EXPECT_NULL(p);
	/* 250 bits at N=8192 too */
	EXPECT_EQ(-EPERM, fhe_params_new(13, 5, five50, &p));
	EXPECT_NULL(p);
	EXPECT_EQ(0, fhe_params_new(14, 5, five50, &p));
	fhe_params_free(p);
}

TEST(rejects_bad_prime_sizes_and_ring_sizes)
{
	static const unsigned big[] = { 51 }, small[] = { 20 }, ok[] = { 40 };
	struct fhe_params *p = NULL;

	EXPECT_EQ(-EINVAL, fhe_params_new(13, 1, big, &p));
	EXPECT_EQ(-EINVAL, fhe_params_new(13, 1, small, &p));
	EXPECT_EQ(-EINVAL, fhe_params_new(11, 1, ok, &p));
	EXPECT_EQ(-EINVAL, fhe_params_new(16, 1, ok, &p));
	EXPECT_EQ(-EINVAL, fhe_params_preset(99, &p));
	EXPECT_NULL(p);
}

TEST(primes_are_ntt_friendly_distinct_and_below_2_50)
{
	static const unsigned bits[] = { 50, 50, 49, 45, 40, 36 };
	struct fhe_params *p;

	ASSERT_EQ(0, fhe_params_new(15, 6, bits, &p));
	for (unsigned i = 0; i < 6; i++) {
		uint64_t q = fhe_params_prime(p, i);

		EXPECT_EQ(1u, q % 65536);
		EXPECT_LT(q, 1ull << bits[i]);
		EXPECT_GE(q, 1ull << (bits[i] - 1));
		for (unsigned j = 0; j < i; j++)
			EXPECT_NE(fhe_params_prime(p, j), q);
	}
	fhe_params_free(p);
}

/* Frozen known answers of our own: any change to prime search, hashing, the
 * PRG or the key derivation shows up here. */
TEST(presets_match_frozen_primes_and_hashes)
{
	static const uint64_t q[3][3] = {
		{ 1125899906826241ull, 1125899906629633ull, 35184371613697ull },
		{ 1125899904679937ull, 1125899903991809ull, 35184371138561ull },
		{ 1125899904679937ull, 1125899903827969ull, 35184368877569ull },
	};
	static const uint8_t h8192[4] = { 0xf0, 0x9b, 0x95, 0xd4 };

	for (int pr = 1; pr <= 3; pr++) {
		struct fhe_params *p;

		ASSERT_EQ(0, fhe_params_preset(pr, &p));
		ASSERT_EQ(3u, fhe_params_nprimes(p));
		for (unsigned i = 0; i < 3; i++)
			EXPECT_EQ(q[pr - 1][i], fhe_params_prime(p, i));
		if (pr == 1)
			EXPECT_MEMEQ(h8192, fhe_params_hash(p), 4);
		fhe_params_free(p);
	}
}

static void pk_digest(const uint8_t *seed, uint8_t md[32], size_t *ret_len)
{
	struct fhe_params *p;
	struct fhe_secret_key *sk;
	struct fhe_public_key *pk;
	uint8_t *b;
	unsigned ml;

	ASSERT_EQ(0, fhe_params_preset(FHE_PRESET_DENSE_8192, &p));
	ASSERT_EQ(0, fhe_keygen(p, seed, &sk));
	ASSERT_EQ(0, fhe_public_key_new(sk, &pk));
	ASSERT_EQ(0, fhe_public_key_serialize(pk, &b, ret_len));
	EVP_Digest(b, *ret_len, md, &ml, EVP_sha256(), NULL);
	free(b);
	fhe_public_key_free(pk);
	fhe_secret_key_free(sk);
	fhe_params_free(p);
}

TEST(keygen_is_deterministic_from_the_seed)
{
	uint8_t seed[32], md1[32], md2[32], md3[32];
	size_t len;
	static const uint8_t frozen[8] = { 0x14, 0xb3, 0x4d, 0x8a, 0x9b, 0x47, 0xc3, 0xb6 };

	for (int i = 0; i < 32; i++)
		seed[i] = i;
	pk_digest(seed, md1, &len);
	pk_digest(seed, md2, &len);
	EXPECT_MEMEQ(md1, md2, 32);
	EXPECT_MEMEQ(frozen, md1, 8);
	EXPECT_EQ((size_t)148568, len);
	seed[31] ^= 1;
	pk_digest(seed, md3, &len);
	EXPECT_NE(0, memcmp(md1, md3, 32));
}

/*
 * veil-decryptd's workers deserialize and free ciphertexts at once, each
 * taking and dropping a reference to the same parameters: the count must
 * not lose an update (a lost decrement freed the NTT tables twice, a
 * SIGSEGV the decryptd benchmark found).
 */
struct ref_hammer {
	struct fhe_params *p;
	unsigned int n;
};

static void *hammer(void *arg)
{
	struct ref_hammer *h = arg;

	for (unsigned int i = 0; i < h->n; i++) {
		struct fhe_params *r = fhe_params_ref(h->p);

		fhe_params_free(r);
	}
	return NULL;
}

TEST(references_taken_and_dropped_by_many_threads_at_once_balance)
{
	struct ref_hammer h = { .n = 200000 };
	struct fhe_params *extra;
	pthread_t t[4];

	ASSERT_EQ(0, fhe_params_preset(FHE_PRESET_DENSE_8192, &h.p));
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hammer, &h));
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	/* still exactly one reference: take a second, drop both, and the tables go once */
	extra = fhe_params_ref(h.p);
	EXPECT_EQ(h.p, extra);
	EXPECT_EQ(2, __atomic_load_n(&h.p->refs, __ATOMIC_RELAXED));
	fhe_params_free(extra);
	EXPECT_EQ(1, __atomic_load_n(&h.p->refs, __ATOMIC_RELAXED));
	fhe_params_free(h.p);
}
