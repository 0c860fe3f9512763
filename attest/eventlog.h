/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The runtime event log in CoCo's AAEL form (reference/kbs-protocol.md §4.2):
 * TCG2 crypto-agile records, little-endian,
 *   u32 register, u32 type 0x6 (EV_EVENT_TAG), u32 digest count 1,
 *   u16 alg (0x000B sha256 | 0x000C sha384), digest,
 *   u32 event size, event = { u32 0x4141454C "AAEL", u32 text size, text }
 * where text = "<domain> <operation> <content>" and digest = H(event).
 * veil-init appends one record per measurement before it extends the
 * register; a verifier replays the log and compares with the quoted value.
 */
#ifndef VEIL_ATTEST_EVENTLOG_H
#define VEIL_ATTEST_EVENTLOG_H

#include <stddef.h>
#include <stdint.h>

#define EVENTLOG_EV_EVENT_TAG 0x6u
#define EVENTLOG_AAEL_ID 0x4141454Cu
#define EVENTLOG_ALG_SHA256 0x000Bu
#define EVENTLOG_ALG_SHA384 0x000Cu
#define EVENTLOG_TEXT_MAX 4096u		/* one event's text */
#define EVENTLOG_MAX (16u << 20)	/* a whole log */
#define EVENTLOG_DIGEST_MAX 48u

struct eventlog_record {
	uint32_t reg;			/* PCR or CC-MR index */
	uint32_t type;
	uint16_t alg;
	uint8_t digest[EVENTLOG_DIGEST_MAX];
	size_t digest_len;
	const uint8_t *event;		/* points into the parsed buffer */
	size_t event_len;
	/* Set for AAEL records (type 6, tagged id AAEL), else NULL/0. */
	const char *text;		/* not NUL-terminated */
	size_t text_len;
};

/*
 * Encodes one AAEL record into a malloc'd buffer. domain and operation must be
 * non-empty without whitespace, content without '\n'. 0 or -EINVAL/-ENOMEM.
 */
int eventlog_aael_encode(uint32_t reg, uint16_t alg, const char *domain, const char *operation,
			 const char *content, uint8_t **ret, size_t *ret_len);

/*
 * Parses the record at the start of buf. Returns the bytes it spans, or
 * -EBADMSG for a malformed or truncated record. For AAEL records the digest
 * is checked against the event (-EBADMSG when it does not match).
 */
int eventlog_parse_record(const uint8_t *buf, size_t len, struct eventlog_record *ret);

/*
 * Replays every record of a log for register reg into ret (digest size of
 * alg, starting from zeros). Returns the count of records replayed or
 * -EBADMSG. A record of another register is skipped; a record of reg with
 * another algorithm is -EBADMSG.
 */
int eventlog_replay(const uint8_t *buf, size_t len, uint32_t reg, uint16_t alg,
		    uint8_t ret[EVENTLOG_DIGEST_MAX]);

/*
 * Length of the legacy SHA-1 "Spec ID Event03" header a firmware log (TDX
 * CCEL, TPM BIOS log) starts with, 0 when buf does not start with one.
 * eventlog_replay skips it; callers walking records should too.
 */
size_t eventlog_spec_header_len(const uint8_t *buf, size_t len);

/* Digest size of a TCG algorithm id, 0 if unsupported. */
size_t eventlog_alg_size(uint16_t alg);

#endif
