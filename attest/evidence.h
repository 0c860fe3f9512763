/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest evidence for the RCAR /attest request: the `primary_evidence` JSON of
 * each TEE, in the form Trustee's verifiers read (reference/kbs-protocol.md
 * §4.1), bound to the 48-byte binding as §1.5 says for that TEE. The TEE is
 * always named by the caller (the manifest): there is no detection and no
 * fallback, least of all to `sample`.
 */
#ifndef VEIL_ATTEST_EVIDENCE_H
#define VEIL_ATTEST_EVIDENCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/verifier.h"

#define TSM_REPORT_ROOT "/sys/kernel/config/tsm/report"
#define TSM_OUTBLOB_MAX (1u << 20)	/* a TDX quote with certs is ~8 KiB; SNP 1184 B */

struct attest_evidence_opts {
	const char *tpm_tcti;		/* NULL: "device:/dev/tpmrm0" */
	uint32_t tpm_ak_handle;		/* 0: TPM_AK_HANDLE_DEFAULT */
	const char *tsm_root;		/* NULL: TSM_REPORT_ROOT */
	/* Tests only: use an existing entry of this name instead of creating one. */
	const char *tsm_entry;
	const char *sev_guest_dev;	/* NULL: /dev/sev-guest, snp's path without configfs-tsm */
	const uint8_t *eventlog;	/* the AAEL log sent with tpm (aa_eventlog) and tdx evidence */
	size_t eventlog_len;
};

/*
 * Collects evidence for tee ("sample", "tpm", "tdx", "snp") bound to binding.
 * 0 and *ret_evidence, or -EOPNOTSUPP (TEE unknown or not present here),
 * -ENODEV (device missing), -EIO/-EPROTO (the TEE misbehaved); err names it.
 * snp asks configfs-tsm, and /dev/sev-guest (SNP_GET_REPORT) only when this
 * kernel has no configfs-tsm at all: the same report either way.
 */
int attest_evidence_collect(const char *tee, const uint8_t binding[ATTEST_BINDING_LEN],
			    const struct attest_evidence_opts *opts, json_t **ret_evidence,
			    char *err, size_t err_len);

/*
 * Binds the initdata digest to the TEE the CoCo way (reference §4.4): tpm
 * extends PCR 8 once with the first 32 bytes of the digest (exactly what
 * peer pods do; Trustee's tpm verifier matches it for sha256 initdata); snp
 * and tdx cannot set HOST_DATA / MRCONFIGID from inside, so their current
 * report is checked against the digest instead (-EPERM on mismatch). sample
 * has nothing to bind. 0 or -errno with err naming the cause.
 */
int attest_initdata_bind(const char *tee, const uint8_t *digest, size_t digest_len,
			 const struct attest_evidence_opts *opts, char *err, size_t err_len);

#define SNP_REPORT_LEN 0x4A0
#define SNP_REPORT_DATA_OFF 0x50
#define SNP_HOST_DATA_OFF 0xC0
#define TDX_QUOTE_REPORT_DATA_OFF 568	/* header 48 + TD report body offset 520 */
#define TDX_QUOTE_MRCONFIGID_OFF 232	/* header 48 + body offset 184 */

/*
 * One configfs-tsm report: writes inblob (64 bytes), reads outblob (and
 * auxblob when ret_aux is not NULL), checks the provider name and that the
 * generation did not move under us (another writer). Buffers are malloc'd.
 */
int attest_tsm_report(const char *root, const char *entry, const char *provider,
		      const uint8_t inblob[64], uint8_t **ret_out, size_t *ret_out_len,
		      uint8_t **ret_aux, size_t *ret_aux_len);

#endif
