// SPDX-License-Identifier: GPL-2.0-only
/*
 * The RCAR flow against a real veil-kbs over HTTPS on loopback, with a C
 * client on libcurl: release to each key type, bearer tokens, replay,
 * expiry, version skew, policy, unknown paths, admin auth, and a table of
 * malformed requests with their status and ErrorInformation type.
 */
#include "tests/harness.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "attest/jwk.h"
#include "attest/jws.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/secmem.h"
#include "tests/kbs/kbs_client.h"
#include "tests/kbs/kbs_proc.h"

static const char secret[] = "fhe-secret-key-seed: 0123456789abcdef";

static const char allow_sample[] =
	"{\"version\":1,\"rules\":[{\"name\":\"sample pods get veil keys\","
	"\"resources\":[\"veil/keys/*\"],\"tee\":[\"sample\"],"
	"\"claims\":{\"sample.svn\":\"1\",\"sample.launch_digest\":{\"one_of\":[\"abcde\"]}}}]}";

/* A server with the sample policy and one resource, veil/keys/model. */
static void start(struct kbs_proc *p, const char *extra, bool spec)
{
	char path[512];

	if (access("/usr/bin/openssl", X_OK) != 0)
		SKIP("openssl(1) is not installed (scripts/deps installs it)");
	ASSERT_EQ(0, kbs_proc_start(p, extra, spec));
	snprintf(path, sizeof(path), "%s/policy.json", p->dir);
	ASSERT_EQ(0, fd_write_file_atomic(path, allow_sample, strlen(allow_sample), 0600));
	ASSERT_EQ(0, kbs_proc_admin(p, "set-policy %s", path));
	snprintf(path, sizeof(path), "%s/model.key", p->dir);
	ASSERT_EQ(0, fd_write_file_atomic(path, secret, strlen(secret), 0600));
	ASSERT_EQ(0, kbs_proc_admin(p, "put-resource veil/keys/model %s", path));
}

FIXTURE(kbs) {
	struct kbs_proc p;
	struct kc c;
};

FIXTURE_SETUP(kbs)
{
	start(&self->p, NULL, false);
	ASSERT_EQ(0, kc_init(&self->c, self->p.base, self->p.cacert));
}

FIXTURE_TEARDOWN(kbs)
{
	kc_done(&self->c);
	kbs_proc_stop(&self->p);
}

static void expect_release(struct kc *c, EVP_PKEY *k)
{
	char *token = NULL;
	unsigned char *pt = NULL;
	size_t n;

	ASSERT_EQ(0, kc_rcar_sample(c, k, &token));
	ASSERT_EQ(0, kc_get_resource(c, "veil/keys/model", NULL, k, &pt, &n));
	ASSERT_EQ(strlen(secret), n);
	EXPECT_MEMEQ(secret, pt, n);
	secmem_free(pt);
	free(token);
}

TEST_F(kbs, rcar_over_https_releases_the_resource_to_p256_p521_and_rsa_keys)
{
	EVP_PKEY *keys[] = { EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"),
			     EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"),
			     EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) };

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		kc_forget_cookies(&self->c);
		expect_release(&self->c, keys[i]);
		EVP_PKEY_free(keys[i]);
	}
}

TEST_F(kbs, auth_reply_has_a_32_byte_nonce_and_a_bare_expiring_cookie)
{
	struct kc_resp r;
	uint8_t *raw;
	size_t n;
	json_t *o;
	const char *body = "{\"version\":\"0.4.0\",\"tee\":\"sample\",\"extra-params\":\"\"}";

	ASSERT_EQ(0, kc_request(&self->c, "POST", "/kbs/v0/auth", NULL, body, strlen(body), NULL, &r));
	ASSERT_EQ(200, r.status);
	EXPECT_STREQ("application/json", r.ctype);
	o = json_loads(r.body, 0, NULL);
	ASSERT_NONNULL(o);
	EXPECT_EQ(2, json_object_size(o));
	EXPECT_STREQ("", json_string_value(json_object_get(o, "extra-params")));
	const char *nonce = json_string_value(json_object_get(o, "nonce"));
	ASSERT_NONNULL(nonce);
	EXPECT_EQ(44, strlen(nonce));
	ASSERT_EQ(0, b64_decode(nonce, strlen(nonce), &raw, &n));
	EXPECT_EQ(32, n);
	/* kbs-session-id=<32 hex>; Expires=<date> and nothing else */
	EXPECT_EQ(0, strncmp(r.cookie, "kbs-session-id=", 15));
	EXPECT_EQ(32, strspn(r.cookie + 15, "0123456789abcdef"));
	EXPECT_EQ(0, strncmp(r.cookie + 47, "; Expires=", 10));
	EXPECT_NULL(strchr(r.cookie + 57, ';'));
	free(raw);
	json_decref(o);
	kc_resp_done(&r);
}

TEST_F(kbs, bearer_token_releases_without_a_cookie_and_tampered_tokens_fail)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	unsigned char *pt = NULL;
	char *token = NULL, *hdr = NULL;
	size_t n;
	json_t *claims = NULL;

	ASSERT_EQ(0, kc_rcar_sample(&self->c, k, &token));
	/* The token is an EAR JWT: ES256 with the signer's jwk in its header. */
	ASSERT_EQ(0, attest_jws_verify(token, strlen(token), NULL, NULL, &claims, NULL, 0));
	EXPECT_STREQ("warning", json_string_value(json_object_get(
		json_object_get(json_object_get(claims, "submods"), "cpu0"), "ear.status")));
	EXPECT_EQ(300, json_integer_value(json_object_get(claims, "exp")) -
			       json_integer_value(json_object_get(claims, "iat")));
	ASSERT_EQ(0, b64url_decode(token, strchr(token, '.') - token, (uint8_t **)&hdr, &n));
	EXPECT_NONNULL(strstr(hdr, "\"alg\":\"ES256\""));
	EXPECT_NONNULL(strstr(hdr, "\"jwk\":{"));
	kc_forget_cookies(&self->c);
	ASSERT_EQ(0, kc_get_resource(&self->c, "veil/keys/model", token, k, &pt, &n));
	EXPECT_MEMEQ(secret, pt, n);
	secmem_free(pt);
	token[strlen(token) - 3] ^= 1;
	EXPECT_EQ(-401, kc_get_resource(&self->c, "veil/keys/model", token, k, &pt, &n));
	free(hdr);
	free(token);
	json_decref(claims);
	EVP_PKEY_free(k);
}

TEST_F(kbs, token_from_another_kbs_is_refused)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct kbs_proc other;
	struct kc oc;
	unsigned char *pt;
	char *token = NULL;
	size_t n;

	start(&other, NULL, false);
	ASSERT_EQ(0, kc_init(&oc, other.base, other.cacert));
	ASSERT_EQ(0, kc_rcar_sample(&oc, k, &token));
	EXPECT_EQ(-401, kc_get_resource(&self->c, "veil/keys/model", token, k, &pt, &n));
	kc_done(&oc);
	kbs_proc_stop(&other);
	free(token);
	EVP_PKEY_free(k);
}

TEST_F(kbs, second_attest_on_an_attested_session_returns_the_same_token)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char *nonce = NULL, *body;
	struct kc_resp a, b;

	ASSERT_EQ(0, kc_auth(&self->c, "sample", &nonce));
	body = kc_sample_attestation(nonce, nonce, k);
	ASSERT_EQ(0, kc_request(&self->c, "POST", "/kbs/v0/attest", NULL, body, strlen(body), NULL, &a));
	ASSERT_EQ(0, kc_request(&self->c, "POST", "/kbs/v0/attest", NULL, body, strlen(body), NULL, &b));
	EXPECT_EQ(200, a.status);
	EXPECT_EQ(200, b.status);
	EXPECT_STREQ(a.body, b.body);
	EXPECT_EQ(0, strncmp(b.cookie, "kbs-session-id=", 15));
	kc_resp_done(&a);
	kc_resp_done(&b);
	free(body);
	free(nonce);
	EVP_PKEY_free(k);
}

TEST_F(kbs, replayed_nonce_is_refused)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char *old = NULL, *fresh = NULL, *body, type[64];
	struct kc_resp r;
	struct kc other;

	/* Evidence made for an earlier session's nonce ... */
	ASSERT_EQ(0, kc_init(&other, self->p.base, self->p.cacert));
	ASSERT_EQ(0, kc_auth(&other, "sample", &old));
	ASSERT_EQ(0, kc_auth(&self->c, "sample", &fresh));
	ASSERT_STRNE(old, fresh);
	/* ... sent as is to a new session: the nonce is not this session's. */
	body = kc_sample_attestation(old, old, k);
	ASSERT_EQ(0, kc_request(&self->c, "POST", "/kbs/v0/attest", NULL, body, strlen(body), NULL, &r));
	EXPECT_EQ(401, r.status);
	EXPECT_STREQ("AttestationError", kc_error_type(&r, type, sizeof(type)));
	kc_resp_done(&r);
	free(body);
	/* ... or with the new nonce written over it: the binding no longer matches. */
	body = kc_sample_attestation(fresh, old, k);
	ASSERT_EQ(0, kc_request(&self->c, "POST", "/kbs/v0/attest", NULL, body, strlen(body), NULL, &r));
	EXPECT_EQ(401, r.status);
	EXPECT_STREQ("{\"type\":\"https://github.com/confidential-containers/kbs/errors/AttestationError\","
		     "\"detail\":\"Attestation error: RCAR handshake Attest failed\"}", r.body);
	kc_resp_done(&r);
	free(body);
	kc_done(&other);
	free(old);
	free(fresh);
	EVP_PKEY_free(k);
}

TEST_F(kbs, version_mismatch_names_both_versions)
{
	const char *body = "{\"version\":\"0.3.0\",\"tee\":\"sample\",\"extra-params\":\"\"}";
	struct kc_resp r;

	ASSERT_EQ(0, kc_request(&self->c, "POST", "/kbs/v0/auth", NULL, body, strlen(body), NULL, &r));
	EXPECT_EQ(401, r.status);
	EXPECT_STREQ("{\"type\":\"https://github.com/confidential-containers/kbs/errors/AttestationError\","
		     "\"detail\":\"Attestation error: RCAR handshake Auth failed: KBS Client Protocol "
		     "Version Mismatch: expect =0.4.0 while the request is 0.3.0\"}",
		     r.body);
	kc_resp_done(&r);
}

TEST_F(kbs, policy_denies_paths_no_rule_names_and_claims_that_differ)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char path[512], *token = NULL, type[64];
	const char *strict = "{\"version\":1,\"rules\":[{\"resources\":[\"veil/keys/*\"],"
			     "\"tee\":[\"sample\"],\"claims\":{\"sample.svn\":\"2\"}}]}";
	struct kc_resp r;

	snprintf(path, sizeof(path), "%s/other.key", self->p.dir);
	ASSERT_EQ(0, fd_write_file_atomic(path, "x", 1, 0600));
	ASSERT_EQ(0, kbs_proc_admin(&self->p, "put-resource other/keys/model %s", path));
	ASSERT_EQ(0, kc_rcar_sample(&self->c, k, &token));
	ASSERT_EQ(0, kc_request(&self->c, "GET", "/kbs/v0/resource/other/keys/model", NULL, NULL, 0,
				NULL, &r));
	EXPECT_EQ(401, r.status);
	EXPECT_STREQ("PolicyDeny", kc_error_type(&r, type, sizeof(type)));
	kc_resp_done(&r);
	/* A stricter policy: svn 2 required, sample says 1. */
	snprintf(path, sizeof(path), "%s/strict.json", self->p.dir);
	ASSERT_EQ(0, fd_write_file_atomic(path, strict, strlen(strict), 0600));
	ASSERT_EQ(0, kbs_proc_admin(&self->p, "set-policy %s", path));
	ASSERT_EQ(0, kc_request(&self->c, "GET", "/kbs/v0/resource/veil/keys/model", NULL, NULL, 0,
				NULL, &r));
	EXPECT_EQ(401, r.status);
	EXPECT_STREQ("{\"type\":\"https://github.com/confidential-containers/kbs/errors/PolicyDeny\","
		     "\"detail\":\"Access denied by policy\"}", r.body);
	kc_resp_done(&r);
	free(token);
	EVP_PKEY_free(k);
}

TEST(spec_status_mode_answers_403_for_deny_and_404_for_missing)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct kbs_proc p;
	struct kc c;
	struct kc_resp r;
	char *token = NULL, type[64];

	start(&p, NULL, true);
	ASSERT_EQ(0, kc_init(&c, p.base, p.cacert));
	ASSERT_EQ(0, kc_rcar_sample(&c, k, &token));
	ASSERT_EQ(0, kc_request(&c, "GET", "/kbs/v0/resource/veil/keys/absent", NULL, NULL, 0, NULL, &r));
	EXPECT_EQ(404, r.status);
	EXPECT_STREQ("PluginInternalError", kc_error_type(&r, type, sizeof(type)));
	kc_resp_done(&r);
	ASSERT_EQ(0, kc_request(&c, "GET", "/kbs/v0/resource/nope/keys/model", NULL, NULL, 0, NULL, &r));
	EXPECT_EQ(403, r.status);
	EXPECT_STREQ("PolicyDeny", kc_error_type(&r, type, sizeof(type)));
	kc_resp_done(&r);
	kc_done(&c);
	kbs_proc_stop(&p);
	free(token);
	EVP_PKEY_free(k);
}

TEST_F(kbs, unknown_paths_are_404_and_missing_resources_401_as_trustee_does)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct kc_resp r;
	char *token = NULL, type[64];

	ASSERT_EQ(0, kc_request(&self->c, "GET", "/kbs/v0/nosuch/a", NULL, NULL, 0, NULL, &r));
	EXPECT_EQ(404, r.status);
	EXPECT_STREQ("{\"type\":\"https://github.com/confidential-containers/kbs/errors/PluginNotFound\","
		     "\"detail\":\"Plugin nosuch not found\"}", r.body);
	kc_resp_done(&r);
	ASSERT_EQ(0, kc_request(&self->c, "GET", "/nosuch", NULL, NULL, 0, NULL, &r));
	EXPECT_EQ(404, r.status);
	EXPECT_EQ(0, r.len);
	kc_resp_done(&r);
	ASSERT_EQ(0, kc_rcar_sample(&self->c, k, &token));
	ASSERT_EQ(0, kc_request(&self->c, "GET", "/kbs/v0/resource/veil/keys/absent", NULL, NULL, 0,
				NULL, &r));
	EXPECT_EQ(401, r.status);
	EXPECT_STREQ("PluginInternalError", kc_error_type(&r, type, sizeof(type)));
	kc_resp_done(&r);
	free(token);
	EVP_PKEY_free(k);
}

TEST(expired_session_is_refused)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct kbs_proc p;
	struct kc c;
	struct kc_resp r;
	char *nonce = NULL, *body, type[64];

	start(&p, "\"session_timeout\":1", false);
	ASSERT_EQ(0, kc_init(&c, p.base, p.cacert));
	ASSERT_EQ(0, kc_auth(&c, "sample", &nonce));
	body = kc_sample_attestation(nonce, nonce, k);
	sleep(2);
	/* curl drops the expired cookie itself; send it as the attacker would. */
	kc_forget_cookies(&c);
	ASSERT_EQ(0, kc_request(&c, "POST", "/kbs/v0/attest", NULL, body, strlen(body), NULL, &r));
	EXPECT_EQ(401, r.status);
	EXPECT_STREQ("AttestationError", kc_error_type(&r, type, sizeof(type)));
	kc_resp_done(&r);
	free(body);
	free(nonce);
	kc_done(&c);
	kbs_proc_stop(&p);
	EVP_PKEY_free(k);
}

TEST(expired_session_cookie_sent_anyway_is_refused)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct kbs_proc p;
	struct kc c;
	struct kc_resp r, a;
	char *body, cookie[160];
	json_t *o;
	const char *auth = "{\"version\":\"0.4.0\",\"tee\":\"sample\",\"extra-params\":\"\"}";

	start(&p, "\"session_timeout\":1", false);
	ASSERT_EQ(0, kc_init(&c, p.base, p.cacert));
	ASSERT_EQ(0, kc_request(&c, "POST", "/kbs/v0/auth", NULL, auth, strlen(auth), NULL, &a));
	o = json_loads(a.body, 0, NULL);
	body = kc_sample_attestation(json_string_value(json_object_get(o, "nonce")),
				     json_string_value(json_object_get(o, "nonce")), k);
	snprintf(cookie, sizeof(cookie), "%.47s", a.cookie);
	sleep(2);
	kc_forget_cookies(&c);
	curl_easy_setopt(c.h, CURLOPT_COOKIE, cookie);
	ASSERT_EQ(0, kc_request(&c, "POST", "/kbs/v0/attest", NULL, body, strlen(body), NULL, &r));
	EXPECT_EQ(401, r.status);
	kc_resp_done(&r);
	kc_resp_done(&a);
	json_decref(o);
	free(body);
	kc_done(&c);
	kbs_proc_stop(&p);
	EVP_PKEY_free(k);
}

TEST(expired_token_is_refused)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct kbs_proc p;
	struct kc c;
	struct kc_resp r;
	char *token = NULL, type[64];

	start(&p, "\"token\":{\"lifetime\":1}", false);
	ASSERT_EQ(0, kc_init(&c, p.base, p.cacert));
	ASSERT_EQ(0, kc_rcar_sample(&c, k, &token));
	sleep(2);
	kc_forget_cookies(&c);
	ASSERT_EQ(0, kc_request(&c, "GET", "/kbs/v0/resource/veil/keys/model", NULL, NULL, 0, token, &r));
	EXPECT_EQ(401, r.status);
	EXPECT_STREQ("TokenVerifierError", kc_error_type(&r, type, sizeof(type)));
	kc_resp_done(&r);
	free(token);
	kc_done(&c);
	kbs_proc_stop(&p);
	EVP_PKEY_free(k);
}

static int python_decrypt(const char *dir, EVP_PKEY *k, const char *jwe, char *hex, size_t len)
{
	char kp[512], jp[512], cmd[2048];
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	FILE *f;
	int st;

	PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &pem);
	snprintf(kp, sizeof(kp), "%s/tee.key", dir);
	snprintf(jp, sizeof(jp), "%s/response.json", dir);
	fd_write_file_atomic(kp, pem, (size_t)n, 0600);
	BIO_free(bio);
	fd_write_file_atomic(jp, jwe, strlen(jwe), 0600);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/kbs/jwe_decrypt.py %s %s", harness_srcdir(), kp, jp);
	f = popen(cmd, "r");
	hex[0] = 0;
	if (!f)
		return -1;
	if (!fgets(hex, (int)len, f))
		hex[0] = 0;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST_F(kbs, python_jwcrypto_decrypts_our_responses_for_each_algorithm)
{
	EVP_PKEY *keys[] = { EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"),
			     EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"),
			     EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) };
	char want[2 * sizeof(secret) + 1], hex[1024];

	for (size_t i = 0; i < strlen(secret); i++)
		sprintf(want + 2 * i, "%02x", (unsigned char)secret[i]);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		struct kc_resp r;
		char *token = NULL;
		int st;

		kc_forget_cookies(&self->c);
		ASSERT_EQ(0, kc_rcar_sample(&self->c, keys[i], &token));
		ASSERT_EQ(0, kc_request(&self->c, "GET", "/kbs/v0/resource/veil/keys/model", NULL, NULL,
					0, NULL, &r));
		ASSERT_EQ(200, r.status);
		st = python_decrypt(self->p.dir, keys[i], r.body, hex, sizeof(hex));
		if (st == 3)
			SKIP("python3-jwcrypto is not installed (scripts/deps installs it)");
		EXPECT_EQ(0, st);
		EXPECT_STREQ(want, hex);
		kc_resp_done(&r);
		free(token);
		EVP_PKEY_free(keys[i]);
	}
}

static char *admin_jwt(EVP_PKEY *k, const char *role, long exp_delta)
{
	json_t *h = json_pack("{s:s, s:s}", "alg", "EdDSA", "typ", "JWT");
	json_t *p = json_pack("{s:I}", "exp", (json_int_t)(time(NULL) + exp_delta));
	char *t = NULL;

	if (role)
		json_object_set_new(p, "role", json_string(role));
	if (exp_delta == 0)
		json_object_del(p, "exp");
	attest_jws_sign(k, h, p, &t);
	json_decref(h);
	json_decref(p);
	return t;
}

TEST_F(kbs, admin_calls_need_an_unexpired_eddsa_token_with_an_allowed_role)
{
	EVP_PKEY *mine = NULL, *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct {
		EVP_PKEY **k;
		const char *role;
		long exp;
		long want;
	} cases[] = {
		{ &mine, "admin", 300, 200 },
		{ &mine, "admin", -3600, 401 },	/* expired */
		{ &mine, "admin", 0, 401 },	/* no exp */
		{ &mine, NULL, 300, 401 },	/* no role */
		{ &mine, "reader", 300, 401 },	/* role not allowed */
		{ &other, "admin", 300, 401 },	/* someone else's key */
	};
	char type[64];

	ASSERT_EQ(0, attest_key_load_pem(self->p.admin_key, &mine));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *t = admin_jwt(*cases[i].k, cases[i].role, cases[i].exp);
		struct kc_resp r;

		ASSERT_NONNULL(t);
		ASSERT_EQ(0, kc_request(&self->c, "POST", "/kbs/v0/resource/veil/keys/x",
					"application/octet-stream", "v", 1, t, &r));
		if (r.status != cases[i].want)
			harness_fail(__FILE__, __LINE__, false, "case %zu: status %ld, expected %ld", i,
				     r.status, cases[i].want);
		if (cases[i].want != 200)
			EXPECT_STREQ("AdminAuthInitialization", kc_error_type(&r, type, sizeof(type)));
		kc_resp_done(&r);
		free(t);
	}
	EVP_PKEY_free(mine);
	EVP_PKEY_free(other);
}

TEST_F(kbs, resources_are_0600_flat_files_and_delete_removes_them)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/state/repository/veil\\x2Fkeys\\x2Fmodel", self->p.dir);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	EXPECT_EQ(strlen(secret), st.st_size);
	ASSERT_EQ(0, kbs_proc_admin(&self->p, "delete-resource veil/keys/model"));
	EXPECT_NE(0, stat(path, &st));
	/* Deleting again: the resource is missing, the tool fails. */
	EXPECT_NE(0, kbs_proc_admin(&self->p, "delete-resource veil/keys/model"));
}

TEST_F(kbs, malformed_policy_is_rejected_at_upload_with_the_reason)
{
	const char *bad = "{\"version\":1,\"rules\":[{\"resources\":[\"veil/keys/*\"],"
			  "\"claims\":{\"snp.measurement\":{\"greater\":1}}}]}";
	char *b64, *body, type[64];
	struct kc_resp r;

	ASSERT_GE(b64url_encode(bad, strlen(bad), &b64), 0);
	ASSERT_GE(asprintf(&body, "{\"policy\":\"%s\"}", b64), 0);
	ASSERT_EQ(0, kc_request(&self->c, "POST", "/kbs/v0/resource-policy", NULL, body, strlen(body),
				self->p.admin_token, &r));
	EXPECT_EQ(401, r.status);
	EXPECT_STREQ("ParsePolicyError", kc_error_type(&r, type, sizeof(type)));
	EXPECT_NONNULL(strstr(r.body, "unknown operator 'greater'"));
	kc_resp_done(&r);
	/* veil kbs-admin checks before it uploads, and fails. */
	char path[512];
	snprintf(path, sizeof(path), "%s/bad.json", self->p.dir);
	ASSERT_EQ(0, fd_write_file_atomic(path, bad, strlen(bad), 0600));
	EXPECT_EQ(1, kbs_proc_admin(&self->p, "set-policy %s", path));
	/* The policy in force is still the old one, readable by the admin. */
	ASSERT_EQ(0, kc_request(&self->c, "GET", "/kbs/v0/resource-policy", NULL, NULL, 0,
				self->p.admin_token, &r));
	EXPECT_EQ(200, r.status);
	EXPECT_STREQ(allow_sample, r.body);
	kc_resp_done(&r);
	free(body);
	free(b64);
}

TEST_F(kbs, healthz_and_prometheus_metrics_answer)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct kc_resp r;
	char *token = NULL;

	ASSERT_EQ(0, kc_request(&self->c, "GET", "/healthz", NULL, NULL, 0, NULL, &r));
	EXPECT_EQ(200, r.status);
	kc_resp_done(&r);
	ASSERT_EQ(0, kc_rcar_sample(&self->c, k, &token));
	ASSERT_EQ(0, kc_request(&self->c, "GET", "/metrics", NULL, NULL, 0, NULL, &r));
	EXPECT_EQ(200, r.status);
	EXPECT_NONNULL(strstr(r.body, "veil_kbs_attestations_total{result=\"ok\"} 1\n"));
	EXPECT_NONNULL(strstr(r.body, "veil_kbs_verify_seconds_total "));
	EXPECT_NONNULL(strstr(r.body, "# TYPE veil_kbs_sessions gauge\n"));
	kc_resp_done(&r);
	free(token);
	EVP_PKEY_free(k);
}

/* ---- the malformed-request table --------------------------------------------- */

enum { NONE, SESSION, ADMIN, BAD_COOKIE };

#define EC_KEY_OK "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\"," \
		  "\"x\":\"p5mwVFh9YRDo3Qlw-UFabQjnnMeXHrkbNEA1GMkk8y4\",\"y\":\"Jp8vFYeDXQGQmhqafuY0Ht1GAbUDerdErxISSNCoJI8\"}"
#define ATT(rt, te) "{\"runtime-data\":" rt ",\"tee-evidence\":" te "}"
#define RT(key) "{\"nonce\":\"@NONCE@\",\"tee-pubkey\":" key "}"
#define TE_OK "{\"primary_evidence\":{\"svn\":\"1\",\"report_data\":\"AAAA\"},\"additional_evidence\":\"\"}"

static const struct {
	const char *method, *path, *body;
	int auth;
	long status;
	const char *type;
} bad[] = {
	/* /auth */
	{ "POST", "/kbs/v0/auth", "", NONE, 401, "AttestationError" },
	{ "POST", "/kbs/v0/auth", "{", NONE, 401, "AttestationError" },
	{ "POST", "/kbs/v0/auth", "[]", NONE, 401, "AttestationError" },
	{ "POST", "/kbs/v0/auth", "{\"tee\":\"sample\",\"extra-params\":\"\"}", NONE, 401, "AttestationError" },
	{ "POST", "/kbs/v0/auth", "{\"version\":\"0.4.0\",\"extra-params\":\"\"}", NONE, 401, "AttestationError" },
	{ "POST", "/kbs/v0/auth", "{\"version\":\"0.4.0\",\"tee\":\"sample\"}", NONE, 401, "AttestationError" },
	{ "POST", "/kbs/v0/auth", "{\"version\":\"0.4.0\",\"tee\":\"nosuch\",\"extra-params\":\"\"}", NONE, 401, "AttestationError" },
	{ "POST", "/kbs/v0/auth", "{\"version\":\"0.4.0\",\"tee\":\"SAMPLE\",\"extra-params\":\"\"}", NONE, 401, "AttestationError" },
	{ "POST", "/kbs/v0/auth", "{\"version\":4,\"tee\":\"sample\",\"extra-params\":\"\"}", NONE, 401, "AttestationError" },
	{ "POST", "/kbs/v0/auth", "{\"version\":\"0.4.1\",\"tee\":\"sample\",\"extra-params\":\"\"}", NONE, 401, "AttestationError" },
	{ "POST", "/kbs/v0/auth", "{\"version\":\"0.4.0\",\"version\":\"0.4.0\",\"tee\":\"sample\",\"extra-params\":\"\"}", NONE, 401, "AttestationError" },
	{ "POST", "/kbs/v0/auth", "{\"version\":\"0.4.0\",\"tee\":\"sam\xffple\",\"extra-params\":\"\"}", NONE, 401, "AttestationError" },
	/* /attest, on a fresh session */
	{ "POST", "/kbs/v0/attest", "", SESSION, 401, "AttestationError" },
	{ "POST", "/kbs/v0/attest", "{}", SESSION, 401, "AttestationError" },
	{ "POST", "/kbs/v0/attest", ATT("{\"tee-pubkey\":" EC_KEY_OK "}", TE_OK), SESSION, 401, "AttestationError" },
	{ "POST", "/kbs/v0/attest", ATT("{\"nonce\":\"AAAA\",\"tee-pubkey\":" EC_KEY_OK "}", TE_OK), SESSION, 401, "AttestationError" },
	{ "POST", "/kbs/v0/attest", ATT(RT("{\"kty\":\"oct\",\"alg\":\"A256KW\",\"k\":\"AAAA\"}"), TE_OK), SESSION, 401, "AttestationError" },
	{ "POST", "/kbs/v0/attest", ATT(RT("{\"kty\":\"EC\",\"crv\":\"P-384\",\"alg\":\"ECDH-ES+A256KW\",\"x\":\"AA\",\"y\":\"AA\"}"), TE_OK), SESSION, 401, "AttestationError" },
	{ "POST", "/kbs/v0/attest", ATT(RT("{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\",\"kid\":\"k\",\"x\":\"p5mwVFh9YRDo3Qlw-UFabQjnnMeXHrkbNEA1GMkk8y4\",\"y\":\"Jp8vFYeDXQGQmhqafuY0Ht1GAbUDerdErxISSNCoJI8\"}"), TE_OK), SESSION, 401, "AttestationError" },
	{ "POST", "/kbs/v0/attest", ATT(RT(EC_KEY_OK), "{\"primary_evidence\":{\"svn\":\"1\",\"report_data\":\"AAAA\"}}"), SESSION, 401, "AttestationError" },
	{ "POST", "/kbs/v0/attest", ATT(RT(EC_KEY_OK), "{\"primary_evidence\":{},\"additional_evidence\":{}}"), SESSION, 401, "AttestationError" },
	{ "POST", "/kbs/v0/attest", ATT(RT(EC_KEY_OK), "{\"additional_evidence\":\"\"}"), SESSION, 401, "AttestationError" },
	{ "POST", "/kbs/v0/attest", ATT(RT(EC_KEY_OK), "{\"primary_evidence\":{\"svn\":\"1\",\"report_data\":\"!!\"},\"additional_evidence\":\"\"}"), SESSION, 401, "AttestationError" },
	{ "POST", "/kbs/v0/attest", ATT(RT(EC_KEY_OK), TE_OK), SESSION, 401, "AttestationError" },	/* binding */
	{ "POST", "/kbs/v0/attest", "{\"init-data\":{\"format\":\"json\",\"body\":\"{}\"},\"runtime-data\":" RT(EC_KEY_OK) ",\"tee-evidence\":" TE_OK "}", SESSION, 401, "AttestationError" },
	{ "POST", "/kbs/v0/attest", ATT(RT(EC_KEY_OK), TE_OK), NONE, 401, "AttestationError" },
	{ "POST", "/kbs/v0/attest", ATT(RT(EC_KEY_OK), TE_OK), BAD_COOKIE, 401, "AttestationError" },
	/* resources */
	{ "GET", "/kbs/v0/resource/a/b", NULL, NONE, 401, "PluginInternalError" },
	{ "GET", "/kbs/v0/resource/a/b/c/d", NULL, NONE, 401, "PluginInternalError" },
	{ "GET", "/kbs/v0/resource/.a/b/c", NULL, NONE, 401, "PluginInternalError" },
	{ "GET", "/kbs/v0/resource/a/%2e%2e/c", NULL, NONE, 401, "PluginInternalError" },
	{ "GET", "/kbs/v0/resource/a/b%2fc/d", NULL, NONE, 401, "PluginInternalError" },
	{ "GET", "/kbs/v0/resource/veil/keys/model", NULL, NONE, 401, "TokenNotFound" },
	{ "GET", "/kbs/v0/resource/veil/keys/model", NULL, SESSION, 401, "TokenNotFound" },
	{ "GET", "/kbs/v0/resource/veil/keys/model", "bearer:garbage", NONE, 401, "TokenVerifierError" },
	{ "GET", "/kbs/v0/resource/veil/keys/model", "bearer:eyJhbGciOiJub25lIn0.eyJleHAiOjk5OTk5OTk5OTl9.", NONE, 401, "TokenVerifierError" },
	/* routing */
	{ "GET", "/kbs/v0/auth", NULL, NONE, 404, "PluginNotFound" },
	{ "GET", "/kbs/v0/attest", NULL, NONE, 404, "PluginNotFound" },
	{ "PUT", "/kbs/v0/nosuch", "x", NONE, 404, "PluginNotFound" },
	{ "GET", "/kbs/v0/", NULL, NONE, 404, "InvalidRequestPath" },
	{ "GET", "/kbs/v1/auth", NULL, NONE, 404, "" },
	/* admin */
	{ "POST", "/kbs/v0/resource-policy", "{\"policy\":\"e30\"}", NONE, 401, "AdminAuthAccess" },
	{ "POST", "/kbs/v0/attestation-policy", "{\"policy\":\"e30\"}", NONE, 401, "AdminAuthAccess" },
	{ "GET", "/kbs/v0/resource-policy", NULL, NONE, 401, "AdminAuthAccess" },
	{ "POST", "/kbs/v0/resource/a/b/c", "x", NONE, 401, "AdminAuthInitialization" },
	{ "DELETE", "/kbs/v0/resource/a/b/c", NULL, NONE, 401, "AdminAuthInitialization" },
	{ "POST", "/kbs/v0/resource-policy", "{\"policy\":\"!!\"}", ADMIN, 401, "ParsePolicyError" },
	{ "POST", "/kbs/v0/resource-policy", "{\"policy\":\"e30=\"}", ADMIN, 401, "ParsePolicyError" },
	{ "POST", "/kbs/v0/resource-policy", "{\"policy\":\"e30\"}", ADMIN, 401, "ParsePolicyError" },
	{ "POST", "/kbs/v0/resource-policy", "{}", ADMIN, 401, "ParsePolicyError" },
	/* {"version":2,"rules":[]} */
	{ "POST", "/kbs/v0/resource-policy", "{\"policy\":\"eyJ2ZXJzaW9uIjoyLCJydWxlcyI6W119\"}", ADMIN, 401, "ParsePolicyError" },
	{ "DELETE", "/kbs/v0/resource/veil/keys/absent", NULL, ADMIN, 401, "PluginInternalError" },
};

TEST_F(kbs, malformed_requests_get_the_expected_status_and_error_type)
{
	char type[64];
	size_t fails = 0;

	ASSERT_GE(ARRAY_SIZE(bad), 30);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *bearer = NULL, *body = bad[i].body;
		char *nonce = NULL, *real = NULL;
		struct kc_resp r;

		kc_forget_cookies(&self->c);
		curl_easy_setopt(self->c.h, CURLOPT_COOKIE, NULL);
		if (bad[i].auth == SESSION)
			ASSERT_EQ(0, kc_auth(&self->c, "sample", &nonce));
		if (bad[i].auth == BAD_COOKIE)
			curl_easy_setopt(self->c.h, CURLOPT_COOKIE,
					 "kbs-session-id=00000000000000000000000000000000");
		if (bad[i].auth == ADMIN)
			bearer = self->p.admin_token;
		if (body && strncmp(body, "bearer:", 7) == 0) {
			bearer = body + 7;
			body = NULL;
		}
		if (body && nonce && strstr(body, "@NONCE@")) {
			const char *at = strstr(body, "@NONCE@");

			ASSERT_GE(asprintf(&real, "%.*s%s%s", (int)(at - body), body, nonce, at + 7), 0);
			body = real;
		}
		ASSERT_EQ(0, kc_request(&self->c, bad[i].method, bad[i].path, NULL, body,
					body ? strlen(body) : 0, bearer, &r));
		kc_error_type(&r, type, sizeof(type));
		if (r.status != bad[i].status || strcmp(type, bad[i].type) != 0) {
			harness_fail(__FILE__, __LINE__, false, "case %zu %s %s: got %ld '%s' (%s), expected %ld '%s'",
				     i, bad[i].method, bad[i].path, r.status, type, r.body ? r.body : "",
				     bad[i].status, bad[i].type);
			fails++;
		}
		kc_resp_done(&r);
		free(real);
		free(nonce);
	}
	TH_LOG("%zu malformed requests, %zu unexpected answers", ARRAY_SIZE(bad), fails);
	/* The server survived all of them. */
	struct kc_resp r;
	ASSERT_EQ(0, kc_request(&self->c, "GET", "/healthz", NULL, NULL, 0, NULL, &r));
	EXPECT_EQ(200, r.status);
	kc_resp_done(&r);
}

TEST_F(kbs, oversized_bodies_are_refused_before_they_are_read)
{
	size_t n = (2u << 20) + 1;
	char *big = malloc(n), type[64];
	struct kc_resp r;

	ASSERT_NONNULL(big);
	memset(big, 'a', n);
	ASSERT_EQ(0, kc_request(&self->c, "POST", "/kbs/v0/auth", NULL, big, n, NULL, &r));
	EXPECT_EQ(413, r.status);
	EXPECT_STREQ("PayloadTooLarge", kc_error_type(&r, type, sizeof(type)));
	kc_resp_done(&r);
	free(big);
}
