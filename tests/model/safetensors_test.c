// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <endian.h>
#include <fcntl.h>
#include <math.h>
#include <unistd.h>

#include "fhe/safetensors.h"
#include "lib/cleanup.h"

/* A file from a header string (declared length = strlen + pad) and data_len zero bytes. */
static uint8_t *mkfile(const char *hdr, size_t pad, size_t data_len, size_t *ret_len)
{
	size_t hl = strlen(hdr), len = 8 + hl + pad + data_len;
	uint8_t *b = calloc(1, len + 1);
	uint64_t le = htole64(hl + pad);

	memcpy(b, &le, 8);
	memcpy(b + 8, hdr, hl);
	memset(b + 8 + hl, ' ', pad);
	*ret_len = len;
	return b;
}

static int parse_str(const char *hdr, size_t data_len, struct vjson_err *e)
{
	struct fhe_st *st = NULL;
	size_t len;
	uint8_t *b = mkfile(hdr, 0, data_len, &len);
	int r = fhe_st_parse(b, len, &st, e);

	if (r == 0)
		fhe_st_free(st);
	else
		free(b);
	return r;
}

#define T1 "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"

static const struct {
	const char *what;
	const char *hdr;
	size_t data;
	const char *msg;	/* substring the error must contain */
} bad[] = {
	{ "header not starting with a brace", " {}", 0, "start with '{'" },
	{ "broken JSON", "{\"a\":}", 0, "line" },
	{ "newline after the JSON", "{}\n", 0, "space padding" },
	{ "bytes after the JSON", "{} x", 0, "space padding" },
	{ "two JSON values", "{}{}", 0, "line" },
	{ "duplicate tensor names", "{" T1 "," T1 "}", 8, "duplicate" },
	{ "unknown tensor field", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, "unknown field" },
	{ "missing dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype" },
	{ "unsupported dtype", "{\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unsupported dtype 'I32'" },
	{ "shape not an array", "{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 4, "a.shape" },
	{ "negative dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "non-negative" },
	{ "nine dimensions", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "a.shape" },
	{ "fractional dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "non-negative integer" },
	{ "three offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, "data_offsets" },
	{ "one offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 4, "begin, end" },
	{ "offset as string", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", 4, "non-negative integer" },
	{ "begin after end", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "after end" },
	{ "end past the data", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 2, "past the 2 data bytes" },
	{ "shape and size disagree", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes" },
	{ "element count overflows", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, "needs" },
	{ "overlapping tensors", "{" T1 ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlaps" },
	{ "gap between tensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "gap of 4 bytes before tensor 'b'" },
	{ "gap at the start", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "gap of 4" },
	{ "trailing data", "{" T1 "}", 12, "4 trailing bytes" },
	{ "metadata not an object", "{\"__metadata__\":[]}", 0, "__metadata__" },
	{ "metadata value not a string", "{\"__metadata__\":{\"arch\":1}}", 0, "__metadata__.arch" },
	{ "tensor description not an object", "{\"a\":[1]}", 0, "'a': expected an object" },
	{ "empty tensor name", "{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor name" },
	{ "NUL inside the header", "{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "" },
	{ "deep nesting in metadata", "{\"__metadata__\":{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}}", 0, "" },
};

TEST(rejects_each_malformed_header_with_a_named_reason)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct vjson_err e = { "" };
		int r = parse_str(bad[i].hdr, bad[i].data, &e);

		if (r >= 0 || !strstr(e.msg, bad[i].msg))
			harness_fail(__FILE__, __LINE__, false, "case '%s': r=%d msg='%s'",
				     bad[i].what, r, e.msg);
	}
}

TEST(rejects_short_and_oversized_framing)
{
	struct fhe_st *st;
	struct vjson_err e;
	uint8_t small[7] = { 0 };
	uint8_t b[32] = { 0 };
	uint64_t le;

	EXPECT_EQ(-EINVAL, fhe_st_parse(small, 0, &st, &e));
	EXPECT_EQ(-EINVAL, fhe_st_parse(small, sizeof(small), &st, &e));
	le = htole64(FHE_ST_HEADER_MAX + 1ull);
	memcpy(b, &le, 8);
	EXPECT_EQ(-E2BIG, fhe_st_parse(b, sizeof(b), &st, &e));
	le = htole64(UINT64_MAX);
	memcpy(b, &le, 8);
	EXPECT_EQ(-E2BIG, fhe_st_parse(b, sizeof(b), &st, &e));
	le = htole64(25);	/* one byte past the end */
	memcpy(b, &le, 8);
	b[8] = '{';
	EXPECT_EQ(-EINVAL, fhe_st_parse(b, sizeof(b), &st, &e));
	EXPECT_NONNULL(strstr(e.msg, "past the end"));
	le = htole64(0);
	memcpy(b, &le, 8);
	EXPECT_EQ(-EINVAL, fhe_st_parse(b, 8, &st, &e));
}

TEST(round_trips_tensors_and_metadata)
{
	struct fhe_st_writer *w = fhe_st_writer_new();
	const float a[6] = { 1, -2, 3.5f, 0, 1e-3f, -7 };
	const double d[2] = { 0.25, -1e10 };
	const uint64_t sa[2] = { 2, 3 }, sd[1] = { 2 }, se[2] = { 0, 5 };
	const struct fhe_st_tensor *t;
	struct fhe_st *st = NULL;
	struct vjson_err e;
	uint8_t *buf;
	size_t len;
	float out[6];
	uint64_t hl;

	ASSERT_NONNULL(w);
	ASSERT_EQ(0, fhe_st_writer_meta(w, "veil.arch", "dense:a"));
	ASSERT_EQ(0, fhe_st_writer_add_f32(w, "fc.weight", sa, 2, a));
	ASSERT_EQ(0, fhe_st_writer_add(w, "d", FHE_ST_F64, sd, 1, d, sizeof(d)));
	ASSERT_EQ(0, fhe_st_writer_add(w, "empty", FHE_ST_F32, se, 2, "", 0));
	EXPECT_EQ(-EEXIST, fhe_st_writer_add(w, "d", FHE_ST_F64, sd, 1, d, sizeof(d)));
	EXPECT_EQ(-EINVAL, fhe_st_writer_add(w, "x", FHE_ST_F64, sd, 1, d, 3));
	EXPECT_EQ(-EINVAL, fhe_st_writer_add(w, "__metadata__", FHE_ST_F64, sd, 1, d, sizeof(d)));
	ASSERT_EQ(0, fhe_st_writer_serialize(w, &buf, &len));
	fhe_st_writer_free(w);
	memcpy(&hl, buf, 8);
	EXPECT_EQ(0, (8 + le64toh(hl)) % 8);
	ASSERT_EQ(0, fhe_st_parse(buf, len, &st, &e));
	ASSERT_EQ(3, st->n_tensors);
	EXPECT_STREQ("dense:a", fhe_st_meta(st, "veil.arch"));
	EXPECT_NULL(fhe_st_meta(st, "nope"));
	t = fhe_st_find(st, "fc.weight");
	ASSERT_NONNULL(t);
	EXPECT_EQ(2, t->ndim);
	EXPECT_EQ(3, t->shape[1]);
	ASSERT_EQ(0, fhe_st_to_f32(t, out, 6));
	EXPECT_MEMEQ(a, out, sizeof(a));
	EXPECT_EQ(-EINVAL, fhe_st_to_f32(t, out, 5));
	t = fhe_st_find(st, "d");
	ASSERT_NONNULL(t);
	ASSERT_EQ(0, fhe_st_to_f32(t, out, 2));
	EXPECT_TRUE(out[0] == 0.25f && out[1] == -1e10f);
	t = fhe_st_find(st, "empty");
	ASSERT_NONNULL(t);
	EXPECT_EQ(0, t->count);
	EXPECT_NULL(fhe_st_find(st, "__metadata__"));
	fhe_st_free(st);
}

TEST(converts_half_and_bfloat16)
{
	/* 1.0, -2.0, 65504 (max half), 2^-24 (smallest subnormal), +inf */
	const uint16_t h[5] = { 0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00 };
	const uint16_t bf[3] = { 0x3f80, 0xc040, 0x0000 };	/* 1, -3, 0 */
	const uint64_t s5[1] = { 5 }, s3[1] = { 3 };
	struct fhe_st_writer *w = fhe_st_writer_new();
	struct fhe_st *st;
	struct vjson_err e;
	uint8_t *buf;
	size_t len;
	float o[5];

	ASSERT_EQ(0, fhe_st_writer_add(w, "h", FHE_ST_F16, s5, 1, h, sizeof(h)));
	ASSERT_EQ(0, fhe_st_writer_add(w, "b", FHE_ST_BF16, s3, 1, bf, sizeof(bf)));
	ASSERT_EQ(0, fhe_st_writer_serialize(w, &buf, &len));
	fhe_st_writer_free(w);
	ASSERT_EQ(0, fhe_st_parse(buf, len, &st, &e));
	ASSERT_EQ(0, fhe_st_to_f32(fhe_st_find(st, "h"), o, 5));
	EXPECT_TRUE(o[0] == 1.0f && o[1] == -2.0f && o[2] == 65504.0f);
	EXPECT_TRUE(o[3] == 0x1p-24f && isinf(o[4]));
	ASSERT_EQ(0, fhe_st_to_f32(fhe_st_find(st, "b"), o, 3));
	EXPECT_TRUE(o[0] == 1.0f && o[1] == -3.0f && o[2] == 0.0f);
	fhe_st_free(st);
}

TEST(accepts_space_padding_and_reads_from_disk)
{
	char path[] = "/tmp/veil-st-XXXXXX";
	int fd = mkstemp(path);
	struct fhe_st *st;
	struct vjson_err e;
	size_t len;
	uint8_t *b = mkfile("{" T1 "}", 5, 8, &len);

	ASSERT_GE(fd, 0);
	ASSERT_EQ((ssize_t)len, write(fd, b, len));
	close(fd);
	free(b);
	ASSERT_EQ(0, fhe_st_load(path, &st, &e));
	EXPECT_EQ(1, st->n_tensors);
	fhe_st_free(st);
	unlink(path);
	EXPECT_EQ(-ENOENT, fhe_st_load(path, &st, &e));
	EXPECT_NONNULL(strstr(e.msg, path));
}
