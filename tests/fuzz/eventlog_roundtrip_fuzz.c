// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writer/reader round trip of the events veil-init records: whatever
 * operation and content the encoder accepts must parse back to exactly
 * "github.com/veil <operation> <content>" and replay to the extend of its
 * digest.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "attest/eventlog.h"
#include "launcher/record.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char op[64], *content, *text;
	struct eventlog_record r;
	uint8_t *buf, pcr[EVENTLOG_DIGEST_MAX], want[64] = { 0 };
	size_t len, n_op, tl;
	const unsigned char *sep = memchr(data, '|', size);

	if (!sep)
		return 0;
	n_op = (size_t)(sep - data);
	if (n_op >= sizeof(op) || memchr(data, 0, size))
		return 0;
	memcpy(op, data, n_op);
	op[n_op] = '\0';
	content = strndup((const char *)sep + 1, size - n_op - 1);
	if (!content)
		return 0;
	if (eventlog_aael_encode(RECORD_PCR, EVENTLOG_ALG_SHA256, RECORD_DOMAIN, op, content, &buf,
				 &len) < 0) {
		free(content);
		return 0;
	}
	if (eventlog_parse_record(buf, len, &r) != (int)len || r.reg != RECORD_PCR || !r.text)
		__builtin_trap();
	tl = strlen(RECORD_DOMAIN) + 1 + strlen(op) + 1 + strlen(content);
	text = malloc(tl + 1);
	if (!text)
		__builtin_trap();
	sprintf(text, "%s %s %s", RECORD_DOMAIN, op, content);
	if (r.text_len != tl || memcmp(r.text, text, tl) != 0)
		__builtin_trap();
	if (eventlog_replay(buf, len, RECORD_PCR, EVENTLOG_ALG_SHA256, pcr) != 1)
		__builtin_trap();
	memcpy(want + 32, r.digest, 32);
	EVP_Digest(want, 64, want, NULL, EVP_sha256(), NULL);
	if (memcmp(want, pcr, 32) != 0)
		__builtin_trap();
	free(text);
	free(buf);
	free(content);
	return 0;
}
