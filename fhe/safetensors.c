// SPDX-License-Identifier: GPL-2.0-only
/*
 * The safetensors format, read strictly and written canonically (header
 * padded with spaces to 8 bytes, tensors laid out in the order they were
 * added, no gaps).
 */
#include "fhe/safetensors.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/fd.h"

static const struct {
	const char *name;
	size_t size;
} dtypes[] = {
	[FHE_ST_F32] = { "F32", 4 },
	[FHE_ST_F64] = { "F64", 8 },
	[FHE_ST_F16] = { "F16", 2 },
	[FHE_ST_BF16] = { "BF16", 2 },
	[FHE_ST_U8] = { "U8", 1 },
};

const char *fhe_st_dtype_name(enum fhe_st_dtype d)
{
	return (unsigned int)d < ARRAY_SIZE(dtypes) ? dtypes[d].name : "?";
}

size_t fhe_st_dtype_size(enum fhe_st_dtype d)
{
	return (unsigned int)d < ARRAY_SIZE(dtypes) ? dtypes[d].size : 0;
}

struct fhe_st *fhe_st_free(struct fhe_st *st)
{
	if (!st)
		return NULL;
	json_decref(st->header);
	free(st->tensors);
	free(st->buf);
	free(st);
	return NULL;
}

static int parse_metadata(json_t *meta, struct vjson_err *e)
{
	const char *k;
	json_t *v;

	if (!json_is_object(meta))
		return vjson_fail(e, -EINVAL, "'__metadata__': expected an object, got %s",
			    vjson_type_name(meta));
	if (json_object_size(meta) > FHE_ST_META_MAX)
		return vjson_fail(e, -E2BIG, "'__metadata__': more than %u entries", FHE_ST_META_MAX);
	json_object_foreach(meta, k, v) {
		if (!json_is_string(v))
			return vjson_fail(e, -EINVAL, "'__metadata__.%.64s': expected a string, got %s", k,
				    vjson_type_name(v));
		if (json_string_length(v) > FHE_ST_META_VALUE_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return vjson_fail(e, -EINVAL, "'__metadata__.%.64s': value too long or holds NUL", k);
	}
	return 0;
}

static int parse_dtype(const char *s, enum fhe_st_dtype *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(dtypes); i++)
		if (strcmp(dtypes[i].name, s) == 0) {
			*ret = (enum fhe_st_dtype)i;
			return 0;
		}
	return -EINVAL;
}

static int parse_tensor(const char *name, json_t *desc, uint64_t data_len,
			struct fhe_st_tensor *t, uint64_t offs[2], struct vjson_err *e)
{
	static const char *const keys[] = { "dtype", "shape", "data_offsets", NULL };
	char where[FHE_ST_NAME_MAX + 8];
	const char *dt;
	json_t *shape, *off, *v;
	uint64_t count = 1, bytes;
	bool zero = false;
	size_t i;
	int r;

	if (strlen(name) == 0 || strlen(name) > FHE_ST_NAME_MAX)
		return vjson_fail(e, -EINVAL, "tensor name of %zu bytes (must be 1..%u)", strlen(name),
			    FHE_ST_NAME_MAX);
	snprintf(where, sizeof(where), "%s", name);
	if (!json_is_object(desc))
		return vjson_fail(e, -EINVAL, "'%s': expected an object, got %s", where,
			    vjson_type_name(desc));
	r = vjson_check_keys(desc, where, keys, e);
	if (r < 0)
		return r;
	r = vjson_get_string(desc, where, "dtype", 8, &dt, e);
	if (r < 0)
		return r;
	if (parse_dtype(dt, &t->dtype) < 0)
		return vjson_fail(e, -EINVAL, "'%s.dtype': unsupported dtype '%s'", where, dt);
	r = vjson_get_array(desc, where, "shape", FHE_ST_DIMS_MAX, &shape, e);
	if (r < 0)
		return r;
	t->ndim = (unsigned int)json_array_size(shape);
	json_array_foreach(shape, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return vjson_fail(e, -EINVAL, "'%s.shape[%zu]': expected a non-negative integer", where,
				    i);
		t->shape[i] = (uint64_t)json_integer_value(v);
		if (t->shape[i] == 0)
			zero = true;
		/* saturate: a count past the data cannot fit; reported below */
		else if (count > (data_len + 1) / t->shape[i])
			count = data_len + 1;
		else
			count *= t->shape[i];
	}
	if (zero)
		count = 0;
	t->count = count;
	r = vjson_get_array(desc, where, "data_offsets", 2, &off, e);
	if (r < 0)
		return r;
	if (json_array_size(off) != 2)
		return vjson_fail(e, -EINVAL, "'%s.data_offsets': expected [begin, end]", where);
	for (i = 0; i < 2; i++) {
		v = json_array_get(off, i);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return vjson_fail(e, -EINVAL, "'%s.data_offsets[%zu]': expected a non-negative integer",
				    where, i);
		offs[i] = (uint64_t)json_integer_value(v);
	}
	if (offs[0] > offs[1])
		return vjson_fail(e, -EINVAL, "'%s.data_offsets': begin %" PRIu64 " after end %" PRIu64,
			    where, offs[0], offs[1]);
	if (offs[1] > data_len)
		return vjson_fail(e, -EINVAL,
			    "'%s.data_offsets': end %" PRIu64 " is past the %" PRIu64 " data bytes",
			    where, offs[1], data_len);
	bytes = count * fhe_st_dtype_size(t->dtype);
	if (bytes != offs[1] - offs[0])
		return vjson_fail(e, -EINVAL,
			    "'%s': shape needs %" PRIu64 " bytes of %s, data_offsets span %" PRIu64,
			    where, bytes, dtypes[t->dtype].name, offs[1] - offs[0]);
	t->size = (size_t)bytes;
	return 0;
}

struct order {
	uint64_t begin, end;
	size_t idx;
};

static int cmp_order(const void *a, const void *b)
{
	const struct order *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

int fhe_st_parse(uint8_t *buf, size_t len, struct fhe_st **ret, struct vjson_err *e)
{
	_cleanup_free_ struct order *ord = NULL;
	_cleanup_free_ struct fhe_st_tensor *tmp = NULL;
	_cleanup_(json_decrefp) json_t *h = NULL;
	uint64_t hlen, data_len, expect = 0;
	const char *k;
	json_t *meta, *v;
	struct fhe_st *st;
	size_t n, end, i;
	int r;

	if (len < 8)
		return vjson_fail(e, -EINVAL, "file of %zu bytes is shorter than its 8-byte header length",
			    len);
	if (len > FHE_ST_FILE_MAX)
		return vjson_fail(e, -EFBIG, "file of %zu bytes exceeds the limit of %llu", len,
			    FHE_ST_FILE_MAX);
	memcpy(&hlen, buf, 8);
	hlen = le64toh(hlen);
	if (hlen > FHE_ST_HEADER_MAX)
		return vjson_fail(e, -E2BIG, "header of %" PRIu64 " bytes exceeds the limit of %u", hlen,
			    FHE_ST_HEADER_MAX);
	if (hlen > len - 8)
		return vjson_fail(e, -EINVAL, "header of %" PRIu64 " bytes runs past the end of the file",
			    hlen);
	if (hlen < 2 || buf[8] != '{')
		return vjson_fail(e, -EINVAL, "header does not start with '{'");
	/* JSON then only space padding: no other trailing whitespace or bytes. */
	for (end = 8 + hlen; end > 9 && buf[end - 1] == ' '; end--)
		;
	if (buf[end - 1] != '}')
		return vjson_fail(e, -EINVAL, "header does not end with '}' and space padding");
	r = vjson_parse((const char *)buf + 8, end - 8, FHE_ST_HEADER_MAX, 4, &h, e);
	if (r < 0)
		return r;
	if (!json_is_object(h))
		return vjson_fail(e, -EINVAL, "header is not a JSON object");
	data_len = len - 8 - hlen;
	n = json_object_size(h);
	meta = json_object_get(h, "__metadata__");
	if (meta) {
		n--;
		r = parse_metadata(meta, e);
		if (r < 0)
			return r;
	}
	if (n > FHE_ST_TENSORS_MAX)
		return vjson_fail(e, -E2BIG, "%zu tensors exceed the limit of %u", n, FHE_ST_TENSORS_MAX);
	tmp = calloc(n ? n : 1, sizeof(*tmp));
	ord = calloc(n ? n : 1, sizeof(*ord));
	if (!tmp || !ord)
		return -ENOMEM;
	i = 0;
	json_object_foreach(h, k, v) {
		uint64_t offs[2];

		if (v == meta)
			continue;
		tmp[i].name = k;
		r = parse_tensor(k, v, data_len, &tmp[i], offs, e);
		if (r < 0)
			return r;
		ord[i] = (struct order){ offs[0], offs[1], i };
		i++;
	}
	qsort(ord, n, sizeof(*ord), cmp_order);
	for (i = 0; i < n; i++) {
		const char *name = tmp[ord[i].idx].name;

		if (ord[i].begin < expect)
			return vjson_fail(e, -EINVAL, "tensor '%s' overlaps the one before it", name);
		if (ord[i].begin > expect)
			return vjson_fail(e, -EINVAL, "gap of %" PRIu64 " bytes before tensor '%s'",
				    ord[i].begin - expect, name);
		expect = ord[i].end;
	}
	if (expect != data_len)
		return vjson_fail(e, -EINVAL, "%" PRIu64 " trailing bytes after the last tensor",
			    data_len - expect);
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->tensors = calloc(n ? n : 1, sizeof(*st->tensors));
	if (!st->tensors) {
		free(st);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		st->tensors[i] = tmp[ord[i].idx];
		st->tensors[i].data = buf + 8 + hlen + ord[i].begin;
	}
	st->n_tensors = n;
	st->buf = buf;
	st->len = len;
	st->metadata = meta;
	st->header = TAKE_PTR(h);
	*ret = st;
	return 0;
}

int fhe_st_load(const char *path, struct fhe_st **ret, struct vjson_err *e)
{
	char *buf = NULL;
	size_t len;
	int r;

	r = fd_read_file(path, FHE_ST_FILE_MAX, &buf, &len);
	if (r < 0)
		return vjson_fail(e, r, "cannot read '%s': %s", path, strerror(-r));
	r = fhe_st_parse((uint8_t *)buf, len, ret, e);
	if (r < 0)
		free(buf);
	return r;
}

const struct fhe_st_tensor *fhe_st_find(const struct fhe_st *st, const char *name)
{
	for (size_t i = 0; i < st->n_tensors; i++)
		if (strcmp(st->tensors[i].name, name) == 0)
			return &st->tensors[i];
	return NULL;
}

const char *fhe_st_meta(const struct fhe_st *st, const char *key)
{
	json_t *v;

	if (!st->metadata)
		return NULL;
	v = json_object_get(st->metadata, key);
	return v ? json_string_value(v) : NULL;
}

static float f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
	float f;

	if (exp == 0x1f) {
		bits = sign | 0x7f800000u | (man << 13);
	} else if (exp) {
		bits = sign | ((exp + 112) << 23) | (man << 13);
	} else if (man) {
		/* subnormal half: value is man * 2^-24 */
		f = (float)man * 0x1p-24f;
		return sign ? -f : f;
	} else {
		bits = sign;
	}
	memcpy(&f, &bits, 4);
	return f;
}

int fhe_st_to_f32(const struct fhe_st_tensor *t, float *out, size_t n)
{
	if (n != t->count)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = t->data + i * fhe_st_dtype_size(t->dtype);
		uint64_t u64;
		uint32_t u32;
		uint16_t u16;
		double d;

		switch (t->dtype) {
		case FHE_ST_F32:
			memcpy(&u32, p, 4);
			u32 = le32toh(u32);
			memcpy(&out[i], &u32, 4);
			break;
		case FHE_ST_F64:
			memcpy(&u64, p, 8);
			u64 = le64toh(u64);
			memcpy(&d, &u64, 8);
			out[i] = (float)d;
			break;
		case FHE_ST_F16:
			memcpy(&u16, p, 2);
			out[i] = f16_to_f32(le16toh(u16));
			break;
		case FHE_ST_BF16:
			memcpy(&u16, p, 2);
			u32 = (uint32_t)le16toh(u16) << 16;
			memcpy(&out[i], &u32, 4);
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- writer ------------------------------------------------------------- */

struct wtensor {
	char *name;
	enum fhe_st_dtype dtype;
	unsigned int ndim;
	uint64_t shape[FHE_ST_DIMS_MAX];
	uint8_t *data;
	size_t size;
};

struct fhe_st_writer {
	json_t *meta;
	struct wtensor *t;
	size_t n;
};

struct fhe_st_writer *fhe_st_writer_new(void)
{
	struct fhe_st_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->meta = json_object();
	if (!w->meta) {
		free(w);
		return NULL;
	}
	return w;
}

struct fhe_st_writer *fhe_st_writer_free(struct fhe_st_writer *w)
{
	if (!w)
		return NULL;
	for (size_t i = 0; i < w->n; i++) {
		free(w->t[i].name);
		free(w->t[i].data);
	}
	free(w->t);
	json_decref(w->meta);
	free(w);
	return NULL;
}

int fhe_st_writer_meta(struct fhe_st_writer *w, const char *key, const char *value)
{
	if (strlen(value) > FHE_ST_META_VALUE_MAX || json_object_size(w->meta) >= FHE_ST_META_MAX)
		return -E2BIG;
	return json_object_set_new(w->meta, key, json_string(value)) < 0 ? -EINVAL : 0;
}

int fhe_st_writer_add(struct fhe_st_writer *w, const char *name, enum fhe_st_dtype dtype,
		      const uint64_t *shape, unsigned int ndim, const void *data, size_t size)
{
	struct wtensor *nt, *t;
	uint64_t count = 1;

	if (!*name || strlen(name) > FHE_ST_NAME_MAX || strcmp(name, "__metadata__") == 0 ||
	    ndim > FHE_ST_DIMS_MAX || fhe_st_dtype_size(dtype) == 0)
		return -EINVAL;
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->t[i].name, name) == 0)
			return -EEXIST;
	for (unsigned int i = 0; i < ndim; i++) {
		if (shape[i] && count > UINT64_MAX / shape[i])
			return -EOVERFLOW;
		count *= shape[i];
	}
	if (count > SIZE_MAX / fhe_st_dtype_size(dtype) || count * fhe_st_dtype_size(dtype) != size)
		return -EINVAL;
	if (w->n >= FHE_ST_TENSORS_MAX)
		return -E2BIG;
	nt = realloc(w->t, (w->n + 1) * sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	w->t = nt;
	t = &w->t[w->n];
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	t->data = malloc(size ? size : 1);
	if (!t->name || !t->data) {
		free(t->name);
		free(t->data);
		return -ENOMEM;
	}
	memcpy(t->data, data, size);
	t->dtype = dtype;
	t->ndim = ndim;
	memcpy(t->shape, shape, ndim * sizeof(*shape));
	t->size = size;
	w->n++;
	return 0;
}

int fhe_st_writer_add_f32(struct fhe_st_writer *w, const char *name, const uint64_t *shape,
			  unsigned int ndim, const float *data)
{
	_cleanup_free_ uint32_t *le = NULL;
	uint64_t count = 1;

	for (unsigned int i = 0; i < ndim && i < FHE_ST_DIMS_MAX; i++)
		count *= shape[i];
	if (count > (1u << 28))
		return -E2BIG;
	le = malloc(count ? count * 4 : 1);
	if (!le)
		return -ENOMEM;
	for (uint64_t i = 0; i < count; i++) {
		uint32_t u;

		memcpy(&u, &data[i], 4);
		le[i] = htole32(u);
	}
	return fhe_st_writer_add(w, name, FHE_ST_F32, shape, ndim, le, count * 4);
}

static char *header_json(const struct fhe_st_writer *w)
{
	_cleanup_(json_decrefp) json_t *h = json_object();
	uint64_t off = 0;

	if (!h)
		return NULL;
	if (json_object_size(w->meta) && json_object_set(h, "__metadata__", w->meta) < 0)
		return NULL;
	for (size_t i = 0; i < w->n; i++) {
		const struct wtensor *t = &w->t[i];
		json_t *shape = json_array();

		if (!shape)
			return NULL;
		for (unsigned int j = 0; j < t->ndim; j++)
			json_array_append_new(shape, json_integer((json_int_t)t->shape[j]));
		if (json_object_set_new(h, t->name,
					json_pack("{s:s,s:o,s:[II]}", "dtype", dtypes[t->dtype].name,
						  "shape", shape, "data_offsets", (json_int_t)off,
						  (json_int_t)(off + t->size))) < 0)
			return NULL;
		off += t->size;
	}
	return json_dumps(h, JSON_COMPACT);
}

int fhe_st_writer_serialize(const struct fhe_st_writer *w, uint8_t **ret, size_t *ret_len)
{
	_cleanup_free_ char *hdr = header_json(w);
	uint64_t data = 0, hlen_le;
	size_t hlen, pad, total;
	uint8_t *out, *p;

	if (!hdr)
		return -ENOMEM;
	for (size_t i = 0; i < w->n; i++)
		data += w->t[i].size;
	hlen = strlen(hdr);
	pad = (8 - (8 + hlen) % 8) % 8;
	if (hlen + pad > FHE_ST_HEADER_MAX)
		return -E2BIG;
	total = 8 + hlen + pad + data;
	if (total > FHE_ST_FILE_MAX)
		return -EFBIG;
	out = malloc(total);
	if (!out)
		return -ENOMEM;
	hlen_le = htole64(hlen + pad);
	memcpy(out, &hlen_le, 8);
	memcpy(out + 8, hdr, hlen);
	memset(out + 8 + hlen, ' ', pad);
	p = out + 8 + hlen + pad;
	for (size_t i = 0; i < w->n; i++) {
		memcpy(p, w->t[i].data, w->t[i].size);
		p += w->t[i].size;
	}
	*ret = out;
	*ret_len = total;
	return 0;
}

int fhe_st_writer_save(const struct fhe_st_writer *w, const char *path)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r;

	r = fhe_st_writer_serialize(w, &buf, &len);
	if (r < 0)
		return r;
	return fd_write_file_atomic(path, buf, len, 0644);
}
