// SPDX-License-Identifier: GPL-2.0-only
/*
 * model-bench decryptd|infer BUILDDIR MODEL
 *
 * decryptd: the raw limit (cores x single-thread decrypt+decode of one sealed
 *           output, in-process), then veil-decryptd's throughput and p50/p99
 *           latency at 1, 16 and 256 connections (closed loop), and p99 at 50%
 *           of the 16-connection throughput (open loop).
 * infer:    per image, the plaintext model against the confidential path
 *           (plaintext fc1 + homomorphic fc2 + serialization + decryptd).
 *
 * Prints a table and one JSON line.
 */
#include <errno.h>
#include <fcntl.h>
#include <keyutils.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fhe/decryptd.h"
#include "fhe/idx.h"
#include "fhe/seal.h"
#include "lib/fd.h"
#include "lib/frame.h"
#include "lib/secmem.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_d);
	return v[(size_t)(p * (double)(n - 1))];
}

static void die(const char *what, int r)
{
	fprintf(stderr, "model-bench: %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

/* ---- set-up: sealed model, key, service ----------------------------------------------- */

static char dir[] = "/tmp/veil-bench-XXXXXX";
static char sock[128];
static pid_t dd_pid;
static struct fhe_sealed *sealed;
static struct fhe_secret_key *sk;
static struct fhe_mlp *plain;
static struct fhe_mnist set;
static uint8_t *ct_bytes;
static size_t ct_len;

static void setup(const char *builddir, const char *model_path, unsigned int workers)
{
	struct fhe_params *p;
	struct fhe_public_key *pk;
	struct vjson_err e;
	struct fhe_ciphertext **cts;
	uint8_t *skb;
	size_t skl;
	unsigned int n;
	char path[256], man[300], cg[4097], cfg[8192], bin[4200];
	float *scratch;
	FILE *f;
	int r;

	if (!mkdtemp(dir))
		die("mkdtemp", errno);
	if ((r = fhe_mlp_load(model_path, &plain, &e)) < 0) {
		fprintf(stderr, "model-bench: '%s': %s\n", model_path, e.msg);
		exit(1);
	}
	if ((r = fhe_params_preset(FHE_PRESET_DENSE_8192, &p)) < 0 || (r = fhe_keygen_random(p, &sk)) < 0 ||
	    (r = fhe_public_key_new(sk, &pk)) < 0 || (r = fhe_secret_key_serialize(sk, &skb, &skl)) < 0)
		die("keygen", r);
	snprintf(path, sizeof(path), "%s/model.sealed", dir);
	snprintf(man, sizeof(man), "%s.manifest.json", path);
	if ((r = fhe_seal_model(plain, "fc2", pk, "kbs:///bench/fhe/model", path, man, NULL, NULL, &e)) < 0 ||
	    (r = fhe_sealed_load(path, &sealed, &e)) < 0) {
		fprintf(stderr, "model-bench: seal: %s\n", e.msg);
		exit(1);
	}
	if ((r = fhe_mnist_load(NULL, "t10k", &set, &e)) < 0) {
		fprintf(stderr, "model-bench: %s\n", e.msg);
		exit(1);
	}
	scratch = malloc(3 * plain->width_max * sizeof(float));
	if ((r = fhe_sealed_infer(sealed, set.pixels, scratch, &cts, &n)) < 0 ||
	    (r = fhe_ciphertext_serialize(cts[0], &ct_bytes, &ct_len)) < 0)
		die("infer", r);
	fhe_ciphertexts_free(cts, n);
	free(scratch);

	if ((r = decryptd_pid_cgroup(getpid(), cg, sizeof(cg))) < 0)
		die("own cgroup", r);
	snprintf(sock, sizeof(sock), "%s/dd.sock", dir);
	snprintf(cfg, sizeof(cfg),
		 "{\"socket\":\"%s\",\"io\":\"%s\",\"workers\":%u,\"queue\":512,\"containers\":{\"%s\":\"bench\"},"
		 "\"models\":{\"model\":{\"sealed\":\"%s\",\"key\":\"veil:bench/fhe/model\",\"grant\":[\"bench\"]}}}",
		 sock, getenv("VEIL_BENCH_IO") ? getenv("VEIL_BENCH_IO") : "auto", workers, cg, path);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	fputs(cfg, f);
	fclose(f);
	if (keyctl_join_session_keyring(NULL) < 0 ||
	    add_key("user", "veil:bench/fhe/model", skb, skl, KEY_SPEC_SESSION_KEYRING) < 0)
		die("keyring", errno);
	secmem_free(skb);
	snprintf(bin, sizeof(bin), "%s/veil-decryptd", builddir);
	dd_pid = fork();
	if (dd_pid == 0) {
		char log[128];
		int lfd;

		/* its log, shown only if it does not end cleanly */
		snprintf(log, sizeof(log), "%s/decryptd.log", dir);
		lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(lfd, 2);
		execl(bin, bin, "--config", path, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		int fd = decryptd_client_connect(sock);

		if (fd >= 0) {
			close(fd);
			break;
		}
		usleep(10000);
	}
	fhe_public_key_free(pk);
	fhe_params_free(p);
}

static void teardown(void)
{
	char cmd[128];

	if (dd_pid > 0) {
		int st = 0;

		kill(dd_pid, SIGTERM);
		waitpid(dd_pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "model-bench: veil-decryptd ended with %s %d; its log:\n",
				WIFSIGNALED(st) ? "signal" : "status",
				WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			snprintf(cmd, sizeof(cmd), "tail -n 60 '%s/decryptd.log' >&2", dir);
			(void)!system(cmd);
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "model-bench: could not remove %s\n", dir);
}

/* ---- load generation ------------------------------------------------------------------- */

struct worker {
	pthread_t t;
	double until, interval;	/* interval > 0: open loop at that period */
	double *lat;
	size_t n, cap;
	unsigned int errors;
};

static void *client(void *arg)
{
	struct worker *w = arg;
	const uint8_t *ct[1] = { ct_bytes };
	uint8_t *req, rep[256];
	size_t len, rl;
	double next = now();
	int fd, r;

	fd = decryptd_client_connect(sock);
	if (fd < 0 || decryptd_build_decrypt(1, "model", ct, &ct_len, 1, &req, &len) < 0) {
		w->errors++;
		return NULL;
	}
	for (;;) {
		double t0;

		if (w->interval > 0) {
			double d = next - now();

			if (d > 0)
				usleep((useconds_t)(d * 1e6));
			next += w->interval;
		}
		t0 = now();
		if (t0 >= w->until)
			break;
		r = fd_write_full(fd, req, len);
		if (r == 0)
			r = frame_read(fd, rep, sizeof(rep), &rl);
		if (r < 0 || rl < DECRYPTD_HDR_LEN || rep[1] != DECRYPTD_OK) {
			w->errors++;
			if (r < 0)
				break;
			continue;
		}
		if (w->n < w->cap)
			w->lat[w->n++] = now() - t0;
	}
	free(req);
	close(fd);
	return NULL;
}

struct result {
	double ops, p50, p99;
	unsigned int errors;
};

static struct result run_load(unsigned int conns, double seconds, double interval)
{
	struct worker *w = calloc(conns, sizeof(*w));
	double until = now() + seconds, t0 = now(), *all;
	size_t total = 0, k = 0;
	struct result res = { 0 };

	for (unsigned int i = 0; i < conns; i++) {
		w[i].until = until;
		w[i].interval = interval;
		w[i].cap = 200000;
		w[i].lat = malloc(w[i].cap * sizeof(double));
		pthread_create(&w[i].t, NULL, client, &w[i]);
	}
	for (unsigned int i = 0; i < conns; i++) {
		pthread_join(w[i].t, NULL);
		total += w[i].n;
		res.errors += w[i].errors;
	}
	all = malloc((total ? total : 1) * sizeof(double));
	for (unsigned int i = 0; i < conns; i++) {
		memcpy(all + k, w[i].lat, w[i].n * sizeof(double));
		k += w[i].n;
		free(w[i].lat);
	}
	res.ops = (double)total / (now() - t0);
	res.p50 = pct(all, total, 0.50) * 1e3;
	res.p99 = pct(all, total, 0.99) * 1e3;
	free(all);
	free(w);
	return res;
}

/* Single thread, in-process: deserialize + check + decrypt + decode + flood. */
static double raw_rate(double seconds, double *ret_lat_ms)
{
	const uint8_t *ct[1] = { ct_bytes };
	double y[16], t0 = now(), *lat = malloc(100000 * sizeof(double));
	char msg[256];
	size_t n = 0;

	while (now() - t0 < seconds && n < 100000) {
		double t = now();

		if (fhe_sealed_decrypt(sealed, sk, ct, &ct_len, 1, y, msg, sizeof(msg)) < 0) {
			fprintf(stderr, "model-bench: decrypt: %s\n", msg);
			exit(1);
		}
		lat[n++] = now() - t;
	}
	*ret_lat_ms = pct(lat, n, 0.5) * 1e3;
	free(lat);
	return (double)n / (now() - t0);
}

static int bench_decryptd(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	double single_ms, raw1 = raw_rate(3.0, &single_ms), limit = raw1 * (double)cores;
	static const unsigned int conns[] = { 1, 16, 256 };
	struct result r[3], half;

	printf("decryptd: one sealed output (10 x 128 layer, N=8192, %zu-byte ciphertext), %ld cores\n",
	       ct_len, cores);
	printf("%-34s %12s %10s %10s %8s\n", "", "ops/s", "p50 ms", "p99 ms", "vs raw");
	printf("%-34s %12.0f %10.3f %10s %8s\n", "raw: 1 thread decrypt+decode", raw1, single_ms, "-", "");
	printf("%-34s %12.0f %10s %10s %8s\n", "raw limit: cores x 1 thread", limit, "-", "-", "100%");
	for (int i = 0; i < 3; i++) {
		char label[64];

		r[i] = run_load(conns[i], 4.0, 0);
		snprintf(label, sizeof(label), "veil-decryptd, %u connection%s", conns[i],
			 conns[i] > 1 ? "s" : "");
		printf("%-34s %12.0f %10.3f %10.3f %7.0f%%%s\n", label, r[i].ops, r[i].p50, r[i].p99,
		       100.0 * r[i].ops / limit, r[i].errors ? " (errors)" : "");
	}
	/* 50% load: 16 connections, each at 1/16 of half the 16-connection rate */
	half = run_load(16, 4.0, 16.0 / (0.5 * r[1].ops));
	printf("%-34s %12.0f %10.3f %10.3f   p99 = %.1f x single op\n", "veil-decryptd at 50% load, 16 conns",
	       half.ops, half.p50, half.p99, half.p99 / single_ms);
	printf("{\"bench\":\"decryptd\",\"cores\":%ld,\"raw_single_ops\":%.0f,\"raw_limit_ops\":%.0f,"
	       "\"single_op_ms\":%.4f,\"c1\":{\"ops\":%.0f,\"p50_ms\":%.4f,\"p99_ms\":%.4f},"
	       "\"c16\":{\"ops\":%.0f,\"p50_ms\":%.4f,\"p99_ms\":%.4f},"
	       "\"c256\":{\"ops\":%.0f,\"p50_ms\":%.4f,\"p99_ms\":%.4f},\"c256_vs_raw\":%.3f,"
	       "\"half_load\":{\"ops\":%.0f,\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"p99_vs_single\":%.2f},"
	       "\"errors\":%u}\n",
	       cores, raw1, limit, single_ms, r[0].ops, r[0].p50, r[0].p99, r[1].ops, r[1].p50, r[1].p99,
	       r[2].ops, r[2].p50, r[2].p99, r[2].ops / limit, half.ops, half.p50, half.p99,
	       half.p99 / single_ms, r[0].errors + r[1].errors + r[2].errors + half.errors);
	return 0;
}

static int bench_infer(unsigned int n)
{
	float *scratch = malloc(3 * plain->width_max * sizeof(float)), logits[16];
	double t0, t_plain, t_user = 0, t_dec = 0, y[16];
	size_t ok_p = 0, ok_s = 0, ny;
	int fd = decryptd_client_connect(sock), st;
	char msg[256];

	if (fd < 0)
		die("connect", fd);
	if (n > set.n)
		n = (unsigned int)set.n;
	t0 = now();
	for (unsigned int i = 0; i < n; i++)
		ok_p += (unsigned int)fhe_mlp_predict(plain, set.pixels + (size_t)i * 784, logits, scratch) ==
			set.labels[i];
	t_plain = now() - t0;
	for (unsigned int i = 0; i < n; i++) {
		struct fhe_ciphertext **cts;
		unsigned int nct, cls = 0;
		uint8_t *b;
		size_t bl;
		int r;

		t0 = now();
		r = fhe_sealed_infer(sealed, set.pixels + (size_t)i * 784, scratch, &cts, &nct);
		if (r == 0)
			r = fhe_ciphertext_serialize(cts[0], &b, &bl);
		fhe_ciphertexts_free(cts, nct);
		if (r < 0)
			die("infer", r);
		t_user += now() - t0;
		t0 = now();
		r = decryptd_client_decrypt(fd, i, "model", (const uint8_t *const *)&b, &bl, 1, y, 16, &ny,
					    &st, msg, sizeof(msg));
		t_dec += now() - t0;
		free(b);
		if (r < 0) {
			fprintf(stderr, "model-bench: decrypt: %s\n", msg);
			exit(1);
		}
		for (unsigned int k = 1; k < ny; k++)
			if (y[k] > y[cls])
				cls = k;
		ok_s += cls == set.labels[i];
	}
	double pl = 1e3 * t_plain / n, us = 1e3 * t_user / n, de = 1e3 * t_dec / n;

	printf("infer: %u Fashion-MNIST test images, 784-128-10 MLP, fc2 sealed (N=8192)\n", n);
	printf("%-44s %10s %10s %10s\n", "", "ms/image", "images/s", "accuracy");
	printf("%-44s %10.4f %10.0f %9.2f%%\n", "plaintext model (peer)", pl, 1e3 / pl,
	       100.0 * (double)ok_p / n);
	printf("%-44s %10.4f %10s %10s\n", "  sealed: fc1 clear + fc2 homomorphic", us, "", "");
	printf("%-44s %10.4f %10s %10s\n", "  sealed: decryptd round trip (1 conn)", de, "", "");
	printf("%-44s %10.4f %10.0f %9.2f%%   (%.0fx the plaintext time)\n", "confidential end to end", us + de,
	       1e3 / (us + de), 100.0 * (double)ok_s / n, (us + de) / pl);
	printf("{\"bench\":\"infer\",\"images\":%u,\"plain_ms\":%.5f,\"sealed_user_ms\":%.4f,"
	       "\"decrypt_rtt_ms\":%.4f,\"e2e_ms\":%.4f,\"e2e_images_per_s\":%.1f,\"ratio\":%.1f,"
	       "\"acc_plain\":%.4f,\"acc_sealed\":%.4f}\n",
	       n, pl, us, de, us + de, 1e3 / (us + de), (us + de) / pl, (double)ok_p / n, (double)ok_s / n);
	close(fd);
	free(scratch);
	return 0;
}

int main(int argc, char **argv)
{
	int r;

	if (argc != 4 || (strcmp(argv[1], "decryptd") && strcmp(argv[1], "infer"))) {
		fprintf(stderr, "usage: model-bench decryptd|infer BUILDDIR MODEL\n");
		return 2;
	}
	setup(argv[2], argv[3], 0);
	r = strcmp(argv[1], "decryptd") == 0 ? bench_decryptd() : bench_infer(2000);
	teardown();
	return r;
}
