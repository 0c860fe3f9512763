/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KBS resource responses (reference/kbs-protocol.md §2): flattened JWE JSON
 * {"protected","encrypted_key","iv","ciphertext","tag"}, enc A256GCM with the
 * `protected` string as AAD, key wrap ECDH-ES+A256KW (P-256, P-521; Concat
 * KDF SHA-256, AES-256 key wrap) or RSA-OAEP-256. The protected header is
 * emitted byte for byte as Trustee does: {"alg","enc"[,"epk":{crv,kty,x,y}]}.
 */
#ifndef VEIL_ATTEST_JWE_H
#define VEIL_ATTEST_JWE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define ATTEST_JWE_MAX (4u << 20)	/* a 2 MiB resource, base64url'd, with room */
#define ATTEST_JWE_PLAINTEXT_MAX (2u << 20)

/* Encrypts pt to the public key; 0 and a malloc'd NUL-terminated JSON text. */
int attest_jwe_encrypt(EVP_PKEY *recipient, const void *pt, size_t len, char **ret);

/*
 * Decrypts a response with the private key. 0 and the plaintext in secure
 * memory (lib/secmem.h: free with secmem_free; a NUL follows it); -EBADMSG
 * malformed, -EOPNOTSUPP other algorithms, -EKEYREJECTED when the key does
 * not fit or authentication fails. err (may be NULL) names what is wrong.
 */
int attest_jwe_decrypt(EVP_PKEY *key, const char *json, size_t len, uint8_t **ret,
		       size_t *ret_len, char *err, size_t err_len);

#endif
