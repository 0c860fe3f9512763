// SPDX-License-Identifier: GPL-2.0-only
/*
 * Evidence collection against real parts: a private swtpm for `tpm`, a fake
 * configfs-tsm tree (outblob a FIFO fed by a "kernel" child) for `tdx`.
 */
#include "tests/harness.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <tss2/tss2_mu.h>
#include <unistd.h>

#include "attest/evidence.h"
#include "attest/snp.h"
#include "attest/tpm.h"
#include "lib/base64.h"
#include "lib/fd.h"
#include "tests/swtpm.h"

static void fill_binding(uint8_t b[ATTEST_BINDING_LEN], uint8_t seed)
{
	for (int i = 0; i < ATTEST_BINDING_LEN; i++)
		b[i] = (uint8_t)(seed + i * 7);
}

static uint8_t *b64_field(json_t *obj, const char *key, size_t *len)
{
	const char *s = json_string_value(json_object_get(obj, key));
	uint8_t *out;

	if (!s || b64_decode(s, strlen(s), &out, len) < 0)
		return NULL;
	return out;
}

TEST(sample_evidence_verifies_with_the_sample_verifier)
{
	uint8_t binding[ATTEST_BINDING_LEN];
	json_t *ev = NULL, *claims = NULL;

	fill_binding(binding, 1);
	ASSERT_EQ(0, attest_evidence_collect("sample", binding, NULL, &ev, NULL, 0));
	ASSERT_EQ(0, attest_verify("sample", ev, binding, NULL, &claims, NULL, 0));
	json_decref(claims);
	binding[0] ^= 1;
	EXPECT_EQ(-EPERM, attest_verify("sample", ev, binding, NULL, &claims, NULL, 0));
	json_decref(ev);
}

TEST(unknown_tee_has_no_collector_and_no_fallback)
{
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };
	json_t *ev = NULL;
	char err[128];

	EXPECT_EQ(-EOPNOTSUPP, attest_evidence_collect("sgx", binding, NULL, &ev, err, sizeof(err)));
	EXPECT_STREQ("no evidence collector for TEE 'sgx'", err);
	EXPECT_NULL(ev);
}

FIXTURE(tpm) {
	struct test_swtpm sw;
};

FIXTURE_SETUP(tpm)
{
	int r = test_swtpm_start(&self->sw);

	if (r == -ENOENT)
		SKIP("swtpm is not installed");
	ASSERT_EQ(0, r);
}

FIXTURE_TEARDOWN(tpm)
{
	test_swtpm_stop(&self->sw);
}

TEST_F(tpm, pcr_extend_matches_host_computation)
{
	uint8_t pcrs[TPM_PCR_COUNT][TPM_SHA256_LEN], d[32], buf[64], want[32];
	struct tpm *t;
	unsigned int n;

	ASSERT_EQ(0, tpm_open(self->sw.tcti, &t));
	memset(d, 0xab, sizeof(d));
	ASSERT_EQ(0, tpm_pcr_extend(t, 23, d));
	ASSERT_EQ(0, tpm_pcr_read(t, pcrs));
	tpm_close(t);
	/* PCR23 starts at zero: new = SHA-256(0^32 || d). */
	memset(buf, 0, 32);
	memcpy(buf + 32, d, 32);
	ASSERT_EQ(1, EVP_Digest(buf, 64, want, &n, EVP_sha256(), NULL));
	EXPECT_MEMEQ(want, pcrs[23], 32);
	EXPECT_EQ(-EINVAL, tpm_open(self->sw.tcti, &t) ?: tpm_pcr_extend(t, 24, d));
	tpm_close(t);
}

static void verify_tpm_evidence(json_t *ev, const uint8_t binding[ATTEST_BINDING_LEN],
				const char *tcti)
{
	json_t *q = json_object_get(ev, "tpm_quote"), *pcrs;
	size_t msg_len, sig_len, spki_len, off = 0;
	uint8_t *msg, *sig, *spki, concat[TPM_PCR_COUNT * 32], digest[32];
	const unsigned char *p;
	TPMS_ATTEST attest;
	TPMT_SIGNATURE tsig;
	EVP_PKEY *pk;
	EVP_MD_CTX *md;
	unsigned int n;

	(void)tcti;
	ASSERT_NONNULL(q);
	msg = b64_field(q, "message", &msg_len);
	sig = b64_field(q, "signature", &sig_len);
	spki = b64_field(ev, "ak_public", &spki_len);
	ASSERT_NONNULL(msg);
	ASSERT_NONNULL(sig);
	ASSERT_NONNULL(spki);
	pcrs = json_object_get(q, "pcrs");
	ASSERT_EQ(TPM_PCR_COUNT, json_array_size(pcrs));

	ASSERT_EQ(TSS2_RC_SUCCESS, Tss2_MU_TPMS_ATTEST_Unmarshal(msg, msg_len, &off, &attest));
	EXPECT_EQ(msg_len, off);
	EXPECT_EQ(TPM2_GENERATED_VALUE, attest.magic);
	EXPECT_EQ(TPM2_ST_ATTEST_QUOTE, attest.type);
	/* extraData carries the first 32 bytes of the binding. */
	ASSERT_EQ(32, attest.extraData.size);
	EXPECT_MEMEQ(binding, attest.extraData.buffer, 32);
	/* The quoted PCR digest is SHA-256 over the PCR values sent. */
	for (int i = 0; i < TPM_PCR_COUNT; i++) {
		const char *hex = json_string_value(json_array_get(pcrs, i));

		ASSERT_NONNULL(hex);
		ASSERT_EQ(64, strlen(hex));
		for (int j = 0; j < 32; j++)
			ASSERT_EQ(1, sscanf(hex + 2 * j, "%2hhx", &concat[i * 32 + j]));
	}
	ASSERT_EQ(1, EVP_Digest(concat, sizeof(concat), digest, &n, EVP_sha256(), NULL));
	ASSERT_EQ(32, attest.attested.quote.pcrDigest.size);
	EXPECT_MEMEQ(digest, attest.attested.quote.pcrDigest.buffer, 32);

	/* The signature verifies under the AK sent with it. */
	off = 0;
	ASSERT_EQ(TSS2_RC_SUCCESS, Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig, sig_len, &off, &tsig));
	ASSERT_EQ(TPM2_ALG_RSASSA, tsig.sigAlg);
	p = spki;
	pk = d2i_PUBKEY(NULL, &p, spki_len);
	ASSERT_NONNULL(pk);
	md = EVP_MD_CTX_new();
	ASSERT_EQ(1, EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk));
	EXPECT_EQ(1, EVP_DigestVerify(md, tsig.signature.rsassa.sig.buffer,
				      tsig.signature.rsassa.sig.size, msg, msg_len));
	/* A changed message does not verify. */
	msg[msg_len - 1] ^= 1;
	EXPECT_NE(1, EVP_DigestVerify(md, tsig.signature.rsassa.sig.buffer,
				      tsig.signature.rsassa.sig.size, msg, msg_len));
	msg[msg_len - 1] ^= 1;
	EVP_MD_CTX_free(md);

	/* And tpm2-tools' own checker agrees, as an independent implementation. */
	if (system("command -v tpm2_checkquote >/dev/null 2>&1") == 0) {
		char dir[] = "/tmp/veil-quote-XXXXXX", cmd[1024], path[256], nonce[65];
		FILE *f;

		ASSERT_NONNULL(mkdtemp(dir));
		snprintf(path, sizeof(path), "%s/ak.pem", dir);
		f = fopen(path, "w");
		ASSERT_NONNULL(f);
		ASSERT_EQ(1, PEM_write_PUBKEY(f, pk));
		fclose(f);
		snprintf(path, sizeof(path), "%s/msg", dir);
		ASSERT_EQ(0, fd_write_file_atomic(path, msg, msg_len, 0600));
		snprintf(path, sizeof(path), "%s/sig", dir);
		ASSERT_EQ(0, fd_write_file_atomic(path, sig, sig_len, 0600));
		for (int i = 0; i < 32; i++)
			snprintf(nonce + 2 * i, 3, "%02x", binding[i]);
		snprintf(cmd, sizeof(cmd),
			 "cd %s && tpm2_checkquote -u ak.pem -m msg -s sig -g sha256 -q %s >/dev/null 2>&1",
			 dir, nonce);
		EXPECT_EQ(0, system(cmd));
		nonce[0] = nonce[0] == '0' ? '1' : '0';
		snprintf(cmd, sizeof(cmd),
			 "cd %s && tpm2_checkquote -u ak.pem -m msg -s sig -g sha256 -q %s >/dev/null 2>&1",
			 dir, nonce);
		EXPECT_NE(0, system(cmd));
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		EXPECT_EQ(0, system(cmd));
	} else {
		TH_LOG("tpm2_checkquote not installed: independent check not run");
	}
	EVP_PKEY_free(pk);
	free(msg);
	free(sig);
	free(spki);
}

TEST_F_TIMEOUT(tpm, quote_binds_nonce_and_pcrs_and_verifies, 120)
{
	uint8_t binding[ATTEST_BINDING_LEN];
	struct attest_evidence_opts opts = { .tpm_tcti = self->sw.tcti };
	json_t *ev = NULL;
	char err[256] = "";

	fill_binding(binding, 9);
	ASSERT_EQ(0, attest_evidence_collect("tpm", binding, &opts, &ev, err, sizeof(err)));
	verify_tpm_evidence(ev, binding, self->sw.tcti);
	json_decref(ev);
}

TEST_F_TIMEOUT(tpm, second_quote_reuses_the_persistent_ak, 120)
{
	uint8_t binding[ATTEST_BINDING_LEN];
	struct attest_evidence_opts opts = { .tpm_tcti = self->sw.tcti };
	json_t *a = NULL, *b = NULL;

	fill_binding(binding, 3);
	ASSERT_EQ(0, attest_evidence_collect("tpm", binding, &opts, &a, NULL, 0));
	ASSERT_EQ(0, attest_evidence_collect("tpm", binding, &opts, &b, NULL, 0));
	EXPECT_STREQ(json_string_value(json_object_get(a, "ak_public")),
		     json_string_value(json_object_get(b, "ak_public")));
	json_decref(a);
	json_decref(b);
}

TEST(tpm_that_is_not_there_is_a_clear_error)
{
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };
	struct attest_evidence_opts opts = { .tpm_tcti = "swtpm:host=127.0.0.1,port=1" };
	json_t *ev = NULL;
	char err[256] = "";

	EXPECT_GT(0, attest_evidence_collect("tpm", binding, &opts, &ev, err, sizeof(err)));
	EXPECT_NONNULL(strstr(err, "cannot open TPM 'swtpm:host=127.0.0.1,port=1'"));
	EXPECT_NULL(ev);
}

/*
 * A fake configfs-tsm entry: provider and generation files, outblob a FIFO.
 * The "kernel" child blocks opening the FIFO until the collector reads it,
 * then answers with a report carrying inblob at `rd_off`.
 */
static pid_t fake_tsm(const char *root, const char *provider, size_t report_len, size_t rd_off,
		      bool racing_writer)
{
	char path[600], dir[512];
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/veil-test", root);
	if (mkdir(dir, 0700) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/provider", dir);
	fd_write_file_atomic(path, provider, strlen(provider), 0644);
	snprintf(path, sizeof(path), "%s/generation", dir);
	fd_write_file_atomic(path, "1\n", 2, 0644);
	snprintf(path, sizeof(path), "%s/inblob", dir);
	fd_write_file_atomic(path, "", 0, 0644);
	snprintf(path, sizeof(path), "%s/outblob", dir);
	if (mkfifo(path, 0600) < 0)
		return -1;
	pid = fork();
	if (pid != 0)
		return pid;
	{
		uint8_t report[8192] = { 0 }, in[64];
		char p[600];
		int fd;

		snprintf(p, sizeof(p), "%s/outblob", dir);
		fd = open(p, O_WRONLY | O_CLOEXEC);	/* waits for the reader */
		snprintf(p, sizeof(p), "%s/inblob", dir);
		int in_fd = open(p, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || in_fd < 0 || read(in_fd, in, 64) != 64)
			_exit(1);
		memset(report, 0x5a, report_len);
		memcpy(report + rd_off, in, 64);
		/* Another inblob writer would move the generation on. */
		snprintf(p, sizeof(p), "%s/generation", dir);
		if (racing_writer)
			fd_write_file_atomic(p, "3\n", 2, 0644);
		(void)!write(fd, report, report_len);
		_exit(0);
	}
}

TEST(tdx_quote_comes_from_configfs_tsm_with_binding_in_reportdata)
{
	char root[] = "/tmp/veil-tsm-XXXXXX", cmd[128];
	uint8_t binding[ATTEST_BINDING_LEN], *quote;
	struct attest_evidence_opts opts = { .tsm_entry = "veil-test" };
	json_t *ev = NULL;
	size_t len;
	int st;
	pid_t kernel;

	ASSERT_NONNULL(mkdtemp(root));
	opts.tsm_root = root;
	kernel = fake_tsm(root, "tdx_guest\n", 5000, 568, false);
	ASSERT_GT(kernel, 0);
	fill_binding(binding, 5);
	ASSERT_EQ(0, attest_evidence_collect("tdx", binding, &opts, &ev, NULL, 0));
	waitpid(kernel, &st, 0);
	quote = b64_field(ev, "quote", &len);
	ASSERT_NONNULL(quote);
	ASSERT_EQ(5000, len);
	EXPECT_MEMEQ(binding, quote + 568, ATTEST_BINDING_LEN);
	for (int i = 0; i < 16; i++)
		EXPECT_EQ(0, quote[568 + ATTEST_BINDING_LEN + i]);
	EXPECT_TRUE(json_is_null(json_object_get(ev, "cc_eventlog")));
	free(quote);
	json_decref(ev);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	EXPECT_EQ(0, system(cmd));
}

TEST(tsm_refuses_other_provider_and_a_racing_writer)
{
	char root[] = "/tmp/veil-tsm-XXXXXX", cmd[128];
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };
	struct attest_evidence_opts opts = { .tsm_entry = "veil-test" };
	json_t *ev = NULL;
	char err[256];
	pid_t kernel;

	ASSERT_NONNULL(mkdtemp(root));
	opts.tsm_root = root;
	kernel = fake_tsm(root, "sev_guest\n", 1184, 0x50, false);
	ASSERT_GT(kernel, 0);
	EXPECT_EQ(-EOPNOTSUPP, attest_evidence_collect("tdx", binding, &opts, &ev, err, sizeof(err)));
	kill(kernel, SIGKILL);
	waitpid(kernel, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s/veil-test", root);
	ASSERT_EQ(0, system(cmd));

	/* The generation moves after our own write: someone else wrote inblob. */
	kernel = fake_tsm(root, "tdx_guest\n", 5000, 568, true);
	ASSERT_GT(kernel, 0);
	EXPECT_EQ(-EBUSY, attest_evidence_collect("tdx", binding, &opts, &ev, err, sizeof(err)));
	waitpid(kernel, NULL, 0);
	EXPECT_NULL(ev);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	EXPECT_EQ(0, system(cmd));
}

TEST(missing_configfs_tsm_is_enodev)
{
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };
	struct attest_evidence_opts opts = { .tsm_root = "/nonexistent/tsm/report" };
	json_t *ev = NULL;

	EXPECT_EQ(-ENODEV, attest_evidence_collect("tdx", binding, &opts, &ev, NULL, 0));
}

static void hex2bin(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

/* sample/initdata-vectors.json, case sha256: PCR8 after one extend. */
TEST_F(tpm, initdata_digest_lands_in_pcr8_as_peer_pods_do)
{
	uint8_t digest[32], want[32], pcrs[TPM_PCR_COUNT][TPM_SHA256_LEN];
	struct attest_evidence_opts opts = { .tpm_tcti = self->sw.tcti };
	struct tpm *t;

	hex2bin("2765b31f35243636a195a8acc595b86d69223c25bcff9ebb6f7a4e0c340df6b4", digest, 32);
	hex2bin("0f1564a86080d039539dbe4ec1cc941d5ceab54385111ec9c34b7a0f7b313aba", want, 32);
	ASSERT_EQ(0, attest_initdata_bind("tpm", digest, 32, &opts, NULL, 0));
	ASSERT_EQ(0, tpm_open(self->sw.tcti, &t));
	ASSERT_EQ(0, tpm_pcr_read(t, pcrs));
	tpm_close(t);
	EXPECT_MEMEQ(want, pcrs[8], 32);
}

/* sha384 initdata: the first 32 bytes, the vector's peer-pod PCR8. */
TEST_F(tpm, sha384_initdata_extends_its_first_32_bytes)
{
	uint8_t digest[48], want[32], pcrs[TPM_PCR_COUNT][TPM_SHA256_LEN];
	struct attest_evidence_opts opts = { .tpm_tcti = self->sw.tcti };
	struct tpm *t;

	hex2bin("e6abf188a5ea43a380637ad2cd26cf490551371712a61e4a23279c2aef9dfc9e593855d01130188daa603a61767ac549",
		digest, 48);
	hex2bin("18de5de6fbb197e45cea26d2783f8f4a8efeaacdf06817a14221ef2aa317ba1f", want, 32);
	ASSERT_EQ(0, attest_initdata_bind("tpm", digest, 48, &opts, NULL, 0));
	ASSERT_EQ(0, tpm_open(self->sw.tcti, &t));
	ASSERT_EQ(0, tpm_pcr_read(t, pcrs));
	tpm_close(t);
	EXPECT_MEMEQ(want, pcrs[8], 32);
}

TEST(snp_initdata_is_checked_against_host_data)
{
	char root[] = "/tmp/veil-tsm-XXXXXX", cmd[128], err[256];
	struct attest_evidence_opts opts = { .tsm_entry = "veil-test" };
	uint8_t digest[32];
	pid_t kernel;

	ASSERT_NONNULL(mkdtemp(root));
	opts.tsm_root = root;
	/* The fake report is 0x5a everywhere but inblob: HOST_DATA is 0x5a x 32. */
	memset(digest, 0x5a, sizeof(digest));
	kernel = fake_tsm(root, "sev_guest\n", SNP_REPORT_LEN, SNP_REPORT_DATA_OFF, false);
	ASSERT_GT(kernel, 0);
	EXPECT_EQ(0, attest_initdata_bind("snp", digest, 32, &opts, err, sizeof(err)));
	waitpid(kernel, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s/veil-test", root);
	ASSERT_EQ(0, system(cmd));
	digest[31] ^= 1;
	kernel = fake_tsm(root, "sev_guest\n", SNP_REPORT_LEN, SNP_REPORT_DATA_OFF, false);
	ASSERT_GT(kernel, 0);
	EXPECT_EQ(-EPERM, attest_initdata_bind("snp", digest, 32, &opts, err, sizeof(err)));
	EXPECT_STREQ("initdata digest does not match the snp launch value", err);
	waitpid(kernel, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	EXPECT_EQ(0, system(cmd));
}

TEST(snp_report_round_trips_through_trustees_json_form)
{
	char path[512];
	uint8_t back[ATTEST_SNP_REPORT_LEN], *raw;
	char msg[200];
	json_t *j = NULL;
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/attest/vectors/snp/trustee-test-report.bin",
		 harness_srcdir());
	ASSERT_EQ(0, fd_read_file(path, 1 << 20, (char **)&raw, &n));
	ASSERT_EQ(ATTEST_SNP_REPORT_LEN, n);
	ASSERT_EQ(0, attest_snp_to_json(raw, &j));
	ASSERT_EQ(0, attest_snp_from_json(j, back, msg, sizeof(msg)));
	EXPECT_MEMEQ(raw, back, ATTEST_SNP_REPORT_LEN);
	json_decref(j);
	free(raw);
}

TEST(snp_evidence_comes_from_configfs_tsm_with_binding_in_report_data)
{
	char root[] = "/tmp/veil-tsm-XXXXXX", cmd[128], msg[200];
	uint8_t binding[ATTEST_BINDING_LEN], raw[ATTEST_SNP_REPORT_LEN];
	struct attest_evidence_opts opts = { .tsm_entry = "veil-test" };
	json_t *ev = NULL;
	pid_t kernel;

	ASSERT_NONNULL(mkdtemp(root));
	opts.tsm_root = root;
	kernel = fake_tsm(root, "sev_guest\n", SNP_REPORT_LEN, SNP_REPORT_DATA_OFF, false);
	ASSERT_GT(kernel, 0);
	fill_binding(binding, 7);
	ASSERT_EQ(0, attest_evidence_collect("snp", binding, &opts, &ev, msg, sizeof(msg)));
	waitpid(kernel, NULL, 0);
	EXPECT_TRUE(json_is_null(json_object_get(ev, "cert_chain")));
	ASSERT_EQ(0, attest_snp_from_json(json_object_get(ev, "attestation_report"), raw, msg,
					  sizeof(msg)));
	EXPECT_MEMEQ(binding, raw + SNP_REPORT_DATA_OFF, ATTEST_BINDING_LEN);
	for (int i = 0; i < 16; i++)
		EXPECT_EQ(0, raw[SNP_REPORT_DATA_OFF + ATTEST_BINDING_LEN + i]);
	json_decref(ev);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	EXPECT_EQ(0, system(cmd));
}
