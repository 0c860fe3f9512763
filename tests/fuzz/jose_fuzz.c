// SPDX-License-Identifier: GPL-2.0-only
/*
 * JWKs (tee-pubkey and token-header keys), compact JWS (attestation tokens
 * and admin JWTs through their verifiers) and canonical JSON over arbitrary
 * input.
 */
#include <string.h>

#include <openssl/evp.h>

#include "attest/binding.h"
#include "attest/jwk.h"
#include "attest/jws.h"
#include "kbs/admin.h"
#include "kbs/token.h"
#include "lib/json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static struct kbs_token_signer signer;
static struct kbs_admin admin;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc, (void)argv;
	kbs_token_signer_init(&signer, NULL, NULL, err, sizeof(err));
	admin.mode = KBS_ADMIN_AUTHENTICATED;
	admin.key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	admin.roles[0] = strdup("admin");
	admin.n_roles = 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char err[256], *s, hdr[4096];
	struct vjson_err e;
	json_t *v, *claims;
	EVP_PKEY *k;

	if (!signer.key || !admin.key)
		return 0;
	if (vjson_parse((const char *)data, size, 64 << 10, 16, &v, &e) == 0) {
		if (attest_jwk_parse_tee_key(v, &k, err, sizeof(err)) == 0)
			EVP_PKEY_free(k);
		if (attest_jwk_parse_p256(v, &k, err, sizeof(err)) == 0)
			EVP_PKEY_free(k);
		if (attest_jcs(v, &s) == 0)
			free(s);
		json_decref(v);
	}
	if (kbs_token_verify(&signer, (const char *)data, size, 1700000000, &claims, err, sizeof(err)) == 0)
		json_decref(claims);
	attest_jws_verify((const char *)data, size, NULL, NULL, NULL, err, sizeof(err));
	if (size < sizeof(hdr) - 8) {
		memcpy(hdr, "Bearer ", 7);
		memcpy(hdr + 7, data, size);
		hdr[7 + size] = 0;
		kbs_admin_check(&admin, hdr, 1700000000, err, sizeof(err));
	}
	return 0;
}
