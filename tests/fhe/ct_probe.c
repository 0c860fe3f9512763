// SPDX-License-Identifier: GPL-2.0-only
/*
 * Constant-time probe, run under valgrind memcheck by ct_test (the BoringSSL
 * technique): the secret seed is marked undefined, so memcheck reports every
 * branch or memory address that depends on it, through keygen (SHAKE256,
 * AES-CTR, ternary and binomial sampling, NTT), public-key derivation and
 * decryption (c0 + c1*s, inverse NTT). Values that are public by design (the
 * public key, the decrypted output before decode) are declassified.
 *   ct_probe [check|leak]   "leak" branches on the secret, to prove detection.
 */
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "fhe/internal.h"

int main(int argc, char **argv)
{
	static const unsigned bits[] = { 50, 49 };
	uint8_t seed[FHE_SEED_SIZE];
	struct fhe_params *p;
	struct fhe_secret_key *sk;
	struct fhe_public_key *pk;
	struct fhe_plaintext *pt;
	struct fhe_ciphertext *ct;
	double v[4] = { 1.5, -2, 0.25, 3 }, out[4];
	size_t idx[4] = { 0, 1, 2, 3 };

	if (fhe_params_new(12, 2, bits, &p) < 0)
		return 2;
	memset(seed, 0x5a, sizeof(seed));
	VALGRIND_MAKE_MEM_UNDEFINED(seed, sizeof(seed));
	if (fhe_keygen(p, seed, &sk) < 0)
		return 2;
	if (argc > 1 && strcmp(argv[1], "leak") == 0) {
		/* a deliberate secret-dependent branch: memcheck must see it */
		volatile int x = 0;

		if (sk->s[3] & 1)
			x = 1;
		(void)x;
	}
	if (fhe_public_key_new(sk, &pk) < 0)
		return 2;
	VALGRIND_MAKE_MEM_DEFINED(pk->p0, (size_t)p->nprimes * p->n * 8);
	if (fhe_encode_coeffs(p, v, 4, 0x1p40, 2, &pt) < 0 || fhe_encrypt(pk, pt, &ct) < 0)
		return 2;
	fhe_plaintext_free(pt);
	if (fhe_decrypt_unflooded(sk, ct, &pt) < 0)
		return 2;
	/* the output is released (after flooding) by design */
	VALGRIND_MAKE_MEM_DEFINED(pt->data, (size_t)pt->level * p->n * 8);
	if (fhe_decode_coeffs(pt, idx, 4, out) < 0)
		return 2;
	printf("%s %.3f %.3f\n", fhe_isa_name(fhe_get_isa()), out[0], out[3]);
	fhe_plaintext_free(pt);
	fhe_ciphertext_free(ct);
	fhe_public_key_free(pk);
	fhe_secret_key_free(sk);
	fhe_params_free(p);
	return 0;
}
