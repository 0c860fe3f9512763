/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Attestation tokens: EAR JWTs (draft-ietf-rats-ear) shaped as Trustee's
 * (reference/kbs-protocol.md §1.7), signed ES256 with the header carrying
 * the signer's "jwk" (and "x5c" when a certificate chain is configured).
 * veil-kbs trusts the tokens it signed itself: the key in the header must be
 * its own.
 */
#ifndef VEIL_KBS_TOKEN_H
#define VEIL_KBS_TOKEN_H

#include <jansson.h>
#include <stdint.h>

#include <openssl/evp.h>

#define KBS_TOKEN_ISSUER "CoCo-Attestation-Service"
#define KBS_TOKEN_PROFILE "tag:github.com,2024:confidential-containers/Trustee"

struct kbs_token_signer {
	EVP_PKEY *key;	/* P-256 */
	json_t *jwk;	/* public, with "alg":"ES256" and optional "x5c" */
};

/* key_path NULL: an ephemeral key. chain_path: PEM chain, leaf first (its key must be ours). */
int kbs_token_signer_init(struct kbs_token_signer *s, const char *key_path, const char *chain_path,
			  char *err, size_t err_len);
void kbs_token_signer_done(struct kbs_token_signer *s);

struct kbs_token_input {
	const char *tee;
	const json_t *tee_claims;	/* the verifier's claims */
	const json_t *runtime_data;	/* {"nonce","tee-pubkey","additional-evidence"} */
	const char *init_data_toml;	/* NULL: none */
	const char *status;		/* ear.status */
	int64_t now, lifetime;
};

int kbs_token_issue(const struct kbs_token_signer *s, const struct kbs_token_input *in, char **ret);

/*
 * Verifies signature, signer and exp (and iat not in the future). 0 and the
 * claims; -EKEYREJECTED untrusted or bad signature, -ETIMEDOUT expired,
 * -EBADMSG malformed.
 */
int kbs_token_verify(const struct kbs_token_signer *s, const char *jwt, size_t len, int64_t now,
		     json_t **ret_claims, char *err, size_t err_len);

/* Borrowed views of verified claims (NULL when absent). */
const json_t *kbs_token_evidence(const json_t *claims);
const char *kbs_token_status(const json_t *claims);
const char *kbs_token_tee(const json_t *claims);

#endif
