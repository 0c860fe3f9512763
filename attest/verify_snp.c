// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `snp` TEE (reference/kbs-protocol.md §4.1, §5.2):
 *   {"attestation_report": {sev crate serde form} | "<b64 1184-byte report>",
 *    "cert_chain": [{"cert_type":"VCEK"|"VLEK"|"ASK"|"ARK"|..., "data":[bytes]}] | null}
 * The VEK comes from cert_chain or the offline cache in the trust directory,
 * never the network. ASK/ARK entries in cert_chain are ignored: only AMD's
 * certificates built in (or in <trust_dir>/snp/) are trusted.
 */
#include "attest/snp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/verify_util.h"
#include "lib/cleanup.h"
#include "lib/json.h"

#define TEE "snp"
#define CERT_CHAIN_MAX 16

/* The DER of the first cert_chain entry of type want, malloc'd; 0 when none. */
static int chain_cert(const json_t *chain, const char *want, uint8_t **ret, size_t *ret_len,
		      char *msg, size_t msg_len)
{
	size_t i;
	json_t *e;

	*ret = NULL;
	if (!chain || json_is_null(chain))
		return 0;
	if (!json_is_array(chain) || json_array_size(chain) > CERT_CHAIN_MAX) {
		snprintf(msg, msg_len, "'cert_chain' must be null or an array of at most %d entries",
			 CERT_CHAIN_MAX);
		return -EBADMSG;
	}
	json_array_foreach(chain, i, e) {
		json_t *type = json_object_get(e, "cert_type"), *data = json_object_get(e, "data");
		uint8_t *der;
		size_t n;

		if (!json_is_object(e) || (!json_is_string(type) && !json_is_object(type)) ||
		    !json_is_array(data) || json_array_size(data) > ATTEST_SNP_CERT_MAX) {
			snprintf(msg, msg_len, "'cert_chain[%zu]' must be {cert_type, data} (at most %u bytes)",
				 i, ATTEST_SNP_CERT_MAX);
			return -EBADMSG;
		}
		if (!json_is_string(type) || strcmp(json_string_value(type), want) != 0 || *ret)
			continue;
		n = json_array_size(data);
		der = malloc(n ? n : 1);
		if (!der)
			return -ENOMEM;
		for (size_t k = 0; k < n; k++) {
			json_t *b = json_array_get(data, k);

			if (!json_is_integer(b) || json_integer_value(b) < 0 || json_integer_value(b) > 255) {
				free(der);
				snprintf(msg, msg_len, "'cert_chain[%zu].data[%zu]' is not a byte", i, k);
				return -EBADMSG;
			}
			der[k] = (uint8_t)json_integer_value(b);
		}
		*ret = der;
		*ret_len = n;
	}
	return 0;
}

static int verify_snp(const json_t *evidence, const uint8_t binding[ATTEST_BINDING_LEN],
		      const struct attest_verify_opts *opts, json_t **ret_claims, char *err,
		      size_t err_len)
{
	static const char *const keys[] = { "attestation_report", "cert_chain", NULL };
	_cleanup_free_ uint8_t *vek = NULL, *raw = NULL;
	uint8_t buf[ATTEST_SNP_REPORT_LEN], want[64] = { 0 };
	struct attest_snp_report r;
	struct vjson_err e;
	json_t *rep, *claims;
	size_t vek_len = 0, n;
	char msg[200];
	int ret;

	if (vjson_check_keys(evidence, "primary_evidence", keys, &e) < 0)
		return attest_fail(err, err_len, -EBADMSG, TEE, "%s", e.msg);
	rep = json_object_get(evidence, "attestation_report");
	if (json_is_string(rep)) {
		ret = attest_get_bytes(evidence, "primary_evidence", "attestation_report", ATTEST_B64,
				       ATTEST_SNP_REPORT_LEN, &raw, &n, msg, sizeof(msg));
		if (ret < 0)
			return attest_fail(err, err_len, ret, TEE, "%s", msg);
		ret = attest_snp_parse(raw, n, &r, msg, sizeof(msg));
	} else {
		ret = attest_snp_from_json(rep, buf, msg, sizeof(msg));
		if (ret == 0)
			ret = attest_snp_parse(buf, sizeof(buf), &r, msg, sizeof(msg));
	}
	if (ret < 0)
		return attest_fail(err, err_len, ret, TEE, "%s", msg);
	ret = chain_cert(json_object_get(evidence, "cert_chain"),
			 ((r.key_info >> 2) & 7) == ATTEST_SNP_VLEK ? "VLEK" : "VCEK", &vek, &vek_len,
			 msg, sizeof(msg));
	if (ret < 0)
		return attest_fail(err, err_len, ret, TEE, "%s", msg);
	ret = attest_snp_verify(&r, vek, vek_len, opts, msg, sizeof(msg));
	if (ret < 0)
		return attest_fail(err, err_len, ret, TEE, "%s", msg);
	if (r.vmpl != 0)
		return attest_fail(err, err_len, -EPERM, TEE, "report is from VMPL %u, not 0", r.vmpl);
	memcpy(want, binding, ATTEST_BINDING_LEN);
	if (memcmp(r.report_data, want, sizeof(want)) != 0)
		return attest_fail(err, err_len, -EPERM, TEE, "REPORT_DATA does not match the binding");
	claims = json_object();
	if (!claims)
		return -ENOMEM;
	if (attest_snp_claims(&r, false, claims) < 0) {
		json_decref(claims);
		return -ENOMEM;
	}
	*ret_claims = claims;
	return 0;
}

const struct attest_verifier attest_verifier_snp = {
	.tee = TEE,
	.verify = verify_snp,
};
