/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The /dev/sev-guest path to an SEV-SNP attestation report, for kernels
 * without configfs-tsm: the SNP_GET_REPORT ioctl (linux/sev-guest.h). The
 * ioctl is one small function; building the request and judging the answer
 * are pure functions, tested and fuzzed without a guest.
 *
 * The answer is the firmware's MSG_REPORT_RSP (SEV-SNP ABI, table "Report
 * response"): status u32 at 0, report_size u32 at 4, 24 reserved bytes, the
 * report at 0x20.
 */
#ifndef VEIL_ATTEST_SNP_GUEST_H
#define VEIL_ATTEST_SNP_GUEST_H

#include <linux/sev-guest.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/snp.h"

#define SNP_GUEST_DEV "/dev/sev-guest"
#define SNP_GUEST_MSG_VERSION 1
#define SNP_GUEST_RSP_REPORT_OFF 0x20
#define SNP_GUEST_RSP_MAX sizeof(struct snp_report_resp)

/* One request: the report data to bind, at VMPL vmpl (0..3); reserved bytes zero. */
int attest_snp_guest_request(const uint8_t report_data[64], uint32_t vmpl,
			     struct snp_report_req *ret_req);

/*
 * Judges one SNP_GET_REPORT: ioctl_errno (0 when the ioctl returned 0), the
 * exitinfo2 it wrote (firmware error low 32 bits, VMM error high), and the
 * len response bytes. 0 and the report (whose REPORT_DATA must be the
 * report_data asked for); otherwise -EBUSY (the host was busy: retry),
 * -EIO (the firmware refused: fw_error or a non-zero status), -EPROTO (short,
 * oversized or garbled answer), or the ioctl's -errno; err names which.
 */
int attest_snp_guest_parse(int ioctl_errno, uint64_t exitinfo2, const uint8_t *resp, size_t len,
			   const uint8_t report_data[64], uint8_t ret_report[ATTEST_SNP_REPORT_LEN],
			   char *err, size_t err_len);

/* The whole exchange on dev (NULL: SNP_GUEST_DEV); -ENODEV when there is no such device. */
int attest_snp_guest_report(const char *dev, const uint8_t report_data[64],
			    uint8_t ret_report[ATTEST_SNP_REPORT_LEN], char *err, size_t err_len);

#endif
