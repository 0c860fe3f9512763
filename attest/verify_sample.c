// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `sample` TEE: no hardware, evidence {"svn":"1","report_data":"<b64 std
 * of the 48-byte binding>"}. It proves nothing about the platform; policies
 * must name it explicitly to release anything to it.
 */
#include "attest/verifier.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/json.h"

static int verify_sample(const json_t *evidence, const uint8_t binding[ATTEST_BINDING_LEN],
			 const struct attest_verify_opts *opts, json_t **ret_claims, char *err,
			 size_t err_len)
{
	static const char *const keys[] = { "svn", "report_data", "init_data", NULL };
	const char *svn, *rd;
	struct vjson_err e;
	uint8_t *raw;
	size_t n;
	json_t *claims;
	int r;

	(void)opts;
	if (vjson_check_keys(evidence, "primary_evidence", keys, &e) < 0 ||
	    vjson_get_string(evidence, "primary_evidence", "svn", 64, &svn, &e) < 0 ||
	    vjson_get_string(evidence, "primary_evidence", "report_data", 128, &rd, &e) < 0) {
		if (err)
			snprintf(err, err_len, "sample evidence: %s", e.msg);
		return -EBADMSG;
	}
	r = b64_decode(rd, strlen(rd), &raw, &n);
	if (r < 0) {
		if (err)
			snprintf(err, err_len, "sample evidence: report_data is not base64");
		return -EBADMSG;
	}
	r = n == ATTEST_BINDING_LEN && memcmp(raw, binding, n) == 0 ? 0 : -EPERM;
	free(raw);
	if (r < 0) {
		if (err)
			snprintf(err, err_len, "sample evidence: report_data does not match the binding");
		return r;
	}
	claims = json_pack("{s:s, s:s, s:{s:i, s:i}, s:b, s:s}", "svn", svn, "launch_digest", "abcde",
			   "platform_version", "major", 1, "minor", 4, "debug", 0, "report_data", rd);
	if (!claims)
		return -ENOMEM;
	*ret_claims = claims;
	return 0;
}

const struct attest_verifier attest_verifier_sample = {
	.tee = "sample",
	.verify = verify_sample,
};
