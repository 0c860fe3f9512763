/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TPM 2.0 through tpm2-tss ESAPI: open a TPM by TCTI string, extend and read
 * sha256 PCRs, and quote PCRs 0-23 with an attestation key kept at a
 * persistent handle (created there on first use). The TCTI string is
 * tpm2-tss's: "device:/dev/tpmrm0" in the VM, "swtpm:host=127.0.0.1,port=P"
 * in tests.
 */
#ifndef VEIL_ATTEST_TPM_H
#define VEIL_ATTEST_TPM_H

#include <stddef.h>
#include <stdint.h>

#define TPM_PCR_COUNT 24
#define TPM_SHA256_LEN 32
#define TPM_AK_HANDLE_DEFAULT 0x81010002u	/* guest-components' default */
#define TPM_QUOTE_MAX 4096u

struct tpm;

int tpm_open(const char *tcti, struct tpm **ret);
void tpm_close(struct tpm *t);

int tpm_pcr_extend(struct tpm *t, unsigned int pcr, const uint8_t digest[TPM_SHA256_LEN]);
int tpm_pcr_read(struct tpm *t, uint8_t ret[TPM_PCR_COUNT][TPM_SHA256_LEN]);

struct tpm_quote {
	uint8_t message[TPM_QUOTE_MAX];		/* marshalled TPMS_ATTEST */
	size_t message_len;
	uint8_t signature[TPM_QUOTE_MAX];	/* marshalled TPMT_SIGNATURE */
	size_t signature_len;
	uint8_t pcrs[TPM_PCR_COUNT][TPM_SHA256_LEN];
	uint8_t *ak_spki;			/* DER SubjectPublicKeyInfo, malloc'd */
	size_t ak_spki_len;
};

/*
 * Quotes PCRs 0-23 (sha256) with extra_data as qualifying data (at most 64
 * bytes), using the RSA AK at ak_handle, creating and persisting it if the
 * handle is empty. The PCR values read are those the quote covers (the read
 * is retried if the PCRs change in between).
 */
int tpm_quote(struct tpm *t, uint32_t ak_handle, const uint8_t *extra_data, size_t extra_len,
	      struct tpm_quote *ret);
void tpm_quote_done(struct tpm_quote *q);

#endif
