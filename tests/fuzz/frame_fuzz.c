// SPDX-License-Identifier: GPL-2.0-only
/* Walks a byte stream frame by frame, as a server reading a socket would. */
#include <stdlib.h>

#include "lib/frame.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		const uint8_t *p;
		size_t n;
		int r = frame_parse(data + off, size - off, 4096, &p, &n);

		if (r <= 0)
			break;
		if (n > 4096 || p + n > data + size)
			abort();
		off += r;
	}
	return 0;
}
