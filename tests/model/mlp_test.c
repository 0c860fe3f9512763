// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <math.h>

#include "fhe/mlp.h"
#include "fhe/train.h"
#include "lib/cleanup.h"
#include "tests/model/common.h"

/* A 2-3-2 model: W1 = [[1,0],[0,1],[1,-1]], b1 = [0,0,-1]; W2 = [[1,1,1],[0,0,2]], b2 = [0.5,0]. */
static struct fhe_mlp *tiny(void)
{
	const unsigned int dims[] = { 2, 3, 2 };
	const char *names[] = { "fc1", "fc2" };
	const float w1[3][2] = { { 1, 0 }, { 0, 1 }, { 1, -1 } }, w2[2][3] = { { 1, 1, 1 }, { 0, 0, 2 } };
	struct fhe_mlp *m;

	if (fhe_mlp_new(dims, 3, names, &m) < 0)
		return NULL;
	for (int o = 0; o < 3; o++)
		for (int i = 0; i < 2; i++)
			m->layers[0].wt[i * 3 + o] = w1[o][i];
	m->layers[0].b[2] = -1;
	for (int o = 0; o < 2; o++)
		for (int i = 0; i < 3; i++)
			m->layers[2].wt[i * 2 + o] = w2[o][i];
	m->layers[2].b[0] = 0.5f;
	return m;
}

TEST(computes_dense_relu_dense_by_hand)
{
	struct fhe_mlp *m = tiny();
	const float x[2] = { 3, 1 };
	float y[2], scratch[9];

	ASSERT_NONNULL(m);
	/* h = relu([3, 1, 3-1-1]) = [3,1,1]; y = [3+1+1+0.5, 2] */
	ASSERT_EQ(0, fhe_mlp_predict(m, x, y, scratch));
	EXPECT_TRUE(fabsf(y[0] - 5.5f) < 1e-6f && fabsf(y[1] - 2.0f) < 1e-6f);
	/* the first two layers alone give the hidden activations */
	ASSERT_EQ(3, fhe_mlp_run(m, 0, 2, x, scratch + 6, scratch));
	EXPECT_TRUE(scratch[6] == 3 && scratch[7] == 1 && scratch[8] == 1);
	EXPECT_EQ(-EINVAL, fhe_mlp_run(m, 2, 2, x, y, scratch));
	fhe_mlp_free(m);
}

TEST(round_trips_through_safetensors)
{
	struct fhe_mlp *m = tiny(), *m2;
	struct fhe_st_writer *w = fhe_st_writer_new();
	struct fhe_st *st;
	struct vjson_err e;
	uint8_t *buf;
	size_t len;
	float w_file[6];

	ASSERT_EQ(0, fhe_mlp_to_writer(m, w));
	ASSERT_EQ(0, fhe_st_writer_serialize(w, &buf, &len));
	fhe_st_writer_free(w);
	ASSERT_EQ(0, fhe_st_parse(buf, len, &st, &e));
	/* on disk the weight is [out, in] */
	ASSERT_EQ(0, fhe_st_to_f32(fhe_st_find(st, "fc1.weight"), w_file, 6));
	EXPECT_TRUE(w_file[4] == 1 && w_file[5] == -1);
	ASSERT_EQ(0, fhe_mlp_from_st(st, &m2, &e));
	EXPECT_EQ(3, m2->n_layers);
	EXPECT_EQ(2, fhe_mlp_find(m2, "fc2"));
	EXPECT_EQ(-ENOENT, fhe_mlp_find(m2, "fc3"));
	EXPECT_MEMEQ(m->layers[2].wt, m2->layers[2].wt, 6 * sizeof(float));
	fhe_st_free(st);
	fhe_mlp_free(m);
	fhe_mlp_free(m2);
}

static int load_arch(const char *arch, const char *const *tensors, struct vjson_err *e)
{
	struct fhe_st_writer *w = fhe_st_writer_new();
	struct fhe_mlp *m = NULL;
	struct fhe_st *st;
	uint8_t *buf;
	size_t len;
	int r;
	static const float zeros[16];

	if (arch)
		fhe_st_writer_meta(w, FHE_MLP_META_KEY, arch);
	for (; tensors && *tensors; tensors += 2) {
		uint64_t shape[2];
		unsigned int nd = sscanf(tensors[1], "%lu,%lu", &shape[0], &shape[1]);

		if (strcmp(*tensors, "u8") == 0)
			fhe_st_writer_add(w, "fc1.bias", FHE_ST_U8, shape, nd, zeros, shape[0]);
		else
			fhe_st_writer_add_f32(w, *tensors, shape, nd, zeros);
	}
	fhe_st_writer_serialize(w, &buf, &len);
	fhe_st_writer_free(w);
	r = fhe_st_parse(buf, len, &st, e);
	if (r < 0)
		return r;
	r = fhe_mlp_from_st(st, &m, e);
	fhe_st_free(st);
	fhe_mlp_free(m);
	return r;
}

#define OK_ARCH "{\"version\":1,\"input\":2,\"layers\":[{\"type\":\"dense\",\"name\":\"fc1\",\"out\":2},{\"type\":\"softmax\"}]}"

TEST(rejects_bad_architectures_and_tensors)
{
	static const char *const ok_t[] = { "fc1.weight", "2,2", "fc1.bias", "2", NULL };
	static const char *const extra_t[] = { "fc1.weight", "2,2", "fc1.bias", "2", "x", "1", NULL };
	static const char *const shape_t[] = { "fc1.weight", "2,3", "fc1.bias", "2", NULL };
	static const char *const missing_t[] = { "fc1.weight", "2,2", NULL };
	static const char *const u8_t[] = { "fc1.weight", "2,2", "u8", "2", NULL };
	static const struct {
		const char *arch;
		const char *const *t;
		const char *msg;
	} bad[] = {
		{ NULL, ok_t, "no 'veil.mlp'" },
		{ "[", ok_t, "line" },
		{ "{\"version\":2,\"input\":2,\"layers\":[]}", ok_t, "version" },
		{ "{\"version\":1,\"input\":0,\"layers\":[]}", ok_t, "input" },
		{ "{\"version\":1,\"input\":2,\"layers\":[]}", ok_t, "no dense layer" },
		{ "{\"version\":1,\"input\":2,\"layers\":[{\"type\":\"conv\"}]}", ok_t, "unknown layer type 'conv'" },
		{ "{\"version\":1,\"input\":2,\"layers\":[{\"type\":\"softmax\"},{\"type\":\"dense\",\"name\":\"fc1\",\"out\":2}]}", ok_t, "softmax must be the last" },
		{ "{\"version\":1,\"input\":2,\"layers\":[{\"type\":\"dense\",\"name\":\"f c\",\"out\":2}]}", ok_t, "not [A-Za-z0-9_-]+" },
		{ "{\"version\":1,\"input\":2,\"layers\":[{\"type\":\"dense\",\"name\":\"fc1\",\"out\":2},{\"type\":\"dense\",\"name\":\"fc1\",\"out\":2}]}", ok_t, "used twice" },
		{ "{\"version\":1,\"input\":2,\"layers\":[{\"type\":\"dense\",\"name\":\"fc1\",\"out\":99999}]}", ok_t, "out" },
		{ "{\"version\":1,\"input\":2,\"extra\":1,\"layers\":[]}", ok_t, "unknown field" },
		{ OK_ARCH, extra_t, "1 tensors are not used" },
		{ OK_ARCH, shape_t, "shape does not match" },
		{ OK_ARCH, missing_t, "'fc1.bias' is missing" },
		{ OK_ARCH, u8_t, "not a float type" },
	};
	struct vjson_err e;

	ASSERT_EQ(0, load_arch(OK_ARCH, ok_t, &e));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r;

		e.msg[0] = '\0';
		r = load_arch(bad[i].arch, bad[i].t, &e);
		if (r >= 0 || !strstr(e.msg, bad[i].msg))
			harness_fail(__FILE__, __LINE__, false, "case %zu: r=%d msg='%s'", i, r, e.msg);
	}
}

TEST_TIMEOUT(training_is_deterministic, 120)
{
	struct fhe_train_opts o = FHE_TRAIN_OPTS_DEFAULT;
	struct fhe_mnist set;
	struct fhe_mlp *a, *b;
	struct vjson_err e;

	if (fhe_mnist_load(NULL, "t10k", &set, &e) < 0)
		SKIP("Fashion-MNIST not installed: %s", e.msg);
	set.n = 2000;
	o.epochs = 1;
	o.hidden[0] = 32;
	ASSERT_EQ(0, fhe_train(&set, &o, &a));
	ASSERT_EQ(0, fhe_train(&set, &o, &b));
	EXPECT_MEMEQ(a->layers[0].wt, b->layers[0].wt, 784 * 32 * sizeof(float));
	EXPECT_MEMEQ(a->layers[2].b, b->layers[2].b, 10 * sizeof(float));
	fhe_mlp_free(b);
	o.seed++;
	ASSERT_EQ(0, fhe_train(&set, &o, &b));
	EXPECT_NE(0, memcmp(a->layers[0].wt, b->layers[0].wt, 784 * 32 * sizeof(float)));
	fhe_mlp_free(a);
	fhe_mlp_free(b);
	fhe_mnist_done(&set);
}

/* the first run trains the cached model: ~20 s, minutes under ASan on a loaded machine */
TEST_TIMEOUT(trained_model_reaches_85_percent_on_the_test_set, 900)
{
	const char *path = model_test_path();
	struct fhe_mnist set;
	struct fhe_mlp *m;
	struct vjson_err e;
	size_t ok;

	ASSERT_EQ(0, fhe_mlp_load(path, &m, &e));
	ASSERT_EQ(0, fhe_mnist_load(NULL, "t10k", &set, &e));
	ASSERT_EQ(0, fhe_mlp_evaluate(m, &set, 0, &ok));
	TH_LOG("test accuracy %.2f%%", 100.0 * (double)ok / (double)set.n);
	EXPECT_GE(ok, 8500);
	fhe_mlp_free(m);
	fhe_mnist_done(&set);
}
