// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <unistd.h>

#include "fhe/idx.h"
#include "lib/cleanup.h"

static int parse_bytes(const uint8_t *b, size_t len, struct fhe_idx *idx, struct vjson_err *e)
{
	uint8_t *copy = malloc(len + 1);
	int r;

	memcpy(copy, b, len);
	r = fhe_idx_parse(copy, len, idx, e);
	if (r < 0)
		free(copy);
	return r;
}

static const struct {
	const char *what;
	uint8_t b[24];
	size_t len;
	const char *msg;
} bad[] = {
	{ "empty file", { 0 }, 0, "no IDX magic" },
	{ "three bytes", { 0, 0, 8 }, 3, "no IDX magic" },
	{ "nonzero magic", { 1, 0, 8, 1, 0, 0, 0, 1, 5 }, 9, "bad IDX magic" },
	{ "float elements", { 0, 0, 0x0d, 1, 0, 0, 0, 1, 5, 5, 5, 5 }, 12, "type 0x0d" },
	{ "signed byte elements", { 0, 0, 0x09, 1, 0, 0, 0, 1, 5 }, 9, "type 0x09" },
	{ "zero dimensions", { 0, 0, 8, 0 }, 4, "0 dimensions" },
	{ "five dimensions", { 0, 0, 8, 5 }, 4, "5 dimensions" },
	{ "dimension list cut short", { 0, 0, 8, 2, 0, 0, 0, 1, 0, 0 }, 10, "cut short" },
	{ "zero-length dimension", { 0, 0, 8, 1, 0, 0, 0, 0 }, 8, "dimension 0 is zero" },
	{ "data shorter than dims", { 0, 0, 8, 1, 0, 0, 0, 3, 1, 2 }, 10, "need 3 data bytes, file holds 2" },
	{ "trailing bytes", { 0, 0, 8, 1, 0, 0, 0, 1, 1, 2 }, 10, "need 1 data bytes, file holds 2" },
	{ "dimensions overflowing", { 0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 16, "more than" },
};

TEST(rejects_each_malformed_idx_with_a_named_reason)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct vjson_err e = { "" };
		struct fhe_idx idx;
		int r = parse_bytes(bad[i].b, bad[i].len, &idx, &e);

		if (r >= 0 || !strstr(e.msg, bad[i].msg))
			harness_fail(__FILE__, __LINE__, false, "case '%s': r=%d msg='%s'",
				     bad[i].what, r, e.msg);
	}
}

TEST(parses_a_well_formed_idx)
{
	const uint8_t b[] = { 0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6 };
	struct fhe_idx idx;
	struct vjson_err e;

	ASSERT_EQ(0, parse_bytes(b, sizeof(b), &idx, &e));
	EXPECT_EQ(2, idx.ndim);
	EXPECT_EQ(2, idx.dims[0]);
	EXPECT_EQ(3, idx.dims[1]);
	EXPECT_EQ(6, idx.count);
	EXPECT_EQ(6, idx.data[5]);
	fhe_idx_done(&idx);
}

TEST(loads_plain_and_gzipped_files)
{
	const uint8_t b[] = { 0, 0, 8, 1, 0, 0, 0, 4, 9, 8, 7, 6 };
	char dir[] = "/tmp/veil-idx-XXXXXX", path[128], cmd[256];
	struct fhe_idx idx;
	struct vjson_err e;
	FILE *f;

	ASSERT_NONNULL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x-idx1-ubyte", dir);
	f = fopen(path, "w");
	ASSERT_NONNULL(f);
	fwrite(b, 1, sizeof(b), f);
	fclose(f);
	ASSERT_EQ(0, fhe_idx_load(path, &idx, &e));
	EXPECT_EQ(4, idx.count);
	fhe_idx_done(&idx);
	snprintf(cmd, sizeof(cmd), "gzip -n '%s'", path);
	ASSERT_EQ(0, system(cmd));
	strcat(path, ".gz");
	ASSERT_EQ(0, fhe_idx_load(path, &idx, &e));
	EXPECT_EQ(4, idx.count);
	EXPECT_EQ(6, idx.data[3]);
	fhe_idx_done(&idx);
	/* a truncated gzip stream is an error, not a short file */
	ASSERT_EQ(0, truncate(path, 20));
	EXPECT_LT(fhe_idx_load(path, &idx, &e), 0);
	unlink(path);
	EXPECT_LT(fhe_idx_load(path, &idx, &e), 0);
	EXPECT_NONNULL(strstr(e.msg, "x-idx1-ubyte"));
	rmdir(dir);
}

TEST(loads_the_fashion_mnist_test_set)
{
	struct fhe_mnist m;
	struct vjson_err e;
	size_t per_class[10] = { 0 };
	char path[512];

	snprintf(path, sizeof(path), "%s/t10k-labels-idx1-ubyte.gz", fhe_mnist_dir(NULL));
	if (access(path, R_OK) < 0)
		SKIP("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)");
	ASSERT_EQ(0, fhe_mnist_load(NULL, "t10k", &m, &e));
	EXPECT_EQ(10000, m.n);
	EXPECT_EQ(28, m.rows);
	EXPECT_EQ(28, m.cols);
	for (size_t i = 0; i < m.n; i++)
		per_class[m.labels[i]]++;
	for (int c = 0; c < 10; c++)
		EXPECT_EQ(1000, per_class[c]);
	/* pixels are scaled into [0,1] and not all zero */
	float sum = 0;
	for (size_t i = 0; i < 784; i++) {
		EXPECT_TRUE(m.pixels[i] >= 0.0f && m.pixels[i] <= 1.0f);
		sum += m.pixels[i];
	}
	EXPECT_GT(sum, 1.0f);
	fhe_mnist_done(&m);
}
