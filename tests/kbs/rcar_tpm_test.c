// SPDX-License-Identifier: GPL-2.0-only
/*
 * RCAR with real TPM evidence: a private swtpm quotes over PCRs with the
 * binding's first 32 bytes as extraData (attest/evidence.c), veil-kbs checks
 * it with the tpm verifier against the AKs in its trust_dir, and the
 * resource policy reads the PCR claims.
 */
#include "tests/harness.h"

#include <sys/stat.h>
#include <unistd.h>

#include "attest/binding.h"
#include "attest/evidence.h"
#include "attest/jwk.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/secmem.h"
#include "tests/kbs/kbs_client.h"
#include "tests/kbs/kbs_proc.h"
#include "tests/swtpm.h"

static const char secret[] = "model key for measured pods";

/* /auth as tpm, evidence from the swtpm bound to nonce and key, /attest; the HTTP status. */
static long attest_tpm(struct kc *c, const struct attest_evidence_opts *eo, EVP_PKEY *k)
{
	uint8_t b[ATTEST_BINDING_LEN];
	char *nonce = NULL, *body, err[256];
	json_t *jwk, *ev = NULL, *o;
	struct kc_resp r;
	long status;

	if (kc_auth(c, "tpm", &nonce) < 0)
		return -1;
	jwk = attest_jwk_from_key(k, NULL);
	if (attest_binding(nonce, jwk, "", b) < 0 ||
	    attest_evidence_collect("tpm", b, eo, &ev, err, sizeof(err)) < 0) {
		fprintf(stdout, "# evidence: %s\n", err);
		return -1;
	}
	o = json_pack("{s:{s:s, s:o}, s:{s:o, s:s}}", "runtime-data", "nonce", nonce, "tee-pubkey", jwk,
		      "tee-evidence", "primary_evidence", ev, "additional_evidence", "");
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(nonce);
	if (kc_request(c, "POST", "/kbs/v0/attest", NULL, body, strlen(body), NULL, &r) < 0)
		status = -1;
	else
		status = r.status;
	kc_resp_done(&r);
	free(body);
	return status;
}

TEST_TIMEOUT(swtpm_evidence_releases_to_a_trusted_ak_under_a_pcr_policy, 240)
{
	struct test_swtpm tpm;
	struct kbs_proc p;
	struct attest_evidence_opts eo = { 0 };
	uint8_t zero[ATTEST_BINDING_LEN] = { 0 }, *ak;
	char trust[] = "/tmp/veil-kbs-trust.XXXXXX", path[512], extra[640], err[256], pol[1024];
	const char *pcr0;
	unsigned char *pt = NULL;
	json_t *ev = NULL;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct kc c;
	size_t n;
	int r;

	if (access("/usr/bin/openssl", X_OK) != 0)
		SKIP("openssl(1) is not installed (scripts/deps installs it)");
	r = test_swtpm_start(&tpm);
	if (r == -ENOENT)
		SKIP("swtpm is not installed (scripts/deps installs it)");
	ASSERT_EQ(0, r);
	eo.tpm_tcti = tpm.tcti;
	/* Provision: the AK the swtpm quotes with goes into veil-kbs's trust_dir. */
	ASSERT_EQ(0, attest_evidence_collect("tpm", zero, &eo, &ev, err, sizeof(err)));
	const char *spki = json_string_value(json_object_get(ev, "ak_public"));
	ASSERT_NONNULL(spki);
	ASSERT_EQ(0, b64_decode(spki, strlen(spki), &ak, &n));
	pcr0 = json_string_value(json_array_get(json_object_get(json_object_get(ev, "tpm_quote"), "pcrs"), 0));
	ASSERT_NONNULL(pcr0);
	ASSERT_NONNULL(mkdtemp(trust));
	snprintf(path, sizeof(path), "%s/tpm", trust);
	ASSERT_EQ(0, mkdir(path, 0700));
	snprintf(path, sizeof(path), "%s/tpm/ak", trust);
	ASSERT_EQ(0, mkdir(path, 0700));
	snprintf(path, sizeof(path), "%s/tpm/ak/swtpm.der", trust);
	ASSERT_EQ(0, fd_write_file_atomic(path, ak, n, 0644));
	free(ak);

	snprintf(extra, sizeof(extra), "\"trust_dir\":\"%s\"", trust);
	ASSERT_EQ(0, kbs_proc_start(&p, extra, false));
	snprintf(pol, sizeof(pol),
		 "{\"version\":1,\"rules\":[{\"name\":\"measured tpm pods\",\"resources\":[\"veil/keys/*\"],"
		 "\"tee\":[\"tpm\"],\"status\":[\"affirming\"],\"claims\":{\"tpm.pcr00\":\"%s\","
		 "\"tpm.pcr23\":{\"present\":true}}},{\"name\":\"never\",\"resources\":[\"veil/locked/*\"],"
		 "\"tee\":[\"tpm\"],\"claims\":{\"tpm.pcr00\":\"%064d\"}}]}", pcr0, 1);
	snprintf(path, sizeof(path), "%s/policy.json", p.dir);
	ASSERT_EQ(0, fd_write_file_atomic(path, pol, strlen(pol), 0600));
	ASSERT_EQ(0, kbs_proc_admin(&p, "set-policy %s", path));
	snprintf(path, sizeof(path), "%s/secret", p.dir);
	ASSERT_EQ(0, fd_write_file_atomic(path, secret, strlen(secret), 0600));
	ASSERT_EQ(0, kbs_proc_admin(&p, "put-resource veil/keys/model %s", path));
	ASSERT_EQ(0, kbs_proc_admin(&p, "put-resource veil/locked/model %s", path));

	ASSERT_EQ(0, kc_init(&c, p.base, p.cacert));
	ASSERT_EQ(200, attest_tpm(&c, &eo, k));
	ASSERT_EQ(0, kc_get_resource(&c, "veil/keys/model", NULL, k, &pt, &n));
	ASSERT_EQ(strlen(secret), n);
	EXPECT_MEMEQ(secret, pt, n);
	secmem_free(pt);
	/* PCR 0 differs from what the rule pins: denied. */
	EXPECT_EQ(-401, kc_get_resource(&c, "veil/locked/model", NULL, k, &pt, &n));

	/* Evidence for another key (a replayed quote) and an untrusted AK both fail. */
	kc_forget_cookies(&c);
	snprintf(path, sizeof(path), "%s/tpm/ak/swtpm.der", trust);
	ASSERT_EQ(0, unlink(path));
	EXPECT_EQ(401, attest_tpm(&c, &eo, k));

	kc_done(&c);
	kbs_proc_stop(&p);
	test_swtpm_stop(&tpm);
	snprintf(path, sizeof(path), "rm -rf '%s'", trust);
	EXPECT_EQ(0, system(path));
	json_decref(ev);
	EVP_PKEY_free(k);
}
