/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A sequential MLP in a safetensors file. The architecture is the JSON string
 * in __metadata__["veil.mlp"]:
 *
 *   {"version":1,"input":784,
 *    "layers":[{"type":"dense","name":"fc1","out":128},{"type":"relu"},
 *              {"type":"dense","name":"fc2","out":10},{"type":"softmax"}]}
 *
 * and each dense layer NAME has tensors NAME.weight [out, in] and NAME.bias
 * [out] (the PyTorch convention), any float dtype. Every dimension is checked
 * against the architecture; unknown or unused tensors are refused.
 */
#ifndef VEIL_FHE_MLP_H
#define VEIL_FHE_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "fhe/safetensors.h"

#define FHE_MLP_META_KEY "veil.mlp"
/* Comma-separated dense layers stored sealed ("sealed.*" tensors), not in the clear. */
#define FHE_MLP_SEALED_KEY "veil.sealed"
#define FHE_MLP_LAYERS_MAX 16
#define FHE_MLP_DIM_MAX 4096
#define FHE_MLP_LAYER_NAME_MAX 63

enum fhe_mlp_kind {
	FHE_MLP_DENSE,
	FHE_MLP_RELU,
	FHE_MLP_SOFTMAX,
};

struct fhe_mlp_layer {
	enum fhe_mlp_kind kind;
	char name[FHE_MLP_LAYER_NAME_MAX + 1];	/* dense only */
	unsigned int in, out;
	float *wt;	/* dense: NULL when sealed; in x out, transposed (row j = input j's weights) */
	float *b;	/* dense: out */
};

struct fhe_mlp {
	unsigned int input;
	unsigned int n_layers;
	struct fhe_mlp_layer layers[FHE_MLP_LAYERS_MAX];
	unsigned int width_max;	/* widest activation, for scratch buffers */
};

/* An MLP of dense layers with ReLU between them, weights zeroed. dims[0] is the input. */
int fhe_mlp_new(const unsigned int *dims, unsigned int n_dims, const char *const *names,
		struct fhe_mlp **ret);
struct fhe_mlp *fhe_mlp_free(struct fhe_mlp *m);

int fhe_mlp_from_st(const struct fhe_st *st, struct fhe_mlp **ret, struct vjson_err *e);
int fhe_mlp_load(const char *path, struct fhe_mlp **ret, struct vjson_err *e);
/* Adds the architecture and the tensors to w. */
int fhe_mlp_to_writer(const struct fhe_mlp *m, struct fhe_st_writer *w);
int fhe_mlp_save(const struct fhe_mlp *m, const char *path, const char *const *extra_meta);

/* Layer index of the dense layer NAME, or -ENOENT. */
int fhe_mlp_find(const struct fhe_mlp *m, const char *name);
/* W as [out][in] row-major (the file's layout) into out (in*out floats). */
void fhe_mlp_dense_weights(const struct fhe_mlp_layer *l, float *out);

/*
 * Runs layers [first, last) on x (width of layer first's input) into y.
 * scratch holds 3 * width_max floats. Returns the output width, -EPERM at a
 * sealed layer.
 */
int fhe_mlp_run(const struct fhe_mlp *m, unsigned int first, unsigned int last, const float *x,
		float *y, float *scratch);
/* Whole model; returns the argmax class. logits may be NULL. */
int fhe_mlp_predict(const struct fhe_mlp *m, const float *x, float *logits, float *scratch);
unsigned int fhe_argmax(const float *v, unsigned int n);

#endif
