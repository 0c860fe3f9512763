/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compact JWS (JWT) signing and verification for the two algorithms the KBS
 * uses: ES256 (attestation tokens, P-256) and EdDSA (admin tokens, Ed25519).
 * The algorithm follows from the key; a header naming another is refused.
 */
#ifndef VEIL_ATTEST_JWS_H
#define VEIL_ATTEST_JWS_H

#include <jansson.h>
#include <stddef.h>

#include <openssl/evp.h>

#define ATTEST_JWS_MAX (256u << 10)

/* "ES256" for a P-256 key, "EdDSA" for Ed25519, NULL otherwise. */
const char *attest_jws_alg(EVP_PKEY *key);

/*
 * header must carry "alg" matching the key; header and payload are
 * serialized compactly in insertion order. 0 and a malloc'd compact JWS.
 */
int attest_jws_sign(EVP_PKEY *key, const json_t *header, const json_t *payload, char **ret);

/*
 * Splits and parses a compact JWS (at most ATTEST_JWS_MAX). With key, the
 * signature must verify under it and header "alg" must match it (-EKEYREJECTED
 * otherwise); key NULL only parses. -EBADMSG for malformed input.
 * Outputs (may be NULL) are new references.
 */
int attest_jws_verify(const char *jws, size_t len, EVP_PKEY *key, json_t **ret_header,
		      json_t **ret_payload, char *err, size_t err_len);

#endif
