/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Strict base64 (RFC 4648 §4, with padding) and base64url (§5, without
 * padding), as the KBS protocol uses them: nonces and JWE fields. Decoding
 * refuses whitespace, wrong or missing padding, characters of the other
 * alphabet and non-canonical trailing bits, so one value has one encoding.
 * OpenSSL's EVP_DecodeBlock accepts all of those, which is why this exists.
 */
#ifndef VEIL_LIB_BASE64_H
#define VEIL_LIB_BASE64_H

#include <stddef.h>
#include <stdint.h>

#define B64_INPUT_MAX (256u << 20)

/* Encoders return the string length (NUL-terminated *ret) or -errno. */
int b64_encode(const void *in, size_t len, char **ret);
int b64url_encode(const void *in, size_t len, char **ret);

/* Decoders return 0 and a malloc'd buffer (with a NUL after it), or -EINVAL. */
int b64_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len);
int b64url_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len);

#endif
