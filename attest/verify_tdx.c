// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `tdx` TEE (reference/kbs-protocol.md §4.1, §5.3):
 *   {"quote":"<b64 DCAP quote v4|v5>","cc_eventlog":"<b64 CCEL+AAEL>"|null}
 * The quote is parsed and bound (REPORTDATA = binding || zeros; MRCONFIGID
 * is the init_data claim). Its own ECDSA chain (attestation key, QE report,
 * PCK certificates up to Intel's pinned root) is checked and reported as
 * "signature_verified"; the platform's TCB level, the QE identity and
 * revocation need Intel's collateral, which this verifier does not have:
 * "tcb_status" is "Unverified" and the default policy denies on it.
 * An event log, when sent, must replay to RTMR3 (CC-MR 4, SHA-384), and to
 * RTMR0-2 when it has records for them (a firmware CCEL); AAEL events of
 * RTMR3 become claims. veil-init sends its AAEL records without a CCEL.
 */
#include "attest/runtime.h"
#include "attest/tdx.h"
#include "attest/verify_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/json.h"

#define TEE "tdx"
#define QUOTE_MAX (64u << 10)
#define HEADER_LEN 48u
#define BODY10_LEN 584u
#define BODY15_LEN 648u
#define TEE_TYPE_TDX 0x81u
#define ATT_KEY_ECDSA_P256 2u
#define MR_LEN 48u

struct field {
	const char *name;
	size_t len;
};

/* The TD report body in order, named as Trustee names the claims. */
static const struct field body_fields[] = {
	{ "tcb_svn", 16 },	{ "mr_seam", 48 },	   { "mrsigner_seam", 48 },
	{ "seam_attributes", 8 }, { "td_attributes", 8 }, { "xfam", 8 },
	{ "mr_td", 48 },	{ "mr_config_id", 48 },	   { "mr_owner", 48 },
	{ "mr_owner_config", 48 }, { "rtmr_0", 48 },	   { "rtmr_1", 48 },
	{ "rtmr_2", 48 },	{ "rtmr_3", 48 },	   { "report_data", 64 },
	/* TDX 1.5 bodies go on. */
	{ "tee_tcb_svn2", 16 },	{ "mr_servicetd", 48 },
};
#define BODY10_FIELDS 15
#define OFF_TD_ATTRIBUTES (16 + 48 + 48 + 8)
#define OFF_MR_CONFIG_ID (16 + 48 + 48 + 8 + 8 + 8 + 48)
#define OFF_RTMR0 (OFF_MR_CONFIG_ID + 3 * 48)
#define OFF_REPORT_DATA (OFF_RTMR0 + 4 * 48)

static const struct field header_fields[] = {
	{ "version", 2 },   { "att_key_type", 2 }, { "tee_type", 4 },
	{ "reserved", 4 },  { "vendor_id", 16 },   { "user_data", 20 },
};

static uint32_t le(const uint8_t *p, size_t n)
{
	uint32_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static json_t *hex_fields(const uint8_t *p, const struct field *f, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < n; i++) {
		if (attest_set_hex(o, f[i].name, p, f[i].len) < 0) {
			json_decref(o);
			return NULL;
		}
		p += f[i].len;
	}
	return o;
}

static int verify_tdx(const json_t *evidence, const uint8_t binding[ATTEST_BINDING_LEN],
		      const struct attest_verify_opts *opts, json_t **ret_claims, char *err,
		      size_t err_len)
{
	static const char *const keys[] = { "quote", "cc_eventlog", NULL };
	_cleanup_free_ uint8_t *q = NULL, *log = NULL;
	size_t qlen, loglen = 0, body_len, body_off = HEADER_LEN, sig_off, sig_len;
	uint8_t want[64] = { 0 };
	const uint8_t *body;
	uint32_t version;
	uint64_t attr;
	struct vjson_err e;
	json_t *claims, *quote, *hdr, *bj, *attrs;
	char msg[200], sigmsg[200] = "";
	bool sig_ok;
	int r;

	(void)opts;
	if (vjson_check_keys(evidence, "primary_evidence", keys, &e) < 0)
		return attest_fail(err, err_len, -EBADMSG, TEE, "%s", e.msg);
	r = attest_get_bytes(evidence, "primary_evidence", "quote", ATTEST_B64, QUOTE_MAX, &q, &qlen,
			     msg, sizeof(msg));
	if (r == 0 && json_is_string(json_object_get(evidence, "cc_eventlog")))
		r = attest_get_bytes(evidence, "primary_evidence", "cc_eventlog", ATTEST_B64,
				     ATTEST_RUNTIME_LOG_MAX, &log, &loglen, msg, sizeof(msg));
	else if (r == 0 && json_object_get(evidence, "cc_eventlog") &&
		 !json_is_null(json_object_get(evidence, "cc_eventlog")))
		r = -EBADMSG, snprintf(msg, sizeof(msg), "'cc_eventlog' must be a string or null");
	if (r < 0)
		return attest_fail(err, err_len, r, TEE, "%s", msg);

	/* Header, (v5) body descriptor, body, signature data, zero padding. */
	if (qlen < HEADER_LEN + BODY10_LEN + 4)
		return attest_fail(err, err_len, -EBADMSG, TEE, "quote is %zu bytes: too short", qlen);
	version = le(q, 2);
	if (version != 4 && version != 5)
		return attest_fail(err, err_len, -EBADMSG, TEE, "quote version %u is not 4 or 5", version);
	if (le(q + 2, 2) != ATT_KEY_ECDSA_P256 || le(q + 4, 4) != TEE_TYPE_TDX)
		return attest_fail(err, err_len, -EBADMSG, TEE,
				   "quote is not an ECDSA-P256 TDX quote (key type %u, TEE %x)",
				   le(q + 2, 2), le(q + 4, 4));
	body_len = BODY10_LEN;
	if (version == 5) {
		uint32_t type = le(q + HEADER_LEN, 2), size = le(q + HEADER_LEN + 2, 4);

		body_off = HEADER_LEN + 6;
		if (!((type == 2 && size == BODY10_LEN) || (type == 3 && size == BODY15_LEN)))
			return attest_fail(err, err_len, -EBADMSG, TEE,
					   "quote body type %u of %u bytes is not a TD report", type, size);
		body_len = size;
	}
	sig_off = body_off + body_len;
	if (qlen < sig_off + 4)
		return attest_fail(err, err_len, -EBADMSG, TEE, "quote is truncated");
	sig_len = le(q + sig_off, 4);
	if (sig_len > qlen - sig_off - 4)
		return attest_fail(err, err_len, -EBADMSG, TEE, "quote signature data is truncated");
	for (size_t i = sig_off + 4 + sig_len; i < qlen; i++)
		if (q[i])
			return attest_fail(err, err_len, -EBADMSG, TEE,
					   "quote has trailing bytes after its signature data");
	body = q + body_off;
	sig_ok = attest_tdx_quote_signature(q, sig_off, q + sig_off + 4, sig_len, sigmsg,
					    sizeof(sigmsg)) == 0;

	/* The binding, then the event log against the RTMRs. */
	memcpy(want, binding, ATTEST_BINDING_LEN);
	if (memcmp(body + OFF_REPORT_DATA, want, sizeof(want)) != 0)
		return attest_fail(err, err_len, -EPERM, TEE, "REPORTDATA does not match the binding");
	claims = json_object();
	if (!claims)
		return -ENOMEM;
	if (log) {
		for (uint32_t i = 0; i < 4; i++) {
			uint8_t got[EVENTLOG_DIGEST_MAX];

			r = eventlog_replay(log, loglen, i + 1, EVENTLOG_ALG_SHA384, got);
			if (r == 0 && i < 3)
				continue;	/* no firmware records: the log says nothing of it */
			if (r < 0 || memcmp(got, body + OFF_RTMR0 + i * MR_LEN, MR_LEN) != 0) {
				json_decref(claims);
				return attest_fail(err, err_len, r < 0 ? -EBADMSG : -EKEYREJECTED, TEE,
						   r < 0 ? "the event log is malformed"
							 : "replaying the event log does not give RTMR%u",
						   i);
			}
		}
		r = attest_runtime_log_claims(log, loglen, 4, EVENTLOG_ALG_SHA384, body + OFF_RTMR0 + 3 * MR_LEN,
					      claims, msg, sizeof(msg));
		if (r < 0) {
			json_decref(claims);
			return r == -ENOMEM ? r : attest_fail(err, err_len, r, TEE, "%s", msg);
		}
	}

	attr = le(body + OFF_TD_ATTRIBUTES, 4) | (uint64_t)le(body + OFF_TD_ATTRIBUTES + 4, 4) << 32;
	hdr = hex_fields(q, header_fields, ARRAY_SIZE(header_fields));
	bj = hex_fields(body, body_fields, body_len == BODY15_LEN ? ARRAY_SIZE(body_fields) : BODY10_FIELDS);
	quote = json_object();
	attrs = json_pack("{s:b, s:b, s:b, s:b, s:b}", "debug", (int)(attr & 1), "septve_disable",
			  (int)((attr >> 28) & 1), "protection_keys", (int)((attr >> 30) & 1),
			  "key_locker", (int)((attr >> 31) & 1), "perfmon", (int)((attr >> 63) & 1));
	if (!hdr || !bj || !quote || !attrs || json_object_set_new(quote, "header", hdr) < 0 ||
	    json_object_set_new(quote, "body", bj) < 0 ||
	    json_object_set_new(claims, "quote", quote) < 0 ||
	    json_object_set_new(claims, "td_attributes", attrs) < 0 ||
	    attest_set_hex(claims, "report_data", body + OFF_REPORT_DATA, 64) < 0 ||
	    attest_set_hex(claims, "init_data", body + OFF_MR_CONFIG_ID, MR_LEN) < 0 ||
	    json_object_set_new(claims, "signature_verified", json_boolean(sig_ok)) < 0 ||
	    (!sig_ok && json_object_set_new(claims, "signature_error", json_string(sigmsg)) < 0) ||
	    json_object_set_new(claims, "tcb_status", json_string("Unverified")) < 0) {
		json_decref(claims);
		return -ENOMEM;
	}
	*ret_claims = claims;
	return 0;
}

const struct attest_verifier attest_verifier_tdx = {
	.tee = TEE,
	.verify = verify_tdx,
};
