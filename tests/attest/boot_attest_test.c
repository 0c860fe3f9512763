// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil-init's attestation step against a real veil-kbs over HTTPS on
 * loopback: resources released under policy land in the kernel keyring with
 * veil's permissions; a policy that does not hold releases nothing.
 */
#include "tests/harness.h"

#include <keyutils.h>
#include <unistd.h>

#include "keyring/keyring.h"
#include "launcher/attest.h"
#include "launcher/manifest.h"
#include "attest/evidence.h"
#include "attest/tpm.h"
#include "lib/base64.h"
#include "lib/fd.h"
#include "tests/kbs/kbs_proc.h"
#include "tests/swtpm.h"

static const char model_key[] = "0123456789abcdef0123456789abcdef";

FIXTURE(boot) {
	struct kbs_proc kbs;
	struct test_swtpm sw;
	bool have_sw;
	char trust[64];
};

/* Writes body to a file and runs `veil kbs-admin VERB PATH... FILE`. */
static void put(struct kbs_proc *p, const char *name, const char *body, const char *verb_args)
{
	char file[512];

	snprintf(file, sizeof(file), "%s/%s", p->dir, name);
	if (fd_write_file_atomic(file, body, strlen(body), 0600) < 0 ||
	    kbs_proc_admin(p, "%s %s", verb_args, file) != 0)
		harness_fail(__FILE__, __LINE__, true, "kbs-admin '%s' failed", verb_args);
}

FIXTURE_SETUP(boot)
{
	char extra[128], cmd[160];

	snprintf(self->trust, sizeof(self->trust), "/tmp/veil-trust-XXXXXX");
	ASSERT_NONNULL(mkdtemp(self->trust));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/tpm/ak", self->trust);
	ASSERT_EQ(0, system(cmd));
	snprintf(extra, sizeof(extra), "\"trust_dir\":\"%s\"", self->trust);
	ASSERT_EQ(0, kbs_proc_start(&self->kbs, extra, false));
	put(&self->kbs, "key", model_key, "put-resource veil/keys/model");
	self->have_sw = test_swtpm_start(&self->sw) == 0;
}

FIXTURE_TEARDOWN(boot)
{
	char cmd[160];

	kbs_proc_stop(&self->kbs);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->trust);
	if (system(cmd) != 0)
		TH_LOG("could not remove %s", self->trust);
	if (self->have_sw)
		test_swtpm_stop(&self->sw);
}

static struct manifest *manifest_for(const char *url, const char *ca, const char *tee)
{
	char json[2048];
	struct vjson_err e;
	struct manifest *m = NULL;

	snprintf(json, sizeof(json),
		 "{\"version\":1,\"containers\":[{\"name\":\"c\",\"bundle\":\"/nonexistent\",\"keys\":[\"model\"]}],"
		 "\"kbs\":{\"url\":\"%s\",\"ca\":\"%s\",\"tee\":\"%s\","
		 "\"resources\":[{\"name\":\"model\",\"uri\":\"kbs:///veil/keys/model\"}]},"
		 "\"policy\":{\"lsm\":\"degraded-allowed\"}}",
		 url, ca, tee);
	if (launcher_manifest_parse(json, strlen(json), &m, &e) < 0) {
		TH_LOG("manifest: %s", e.msg);
		return NULL;
	}
	return m;
}

static int read_key(struct keyring *kr, char *buf, size_t n)
{
	key_serial_t k;
	int r = keyring_find(kr, "veil/keys/model", &k);

	if (r < 0)
		return r;
	return keyctl_read(k, buf, n);
}

TEST_F(boot, sample_pod_gets_its_key_into_the_keyring_under_a_sample_policy)
{
	struct launcher_attest_opts o = { .deadline_ms = 10000 };
	struct launcher_attest_stats st;
	struct keyring *kr;
	struct manifest *m;
	char buf[128];

	put(&self->kbs, "policy.json",
	    "{\"version\":1,\"rules\":[{\"name\":\"dev\",\"resources\":[\"veil/keys/*\"],\"tee\":[\"sample\"]}]}",
	    "set-policy");
	m = manifest_for(self->kbs.base, self->kbs.cacert, "sample");
	ASSERT_NONNULL(m);
	ASSERT_EQ(0, keyring_new(&kr));
	ASSERT_EQ(0, launcher_attest(m, &o, kr, &st));
	EXPECT_EQ(1, st.resources);
	ASSERT_EQ((int)strlen(model_key), read_key(kr, buf, sizeof(buf)));
	EXPECT_MEMEQ(model_key, buf, strlen(model_key));
	TH_LOG("attest %.3fs: evidence %.3fs, network %.3fs, jwe %.4fs, keyring %.4fs", st.total_s,
	       st.evidence_s, st.network_s, st.jwe_s, st.keyring_s);
	keyring_revoke_all(kr);
	keyring_free(kr);
	launcher_manifest_free(m);
}

TEST_F(boot, default_deny_policy_releases_nothing_and_fails_closed)
{
	struct launcher_attest_opts o = { .deadline_ms = 5000 };
	struct keyring *kr;
	struct manifest *m;
	char buf[128];

	/* No policy uploaded: default deny, and sample never passes a rule that does not name it. */
	m = manifest_for(self->kbs.base, self->kbs.cacert, "sample");
	ASSERT_NONNULL(m);
	ASSERT_EQ(0, keyring_new(&kr));
	EXPECT_GT(0, launcher_attest(m, &o, kr, NULL));
	EXPECT_EQ(-ENOKEY, read_key(kr, buf, sizeof(buf)));
	EXPECT_EQ(0, keyring_count(kr));
	keyring_free(kr);
	launcher_manifest_free(m);
}

TEST_F_TIMEOUT(boot, tpm_pod_gets_its_key_only_when_pcr23_matches_the_policy, 120)
{
	struct launcher_attest_opts o = { .deadline_ms = 20000 };
	char policy[1024], pcr23[65], buf[128];
	uint8_t d[32], pcrs[24][32];
	struct keyring *kr;
	struct manifest *m;
	struct tpm *t;

	if (!self->have_sw)
		SKIP("swtpm is not installed");
	o.tpm_tcti = self->sw.tcti;
	/* The measured pod: one extend of PCR 23, as veil-init does per container. */
	ASSERT_EQ(0, tpm_open(self->sw.tcti, &t));
	memset(d, 0x23, sizeof(d));
	ASSERT_EQ(0, tpm_pcr_extend(t, 23, d));
	ASSERT_EQ(0, tpm_pcr_read(t, pcrs));
	tpm_close(t);
	for (int i = 0; i < 32; i++)
		snprintf(pcr23 + 2 * i, 3, "%02x", pcrs[23][i]);

	/* The KBS trusts this AK (as an operator registers it) and pins PCR 23. */
	ASSERT_EQ(0, test_swtpm_trust_ak(&self->sw, self->trust));
	snprintf(policy, sizeof(policy),
		 "{\"version\":1,\"rules\":[{\"name\":\"pod\",\"resources\":[\"veil/keys/*\"],"
		 "\"tee\":[\"tpm\"],\"claims\":{\"tpm.pcr23\":\"%s\"}}]}", pcr23);
	put(&self->kbs, "policy.json", policy, "set-policy");
	m = manifest_for(self->kbs.base, self->kbs.cacert, "tpm");
	ASSERT_NONNULL(m);
	ASSERT_EQ(0, keyring_new(&kr));
	ASSERT_EQ(0, launcher_attest(m, &o, kr, NULL));
	ASSERT_EQ((int)strlen(model_key), read_key(kr, buf, sizeof(buf)));
	keyring_revoke_all(kr);
	keyring_free(kr);

	/* One more extend (a changed container): the policy no longer holds. */
	ASSERT_EQ(0, tpm_open(self->sw.tcti, &t));
	ASSERT_EQ(0, tpm_pcr_extend(t, 23, d));
	tpm_close(t);
	ASSERT_EQ(0, keyring_new(&kr));
	EXPECT_GT(0, launcher_attest(m, &o, kr, NULL));
	EXPECT_EQ(0, keyring_count(kr));
	keyring_free(kr);
	launcher_manifest_free(m);
}
