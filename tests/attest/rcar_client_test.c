// SPDX-License-Identifier: GPL-2.0-only
/*
 * The RCAR client against a scripted KBS over real HTTPS on loopback. The
 * scripted KBS does the real protocol checks with veil's own pieces (binding,
 * sample verifier, JWE) and injects one fault per test; every fault must fail
 * closed with its own message.
 */
#include "tests/harness.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attest/binding.h"
#include "attest/jwe.h"
#include "attest/jwk.h"
#include "attest/rcar.h"
#include "lib/fd.h"
#include "lib/json.h"
#include "lib/secmem.h"

enum fault {
	F_NONE,
	F_AUTH_500_ALWAYS,
	F_AUTH_500_ONCE,
	F_AUTH_SLOW,
	F_AUTH_GARBAGE,
	F_AUTH_VERSION,		/* what Trustee answers to another protocol version */
	F_RESOURCE_404,
	F_RESOURCE_401_ALWAYS,
	F_RESOURCE_401_ONCE,
	F_JWE_TRUNCATED,
	F_JWE_BITFLIP,
	F_JWE_WRONG_CURVE,
};

static const char secret[] = "the model key, 32 bytes of it!!";

static struct {
	enum fault fault;
	char nonce[64];
	EVP_PKEY *tee_key;
	unsigned int auth_calls, attest_calls, resource_calls;
	char last_version[32];
	bool binding_ok;
	pthread_mutex_t lock;
} kbs = { .lock = PTHREAD_MUTEX_INITIALIZER };

struct req {
	char *body;
	size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	if (status == 200 && kbs.auth_calls)
		MHD_add_response_header(r, "Set-Cookie", "kbs-session-id=0123456789abcdef0123456789abcdef");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result error_info(struct MHD_Connection *conn, unsigned int status, const char *type,
				  const char *detail)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"type\":\"https://github.com/confidential-containers/kbs/errors/%s\",\"detail\":\"%s\"}",
		 type, detail);
	return reply(conn, status, body);
}

static enum MHD_Result on_auth(struct MHD_Connection *conn, struct req *rq)
{
	struct vjson_err e;
	const char *version;
	json_t *v = NULL;
	enum MHD_Result ret;

	kbs.auth_calls++;
	if (kbs.fault == F_AUTH_500_ALWAYS || (kbs.fault == F_AUTH_500_ONCE && kbs.auth_calls == 1))
		return error_info(conn, 500, "InternalError", "storage unavailable");
	if (kbs.fault == F_AUTH_SLOW)
		sleep(2);
	if (kbs.fault == F_AUTH_GARBAGE)
		return reply(conn, 200, "{\"nonce\": 12, garbage");
	if (vjson_parse(rq->body, rq->len, 65536, 8, &v, &e) < 0 ||
	    vjson_get_string(v, "", "version", 31, &version, &e) < 0)
		return error_info(conn, 401, "AttestationError", "bad request");
	snprintf(kbs.last_version, sizeof(kbs.last_version), "%s", version);
	json_decref(v);
	if (kbs.fault == F_AUTH_VERSION)
		return error_info(conn, 401, "AttestationError",
				  "Attestation error: RCAR handshake Auth failed: KBS Client Protocol Version Mismatch: expect =9.9.9 while the request is 0.4.0");
	snprintf(kbs.nonce, sizeof(kbs.nonce), "O9/rTFmlLK1ByBAfi/8cFoswdBovLMZPwbszvdgD%04u=",
		 kbs.auth_calls % 10000);
	{
		char body[256];

		snprintf(body, sizeof(body), "{\"nonce\":\"%s\",\"extra-params\":\"\"}", kbs.nonce);
		ret = reply(conn, 200, body);
	}
	return ret;
}

static enum MHD_Result on_attest(struct MHD_Connection *conn, struct req *rq)
{
	uint8_t binding[ATTEST_BINDING_LEN];
	struct vjson_err e;
	json_t *v = NULL, *rd, *pk, *te, *claims = NULL;
	const char *nonce;
	char err[256];
	int r;

	kbs.attest_calls++;
	if (vjson_parse(rq->body, rq->len, 1 << 20, 16, &v, &e) < 0)
		return error_info(conn, 401, "SerdeError", "bad json");
	rd = json_object_get(v, "runtime-data");
	pk = json_object_get(rd, "tee-pubkey");
	te = json_object_get(v, "tee-evidence");
	nonce = json_string_value(json_object_get(rd, "nonce"));
	EVP_PKEY_free(kbs.tee_key);
	kbs.tee_key = NULL;
	/* The real checks: echoed nonce, exactly the JWK members, binding in the evidence. */
	kbs.binding_ok = nonce && strcmp(nonce, kbs.nonce) == 0 && json_object_size(pk) == 5 &&
			 attest_jwk_parse_tee_key(pk, &kbs.tee_key, err, sizeof(err)) == 0 &&
			 attest_binding(nonce, pk, json_string_value(json_object_get(te, "additional_evidence")),
					binding) == 0 &&
			 (r = attest_verify("sample", json_object_get(te, "primary_evidence"), binding,
					    NULL, &claims, err, sizeof(err))) == 0;
	json_decref(claims);
	json_decref(v);
	if (!kbs.binding_ok)
		return error_info(conn, 401, "AttestationError", "Attestation error: RCAR handshake Attest failed");
	return reply(conn, 200, "{\"token\":\"eyJhbGciOiJFUzI1NiJ9.e30.c2ln\"}");
}

static enum MHD_Result on_resource(struct MHD_Connection *conn, const char *url)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	EVP_PKEY *to = kbs.tee_key, *other = NULL;
	char *jwe = NULL;
	enum MHD_Result ret;
	int r;

	kbs.resource_calls++;
	if (strcmp(url, "/kbs/v0/resource/default/key/model") != 0 || kbs.fault == F_RESOURCE_404)
		return error_info(conn, 404, "PluginNotFound", "Plugin nosuch not found");
	if (!auth || strcmp(auth, "Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln") != 0)
		return error_info(conn, 401, "TokenNotFound", "Attestation Token not found");
	if (kbs.fault == F_RESOURCE_401_ALWAYS ||
	    (kbs.fault == F_RESOURCE_401_ONCE && kbs.resource_calls == 1))
		return error_info(conn, 401, "TokenVerifierError", "Token Verifier error");
	if (kbs.fault == F_JWE_WRONG_CURVE) {
		other = EVP_EC_gen("P-521");
		to = other;
	}
	if (!to)
		return error_info(conn, 401, "TokenNotFound", "Attestation Token not found");
	r = attest_jwe_encrypt(to, secret, sizeof(secret), &jwe);
	EVP_PKEY_free(other);
	if (r < 0)
		return error_info(conn, 401, "JweError", "encrypt");
	if (kbs.fault == F_JWE_TRUNCATED)
		jwe[strlen(jwe) / 2] = '\0';
	if (kbs.fault == F_JWE_BITFLIP) {
		/* A character inside the ciphertext member. */
		char *ct = strstr(jwe, "\"ciphertext\":\"");

		if (ct)
			ct[16] = ct[16] == 'A' ? 'B' : 'A';
	}
	ret = reply(conn, 200, jwe);
	free(jwe);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *data,
			       size_t *data_size, void **con_cls)
{
	struct req *rq = *con_cls;
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		*con_cls = rq;
		return rq ? MHD_YES : MHD_NO;
	}
	if (*data_size) {
		char *nb = realloc(rq->body, rq->len + *data_size + 1);

		if (!nb)
			return MHD_NO;
		rq->body = nb;
		memcpy(rq->body + rq->len, data, *data_size);
		rq->len += *data_size;
		rq->body[rq->len] = '\0';
		*data_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&kbs.lock);
	if (strcmp(method, "POST") == 0 && strcmp(url, "/kbs/v0/auth") == 0)
		ret = on_auth(conn, rq);
	else if (strcmp(method, "POST") == 0 && strcmp(url, "/kbs/v0/attest") == 0)
		ret = on_attest(conn, rq);
	else if (strcmp(method, "GET") == 0 && strncmp(url, "/kbs/v0/resource/", 17) == 0)
		ret = on_resource(conn, url);
	else
		ret = error_info(conn, 404, "PluginNotFound", "Plugin not found");
	pthread_mutex_unlock(&kbs.lock);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rq) {
		free(rq->body);
		free(rq);
	}
	*con_cls = NULL;
}

FIXTURE(kbs) {
	struct MHD_Daemon *d;
	char dir[64], url[64], ca[128];
};

FIXTURE_SETUP(kbs)
{
	char cmd[1024], *key, *cert;
	size_t n;
	const union MHD_DaemonInfo *info;

	snprintf(self->dir, sizeof(self->dir), "/tmp/veil-rcar-XXXXXX");
	ASSERT_NONNULL(mkdtemp(self->dir));
	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout key.pem -out cert.pem -days 1 -subj /CN=localhost "
		 "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1", self->dir);
	ASSERT_EQ(0, system(cmd));
	snprintf(self->ca, sizeof(self->ca), "%s/cert.pem", self->dir);
	snprintf(cmd, sizeof(cmd), "%s/key.pem", self->dir);
	ASSERT_EQ(0, fd_read_file(cmd, 65536, &key, &n));
	ASSERT_EQ(0, fd_read_file(self->ca, 65536, &cert, &n));
	self->d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD |
				   MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, handler, NULL,
				   MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert,
				   MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	ASSERT_NONNULL(self->d);
	info = MHD_get_daemon_info(self->d, MHD_DAEMON_INFO_BIND_PORT);
	ASSERT_NONNULL(info);
	snprintf(self->url, sizeof(self->url), "https://127.0.0.1:%u", info->port);
	free(key);
	free(cert);
}

FIXTURE_TEARDOWN(kbs)
{
	char cmd[128];

	if (self->d)
		MHD_stop_daemon(self->d);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd) != 0)
		TH_LOG("could not remove %s", self->dir);
}

static int fetch(const char *url, const char *ca, long deadline_ms, struct rcar_client **ret_c,
		 uint8_t **ret, size_t *len, char *err, size_t err_len)
{
	struct rcar_opts o = { .url = url, .ca_file = ca, .tee = "sample", .deadline_ms = deadline_ms,
			       .request_timeout_ms = 1000, .backoff_ms = 50 };
	int r = rcar_new(&o, ret_c);

	if (r < 0)
		return r;
	return rcar_get_resource(*ret_c, "default/key/model", ret, len, err, err_len);
}

#define FETCH_EXPECT(fault_, deadline_, want_r_, want_msg_)                                        \
	do {                                                                                        \
		struct rcar_client *c = NULL;                                                       \
		uint8_t *pt = NULL;                                                                 \
		size_t len = 0;                                                                     \
		char err[RCAR_ERR_MAX] = "";                                                        \
		kbs.fault = (fault_);                                                               \
		EXPECT_EQ(want_r_, fetch(self->url, self->ca, deadline_, &c, &pt, &len, err,         \
					 sizeof(err)));                                             \
		TH_LOG("error: %s", err);                                                           \
		EXPECT_NONNULL(strstr(err, want_msg_));                                             \
		EXPECT_NULL(pt);                                                                    \
		rcar_free(c);                                                                       \
	} while (0)

TEST_F(kbs, releases_the_resource_over_https_with_a_bound_nonce)
{
	struct rcar_client *c = NULL;
	uint8_t *pt = NULL;
	size_t len = 0;
	char err[RCAR_ERR_MAX] = "";

	kbs.fault = F_NONE;
	ASSERT_EQ(0, fetch(self->url, self->ca, 5000, &c, &pt, &len, err, sizeof(err)));
	EXPECT_TRUE(kbs.binding_ok);
	EXPECT_STREQ("0.4.0", kbs.last_version);
	ASSERT_EQ(sizeof(secret), len);
	EXPECT_MEMEQ(secret, pt, len);
	EXPECT_TRUE(secmem_size(pt) >= len);	/* plaintext lives in secure memory */
	EXPECT_EQ(1, rcar_stats(c)->attestations);
	secmem_free(pt);
	rcar_free(c);
}

TEST_F(kbs, unpinned_ca_is_refused)
{
	struct rcar_opts o = { .url = self->url, .ca_file = "/etc/ssl/certs/ca-certificates.crt",
			       .tee = "sample", .deadline_ms = 500, .backoff_ms = 50 };
	struct rcar_client *c;
	char err[RCAR_ERR_MAX] = "";

	kbs.fault = F_NONE;
	ASSERT_EQ(0, rcar_new(&o, &c));
	EXPECT_GT(0, rcar_attest(c, err, sizeof(err)));
	TH_LOG("error: %s", err);
	EXPECT_EQ(0, kbs.attest_calls);
	rcar_free(c);
}

TEST(kbs_down_fails_at_the_deadline)
{
	struct rcar_client *c = NULL;
	uint8_t *pt = NULL;
	size_t len;
	char err[RCAR_ERR_MAX] = "";

	/* Nothing listens on port 1. */
	EXPECT_EQ(-ETIMEDOUT, fetch("https://127.0.0.1:1", NULL, 600, &c, &pt, &len, err, sizeof(err)));
	TH_LOG("error: %s", err);
	EXPECT_NONNULL(strstr(err, "Connection refused"));
	EXPECT_NULL(pt);
	rcar_free(c);
}

TEST_F(kbs, http_500_is_retried_then_fails_at_the_deadline)
{
	FETCH_EXPECT(F_AUTH_500_ALWAYS, 1000, -ETIMEDOUT, "InternalError: storage unavailable");
	EXPECT_GT(kbs.auth_calls, 1);
}

TEST_F(kbs, one_http_500_is_retried_and_succeeds)
{
	struct rcar_client *c = NULL;
	uint8_t *pt = NULL;
	size_t len;
	char err[RCAR_ERR_MAX] = "";

	kbs.fault = F_AUTH_500_ONCE;
	ASSERT_EQ(0, fetch(self->url, self->ca, 5000, &c, &pt, &len, err, sizeof(err)));
	EXPECT_EQ(2, kbs.auth_calls);
	secmem_free(pt);
	rcar_free(c);
}

TEST_F(kbs, slower_than_the_deadline_fails)
{
	FETCH_EXPECT(F_AUTH_SLOW, 1500, -ETIMEDOUT, "deadline");
}

TEST_F(kbs, garbage_challenge_fails_closed)
{
	FETCH_EXPECT(F_AUTH_GARBAGE, 5000, -EBADMSG, "/auth: malformed challenge");
}

TEST_F(kbs, version_mismatch_reports_the_kbs_detail_verbatim)
{
	FETCH_EXPECT(F_AUTH_VERSION, 5000, -EACCES,
		     "AttestationError: Attestation error: RCAR handshake Auth failed: KBS Client Protocol Version Mismatch");
}

TEST_F(kbs, not_found_stops_without_retry)
{
	FETCH_EXPECT(F_RESOURCE_404, 5000, -ENOENT, "PluginNotFound");
	EXPECT_EQ(1, kbs.resource_calls);
}

TEST_F(kbs, expired_token_reattests_once_then_fails)
{
	FETCH_EXPECT(F_RESOURCE_401_ALWAYS, 5000, -EACCES, "TokenVerifierError");
	EXPECT_EQ(2, kbs.attest_calls);
	EXPECT_EQ(2, kbs.resource_calls);
}

TEST_F(kbs, expired_token_reattests_once_and_succeeds)
{
	struct rcar_client *c = NULL;
	uint8_t *pt = NULL;
	size_t len;
	char err[RCAR_ERR_MAX] = "";

	kbs.fault = F_RESOURCE_401_ONCE;
	ASSERT_EQ(0, fetch(self->url, self->ca, 5000, &c, &pt, &len, err, sizeof(err)));
	EXPECT_EQ(2, rcar_stats(c)->attestations);
	secmem_free(pt);
	rcar_free(c);
}

TEST_F(kbs, truncated_jwe_is_rejected)
{
	FETCH_EXPECT(F_JWE_TRUNCATED, 5000, -EBADMSG, "JWE rejected");
}

TEST_F(kbs, bit_flipped_jwe_is_rejected)
{
	FETCH_EXPECT(F_JWE_BITFLIP, 5000, -EKEYREJECTED, "JWE rejected");
}

TEST_F(kbs, jwe_to_another_curve_is_rejected)
{
	FETCH_EXPECT(F_JWE_WRONG_CURVE, 5000, -EKEYREJECTED, "JWE rejected");
}

TEST(invalid_resource_paths_are_refused_before_any_request)
{
	static const char *const bad[] = { "a/b", "a/b/c/d", "../b/c", "a//c", "a/b/", "a/b/c?x",
					   "a/b/%2e%2e", "" };
	struct rcar_opts o = { .url = "https://127.0.0.1:1", .tee = "sample" };
	struct rcar_client *c;
	uint8_t *pt = NULL;
	size_t len;
	char err[RCAR_ERR_MAX];

	ASSERT_EQ(0, rcar_new(&o, &c));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(-EINVAL, rcar_get_resource(c, bad[i], &pt, &len, err, sizeof(err)));
	rcar_free(c);
}
