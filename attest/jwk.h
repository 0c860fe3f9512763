/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JWKs as the KBS protocol uses them (reference/kbs-protocol.md §1.3): the
 * TEE's public key in /attest ("tee-pubkey": EC P-256/P-521 with
 * ECDH-ES+A256KW, or RSA with RSA-OAEP-256, exactly those members), and the
 * signer's key in token headers (EC P-256, ES256).
 */
#ifndef VEIL_ATTEST_JWK_H
#define VEIL_ATTEST_JWK_H

#include <jansson.h>
#include <stddef.h>

#include <openssl/evp.h>

#define ATTEST_JWE_ALG_ECDH "ECDH-ES+A256KW"
#define ATTEST_JWE_ALG_RSA "RSA-OAEP-256"
#define ATTEST_RSA_BITS_MIN 2048
#define ATTEST_RSA_BITS_MAX 8192

/*
 * Parses a tee-pubkey JWK into a public EVP_PKEY. Refuses unknown or missing
 * members, other curves and algorithms, padded or wrong-length coordinates,
 * points off the curve and RSA moduli outside [2048, 8192] bits. 0 or -EINVAL
 * (err names the member), -ENOMEM.
 */
int attest_jwk_parse_tee_key(const json_t *jwk, EVP_PKEY **ret, char *err, size_t err_len);

/*
 * The public JWK of key: EC {"kty","crv","alg","x","y"}, RSA {"kty","alg",
 * "n","e"}; alg as given (NULL: the key-wrap alg for tee keys). NULL on error.
 */
json_t *attest_jwk_from_key(EVP_PKEY *key, const char *alg);

/* "P-256"/"P-521"/"P-384" for an EC key, NULL otherwise. */
const char *attest_jwk_curve(EVP_PKEY *key);

/* Parses a public EC P-256 JWK {"kty","crv","x","y"[,"alg","x5c",...]} (token headers). */
int attest_jwk_parse_p256(const json_t *jwk, EVP_PKEY **ret, char *err, size_t err_len);

/* Reads a PEM private key of at most 64 KiB (the caller frees with EVP_PKEY_free). */
int attest_key_load_pem(const char *path, EVP_PKEY **ret);
/* Writes key as PKCS#8 PEM, mode 0600, atomically. */
int attest_key_save_pem(const char *path, EVP_PKEY *key);

#endif
