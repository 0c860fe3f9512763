/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers the evidence verifiers share (internal to attest/): hex, error
 * lines, decoding evidence members, the trust directory, and the TPM quote
 * check used by both `tpm` and `az-snp-vtpm`.
 */
#ifndef VEIL_ATTEST_VERIFY_UTIL_H
#define VEIL_ATTEST_VERIFY_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "attest/verifier.h"

#define ATTEST_TPM_PCRS 24
#define ATTEST_TPM_QUOTE_MAX 4096u	/* TPMS_ATTEST / TPMT_SIGNATURE, bytes */
#define ATTEST_TRUST_FILE_MAX (1u << 20)

/* Writes "<tee> evidence: <msg>" into err (may be NULL); returns code. */
int attest_fail(char *err, size_t err_len, int code, const char *tee, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Lower-case hex of n bytes, malloc'd; NULL on ENOMEM. */
char *attest_hex(const uint8_t *p, size_t n);
/* Hex (either case) of exactly want bytes; 0 or -EINVAL. */
int attest_unhex(const char *s, uint8_t *out, size_t want);
/* obj[key] = hex(p, n); 0 or -ENOMEM. */
int attest_set_hex(json_t *obj, const char *key, const uint8_t *p, size_t n);

/*
 * Decodes string member key of obj (b64 std, b64url with or without padding,
 * or hex, as named) into a malloc'd buffer of at most max bytes.
 */
enum attest_enc { ATTEST_B64, ATTEST_B64URL_ANY, ATTEST_HEX };
int attest_get_bytes(const json_t *obj, const char *where, const char *key, enum attest_enc enc,
		     size_t max, uint8_t **ret, size_t *ret_len, char *msg, size_t msg_len);

/* Reads trust_dir/rel (bounded); -ENOENT when there is no trust_dir. */
int attest_trust_read(const struct attest_verify_opts *opts, const char *rel, uint8_t **ret,
		      size_t *ret_len);

/* What a verified TPM quote says. */
struct attest_tpm_quote {
	uint8_t extra[64];
	size_t extra_len;
	uint32_t pcr_mask;			/* sha256 PCRs the digest covers */
	uint8_t pcrs[ATTEST_TPM_PCRS][32];	/* as sent; trustworthy where pcr_mask says */
	uint64_t clock, firmware;
	uint32_t reset_count, restart_count;
	bool safe;
};

/*
 * Checks a TPM2_Quote: msg is a marshalled TPMS_ATTEST (magic, ATTEST_QUOTE),
 * sig a marshalled TPMT_SIGNATURE (RSASSA, RSAPSS or ECDSA) or, with raw_rsa,
 * a bare RSASSA-PKCS1-v1_5 SHA-256 signature; the signature must verify with
 * ak; pcrs (JSON array of 24 hex SHA-256 values) must hash to the quoted PCR
 * digest. -EBADMSG / -EKEYREJECTED with msg set.
 */
int attest_tpm_quote_verify(const uint8_t *quote, size_t quote_len, const uint8_t *sig,
			    size_t sig_len, bool raw_rsa, EVP_PKEY *ak, const json_t *pcrs,
			    struct attest_tpm_quote *ret, char *msg, size_t msg_len);

/* Adds "pcr00".."pcr23" (only those the quote covers) to obj. */
int attest_tpm_pcr_claims(json_t *obj, const struct attest_tpm_quote *q);

#endif
