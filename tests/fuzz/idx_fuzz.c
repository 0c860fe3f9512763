// SPDX-License-Identifier: GPL-2.0-only
/* The IDX reader over arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "fhe/idx.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct fhe_idx idx;
	struct vjson_err e;
	uint8_t *buf = malloc(size ? size : 1);
	unsigned int sum = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (fhe_idx_parse(buf, size, &idx, &e) < 0) {
		free(buf);
		return 0;
	}
	for (size_t i = 0; i < idx.count; i++)
		sum += idx.data[i];
	fhe_idx_done(&idx);
	return (int)(sum & 0);
}
