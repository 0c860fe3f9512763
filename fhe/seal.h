/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Sealed models: an MLP whose last dense layer is CKKS-encrypted with the
 * FHE core's coefficient packing (fhe_dense_seal), stored as safetensors:
 *
 *   __metadata__  veil.mlp (architecture), veil.sealed = "NAME",
 *                 veil.sealed.NAME = {"m","n","preset","ciphertexts"},
 *                 veil.key_uri = "kbs:///repo/type/tag"
 *   tensors       the plaintext layers as in a plain model,
 *                 sealed.params (U8, the serialized parameter set),
 *                 sealed.NAME.ct<k> (U8, serialized ciphertexts)
 *
 * plus a JSON manifest binding the file's digest, each layer's digest, the
 * FHE parameters and the key URI. Only the last dense layer (followed by
 * nothing but softmax) can be sealed: a sealed layer's outputs are
 * ciphertexts, and nothing after it can run without the key.
 */
#ifndef VEIL_FHE_SEAL_H
#define VEIL_FHE_SEAL_H

#include <stdbool.h>
#include <stdint.h>

#include "fhe/fhe.h"
#include "fhe/mlp.h"

#define FHE_SEALED_PARAMS "sealed.params"
#define FHE_KEY_URI_MAX 512

/* Called as each stage of sealing completes (total is fixed for one call). */
typedef void (*fhe_seal_progress)(void *ctx, unsigned int done, unsigned int total,
				  const char *stage);

/*
 * Seals dense layer `layer` of m under pk and writes the sealed model to
 * out_path and its manifest to manifest_path.
 */
int fhe_seal_model(const struct fhe_mlp *m, const char *layer, const struct fhe_public_key *pk,
		   const char *key_uri, const char *out_path, const char *manifest_path,
		   fhe_seal_progress progress, void *ctx, struct vjson_err *e);

/* Finds the parameter preset a serialized public key belongs to and loads it. */
int fhe_public_key_load(const uint8_t *buf, size_t len, struct fhe_public_key **ret);

struct fhe_sealed {
	struct fhe_mlp *mlp;
	unsigned int layer;		/* index of the sealed dense layer */
	struct fhe_params *params;
	struct fhe_dense *dense;	/* the sealed layer, ciphertexts included */
	uint8_t sha256[32];		/* of the whole file */
	char key_uri[FHE_KEY_URI_MAX + 1];
	/* what an honest output ciphertext of this model looks like */
	unsigned int out_level;
	double out_scale;
};

int fhe_sealed_load(const char *path, struct fhe_sealed **ret, struct vjson_err *e);
/* Always takes ownership of buf (malloc'd). */
int fhe_sealed_parse(uint8_t *buf, size_t len, struct fhe_sealed **ret, struct vjson_err *e);
void fhe_sealed_free(struct fhe_sealed *s);

/*
 * One input: plaintext layers in the clear, then the sealed layer
 * homomorphically. ret gets s->dense->row_blocks masked output ciphertexts.
 * scratch holds 3 * s->mlp->width_max floats.
 */
int fhe_sealed_infer(const struct fhe_sealed *s, const float *x, float *scratch,
		     struct fhe_ciphertext ***ret, unsigned int *ret_n);

/*
 * Key holder: the model's outputs from serialized output ciphertexts, noise
 * flooded. -EBADMSG (with msg) for anything that is not a well-formed output
 * ciphertext of this model: wrong count, parameters, level, scale, encoding,
 * a seeded (fresh) ciphertext, a residue out of range.
 */
int fhe_sealed_decrypt(const struct fhe_sealed *s, const struct fhe_secret_key *sk,
		       const uint8_t *const *ct, const size_t *ct_len, unsigned int n_ct, double *y,
		       char *msg, size_t msg_len);

#endif
