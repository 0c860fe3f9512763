// SPDX-License-Identifier: GPL-2.0-only
/* The event log parser and replay must never crash on any bytes. */
#include <stdlib.h>
#include <string.h>

#include "attest/eventlog.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	uint8_t out[EVENTLOG_DIGEST_MAX];
	struct eventlog_record r;
	size_t off = 0;
	int n;

	while (off < size && (n = eventlog_parse_record(data + off, size - off, &r)) > 0) {
		if ((size_t)n > size - off || r.event + r.event_len > data + size)
			abort();
		if (r.text && (r.text < (const char *)r.event || r.text_len + 8 != r.event_len))
			abort();
		off += (size_t)n;
	}
	(void)eventlog_replay(data, size, 23, EVENTLOG_ALG_SHA256, out);
	(void)eventlog_replay(data, size, 4, EVENTLOG_ALG_SHA384, out);
	return 0;
}
