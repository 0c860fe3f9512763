// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil's CKKS benchmark: microseconds per operation, median of REPS runs
 * (default 101) after warm-up, single thread. Output: one line per operation,
 * "op<TAB>N<TAB>median_us<TAB>min_us<TAB>cpu_share", read by bench/fhe/run.
 *   fhe-bench [-r REPS] [-n LOG_N] [-i portable|avx2|avx512ifma]
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fhe/fhe.h"
#include "lib/secmem.h"

static int reps = 101;

static double now_us(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

typedef void (*op_fn)(void *ctx);

static void bench(const char *name, unsigned n, op_fn fn, void *ctx)
{
	double *t = malloc(reps * sizeof(double)), w0, c0;

	for (int i = 0; i < 5; i++)
		fn(ctx);
	w0 = now_us(CLOCK_MONOTONIC);
	c0 = now_us(CLOCK_THREAD_CPUTIME_ID);
	for (int i = 0; i < reps; i++) {
		double s = now_us(CLOCK_MONOTONIC);

		fn(ctx);
		t[i] = now_us(CLOCK_MONOTONIC) - s;
	}
	{
		double share = (now_us(CLOCK_THREAD_CPUTIME_ID) - c0) / (now_us(CLOCK_MONOTONIC) - w0);

		qsort(t, reps, sizeof(double), cmp_d);
		printf("%s\t%u\t%.2f\t%.2f\t%.2f\n", name, n, t[reps / 2], t[0], share);
	}
	fflush(stdout);
	free(t);
}

struct ctx {
	struct fhe_params *p;
	struct fhe_secret_key *sk;
	struct fhe_public_key *pk;
	struct fhe_plaintext *pt, *ptc;
	struct fhe_ciphertext *ct, *ct2, *ctr, *tmp;
	struct fhe_dense *dense;
	uint64_t *poly;
	double *vals, h[256];
	uint8_t seed[FHE_SEED_SIZE];
};

static void op_ntt_fwd(void *c)
{
	struct ctx *x = c;

	fhe_ntt_forward(x->p, 0, x->poly);
}

static void op_ntt_inv(void *c)
{
	struct ctx *x = c;

	fhe_ntt_inverse(x->p, 0, x->poly);
}

static void op_keygen(void *c)
{
	struct ctx *x = c;
	struct fhe_secret_key *sk;

	fhe_keygen(x->p, x->seed, &sk);
	fhe_secret_key_free(sk);
}

static void op_keygen_pk(void *c)
{
	struct ctx *x = c;
	struct fhe_secret_key *sk;
	struct fhe_public_key *pk;

	fhe_keygen(x->p, x->seed, &sk);
	fhe_public_key_new(sk, &pk);
	fhe_public_key_free(pk);
	fhe_secret_key_free(sk);
}

static void op_encode_vec(void *c)
{
	struct ctx *x = c;
	struct fhe_plaintext *pt;

	fhe_encode_slots(x->p, x->vals, fhe_params_n(x->p) / 2, 0x1p40, 3, &pt);
	fhe_plaintext_free(pt);
}

static void op_encode_scalar(void *c)
{
	struct ctx *x = c;
	struct fhe_plaintext *pt;

	fhe_encode_scalar(x->p, 0.37, 0x1p40, 3, &pt);
	fhe_plaintext_free(pt);
}

static void op_encrypt(void *c)
{
	struct ctx *x = c;
	struct fhe_ciphertext *ct;

	fhe_encrypt(x->pk, x->pt, &ct);
	fhe_ciphertext_free(ct);
}

static void op_encrypt_sym(void *c)
{
	struct ctx *x = c;
	struct fhe_ciphertext *ct;

	fhe_encrypt_symmetric(x->sk, x->pt, &ct);
	fhe_ciphertext_free(ct);
}

static void op_mul_plain(void *c)
{
	struct ctx *x = c;

	fhe_mul_plain(x->tmp, x->ptc);
	x->tmp->scale = 0x1p40;
}

static void op_add(void *c)
{
	struct ctx *x = c;

	fhe_add(x->tmp, x->ct2);
}

static void op_rescale(void *c)
{
	struct ctx *x = c;
	struct fhe_ciphertext *t;

	fhe_ciphertext_copy(x->ct, &t);
	fhe_rescale(t);
	fhe_ciphertext_free(t);
}

static void op_copy(void *c)
{
	struct ctx *x = c;
	struct fhe_ciphertext *t;

	fhe_ciphertext_copy(x->ct, &t);
	fhe_ciphertext_free(t);
}

static void op_decrypt_top(void *c)
{
	struct ctx *x = c;
	struct fhe_plaintext *pt;

	fhe_decrypt_unflooded(x->sk, x->ct, &pt);
	fhe_plaintext_free(pt);
}

static void op_decrypt_resc(void *c)
{
	struct ctx *x = c;
	struct fhe_plaintext *pt;

	fhe_decrypt_unflooded(x->sk, x->ctr, &pt);
	fhe_plaintext_free(pt);
}

static void op_decrypt_flood_all(void *c)
{
	struct ctx *x = c;
	struct fhe_plaintext *pt;

	fhe_decrypt(x->sk, x->ctr, NULL, &pt);
	fhe_plaintext_free(pt);
}

static void op_decode_slots(void *c)
{
	struct ctx *x = c;

	fhe_decode_slots(x->pt, fhe_params_n(x->p) / 2, x->vals, NULL);
}

static struct fhe_ciphertext **dense_out;

static void op_dense_user(void *c)
{
	struct ctx *x = c;
	unsigned count;

	fhe_ciphertexts_free(dense_out, 1);
	fhe_dense_eval(x->dense, x->h, &dense_out, &count);
}

static void op_dense_keyholder(void *c)
{
	struct ctx *x = c;
	double y[10];

	fhe_dense_decrypt(x->sk, x->dense, dense_out, 1, NULL, y);
}

static void op_dense_total(void *c)
{
	op_dense_user(c);
	op_dense_keyholder(c);
}

static int run(unsigned log_n)
{
	struct ctx x = { 0 };
	enum fhe_preset pre = log_n == 13 ? FHE_PRESET_DENSE_8192 :
			      log_n == 14 ? FHE_PRESET_DENSE_16384 : FHE_PRESET_DENSE_32768;
	unsigned n;
	double W[10 * 256], b[10];
	int r;

	r = fhe_params_preset(pre, &x.p);
	if (r < 0)
		return r;
	n = fhe_params_n(x.p);
	x.poly = aligned_alloc(64, n * 8);
	x.vals = malloc(n * sizeof(double));
	for (unsigned i = 0; i < n; i++) {
		x.poly[i] = (i * 2654435761u) % fhe_params_prime(x.p, 0);
		x.vals[i] = sin(i);
	}
	for (int i = 0; i < 10 * 256; i++)
		W[i] = cos(i) / 2;
	for (int i = 0; i < 10; i++)
		b[i] = sin(i) / 2;
	for (int i = 0; i < 256; i++)
		x.h[i] = ((i % 17) + 1) / 18.0;
	memset(x.seed, 7, sizeof(x.seed));
	fhe_keygen(x.p, x.seed, &x.sk);
	fhe_public_key_new(x.sk, &x.pk);
	fhe_encode_slots(x.p, x.vals, n / 2, 0x1p40, 3, &x.pt);
	fhe_encode_scalar(x.p, 1.0, 1.0, 3, &x.ptc);
	fhe_encrypt(x.pk, x.pt, &x.ct);
	fhe_encrypt(x.pk, x.pt, &x.ct2);
	fhe_ciphertext_copy(x.ct, &x.tmp);
	fhe_ciphertext_copy(x.ct, &x.ctr);
	x.ctr->scale = 0x1p62 * fhe_params_prime(x.p, 2);
	fhe_rescale(x.ctr);
	fhe_dense_seal(x.p, x.pk, NULL, W, b, 10, 256, &x.dense);

	for (int k = FHE_ISA_PORTABLE; k <= FHE_ISA_AVX512IFMA; k++) {
		char name[64];

		if (fhe_set_isa(k) < 0)
			continue;
		snprintf(name, sizeof(name), "ntt_fwd_%s", fhe_isa_name(k));
		bench(name, n, op_ntt_fwd, &x);
		snprintf(name, sizeof(name), "ntt_inv_%s", fhe_isa_name(k));
		bench(name, n, op_ntt_inv, &x);
	}
	fhe_set_isa(FHE_ISA_AUTO);
	printf("#isa\t%s\n", fhe_isa_name(fhe_get_isa()));
	bench("keygen_secret", n, op_keygen, &x);
	bench("keygen_secret_public", n, op_keygen_pk, &x);
	bench("encode_vector", n, op_encode_vec, &x);
	bench("encode_scalar", n, op_encode_scalar, &x);
	bench("encrypt_pk", n, op_encrypt, &x);
	bench("encrypt_symmetric", n, op_encrypt_sym, &x);
	bench("multiply_plain", n, op_mul_plain, &x);
	bench("add", n, op_add, &x);
	bench("ct_copy", n, op_copy, &x);
	bench("rescale_incl_copy", n, op_rescale, &x);
	bench("decrypt_top_unflooded", n, op_decrypt_top, &x);
	bench("decrypt_after_rescale", n, op_decrypt_resc, &x);
	bench("decrypt_flood_every_coeff", n, op_decrypt_flood_all, &x);
	bench("decode_vector", n, op_decode_slots, &x);
	op_dense_user(&x);
	bench("dense10x256_user", n, op_dense_user, &x);
	bench("dense10x256_keyholder", n, op_dense_keyholder, &x);
	bench("dense10x256_total", n, op_dense_total, &x);
	{
		uint8_t *buf;
		size_t len, total = 0;

		for (unsigned i = 0; i < x.dense->row_blocks * x.dense->col_blocks; i++) {
			fhe_ciphertext_serialize(x.dense->ct[i], &buf, &len);
			total += len;
			free(buf);
		}
		printf("sealed_layer_bytes\t%u\t%zu\t%zu\t1\n", n, total, total);
		fhe_ciphertext_serialize(dense_out[0], &buf, &len);
		printf("output_ct_bytes\t%u\t%zu\t%zu\t1\n", n, len, len);
		free(buf);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int opt, log_n = 0;

	while ((opt = getopt(argc, argv, "r:n:i:")) != -1) {
		switch (opt) {
		case 'r':
			reps = atoi(optarg);
			break;
		case 'n':
			log_n = atoi(optarg);
			break;
		case 'i':
			setenv("VEIL_FHE_ISA", optarg, 1);
			break;
		default:
			fprintf(stderr, "usage: fhe-bench [-r REPS] [-n LOG_N] [-i ISA]\n");
			return 2;
		}
	}
	if (reps < 50)
		reps = 50;
	for (unsigned ln = 13; ln <= 14; ln++)
		if (!log_n || (unsigned)log_n == ln)
			if (run(ln) < 0)
				return 1;
	return 0;
}
