/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Strict safetensors: an 8-byte little-endian header length, a JSON header
 * (tensors by name: dtype, shape, data_offsets; optional "__metadata__" of
 * string values), then the data. The reader refuses everything the format
 * leaves ambiguous: a header over FHE_ST_HEADER_MAX, a header not starting
 * with '{', unknown fields, shapes whose size disagrees with the offsets,
 * offsets outside the data, overlaps, gaps and trailing bytes. Model files
 * come from outside, so every byte is checked before it is used.
 */
#ifndef VEIL_FHE_SAFETENSORS_H
#define VEIL_FHE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"

#define FHE_ST_HEADER_MAX (1u << 20)	/* our models have tens of tensors */
#define FHE_ST_FILE_MAX (1ull << 30)
#define FHE_ST_TENSORS_MAX 4096
#define FHE_ST_NAME_MAX 256
#define FHE_ST_DIMS_MAX 8
#define FHE_ST_META_MAX 256		/* metadata entries */
#define FHE_ST_META_VALUE_MAX (64u << 10)

enum fhe_st_dtype {
	FHE_ST_F32,
	FHE_ST_F64,
	FHE_ST_F16,
	FHE_ST_BF16,
	FHE_ST_U8,	/* opaque bytes: sealed ciphertexts */
};

struct fhe_st_tensor {
	const char *name;		/* borrowed from the file's header */
	enum fhe_st_dtype dtype;
	unsigned int ndim;
	uint64_t shape[FHE_ST_DIMS_MAX];
	uint64_t count;			/* product of shape */
	const uint8_t *data;		/* little-endian, count * dtype size bytes */
	size_t size;
};

struct fhe_st {
	uint8_t *buf;			/* the whole file */
	size_t len;
	json_t *header;
	json_t *metadata;		/* borrowed; NULL when absent */
	size_t n_tensors;
	struct fhe_st_tensor *tensors;	/* in data order */
};

const char *fhe_st_dtype_name(enum fhe_st_dtype d);
size_t fhe_st_dtype_size(enum fhe_st_dtype d);

/*
 * Parses a whole file held in buf (ownership moves to *ret on success; on
 * failure the caller still owns buf). e->msg names what is wrong.
 */
int fhe_st_parse(uint8_t *buf, size_t len, struct fhe_st **ret, struct vjson_err *e);
int fhe_st_load(const char *path, struct fhe_st **ret, struct vjson_err *e);
struct fhe_st *fhe_st_free(struct fhe_st *st);

const struct fhe_st_tensor *fhe_st_find(const struct fhe_st *st, const char *name);
/* Metadata value or NULL. */
const char *fhe_st_meta(const struct fhe_st *st, const char *key);
/* Converts any float dtype into floats; n must equal t->count. */
int fhe_st_to_f32(const struct fhe_st_tensor *t, float *out, size_t n);

/* Writer: collect tensors (data copied) and metadata, then serialize. */
struct fhe_st_writer;
struct fhe_st_writer *fhe_st_writer_new(void);
struct fhe_st_writer *fhe_st_writer_free(struct fhe_st_writer *w);
int fhe_st_writer_meta(struct fhe_st_writer *w, const char *key, const char *value);
int fhe_st_writer_add(struct fhe_st_writer *w, const char *name, enum fhe_st_dtype dtype,
		      const uint64_t *shape, unsigned int ndim, const void *data, size_t size);
int fhe_st_writer_add_f32(struct fhe_st_writer *w, const char *name, const uint64_t *shape,
			  unsigned int ndim, const float *data);
/* The file's bytes, malloc'd. */
int fhe_st_writer_serialize(const struct fhe_st_writer *w, uint8_t **ret, size_t *ret_len);
int fhe_st_writer_save(const struct fhe_st_writer *w, const char *path);

#endif
