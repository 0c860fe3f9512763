/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The RCAR binding (reference/kbs-protocol.md §1.5): SHA-384 over the RFC 8785
 * canonical JSON (JCS) of {"additional-evidence","nonce","tee-pubkey"}. The
 * attester puts the digest in its report data; the KBS recomputes it.
 */
#ifndef VEIL_ATTEST_BINDING_H
#define VEIL_ATTEST_BINDING_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/verifier.h"

/*
 * RFC 8785 canonical form of v: members sorted by UTF-16 code units, no
 * whitespace, minimal escaping. Integers print in decimal; reals are refused
 * (-EDOM) since nothing the protocol hashes carries one. 0 and a malloc'd
 * NUL-terminated string, or -errno.
 */
int attest_jcs(const json_t *v, char **ret);

/*
 * binding = SHA-384(JCS({"additional-evidence": additional, "nonce": nonce,
 * "tee-pubkey": tee_pubkey})). additional NULL leaves the key out (device
 * evidence). 0 or -errno.
 */
int attest_binding(const char *nonce, const json_t *tee_pubkey, const char *additional,
		   uint8_t ret[ATTEST_BINDING_LEN]);

#endif
