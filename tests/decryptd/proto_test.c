// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include "fhe/decryptd.h"
#include "lib/frame.h"

TEST(decrypt_request_round_trips)
{
	const uint8_t a[3] = { 1, 2, 3 }, b[1] = { 9 };
	const uint8_t *cts[2] = { a, b };
	size_t ctl[2] = { 3, 1 }, len, plen;
	struct decryptd_request req;
	char msg[DECRYPTD_MSG_MAX + 1];
	const uint8_t *p;
	uint8_t *f;

	ASSERT_EQ(0, decryptd_build_decrypt(77, "fashion.v1", cts, ctl, 2, &f, &len));
	ASSERT_EQ((int)len, frame_parse(f, len, DECRYPTD_REQ_MAX, &p, &plen));
	ASSERT_EQ(0, decryptd_parse_request(p, plen, &req, msg));
	EXPECT_EQ(DECRYPTD_OP_DECRYPT, req.op);
	EXPECT_EQ(77, req.id);
	EXPECT_STREQ("fashion.v1", req.name);
	ASSERT_EQ(2, req.n_ct);
	EXPECT_EQ(3, req.ct_len[0]);
	EXPECT_MEMEQ(a, req.ct[0], 3);
	EXPECT_EQ(9, req.ct[1][0]);
	free(f);
	EXPECT_EQ(-EINVAL, decryptd_build_decrypt(1, "", cts, ctl, 1, &f, &len));
	EXPECT_EQ(-EINVAL, decryptd_build_decrypt(1, "m", cts, ctl, 0, &f, &len));
}

TEST(outputs_round_trip_and_are_bounded)
{
	const double y[3] = { 1.5, -2.25, 1e-9 };
	uint8_t out[256];
	struct decryptd_reply r;
	double back[3], small[2];
	size_t n;
	int len;

	len = decryptd_build_outputs(5, y, 3, out, sizeof(out));
	ASSERT_GT(len, 0);
	ASSERT_EQ(0, decryptd_parse_reply(out + 4, (size_t)len - 4, &r));
	EXPECT_EQ(DECRYPTD_OK, r.status);
	EXPECT_EQ(5, r.id);
	ASSERT_EQ(0, decryptd_reply_outputs(&r, back, 3, &n));
	EXPECT_EQ(3, n);
	EXPECT_MEMEQ(y, back, sizeof(y));
	EXPECT_EQ(-ENOBUFS, decryptd_reply_outputs(&r, small, 2, &n));
	r.body_len--;
	EXPECT_EQ(-EBADMSG, decryptd_reply_outputs(&r, back, 3, &n));
	out[4 + 1] = 99;	/* unknown status */
	EXPECT_EQ(-EBADMSG, decryptd_parse_reply(out + 4, (size_t)len - 4, &r));
}

TEST(config_is_checked_field_by_field)
{
	static const struct {
		const char *json, *msg;
	} bad[] = {
		{ "{\"socket\":\"rel/path\"}", "not an absolute path" },
		{ "{\"io\":\"fast\"}", "neither 'auto' nor 'basic'" },
		{ "{\"queue\":0}", "queue" },
		{ "{\"workers\":100000}", "workers" },
		{ "{\"containers\":{\"relative\":\"x\"}}", "absolute cgroup path" },
		{ "{\"containers\":{\"/a\":\"bad name\"}}", "containers./a" },
		{ "{\"models\":{\"m\":{\"sealed\":\"/s\",\"key\":\"k\"}}}", "grant" },
		{ "{\"models\":{\"m\":{\"sealed\":\"/s\",\"key\":\"k\",\"grant\":[1]}}}", "grant[0]" },
		{ "{\"models\":{\"m/x\":{\"sealed\":\"/s\",\"key\":\"k\",\"grant\":[]}}}", "model name" },
		{ "{\"extra\":1}", "unknown field" },
		{ "{\"receipts\":\"log\"}", "'receipts'" },
	};
	struct decryptd_config c;
	struct vjson_err e;
	const char *ok = "{\"socket\":\"/run/x.sock\",\"containers\":{\"/veil/a\":\"a\"},"
			 "\"models\":{\"m\":{\"sealed\":\"/s\",\"key\":\"veil:r/t/m\",\"grant\":[\"a\"]}}}";

	ASSERT_EQ(0, decryptd_config_parse(ok, strlen(ok), &c, &e));
	EXPECT_EQ(1, c.n_models);
	EXPECT_TRUE(decryptd_model_granted(decryptd_config_model(&c, "m"), "a"));
	EXPECT_FALSE(decryptd_model_granted(decryptd_config_model(&c, "m"), "b"));
	EXPECT_NULL(decryptd_config_model(&c, "n"));
	EXPECT_EQ(64, c.queue);
	decryptd_config_done(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		if (decryptd_config_parse(bad[i].json, strlen(bad[i].json), &c, &e) >= 0 ||
		    !strstr(e.msg, bad[i].msg))
			harness_fail(__FILE__, __LINE__, false, "case %zu: '%s'", i, e.msg);
	}
}
