/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IDX files (the MNIST / Fashion-MNIST container): magic 00 00 TYPE NDIM,
 * NDIM big-endian u32 dimensions, then the elements. Only unsigned bytes
 * (type 0x08) are accepted — the type of every file of those data sets. The
 * element count must match the bytes exactly. Files may be gzip-compressed
 * (as Debian ships them); libarchive undoes that, capped at FHE_IDX_MAX.
 */
#ifndef VEIL_FHE_IDX_H
#define VEIL_FHE_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"	/* struct vjson_err: one error-message type across fhe/ parsers */

#define FHE_IDX_MAX (64u << 20)	/* the 60k training images are 47 MB */
#define FHE_IDX_DIMS_MAX 4
#define FHE_MNIST_DIR_DEFAULT "/usr/share/datasets/fashion-mnist"

struct fhe_idx {
	uint8_t *buf;		/* whole file; data points into it */
	const uint8_t *data;
	unsigned int ndim;
	uint32_t dims[FHE_IDX_DIMS_MAX];
	size_t count;
};

/* Takes ownership of buf on success. */
int fhe_idx_parse(uint8_t *buf, size_t len, struct fhe_idx *ret, struct vjson_err *e);
/* Reads a plain or gzip-compressed IDX file. */
int fhe_idx_load(const char *path, struct fhe_idx *ret, struct vjson_err *e);
void fhe_idx_done(struct fhe_idx *idx);

/* A labelled image set: n images of rows*cols pixels scaled to [0,1], labels 0..9. */
struct fhe_mnist {
	size_t n;
	unsigned int rows, cols;
	float *pixels;		/* n * rows * cols */
	uint8_t *labels;
};

/*
 * Loads split "train" or "t10k" from dir (NULL: $VEIL_FASHION_MNIST, else
 * FHE_MNIST_DIR_DEFAULT), files SPLIT-images-idx3-ubyte[.gz] and
 * SPLIT-labels-idx1-ubyte[.gz]; counts must agree and labels be < 10.
 */
int fhe_mnist_load(const char *dir, const char *split, struct fhe_mnist *ret, struct vjson_err *e);
void fhe_mnist_done(struct fhe_mnist *m);
const char *fhe_mnist_dir(const char *dir);

#endif
