// SPDX-License-Identifier: GPL-2.0-only
/*
 * The decrypt operation behind veil-decryptd. Until the CKKS core is linked
 * in, a model loads (its key is held in secmem) but decrypt answers that the
 * operation is not available.
 */
#include "fhe/decryptd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/secmem.h"

struct state {
	uint8_t *key;
	size_t key_len;
};

int decryptd_model_load(struct decryptd_model *m, const uint8_t *key, size_t key_len,
			char msg[DECRYPTD_MSG_MAX + 1])
{
	struct state *st = secmem_alloc(sizeof(*st) + key_len);

	if (!st) {
		snprintf(msg, DECRYPTD_MSG_MAX + 1, "out of locked memory");
		return -ENOMEM;
	}
	st->key = (uint8_t *)(st + 1);
	st->key_len = key_len;
	memcpy(st->key, key, key_len);
	m->state = st;
	return 0;
}

void decryptd_model_unload(struct decryptd_model *m)
{
	secmem_free(m->state);
	m->state = NULL;
}

int decryptd_model_decrypt(const struct decryptd_model *m, const struct decryptd_request *req,
			   double *y, size_t cap, size_t *ret_n, char msg[DECRYPTD_MSG_MAX + 1])
{
	(void)m;
	(void)req;
	(void)y;
	(void)cap;
	(void)ret_n;
	snprintf(msg, DECRYPTD_MSG_MAX + 1, "decryption is not built into this veil-decryptd");
	return -ENOTSUP;
}
