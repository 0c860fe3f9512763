// SPDX-License-Identifier: GPL-2.0-only
/*
 * Runs inside the test-bed guest with a vTPM: extends PCR 23 with a known
 * digest through raw TPM2 commands and prints the value read back, which the
 * host test compares with its own computation.
 */
#include "tests/harness.h"

#include <fcntl.h>
#include <unistd.h>

#include "lib/fd.h"
#include "tests/vm/pcr.h"

static int tpm_open(void)
{
	int fd = open("/dev/tpmrm0", O_RDWR | O_CLOEXEC);

	return fd >= 0 ? fd : open("/dev/tpm0", O_RDWR | O_CLOEXEC);
}

/* Sends cmd, reads the response; the TPM response code, or -1. */
static long tpm_transact(int fd, const uint8_t *cmd, size_t len, uint8_t *rsp, size_t rsp_len)
{
	ssize_t n;

	if (fd_write_full(fd, cmd, len) < 0)
		return -1;
	n = read(fd, rsp, rsp_len);
	if (n < 10)
		return -1;
	return (long)((uint32_t)rsp[6] << 24 | rsp[7] << 16 | rsp[8] << 8 | rsp[9]);
}

static int pcr23_read(int fd, uint8_t out[32])
{
	static const uint8_t cmd[] = { 0x80, 0x01, 0, 0, 0, 0x14, 0, 0, 0x01, 0x7e,
				       0, 0, 0, 1, 0x00, 0x0b, 3, 0x00, 0x00, 0x80 };
	uint8_t rsp[128];

	if (tpm_transact(fd, cmd, sizeof(cmd), rsp, sizeof(rsp)) != 0)
		return -1;
	memcpy(out, rsp + 30, 32);
	return 0;
}

static void hex(const uint8_t *b, char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

TEST(pcr23_extend_reads_back)
{
	uint8_t cmd[65] = { 0x80, 0x02, 0, 0, 0, 65, 0, 0, 0x01, 0x82,	/* PCR_Extend */
			    0, 0, 0, 23,				/* PCR 23 */
			    0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 0, 0, 0,	/* password session */
			    0, 0, 0, 1, 0x00, 0x0b };			/* 1 digest, sha256 */
	uint8_t before[32], after[32], rsp[64], zero[32] = {};
	char h[65];
	int fd = tpm_open();

	if (fd < 0)
		SKIP("no TPM in this guest (run-in-guest --tpm)");
	ASSERT_EQ(0, pcr23_read(fd, before));
	EXPECT_MEMEQ(zero, before, 32);
	memcpy(cmd + 33, PCR_TEST_DIGEST, 32);
	ASSERT_EQ(0, tpm_transact(fd, cmd, sizeof(cmd), rsp, sizeof(rsp)));
	ASSERT_EQ(0, pcr23_read(fd, after));
	hex(after, h);
	printf("# pcr23=%s\n", h);
	EXPECT_NE(0, memcmp(before, after, 32));
	close(fd);
}
