/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SEV-SNP attestation reports (internal to attest/): the 1184-byte layout
 * (reference/kbs-protocol.md §5.3), the sev crate's serde JSON form of it,
 * the ARK -> ASK/ASVK -> VCEK/VLEK chain and the report signature. Shared
 * by the `snp` and `az-snp-vtpm` verifiers.
 */
#ifndef VEIL_ATTEST_SNP_H
#define VEIL_ATTEST_SNP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/verifier.h"

#define ATTEST_SNP_REPORT_LEN 1184u
#define ATTEST_SNP_SIGNED_LEN 0x2A0u
#define ATTEST_SNP_CERT_MAX 8192u	/* one DER certificate */

enum attest_snp_gen { ATTEST_SNP_GEN_UNKNOWN, ATTEST_SNP_MILAN, ATTEST_SNP_GENOA, ATTEST_SNP_TURIN };

enum attest_snp_key { ATTEST_SNP_VCEK = 0, ATTEST_SNP_VLEK = 1, ATTEST_SNP_NOKEY = 7 };

struct attest_snp_tcb {
	uint8_t fmc, bootloader, tee, snp, microcode;
};

struct attest_snp_report {
	uint8_t raw[ATTEST_SNP_REPORT_LEN];
	uint32_t version, guest_svn, vmpl, sig_algo, key_info;
	uint64_t policy, plat_info;
	enum attest_snp_gen gen;	/* from CPUID (v3+); UNKNOWN for v2 */
	struct attest_snp_tcb reported_tcb;	/* decoded for gen (Milan layout when UNKNOWN) */
	const uint8_t *report_data, *measurement, *host_data, *chip_id;	/* into raw */
};

/* Parses the binary report (versions 2-5). -EBADMSG with msg set. */
int attest_snp_parse(const uint8_t *buf, size_t len, struct attest_snp_report *ret, char *msg,
		     size_t msg_len);

/* Encodes the sev crate's serde JSON form of a report into the binary layout. */
int attest_snp_from_json(const json_t *obj, uint8_t ret[ATTEST_SNP_REPORT_LEN], char *msg,
			 size_t msg_len);

/*
 * The inverse, for the guest's evidence: Trustee reads this form. -EBADMSG
 * for a report whose u64 fields serde could not carry.
 */
int attest_snp_to_json(const uint8_t raw[ATTEST_SNP_REPORT_LEN], json_t **ret);

/*
 * Verifies the report's endorsement: the VEK (DER; NULL: look it up in
 * <trust_dir>/vcek/<hwid>/, the Trustee KDS-store layout) chains to AMD's
 * ARK for the report's generation via the ASK (VCEK) or ASVK (VLEK); its
 * TCB extensions equal REPORTED_TCB; a VCEK's hwID equals CHIP_ID; the
 * ECDSA P-384 signature over bytes 0x000-0x29F verifies. Which key signed
 * comes from KEY_INFO. 0, -EBADMSG or -EKEYREJECTED with msg set.
 */
int attest_snp_verify(const struct attest_snp_report *r, const uint8_t *vek, size_t vek_len,
		      const struct attest_verify_opts *opts, char *msg, size_t msg_len);

/* Trustee's snp claims; as_strings for az-snp-vtpm (every value a string). */
int attest_snp_claims(const struct attest_snp_report *r, bool as_strings, json_t *claims);

/* Built-in AMD certificates (PEM: ASK, ARK, ASVK), attest/snp_roots.c. */
extern const char attest_snp_milan_certs[];
extern const char attest_snp_genoa_certs[];
extern const char attest_snp_turin_certs[];

#endif
