// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `az-snp-vtpm` TEE: an Azure confidential VM whose paravisor (HCL) owns
 * the SNP report and a vTPM (reference/kbs-protocol.md §4.1):
 *   {"version":1|2,"tpm_quote":{"signature":"<hex RSASSA>","message":"<hex TPMS_ATTEST>",
 *    "pcrs":[hex x24]},"hcl_report":"<b64url>","vcek":"<b64url DER>"}
 * The HCL report is a 32-byte "HCLA" header, the SNP report, then IGVM
 * request data whose variable part is JSON holding the vTPM's AK
 * ("HCLAkPub") and "user-data". The chain of trust: AMD ARK -> VCEK -> SNP
 * report, whose REPORT_DATA[0..32] = SHA-256(variable data) -> AK -> quote,
 * whose extraData is the binding (v2: user-data starts with it too).
 */
#include "attest/snp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "attest/verify_util.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/json.h"

#define TEE "az-snp-vtpm"
#define HCL_HEADER_LEN 0x20u
#define HCL_REPORT_MAX 8192u
#define IGVM_HDR_LEN 20u
#define IGVM_HASH_SHA256 1u
#define VAR_DATA_MAX 16384u
#define RSA_PART_MAX 1024u

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int b64url_member(const json_t *o, const char *key, uint8_t **ret, size_t *ret_len)
{
	char msg[200];

	return attest_get_bytes(o, "HCLAkPub", key, ATTEST_B64URL_ANY, RSA_PART_MAX, ret, ret_len,
				msg, sizeof(msg));
}

/* The RSA AK from the variable data's "HCLAkPub" JWK. */
static int hcl_ak(const json_t *var, EVP_PKEY **ret, char *msg, size_t msg_len)
{
	_cleanup_free_ uint8_t *n = NULL, *e = NULL;
	json_t *keys = json_object_get(var, "keys"), *k, *jwk = NULL;
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	size_t i, nl, el;
	int ok = 0;

	json_array_foreach(keys, i, k)
		if (json_is_string(json_object_get(k, "kid")) &&
		    strcmp(json_string_value(json_object_get(k, "kid")), "HCLAkPub") == 0 &&
		    json_is_string(json_object_get(k, "kty")) &&
		    strcmp(json_string_value(json_object_get(k, "kty")), "RSA") == 0)
			jwk = k;
	if (!jwk || b64url_member(jwk, "n", &n, &nl) < 0 || b64url_member(jwk, "e", &e, &el) < 0 ||
	    nl < 256 || el == 0 || el > 8) {
		snprintf(msg, msg_len, "HCL variable data has no RSA 'HCLAkPub' key of 2048 bits or more");
		return -EBADMSG;
	}
	bld = OSSL_PARAM_BLD_new();
	bn = BN_bin2bn(n, (int)nl, NULL);
	be = BN_bin2bn(e, (int)el, NULL);
	if (bld && bn && be && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1)
		params = OSSL_PARAM_BLD_to_param(bld);
	if (params)
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	*ret = NULL;
	if (ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, ret, EVP_PKEY_PUBLIC_KEY, params) == 1)
		ok = 1;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	if (!ok) {
		snprintf(msg, msg_len, "'HCLAkPub' is not a usable RSA key");
		return -EBADMSG;
	}
	return 0;
}

static int verify_az_snp_vtpm(const json_t *evidence, const uint8_t binding[ATTEST_BINDING_LEN],
			      const struct attest_verify_opts *opts, json_t **ret_claims, char *err,
			      size_t err_len)
{
	static const char *const keys[] = { "version", "tpm_quote", "hcl_report", "vcek", NULL };
	static const char *const qkeys[] = { "signature", "message", "pcrs", NULL };
	_cleanup_free_ uint8_t *hcl = NULL, *vcek = NULL, *qmsg = NULL, *qsig = NULL;
	size_t hcl_len, vcek_len, qmsg_len, qsig_len, ds, vs;
	uint8_t digest[32], user[64];
	struct attest_snp_report r;
	struct attest_tpm_quote q;
	struct vjson_err e;
	const uint8_t *var;
	EVP_PKEY *ak = NULL;
	json_t *tq, *pcrs, *vj = NULL, *claims, *tpm;
	int64_t version;
	char msg[200];
	int ret;

	if (vjson_check_keys(evidence, "primary_evidence", keys, &e) < 0 ||
	    vjson_get_int(evidence, "primary_evidence", "version", 0, 255, &version, &e) < 0 ||
	    vjson_get_object(evidence, "primary_evidence", "tpm_quote", &tq, &e) < 0 ||
	    vjson_check_keys(tq, "tpm_quote", qkeys, &e) < 0 ||
	    vjson_get_array(tq, "tpm_quote", "pcrs", ATTEST_TPM_PCRS, &pcrs, &e) < 0)
		return attest_fail(err, err_len, -EBADMSG, TEE, "%s", e.msg);
	if (version != 1 && version != 2)
		return attest_fail(err, err_len, -EBADMSG, TEE, "evidence version %lld is not 1 or 2",
				   (long long)version);
	if ((ret = attest_get_bytes(evidence, "primary_evidence", "hcl_report", ATTEST_B64URL_ANY,
				    HCL_REPORT_MAX, &hcl, &hcl_len, msg, sizeof(msg))) < 0 ||
	    (ret = attest_get_bytes(evidence, "primary_evidence", "vcek", ATTEST_B64URL_ANY,
				    ATTEST_SNP_CERT_MAX, &vcek, &vcek_len, msg, sizeof(msg))) < 0 ||
	    (ret = attest_get_bytes(tq, "tpm_quote", "message", ATTEST_HEX, ATTEST_TPM_QUOTE_MAX, &qmsg,
				    &qmsg_len, msg, sizeof(msg))) < 0 ||
	    (ret = attest_get_bytes(tq, "tpm_quote", "signature", ATTEST_HEX, ATTEST_TPM_QUOTE_MAX,
				    &qsig, &qsig_len, msg, sizeof(msg))) < 0)
		return attest_fail(err, err_len, ret, TEE, "%s", msg);

	/* HCL report: header, SNP report, IGVM request data. */
	if (hcl_len < HCL_HEADER_LEN + ATTEST_SNP_REPORT_LEN + IGVM_HDR_LEN || memcmp(hcl, "HCLA", 4))
		return attest_fail(err, err_len, -EBADMSG, TEE, "'hcl_report' is not an HCL report");
	ret = attest_snp_parse(hcl + HCL_HEADER_LEN, ATTEST_SNP_REPORT_LEN, &r, msg, sizeof(msg));
	if (ret < 0)
		return attest_fail(err, err_len, ret, TEE, "%s", msg);
	var = hcl + HCL_HEADER_LEN + ATTEST_SNP_REPORT_LEN;
	ds = le32(var);
	vs = le32(var + 16);
	if (le32(var + 12) != IGVM_HASH_SHA256 || ds < IGVM_HDR_LEN || vs != ds - IGVM_HDR_LEN ||
	    vs > hcl_len - (size_t)(var + IGVM_HDR_LEN - hcl) || vs > VAR_DATA_MAX)
		return attest_fail(err, err_len, -EBADMSG, TEE,
				   "HCL request data is malformed or not SHA-256");
	var += IGVM_HDR_LEN;

	/* AMD -> VCEK -> SNP report, which holds SHA-256 of the variable data. */
	ret = attest_snp_verify(&r, vcek, vcek_len, opts, msg, sizeof(msg));
	if (ret < 0)
		return attest_fail(err, err_len, ret, TEE, "%s", msg);
	if (r.vmpl != 0)
		return attest_fail(err, err_len, -EPERM, TEE, "report is from VMPL %u, not 0", r.vmpl);
	if (EVP_Digest(var, vs, digest, NULL, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	if (memcmp(digest, r.report_data, sizeof(digest)) != 0)
		return attest_fail(err, err_len, -EKEYREJECTED, TEE,
				   "REPORT_DATA is not the hash of the HCL variable data");

	/* Variable data -> AK -> quote over the PCRs. */
	if (vjson_parse((const char *)var, vs, VAR_DATA_MAX, 8, &vj, &e) < 0)
		return attest_fail(err, err_len, -EBADMSG, TEE, "HCL variable data: %s", e.msg);
	ret = hcl_ak(vj, &ak, msg, sizeof(msg));
	if (ret == 0) {
		ret = attest_tpm_quote_verify(qmsg, qmsg_len, qsig, qsig_len, true, ak, pcrs, &q, msg,
					      sizeof(msg));
		EVP_PKEY_free(ak);
	}
	if (ret < 0) {
		json_decref(vj);
		return attest_fail(err, err_len, ret, TEE, "%s", msg);
	}
	if (q.extra_len != ATTEST_BINDING_LEN || memcmp(q.extra, binding, ATTEST_BINDING_LEN) != 0) {
		json_decref(vj);
		return attest_fail(err, err_len, -EPERM, TEE, "quote extraData does not match the binding");
	}
	if (version >= 2) {
		const char *ud = json_string_value(json_object_get(vj, "user-data"));

		if (attest_unhex(ud, user, sizeof(user)) < 0 ||
		    memcmp(user, binding, ATTEST_BINDING_LEN) != 0) {
			json_decref(vj);
			return attest_fail(err, err_len, -EPERM, TEE,
					   "HCL user-data does not match the binding");
		}
	}
	json_decref(vj);

	claims = json_object();
	tpm = json_object();
	if (!claims || !tpm || attest_snp_claims(&r, true, claims) < 0 ||
	    attest_tpm_pcr_claims(tpm, &q) < 0 || json_object_set_new(claims, "tpm", tpm) < 0 ||
	    ((q.pcr_mask & (1u << 8)) ? attest_set_hex(claims, "init_data", q.pcrs[8], 32)
				      : json_object_del(claims, "init_data")) < 0 ||
	    attest_set_hex(claims, "report_data", q.extra, q.extra_len) < 0) {
		json_decref(claims);
		return -ENOMEM;
	}
	*ret_claims = claims;
	return 0;
}

const struct attest_verifier attest_verifier_az_snp_vtpm = {
	.tee = TEE,
	.verify = verify_az_snp_vtpm,
};
