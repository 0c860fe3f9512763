// SPDX-License-Identifier: GPL-2.0-only
#include "attest/tpm.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

struct tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
};

/* tpm2-tss return codes carry no errno; map the classes callers act on. */
static int rc_to_errno(TSS2_RC rc)
{
	if (rc == TSS2_RC_SUCCESS)
		return 0;
	switch (rc & 0xffff) {
	case TSS2_BASE_RC_IO_ERROR:
	case TSS2_BASE_RC_NO_CONNECTION:
		return -EIO;
	case TSS2_BASE_RC_MEMORY:
		return -ENOMEM;
	case TSS2_BASE_RC_TRY_AGAIN:
		return -EAGAIN;
	}
	return -EPROTO;
}

int tpm_open(const char *tcti, struct tpm **ret)
{
	struct tpm *t = calloc(1, sizeof(*t));
	TSS2_RC rc;

	if (!t)
		return -ENOMEM;
	rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		free(t);
		return -ENODEV;
	}
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		Tss2_TctiLdr_Finalize(&t->tcti);
		free(t);
		return rc_to_errno(rc);
	}
	*ret = t;
	return 0;
}

void tpm_close(struct tpm *t)
{
	if (!t)
		return;
	Esys_Finalize(&t->esys);
	Tss2_TctiLdr_Finalize(&t->tcti);
	free(t);
}

int tpm_pcr_extend(struct tpm *t, unsigned int pcr, const uint8_t digest[TPM_SHA256_LEN])
{
	TPML_DIGEST_VALUES d = { .count = 1 };

	if (pcr >= TPM_PCR_COUNT)
		return -EINVAL;
	d.digests[0].hashAlg = TPM2_ALG_SHA256;
	memcpy(d.digests[0].digest.sha256, digest, TPM_SHA256_LEN);
	/* ESYS_TR_PCR0..31 are consecutive. */
	return rc_to_errno(Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
					   ESYS_TR_NONE, &d));
}

static void select_all(TPML_PCR_SELECTION *sel, unsigned int first, unsigned int count)
{
	memset(sel, 0, sizeof(*sel));
	sel->count = 1;
	sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel->pcrSelections[0].sizeofSelect = 3;
	for (unsigned int i = first; i < first + count && i < TPM_PCR_COUNT; i++)
		sel->pcrSelections[0].pcrSelect[i / 8] |= 1u << (i % 8);
}

/* Reads all 24 PCRs; returns the update counter of the last read in *ret_counter. */
static int pcr_read(struct tpm *t, uint8_t out[TPM_PCR_COUNT][TPM_SHA256_LEN], uint32_t *ret_counter)
{
	unsigned int done = 0;
	uint32_t first_counter = 0;

	/* A TPM returns at most 8 digests per read: ask again for the rest. */
	while (done < TPM_PCR_COUNT) {
		TPML_PCR_SELECTION sel, *sel_out = NULL;
		TPML_DIGEST *vals = NULL;
		uint32_t counter;
		TSS2_RC rc;

		select_all(&sel, done, TPM_PCR_COUNT - done);
		rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &counter,
				   &sel_out, &vals);
		if (rc != TSS2_RC_SUCCESS)
			return rc_to_errno(rc);
		if (done == 0)
			first_counter = counter;
		if (!vals->count || counter != first_counter) {
			Esys_Free(sel_out);
			Esys_Free(vals);
			return -EAGAIN;
		}
		for (uint32_t i = 0; i < vals->count && done < TPM_PCR_COUNT; i++, done++) {
			if (vals->digests[i].size != TPM_SHA256_LEN) {
				Esys_Free(sel_out);
				Esys_Free(vals);
				return -EPROTO;
			}
			memcpy(out[done], vals->digests[i].buffer, TPM_SHA256_LEN);
		}
		Esys_Free(sel_out);
		Esys_Free(vals);
	}
	*ret_counter = first_counter;
	return 0;
}

int tpm_pcr_read(struct tpm *t, uint8_t ret[TPM_PCR_COUNT][TPM_SHA256_LEN])
{
	uint32_t counter;
	int r;

	for (int tries = 0; tries < 5; tries++) {
		r = pcr_read(t, ret, &counter);
		if (r != -EAGAIN)
			return r;
	}
	return r;
}

/* A restricted RSA-2048 RSASSA/SHA-256 signing key: what an AK is. */
static const TPM2B_PUBLIC ak_template = {
	.publicArea = {
		.type = TPM2_ALG_RSA,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
				    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
				    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH,
		.parameters.rsaDetail = {
			.symmetric = { .algorithm = TPM2_ALG_NULL },
			.scheme = { .scheme = TPM2_ALG_RSASSA,
				    .details.rsassa.hashAlg = TPM2_ALG_SHA256 },
			.keyBits = 2048,
			.exponent = 0,
		},
	},
};

static int ak_load_or_create(struct tpm *t, uint32_t handle, ESYS_TR *ret)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION creation = { 0 };
	ESYS_TR obj, persistent;
	TSS2_RC rc;

	if (Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ret) ==
	    TSS2_RC_SUCCESS)
		return 0;
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sens, &ak_template, &outside, &creation, &obj, NULL,
				NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return rc_to_errno(rc);
	rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, obj, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			       ESYS_TR_NONE, handle, &persistent);
	Esys_FlushContext(t->esys, obj);
	if (rc != TSS2_RC_SUCCESS)
		return rc_to_errno(rc);
	*ret = persistent;
	return 0;
}

static int ak_spki(struct tpm *t, ESYS_TR ak, uint8_t **ret, size_t *ret_len)
{
	TPM2B_PUBLIC *pub = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char *der = NULL;
	int r = -EPROTO, len;

	if (Esys_ReadPublic(t->esys, ak, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL) !=
	    TSS2_RC_SUCCESS)
		return -EPROTO;
	if (pub->publicArea.type != TPM2_ALG_RSA)
		goto out;
	n = BN_bin2bn(pub->publicArea.unique.rsa.buffer, pub->publicArea.unique.rsa.size, NULL);
	e = BN_new();
	bld = OSSL_PARAM_BLD_new();
	if (!n || !e || !bld ||
	    !BN_set_word(e, pub->publicArea.parameters.rsaDetail.exponent ?: 65537) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	len = i2d_PUBKEY(pkey, &der);
	if (len <= 0)
		goto out;
	*ret = malloc(len);
	if (!*ret) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(*ret, der, len);
	*ret_len = len;
	r = 0;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	Esys_Free(pub);
	return r;
}

int tpm_quote(struct tpm *t, uint32_t ak_handle, const uint8_t *extra_data, size_t extra_len,
	      struct tpm_quote *ret)
{
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPM2B_DATA qual = { 0 };
	TPML_PCR_SELECTION sel;
	ESYS_TR ak;
	int r;

	if (extra_len > sizeof(qual.buffer))
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	qual.size = extra_len;
	memcpy(qual.buffer, extra_data, extra_len);
	select_all(&sel, 0, TPM_PCR_COUNT);
	r = ak_load_or_create(t, ak_handle, &ak);
	if (r < 0)
		return r;

	/* Quote between two PCR reads with one update counter: the values match the quote. */
	for (int tries = 0; tries < 5; tries++) {
		TPM2B_ATTEST *quoted = NULL;
		TPMT_SIGNATURE *sig = NULL;
		uint32_t c1, c2;
		size_t off = 0;
		TSS2_RC rc;

		r = pcr_read(t, ret->pcrs, &c1);
		if (r == -EAGAIN)
			continue;
		if (r < 0)
			return r;
		rc = Esys_Quote(t->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qual,
				&scheme, &sel, &quoted, &sig);
		if (rc != TSS2_RC_SUCCESS)
			return rc_to_errno(rc);
		r = pcr_read(t, ret->pcrs, &c2);
		if (r == 0 && c1 != c2)
			r = -EAGAIN;
		if (r == 0 && quoted->size <= sizeof(ret->message)) {
			memcpy(ret->message, quoted->attestationData, quoted->size);
			ret->message_len = quoted->size;
			if (Tss2_MU_TPMT_SIGNATURE_Marshal(sig, ret->signature, sizeof(ret->signature),
							   &off) != TSS2_RC_SUCCESS)
				r = -EPROTO;
			ret->signature_len = off;
		} else if (r == 0) {
			r = -EPROTO;
		}
		Esys_Free(quoted);
		Esys_Free(sig);
		if (r == -EAGAIN)
			continue;
		if (r < 0)
			return r;
		return ak_spki(t, ak, &ret->ak_spki, &ret->ak_spki_len);
	}
	return -EAGAIN;
}

void tpm_quote_done(struct tpm_quote *q)
{
	free(q->ak_spki);
	q->ak_spki = NULL;
}
