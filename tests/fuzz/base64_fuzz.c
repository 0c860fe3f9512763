// SPDX-License-Identifier: GPL-2.0-only
/* Decoders must never crash, and what they accept must re-encode to the input. */
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	uint8_t *out;
	size_t n;
	char *s;

	if (b64_decode((const char *)data, size, &out, &n) == 0) {
		if (b64_encode(out, n, &s) < 0 || strlen(s) != size || memcmp(s, data, size))
			abort();
		free(s);
		free(out);
	}
	if (b64url_decode((const char *)data, size, &out, &n) == 0) {
		if (b64url_encode(out, n, &s) < 0 || strlen(s) != size || memcmp(s, data, size))
			abort();
		free(s);
		free(out);
	}
	return 0;
}
