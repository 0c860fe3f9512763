// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every request body veil-kbs parses: the first byte picks /auth, /attest
 * (then the tee-pubkey and the binding, as the server goes on), or a policy
 * upload (then both policy kinds, and an evaluation).
 */
#include <string.h>

#include <openssl/evp.h>

#include "attest/binding.h"
#include "attest/jwk.h"
#include "kbs/policy.h"
#include "kbs/proto.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *body = (const char *)data + 1;
	char err[512], why[512];

	if (size < 1)
		return 0;
	size--;
	switch (data[0] % 3) {
	case 0: {
		struct kbs_auth_request ar;

		kbs_parse_auth(body, size, &ar, err, sizeof(err));
		break;
	}
	case 1: {
		struct kbs_attestation at;
		uint8_t b[ATTEST_BINDING_LEN];
		EVP_PKEY *k = NULL;

		if (kbs_parse_attestation(body, size, &at, err, sizeof(err)) < 0)
			break;
		if (attest_jwk_parse_tee_key(at.tee_pubkey, &k, err, sizeof(err)) == 0)
			EVP_PKEY_free(k);
		attest_binding(at.nonce, at.tee_pubkey, at.additional_evidence, b);
		kbs_attestation_done(&at);
		break;
	}
	default: {
		struct kbs_policy *p;
		char *text = NULL, *id = NULL;
		size_t n;
		json_t *ev;

		if (kbs_parse_policy_upload(body, size, &text, &n, &id, err, sizeof(err)) < 0) {
			/* The policy text itself, as kbs-admin check-policy reads it. */
			text = malloc(size + 1);
			if (!text)
				break;
			memcpy(text, body, size);
			n = size;
		}
		ev = json_pack("{s:{s:s, s:i, s:[s]}, s:s}", "snp", "measurement", "aabb", "policy",
			       196608, "containers", "sha256:1", "init_data", "12");
		if (kbs_policy_parse(text, n, KBS_POLICY_RESOURCE, &p, err, sizeof(err)) == 0) {
			kbs_policy_allows(p, "a/b/c", "snp", "affirming", ev, why, sizeof(why));
			kbs_policy_allows(p, "veil/fhe/key", "sample", NULL, ev, why, sizeof(why));
			kbs_policy_free(p);
		}
		if (kbs_policy_parse(text, n, KBS_POLICY_APPRAISAL, &p, err, sizeof(err)) == 0) {
			kbs_policy_affirms(p, "snp", ev, why, sizeof(why));
			kbs_policy_free(p);
		}
		json_decref(ev);
		free(text);
		free(id);
	}
	}
	return 0;
}
