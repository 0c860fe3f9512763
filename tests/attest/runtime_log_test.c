// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <openssl/evp.h>

#include "attest/runtime.h"
#include "lib/cleanup.h"
#include "tests/attest/testutil.h"

struct log {
	uint8_t buf[8192];
	size_t len;
	uint8_t pcr[EVENTLOG_DIGEST_MAX];	/* the register as a TPM would hold it */
};

static void extend(struct log *l, const uint8_t *digest, size_t n, const EVP_MD *md)
{
	uint8_t cat[96];

	memcpy(cat, l->pcr, n);
	memcpy(cat + n, digest, n);
	EVP_Digest(cat, 2 * n, l->pcr, NULL, md, NULL);
}

static void add(struct log *l, uint32_t reg, const char *dom, const char *op, const char *content,
		bool measured)
{
	struct eventlog_record r;
	uint8_t *rec;
	size_t len;

	ASSERT_EQ(0, eventlog_aael_encode(reg, EVENTLOG_ALG_SHA256, dom, op, content, &rec, &len));
	ASSERT_LE(l->len + len, sizeof(l->buf));
	ASSERT_GT(eventlog_parse_record(rec, len, &r), 0);
	if (measured)
		extend(l, r.digest, 32, EVP_sha256());
	memcpy(l->buf + l->len, rec, len);
	l->len += len;
	free(rec);
}

TEST(exposes_container_digests_of_a_log_that_replays)
{
	struct log l = { 0 };
	json_t *claims = json_object(), *c, *ev;
	char msg[200];

	add(&l, 23, "github.com/veil", "container", "{\"digest\":\"sha256:aa\",\"name\":\"one\"}", true);
	add(&l, 17, "github.com/veil", "container", "{\"digest\":\"sha256:ff\",\"name\":\"elsewhere\"}", false);
	add(&l, 23, "github.com/confidential-containers", "PullImage",
	    "{\"image\":\"alpine\", \"digest\":\"sha256:cc\"}", true);
	add(&l, 23, "github.com/veil", "container", "{\"name\":\"two\",\"digest\":\"sha256:bb\"}", true);
	add(&l, 23, "github.com/veil", "policy", "{\"lsm\":\"x\"}", true);
	ASSERT_EQ(0, attest_runtime_log_claims(l.buf, l.len, 23, EVENTLOG_ALG_SHA256, l.pcr, claims, msg,
					       sizeof(msg)));
	c = json_object_get(claims, "containers");
	ASSERT_EQ(2, json_array_size(c));
	EXPECT_STREQ("one", json_string_value(json_object_get(json_array_get(c, 0), "name")));
	EXPECT_STREQ("sha256:aa", json_string_value(json_object_get(json_array_get(c, 0), "digest")));
	EXPECT_STREQ("two", json_string_value(json_object_get(json_array_get(c, 1), "name")));
	EXPECT_STREQ("sha256:bb", json_string_value(json_object_get(json_array_get(c, 1), "digest")));
	ev = json_object_get(claims, "runtime_events");
	ASSERT_EQ(4, json_array_size(ev));
	EXPECT_TRUE(json_is_false(json_object_get(claims, "degraded")));
	EXPECT_STREQ("PullImage", json_string_value(json_object_get(json_array_get(ev, 1), "operation")));
	EXPECT_STREQ("{\"image\":\"alpine\", \"digest\":\"sha256:cc\"}",
		     json_string_value(json_object_get(json_array_get(ev, 1), "content")));
	json_decref(claims);
}

TEST(refuses_a_log_that_does_not_replay_to_the_quoted_register)
{
	struct log l = { 0 };
	json_t *claims = json_object();
	char msg[200];

	add(&l, 23, "github.com/veil", "container", "{\"digest\":\"sha256:aa\",\"name\":\"one\"}", true);
	add(&l, 23, "github.com/veil", "container", "{\"digest\":\"sha256:bb\",\"name\":\"two\"}", false);
	EXPECT_EQ(-EKEYREJECTED, attest_runtime_log_claims(l.buf, l.len, 23, EVENTLOG_ALG_SHA256, l.pcr,
							   claims, msg, sizeof(msg)));
	EXPECT_STREQ("replaying the event log does not give register 23", msg);
	EXPECT_NULL(json_object_get(claims, "containers"));
	/* Cut inside a record: malformed. */
	EXPECT_EQ(-EBADMSG, attest_runtime_log_claims(l.buf, l.len - 3, 23, EVENTLOG_ALG_SHA256, l.pcr,
						      claims, msg, sizeof(msg)));
	json_decref(claims);
}

TEST(refuses_a_malformed_container_event)
{
	static const char *const bad[] = {
		"not json",
		"{\"digest\":\"sha256:aa\"}",
		"{\"digest\":\"sha256:aa\",\"name\":\"x\",\"extra\":1}",
		"{\"digest\":1,\"name\":\"x\"}",
		"[]",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct log l = { 0 };
		json_t *claims = json_object();
		char msg[200] = "";

		add(&l, 23, "github.com/veil", "container", bad[i], true);
		EXPECT_EQ(-EBADMSG, attest_runtime_log_claims(l.buf, l.len, 23, EVENTLOG_ALG_SHA256,
							      l.pcr, claims, msg, sizeof(msg)));
		EXPECT_EQ(0, strncmp(msg, "container event: ", 17));
		json_decref(claims);
	}
}

/* A TDX CCEL with AAEL records at CC-MR 4 (RTMR3): replayed with SHA-384. */
TEST(reads_aael_events_out_of_a_tdx_ccel)
{
	size_t len;
	uint8_t *log = tu_read_vector("eventlog/trustee-CCEL_AAEL_alibabacloud", &len);
	uint8_t rtmr3[EVENTLOG_DIGEST_MAX];
	json_t *claims = json_object(), *ev;
	char msg[200];

	ASSERT_NONNULL(log);
	ASSERT_EQ(2, eventlog_replay(log, len, 4, EVENTLOG_ALG_SHA384, rtmr3));
	ASSERT_EQ(0, attest_runtime_log_claims(log, len, 4, EVENTLOG_ALG_SHA384, rtmr3, claims, msg,
					       sizeof(msg)));
	ev = json_object_get(claims, "runtime_events");
	ASSERT_EQ(2, json_array_size(ev));
	EXPECT_STREQ("coco.com", json_string_value(json_object_get(json_array_get(ev, 0), "domain")));
	EXPECT_STREQ("some-content", json_string_value(json_object_get(json_array_get(ev, 0), "content")));
	EXPECT_EQ(0, json_array_size(json_object_get(claims, "containers")));
	rtmr3[0] ^= 1;
	EXPECT_EQ(-EKEYREJECTED, attest_runtime_log_claims(log, len, 4, EVENTLOG_ALG_SHA384, rtmr3,
							   claims, msg, sizeof(msg)));
	json_decref(claims);
	free(log);
}

TEST(says_when_veil_init_ran_degraded)
{
	struct log l = { 0 };
	json_t *claims = json_object();
	char msg[200];

	add(&l, 23, "github.com/veil", "degraded", "{\"lsm\":\"inactive\"}", true);
	ASSERT_EQ(0, attest_runtime_log_claims(l.buf, l.len, 23, EVENTLOG_ALG_SHA256, l.pcr, claims, msg,
					       sizeof(msg)));
	EXPECT_TRUE(json_is_true(json_object_get(claims, "degraded")));
	json_decref(claims);
}
