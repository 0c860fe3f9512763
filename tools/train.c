// SPDX-License-Identifier: GPL-2.0-only
/* veil train: a reproducible Fashion-MNIST MLP for the demo and the tests. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fhe/train.h"
#include "lib/log.h"
#include "tools/veil.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: veil train -o MODEL.safetensors [--data DIR] [--epochs N] [--hidden N]\n"
		   "                  [--seed N] [--quiet]\n"
		   "Trains a 784-N-10 MLP (ReLU, softmax) on Fashion-MNIST from DIR\n"
		   "(default $VEIL_FASHION_MNIST or " FHE_MNIST_DIR_DEFAULT "), deterministically.\n");
}

static void epoch_done(void *ctx, unsigned int epoch, double loss)
{
	const struct fhe_train_opts *o = ctx;

	fprintf(stderr, "veil train: epoch %u/%u: mean loss %.4f\n", epoch, o->epochs, loss);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -EINVAL;
	*ret = v;
	return 0;
}

int tool_train(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "data", required_argument, NULL, 'd' },
		{ "epochs", required_argument, NULL, 'e' }, { "hidden", required_argument, NULL, 'H' },
		{ "seed", required_argument, NULL, 's' },   { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },	    {},
	};
	struct fhe_train_opts o = FHE_TRAIN_OPTS_DEFAULT;
	struct fhe_mnist train = { 0 }, test = { 0 };
	const char *out = NULL, *dir = NULL;
	struct fhe_mlp *m = NULL;
	struct vjson_err e;
	struct timespec t0, t1;
	bool quiet = false;
	unsigned long v;
	size_t ok;
	char info[256];
	int c, r;

	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) >= 0) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'e':
		case 'H':
		case 's':
			if (parse_uint(optarg, c == 's' ? ~0ul : 4096, &v) < 0 || (c != 's' && !v)) {
				log_err("Invalid number '%s' for --%s", optarg,
					c == 'e' ? "epochs" : c == 'H' ? "hidden" : "seed");
				return 2;
			}
			if (c == 'e')
				o.epochs = (unsigned int)v;
			else if (c == 'H')
				o.hidden[0] = (unsigned int)v;
			else
				o.seed = v;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!out || optind != argc) {
		usage(stderr);
		return 2;
	}
	r = fhe_mnist_load(dir, "train", &train, &e);
	if (r == 0)
		r = fhe_mnist_load(dir, "t10k", &test, &e);
	if (r < 0) {
		log_err("Failed to load Fashion-MNIST from '%s': %s", fhe_mnist_dir(dir), e.msg);
		fhe_mnist_done(&train);
		return 1;
	}
	if (!quiet) {
		o.epoch_done = epoch_done;
		o.ctx = &o;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = fhe_train(&train, &o, &m);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r == 0)
		r = fhe_mlp_evaluate(m, &test, 0, &ok);
	if (r < 0) {
		log_err("Failed to train: %s", strerror(-r));
		goto out;
	}
	snprintf(info, sizeof(info),
		 "{\"data\":\"fashion-mnist\",\"seed\":%llu,\"epochs\":%u,\"batch\":%u,"
		 "\"test_accuracy\":%.4f}",
		 (unsigned long long)o.seed, o.epochs, o.batch, (double)ok / (double)test.n);
	r = fhe_mlp_save(m, out, (const char *const[]){ "veil.train", info, NULL });
	if (r < 0) {
		log_err("Failed to write '%s': %s", out, strerror(-r));
		goto out;
	}
	printf("trained 784-%u-10 in %.1f s: test accuracy %.2f%% (%zu/%zu), wrote '%s'\n",
	       o.hidden[0],
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       100.0 * (double)ok / (double)test.n, ok, test.n, out);
out:
	fhe_mlp_free(m);
	fhe_mnist_done(&train);
	fhe_mnist_done(&test);
	return r < 0 ? 1 : 0;
}
