// SPDX-License-Identifier: GPL-2.0-only
#include "attest/verifier.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* One line per TEE, so areas add verifiers without touching each other. */
static const struct attest_verifier *const verifiers[] = {
	&attest_verifier_sample,
	&attest_verifier_tpm,
	&attest_verifier_snp,
	&attest_verifier_az_snp_vtpm,
	&attest_verifier_tdx,
};

int attest_verify(const char *tee, const json_t *evidence, const uint8_t binding[ATTEST_BINDING_LEN],
		  const struct attest_verify_opts *opts, json_t **ret_claims, char *err,
		  size_t err_len)
{
	for (size_t i = 0; i < sizeof(verifiers) / sizeof(verifiers[0]); i++)
		if (strcmp(verifiers[i]->tee, tee) == 0)
			return verifiers[i]->verify(evidence, binding, opts, ret_claims, err, err_len);
	if (err)
		snprintf(err, err_len, "no verifier for TEE '%.64s'", tee);
	return -EOPNOTSUPP;
}
