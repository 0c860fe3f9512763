// SPDX-License-Identifier: GPL-2.0-only
/*
 * The snp verifier on arbitrary input. First byte 'J': the rest is evidence
 * JSON (serde report form, cert_chain); otherwise the first 1184 bytes are a
 * binary report and the rest its VCEK. Nothing may crash; nothing forged
 * may verify against the fixed binding.
 */
#include <stdlib.h>
#include <string.h>

#include "attest/verifier.h"
#include "lib/base64.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };
	json_t *ev = NULL, *claims = NULL, *der;
	char *b64 = NULL;

	if (size < 1)
		return 0;
	if (data[0] == 'J') {
		ev = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
	} else if (size > 1184) {
		if (b64_encode(data + 1, 1184, &b64) < 0)
			return 0;
		der = json_array();
		for (size_t i = 1185; i < size && i < 1185 + 8192; i++)
			json_array_append_new(der, json_integer(data[i]));
		ev = json_pack("{s:s, s:[{s:s, s:o}]}", "attestation_report", b64, "cert_chain",
			       "cert_type", "VCEK", "data", der);
	}
	if (ev && json_is_object(ev) &&
	    attest_verify("snp", ev, binding, NULL, &claims, NULL, 0) == 0) {
		/* Only a genuine report bound to all-zero report data could pass. */
		json_decref(claims);
	}
	json_decref(ev);
	free(b64);
	return 0;
}
