// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <math.h>
#include <openssl/evp.h>
#include <unistd.h>

#include "fhe/idx.h"
#include "fhe/seal.h"
#include "fhe/train.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/secmem.h"
#include "tests/model/common.h"

struct keys {
	struct fhe_params *p;
	struct fhe_secret_key *sk;
	struct fhe_public_key *pk;
};

static void keys_new(struct keys *k)
{
	ASSERT_EQ(0, fhe_params_preset(FHE_PRESET_DENSE_8192, &k->p));
	ASSERT_EQ(0, fhe_keygen_random(k->p, &k->sk));
	ASSERT_EQ(0, fhe_public_key_new(k->sk, &k->pk));
}

static void keys_free(struct keys *k)
{
	fhe_public_key_free(k->pk);
	fhe_secret_key_free(k->sk);
	fhe_params_free(k->p);
}

static struct fhe_mlp *small_model(void)
{
	const unsigned int dims[] = { 8, 6, 4 };
	const char *names[] = { "fc1", "fc2" };
	struct fhe_mlp *m;

	if (fhe_mlp_new(dims, 3, names, &m) < 0)
		return NULL;
	for (unsigned int i = 0; i < 48; i++)
		m->layers[0].wt[i] = (float)((int)(i * 7 % 13) - 6) / 5.0f;
	for (unsigned int i = 0; i < 24; i++)
		m->layers[2].wt[i] = (float)((int)(i * 5 % 11) - 5) / 4.0f;
	m->layers[2].b[3] = -0.25f;
	return m;
}

TEST(seals_the_last_layer_without_its_plaintext_and_binds_the_manifest)
{
	char dir[] = "/tmp/veil-seal-XXXXXX", path[64], man[96], hexd[65];
	struct fhe_mlp *m = small_model();
	struct keys k = { 0 };
	struct fhe_st *st;
	struct fhe_sealed *s;
	struct vjson_err e;
	_cleanup_free_ char *mj = NULL, *raw = NULL;
	uint8_t md[32];
	unsigned int ml;
	size_t len, mlen;

	ASSERT_NONNULL(mkdtemp(dir));
	keys_new(&k);
	snprintf(path, sizeof(path), "%s/m.sealed", dir);
	snprintf(man, sizeof(man), "%s/m.manifest.json", dir);
	EXPECT_EQ(-EINVAL, fhe_seal_model(m, "fc1", k.pk, "kbs:///a/b/c", path, man, NULL, NULL, &e));
	EXPECT_NONNULL(strstr(e.msg, "only the last dense layer"));
	EXPECT_EQ(-ENOENT, fhe_seal_model(m, "fc9", k.pk, "kbs:///a/b/c", path, man, NULL, NULL, &e));
	EXPECT_EQ(-EINVAL, fhe_seal_model(m, "fc2", k.pk, "https://x", path, man, NULL, NULL, &e));
	ASSERT_EQ(0, fhe_seal_model(m, "fc2", k.pk, "kbs:///default/fhe/small", path, man, NULL, NULL,
				    &e));
	ASSERT_EQ(0, fhe_st_load(path, &st, &e));
	EXPECT_NULL(fhe_st_find(st, "fc2.weight"));
	EXPECT_NULL(fhe_st_find(st, "fc2.bias"));
	EXPECT_NONNULL(fhe_st_find(st, "fc1.weight"));
	EXPECT_NONNULL(fhe_st_find(st, "sealed.fc2.ct0"));
	EXPECT_STREQ("fc2", fhe_st_meta(st, "veil.sealed"));
	fhe_st_free(st);
	/* the manifest names the file's digest, the key and the parameters */
	ASSERT_EQ(0, fd_read_file(path, 1 << 24, &raw, &len));
	ASSERT_EQ(0, fd_read_file(man, 1 << 20, &mj, &mlen));
	ASSERT_EQ(1, EVP_Digest(raw, len, md, &ml, EVP_sha256(), NULL));
	for (int i = 0; i < 32; i++)
		sprintf(hexd + 2 * i, "%02x", md[i]);
	EXPECT_NONNULL(strstr(mj, hexd));
	EXPECT_NONNULL(strstr(mj, "\"key_uri\": \"kbs:///default/fhe/small\""));
	EXPECT_NONNULL(strstr(mj, "\"params_sha256\""));
	ASSERT_EQ(0, fhe_sealed_load(path, &s, &e));
	EXPECT_EQ(2, s->layer);
	EXPECT_STREQ("kbs:///default/fhe/small", s->key_uri);
	EXPECT_MEMEQ(md, s->sha256, 32);
	fhe_sealed_free(s);
	fhe_mlp_free(m);
	keys_free(&k);
	unlink(path);
	unlink(man);
	rmdir(dir);
}

/* The sealed file re-written with one metadata entry replaced (value NULL: dropped). */
static int load_with_meta(const char *path, const char *key, const char *value,
			  const char *drop_tensor, struct vjson_err *e)
{
	struct fhe_st_writer *w = fhe_st_writer_new();
	struct fhe_sealed *s = NULL;
	struct fhe_st *st;
	const char *k;
	json_t *v;
	uint8_t *buf;
	size_t len;
	int r;

	if (fhe_st_load(path, &st, e) < 0)
		return -EIO;
	json_object_foreach(st->metadata, k, v)
		if (strcmp(k, key) != 0)
			fhe_st_writer_meta(w, k, json_string_value(v));
	if (value)
		fhe_st_writer_meta(w, key, value);
	for (size_t i = 0; i < st->n_tensors; i++) {
		const struct fhe_st_tensor *t = &st->tensors[i];

		if (drop_tensor && strcmp(t->name, drop_tensor) == 0)
			continue;
		fhe_st_writer_add(w, t->name, t->dtype, t->shape, t->ndim, t->data, t->size);
	}
	fhe_st_free(st);
	r = fhe_st_writer_serialize(w, &buf, &len);
	fhe_st_writer_free(w);
	if (r < 0)
		return r;
	r = fhe_sealed_parse(buf, len, &s, e);
	fhe_sealed_free(s);
	return r;
}

TEST(sealed_loader_refuses_inconsistent_files)
{
	char dir[] = "/tmp/veil-seal-XXXXXX", path[64], man[96];
	struct fhe_mlp *m = small_model();
	struct keys k = { 0 };
	struct vjson_err e;
	static const struct {
		const char *key, *value, *drop, *msg;
	} bad[] = {
		{ "veil.sealed", "fc1", NULL, "missing" },
		{ "veil.sealed", "fc1,fc2", NULL, "must name one layer" },
		{ "veil.sealed", NULL, NULL, "must name one layer" },
		{ "veil.key_uri", NULL, NULL, "veil.key_uri" },
		{ "veil.key_uri", "http://evil", NULL, "veil.key_uri" },
		{ "veil.sealed.fc2", "{\"m\":5,\"n\":6,\"preset\":1,\"ciphertexts\":1}", NULL, "does not match" },
		{ "veil.sealed.fc2", "{\"m\":4,\"n\":6,\"preset\":2,\"ciphertexts\":1}", NULL, "not preset 2" },
		{ "veil.sealed.fc2", "{\"m\":4,\"n\":6,\"preset\":1,\"ciphertexts\":2}", NULL, "geometry needs 1" },
		{ "veil.sealed.fc2", "{\"m\":4,\"n\":6,\"preset\":1}", NULL, "ciphertexts" },
		{ "x", NULL, "sealed.params", "sealed.params" },
		{ "x", NULL, "sealed.fc2.ct0", "sealed.fc2.ct0" },
		{ "x", NULL, "fc1.bias", "fc1.bias" },
	};

	ASSERT_NONNULL(mkdtemp(dir));
	keys_new(&k);
	snprintf(path, sizeof(path), "%s/m.sealed", dir);
	snprintf(man, sizeof(man), "%s/m.manifest.json", dir);
	ASSERT_EQ(0, fhe_seal_model(m, "fc2", k.pk, "kbs:///a/b/c", path, man, NULL, NULL, &e));
	ASSERT_EQ(0, load_with_meta(path, "nothing", NULL, NULL, &e));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r;

		e.msg[0] = '\0';
		r = load_with_meta(path, bad[i].key, bad[i].value, bad[i].drop, &e);
		if (r >= 0 || !strstr(e.msg, bad[i].msg))
			harness_fail(__FILE__, __LINE__, false, "case %zu: r=%d '%s'", i, r, e.msg);
	}
	fhe_mlp_free(m);
	keys_free(&k);
	unlink(path);
	unlink(man);
	rmdir(dir);
}

/*
 * The confidential path agrees with the plaintext model: sealed predictions
 * (plaintext fc1, homomorphic fc2, serialized, flooded decryption) against
 * the plaintext argmax on the whole Fashion-MNIST test set. ASan builds use
 * the first 1000 images (VEIL_AGREEMENT_IMAGES overrides either).
 */
TEST_TIMEOUT(sealed_predictions_agree_with_the_plaintext_model, 900)
{
	const char *model = model_test_path();
	char dir[] = "/tmp/veil-agree-XXXXXX", path[64], man[96];
	struct fhe_mnist set;
	struct fhe_mlp *m;
	struct fhe_sealed *s;
	struct keys k = { 0 };
	struct vjson_err e;
	_cleanup_free_ float *scratch = NULL;
	size_t n, agree = 0, ok_plain = 0, ok_sealed = 0;
	double max_err = 0, bound;

#if defined(__SANITIZE_ADDRESS__)
	n = 1000;
#else
	n = 10000;
#endif
	if (getenv("VEIL_AGREEMENT_IMAGES"))
		n = strtoul(getenv("VEIL_AGREEMENT_IMAGES"), NULL, 10);
	ASSERT_EQ(0, fhe_mlp_load(model, &m, &e));
	ASSERT_EQ(0, fhe_mnist_load(NULL, "t10k", &set, &e));
	if (n > set.n)
		n = set.n;
	ASSERT_NONNULL(mkdtemp(dir));
	keys_new(&k);
	snprintf(path, sizeof(path), "%s/m.sealed", dir);
	snprintf(man, sizeof(man), "%s/m.manifest.json", dir);
	ASSERT_EQ(0, fhe_seal_model(m, "fc2", k.pk, "kbs:///default/fhe/fashion", path, man, NULL,
				    NULL, &e));
	ASSERT_EQ(0, fhe_sealed_load(path, &s, &e));
	bound = fhe_flood_bound(NULL, s->out_scale);
	scratch = malloc(3 * m->width_max * sizeof(float));
	for (size_t i = 0; i < n; i++) {
		const float *x = set.pixels + i * 784;
		struct fhe_ciphertext **cts;
		unsigned int nct, cp, cs;
		uint8_t *b;
		size_t bl;
		float logits[10];
		double y[10];
		char msg[256];

		cp = (unsigned int)fhe_mlp_predict(m, x, logits, scratch);
		ASSERT_EQ(0, fhe_sealed_infer(s, x, scratch, &cts, &nct));
		ASSERT_EQ(0, fhe_ciphertext_serialize(cts[0], &b, &bl));
		fhe_ciphertexts_free(cts, nct);
		ASSERT_EQ(0, fhe_sealed_decrypt(s, k.sk, (const uint8_t *const *)&b, &bl, 1, y, msg,
						sizeof(msg)));
		free(b);
		cs = 0;
		for (unsigned int c = 0; c < 10; c++) {
			if (y[c] > y[cs])
				cs = c;
			if (fabs(y[c] - logits[c]) > max_err)
				max_err = fabs(y[c] - logits[c]);
		}
		agree += cp == cs;
		ok_plain += cp == set.labels[i];
		ok_sealed += cs == set.labels[i];
	}
	TH_LOG("%zu images: agreement %.2f%%, accuracy plaintext %.2f%% sealed %.2f%%, max |dy| %.3g (flooding bound %.3g)",
	       n, 100.0 * (double)agree / (double)n, 100.0 * (double)ok_plain / (double)n,
	       100.0 * (double)ok_sealed / (double)n, max_err, bound);
	EXPECT_GE((double)agree, 0.999 * (double)n);
	EXPECT_LE(fabs((double)ok_plain - (double)ok_sealed), 0.001 * (double)n);
	fhe_sealed_free(s);
	fhe_mlp_free(m);
	fhe_mnist_done(&set);
	keys_free(&k);
	unlink(path);
	unlink(man);
	rmdir(dir);
}
