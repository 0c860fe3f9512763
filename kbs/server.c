// SPDX-License-Identifier: GPL-2.0-only
/*
 * The routes of reference/kbs-protocol.md §1.2 on libmicrohttpd (Debian
 * builds it with GnuTLS). Errors are ErrorInformation bodies with Trustee's
 * status use (404 only for unknown paths and plugins, 401 for the rest) or,
 * with spec_status, 400/403/404 where the protocol document says so.
 */
#include "kbs/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "attest/binding.h"
#include "attest/jwe.h"
#include "attest/jwk.h"
#include "attest/verifier.h"
#include "kbs/policy.h"
#include "kbs/proto.h"
#include "kbs/resource.h"
#include "kbs/session.h"
#include "kbs/token.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"

#define COOKIE "kbs-session-id"
#define ERR_NS "https://github.com/confidential-containers/kbs/errors/"

enum kbs_err {
	E_ATTESTATION,
	E_TOKEN_NOT_FOUND,
	E_TOKEN_VERIFIER,
	E_POLICY_DENY,
	E_PLUGIN_INTERNAL,
	E_RESOURCE_MISSING,
	E_PLUGIN_NOT_FOUND,
	E_INVALID_PATH,
	E_ADMIN_ACCESS,
	E_ADMIN_INIT,
	E_PARSE_POLICY,
	E_JWE,
	E_TOO_LARGE,
};

static const struct {
	const char *type;
	unsigned int trustee, spec;
} errs[] = {
	[E_ATTESTATION] = { "AttestationError", 401, 401 },
	[E_TOKEN_NOT_FOUND] = { "TokenNotFound", 401, 401 },
	[E_TOKEN_VERIFIER] = { "TokenVerifierError", 401, 401 },
	[E_POLICY_DENY] = { "PolicyDeny", 401, 403 },
	[E_PLUGIN_INTERNAL] = { "PluginInternalError", 401, 400 },
	[E_RESOURCE_MISSING] = { "PluginInternalError", 401, 404 },
	[E_PLUGIN_NOT_FOUND] = { "PluginNotFound", 404, 404 },
	[E_INVALID_PATH] = { "InvalidRequestPath", 404, 404 },
	[E_ADMIN_ACCESS] = { "AdminAuthAccess", 401, 403 },
	[E_ADMIN_INIT] = { "AdminAuthInitialization", 401, 403 },
	[E_PARSE_POLICY] = { "ParsePolicyError", 401, 400 },
	[E_JWE] = { "JweError", 401, 500 },
	[E_TOO_LARGE] = { "PayloadTooLarge", 413, 413 },
};

enum { M_AUTH, M_ATTEST, M_RESOURCE, M_ADMIN, M_OTHER, M_N };
static const char *const m_names[M_N] = { "auth", "attest", "resource", "admin", "other" };

struct kbs_server {
	const struct kbs_config *cfg;
	struct kbs_store *store;
	struct kbs_token_signer signer;
	pthread_rwlock_t policy_lock;
	struct kbs_policy *resource_policy, *appraisal_policy;
	char *resource_policy_text;
	pthread_mutex_t write_lock;
	struct MHD_Daemon *d;
	char *tls_key_pem, *tls_cert_pem;
	/* /metrics */
	atomic_ulong requests[M_N], errors[M_N];
	atomic_ulong attest_ok, attest_fail, released, denied, missing;
	atomic_ullong verify_ns, handler_ns;
};

struct req {
	char *body;
	size_t len, cap;
	bool too_big;
	struct timespec t0;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static uint64_t ns_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0->tv_sec) * 1000000000ull + (uint64_t)(t.tv_nsec - t0->tv_nsec);
}

static enum MHD_Result send_body(struct MHD_Connection *c, unsigned int status, const char *ctype,
				 const void *body, size_t len, const char *cookie)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (cookie)
		MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct kbs_server *s, struct MHD_Connection *c, int module,
				  enum kbs_err e, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static enum MHD_Result send_error(struct kbs_server *s, struct MHD_Connection *c, int module,
				  enum kbs_err e, const char *fmt, ...)
{
	char detail[1024];
	_cleanup_free_ char *body = NULL;
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	atomic_fetch_add(&s->errors[module], 1);
	o = json_pack("{s:s+, s:s}", "type", ERR_NS, errs[e].type, "detail", detail);
	body = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!body)
		return MHD_NO;
	return send_body(c, s->cfg->spec_status ? errs[e].spec : errs[e].trustee, "application/json",
			 body, strlen(body), NULL);
}

static void cookie_for(const struct kbs_session *sess, char *out, size_t len)
{
	char date[64];
	time_t t = (time_t)sess->expires;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(out, len, COOKIE "=%s; Expires=%s", sess->id, date);
}

/* ---- /kbs/v0/auth ---------------------------------------------------------- */

static enum MHD_Result do_auth(struct kbs_server *s, struct MHD_Connection *c, struct req *q)
{
	struct kbs_auth_request ar;
	struct kbs_session sess;
	char err[512], cookie[160], body[128];
	int r;

	r = kbs_parse_auth(q->body, q->len, &ar, err, sizeof(err));
	if (r < 0)
		return send_error(s, c, M_AUTH, E_ATTESTATION,
				  "Attestation error: RCAR handshake Auth failed: %s", err);
	r = kbs_session_new(&sess, ar.tee, now_s() + s->cfg->session_timeout);
	if (r == 0)
		r = s->store->ops->put(s->store, &sess);
	if (r < 0) {
		log_warn("Failed to store a session: %s", strerror(-r));
		return send_error(s, c, M_AUTH, E_ATTESTATION,
				  "Attestation error: RCAR handshake Auth failed: session store: %s",
				  strerror(-r));
	}
	cookie_for(&sess, cookie, sizeof(cookie));
	snprintf(body, sizeof(body), "{\"nonce\":\"%s\",\"extra-params\":\"\"}", sess.nonce);
	return send_body(c, MHD_HTTP_OK, "application/json", body, strlen(body), cookie);
}

/* ---- /kbs/v0/attest -------------------------------------------------------- */

static const char *appraise(struct kbs_server *s, const char *tee, const json_t *ev)
{
	char why[256];
	const char *st;
	json_t *v;

	pthread_rwlock_rdlock(&s->policy_lock);
	if (s->appraisal_policy) {
		st = kbs_policy_affirms(s->appraisal_policy, tee, ev, why, sizeof(why)) ?
			     "affirming" : "contraindicated";
	} else {
		/*
		 * No appraisal policy: verified hardware evidence affirms; sample
		 * evidence proves nothing (warning); a verifier that could not
		 * check a signature says so with "signature_verified": false.
		 */
		v = json_object_get(json_object_get(ev, tee), "signature_verified");
		st = strcmp(tee, "sample") == 0 ? "warning" :
		     json_is_false(v) ? "contraindicated" : "affirming";
	}
	pthread_rwlock_unlock(&s->policy_lock);
	return st;
}

static int attest_session(struct kbs_server *s, struct kbs_session *sess, struct req *q,
			  char **ret_token, char *err, size_t err_len)
{
	struct kbs_attestation at;
	struct attest_verify_opts opts = { .trust_dir = s->cfg->trust_dir };
	uint8_t binding[ATTEST_BINDING_LEN];
	struct kbs_token_input in = { 0 };
	struct timespec t0;
	json_t *claims = NULL, *rd = NULL, *ev;
	EVP_PKEY *pub = NULL;
	int r;

	r = kbs_parse_attestation(q->body, q->len, &at, err, err_len);
	if (r < 0)
		return r;
	if (strcmp(at.nonce, sess->nonce) != 0) {
		snprintf(err, err_len, "the nonce is not this session's");
		r = -EPERM;
		goto out;
	}
	r = attest_jwk_parse_tee_key(at.tee_pubkey, &pub, err, err_len);
	if (r < 0)
		goto out;
	r = attest_binding(at.nonce, at.tee_pubkey, at.additional_evidence, binding);
	if (r < 0) {
		snprintf(err, err_len, "the binding cannot be computed: %s", strerror(-r));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = attest_verify(sess->tee, at.primary_evidence, binding, &opts, &claims, err, err_len);
	atomic_fetch_add(&s->verify_ns, ns_since(&t0));
	if (r < 0)
		goto out;
	rd = json_pack("{s:s, s:O, s:s}", "nonce", at.nonce, "tee-pubkey", at.tee_pubkey,
		       "additional-evidence", at.additional_evidence);
	ev = json_pack("{s:O, s:O}", sess->tee, claims, "runtime_data_claims", rd);
	if (!rd || !ev) {
		json_decref(ev);
		r = -ENOMEM;
		goto out;
	}
	in.tee = sess->tee;
	in.tee_claims = claims;
	in.runtime_data = rd;
	in.init_data_toml = at.init_data_toml;
	in.status = appraise(s, sess->tee, ev);
	json_decref(ev);
	in.now = now_s();
	in.lifetime = s->cfg->token_lifetime;
	r = kbs_token_issue(&s->signer, &in, ret_token);
out:
	EVP_PKEY_free(pub);
	json_decref(claims);
	json_decref(rd);
	kbs_attestation_done(&at);
	return r;
}

static enum MHD_Result do_attest(struct kbs_server *s, struct MHD_Connection *c, struct req *q)
{
	const char *id = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
	struct kbs_session sess = { 0 };
	char err[512], cookie[160];
	_cleanup_free_ char *body = NULL;
	char *token = NULL;
	enum MHD_Result ret;
	int r;

	if (!id) {
		snprintf(err, sizeof(err), "no " COOKIE " cookie");
		r = -ENOENT;
	} else {
		r = s->store->ops->get(s->store, id, now_s(), &sess);
		snprintf(err, sizeof(err), "session %s", r == -ETIMEDOUT ? "expired" : "not found");
	}
	if (r == 0 && sess.attested) {
		token = sess.token;	/* Trustee returns the stored token without re-verifying */
		sess.token = NULL;
	} else if (r == 0) {
		r = attest_session(s, &sess, q, &token, err, sizeof(err));
		if (r == 0) {
			sess.attested = true;
			sess.token = strdup(token);
			r = sess.token ? s->store->ops->put(s->store, &sess) : -ENOMEM;
			if (r < 0)
				snprintf(err, sizeof(err), "session store: %s", strerror(-r));
		}
	}
	if (r < 0) {
		atomic_fetch_add(&s->attest_fail, 1);
		log_info("RCAR attest failed: %s", err);
		kbs_session_done(&sess);
		free(token);
		return send_error(s, c, M_ATTEST, E_ATTESTATION,
				  "Attestation error: RCAR handshake Attest failed");
	}
	atomic_fetch_add(&s->attest_ok, 1);
	cookie_for(&sess, cookie, sizeof(cookie));
	kbs_session_done(&sess);
	r = asprintf(&body, "{\"token\":\"%s\"}", token);
	free(token);
	if (r < 0)
		return MHD_NO;
	ret = send_body(c, MHD_HTTP_OK, "application/json", body, strlen(body), cookie);
	return ret;
}

/* ---- /kbs/v0/resource ------------------------------------------------------ */

static enum MHD_Result do_get_resource(struct kbs_server *s, struct MHD_Connection *c,
				       const char *path, const struct kbs_resource_path *rp)
{
	const char *id = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	struct kbs_session sess = { 0 };
	_cleanup_free_ char *token = NULL, *jwe = NULL;
	struct wipe_buf data = { 0 };
	uint8_t *raw;
	json_t *claims = NULL;
	const json_t *ev;
	EVP_PKEY *pub = NULL;
	char err[512], why[512];
	int r, allow;

	if (id && s->store->ops->get(s->store, id, now_s(), &sess) == 0 && sess.attested)
		token = TAKE_PTR(sess.token);
	kbs_session_done(&sess);
	if (!token && auth && strncmp(auth, "Bearer ", 7) == 0)
		token = strdup(auth + 7);
	if (!token)
		return send_error(s, c, M_RESOURCE, E_TOKEN_NOT_FOUND, "Attestation Token not found");
	r = kbs_token_verify(&s->signer, token, strlen(token), now_s(), &claims, err, sizeof(err));
	if (r < 0) {
		log_info("Token for '%s' refused: %s", path, err);
		return send_error(s, c, M_RESOURCE, E_TOKEN_VERIFIER, "Token Verifier error");
	}
	ev = kbs_token_evidence(claims);
	pthread_rwlock_rdlock(&s->policy_lock);
	allow = kbs_policy_allows(s->resource_policy, path, kbs_token_tee(claims),
				  kbs_token_status(claims), ev, why, sizeof(why));
	pthread_rwlock_unlock(&s->policy_lock);
	if (!allow) {
		atomic_fetch_add(&s->denied, 1);
		log_info("Resource '%s' denied: %s", path, why);
		json_decref(claims);
		return send_error(s, c, M_RESOURCE, E_POLICY_DENY, "Access denied by policy");
	}
	r = attest_jwk_parse_tee_key(json_object_get(json_object_get(ev, "runtime_data_claims"),
						     "tee-pubkey"), &pub, err, sizeof(err));
	json_decref(claims);
	if (r < 0)
		return send_error(s, c, M_RESOURCE, E_JWE, "JWE error: %s", err);
	r = kbs_resource_get(s->cfg->state_dir, rp, &raw, &data.len);
	if (r < 0) {
		EVP_PKEY_free(pub);
		atomic_fetch_add(&s->missing, 1);
		log_info("Resource '%s' unavailable: %s", path, strerror(-r));
		return send_error(s, c, M_RESOURCE, E_RESOURCE_MISSING, "Plugin internal error");
	}
	data.p = raw;
	r = attest_jwe_encrypt(pub, raw, data.len, &jwe);
	EVP_PKEY_free(pub);
	wipe_bufp(&data);
	if (r < 0)
		return send_error(s, c, M_RESOURCE, E_JWE, "JWE error: %s", strerror(-r));
	atomic_fetch_add(&s->released, 1);
	log_info("Released '%s'", path);
	return send_body(c, MHD_HTTP_OK, "application/json", jwe, strlen(jwe), NULL);
}

/* ---- admin ----------------------------------------------------------------- */

static int admin_ok(struct kbs_server *s, struct MHD_Connection *c, char *err, size_t len)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	return kbs_admin_check(&s->cfg->admin, auth, now_s(), err, len);
}

static int policy_file(struct kbs_server *s, const char *name, char *out, size_t len)
{
	int n;

	n = snprintf(out, len, "%s/policy", s->cfg->state_dir);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (mkdir(out, 0700) < 0 && errno != EEXIST)
		return -errno;
	n = snprintf(out, len, "%s/policy/%s", s->cfg->state_dir, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static enum MHD_Result do_set_policy(struct kbs_server *s, struct MHD_Connection *c,
				     struct req *q, enum kbs_policy_kind kind)
{
	_cleanup_free_ char *text = NULL, *pid = NULL;
	struct kbs_policy *p = NULL, *old;
	char err[512], path[4096];
	size_t len;
	int r;

	r = kbs_parse_policy_upload(q->body, q->len, &text, &len, &pid, err, sizeof(err));
	if (r == 0)
		r = kbs_policy_parse(text, len, kind, &p, err, sizeof(err));
	if (r < 0)
		return send_error(s, c, M_ADMIN, E_PARSE_POLICY, "Parse policy error: %s", err);
	/* One appraisal policy: Trustee's KBS only ever evaluates default_cpu. */
	r = policy_file(s, kind == KBS_POLICY_RESOURCE ? "resource.json" : "attestation.json", path,
			sizeof(path));
	pthread_mutex_lock(&s->write_lock);
	if (r == 0)
		r = fd_write_file_atomic(path, text, len, 0600);
	pthread_mutex_unlock(&s->write_lock);
	if (r < 0) {
		kbs_policy_free(p);
		log_err("Failed to store policy '%s': %s", path, strerror(-r));
		return send_error(s, c, M_ADMIN, E_PLUGIN_INTERNAL, "Plugin internal error");
	}
	pthread_rwlock_wrlock(&s->policy_lock);
	if (kind == KBS_POLICY_RESOURCE) {
		old = s->resource_policy;
		s->resource_policy = p;
		free(s->resource_policy_text);
		s->resource_policy_text = TAKE_PTR(text);
	} else {
		old = s->appraisal_policy;
		s->appraisal_policy = p;
	}
	pthread_rwlock_unlock(&s->policy_lock);
	kbs_policy_free(old);
	log_info("Set the %s policy", kind == KBS_POLICY_RESOURCE ? "resource" : "attestation");
	return send_body(c, MHD_HTTP_OK, NULL, "", 0, NULL);
}

static enum MHD_Result do_admin(struct kbs_server *s, struct MHD_Connection *c, struct req *q,
				const char *url, const char *method, const char *what,
				const struct kbs_resource_path *rp)
{
	char err[512];
	int r;

	if (admin_ok(s, c, err, sizeof(err)) < 0) {
		log_info("Admin request %s '%s' refused: %s", method, url, err);
		if (rp)
			return send_error(s, c, M_ADMIN, E_ADMIN_INIT,
					  "failed to initialize [admin] configuration: %s", err);
		return send_error(s, c, M_ADMIN, E_ADMIN_ACCESS, "admin access denied for endpoint %s",
				  url);
	}
	if (strcmp(what, "attestation-policy") == 0)
		return do_set_policy(s, c, q, KBS_POLICY_APPRAISAL);
	if (strcmp(what, "resource-policy") == 0 && strcmp(method, "POST") == 0)
		return do_set_policy(s, c, q, KBS_POLICY_RESOURCE);
	if (strcmp(what, "resource-policy") == 0) {
		_cleanup_free_ char *text = NULL;

		pthread_rwlock_rdlock(&s->policy_lock);
		text = strdup(s->resource_policy_text ? s->resource_policy_text :
							"{\"version\":1,\"rules\":[]}");
		pthread_rwlock_unlock(&s->policy_lock);
		if (!text)
			return MHD_NO;
		return send_body(c, MHD_HTTP_OK, "application/json", text, strlen(text), NULL);
	}
	pthread_mutex_lock(&s->write_lock);
	if (strcmp(method, "DELETE") == 0)
		r = kbs_resource_delete(s->cfg->state_dir, rp);
	else
		r = kbs_resource_put(s->cfg->state_dir, rp, q->body, q->len);
	pthread_mutex_unlock(&s->write_lock);
	if (r < 0) {
		log_info("%s resource '%s' failed: %s", method, url, strerror(-r));
		return send_error(s, c, M_ADMIN, r == -ENOENT ? E_RESOURCE_MISSING : E_PLUGIN_INTERNAL,
				  "Plugin internal error");
	}
	log_info("%s resource %s/%s/%s", method, rp->repo, rp->type, rp->tag);
	return send_body(c, MHD_HTTP_OK, NULL, "", 0, NULL);
}

/* ---- /metrics -------------------------------------------------------------- */

static enum MHD_Result do_metrics(struct kbs_server *s, struct MHD_Connection *c)
{
	char buf[4096];
	size_t n = 0;

#define OUT(...) (n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, __VA_ARGS__))
	OUT("# HELP veil_kbs_requests_total Requests handled, by endpoint.\n"
	    "# TYPE veil_kbs_requests_total counter\n");
	for (int i = 0; i < M_N; i++)
		OUT("veil_kbs_requests_total{endpoint=\"%s\"} %lu\n", m_names[i],
		    atomic_load(&s->requests[i]));
	OUT("# HELP veil_kbs_errors_total Error responses, by endpoint.\n"
	    "# TYPE veil_kbs_errors_total counter\n");
	for (int i = 0; i < M_N; i++)
		OUT("veil_kbs_errors_total{endpoint=\"%s\"} %lu\n", m_names[i], atomic_load(&s->errors[i]));
	OUT("# TYPE veil_kbs_attestations_total counter\n"
	    "veil_kbs_attestations_total{result=\"ok\"} %lu\n"
	    "veil_kbs_attestations_total{result=\"failed\"} %lu\n",
	    atomic_load(&s->attest_ok), atomic_load(&s->attest_fail));
	OUT("# TYPE veil_kbs_resources_total counter\n"
	    "veil_kbs_resources_total{result=\"released\"} %lu\n"
	    "veil_kbs_resources_total{result=\"denied\"} %lu\n"
	    "veil_kbs_resources_total{result=\"missing\"} %lu\n",
	    atomic_load(&s->released), atomic_load(&s->denied), atomic_load(&s->missing));
	OUT("# HELP veil_kbs_verify_seconds_total Time spent in evidence verifiers.\n"
	    "# TYPE veil_kbs_verify_seconds_total counter\n"
	    "veil_kbs_verify_seconds_total %.6f\n",
	    (double)atomic_load(&s->verify_ns) / 1e9);
	OUT("# HELP veil_kbs_handler_seconds_total Time spent in request handlers (body read to reply).\n"
	    "# TYPE veil_kbs_handler_seconds_total counter\n"
	    "veil_kbs_handler_seconds_total %.6f\n",
	    (double)atomic_load(&s->handler_ns) / 1e9);
	OUT("# TYPE veil_kbs_sessions gauge\nveil_kbs_sessions %zu\n", s->store->ops->count(s->store));
#undef OUT
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	return send_body(c, MHD_HTTP_OK, "text/plain; version=0.0.4", buf, n, NULL);
}

/* ---- routing --------------------------------------------------------------- */

static enum MHD_Result route(struct kbs_server *s, struct MHD_Connection *c, const char *url,
			     const char *method, struct req *q)
{
	static const char prefix[] = "/kbs/v0/";
	struct kbs_resource_path rp;
	char first[64];
	const char *rest, *slash;
	size_t n;

	if (strncmp(url, prefix, sizeof(prefix) - 1) != 0) {
		atomic_fetch_add(&s->requests[M_OTHER], 1);
		if (strcmp(method, "GET") == 0 && strcmp(url, "/healthz") == 0)
			return send_body(c, MHD_HTTP_OK, NULL, "", 0, NULL);
		if (strcmp(method, "GET") == 0 && strcmp(url, "/metrics") == 0)
			return do_metrics(s, c);
		return send_body(c, MHD_HTTP_NOT_FOUND, NULL, "", 0, NULL);
	}
	if (q->too_big) {
		atomic_fetch_add(&s->requests[M_OTHER], 1);
		return send_error(s, c, M_OTHER, E_TOO_LARGE, "request body exceeds %u bytes",
				  KBS_BODY_MAX);
	}
	rest = url + sizeof(prefix) - 1;
	slash = strchr(rest, '/');
	n = slash ? (size_t)(slash - rest) : strlen(rest);
	if (n == 0 || n >= sizeof(first)) {
		atomic_fetch_add(&s->requests[M_OTHER], 1);
		return send_error(s, c, M_OTHER, E_INVALID_PATH, "Invalid Request Path");
	}
	memcpy(first, rest, n);
	first[n] = 0;
	if (!slash && strcmp(method, "POST") == 0) {
		if (strcmp(first, "auth") == 0) {
			atomic_fetch_add(&s->requests[M_AUTH], 1);
			return do_auth(s, c, q);
		}
		if (strcmp(first, "attest") == 0) {
			atomic_fetch_add(&s->requests[M_ATTEST], 1);
			return do_attest(s, c, q);
		}
	}
	if (!slash && (strcmp(first, "attestation-policy") == 0 && strcmp(method, "POST") == 0)) {
		atomic_fetch_add(&s->requests[M_ADMIN], 1);
		return do_admin(s, c, q, url, method, first, NULL);
	}
	if (!slash && strcmp(first, "resource-policy") == 0 &&
	    (strcmp(method, "POST") == 0 || strcmp(method, "GET") == 0)) {
		atomic_fetch_add(&s->requests[M_ADMIN], 1);
		return do_admin(s, c, q, url, method, first, NULL);
	}
	if (strcmp(first, "resource") == 0) {
		bool get = strcmp(method, "GET") == 0;

		atomic_fetch_add(&s->requests[get ? M_RESOURCE : M_ADMIN], 1);
		if (!slash || kbs_resource_path_parse(slash + 1, &rp) < 0) {
			log_info("Bad resource path '%s'", url);
			return send_error(s, c, get ? M_RESOURCE : M_ADMIN, E_PLUGIN_INTERNAL,
					  "Plugin internal error");
		}
		if (get)
			return do_get_resource(s, c, slash + 1, &rp);
		if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
		    strcmp(method, "DELETE") == 0)
			return do_admin(s, c, q, url, method, first, &rp);
		return send_error(s, c, M_ADMIN, E_PLUGIN_INTERNAL, "Plugin internal error");
	}
	atomic_fetch_add(&s->requests[M_OTHER], 1);
	return send_error(s, c, M_OTHER, E_PLUGIN_NOT_FOUND, "Plugin %s not found", first);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct kbs_server *s = cls;
	struct req *q = *con_cls;
	enum MHD_Result ret;

	(void)version;
	if (!q) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");

		q = calloc(1, sizeof(*q));
		if (!q)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &q->t0);
		*con_cls = q;
		/* Refuse a declared oversize body before reading any of it. */
		if (cl && strtoull(cl, NULL, 10) > KBS_BODY_MAX) {
			q->too_big = true;
			atomic_fetch_add(&s->requests[M_OTHER], 1);
			return send_error(s, c, M_OTHER, E_TOO_LARGE, "request body exceeds %u bytes",
					  KBS_BODY_MAX);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!q->too_big && q->len + *upload_size <= KBS_BODY_MAX) {
			if (q->len + *upload_size > q->cap) {
				size_t ncap = q->cap ? q->cap : 4096;
				char *nb;

				while (ncap < q->len + *upload_size)
					ncap *= 2;
				nb = realloc(q->body, ncap + 1);
				if (!nb)
					return MHD_NO;
				q->body = nb;
				q->cap = ncap;
			}
			memcpy(q->body + q->len, upload, *upload_size);
			q->len += *upload_size;
		} else {
			q->too_big = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!q->body)
		q->body = calloc(1, 1);
	if (!q->body)
		return MHD_NO;
	q->body[q->len] = 0;
	ret = route(s, c, url, method, q);
	atomic_fetch_add(&s->handler_ns, ns_since(&q->t0));
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *q = *con_cls;

	(void)cls, (void)c, (void)toe;
	if (q) {
		if (q->body)
			explicit_bzero(q->body, q->len);	/* resource uploads are secrets */
		free(q->body);
		free(q);
		*con_cls = NULL;
	}
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	log_internalv(LOG_DEBUG, fmt, ap);
}

/* ---- start/stop ------------------------------------------------------------ */

static int load_policy(struct kbs_server *s, enum kbs_policy_kind kind)
{
	_cleanup_free_ char *text = NULL;
	char path[4096], err[512];
	struct kbs_policy *p;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/policy/%s", s->cfg->state_dir,
		 kind == KBS_POLICY_RESOURCE ? "resource.json" : "attestation.json");
	r = fd_read_file(path, KBS_POLICY_MAX, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return log_err("Failed to read '%s': %s", path, strerror(-r)), r;
	r = kbs_policy_parse(text, len, kind, &p, err, sizeof(err));
	if (r < 0)
		return log_err("Failed to load policy '%s': %s", path, err), r;
	if (kind == KBS_POLICY_RESOURCE) {
		s->resource_policy = p;
		s->resource_policy_text = TAKE_PTR(text);
	} else {
		s->appraisal_policy = p;
	}
	return 0;
}

/* GnuTLS reads PKCS#8 and PKCS#1 PEM; normalise whatever OpenSSL reads to PKCS#8. */
static int load_tls(struct kbs_server *s)
{
	EVP_PKEY *k = NULL;
	BIO *bio;
	size_t len;
	char *p;
	long n;
	int r;

	r = fd_read_file(s->cfg->tls_cert, 1 << 20, &s->tls_cert_pem, &len);
	if (r < 0)
		return log_err("Failed to read certificate '%s': %s", s->cfg->tls_cert, strerror(-r)), r;
	r = attest_key_load_pem(s->cfg->tls_key, &k);
	if (r < 0)
		return log_err("Failed to read private key '%s': %s", s->cfg->tls_key, strerror(-r)), r;
	bio = BIO_new(BIO_s_secmem());
	r = bio && PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) > 0 ? 0 : -EIO;
	EVP_PKEY_free(k);
	if (r == 0) {
		n = BIO_get_mem_data(bio, &p);
		s->tls_key_pem = malloc((size_t)n + 1);
		if (s->tls_key_pem) {
			memcpy(s->tls_key_pem, p, (size_t)n);
			s->tls_key_pem[n] = 0;
		} else {
			r = -ENOMEM;
		}
	}
	BIO_free(bio);
	return r;
}

static int parse_listen(const char *listen, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	char *end;
	unsigned long port;

	if (!colon || (size_t)(colon - listen) >= sizeof(host))
		return -EINVAL;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || port > 65535 || !colon[1])
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

int kbs_server_start(const struct kbs_config *cfg, struct kbs_server **ret)
{
	struct kbs_server *s;
	struct sockaddr_in sa;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	unsigned int threads = cfg->threads;
	char err[512];
	int r;

	if (parse_listen(cfg->listen, &sa) < 0)
		return log_err("'listen' '%s' is not IPv4-ADDRESS:PORT", cfg->listen), -EINVAL;
	if (!cfg->insecure_http && (!cfg->tls_cert || !cfg->tls_key))
		return log_err("HTTPS needs 'tls.certificate' and 'tls.private_key' (or --insecure-http)"),
		       -EINVAL;
	if (mkdir(cfg->state_dir, 0700) < 0 && errno != EEXIST)
		return log_err("Failed to create '%s': %m", cfg->state_dir);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	pthread_rwlock_init(&s->policy_lock, NULL);
	pthread_mutex_init(&s->write_lock, NULL);
	s->store = kbs_store_memory_new(cfg->max_sessions);
	r = s->store ? 0 : -ENOMEM;
	if (r == 0 && (r = kbs_token_signer_init(&s->signer, cfg->token_key, cfg->token_chain, err,
						   sizeof(err))) < 0)
		log_err("%s", err);
	if (r == 0)
		r = load_policy(s, KBS_POLICY_RESOURCE);
	if (r == 0)
		r = load_policy(s, KBS_POLICY_APPRAISAL);
	if (r == 0 && !cfg->insecure_http)
		r = load_tls(s);
	if (r < 0) {
		kbs_server_stop(s);
		return r;
	}
	if (!threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (unsigned int)n : 1;
	}
	if (!cfg->insecure_http)
		flags |= MHD_USE_TLS;
	s->d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
		cfg->insecure_http ? MHD_OPTION_END : MHD_OPTION_HTTPS_MEM_KEY, s->tls_key_pem,
		MHD_OPTION_HTTPS_MEM_CERT, s->tls_cert_pem, MHD_OPTION_END);
	if (!s->d) {
		kbs_server_stop(s);
		return log_err("Failed to start the HTTP%s server on '%s'", cfg->insecure_http ? "" : "S",
			       cfg->listen), -EADDRNOTAVAIL;
	}
	log_info("Listening on %s, port %u (%s, %u threads, %s status codes)", cfg->listen,
		 kbs_server_port(s), cfg->insecure_http ? "plain HTTP" : "HTTPS", threads,
		 cfg->spec_status ? "spec" : "Trustee");
	*ret = s;
	return 0;
}

uint16_t kbs_server_port(const struct kbs_server *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);

	return i ? i->port : 0;
}

int kbs_server_sweep(struct kbs_server *s)
{
	return s->store->ops->sweep(s->store, now_s());
}

void kbs_server_stop(struct kbs_server *s)
{
	if (!s)
		return;
	if (s->d)
		MHD_stop_daemon(s->d);
	kbs_store_free(s->store);
	kbs_token_signer_done(&s->signer);
	kbs_policy_free(s->resource_policy);
	kbs_policy_free(s->appraisal_policy);
	free(s->resource_policy_text);
	if (s->tls_key_pem) {
		explicit_bzero(s->tls_key_pem, strlen(s->tls_key_pem));
		free(s->tls_key_pem);
	}
	free(s->tls_cert_pem);
	pthread_rwlock_destroy(&s->policy_lock);
	pthread_mutex_destroy(&s->write_lock);
	free(s);
}
