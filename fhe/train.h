/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small deterministic trainer: dense layers with ReLU between them, softmax
 * cross-entropy, Adam, mini-batches, one thread. The same seed, data and
 * binary give the same weights, so the demo's model is reproducible.
 */
#ifndef VEIL_FHE_TRAIN_H
#define VEIL_FHE_TRAIN_H

#include <stdint.h>

#include "fhe/idx.h"
#include "fhe/mlp.h"

struct fhe_train_opts {
	unsigned int hidden[4];		/* widths of the hidden layers, 0-terminated */
	unsigned int epochs;
	unsigned int batch;
	float lr;
	uint64_t seed;
	/* called after each epoch (may be NULL) */
	void (*epoch_done)(void *ctx, unsigned int epoch, double loss);
	void *ctx;
};

#define FHE_TRAIN_OPTS_DEFAULT \
	{ .hidden = { 128 }, .epochs = 8, .batch = 64, .lr = 1e-3f, .seed = 20261127 }

int fhe_train(const struct fhe_mnist *set, const struct fhe_train_opts *o, struct fhe_mlp **ret);
/* Correct predictions over the first n images of set (n = 0: all). */
int fhe_mlp_evaluate(const struct fhe_mlp *m, const struct fhe_mnist *set, size_t n,
		     size_t *ret_correct);

#endif
