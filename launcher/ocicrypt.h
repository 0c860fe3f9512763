/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Encrypted OCI layers, the ocicrypt way (containers/ocicrypt) and CoCo's.
 *
 * A layer whose media type ends in "+encrypted" carries, in its descriptor's
 * annotations:
 *   org.opencontainers.image.enc.pubopts   base64 of {"cipher":
 *       "AES_256_CTR_HMAC_SHA256","hmac":b64,"cipheroptions":{}}
 * and one or more wrapped copies of the private options {"symkey":b64,
 *   "digest":"sha256:..","cipheroptions":{"nonce":b64}}:
 *   org.opencontainers.image.enc.keys.jwe  base64 of a JWE (JSON
 *       serialization, general or flattened) to one or more public keys
 *   org.opencontainers.image.enc.keys.provider.attestation-agent  base64 of
 *       CoCo's annotation packet {"kid":"kbs:///repo/type/tag",
 *       "wrapped_data":b64,"iv":b64,"wrap_type":"A256GCM"}: the private
 *       options sealed with AES-256-GCM under a KEK that is a KBS resource.
 * The layer cipher is AES-256-CTR with HMAC-SHA256 (same 32-byte key) over
 * the whole ciphertext; veil checks the HMAC before any plaintext is used.
 */
#ifndef VEIL_LAUNCHER_OCICRYPT_H
#define VEIL_LAUNCHER_OCICRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "lib/json.h"

#define OCICRYPT_ANN_JWE "org.opencontainers.image.enc.keys.jwe"
#define OCICRYPT_ANN_PUBOPTS "org.opencontainers.image.enc.pubopts"
#define OCICRYPT_ANN_COCO "org.opencontainers.image.enc.keys.provider.attestation-agent"
#define OCICRYPT_ANN_MAX (1u << 20)	/* one annotation's value */
#define OCICRYPT_JWE_MAX (1u << 20)
#define OCICRYPT_OPTS_MAX (64u << 10)	/* the private options JSON */
#define OCICRYPT_KEYS_MAX 16u

/* A key from the KBS, as bytes: a PEM or DER private key (JWE) or a raw KEK. */
struct ocicrypt_secret {
	const uint8_t *data;
	size_t len;
};

/*
 * What the caller got from the KBS after attestation: private keys for JWE
 * recipients, and a lookup of KEKs by kbs:// URI for annotation packets
 * (returns 0 and secmem bytes the callee frees with secmem_free, -ENOENT).
 */
struct ocicrypt_keys {
	const struct ocicrypt_secret *jwe_keys;
	size_t n_jwe_keys;
	int (*kbs_get)(void *ctx, const char *uri, uint8_t **ret, size_t *ret_len);
	void *kbs_ctx;
};

/* The layer key, in secure memory (lib/secmem.h); wipe with launcher_ocicrypt_key_free. */
struct ocicrypt_key {
	uint8_t key[32];
	uint8_t nonce[16];
	uint8_t hmac[32];
};

/*
 * Finds the layer key for an encrypted layer's annotations. -ENOKEY when no
 * key given opens any wrapped copy, -EBADMSG malformed annotations,
 * -EOPNOTSUPP another cipher or wrap; e->msg says which.
 */
int launcher_ocicrypt_key(const json_t *annotations, const struct ocicrypt_keys *keys,
			  struct ocicrypt_key **ret, struct vjson_err *e);
void launcher_ocicrypt_key_free(struct ocicrypt_key *k);

/* The kbs:// URI a layer's annotation packet names (borrowed from a new json string), or NULL. */
int launcher_ocicrypt_kid(const json_t *annotations, char **ret, struct vjson_err *e);

/* AES-256-CTR + HMAC-SHA256 over the ciphertext, streamed. */
struct ocicrypt_stream;
int launcher_ocicrypt_stream_new(const struct ocicrypt_key *k, struct ocicrypt_stream **ret);
/* Decrypts n bytes (in may equal out) and adds the ciphertext to the HMAC. */
int launcher_ocicrypt_stream_update(struct ocicrypt_stream *s, const uint8_t *in, uint8_t *out,
				    size_t n);
/* 0 when the HMAC matches (constant time), -EBADMSG otherwise. */
int launcher_ocicrypt_stream_final(struct ocicrypt_stream *s);
void launcher_ocicrypt_stream_free(struct ocicrypt_stream *s);

/*
 * JWE in the JSON serialization (general or flattened), enc A256GCM, alg
 * RSA-OAEP, RSA-OAEP-256 or ECDH-ES+A256KW (P-256/384/521): tries every
 * recipient with every key. 0 and the plaintext in secmem; -ENOKEY no key
 * fits; -EBADMSG malformed; -EOPNOTSUPP other algorithms.
 */
int launcher_ocicrypt_jwe_decrypt(const char *json, size_t len, EVP_PKEY *const *keys,
				  size_t n_keys, uint8_t **ret, size_t *ret_len,
				  struct vjson_err *e);

/* Test and tool helper: a private key from PEM or DER bytes. */
int launcher_ocicrypt_load_key(const uint8_t *data, size_t len, EVP_PKEY **ret);

#endif
