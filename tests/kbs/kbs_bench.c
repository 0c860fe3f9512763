// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load generator for bench/kbs/run (not a test: `make check` does not run
 * it). Built on the test harness for its main(); configured through the
 * environment:
 *
 *   KBS_BENCH_URL, KBS_BENCH_CACERT   the server (veil-kbs)
 *   KBS_BENCH_CLIENTS, KBS_BENCH_SECONDS
 *   KBS_BENCH_MODE  rcar: complete RCAR handshakes (auth, attest with sample
 *                   evidence, resource GET decrypted), each on a fresh TLS
 *                   connection as a booting pod makes it;
 *                   echo: the same three requests against a bare
 *                   libmicrohttpd TLS server started here (KBS_BENCH_CERT,
 *                   KBS_BENCH_KEY), the floor any KBS on this stack pays;
 *                   tpm: RCAR with TPM evidence from a private swtpm, whose AK
 *                   is written to KBS_BENCH_TRUST_DIR/tpm/ak/ first (one TPM:
 *                   quotes are serialized, as on a real machine).
 *
 * Prints "RESULT mode=.. clients=.. handshakes=.. seconds=.. p50_ms=.. p99_ms=..".
 */
#include "tests/harness.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "attest/binding.h"
#include "attest/evidence.h"
#include "attest/jwk.h"
#include "lib/base64.h"
#include "lib/fd.h"
#include "lib/secmem.h"
#include "tests/kbs/kbs_client.h"
#include "tests/swtpm.h"

static struct attest_evidence_opts tpm_opts;
static pthread_mutex_t tpm_lock = PTHREAD_MUTEX_INITIALIZER;

struct worker {
	pthread_t t;
	const char *url, *cacert;
	bool echo, tpm;
	double deadline;
	double *lat;
	size_t n, cap;
	size_t errors;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int one_echo(struct kc *c)
{
	static const char body[] = "{\"version\":\"0.4.0\",\"tee\":\"sample\",\"extra-params\":\"\"}";
	struct kc_resp r;
	int ok = 1;

	for (int i = 0; i < 3 && ok; i++) {
		if (kc_request(c, i == 2 ? "GET" : "POST", i == 2 ? "/kbs/v0/resource/veil/keys/model" :
				  "/kbs/v0/auth", NULL, i == 2 ? NULL : body, i == 2 ? 0 : strlen(body),
				  NULL, &r) < 0)
			return -1;
		ok = r.status == 200;
		kc_resp_done(&r);
	}
	return ok ? 0 : -1;
}

static int one_rcar(struct kc *c)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	unsigned char *pt = NULL;
	char *token = NULL;
	size_t n;
	int r;

	if (!k)
		return -1;
	r = kc_rcar_sample(c, k, &token);
	if (r == 0)
		r = kc_get_resource(c, "veil/keys/model", NULL, k, &pt, &n);
	if (r == 0)
		secmem_free(pt);
	free(token);
	EVP_PKEY_free(k);
	return r;
}

static int one_tpm(struct kc *c)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	uint8_t b[ATTEST_BINDING_LEN], *pt = NULL;
	char *nonce = NULL, *body = NULL, err[256];
	json_t *jwk = NULL, *ev = NULL, *o;
	struct kc_resp r = { 0 };
	size_t n;
	int rc = -1;

	if (!k || kc_auth(c, "tpm", &nonce) < 0)
		goto out;
	jwk = attest_jwk_from_key(k, NULL);
	if (!jwk || attest_binding(nonce, jwk, "", b) < 0)
		goto out;
	pthread_mutex_lock(&tpm_lock);
	rc = attest_evidence_collect("tpm", b, &tpm_opts, &ev, err, sizeof(err));
	pthread_mutex_unlock(&tpm_lock);
	if (rc < 0)
		goto out;
	rc = -1;
	o = json_pack("{s:{s:s, s:O}, s:{s:O, s:s}}", "runtime-data", "nonce", nonce, "tee-pubkey", jwk,
		      "tee-evidence", "primary_evidence", ev, "additional_evidence", "");
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!body || kc_request(c, "POST", "/kbs/v0/attest", NULL, body, strlen(body), NULL, &r) < 0 ||
	    r.status != 200)
		goto out;
	if (kc_get_resource(c, "veil/keys/model", NULL, k, &pt, &n) == 0) {
		secmem_free(pt);
		rc = 0;
	}
out:
	kc_resp_done(&r);
	free(body);
	free(nonce);
	json_decref(jwk);
	json_decref(ev);
	EVP_PKEY_free(k);
	return rc;
}

static void *run(void *arg)
{
	struct worker *w = arg;

	while (now() < w->deadline) {
		struct kc c;
		double t0 = now();
		int r;

		/* A fresh client per handshake: new TLS session, empty cookie jar. */
		if (kc_init(&c, w->url, w->cacert) < 0)
			break;
		curl_easy_setopt(c.h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
		r = w->echo ? one_echo(&c) : w->tpm ? one_tpm(&c) : one_rcar(&c);
		kc_done(&c);
		if (r < 0) {
			w->errors++;
			continue;
		}
		if (w->n == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 1024;
			w->lat = realloc(w->lat, w->cap * sizeof(*w->lat));
			if (!w->lat)
				break;
		}
		w->lat[w->n++] = now() - t0;
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static enum MHD_Result echo(void *cls, struct MHD_Connection *c, const char *url, const char *m,
			    const char *v, const char *up, size_t *up_size, void **con_cls)
{
	static const char ok[] = "{\"nonce\":\"O9/rTFmlLK1ByBAfi/8cFoswdBovLMZPwbszvdgDcnM=\",\"extra-params\":\"\"}";
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls, (void)url, (void)m, (void)v, (void)up;
	if (!*con_cls) {
		*con_cls = (void *)1;
		return MHD_YES;
	}
	if (*up_size) {
		*up_size = 0;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(strlen(ok), (void *)ok, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

TEST_TIMEOUT(run_benchmark, 900)
{
	const char *url = getenv("KBS_BENCH_URL"), *mode = getenv("KBS_BENCH_MODE");
	int clients = atoi(getenv("KBS_BENCH_CLIENTS") ? getenv("KBS_BENCH_CLIENTS") : "1");
	double secs = atof(getenv("KBS_BENCH_SECONDS") ? getenv("KBS_BENCH_SECONDS") : "5");
	bool is_echo = mode && strcmp(mode, "echo") == 0, is_tpm = mode && strcmp(mode, "tpm") == 0;
	struct test_swtpm tpm = { 0 };
	struct MHD_Daemon *d = NULL;
	struct worker *w;
	char echo_url[64];
	double *all, t0, elapsed;
	size_t total = 0, errors = 0;

	if (!url && !is_echo)
		SKIP("not a test: bench/kbs/run sets KBS_BENCH_URL");
	if (is_echo) {
		char *cert, *key;
		size_t n;
		const union MHD_DaemonInfo *info;
		long threads = sysconf(_SC_NPROCESSORS_ONLN);

		ASSERT_EQ(0, fd_read_file(getenv("KBS_BENCH_CERT"), 1 << 20, &cert, &n));
		ASSERT_EQ(0, fd_read_file(getenv("KBS_BENCH_KEY"), 1 << 20, &key, &n));
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS, 0,
				     NULL, NULL, echo, NULL, MHD_OPTION_THREAD_POOL_SIZE,
				     (unsigned int)(threads > 0 ? threads : 1), MHD_OPTION_HTTPS_MEM_KEY, key,
				     MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_END);
		ASSERT_NONNULL(d);
		info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		snprintf(echo_url, sizeof(echo_url), "https://127.0.0.1:%u", info->port);
		url = echo_url;
	}
	if (is_tpm) {
		uint8_t zero[ATTEST_BINDING_LEN] = { 0 }, *ak;
		const char *trust = getenv("KBS_BENCH_TRUST_DIR"), *spki;
		char path[512], err[256];
		json_t *ev;
		size_t n;
		int r = test_swtpm_start(&tpm);

		if (r == -ENOENT)
			SKIP("swtpm is not installed");
		ASSERT_EQ(0, r);
		ASSERT_NONNULL(trust);
		tpm_opts.tpm_tcti = tpm.tcti;
		ASSERT_EQ(0, attest_evidence_collect("tpm", zero, &tpm_opts, &ev, err, sizeof(err)));
		spki = json_string_value(json_object_get(ev, "ak_public"));
		ASSERT_EQ(0, b64_decode(spki, strlen(spki), &ak, &n));
		snprintf(path, sizeof(path), "%s/tpm/ak/bench.der", trust);
		ASSERT_EQ(0, fd_write_file_atomic(path, ak, n, 0644));
		free(ak);
		json_decref(ev);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	w = calloc((size_t)clients, sizeof(*w));
	ASSERT_NONNULL(w);
	t0 = now();
	for (int i = 0; i < clients; i++) {
		w[i] = (struct worker){ .url = url, .cacert = getenv("KBS_BENCH_CACERT"),
					.echo = is_echo, .tpm = is_tpm, .deadline = t0 + secs };
		ASSERT_EQ(0, pthread_create(&w[i].t, NULL, run, &w[i]));
	}
	for (int i = 0; i < clients; i++) {
		pthread_join(w[i].t, NULL);
		total += w[i].n;
		errors += w[i].errors;
	}
	elapsed = now() - t0;
	all = malloc((total ? total : 1) * sizeof(*all));
	ASSERT_NONNULL(all);
	for (int i = 0, k = 0; i < clients; i++)
		for (size_t j = 0; j < w[i].n; j++)
			all[k++] = w[i].lat[j];
	qsort(all, total, sizeof(*all), cmp);
	printf("RESULT mode=%s clients=%d handshakes=%zu errors=%zu seconds=%.3f p50_ms=%.2f p99_ms=%.2f "
	       "latency_sum_s=%.3f\n",
	       is_echo ? "echo" : is_tpm ? "tpm" : "rcar", clients, total, errors, elapsed,
	       total ? all[total / 2] * 1e3 : 0, total ? all[(size_t)((double)total * 0.99)] * 1e3 : 0,
	       ({ double s = 0; for (size_t j = 0; j < total; j++) s += all[j]; s; }));
	EXPECT_GT(total, 0);
	if (d)
		MHD_stop_daemon(d);
	if (is_tpm)
		test_swtpm_stop(&tpm);
}
