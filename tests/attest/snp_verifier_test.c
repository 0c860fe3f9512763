// SPDX-License-Identifier: GPL-2.0-only
/* The `snp` verifier against Trustee's real Milan reports, VCEK and VLEK. */
#include "tests/harness.h"

#include <sys/stat.h>

#include "attest/verifier.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "tests/attest/testutil.h"

#define REPORT_LEN 1184

static json_t *byte_array(const uint8_t *p, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(p[i]));
	return a;
}

static json_t *cert_entry(const char *type, const uint8_t *der, size_t n)
{
	return json_pack("{s:s, s:o}", "cert_type", type, "data", byte_array(der, n));
}

/* Evidence with the report in binary (base64) form and the VEK in cert_chain. */
static json_t *evidence_b64(const uint8_t *report, const char *type, const uint8_t *der, size_t n)
{
	char *b64;
	json_t *ev;

	if (b64_encode(report, REPORT_LEN, &b64) < 0)
		return NULL;
	ev = json_pack("{s:s, s:o}", "attestation_report", b64, "cert_chain",
		       der ? json_pack("[o]", cert_entry(type, der, n)) : json_null());
	free(b64);
	return ev;
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The sev crate's serde form, written here independently of attest/snp.c (Milan TCB layout). */
static json_t *tcb_json(const uint8_t *p)
{
	return json_pack("{s:n, s:i, s:i, s:i, s:i}", "fmc", "bootloader", p[0], "tee", p[1], "snp",
			 p[6], "microcode", p[7]);
}

static json_t *report_serde(const uint8_t *r)
{
	json_t *o = json_object();
	bool v3 = le(r, 4) >= 3;

	json_object_set_new(o, "version", json_integer(le(r, 4)));
	json_object_set_new(o, "guest_svn", json_integer(le(r + 4, 4)));
	json_object_set_new(o, "policy", json_integer(le(r + 8, 8)));
	json_object_set_new(o, "family_id", byte_array(r + 0x10, 16));
	json_object_set_new(o, "image_id", byte_array(r + 0x20, 16));
	json_object_set_new(o, "vmpl", json_integer(le(r + 0x30, 4)));
	json_object_set_new(o, "sig_algo", json_integer(le(r + 0x34, 4)));
	json_object_set_new(o, "current_tcb", tcb_json(r + 0x38));
	json_object_set_new(o, "plat_info", json_integer(le(r + 0x40, 8)));
	json_object_set_new(o, "key_info", json_integer(le(r + 0x48, 4)));
	json_object_set_new(o, "report_data", byte_array(r + 0x50, 64));
	json_object_set_new(o, "measurement", byte_array(r + 0x90, 48));
	json_object_set_new(o, "host_data", byte_array(r + 0xC0, 32));
	json_object_set_new(o, "id_key_digest", byte_array(r + 0xE0, 48));
	json_object_set_new(o, "author_key_digest", byte_array(r + 0x110, 48));
	json_object_set_new(o, "report_id", byte_array(r + 0x140, 32));
	json_object_set_new(o, "report_id_ma", byte_array(r + 0x160, 32));
	json_object_set_new(o, "reported_tcb", tcb_json(r + 0x180));
	json_object_set_new(o, "cpuid_fam_id", v3 ? json_integer(r[0x188]) : json_null());
	json_object_set_new(o, "cpuid_mod_id", v3 ? json_integer(r[0x189]) : json_null());
	json_object_set_new(o, "cpuid_step", v3 ? json_integer(r[0x18A]) : json_null());
	json_object_set_new(o, "chip_id", byte_array(r + 0x1A0, 64));
	json_object_set_new(o, "committed_tcb", tcb_json(r + 0x1E0));
	json_object_set_new(o, "current", json_pack("{s:i, s:i, s:i}", "build", r[0x1E8], "minor",
						    r[0x1E9], "major", r[0x1EA]));
	json_object_set_new(o, "committed", json_pack("{s:i, s:i, s:i}", "build", r[0x1EC], "minor",
						      r[0x1ED], "major", r[0x1EE]));
	json_object_set_new(o, "launch_tcb", tcb_json(r + 0x1F0));
	json_object_set_new(o, "launch_mit_vector", json_null());
	json_object_set_new(o, "current_mit_vector", json_null());
	json_object_set_new(o, "signature", json_pack("{s:o, s:o}", "r", byte_array(r + 0x2A0, 72), "s",
						      byte_array(r + 0x2E8, 72)));
	return o;
}

struct vec {
	uint8_t *report, *vcek;
	size_t report_len, vcek_len;
	uint8_t binding[ATTEST_BINDING_LEN];
};

static void load(struct vec *v, const char *report, const char *vek)
{
	v->report = tu_read_vector(report, &v->report_len);
	v->vcek = tu_read_vector(vek, &v->vcek_len);
	ASSERT_NONNULL(v->report);
	ASSERT_NONNULL(v->vcek);
	ASSERT_EQ(REPORT_LEN, v->report_len);
	/* Trustee's vector holds a 32-byte value then zeros: the binding that gives it. */
	memcpy(v->binding, v->report + 0x50, ATTEST_BINDING_LEN);
}

static int verify(const json_t *ev, const uint8_t *binding, const struct attest_verify_opts *o,
		  json_t **claims, char *err)
{
	*claims = NULL;
	return attest_verify("snp", ev, binding, o, claims, err, 256);
}

TEST(accepts_trustee_milan_report_with_its_vcek)
{
	struct vec v;
	json_t *ev, *claims;
	char err[256] = "";

	load(&v, "snp/trustee-test-report.bin", "snp/trustee-test-vcek.der");
	ev = evidence_b64(v.report, "VCEK", v.vcek, v.vcek_len);
	ASSERT_EQ(0, verify(ev, v.binding, NULL, &claims, err));
	EXPECT_EQ(3, json_integer_value(json_object_get(claims, "reported_tcb_bootloader")));
	EXPECT_EQ(0, json_integer_value(json_object_get(claims, "reported_tcb_tee")));
	EXPECT_EQ(8, json_integer_value(json_object_get(claims, "reported_tcb_snp")));
	EXPECT_EQ(115, json_integer_value(json_object_get(claims, "reported_tcb_microcode")));
	EXPECT_EQ(0, json_integer_value(json_object_get(claims, "policy_abi_major")));
	EXPECT_EQ(31, json_integer_value(json_object_get(claims, "policy_abi_minor")));
	EXPECT_TRUE(json_is_true(json_object_get(claims, "policy_smt_allowed")));
	EXPECT_TRUE(json_is_false(json_object_get(claims, "policy_debug_allowed")));
	EXPECT_STREQ(tu_hex(v.report + 0x90, 48), json_string_value(json_object_get(claims, "measurement")));
	EXPECT_STREQ(tu_hex(v.report + 0x1A0, 64), json_string_value(json_object_get(claims, "chip_id")));
	EXPECT_STREQ(tu_hex(v.report + 0xC0, 32), json_string_value(json_object_get(claims, "init_data")));
	EXPECT_STREQ(tu_hex(v.report + 0x50, 64), json_string_value(json_object_get(claims, "report_data")));
	json_decref(claims);
	json_decref(ev);
	free(v.report);
	free(v.vcek);
}

TEST(accepts_the_sev_serde_json_form_of_the_report)
{
	struct vec v;
	json_t *ev, *claims;
	char err[256] = "";

	load(&v, "snp/trustee-test-report.bin", "snp/trustee-test-vcek.der");
	ev = json_pack("{s:o, s:[o]}", "attestation_report", report_serde(v.report), "cert_chain",
		       cert_entry("VCEK", v.vcek, v.vcek_len));
	ASSERT_NONNULL(ev);
	ASSERT_EQ(0, verify(ev, v.binding, NULL, &claims, err));
	EXPECT_EQ(115, json_integer_value(json_object_get(claims, "reported_tcb_microcode")));
	json_decref(claims);
	/* ASK/ARK entries from the host are ignored; only the VCEK entry is used. */
	json_array_insert_new(json_object_get(ev, "cert_chain"), 0,
			      cert_entry("ARK", (const uint8_t *)"junk", 4));
	EXPECT_EQ(0, verify(ev, v.binding, NULL, &claims, err));
	json_decref(claims);
	/* A changed field in the JSON breaks the signature like a changed byte. */
	json_object_set_new(json_object_get(json_object_get(ev, "attestation_report"), "reported_tcb"),
			    "microcode", json_integer(116));
	EXPECT_EQ(-EKEYREJECTED, verify(ev, v.binding, NULL, &claims, err));
	json_decref(ev);
	free(v.report);
	free(v.vcek);
}

TEST(accepts_the_vlek_chain_through_the_asvk_and_enforces_vmpl_0)
{
	struct vec v;
	json_t *ev, *claims;
	char err[256] = "";

	load(&v, "snp/trustee-test-vlek-report.bin", "snp/trustee-test-vlek.der");
	ev = evidence_b64(v.report, "VLEK", v.vcek, v.vcek_len);
	/* Chain, TCB and signature pass; the report is from VMPL 1. */
	EXPECT_EQ(-EPERM, verify(ev, v.binding, NULL, &claims, err));
	EXPECT_STREQ("snp evidence: report is from VMPL 1, not 0", err);
	EXPECT_NULL(claims);
	json_decref(ev);
	/* A VLEK report with the VLEK filed as a VCEK finds no VLEK. */
	ev = evidence_b64(v.report, "VCEK", v.vcek, v.vcek_len);
	EXPECT_EQ(-EKEYREJECTED, verify(ev, v.binding, NULL, &claims, err));
	EXPECT_STREQ("snp evidence: no VLEK for this chip and TCB in the evidence or the cache", err);
	json_decref(ev);
	free(v.report);
	free(v.vcek);
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "we");

	ASSERT_NONNULL(f);
	ASSERT_EQ(n, fwrite(p, 1, n, f));
	ASSERT_EQ(0, fclose(f));
}

TEST(finds_the_vcek_in_the_offline_cache_never_the_network)
{
	char dir[] = "/tmp/veil-snp-XXXXXX", path[512], cmd[600];
	struct attest_verify_opts opts;
	struct vec v;
	json_t *ev, *claims;
	char err[256] = "";

	load(&v, "snp/trustee-test-report.bin", "snp/trustee-test-vcek.der");
	ev = evidence_b64(v.report, NULL, NULL, 0);
	EXPECT_EQ(-EKEYREJECTED, verify(ev, v.binding, NULL, &claims, err));
	EXPECT_STREQ("snp evidence: no VCEK for this chip and TCB in the evidence or the cache", err);
	ASSERT_NONNULL(mkdtemp(dir));
	opts.trust_dir = dir;
	snprintf(path, sizeof(path), "%s/vcek/%s", dir, tu_hex(v.report + 0x1A0, 64));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", path);
	ASSERT_EQ(0, system(cmd));
	/* Trustee's KDS-store name for this TCB. */
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/bl03_tee00_snp08_ucode115_vcek.der");
	write_file(path, v.vcek, v.vcek_len);
	EXPECT_EQ(0, verify(ev, v.binding, &opts, &claims, err));
	json_decref(claims);
	/* The fallback name. */
	snprintf(cmd, sizeof(cmd), "mv %s %s/vcek/%s/vcek.der", path, dir, tu_hex(v.report + 0x1A0, 64));
	ASSERT_EQ(0, system(cmd));
	EXPECT_EQ(0, verify(ev, v.binding, &opts, &claims, err));
	json_decref(claims);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(0, system(cmd));
	json_decref(ev);
	free(v.report);
	free(v.vcek);
}

TEST(rejects_another_binding_and_reports_a_reason)
{
	uint8_t other[ATTEST_BINDING_LEN];
	struct vec v;
	json_t *ev, *claims;
	char err[256] = "";

	load(&v, "snp/trustee-test-report.bin", "snp/trustee-test-vcek.der");
	ev = evidence_b64(v.report, "VCEK", v.vcek, v.vcek_len);
	for (size_t i = 0; i < ATTEST_BINDING_LEN; i += 7) {
		memcpy(other, v.binding, sizeof(other));
		other[i] ^= 0x80;
		EXPECT_EQ(-EPERM, verify(ev, other, NULL, &claims, err));
		EXPECT_STREQ("snp evidence: REPORT_DATA does not match the binding", err);
		EXPECT_NULL(claims);
	}
	json_decref(ev);
	free(v.report);
	free(v.vcek);
}

TEST(rejects_the_invalid_and_foreign_vceks)
{
	static const char *const bad[] = {
		"snp/trustee-test-vcek-invalid-legacy.der",
		"snp/trustee-test-vcek-invalid-new.der",
		"snp/virtee-vcek_turin.der",
		"snp/trustee-test-vlek.der",
	};
	struct vec v;
	char err[256];

	load(&v, "snp/trustee-test-report.bin", "snp/trustee-test-vcek.der");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t n;
		uint8_t *der = tu_read_vector(bad[i], &n);
		json_t *ev = evidence_b64(v.report, "VCEK", der, n), *claims;

		ASSERT_NONNULL(der);
		EXPECT_EQ(-EKEYREJECTED, verify(ev, v.binding, NULL, &claims, err));
		TH_LOG("%s: %s", bad[i], err);
		json_decref(ev);
		free(der);
	}
	free(v.report);
	free(v.vcek);
}

/* Bits of the signed region (0x000-0x29F) and of r and s (0x2A0-0x32F). */
TEST_TIMEOUT(rejects_sampled_single_bit_changes_of_the_report, 120)
{
	struct vec v;
	size_t tried = 0;

	load(&v, "snp/trustee-test-report.bin", "snp/trustee-test-vcek.der");
	for (size_t bit = 0; bit < 0x330 * 8; bit += 23) {
		json_t *ev, *claims;
		char err[256];
		int r;

		v.report[bit / 8] ^= 1u << (bit % 8);
		ev = evidence_b64(v.report, "VCEK", v.vcek, v.vcek_len);
		r = verify(ev, v.binding, NULL, &claims, err);
		if (r != -EKEYREJECTED && r != -EBADMSG)
			TH_LOG("bit %zu: %d (%s)", bit, r, err);
		EXPECT_TRUE(r == -EKEYREJECTED || r == -EBADMSG);
		json_decref(ev);
		v.report[bit / 8] ^= 1u << (bit % 8);
		tried++;
	}
	TH_LOG("%zu report bits tried", tried);
	free(v.report);
	free(v.vcek);
}

TEST_TIMEOUT(rejects_sampled_single_bit_changes_of_the_vcek, 120)
{
	struct vec v;

	load(&v, "snp/trustee-test-report.bin", "snp/trustee-test-vcek.der");
	for (size_t bit = 0; bit < v.vcek_len * 8; bit += 37) {
		json_t *ev, *claims;
		char err[256];
		int r;

		v.vcek[bit / 8] ^= 1u << (bit % 8);
		ev = evidence_b64(v.report, "VCEK", v.vcek, v.vcek_len);
		r = verify(ev, v.binding, NULL, &claims, err);
		if (r != -EKEYREJECTED && r != -EBADMSG)
			TH_LOG("VCEK bit %zu: %d", bit, r);
		EXPECT_TRUE(r == -EKEYREJECTED || r == -EBADMSG);
		json_decref(ev);
		v.vcek[bit / 8] ^= 1u << (bit % 8);
	}
	free(v.report);
	free(v.vcek);
}

/* The AMD certificates, overridden through the trust directory with one bit changed. */
TEST_TIMEOUT(rejects_sampled_single_bit_changes_of_the_ask_and_ark, 120)
{
	char dir[] = "/tmp/veil-snpr-XXXXXX", path[512], cmd[600];
	struct attest_verify_opts opts;
	struct vec v;
	uint8_t *pem;
	size_t pem_len;
	json_t *ev;

	load(&v, "snp/trustee-test-report.bin", "snp/trustee-test-vcek.der");
	ev = evidence_b64(v.report, "VCEK", v.vcek, v.vcek_len);
	pem = tu_read_vector("snp/trustee-milan_ask_ark_asvk.pem", &pem_len);
	ASSERT_NONNULL(pem);
	ASSERT_NONNULL(mkdtemp(dir));
	opts.trust_dir = dir;
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/snp", dir);
	ASSERT_EQ(0, system(cmd));
	snprintf(path, sizeof(path), "%s/snp/milan_ask_ark_asvk.pem", dir);
	/* Unchanged, the override works. */
	write_file(path, pem, pem_len);
	{
		json_t *claims;
		char err[256];

		ASSERT_EQ(0, verify(ev, v.binding, &opts, &claims, err));
		json_decref(claims);
	}
	/* ASK then ARK: the first two PEM blocks; change one bit of their DER through base64. */
	for (int which = 0; which < 2; which++) {
		char *begin = (char *)pem, *end;
		size_t off;
		uint8_t *der;
		size_t der_len;

		for (int k = 0; k <= which; k++) {
			begin = strstr(begin, "-----BEGIN CERTIFICATE-----\n") + 28;
			if (k < which)
				begin = strstr(begin, "-----END");
		}
		end = strstr(begin, "-----END");
		{
			char b64[4096];
			size_t n = 0;

			for (char *p = begin; p < end; p++)
				if (*p != '\n')
					b64[n++] = *p;
			ASSERT_EQ(0, b64_decode(b64, n, &der, &der_len));
		}
		for (size_t bit = 0; bit < der_len * 8; bit += 97) {
			char *enc, *copy = malloc(pem_len + 16);
			size_t hl = (size_t)(begin - (char *)pem);
			json_t *claims;
			char err[256];
			int r;

			der[bit / 8] ^= 1u << (bit % 8);
			ASSERT_GT(b64_encode(der, der_len, &enc), 0);
			/* One line of base64 is valid PEM too. */
			memcpy(copy, pem, hl);
			off = hl;
			memcpy(copy + off, enc, strlen(enc));
			off += strlen(enc);
			copy[off++] = '\n';
			memcpy(copy + off, end, pem_len - (size_t)(end - (char *)pem));
			off += pem_len - (size_t)(end - (char *)pem);
			write_file(path, (uint8_t *)copy, off);
			r = verify(ev, v.binding, &opts, &claims, err);
			if (r != -EKEYREJECTED)
				TH_LOG("%s bit %zu: %d", which ? "ARK" : "ASK", bit, r);
			EXPECT_EQ(-EKEYREJECTED, r);
			der[bit / 8] ^= 1u << (bit % 8);
			free(enc);
			free(copy);
		}
		free(der);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(0, system(cmd));
	json_decref(ev);
	free(pem);
	free(v.report);
	free(v.vcek);
}

TEST(rejects_malformed_evidence_with_a_reason)
{
	struct vec v;
	char err[256];
	json_t *claims, *ev, *rep;

	load(&v, "snp/trustee-test-report.bin", "snp/trustee-test-vcek.der");
	/* Wrong length. */
	{
		char *b64;

		ASSERT_GT(b64_encode(v.report, REPORT_LEN - 1, &b64), 0);
		ev = json_pack("{s:s, s:n}", "attestation_report", b64, "cert_chain");
		free(b64);
		EXPECT_EQ(-EBADMSG, verify(ev, v.binding, NULL, &claims, err));
		EXPECT_STREQ("snp evidence: report is 1183 bytes, not 1184", err);
		json_decref(ev);
	}
	/* Version 6. */
	v.report[0] = 6;
	ev = evidence_b64(v.report, "VCEK", v.vcek, v.vcek_len);
	EXPECT_EQ(-EBADMSG, verify(ev, v.binding, NULL, &claims, err));
	EXPECT_STREQ("snp evidence: report version 6 is not 2-5", err);
	json_decref(ev);
	v.report[0] = 2;
	/* Serde form with a missing field, a byte out of range, a short array. */
	rep = report_serde(v.report);
	json_object_del(rep, "measurement");
	ev = json_pack("{s:o, s:n}", "attestation_report", rep, "cert_chain");
	EXPECT_EQ(-EBADMSG, verify(ev, v.binding, NULL, &claims, err));
	EXPECT_STREQ("snp evidence: 'attestation_report.measurement' must be an array of 48 bytes", err);
	json_decref(ev);
	rep = report_serde(v.report);
	json_array_set_new(json_object_get(rep, "chip_id"), 3, json_integer(256));
	ev = json_pack("{s:o, s:n}", "attestation_report", rep, "cert_chain");
	EXPECT_EQ(-EBADMSG, verify(ev, v.binding, NULL, &claims, err));
	EXPECT_STREQ("snp evidence: 'attestation_report.chip_id[3]' is not a byte", err);
	json_decref(ev);
	/* cert_chain of the wrong shape; unknown member. */
	ev = evidence_b64(v.report, "VCEK", v.vcek, v.vcek_len);
	json_object_set_new(ev, "cert_chain", json_string("x"));
	EXPECT_EQ(-EBADMSG, verify(ev, v.binding, NULL, &claims, err));
	json_object_set_new(ev, "cert_chain", json_null());
	json_object_set_new(ev, "extra", json_true());
	EXPECT_EQ(-EBADMSG, verify(ev, v.binding, NULL, &claims, err));
	json_decref(ev);
	/* A VCEK that is not DER. */
	ev = evidence_b64(v.report, "VCEK", (const uint8_t *)"\x30\x03\x02\x01\x00", 5);
	EXPECT_EQ(-EBADMSG, verify(ev, v.binding, NULL, &claims, err));
	EXPECT_STREQ("snp evidence: the VEK certificate is not DER X.509", err);
	json_decref(ev);
	free(v.report);
	free(v.vcek);
}
