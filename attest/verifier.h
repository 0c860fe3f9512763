/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Evidence verifiers, one per TEE, behind one entry point. The KBS calls
 * attest_verify() with the TEE named in the session's /auth request, the
 * `primary_evidence` JSON and the 48-byte binding (SHA-384 of the canonical
 * runtime data, reference/kbs-protocol.md §1.5). Each verifier checks the
 * evidence (signatures, chains, the binding in the TEE's carrier) and returns
 * its claims as a JSON object, named as Trustee names them (§3.5), so policies
 * read the same keys on both.
 */
#ifndef VEIL_ATTEST_VERIFIER_H
#define VEIL_ATTEST_VERIFIER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ATTEST_BINDING_LEN 48
#define ATTEST_EVIDENCE_MAX (2u << 20)	/* Trustee's request body limit */

struct attest_verify_opts {
	/* Directory of trust material: AMD roots, cached VCEKs, trusted AKs. NULL: built-in only. */
	const char *trust_dir;
};

struct attest_verifier {
	const char *tee;
	/*
	 * 0 and *ret_claims on success; -EBADMSG malformed evidence, -EKEYREJECTED
	 * bad signature or chain, -EPERM binding mismatch, -EOPNOTSUPP unknown TEE.
	 * err (may be NULL) receives a one-line reason naming what failed.
	 */
	int (*verify)(const json_t *evidence, const uint8_t binding[ATTEST_BINDING_LEN],
		      const struct attest_verify_opts *opts, json_t **ret_claims, char *err,
		      size_t err_len);
};

int attest_verify(const char *tee, const json_t *evidence, const uint8_t binding[ATTEST_BINDING_LEN],
		  const struct attest_verify_opts *opts, json_t **ret_claims, char *err,
		  size_t err_len);

/* The verifiers (attest/verify_TEE.c). */
extern const struct attest_verifier attest_verifier_sample;
extern const struct attest_verifier attest_verifier_tpm;
extern const struct attest_verifier attest_verifier_snp;
extern const struct attest_verifier attest_verifier_az_snp_vtpm;
extern const struct attest_verifier attest_verifier_tdx;

#endif
