// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil infer: run a sealed model on Fashion-MNIST images. Plaintext layers
 * run in the clear, the sealed layer homomorphically; the masked output
 * ciphertexts go to veil-decryptd (--decryptd) or into files (-o DIR).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fhe/decryptd.h"
#include "fhe/idx.h"
#include "fhe/seal.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"
#include "tools/veil.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: veil infer SEALED [--data DIR] [--split t10k|train] [--offset K] [--count N]\n"
		"                  (--decryptd SOCKET --model NAME | -o DIR) [--verbose]\n"
		"Runs images K..K+N-1 (default all of t10k) through the sealed model. With\n"
		"--decryptd the outputs are decrypted by the service and accuracy is printed;\n"
		"with -o each image's output ciphertexts are written to DIR/NNNNN.vct.\n");
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* n_ct x (u32 BE length | bytes) */
static uint8_t *vct_build(uint8_t *const *b, const size_t *l, unsigned int n, size_t *ret_len)
{
	size_t total = 0, off = 0;
	uint8_t *out;

	for (unsigned int i = 0; i < n; i++)
		total += 4 + l[i];
	out = malloc(total);
	if (!out)
		return NULL;
	for (unsigned int i = 0; i < n; i++) {
		out[off] = l[i] >> 24;
		out[off + 1] = l[i] >> 16;
		out[off + 2] = l[i] >> 8;
		out[off + 3] = l[i];
		memcpy(out + off + 4, b[i], l[i]);
		off += 4 + l[i];
	}
	*ret_len = total;
	return out;
}

int tool_infer(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },     { "split", required_argument, NULL, 's' },
		{ "offset", required_argument, NULL, 'O' },   { "count", required_argument, NULL, 'n' },
		{ "decryptd", required_argument, NULL, 'D' }, { "model", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },   { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },	      {},
	};
	const char *dir = NULL, *split = "t10k", *sock = NULL, *model = NULL, *outdir = NULL;
	unsigned long offset = 0, count = 0;
	struct fhe_sealed *s = NULL;
	struct fhe_mnist set = { 0 };
	_cleanup_free_ float *scratch = NULL;
	_cleanup_close_ int fd = -1;
	struct vjson_err e;
	bool verbose = false;
	size_t correct = 0, done = 0;
	double t_user = 0, t_dec = 0, t0;
	int c, r = 0;

	while ((c = getopt_long(argc, argv, "d:s:O:n:D:m:o:vh", opts, NULL)) >= 0) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 's':
			split = optarg;
			break;
		case 'O':
		case 'n': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || end == optarg || optarg[0] == '-') {
				log_err("Invalid number '%s'", optarg);
				return 2;
			}
			*(c == 'O' ? &offset : &count) = v;
			break;
		}
		case 'D':
			sock = optarg;
			break;
		case 'm':
			model = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'v':
			verbose = true;
			/* A line per image as it is decrypted, also into a pipe (a pod's console). */
			setvbuf(stdout, NULL, _IOLBF, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || (!sock == !outdir) || (sock && !model) ||
	    (strcmp(split, "t10k") && strcmp(split, "train"))) {
		usage(stderr);
		return 2;
	}
	r = fhe_sealed_load(argv[optind], &s, &e);
	if (r < 0) {
		log_err("Failed to load sealed model '%s': %s", argv[optind], e.msg);
		return 1;
	}
	r = fhe_mnist_load(dir, split, &set, &e);
	if (r < 0) {
		log_err("Failed to load images: %s", e.msg);
		goto out;
	}
	if (offset >= set.n) {
		log_err("Offset %lu is past the %zu images", offset, set.n);
		r = -EINVAL;
		goto out;
	}
	if (!count || count > set.n - offset)
		count = set.n - offset;
	if ((size_t)set.rows * set.cols != s->mlp->input) {
		log_err("Images of %ux%u do not fit the model's %u inputs", set.rows, set.cols,
			s->mlp->input);
		r = -EINVAL;
		goto out;
	}
	scratch = malloc(3 * s->mlp->width_max * sizeof(float));
	if (!scratch) {
		r = -ENOMEM;
		goto out;
	}
	if (sock) {
		fd = decryptd_client_connect(sock);
		if (fd < 0) {
			log_err("Failed to connect to '%s': %s", sock, strerror(-fd));
			r = fd;
			goto out;
		}
	} else if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
		r = log_err("Failed to create '%s': %m", outdir);
		goto out;
	}
	for (size_t i = offset; i < offset + count; i++) {
		struct fhe_ciphertext **cts = NULL;
		uint8_t *b[DECRYPTD_CT_MAX] = { 0 };
		size_t l[DECRYPTD_CT_MAX];
		unsigned int n = 0;
		double y[FHE_MLP_DIM_MAX];
		size_t ny;
		int st;
		char msg[256];

		t0 = now();
		r = fhe_sealed_infer(s, set.pixels + i * s->mlp->input, scratch, &cts, &n);
		for (unsigned int k = 0; r == 0 && k < n; k++)
			r = n > DECRYPTD_CT_MAX ? -E2BIG : fhe_ciphertext_serialize(cts[k], &b[k], &l[k]);
		fhe_ciphertexts_free(cts, n);
		t_user += now() - t0;
		if (r < 0) {
			log_err("Failed to infer image %zu: %s", i, fhe_last_error());
			goto next;
		}
		if (sock) {
			t0 = now();
			r = decryptd_client_decrypt(fd, (uint32_t)i, model, (const uint8_t *const *)b,
						    l, n, y, FHE_MLP_DIM_MAX, &ny, &st, msg,
						    sizeof(msg));
			t_dec += now() - t0;
			if (r < 0) {
				log_err("Failed to decrypt image %zu: %s", i,
					r == -EPROTO ? msg : strerror(-r));
				goto next;
			}
			unsigned int cls = 0;

			for (unsigned int k = 1; k < ny; k++)
				if (y[k] > y[cls])
					cls = k;
			correct += cls == set.labels[i];
			if (verbose)
				printf("image %zu: class %u (label %u)\n", i, cls, set.labels[i]);
		} else {
			char path[4096];
			_cleanup_free_ uint8_t *v = NULL;
			size_t vl;

			v = vct_build(b, l, n, &vl);
			snprintf(path, sizeof(path), "%s/%05zu.vct", outdir, i);
			r = v ? fd_write_file_atomic(path, v, vl, 0644) : -ENOMEM;
			if (r < 0)
				log_err("Failed to write '%s': %s", path, strerror(-r));
		}
		done++;
next:
		for (unsigned int k = 0; k < n && k < DECRYPTD_CT_MAX; k++)
			free(b[k]);
		if (r < 0)
			goto out;
	}
	printf("%zu images: model user %.3f ms/image", done, 1e3 * t_user / (double)done);
	if (sock)
		printf(", decryption round trip %.3f ms/image, accuracy %.2f%% (%zu/%zu)",
		       1e3 * t_dec / (double)done, 100.0 * (double)correct / (double)done, correct,
		       done);
	printf(", %.1f images/s\n", (double)done / (t_user + t_dec));
out:
	fhe_sealed_free(s);
	fhe_mnist_done(&set);
	return r < 0 ? 1 : 0;
}
