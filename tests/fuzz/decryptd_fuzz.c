// SPDX-License-Identifier: GPL-2.0-only
/* veil-decryptd's frames: the server's request parser, the client's reply parser. */
#include <stdlib.h>
#include <string.h>

#include "fhe/decryptd.h"
#include "lib/frame.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct decryptd_request req;
	struct decryptd_reply rep;
	char msg[DECRYPTD_MSG_MAX + 1];
	const uint8_t *payload;
	size_t plen, n;
	double y[8];
	int r;

	r = frame_parse(data, size, DECRYPTD_REQ_MAX, &payload, &plen);
	if (r > 0 && decryptd_parse_request(payload, plen, &req, msg) == 0 &&
	    req.op == DECRYPTD_OP_DECRYPT) {
		size_t sum = 0;

		for (unsigned int i = 0; i < req.n_ct; i++)
			sum += req.ct[i][0] + req.ct[i][req.ct_len[i] - 1];
		(void)sum;
	}
	decryptd_parse_request(data, size, &req, msg);
	if (decryptd_parse_reply(data, size, &rep) == 0)
		decryptd_reply_outputs(&rep, y, 8, &n);
	return 0;
}
