// SPDX-License-Identifier: GPL-2.0-only
/*
 * The decrypt operation behind veil-decryptd: the sealed model (geometry,
 * parameters, what an honest output looks like) and its secret key, expanded
 * in lib/secmem memory by the FHE core. Only well-formed output ciphertexts
 * of that model are decrypted, and every output is noise-flooded.
 */
#include "fhe/decryptd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fhe/seal.h"

struct state {
	struct fhe_sealed *sealed;
	struct fhe_secret_key *sk;
};

int decryptd_model_load(struct decryptd_model *m, const uint8_t *key, size_t key_len,
			char msg[DECRYPTD_MSG_MAX + 1])
{
	struct state *st = calloc(1, sizeof(*st));
	struct vjson_err e;
	int r;

	if (!st)
		return -ENOMEM;
	r = fhe_sealed_load(m->sealed, &st->sealed, &e);
	if (r < 0) {
		snprintf(msg, DECRYPTD_MSG_MAX + 1, "%.200s", e.msg);
		free(st);
		return r;
	}
	r = fhe_secret_key_deserialize(st->sealed->params, key, key_len, &st->sk);
	if (r < 0) {
		snprintf(msg, DECRYPTD_MSG_MAX + 1, "its key: %s", fhe_last_error());
		fhe_sealed_free(st->sealed);
		free(st);
		return r;
	}
	m->state = st;
	return 0;
}

void decryptd_model_unload(struct decryptd_model *m)
{
	struct state *st = m->state;

	if (!st)
		return;
	fhe_secret_key_free(st->sk);
	fhe_sealed_free(st->sealed);
	free(st);
	m->state = NULL;
}

int decryptd_model_decrypt(const struct decryptd_model *m, const struct decryptd_request *req,
			   double *y, size_t cap, size_t *ret_n, char msg[DECRYPTD_MSG_MAX + 1])
{
	const struct state *st = m ? m->state : NULL;
	int r;

	if (!st) {
		snprintf(msg, DECRYPTD_MSG_MAX + 1, "model not loaded");
		return -ENOENT;
	}
	if (st->sealed->dense->m > cap) {
		snprintf(msg, DECRYPTD_MSG_MAX + 1, "model has too many outputs");
		return -ENOBUFS;
	}
	r = fhe_sealed_decrypt(st->sealed, st->sk, req->ct, req->ct_len, req->n_ct, y, msg,
			       DECRYPTD_MSG_MAX + 1);
	if (r < 0)
		return r;
	*ret_n = st->sealed->dense->m;
	return 0;
}
