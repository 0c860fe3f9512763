// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <openssl/evp.h>

#include "attest/eventlog.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "tests/attest/testutil.h"

static const char *const ccels[] = {
	"eventlog/trustee-CCEL_AAEL_alibabacloud",
	"eventlog/trustee-CCEL_data_ovmf",
	"eventlog/trustee-CCEL_data_grub",
};

static size_t legacy_header_len(const uint8_t *buf)
{
	return 32 + ((size_t)buf[28] | (size_t)buf[29] << 8 | (size_t)buf[30] << 16);
}

TEST(encodes_and_parses_the_aael_vectors_byte_for_byte)
{
	static const char *const names[] = { "tdx_rtmr3_ccmr4", "vtpm_pcr23" };
	json_t *all = tu_load_json("eventlog/aael-vectors.json");

	ASSERT_NONNULL(all);
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_object_get(all, names[i]);
		const char *dom = json_string_value(json_object_get(v, "domain"));
		const char *op = json_string_value(json_object_get(v, "operation"));
		const char *content = json_string_value(json_object_get(v, "content"));
		uint16_t alg = strcmp(json_string_value(json_object_get(v, "hash")), "sha384") == 0 ?
				       EVENTLOG_ALG_SHA384 : EVENTLOG_ALG_SHA256;
		uint32_t reg = json_integer_value(json_object_get(v, "register_field_in_entry"));
		uint8_t want[1024], reg_val[EVENTLOG_DIGEST_MAX], digest[64], *rec;
		long want_len, dlen;
		struct eventlog_record pr;
		char text[1024];
		size_t len;

		want_len = tu_unhex(json_string_value(json_object_get(v, "tcg2_entry_hex")), want,
				    sizeof(want));
		ASSERT_GT(want_len, 0);
		ASSERT_EQ(0, eventlog_aael_encode(reg, alg, dom, op, content, &rec, &len));
		ASSERT_EQ((size_t)want_len, len);
		EXPECT_MEMEQ(want, rec, len);

		ASSERT_EQ((int)len, eventlog_parse_record(rec, len, &pr));
		EXPECT_EQ(reg, pr.reg);
		EXPECT_EQ(EVENTLOG_EV_EVENT_TAG, pr.type);
		EXPECT_EQ(alg, pr.alg);
		dlen = tu_unhex(json_string_value(json_object_get(v, "event_digest_hex")), digest,
				sizeof(digest));
		ASSERT_EQ((size_t)dlen, pr.digest_len);
		EXPECT_MEMEQ(digest, pr.digest, pr.digest_len);
		snprintf(text, sizeof(text), "%s %s %s", dom, op, content);
		ASSERT_EQ(strlen(text), pr.text_len);
		EXPECT_MEMEQ(text, pr.text, pr.text_len);

		ASSERT_EQ(1, eventlog_replay(rec, len, reg, alg, reg_val));
		dlen = tu_unhex(json_string_value(
					json_object_get(v, "register_value_if_extended_once_from_zero_hex")),
				digest, sizeof(digest));
		EXPECT_MEMEQ(digest, reg_val, (size_t)dlen);
		free(rec);
	}
	json_decref(all);
}

/* Every record of Trustee's CCEL test logs parses to what Trustee's parser printed. */
TEST(parses_trustee_ccel_logs_like_trustee)
{
	for (size_t i = 0; i < ARRAY_SIZE(ccels); i++) {
		char name[256];
		size_t len, off, count = 0, aael = 0;
		uint8_t *log = tu_read_vector(ccels[i], &len);
		json_t *out, *events;

		ASSERT_NONNULL(log);
		snprintf(name, sizeof(name), "%s_out.json", ccels[i]);
		out = tu_load_json(name);
		ASSERT_NONNULL(out);
		events = json_object_get(out, "uefi_event_logs");
		off = legacy_header_len(log);
		while (off + 8 <= len && memcmp(log + off, "\xff\xff\xff\xff\xff\xff\xff\xff", 8) &&
		       memcmp(log + off, "\0\0\0\0\0\0\0\0", 8)) {
			struct eventlog_record r;
			json_t *ev = json_array_get(events, count);
			const char *b64 = json_string_value(json_object_get(ev, "event"));
			uint8_t digest[64], *evb;
			size_t evn;
			int n;

			ASSERT_NONNULL(ev);
			n = eventlog_parse_record(log + off, len - off, &r);
			ASSERT_GT(n, 0);
			EXPECT_EQ(json_integer_value(json_object_get(ev, "index")), r.reg);
			ASSERT_EQ(48, tu_unhex(json_string_value(json_object_get(
						       json_array_get(json_object_get(ev, "digests"), 0),
						       "digest")),
					       digest, sizeof(digest)));
			EXPECT_EQ(EVENTLOG_ALG_SHA384, r.alg);
			EXPECT_MEMEQ(digest, r.digest, 48);
			ASSERT_EQ(0, b64_decode(b64, strlen(b64), &evb, &evn));
			ASSERT_EQ(evn, r.event_len);
			EXPECT_MEMEQ(evb, r.event, evn);
			free(evb);
			if (r.text) {
				const char *s = json_string_value(json_object_get(
					json_object_get(ev, "details"), "string"));

				ASSERT_NONNULL(s);
				ASSERT_EQ(strlen(s), r.text_len);
				EXPECT_MEMEQ(s, r.text, r.text_len);
				aael++;
			}
			off += (size_t)n;
			count++;
		}
		EXPECT_EQ(json_array_size(events), count);
		if (i == 0)
			EXPECT_EQ(2, aael);
		else
			EXPECT_EQ(0, aael);
		json_decref(out);
		free(log);
	}
}

/* Replaying a register equals folding Trustee's listed digests for it. */
TEST(replays_ccel_registers_to_the_fold_of_their_digests)
{
	for (size_t i = 0; i < ARRAY_SIZE(ccels); i++) {
		char name[256];
		size_t len;
		uint8_t *log = tu_read_vector(ccels[i], &len);
		json_t *out, *events;

		ASSERT_NONNULL(log);
		snprintf(name, sizeof(name), "%s_out.json", ccels[i]);
		out = tu_load_json(name);
		ASSERT_NONNULL(out);
		events = json_object_get(out, "uefi_event_logs");
		for (uint32_t reg = 0; reg <= 4; reg++) {
			uint8_t acc[48] = { 0 }, cat[96], got[EVENTLOG_DIGEST_MAX];
			int want = 0;
			size_t k;
			json_t *ev;

			json_array_foreach(events, k, ev) {
				if (json_integer_value(json_object_get(ev, "index")) != reg ||
				    strcmp(json_string_value(json_object_get(ev, "type_name")),
					   "EV_NO_ACTION") == 0)
					continue;
				memcpy(cat, acc, 48);
				ASSERT_EQ(48, tu_unhex(json_string_value(json_object_get(
							       json_array_get(json_object_get(ev, "digests"), 0),
							       "digest")),
						       cat + 48, 48));
				ASSERT_EQ(1, EVP_Digest(cat, 96, acc, NULL, EVP_sha384(), NULL));
				want++;
			}
			ASSERT_EQ(want, eventlog_replay(log, len, reg, EVENTLOG_ALG_SHA384, got));
			EXPECT_MEMEQ(acc, got, 48);
		}
		json_decref(out);
		free(log);
	}
}

TEST(rejects_aael_record_whose_digest_or_text_was_changed)
{
	struct eventlog_record r;
	uint8_t *rec;
	size_t len;

	ASSERT_EQ(0, eventlog_aael_encode(23, EVENTLOG_ALG_SHA256, "github.com/veil", "container",
					  "{\"digest\":\"sha256:00\",\"name\":\"a\"}", &rec, &len));
	for (size_t bit = 0; bit < len * 8; bit++) {
		size_t byte = bit / 8;
		int n;

		rec[byte] ^= 1u << (bit % 8);
		n = eventlog_parse_record(rec, len, &r);
		/*
		 * Register, type and count bits may yield another valid shape, and a
		 * changed size or tag id may leave a short or non-AAEL event; a changed
		 * digest or text must be refused.
		 */
		if ((byte >= 14 && byte < 46) || byte >= 54)
			EXPECT_EQ(-EBADMSG, n);
		else if (byte >= 46)
			EXPECT_TRUE(n < 0 || n != (int)len || !r.text);
		rec[byte] ^= 1u << (bit % 8);
	}
	ASSERT_EQ((int)len, eventlog_parse_record(rec, len, &r));
	free(rec);
}

TEST(rejects_every_truncation_of_a_record)
{
	struct eventlog_record r;
	uint8_t *rec;
	size_t len;

	ASSERT_EQ(0, eventlog_aael_encode(4, EVENTLOG_ALG_SHA384, "d", "o", "c", &rec, &len));
	for (size_t n = 0; n < len; n++)
		EXPECT_EQ(-EBADMSG, eventlog_parse_record(rec, n, &r));
	free(rec);
}

TEST(encode_refuses_bad_domain_operation_content_and_algorithm)
{
	char big[EVENTLOG_TEXT_MAX + 2];
	uint8_t *rec = NULL;
	size_t len;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	EXPECT_EQ(-EINVAL, eventlog_aael_encode(23, EVENTLOG_ALG_SHA256, "a b", "op", "c", &rec, &len));
	EXPECT_EQ(-EINVAL, eventlog_aael_encode(23, EVENTLOG_ALG_SHA256, "", "op", "c", &rec, &len));
	EXPECT_EQ(-EINVAL, eventlog_aael_encode(23, EVENTLOG_ALG_SHA256, "d", "o\tp", "c", &rec, &len));
	EXPECT_EQ(-EINVAL, eventlog_aael_encode(23, EVENTLOG_ALG_SHA256, "d", "op", "c\nd", &rec, &len));
	EXPECT_EQ(-EINVAL, eventlog_aael_encode(23, 0x0004, "d", "op", "c", &rec, &len));
	EXPECT_EQ(-EINVAL, eventlog_aael_encode(23, EVENTLOG_ALG_SHA256, "d", "op", big, &rec, &len));
	EXPECT_NULL(rec);
	/* Content may be empty and may hold spaces. */
	ASSERT_EQ(0, eventlog_aael_encode(23, EVENTLOG_ALG_SHA256, "d", "op", "", &rec, &len));
	free(rec);
	ASSERT_EQ(0, eventlog_aael_encode(23, EVENTLOG_ALG_SHA256, "d", "op", "a b c", &rec, &len));
	free(rec);
}

TEST(replay_skips_other_registers_and_refuses_another_bank)
{
	uint8_t *a, *b, log[1024], got[EVENTLOG_DIGEST_MAX], zero[EVENTLOG_DIGEST_MAX] = { 0 };
	size_t alen, blen;

	ASSERT_EQ(0, eventlog_aael_encode(23, EVENTLOG_ALG_SHA256, "d", "op", "one", &a, &alen));
	ASSERT_EQ(0, eventlog_aael_encode(4, EVENTLOG_ALG_SHA384, "d", "op", "two", &b, &blen));
	memcpy(log, a, alen);
	memcpy(log + alen, b, blen);
	memcpy(log + alen + blen, a, alen);
	EXPECT_EQ(2, eventlog_replay(log, 2 * alen + blen, 23, EVENTLOG_ALG_SHA256, got));
	EXPECT_EQ(1, eventlog_replay(log, 2 * alen + blen, 4, EVENTLOG_ALG_SHA384, got));
	EXPECT_EQ(0, eventlog_replay(log, 2 * alen + blen, 8, EVENTLOG_ALG_SHA256, got));
	EXPECT_MEMEQ(zero, got, sizeof(got));
	EXPECT_EQ(-EBADMSG, eventlog_replay(log, 2 * alen + blen, 4, EVENTLOG_ALG_SHA256, got));
	/* A log cut inside a record is malformed, not shorter. */
	EXPECT_EQ(-EBADMSG, eventlog_replay(log, 2 * alen + blen - 1, 23, EVENTLOG_ALG_SHA256, got));
	EXPECT_EQ(0, eventlog_replay(NULL, 0, 23, EVENTLOG_ALG_SHA256, got));
	EXPECT_EQ(-EBADMSG, eventlog_replay(log, alen, 23, 0x0005, got));
	free(a);
	free(b);
}

TEST(alg_sizes)
{
	EXPECT_EQ(32, eventlog_alg_size(EVENTLOG_ALG_SHA256));
	EXPECT_EQ(48, eventlog_alg_size(EVENTLOG_ALG_SHA384));
	EXPECT_EQ(0, eventlog_alg_size(0x0005));
}

TEST(finds_the_spec_id_header_of_firmware_logs_only)
{
	uint8_t *rec;
	size_t len;

	for (size_t i = 0; i < ARRAY_SIZE(ccels); i++) {
		uint8_t *log = tu_read_vector(ccels[i], &len);

		ASSERT_NONNULL(log);
		EXPECT_EQ(legacy_header_len(log), eventlog_spec_header_len(log, len));
		/* Cut inside the header: not a header. */
		EXPECT_EQ(0, eventlog_spec_header_len(log, legacy_header_len(log) - 1));
		free(log);
	}
	ASSERT_EQ(0, eventlog_aael_encode(23, EVENTLOG_ALG_SHA256, "d", "o", "c", &rec, &len));
	EXPECT_EQ(0, eventlog_spec_header_len(rec, len));
	EXPECT_EQ(0, eventlog_spec_header_len(NULL, 0));
	free(rec);
}
