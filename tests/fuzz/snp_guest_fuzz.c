// SPDX-License-Identifier: GPL-2.0-only
/*
 * The judge of an SNP_GET_REPORT answer on arbitrary input: bytes 0-7 are
 * exitinfo2, byte 8 the ioctl's errno (0-255), the rest the driver's
 * response buffer. Nothing may crash; an accepted answer must carry exactly
 * the report data asked for.
 */
#include <stdlib.h>
#include <string.h>

#include "attest/evidence.h"
#include "attest/snp_guest.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	uint8_t rd[64], rep[ATTEST_SNP_REPORT_LEN];
	uint64_t exitinfo2 = 0;
	char err[256];

	if (size < 9)
		return 0;
	for (int i = 0; i < 8; i++)
		exitinfo2 |= (uint64_t)data[i] << (8 * i);
	for (int i = 0; i < 64; i++)
		rd[i] = (uint8_t)i;
	if (attest_snp_guest_parse(data[8], exitinfo2, data + 9, size - 9, rd, rep, err,
				   sizeof(err)) == 0 &&
	    memcmp(rep + SNP_REPORT_DATA_OFF, rd, 64) != 0)
		abort();
	return 0;
}
