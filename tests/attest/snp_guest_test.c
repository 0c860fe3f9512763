// SPDX-License-Identifier: GPL-2.0-only
/*
 * The /dev/sev-guest path for snp evidence. No SEV-SNP guest here, so the
 * request building and the judging of the firmware's answer are tested as
 * pure functions against answers built from Trustee's recorded report; the
 * ioctl itself runs against a device that is not sev-guest, and against a
 * real one only where it exists (SKIP otherwise).
 */
#include "tests/harness.h"

#include <errno.h>
#include <unistd.h>

#include "attest/evidence.h"
#include "attest/snp.h"
#include "attest/snp_guest.h"
#include "lib/fd.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void report_data(uint8_t rd[64])
{
	for (int i = 0; i < 64; i++)
		rd[i] = (uint8_t)(0xa0 + i);
}

/* A 4000-byte MSG_REPORT_RSP as the driver hands it back: Trustee's report, our REPORT_DATA. */
static void good_response(uint8_t rsp[SNP_GUEST_RSP_MAX])
{
	char path[512];
	uint8_t *raw, rd[64];
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/attest/vectors/snp/trustee-test-report.bin",
		 harness_srcdir());
	ASSERT_EQ(0, fd_read_file(path, 1 << 20, (char **)&raw, &n));
	ASSERT_EQ(ATTEST_SNP_REPORT_LEN, n);
	memset(rsp, 0, SNP_GUEST_RSP_MAX);
	put32(rsp, 0);
	put32(rsp + 4, ATTEST_SNP_REPORT_LEN);
	memcpy(rsp + SNP_GUEST_RSP_REPORT_OFF, raw, n);
	report_data(rd);
	memcpy(rsp + SNP_GUEST_RSP_REPORT_OFF + SNP_REPORT_DATA_OFF, rd, 64);
	free(raw);
}

TEST(request_carries_the_report_data_and_vmpl_with_reserved_bytes_zero)
{
	struct snp_report_req req;
	uint8_t rd[64], zero[28] = { 0 };

	report_data(rd);
	memset(&req, 0x5a, sizeof(req));
	ASSERT_EQ(0, attest_snp_guest_request(rd, 0, &req));
	EXPECT_MEMEQ(rd, req.user_data, 64);
	EXPECT_EQ(0, req.vmpl);
	EXPECT_MEMEQ(zero, req.rsvd, sizeof(zero));
	ASSERT_EQ(0, attest_snp_guest_request(rd, 3, &req));
	EXPECT_EQ(3, req.vmpl);
	EXPECT_EQ(-EINVAL, attest_snp_guest_request(rd, 4, &req));
	/* The ABI's sizes, which the kernel copies blindly. */
	EXPECT_EQ(96, sizeof(struct snp_report_req));
	EXPECT_EQ(4000, sizeof(struct snp_report_resp));
}

TEST(a_good_answer_yields_the_report_in_trustees_json_form)
{
	static uint8_t rsp[SNP_GUEST_RSP_MAX];
	uint8_t rd[64], rep[ATTEST_SNP_REPORT_LEN], back[ATTEST_SNP_REPORT_LEN];
	char err[200] = "";
	json_t *j = NULL;

	good_response(rsp);
	report_data(rd);
	ASSERT_EQ(0, attest_snp_guest_parse(0, 0, rsp, sizeof(rsp), rd, rep, err, sizeof(err)));
	EXPECT_MEMEQ(rsp + SNP_GUEST_RSP_REPORT_OFF, rep, ATTEST_SNP_REPORT_LEN);
	/* The same evidence form as the configfs-tsm path. */
	ASSERT_EQ(0, attest_snp_to_json(rep, &j));
	ASSERT_EQ(0, attest_snp_from_json(j, back, err, sizeof(err)));
	EXPECT_MEMEQ(rep, back, ATTEST_SNP_REPORT_LEN);
	json_decref(j);
	/* Exactly header + report is enough; the driver's full buffer is too. */
	EXPECT_EQ(0, attest_snp_guest_parse(0, 0, rsp, SNP_GUEST_RSP_REPORT_OFF + ATTEST_SNP_REPORT_LEN,
					    rd, rep, err, sizeof(err)));
}

enum mutate { M_NONE, M_STATUS, M_SIZE, M_DATA, M_FF };

static const struct {
	const char *what;
	int ioctl_errno;
	uint64_t exitinfo2;
	enum mutate m;
	uint32_t v;
	size_t len;		/* 0: the full buffer */
	int want;
	const char *msg;
} bad[] = {
	{ "host busy", EIO, (uint64_t)SNP_GUEST_VMM_ERR_BUSY << 32, M_NONE, 0, 0, -EBUSY, "busy" },
	{ "invalid length", EIO, (uint64_t)SNP_GUEST_VMM_ERR_INVALID_LEN << 32, M_NONE, 0, 0, -EPROTO,
	  "VMM error 1 (invalid length)" },
	{ "unknown VMM error", EIO, 7ull << 32, M_NONE, 0, 0, -EPROTO, "VMM error 7" },
	{ "fw_error", EIO, 0x16, M_NONE, 0, 0, -EIO, "firmware error 0x16" },
	{ "fw_error without errno", 0, 0x27, M_NONE, 0, 0, -EIO, "firmware error 0x27" },
	{ "ioctl errno", EINVAL, 0, M_NONE, 0, 0, -EINVAL, "Invalid argument" },
	{ "status INVALID_PARAM", 0, 0, M_STATUS, 0x16, 0, -EIO, "status 0x16 (INVALID_PARAM)" },
	{ "status INVALID_KEY", 0, 0, M_STATUS, 0x27, 0, -EIO, "status 0x27 (INVALID_KEY)" },
	{ "report_size small", 0, 0, M_SIZE, 1000, 0, -EPROTO, "report_size 1000, expected 1184" },
	{ "report_size huge", 0, 0, M_SIZE, 0xffffffffu, 0, -EPROTO, "report_size 4294967295" },
	{ "answer shorter than its header", 0, 0, M_NONE, 0, 16, -EPROTO, "16-byte answer is too short" },
	{ "answer cut inside the report", 0, 0, M_NONE, 0, SNP_GUEST_RSP_REPORT_OFF + 100, -EPROTO,
	  "ends 100 bytes into a 1184-byte report" },
	{ "answer larger than the ABI", 0, 0, M_NONE, 0, SNP_GUEST_RSP_MAX + 1, -EPROTO, "larger than" },
	{ "someone else's report data", 0, 0, M_DATA, 0, 0, -EPROTO, "does not carry our report data" },
	{ "garbled", 0, 0, M_FF, 0, 0, -EIO, "status 0xffffffff" },
};

TEST(bad_answers_are_refused_each_with_its_cause)
{
	static uint8_t rsp[SNP_GUEST_RSP_MAX + 1];
	uint8_t rd[64], rep[ATTEST_SNP_REPORT_LEN];

	report_data(rd);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		int r;

		good_response(rsp);
		switch (bad[i].m) {
		case M_STATUS:
			put32(rsp, bad[i].v);
			break;
		case M_SIZE:
			put32(rsp + 4, bad[i].v);
			break;
		case M_DATA:
			rsp[SNP_GUEST_RSP_REPORT_OFF + SNP_REPORT_DATA_OFF + 63] ^= 1;
			break;
		case M_FF:
			memset(rsp, 0xff, sizeof(rsp));
			break;
		default:
			break;
		}
		memset(rep, 0x77, sizeof(rep));
		r = attest_snp_guest_parse(bad[i].ioctl_errno, bad[i].exitinfo2, rsp,
					   bad[i].len ? bad[i].len : SNP_GUEST_RSP_MAX, rd, rep, err,
					   sizeof(err));
		if (r != bad[i].want || !strstr(err, bad[i].msg))
			harness_fail(__FILE__, __LINE__, false, "case '%s': %d '%s', want %d '%s'",
				     bad[i].what, r, err, bad[i].want, bad[i].msg);
		/* Nothing is written on failure. */
		EXPECT_EQ(0x77, rep[0]);
	}
	EXPECT_EQ(-EPROTO, attest_snp_guest_parse(0, 0, NULL, 0, rd, rep, NULL, 0));
}

TEST(without_configfs_tsm_snp_evidence_comes_from_sev_guest_and_names_both_when_absent)
{
	struct attest_evidence_opts opts = { .tsm_root = "/nonexistent/tsm/report",
					     .sev_guest_dev = "/nonexistent/sev-guest" };
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };
	json_t *ev = NULL;
	char err[300] = "";

	EXPECT_EQ(-ENODEV, attest_evidence_collect("snp", binding, &opts, &ev, err, sizeof(err)));
	EXPECT_NULL(ev);
	EXPECT_NONNULL(strstr(err, "no configfs-tsm under '/nonexistent/tsm/report'"));
	EXPECT_NONNULL(strstr(err, "cannot open '/nonexistent/sev-guest'"));
}

TEST(a_device_that_is_not_sev_guest_refuses_the_ioctl)
{
	struct attest_evidence_opts opts = { .tsm_root = "/nonexistent/tsm/report",
					     .sev_guest_dev = "/dev/null" };
	uint8_t binding[ATTEST_BINDING_LEN] = { 0 };
	json_t *ev = NULL;
	char err[300] = "";

	EXPECT_EQ(-ENOTTY, attest_evidence_collect("snp", binding, &opts, &ev, err, sizeof(err)));
	EXPECT_NULL(ev);
	EXPECT_NONNULL(strstr(err, "SNP_GET_REPORT"));
}

TEST(a_real_sev_snp_guest_reports_our_binding_through_sev_guest)
{
	struct attest_evidence_opts opts = { .tsm_root = "/nonexistent/tsm/report" };
	uint8_t binding[ATTEST_BINDING_LEN], raw[ATTEST_SNP_REPORT_LEN];
	json_t *ev = NULL;
	char err[300] = "";

	if (access(SNP_GUEST_DEV, F_OK) != 0)
		SKIP("not an SEV-SNP guest: " SNP_GUEST_DEV " is absent");
	for (int i = 0; i < ATTEST_BINDING_LEN; i++)
		binding[i] = (uint8_t)(i * 7);
	ASSERT_EQ(0, attest_evidence_collect("snp", binding, &opts, &ev, err, sizeof(err)));
	ASSERT_EQ(0, attest_snp_from_json(json_object_get(ev, "attestation_report"), raw, err,
					  sizeof(err)));
	EXPECT_MEMEQ(binding, raw + SNP_REPORT_DATA_OFF, ATTEST_BINDING_LEN);
	json_decref(ev);
}
