/* SPDX-License-Identifier: GPL-2.0-only */
/* TDX quote signature chain (internal to attest/, used by verify_tdx.c and its tests). */
#ifndef VEIL_ATTEST_TDX_H
#define VEIL_ATTEST_TDX_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256 of the DER of Intel's SGX Provisioning Certification Root CA. */
#define ATTEST_INTEL_SGX_ROOT_SHA256 \
	"44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"

/*
 * Checks a quote's own signature chain: the attestation key's ECDSA P-256
 * signature over the quote up to signed_len; the QE report binding that key
 * (REPORTDATA = SHA-256(key || QE auth data) || zeros); the QE report signed
 * by the PCK certificate; PCK -> intermediate -> Intel SGX Root CA (pinned by
 * fingerprint). sig/sig_len is the signature data after its length field.
 * 0, or -EBADMSG / -EKEYREJECTED with msg set. Says nothing about the TCB
 * level, QE identity or revocation: those need Intel's collateral.
 */
int attest_tdx_quote_signature(const uint8_t *quote, size_t signed_len, const uint8_t *sig,
			       size_t sig_len, char *msg, size_t msg_len);

#endif
