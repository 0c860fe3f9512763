/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Admin authentication (reference/kbs-protocol.md §3.1): a Bearer JWT signed
 * EdDSA (Ed25519) by the configured key, with `exp` (60 s leeway) and a
 * string `role` that must be one of the allowed roles; `iss` is compared when
 * configured.
 */
#ifndef VEIL_KBS_ADMIN_H
#define VEIL_KBS_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define KBS_ADMIN_ROLES_MAX 16

enum kbs_admin_mode {
	KBS_ADMIN_AUTHENTICATED,
	KBS_ADMIN_DENY_ALL,
	KBS_ADMIN_INSECURE_ALLOW_ALL,
};

struct kbs_admin {
	enum kbs_admin_mode mode;
	EVP_PKEY *key;	/* Ed25519 public key */
	char *issuer;	/* NULL: not checked */
	char *roles[KBS_ADMIN_ROLES_MAX];
	size_t n_roles;
};

/* 0 allowed; -EACCES with err saying why. authorization is the header value (NULL: absent). */
int kbs_admin_check(const struct kbs_admin *a, const char *authorization, int64_t now, char *err,
		    size_t err_len);
void kbs_admin_done(struct kbs_admin *a);

/* Loads an Ed25519 public key PEM (or the public half of a private key PEM). */
int kbs_admin_load_key(const char *path, EVP_PKEY **ret);

#endif
