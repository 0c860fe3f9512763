// SPDX-License-Identifier: GPL-2.0-only
/* The strict safetensors reader over arbitrary files, every tensor converted, the MLP loader. */
#include <stdlib.h>
#include <string.h>

#include "fhe/mlp.h"
#include "fhe/seal.h"
#include "fhe/safetensors.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct fhe_st *st = NULL;
	struct fhe_mlp *m;
	struct vjson_err e;
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (fhe_st_parse(buf, size, &st, &e) < 0) {
		free(buf);
		return 0;
	}
	for (size_t i = 0; i < st->n_tensors; i++) {
		const struct fhe_st_tensor *t = &st->tensors[i];
		float *f;

		if (t->dtype == FHE_ST_U8 || t->count > (1u << 20))
			continue;
		f = malloc(t->count ? t->count * sizeof(float) : 1);
		if (f)
			fhe_st_to_f32(t, f, t->count);
		free(f);
	}
	if (fhe_mlp_from_st(st, &m, &e) == 0)
		fhe_mlp_free(m);
	fhe_st_free(st);
	/* the sealed-model loader over the same bytes (it takes its own copy) */
	buf = malloc(size ? size : 1);
	if (buf) {
		struct fhe_sealed *sealed = NULL;

		memcpy(buf, data, size);
		if (fhe_sealed_parse(buf, size, &sealed, &e) == 0)
			fhe_sealed_free(sealed);
	}
	return 0;
}
