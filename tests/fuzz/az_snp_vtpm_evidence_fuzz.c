// SPDX-License-Identifier: GPL-2.0-only
/*
 * The az-snp-vtpm verifier on arbitrary input. First byte 'H': the rest is
 * an HCL report put into otherwise fixed evidence; else the rest is evidence
 * JSON. Nothing may crash.
 */
#include <stdlib.h>
#include <string.h>

#include "attest/verifier.h"
#include "lib/base64.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };
	json_t *ev = NULL, *claims = NULL, *pcrs;
	char *b64 = NULL;

	if (size < 1)
		return 0;
	if (data[0] == 'H') {
		if (b64url_encode(data + 1, size - 1, &b64) < 0)
			return 0;
		pcrs = json_array();
		for (int i = 0; i < 24; i++)
			json_array_append_new(pcrs, json_string("00000000000000000000000000000000"
								"00000000000000000000000000000000"));
		ev = json_pack("{s:i, s:{s:s, s:s, s:o}, s:s, s:s}", "version", 2, "tpm_quote",
			       "signature", "00", "message", "ff544347", "pcrs", pcrs, "hcl_report", b64,
			       "vcek", "MAA");
	} else {
		ev = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
	}
	if (ev && json_is_object(ev) &&
	    attest_verify("az-snp-vtpm", ev, binding, NULL, &claims, NULL, 0) == 0)
		json_decref(claims);
	json_decref(ev);
	free(b64);
	return 0;
}
