// SPDX-License-Identifier: GPL-2.0-only
/* `veil keygen`: files, modes, sizes, and a key pair that works. */
#include <math.h>
#include <sys/stat.h>

#include "tests/harness.h"

#include "fhe/fhe.h"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = malloc(4 << 20);

	*len = f ? fread(b, 1, 4 << 20, f) : 0;
	if (f)
		fclose(f);
	return b;
}

TEST(keygen_writes_a_0600_compact_secret_and_a_matching_public_key)
{
	char dir[] = "/tmp/veil-keygen-XXXXXX", cmd[8192], sk[256], pk[256];
	struct stat st;
	uint8_t *skb, *pkb;
	size_t skl, pkl;
	struct fhe_secret_key *key;
	struct fhe_public_key *pub;
	struct fhe_plaintext *pt;
	struct fhe_ciphertext *ct;
	double v = 2.5, out;
	size_t idx = 0;

	ASSERT_NONNULL(mkdtemp(dir));
	snprintf(sk, sizeof(sk), "%s/fhe.sk", dir);
	snprintf(pk, sizeof(pk), "%s/fhe.pk", dir);
	snprintf(cmd, sizeof(cmd), "%s/veil keygen -s %s -p %s >/dev/null", harness_builddir(), sk, pk);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(0, stat(sk, &st));
	EXPECT_EQ(0600u, st.st_mode & 0777);
	EXPECT_EQ(92, st.st_size);
	/* refuses to overwrite without --force */
	EXPECT_NE(0, system(cmd));
	skb = slurp(sk, &skl);
	pkb = slurp(pk, &pkl);
	ASSERT_EQ(0, fhe_secret_key_deserialize(NULL, skb, skl, &key));
	ASSERT_EQ(0, fhe_public_key_deserialize((struct fhe_params *)fhe_secret_key_params(key), pkb,
						 pkl, &pub));
	ASSERT_EQ(0, fhe_encode_coeffs((struct fhe_params *)fhe_secret_key_params(key), &v, 1,
				       0x1p40, 3, &pt));
	ASSERT_EQ(0, fhe_encrypt(pub, pt, &ct));
	fhe_plaintext_free(pt);
	ASSERT_EQ(0, fhe_decrypt_unflooded(key, ct, &pt));
	ASSERT_EQ(0, fhe_decode_coeffs(pt, &idx, 1, &out));
	EXPECT_LE(fabs(out - 2.5), 1e-8);
	fhe_plaintext_free(pt);
	fhe_ciphertext_free(ct);
	fhe_public_key_free(pub);
	fhe_secret_key_free(key);
	free(skb);
	free(pkb);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(0, system(cmd));
}

TEST(keygen_rejects_unknown_ring_sizes)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "%s/veil keygen -n 4097 -s /nonexistent/x 2>/dev/null",
		 harness_builddir());
	EXPECT_NE(0, system(cmd));
}
