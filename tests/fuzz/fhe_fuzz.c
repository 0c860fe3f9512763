// SPDX-License-Identifier: GPL-2.0-only
/*
 * Parses bytes as every veil FHE object kind (the decryption service and
 * `veil infer` read these from outside). The first byte picks the kind.
 * A ciphertext or plaintext that parses must serialize back to exactly the
 * same bytes: the word-at-a-time reader against the bit-by-bit writer.
 */
#include <stdlib.h>
#include <string.h>

#include "fhe/fhe.h"
#include "lib/secmem.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static struct fhe_params *params;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct fhe_ciphertext *ct = NULL;
	struct fhe_plaintext *pt = NULL;
	struct fhe_public_key *pk = NULL;
	struct fhe_secret_key *sk = NULL;
	struct fhe_params *p = NULL;
	uint8_t *back = NULL;
	size_t back_len = 0;

	if (!params && fhe_params_preset(FHE_PRESET_DENSE_8192, &params) < 0)
		abort();
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		if (fhe_ciphertext_deserialize(params, data + 1, size - 1, &ct) == 0 &&
		    (ct->level < 1 || ct->level > 3 || !(ct->scale >= 1.0)))
			abort();
		if (ct && (fhe_ciphertext_serialize(ct, &back, &back_len) < 0 ||
			   back_len != size - 1 || memcmp(back, data + 1, back_len) != 0))
			abort();
		break;
	case 1:
		if (fhe_plaintext_deserialize(params, data + 1, size - 1, &pt) == 0 &&
		    (fhe_plaintext_serialize(pt, &back, &back_len) < 0 || back_len != size - 1 ||
		     memcmp(back, data + 1, back_len) != 0))
			abort();
		break;
	case 2:
		fhe_public_key_deserialize(params, data + 1, size - 1, &pk);
		break;
	case 3:
		fhe_secret_key_deserialize(NULL, data + 1, size - 1, &sk);
		break;
	case 4:
		fhe_params_deserialize(data + 1, size - 1, &p);
		break;
	}
	fhe_ciphertext_free(ct);
	fhe_plaintext_free(pt);
	fhe_public_key_free(pk);
	fhe_secret_key_free(sk);
	fhe_params_free(p);
	free(back);
	return 0;
}
