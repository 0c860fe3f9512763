// SPDX-License-Identifier: GPL-2.0-only
/* The NTT against schoolbook negacyclic products, for every N and every path. */
#include "tests/harness.h"

#include "fhe/fhe.h"

static const enum fhe_isa paths[] = { FHE_ISA_PORTABLE, FHE_ISA_AVX2, FHE_ISA_AVX512IFMA };

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t mulm(uint64_t a, uint64_t b, uint64_t q)
{
	return (uint64_t)(((unsigned __int128)a * b) % q);
}

static struct fhe_params *params_for(unsigned log_n)
{
	static const unsigned bits[] = { 50, 45, 36 };
	struct fhe_params *p = NULL;

	ASSERT_EQ(0, fhe_params_new(log_n, log_n == 12 ? 2 : 3, bits, &p));
	return p;
}

/* c = a * b in Z_q[X]/(X^N + 1), b having nonzero terms only at `where`. */
static void schoolbook(const uint64_t *a, const uint64_t *b, const unsigned *where, unsigned nw,
		       uint64_t *c, unsigned n, uint64_t q)
{
	memset(c, 0, n * 8);
	for (unsigned w = 0; w < nw; w++) {
		unsigned j = where[w];

		for (unsigned i = 0; i < n; i++) {
			uint64_t t = mulm(a[i], b[j], q);
			unsigned k = i + j;

			if (k < n)
				c[k] = (c[k] + t) % q;
			else
				c[k - n] = (c[k - n] + q - t) % q;
		}
	}
}

static void check_product(unsigned log_n, enum fhe_isa isa, unsigned nw)
{
	struct fhe_params *p = params_for(log_n);
	unsigned n = 1u << log_n;
	uint64_t *a = malloc(n * 8), *b = calloc(n, 8), *c = malloc(n * 8), *ref = malloc(n * 8);
	unsigned *where = malloc(n * sizeof(*where));
	uint64_t s = 0x9e3779b97f4a7c15ull ^ log_n;

	if (!fhe_isa_supported(isa))
		SKIP("this CPU has no %s", fhe_isa_name(isa));
	ASSERT_EQ(0, fhe_set_isa(isa));
	for (unsigned pi = 0; pi < fhe_params_nprimes(p); pi++) {
		uint64_t q = fhe_params_prime(p, pi);

		memset(b, 0, n * 8);
		for (unsigned i = 0; i < n; i++)
			a[i] = rnd(&s) % q;
		/* distinct positions, one per stride, including both ends */
		for (unsigned w = 0; w < nw; w++) {
			where[w] = w * (n / nw) + (unsigned)(nw == n ? 0 : rnd(&s) % (n / nw));
			if (w == nw - 1 && nw != n)
				where[w] = n - 1;
			b[where[w]] = rnd(&s) % q;
		}
		b[n - 1] = q - 1;
		schoolbook(a, b, where, nw, ref, n, q);
		ASSERT_EQ(0, fhe_ntt_forward(p, pi, a));
		ASSERT_EQ(0, fhe_ntt_forward(p, pi, b));
		for (unsigned i = 0; i < n; i++) {
			ASSERT_LT(a[i], q);
			c[i] = mulm(a[i], b[i], q);
		}
		ASSERT_EQ(0, fhe_ntt_inverse(p, pi, c));
		for (unsigned i = 0; i < n; i++)
			if (c[i] != ref[i])
				ASSERT_EQ(ref[i], c[i]);
	}
	free(a);
	free(b);
	free(c);
	free(ref);
	free(where);
	fhe_params_free(p);
}

#define PRODUCT_TEST(ln, isa, name)                                   \
	TEST(ntt_##name##_matches_schoolbook_at_n##ln)                \
	{                                                             \
		check_product(ln, isa, ln <= 12 ? (1u << ln) : 24);   \
	}

PRODUCT_TEST(12, FHE_ISA_PORTABLE, portable)
PRODUCT_TEST(13, FHE_ISA_PORTABLE, portable)
PRODUCT_TEST(14, FHE_ISA_PORTABLE, portable)
PRODUCT_TEST(15, FHE_ISA_PORTABLE, portable)
PRODUCT_TEST(12, FHE_ISA_AVX2, avx2)
PRODUCT_TEST(13, FHE_ISA_AVX2, avx2)
PRODUCT_TEST(14, FHE_ISA_AVX2, avx2)
PRODUCT_TEST(15, FHE_ISA_AVX2, avx2)
PRODUCT_TEST(12, FHE_ISA_AVX512IFMA, avx512ifma)
PRODUCT_TEST(13, FHE_ISA_AVX512IFMA, avx512ifma)
PRODUCT_TEST(14, FHE_ISA_AVX512IFMA, avx512ifma)
PRODUCT_TEST(15, FHE_ISA_AVX512IFMA, avx512ifma)

TEST(every_path_gives_bit_identical_transforms)
{
	for (unsigned ln = 12; ln <= 15; ln++) {
		struct fhe_params *p = params_for(ln);
		unsigned n = 1u << ln;
		uint64_t *in = malloc(n * 8), *ref = malloc(n * 8), *x = malloc(n * 8);
		uint64_t s = 12345 + ln, q = fhe_params_prime(p, 0);

		for (unsigned i = 0; i < n; i++)
			in[i] = rnd(&s) % q;
		ASSERT_EQ(0, fhe_set_isa(FHE_ISA_PORTABLE));
		memcpy(ref, in, n * 8);
		ASSERT_EQ(0, fhe_ntt_forward(p, 0, ref));
		for (size_t k = 1; k < sizeof(paths) / sizeof(paths[0]); k++) {
			if (!fhe_isa_supported(paths[k]))
				continue;
			ASSERT_EQ(0, fhe_set_isa(paths[k]));
			memcpy(x, in, n * 8);
			ASSERT_EQ(0, fhe_ntt_forward(p, 0, x));
			EXPECT_MEMEQ(ref, x, n * 8);
			ASSERT_EQ(0, fhe_ntt_inverse(p, 0, x));
			EXPECT_MEMEQ(in, x, n * 8);
		}
		free(in);
		free(ref);
		free(x);
		fhe_params_free(p);
	}
}

TEST(isa_can_be_forced_and_reports_unsupported)
{
	EXPECT_EQ(0, fhe_set_isa(FHE_ISA_PORTABLE));
	EXPECT_EQ(FHE_ISA_PORTABLE, fhe_get_isa());
	EXPECT_EQ(-EINVAL, fhe_set_isa((enum fhe_isa)9));
	if (!fhe_isa_supported(FHE_ISA_AVX512IFMA))
		EXPECT_EQ(-ENOTSUP, fhe_set_isa(FHE_ISA_AVX512IFMA));
	EXPECT_EQ(0, fhe_set_isa(FHE_ISA_AUTO));
	EXPECT_NE(FHE_ISA_AUTO, fhe_get_isa());
}

TEST(isa_env_variable_selects_the_portable_path)
{
	/* each test is a fresh child: the variable is read at first use */
	setenv("VEIL_FHE_ISA", "portable", 1);
	EXPECT_EQ(FHE_ISA_PORTABLE, fhe_get_isa());
}

TEST(rejects_residues_not_below_q)
{
	struct fhe_params *p = params_for(12);
	uint64_t *a = calloc(4096, 8);

	a[7] = fhe_params_prime(p, 0);
	EXPECT_EQ(-ERANGE, fhe_ntt_forward(p, 0, a));
	EXPECT_EQ(-EINVAL, fhe_ntt_forward(p, 5, a));
	free(a);
	fhe_params_free(p);
}
