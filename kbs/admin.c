// SPDX-License-Identifier: GPL-2.0-only
#include "kbs/admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "attest/jws.h"
#include "lib/cleanup.h"
#include "lib/fd.h"

#define LEEWAY 60

int kbs_admin_check(const struct kbs_admin *a, const char *authorization, int64_t now, char *err,
		    size_t err_len)
{
	json_t *claims = NULL, *exp;
	const char *role, *iss;
	char why[256];
	int r = -EACCES;

	if (a->mode == KBS_ADMIN_INSECURE_ALLOW_ALL)
		return 0;
	if (a->mode == KBS_ADMIN_DENY_ALL) {
		snprintf(err, err_len, "admin access is disabled");
		return -EACCES;
	}
	if (!authorization || strncmp(authorization, "Bearer ", 7) != 0) {
		snprintf(err, err_len, "no Bearer token");
		return -EACCES;
	}
	if (attest_jws_verify(authorization + 7, strlen(authorization + 7), a->key, NULL, &claims, why,
			      sizeof(why)) < 0) {
		snprintf(err, err_len, "%s", why);
		return -EACCES;
	}
	exp = json_object_get(claims, "exp");
	role = json_string_value(json_object_get(claims, "role"));
	iss = json_string_value(json_object_get(claims, "iss"));
	if (!json_is_integer(exp))
		snprintf(err, err_len, "the token has no integer 'exp'");
	else if (json_integer_value(exp) + LEEWAY < now)
		snprintf(err, err_len, "the token expired");
	else if (!role)
		snprintf(err, err_len, "the token has no string 'role'");
	else if (a->issuer && (!iss || strcmp(iss, a->issuer) != 0))
		snprintf(err, err_len, "the token's 'iss' is not '%s'", a->issuer);
	else {
		snprintf(err, err_len, "role '%.64s' is not allowed", role);
		for (size_t i = 0; i < a->n_roles; i++)
			if (strcmp(a->roles[i], role) == 0)
				r = 0;
	}
	json_decref(claims);
	return r;
}

void kbs_admin_done(struct kbs_admin *a)
{
	EVP_PKEY_free(a->key);
	free(a->issuer);
	for (size_t i = 0; i < a->n_roles; i++)
		free(a->roles[i]);
	memset(a, 0, sizeof(*a));
}

int kbs_admin_load_key(const char *path, EVP_PKEY **ret)
{
	_cleanup_free_ char *pem = NULL;
	EVP_PKEY *k;
	size_t len;
	BIO *bio;
	int r;

	r = fd_read_file(path, 64 << 10, &pem, &len);
	if (r < 0)
		return r;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return -ENOMEM;
	k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (!k) {
		BIO_reset(bio);
		k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	}
	BIO_free(bio);
	explicit_bzero(pem, len);
	if (!k)
		return -EINVAL;
	if (!EVP_PKEY_is_a(k, "ED25519")) {
		EVP_PKEY_free(k);
		return -EINVAL;
	}
	*ret = k;
	return 0;
}
