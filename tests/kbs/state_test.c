// SPDX-License-Identifier: GPL-2.0-only
/* Sessions, resource names, tokens, admin JWTs and request bodies, without a server. */
#include "tests/harness.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attest/jwk.h"
#include "attest/jws.h"
#include "kbs/admin.h"
#include "kbs/config.h"
#include "kbs/proto.h"
#include "kbs/resource.h"
#include "kbs/session.h"
#include "kbs/token.h"
#include "lib/cleanup.h"
#include "lib/fd.h"

TEST(sessions_are_copied_expire_and_the_store_has_a_cap)
{
	struct kbs_store *s = kbs_store_memory_new(2);
	struct kbs_session a, b, c, got;

	ASSERT_NONNULL(s);
	ASSERT_EQ(0, kbs_session_new(&a, "sample", 100));
	ASSERT_EQ(0, kbs_session_new(&b, "tpm", 200));
	ASSERT_EQ(0, kbs_session_new(&c, "snp", 300));
	EXPECT_EQ(32, strlen(a.id));
	EXPECT_EQ('4', a.id[12]);
	EXPECT_EQ(44, strlen(a.nonce));
	EXPECT_STRNE(a.id, b.id);
	EXPECT_STRNE(a.nonce, b.nonce);
	ASSERT_EQ(0, s->ops->put(s, &a));
	ASSERT_EQ(0, s->ops->put(s, &b));
	EXPECT_EQ(-ENOSPC, s->ops->put(s, &c));
	a.attested = true;
	a.token = strdup("tok");
	ASSERT_EQ(0, s->ops->put(s, &a));	/* replace */
	ASSERT_EQ(0, s->ops->get(s, a.id, 50, &got));
	EXPECT_TRUE(got.attested);
	EXPECT_STREQ("tok", got.token);
	EXPECT_NE(a.token, got.token);
	kbs_session_done(&got);
	EXPECT_EQ(-ETIMEDOUT, s->ops->get(s, a.id, 100, &got));
	EXPECT_EQ(-ENOENT, s->ops->get(s, a.id, 50, &got));
	EXPECT_EQ(1, s->ops->count(s));
	EXPECT_EQ(1, s->ops->sweep(s, 1000));
	EXPECT_EQ(0, s->ops->count(s));
	kbs_session_done(&a);
	kbs_store_free(s);
}

TEST(resource_paths_follow_trustee_segment_rules)
{
	static const char *const good[] = { "a/b/c", "default/key/1", "A-1/_x/y.z", "r/t/v1.2.3" };
	static const char *const bad[] = { "a/b", "a/b/c/d", ".a/b/c", "a/.b/c", "a//c", "/a/b",
					   "a/b/", "a/b/c d", "a/b/c%", "a/../c", "" };
	struct kbs_resource_path p;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		EXPECT_EQ(0, kbs_resource_path_parse(good[i], &p));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (kbs_resource_path_parse(bad[i], &p) != -EINVAL)
			harness_fail(__FILE__, __LINE__, false, "'%s' accepted", bad[i]);
	EXPECT_FALSE(kbs_segment_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 73));
}

TEST(resources_round_trip_through_flat_0600_files)
{
	char dir[] = "/tmp/veil-kbs-res.XXXXXX", path[256], cmd[300];
	struct kbs_resource_path p;
	uint8_t *data;
	size_t n;
	struct stat st;

	ASSERT_NONNULL(mkdtemp(dir));
	ASSERT_EQ(0, kbs_resource_path_parse("repo/type/tag", &p));
	EXPECT_EQ(-ENOENT, kbs_resource_get(dir, &p, &data, &n));
	ASSERT_EQ(0, kbs_resource_put(dir, &p, "secret", 6));
	ASSERT_EQ(0, kbs_resource_put(dir, &p, "secret2", 7));
	snprintf(path, sizeof(path), "%s/repository/repo\\x2Ftype\\x2Ftag", dir);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	ASSERT_EQ(0, kbs_resource_get(dir, &p, &data, &n));
	EXPECT_EQ(7, n);
	EXPECT_MEMEQ("secret2", data, 7);
	free(data);
	EXPECT_EQ(0, kbs_resource_delete(dir, &p));
	EXPECT_EQ(-ENOENT, kbs_resource_delete(dir, &p));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	EXPECT_EQ(0, system(cmd));
}

static char *issue(struct kbs_token_signer *s, int64_t now, int64_t lifetime)
{
	json_t *claims = json_pack("{s:s, s:s}", "svn", "1", "report_data", "AAAA");
	json_t *rd = json_pack("{s:s, s:{s:s}, s:s}", "nonce", "n", "tee-pubkey", "kty", "EC",
			       "additional-evidence", "");
	struct kbs_token_input in = { "sample", claims, rd, NULL, "warning", now, lifetime };
	char *t = NULL;

	if (kbs_token_issue(s, &in, &t) < 0)
		t = NULL;
	json_decref(claims);
	json_decref(rd);
	return t;
}

TEST(tokens_verify_under_their_signer_only_and_expire)
{
	struct kbs_token_signer a, b;
	int64_t now = (int64_t)time(NULL);
	json_t *claims = NULL;
	char err[256], *t;

	ASSERT_EQ(0, kbs_token_signer_init(&a, NULL, NULL, err, sizeof(err)));
	ASSERT_EQ(0, kbs_token_signer_init(&b, NULL, NULL, err, sizeof(err)));
	t = issue(&a, now, 300);
	ASSERT_NONNULL(t);
	ASSERT_EQ(0, kbs_token_verify(&a, t, strlen(t), now, &claims, err, sizeof(err)));
	EXPECT_STREQ("sample", kbs_token_tee(claims));
	EXPECT_STREQ("warning", kbs_token_status(claims));
	/* report_data moved out of the TEE claims, as Trustee does */
	EXPECT_STREQ("AAAA", json_string_value(json_object_get(kbs_token_evidence(claims), "report_data")));
	EXPECT_NULL(json_object_get(json_object_get(kbs_token_evidence(claims), "sample"), "report_data"));
	EXPECT_STREQ(KBS_TOKEN_PROFILE, json_string_value(json_object_get(claims, "eat_profile")));
	json_decref(claims);
	EXPECT_EQ(-EKEYREJECTED, kbs_token_verify(&b, t, strlen(t), now, &claims, err, sizeof(err)));
	EXPECT_EQ(-ETIMEDOUT, kbs_token_verify(&a, t, strlen(t), now + 300, &claims, err, sizeof(err)));
	free(t);
	kbs_token_signer_done(&a);
	kbs_token_signer_done(&b);
}

TEST(admin_check_requires_bearer_eddsa_exp_and_role)
{
	struct kbs_admin a = { .mode = KBS_ADMIN_AUTHENTICATED };
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *es = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	json_t *h = json_pack("{s:s}", "alg", "EdDSA"), *hes = json_pack("{s:s}", "alg", "ES256");
	json_t *p = json_pack("{s:s, s:i}", "role", "admin", "exp", 1000);
	char err[256], *t, *t2, hdr[2048];

	a.key = k;
	a.roles[0] = strdup("admin");
	a.n_roles = 1;
	ASSERT_EQ(0, attest_jws_sign(k, h, p, &t));
	ASSERT_EQ(0, attest_jws_sign(es, hes, p, &t2));
	snprintf(hdr, sizeof(hdr), "Bearer %s", t);
	EXPECT_EQ(0, kbs_admin_check(&a, hdr, 1000, err, sizeof(err)));
	EXPECT_EQ(0, kbs_admin_check(&a, hdr, 1060, err, sizeof(err)));	/* leeway */
	EXPECT_EQ(-EACCES, kbs_admin_check(&a, hdr, 1061, err, sizeof(err)));
	EXPECT_STREQ("the token expired", err);
	EXPECT_EQ(-EACCES, kbs_admin_check(&a, t, 1000, err, sizeof(err)));
	EXPECT_EQ(-EACCES, kbs_admin_check(&a, NULL, 1000, err, sizeof(err)));
	snprintf(hdr, sizeof(hdr), "Bearer %s", t2);
	EXPECT_EQ(-EACCES, kbs_admin_check(&a, hdr, 1000, err, sizeof(err)));
	a.mode = KBS_ADMIN_DENY_ALL;
	snprintf(hdr, sizeof(hdr), "Bearer %s", t);
	EXPECT_EQ(-EACCES, kbs_admin_check(&a, hdr, 1000, err, sizeof(err)));
	a.mode = KBS_ADMIN_INSECURE_ALLOW_ALL;
	EXPECT_EQ(0, kbs_admin_check(&a, NULL, 1000, err, sizeof(err)));
	free(t);
	free(t2);
	json_decref(h);
	json_decref(hes);
	json_decref(p);
	EVP_PKEY_free(es);
	kbs_admin_done(&a);
}

TEST(auth_and_attest_bodies_parse_as_trustee_reads_them)
{
	const char *auth = "{\"version\":\"0.4.0\",\"tee\":\"snp\",\"extra-params\":{\"supported-hash-algorithms\":[\"sha384\"]},\"unknown\":1}";
	const char *att = "{\"init-data\":{\"format\":\"toml\",\"body\":\"version = '0.1.0'\"},"
			  "\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{\"kty\":\"EC\"}},"
			  "\"tee-evidence\":{\"primary_evidence\":{\"x\":1},\"additional_evidence\":\"\"}}";
	struct kbs_auth_request ar;
	struct kbs_attestation at;
	char err[256];

	ASSERT_EQ(0, kbs_parse_auth(auth, strlen(auth), &ar, err, sizeof(err)));
	EXPECT_STREQ("snp", ar.tee);
	ASSERT_EQ(0, kbs_parse_attestation(att, strlen(att), &at, err, sizeof(err)));
	EXPECT_STREQ("n", at.nonce);
	EXPECT_STREQ("version = '0.1.0'", at.init_data_toml);
	EXPECT_STREQ("", at.additional_evidence);
	kbs_attestation_done(&at);
}

TEST(policy_uploads_take_unpadded_base64url_only)
{
	char *text = NULL, *id = NULL, err[256];
	size_t n;

	EXPECT_EQ(0, kbs_parse_policy_upload("{\"policy\":\"e30\",\"policy_id\":\"default_cpu\"}", 42,
					     &text, &n, &id, err, sizeof(err)));
	EXPECT_STREQ("{}", text);
	EXPECT_STREQ("default_cpu", id);
	free(text);
	free(id);
	EXPECT_EQ(-EINVAL, kbs_parse_policy_upload("{\"policy\":\"e30=\"}", 16, &text, &n, NULL, err,
						   sizeof(err)));
	EXPECT_EQ(-EINVAL, kbs_parse_policy_upload("{\"policy\":\"e+0\"}", 15, &text, &n, NULL, err,
						   sizeof(err)));
}

TEST(token_header_carries_x5c_when_a_chain_is_configured)
{
	char dir[] = "/tmp/veil-kbs-x5c.XXXXXX", cmd[1024], key[128], crt[128], other[128], err[256];
	struct kbs_token_signer s;
	json_t *x5c;

	if (access("/usr/bin/openssl", X_OK) != 0)
		SKIP("openssl(1) is not installed (scripts/deps installs it)");
	ASSERT_NONNULL(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/token.key", dir);
	snprintf(crt, sizeof(crt), "%s/token.crt", dir);
	snprintf(other, sizeof(other), "%s/other.crt", dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s -out %s "
		 "-days 1 -subj /CN=veil-kbs-token >/dev/null 2>&1 && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null "
		 "-out %s -days 1 -subj /CN=other >/dev/null 2>&1", key, crt, other);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(0, kbs_token_signer_init(&s, key, crt, err, sizeof(err)));
	x5c = json_object_get(s.jwk, "x5c");
	EXPECT_EQ(1, json_array_size(x5c));
	EXPECT_STREQ("ES256", json_string_value(json_object_get(s.jwk, "alg")));
	kbs_token_signer_done(&s);
	/* A chain whose leaf is not the signer's key is refused. */
	EXPECT_EQ(-EINVAL, kbs_token_signer_init(&s, key, other, err, sizeof(err)));
	EXPECT_NONNULL(strstr(err, "not the signer's"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	EXPECT_EQ(0, system(cmd));
}

TEST(config_file_errors_name_the_member)
{
	static const struct {
		const char *json, *why;
	} cases[] = {
		{ "{\"listen\":\"127.0.0.1:1\",\"bogus\":1}", "bogus" },
		{ "{\"session_timeout\":0}", "session_timeout" },
		{ "{\"tls\":{\"certificate\":1}}", "certificate" },
		{ "{\"admin\":{\"mode\":\"open\"}}", "'admin.mode'" },
		{ "{\"admin\":{}}", "'admin.public_key' is required" },
		{ "{\"token\":{\"lifetime\":\"5\"}}", "lifetime" },
		{ "[]", "expected a JSON object" },
	};
	char path[] = "/tmp/veil-kbs-cfg.XXXXXX", err[512];
	struct kbs_config c;
	int fd = mkstemp(path);

	ASSERT_GE(fd, 0);
	close(fd);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ASSERT_EQ(0, fd_write_file_atomic(path, cases[i].json, strlen(cases[i].json), 0600));
		err[0] = 0;
		EXPECT_EQ(-EINVAL, kbs_config_load(path, &c, err, sizeof(err)));
		if (!strstr(err, cases[i].why))
			harness_fail(__FILE__, __LINE__, false, "case %zu: '%s' lacks '%s'", i, err,
				     cases[i].why);
		kbs_config_done(&c);
	}
	ASSERT_EQ(0, fd_write_file_atomic(path, "{\"session_timeout\":7}", 21, 0600));
	ASSERT_EQ(0, kbs_config_load(path, &c, err, sizeof(err)));
	EXPECT_EQ(7, c.session_timeout);
	EXPECT_EQ(300, c.token_lifetime);
	EXPECT_EQ(KBS_ADMIN_DENY_ALL, c.admin.mode);
	kbs_config_done(&c);
	unlink(path);
}
