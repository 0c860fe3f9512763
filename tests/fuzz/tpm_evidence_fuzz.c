// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tpm verifier on arbitrary quote bytes: the input is split into a
 * TPMS_ATTEST and a TPMT_SIGNATURE (first byte = split point) and wrapped
 * in evidence with a fixed AK; nothing may crash, nothing may verify.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "attest/runtime.h"
#include "attest/verifier.h"
#include "attest/verify_util.h"
#include "lib/base64.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* A P-256 SubjectPublicKeyInfo (any valid key will do: nothing it signed is here). */
static const char ak[] =
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/thOocXLFARQ76P5FEW7hRSehp/gJUPG+VTb572xEmQOp8Zo70rFZqz9"
	"wT2K31O/CYIHte/++T+AsT4YyEXUFA==";

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 }, quoted[48] = { 0 };
	char *m = NULL, *s = NULL;
	json_t *ev, *pcrs, *claims = NULL;
	size_t split;

	if (size < 1)
		return 0;
	split = data[0] % size;
	if (b64_encode(data + 1, split, &m) < 0 || b64_encode(data + 1 + split, size - 1 - split, &s) < 0)
		goto out;
	pcrs = json_array();
	for (int i = 0; i < 24; i++)
		json_array_append_new(pcrs, json_string("0000000000000000000000000000000000000000000000000000000000000000"));
	ev = json_pack("{s:{s:s, s:s, s:o}, s:s}", "tpm_quote", "signature", s, "message", m, "pcrs",
		       pcrs, "ak_public", ak);
	if (ev && attest_verify("tpm", ev, binding, NULL, &claims, NULL, 0) == 0)
		abort();
	json_decref(ev);
	/* The quote parser itself (the AK is untrusted above, so it stops early). */
	{
		static EVP_PKEY *key;
		struct attest_tpm_quote q;
		char msg[200];

		if (!key) {
			uint8_t *der;
			size_t n;
			const unsigned char *p;

			if (b64_decode(ak, strlen(ak), &der, &n) < 0)
				abort();
			p = der;
			key = d2i_PUBKEY(NULL, &p, (long)n);
			free(der);
		}
		pcrs = json_array();
		for (int i = 0; i < 24; i++)
			json_array_append_new(pcrs, json_string("00000000000000000000000000000000"
								"00000000000000000000000000000000"));
		for (int raw = 0; raw < 2; raw++)
			if (attest_tpm_quote_verify(data + 1, split, data + 1 + split, size - 1 - split,
						    raw, key, pcrs, &q, msg, sizeof(msg)) == 0)
				abort();
		json_decref(pcrs);
	}
	/* The runtime log path on the same bytes. */
	claims = json_object();
	(void)attest_runtime_log_claims(data, size, 23, EVENTLOG_ALG_SHA256, quoted, claims, NULL, 0);
	json_decref(claims);
out:
	free(m);
	free(s);
	return 0;
}
