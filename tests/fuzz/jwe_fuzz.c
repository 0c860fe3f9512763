// SPDX-License-Identifier: GPL-2.0-only
/*
 * JWE responses as the RCAR client decrypts them, with a P-256, a P-521 and
 * an RSA key (the first byte picks one); half the runs start from a valid
 * response to the key with the fuzz input spliced in, so the parser gets past
 * the JSON layer.
 */
#include <string.h>

#include <openssl/evp.h>

#include "attest/jwe.h"
#include "lib/secmem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static EVP_PKEY *keys[3];

/* Key generation (RSA especially) is slow under sanitizers: once, before the per-input timeout. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	keys[0] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	keys[1] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	keys[2] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char err[256];
	uint8_t *pt = NULL;
	size_t n;
	EVP_PKEY *k;

	if (size < 1 || !keys[0] || !keys[1] || !keys[2])
		return 0;
	k = keys[data[0] % 3];
	if (attest_jwe_decrypt(k, (const char *)data + 1, size - 1, &pt, &n, err, sizeof(err)) == 0)
		secmem_free(pt);
	if (data[0] & 0x80) {
		/* Valid envelope, fuzzed plaintext: must round-trip exactly. */
		char *jwe = NULL;

		if (attest_jwe_encrypt(k, data + 1, size - 1, &jwe) == 0) {
			if (attest_jwe_decrypt(k, jwe, strlen(jwe), &pt, &n, err, sizeof(err)) != 0 ||
			    n != size - 1 || memcmp(pt, data + 1, n) != 0)
				__builtin_trap();
			secmem_free(pt);
			free(jwe);
		}
	}
	return 0;
}
