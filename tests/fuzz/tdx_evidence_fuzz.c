// SPDX-License-Identifier: GPL-2.0-only
/* The tdx verifier on arbitrary quote and event-log bytes (first byte = split). */
#include <stdlib.h>
#include <string.h>

#include "attest/verifier.h"
#include "lib/base64.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };
	char *q = NULL, *l = NULL;
	json_t *ev, *claims = NULL;
	size_t split;

	if (size < 2)
		return 0;
	/* Quote first, log after; the first two bytes say where. */
	split = ((size_t)data[0] << 8 | data[1]) % (size - 1);
	if (b64_encode(data + 2, split, &q) < 0 || b64_encode(data + 2 + split, size - 2 - split, &l) < 0)
		goto out;
	ev = json_pack("{s:s, s:s}", "quote", q, "cc_eventlog", l);
	if (ev && attest_verify("tdx", ev, binding, NULL, &claims, NULL, 0) == 0)
		json_decref(claims);
	json_decref(ev);
out:
	free(q);
	free(l);
	return 0;
}
