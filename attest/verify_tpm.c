// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `tpm` TEE: a TPM2_Quote over the SHA-256 PCR bank, signed by an
 * attestation key (AK) the KBS trusts, with extraData = the first 32 bytes of
 * the binding (reference/kbs-protocol.md §1.5, §4.1). Evidence:
 *   {"tpm_quote":{"signature":"<b64 TPMT_SIGNATURE>","message":"<b64 TPMS_ATTEST>",
 *                 "pcrs":["<hex sha256>" x24]},
 *    "ak_public":"<b64 DER SPKI>", "aa_eventlog":"<b64 AAEL log>" (optional)}
 * Trusted AKs are the PEM or DER public keys in <trust_dir>/tpm/ak/.
 * The structures are unmarshalled by tpm2-tss (libtss2-mu).
 */
#include "attest/verify_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "attest/runtime.h"
#include "lib/cleanup.h"
#include "lib/json.h"

#define TEE "tpm"
#define TPM_REPORT_DATA_LEN 32
#define TRUSTED_AKS_MAX 100
#define SPKI_MAX 2048u
#define AAEL_PCR 23

/*
 * libtss2-mu reports malformed input on stderr at warning level; quote bytes
 * come from peers, so a verifier must stay quiet. TSS2_LOG is read once, at
 * the first message: set it before any thread exists, unless the operator did.
 */
__attribute__((constructor)) static void quiet_tss2_mu(void)
{
	setenv("TSS2_LOG", "marshal+none", 0);
}

static const EVP_MD *tpm_md(TPMI_ALG_HASH h)
{
	switch (h) {
	case TPM2_ALG_SHA256:
		return EVP_sha256();
	case TPM2_ALG_SHA384:
		return EVP_sha384();
	case TPM2_ALG_SHA512:
		return EVP_sha512();
	default:
		return NULL;	/* SHA-1 quotes are refused */
	}
}

static int ecdsa_der(const TPMS_SIGNATURE_ECDSA *e, uint8_t **ret, size_t *ret_len)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(e->signatureR.buffer, e->signatureR.size, NULL);
	BIGNUM *ss = BN_bin2bn(e->signatureS.buffer, e->signatureS.size, NULL);
	unsigned char *der = NULL;
	int n;

	if (!s || !r || !ss) {
		ECDSA_SIG_free(s);
		BN_free(r);
		BN_free(ss);
		return -ENOMEM;
	}
	ECDSA_SIG_set0(s, r, ss);
	n = i2d_ECDSA_SIG(s, &der);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return -ENOMEM;
	*ret = der;
	*ret_len = (size_t)n;
	return 0;
}

static int verify_sig(EVP_PKEY *ak, const EVP_MD *md, int padding, const uint8_t *sig,
		      size_t sig_len, const uint8_t *msg, size_t msg_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, ak) == 1;
	if (ok && padding) {
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, padding) == 1;
		if (ok && padding == RSA_PKCS1_PSS_PADDING)
			ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1;
	}
	ok = ok && EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EKEYREJECTED;
}

int attest_tpm_quote_verify(const uint8_t *quote, size_t quote_len, const uint8_t *sig,
			    size_t sig_len, bool raw_rsa, EVP_PKEY *ak, const json_t *pcrs,
			    struct attest_tpm_quote *ret, char *msg, size_t msg_len)
{
	struct attest_tpm_quote q = { 0 };
	TPMS_ATTEST att;
	TPMT_SIGNATURE ts;
	const TPML_PCR_SELECTION *sel;
	const EVP_MD *md;
	uint8_t cat[ATTEST_TPM_PCRS * 8 * 32], digest[EVP_MAX_MD_SIZE];
	size_t off = 0, catlen = 0;
	unsigned int dlen;
	int r, keytype = EVP_PKEY_get_base_id(ak);

	memset(&att, 0, sizeof(att));
	if (Tss2_MU_TPMS_ATTEST_Unmarshal(quote, quote_len, &off, &att) != TSS2_RC_SUCCESS ||
	    off != quote_len) {
		snprintf(msg, msg_len, "quote message is not a TPMS_ATTEST");
		return -EBADMSG;
	}
	if (att.magic != TPM2_GENERATED_VALUE || att.type != TPM2_ST_ATTEST_QUOTE) {
		snprintf(msg, msg_len, "quote message is not a TPM-generated quote (magic %08x, type %04x)",
			 att.magic, att.type);
		return -EBADMSG;
	}
	if (att.extraData.size > sizeof(q.extra)) {
		snprintf(msg, msg_len, "quote extraData is %u bytes", att.extraData.size);
		return -EBADMSG;
	}

	/* The signature: a TPMT_SIGNATURE, or Azure's bare RSASSA SHA-256 bytes. */
	if (raw_rsa) {
		if (keytype != EVP_PKEY_RSA) {
			snprintf(msg, msg_len, "AK is not an RSA key");
			return -EKEYREJECTED;
		}
		md = EVP_sha256();
		r = verify_sig(ak, md, RSA_PKCS1_PADDING, sig, sig_len, quote, quote_len);
	} else {
		off = 0;
		memset(&ts, 0, sizeof(ts));
		if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig, sig_len, &off, &ts) != TSS2_RC_SUCCESS ||
		    off != sig_len) {
			snprintf(msg, msg_len, "quote signature is not a TPMT_SIGNATURE");
			return -EBADMSG;
		}
		switch (ts.sigAlg) {
		case TPM2_ALG_RSASSA:
		case TPM2_ALG_RSAPSS:
			md = tpm_md(ts.signature.rsassa.hash);
			if (!md || keytype != EVP_PKEY_RSA) {
				snprintf(msg, msg_len, "RSA quote signature with %s",
					 md ? "a non-RSA AK" : "an unsupported hash");
				return md ? -EKEYREJECTED : -EBADMSG;
			}
			r = verify_sig(ak, md,
				       ts.sigAlg == TPM2_ALG_RSASSA ? RSA_PKCS1_PADDING : RSA_PKCS1_PSS_PADDING,
				       ts.signature.rsassa.sig.buffer, ts.signature.rsassa.sig.size, quote,
				       quote_len);
			break;
		case TPM2_ALG_ECDSA: {
			_cleanup_free_ uint8_t *der = NULL;
			size_t der_len;

			md = tpm_md(ts.signature.ecdsa.hash);
			if (!md || keytype != EVP_PKEY_EC) {
				snprintf(msg, msg_len, "ECDSA quote signature with %s",
					 md ? "a non-EC AK" : "an unsupported hash");
				return md ? -EKEYREJECTED : -EBADMSG;
			}
			r = ecdsa_der(&ts.signature.ecdsa, &der, &der_len);
			if (r < 0)
				return r;
			r = verify_sig(ak, md, 0, der, der_len, quote, quote_len);
			break;
		}
		default:
			snprintf(msg, msg_len, "quote signature algorithm %04x is not supported", ts.sigAlg);
			return -EBADMSG;
		}
	}
	if (r < 0) {
		snprintf(msg, msg_len, "quote signature does not verify with the AK");
		return r;
	}

	/* The PCR values sent must be the ones the TPM hashed into the quote. */
	if (!json_is_array(pcrs) || json_array_size(pcrs) != ATTEST_TPM_PCRS) {
		snprintf(msg, msg_len, "'tpm_quote.pcrs' must be an array of %d values", ATTEST_TPM_PCRS);
		return -EBADMSG;
	}
	for (size_t i = 0; i < ATTEST_TPM_PCRS; i++)
		if (attest_unhex(json_string_value(json_array_get(pcrs, i)), q.pcrs[i], 32) < 0) {
			snprintf(msg, msg_len, "'tpm_quote.pcrs[%zu]' is not a hex SHA-256 value", i);
			return -EBADMSG;
		}
	sel = &att.attested.quote.pcrSelect;
	for (uint32_t s = 0; s < sel->count; s++) {
		const TPMS_PCR_SELECTION *ps = &sel->pcrSelections[s];

		for (uint32_t pcr = 0; pcr < 8u * ps->sizeofSelect; pcr++) {
			if (!(ps->pcrSelect[pcr / 8] & (1u << (pcr % 8))))
				continue;
			if (ps->hash != TPM2_ALG_SHA256 || pcr >= ATTEST_TPM_PCRS) {
				snprintf(msg, msg_len, "quote covers PCR %u of bank %04x, not sent", pcr,
					 ps->hash);
				return -EBADMSG;
			}
			if (catlen + 32 > sizeof(cat)) {
				snprintf(msg, msg_len, "quote selects too many PCRs");
				return -EBADMSG;
			}
			memcpy(cat + catlen, q.pcrs[pcr], 32);
			catlen += 32;
			q.pcr_mask |= 1u << pcr;
		}
	}
	if (EVP_Digest(cat, catlen, digest, &dlen, md, NULL) != 1)
		return -ENOMEM;
	if (att.attested.quote.pcrDigest.size != dlen ||
	    memcmp(att.attested.quote.pcrDigest.buffer, digest, dlen) != 0) {
		snprintf(msg, msg_len, "PCR values do not match the quoted PCR digest");
		return -EKEYREJECTED;
	}
	memcpy(q.extra, att.extraData.buffer, att.extraData.size);
	q.extra_len = att.extraData.size;
	q.clock = att.clockInfo.clock;
	q.reset_count = att.clockInfo.resetCount;
	q.restart_count = att.clockInfo.restartCount;
	q.safe = att.clockInfo.safe;
	q.firmware = att.firmwareVersion;
	*ret = q;
	return 0;
}

int attest_tpm_pcr_claims(json_t *obj, const struct attest_tpm_quote *q)
{
	for (unsigned int i = 0; i < ATTEST_TPM_PCRS; i++) {
		char key[8];

		if (!(q->pcr_mask & (1u << i)))
			continue;
		snprintf(key, sizeof(key), "pcr%02u", i);
		if (attest_set_hex(obj, key, q->pcrs[i], 32) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The AK's SPKI re-encoded, so a PEM and a DER file of one key compare equal. */
static int spki_der(EVP_PKEY *k, uint8_t **ret, size_t *ret_len)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k, &der);

	if (n <= 0)
		return -ENOMEM;
	*ret = der;
	*ret_len = (size_t)n;
	return 0;
}

static EVP_PKEY *load_pubkey(const uint8_t *buf, size_t len)
{
	const unsigned char *p = buf;
	EVP_PKEY *k = NULL;
	BIO *bio;

	if (len > 10 && memcmp(buf, "-----BEGIN", 10) == 0) {
		bio = BIO_new_mem_buf(buf, (int)len);
		if (bio)
			k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
		return k;
	}
	k = d2i_PUBKEY(NULL, &p, (long)len);
	if (k && p != buf + len) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	return k;
}

/* 1 when the AK is in <trust_dir>/tpm/ak/, 0 when not, -errno on error. */
static int ak_trusted(const struct attest_verify_opts *opts, const uint8_t *der, size_t der_len)
{
	char dir[4096];
	struct dirent *de;
	DIR *d;
	int found = 0, n = 0;

	if (!opts || !opts->trust_dir)
		return 0;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/tpm/ak", opts->trust_dir) >= sizeof(dir))
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!found && (de = readdir(d)) && n < TRUSTED_AKS_MAX) {
		_cleanup_free_ uint8_t *buf = NULL, *mine = NULL;
		char rel[512];
		size_t len, mlen;
		EVP_PKEY *k;

		if (de->d_name[0] == '.')
			continue;
		n++;
		if ((size_t)snprintf(rel, sizeof(rel), "tpm/ak/%s", de->d_name) >= sizeof(rel) ||
		    attest_trust_read(opts, rel, &buf, &len) < 0)
			continue;
		k = load_pubkey(buf, len);
		if (!k)
			continue;
		if (spki_der(k, &mine, &mlen) == 0 && mlen == der_len && memcmp(mine, der, mlen) == 0)
			found = 1;
		EVP_PKEY_free(k);
	}
	closedir(d);
	return found;
}

static int verify_tpm(const json_t *evidence, const uint8_t binding[ATTEST_BINDING_LEN],
		      const struct attest_verify_opts *opts, json_t **ret_claims, char *err,
		      size_t err_len)
{
	static const char *const keys[] = { "tpm_quote", "ak_public", "aa_eventlog", "ek_cert", NULL };
	static const char *const qkeys[] = { "signature", "message", "pcrs", NULL };
	_cleanup_free_ uint8_t *spki = NULL, *msgb = NULL, *sigb = NULL, *canon = NULL, *log = NULL;
	size_t spki_len, msg_len, sig_len, canon_len, log_len = 0;
	struct attest_tpm_quote q;
	struct vjson_err e;
	json_t *tq, *pcrs, *claims;
	const unsigned char *p;
	EVP_PKEY *ak;
	char msg[200];
	int r;

	if (vjson_check_keys(evidence, "primary_evidence", keys, &e) < 0 ||
	    vjson_get_object(evidence, "primary_evidence", "tpm_quote", &tq, &e) < 0 ||
	    vjson_check_keys(tq, "tpm_quote", qkeys, &e) < 0 ||
	    vjson_get_array(tq, "tpm_quote", "pcrs", ATTEST_TPM_PCRS, &pcrs, &e) < 0)
		return attest_fail(err, err_len, -EBADMSG, TEE, "%s", e.msg);
	if ((r = attest_get_bytes(evidence, "primary_evidence", "ak_public", ATTEST_B64, SPKI_MAX, &spki,
				  &spki_len, msg, sizeof(msg))) < 0 ||
	    (r = attest_get_bytes(tq, "tpm_quote", "message", ATTEST_B64, ATTEST_TPM_QUOTE_MAX, &msgb,
				  &msg_len, msg, sizeof(msg))) < 0 ||
	    (r = attest_get_bytes(tq, "tpm_quote", "signature", ATTEST_B64, ATTEST_TPM_QUOTE_MAX,
				  &sigb, &sig_len, msg, sizeof(msg))) < 0)
		return attest_fail(err, err_len, r, TEE, "%s", msg);
	if (json_object_get(evidence, "aa_eventlog") &&
	    (r = attest_get_bytes(evidence, "primary_evidence", "aa_eventlog", ATTEST_B64,
				  ATTEST_RUNTIME_LOG_MAX, &log, &log_len, msg, sizeof(msg))) < 0)
		return attest_fail(err, err_len, r, TEE, "%s", msg);

	p = spki;
	ak = d2i_PUBKEY(NULL, &p, (long)spki_len);
	if (!ak || p != spki + spki_len) {
		EVP_PKEY_free(ak);
		return attest_fail(err, err_len, -EBADMSG, TEE, "'ak_public' is not a DER public key");
	}
	r = spki_der(ak, &canon, &canon_len);
	if (r == 0) {
		r = ak_trusted(opts, canon, canon_len);
		if (r == 0)
			r = attest_fail(err, err_len, -EKEYREJECTED, TEE, "the AK is not a trusted AK");
		else if (r > 0)
			r = 0;
		else
			r = attest_fail(err, err_len, r, TEE, "cannot read the trusted AKs");
	}
	if (r == 0) {
		r = attest_tpm_quote_verify(msgb, msg_len, sigb, sig_len, false, ak, pcrs, &q, msg,
					    sizeof(msg));
		if (r < 0)
			attest_fail(err, err_len, r, TEE, "%s", msg);
	}
	EVP_PKEY_free(ak);
	if (r < 0)
		return r;

	if (q.extra_len != TPM_REPORT_DATA_LEN || memcmp(q.extra, binding, TPM_REPORT_DATA_LEN) != 0)
		return attest_fail(err, err_len, -EPERM, TEE,
				   "quote extraData does not match the binding");

	claims = json_object();
	if (!claims)
		return -ENOMEM;
	r = attest_tpm_pcr_claims(claims, &q);
	if (r == 0 && (q.pcr_mask & (1u << 8)))
		r = attest_set_hex(claims, "init_data", q.pcrs[8], 32);
	if (r == 0)
		r = attest_set_hex(claims, "report_data", q.extra, q.extra_len);
	if (r == 0)
		r = json_object_set(claims, "ak_public", json_object_get(evidence, "ak_public")) ? -ENOMEM : 0;
	if (r == 0)
		r = json_object_set_new(claims, "clock_info",
					json_pack("{s:I, s:I, s:I, s:b}", "clock", (json_int_t)q.clock,
						  "reset_count", (json_int_t)q.reset_count,
						  "restart_count", (json_int_t)q.restart_count, "safe",
						  q.safe)) ? -ENOMEM : 0;
	if (r == 0) {
		char fw[17];

		snprintf(fw, sizeof(fw), "%016llx", (unsigned long long)q.firmware);
		r = json_object_set_new(claims, "firmware_version", json_string(fw)) ? -ENOMEM : 0;
	}
	if (r == 0 && log) {
		if (!(q.pcr_mask & (1u << AAEL_PCR))) {
			snprintf(msg, sizeof(msg), "an event log was sent but PCR %d is not quoted",
				 AAEL_PCR);
			r = -EBADMSG;
		} else {
			r = attest_runtime_log_claims(log, log_len, AAEL_PCR, EVENTLOG_ALG_SHA256,
						      q.pcrs[AAEL_PCR], claims, msg, sizeof(msg));
		}
		if (r < 0 && r != -ENOMEM)
			attest_fail(err, err_len, r, TEE, "%s", msg);
	}
	if (r < 0) {
		json_decref(claims);
		return r;
	}
	*ret_claims = claims;
	return 0;
}

const struct attest_verifier attest_verifier_tpm = {
	.tee = TEE,
	.verify = verify_tpm,
};
