// SPDX-License-Identifier: GPL-2.0-only
#include "fhe/idx.h"

#include <archive.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"

int fhe_idx_parse(uint8_t *buf, size_t len, struct fhe_idx *ret, struct vjson_err *e)
{
	struct fhe_idx idx = { 0 };
	size_t count = 1, hdr;

	if (len < 4)
		return vjson_fail(e, -EINVAL, "file of %zu bytes has no IDX magic", len);
	if (buf[0] != 0 || buf[1] != 0)
		return vjson_fail(e, -EINVAL, "bad IDX magic %02x %02x (expected 00 00)", buf[0], buf[1]);
	if (buf[2] != 0x08)
		return vjson_fail(e, -EINVAL, "IDX element type 0x%02x unsupported (only 0x08, unsigned byte)",
			    buf[2]);
	if (buf[3] < 1 || buf[3] > FHE_IDX_DIMS_MAX)
		return vjson_fail(e, -EINVAL, "IDX has %u dimensions (must be 1..%u)", buf[3],
			    FHE_IDX_DIMS_MAX);
	idx.ndim = buf[3];
	hdr = 4 + 4 * (size_t)idx.ndim;
	if (len < hdr)
		return vjson_fail(e, -EINVAL, "IDX header cut short: %zu of %zu bytes", len, hdr);
	if (len > FHE_IDX_MAX)
		return vjson_fail(e, -EFBIG, "IDX file of %zu bytes exceeds the limit of %u", len,
			    FHE_IDX_MAX);
	for (unsigned int i = 0; i < idx.ndim; i++) {
		const uint8_t *p = buf + 4 + 4 * i;

		idx.dims[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		if (idx.dims[i] == 0)
			return vjson_fail(e, -EINVAL, "IDX dimension %u is zero", i);
		if (idx.dims[i] > FHE_IDX_MAX / count)
			return vjson_fail(e, -EINVAL, "IDX dimensions describe more than %u bytes",
				    FHE_IDX_MAX);
		count *= idx.dims[i];
	}
	if (len - hdr != count)
		return vjson_fail(e, -EINVAL, "IDX dimensions need %zu data bytes, file holds %zu", count,
			    len - hdr);
	idx.buf = buf;
	idx.data = buf + hdr;
	idx.count = count;
	*ret = idx;
	return 0;
}

void fhe_idx_done(struct fhe_idx *idx)
{
	free(idx->buf);
	*idx = (struct fhe_idx){ 0 };
}

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

/* The file's bytes, gunzipped when compressed, at most FHE_IDX_MAX. */
static int read_maybe_gzip(const char *path, uint8_t **ret, size_t *ret_len, struct vjson_err *e)
{
	_cleanup_(archive_freep) struct archive *a = archive_read_new();
	struct archive_entry *ent;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0, cap = FHE_IDX_MAX + 1;
	la_ssize_t n;

	if (!a)
		return -ENOMEM;
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, 64 << 10) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ent) != ARCHIVE_OK) {
		int err = archive_errno(a) > 0 ? -archive_errno(a) : -EINVAL;

		return vjson_fail(e, err, "cannot read '%s': %s", path, archive_error_string(a));
	}
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	while ((n = archive_read_data(a, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap)
			return vjson_fail(e, -EFBIG, "'%s' holds more than %u bytes", path, FHE_IDX_MAX);
	}
	if (n < 0)
		return vjson_fail(e, -EIO, "cannot decompress '%s': %s", path, archive_error_string(a));
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int fhe_idx_load(const char *path, struct fhe_idx *ret, struct vjson_err *e)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char msg[sizeof(e->msg) + 64];
	int r;

	r = read_maybe_gzip(path, &buf, &len, e);
	if (r < 0)
		return r;
	r = fhe_idx_parse(buf, len, ret, e);
	if (r < 0) {
		free(buf);
		if (e) {
			snprintf(msg, sizeof(msg), "'%.60s': %s", path, e->msg);
			msg[sizeof(e->msg) - 1] = '\0';
			memcpy(e->msg, msg, sizeof(e->msg));
		}
	}
	return r;
}

const char *fhe_mnist_dir(const char *dir)
{
	const char *env;

	if (dir)
		return dir;
	env = getenv("VEIL_FASHION_MNIST");
	return env && *env ? env : FHE_MNIST_DIR_DEFAULT;
}

static int load_one(const char *dir, const char *split, const char *kind, struct fhe_idx *ret,
		    struct vjson_err *e)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s-%s-ubyte.gz", dir, split, kind);
	if (access(path, F_OK) < 0)
		snprintf(path, sizeof(path), "%s/%s-%s-ubyte", dir, split, kind);
	return fhe_idx_load(path, ret, e);
}

void fhe_mnist_done(struct fhe_mnist *m)
{
	free(m->pixels);
	free(m->labels);
	*m = (struct fhe_mnist){ 0 };
}

int fhe_mnist_load(const char *dir, const char *split, struct fhe_mnist *ret, struct vjson_err *e)
{
	struct fhe_idx img = { 0 }, lab = { 0 };
	struct fhe_mnist m = { 0 };
	int r;

	dir = fhe_mnist_dir(dir);
	r = load_one(dir, split, "images-idx3", &img, e);
	if (r < 0)
		return r;
	r = load_one(dir, split, "labels-idx1", &lab, e);
	if (r < 0) {
		fhe_idx_done(&img);
		return r;
	}
	if (img.ndim != 3 || lab.ndim != 1 || img.dims[0] != lab.dims[0]) {
		r = vjson_fail(e, -EINVAL, "%s: images (%u dims) and labels (%u dims) do not pair up",
			 split, img.ndim, lab.ndim);
		goto out;
	}
	m.n = img.dims[0];
	m.rows = img.dims[1];
	m.cols = img.dims[2];
	m.pixels = malloc(img.count * sizeof(float));
	m.labels = malloc(m.n);
	if (!m.pixels || !m.labels) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < img.count; i++)
		m.pixels[i] = img.data[i] / 255.0f;
	for (size_t i = 0; i < m.n; i++) {
		if (lab.data[i] > 9) {
			r = vjson_fail(e, -EINVAL, "%s: label %zu is %u (must be 0..9)", split, i,
				 lab.data[i]);
			goto out;
		}
		m.labels[i] = lab.data[i];
	}
	*ret = m;
	m = (struct fhe_mnist){ 0 };
	r = 0;
out:
	fhe_mnist_done(&m);
	fhe_idx_done(&img);
	fhe_idx_done(&lab);
	return r;
}
