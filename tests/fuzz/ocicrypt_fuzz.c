// SPDX-License-Identifier: GPL-2.0-only
/*
 * Encrypted-layer annotations: the input is a JSON object of annotations
 * (pubopts, keys.jwe, the CoCo packet), tried against a fixed EC and a
 * fixed KEK; and the same bytes as a JWE on their own.
 */
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "launcher/ocicrypt.h"
#include "lib/secmem.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const uint8_t kek_bytes[32] = { 1, 2, 3 };

static int kbs_get(void *ctx, const char *uri, uint8_t **ret, size_t *ret_len)
{
	uint8_t *p = secmem_alloc(32);

	(void)ctx;
	(void)uri;
	if (!p)
		return -1;
	memcpy(p, kek_bytes, 32);
	*ret = p;
	*ret_len = 32;
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static EVP_PKEY *ec;
	static uint8_t der[512];
	static size_t der_len;
	struct ocicrypt_secret sec;
	struct ocicrypt_keys keys = { .jwe_keys = &sec, .n_jwe_keys = 1, .kbs_get = kbs_get };
	struct ocicrypt_key *k = NULL;
	struct vjson_err e;
	uint8_t *pt = NULL;
	size_t ptl;
	json_t *ann = NULL;

	if (!ec) {
		unsigned char *p = der;

		ec = EVP_EC_gen("P-256");
		der_len = (size_t)i2d_PrivateKey(ec, &p);
	}
	sec.data = der;
	sec.len = der_len;
	if (vjson_parse((const char *)data, size, OCICRYPT_ANN_MAX, 8, &ann, &e) == 0) {
		if (launcher_ocicrypt_key(ann, &keys, &k, &e) == 0)
			launcher_ocicrypt_key_free(k);
		json_decref(ann);
	}
	if (launcher_ocicrypt_jwe_decrypt((const char *)data, size, &ec, 1, &pt, &ptl, &e) == 0)
		secmem_free(pt);
	return 0;
}
