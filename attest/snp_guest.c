// SPDX-License-Identifier: GPL-2.0-only
#include "attest/snp_guest.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "attest/evidence.h"
#include "lib/cleanup.h"
#include "lib/errbuf.h"

#define RSP_STATUS_INVALID_PARAM 0x16
#define RSP_STATUS_INVALID_KEY 0x27
#define BUSY_TRIES 3

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int attest_snp_guest_request(const uint8_t report_data[64], uint32_t vmpl,
			     struct snp_report_req *ret_req)
{
	if (vmpl > 3)
		return -EINVAL;
	memset(ret_req, 0, sizeof(*ret_req));
	memcpy(ret_req->user_data, report_data, sizeof(ret_req->user_data));
	ret_req->vmpl = vmpl;
	return 0;
}

static const char *status_name(uint32_t s)
{
	switch (s) {
	case RSP_STATUS_INVALID_PARAM:
		return " (INVALID_PARAM)";
	case RSP_STATUS_INVALID_KEY:
		return " (INVALID_KEY)";
	default:
		return "";
	}
}

int attest_snp_guest_parse(int ioctl_errno, uint64_t exitinfo2, const uint8_t *resp, size_t len,
			   const uint8_t report_data[64], uint8_t ret_report[ATTEST_SNP_REPORT_LEN],
			   char *err, size_t err_len)
{
	uint32_t fw_error = (uint32_t)exitinfo2, vmm_error = (uint32_t)(exitinfo2 >> 32);
	uint32_t status, size;

	if (vmm_error == SNP_GUEST_VMM_ERR_BUSY)
		return errbuf_set(err, err_len, -EBUSY, "SNP_GET_REPORT: the host is busy");
	if (vmm_error)
		return errbuf_set(err, err_len, -EPROTO, "SNP_GET_REPORT: VMM error %u%s", vmm_error,
				  vmm_error == SNP_GUEST_VMM_ERR_INVALID_LEN ? " (invalid length)" : "");
	if (fw_error)
		return errbuf_set(err, err_len, -EIO, "SNP_GET_REPORT: firmware error 0x%x", fw_error);
	if (ioctl_errno)
		return errbuf_set(err, err_len, -ioctl_errno, "SNP_GET_REPORT: %s", strerror(ioctl_errno));
	if (!resp || len < SNP_GUEST_RSP_REPORT_OFF)
		return errbuf_set(err, err_len, -EPROTO, "SNP_GET_REPORT: a %zu-byte answer is too short",
				  len);
	if (len > SNP_GUEST_RSP_MAX)
		return errbuf_set(err, err_len, -EPROTO,
				  "SNP_GET_REPORT: a %zu-byte answer is larger than the %zu the ABI has",
				  len, (size_t)SNP_GUEST_RSP_MAX);
	status = le32(resp);
	size = le32(resp + 4);
	if (status)
		return errbuf_set(err, err_len, -EIO, "SNP_GET_REPORT: report status 0x%x%s", status,
				  status_name(status));
	if (size != ATTEST_SNP_REPORT_LEN)
		return errbuf_set(err, err_len, -EPROTO,
				  "SNP_GET_REPORT: report_size %u, expected %u", size,
				  ATTEST_SNP_REPORT_LEN);
	if (len - SNP_GUEST_RSP_REPORT_OFF < size)
		return errbuf_set(err, err_len, -EPROTO,
				  "SNP_GET_REPORT: the answer ends %zu bytes into a %u-byte report",
				  len - SNP_GUEST_RSP_REPORT_OFF, size);
	/* The firmware echoes REPORT_DATA: anything else is not the report we asked for. */
	if (memcmp(resp + SNP_GUEST_RSP_REPORT_OFF + SNP_REPORT_DATA_OFF, report_data, 64) != 0)
		return errbuf_set(err, err_len, -EPROTO,
				  "SNP_GET_REPORT: the report does not carry our report data");
	memcpy(ret_report, resp + SNP_GUEST_RSP_REPORT_OFF, ATTEST_SNP_REPORT_LEN);
	return 0;
}

int attest_snp_guest_report(const char *dev, const uint8_t report_data[64],
			    uint8_t ret_report[ATTEST_SNP_REPORT_LEN], char *err, size_t err_len)
{
	_cleanup_close_ int fd = -1;
	struct snp_report_req req;
	struct snp_report_resp resp;
	int r;

	if (!dev)
		dev = SNP_GUEST_DEV;
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = errno == ENOENT ? -ENODEV : -errno;
		return errbuf_set(err, err_len, r, "cannot open '%s': %s", dev, strerror(errno));
	}
	r = attest_snp_guest_request(report_data, 0, &req);
	if (r < 0)
		return errbuf_set(err, err_len, r, "SNP_GET_REPORT: bad request");
	for (int i = 0;; i++) {
		struct snp_guest_request_ioctl io = {
			.msg_version = SNP_GUEST_MSG_VERSION,
			.req_data = (uint64_t)(uintptr_t)&req,
			.resp_data = (uint64_t)(uintptr_t)&resp,
		};
		int e = 0;

		memset(&resp, 0, sizeof(resp));
		if (ioctl(fd, SNP_GET_REPORT, &io) < 0)
			e = errno;
		r = attest_snp_guest_parse(e, io.exitinfo2, resp.data, sizeof(resp.data), report_data,
					   ret_report, err, err_len);
		if (r != -EBUSY || i + 1 >= BUSY_TRIES)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000000L }, NULL);
	}
	return r;
}
