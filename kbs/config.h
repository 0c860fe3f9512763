/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veil-kbs's configuration file: one JSON object (docs/kbs.md "Configuration").
 * Every member is optional except where HTTPS needs a certificate and key.
 */
#ifndef VEIL_KBS_CONFIG_H
#define VEIL_KBS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kbs/admin.h"

#define KBS_CONFIG_MAX (64u << 10)

struct kbs_config {
	char *listen;		/* "ADDR:PORT", default 127.0.0.1:8080 */
	bool insecure_http;
	char *tls_cert, *tls_key;
	char *state_dir;	/* resources in STATE/repository, policies in STATE/policy */
	int64_t session_timeout, token_lifetime;	/* seconds, default 300 */
	char *token_key, *token_chain;	/* NULL key: ephemeral */
	struct kbs_admin admin;
	bool spec_status;
	unsigned int threads;	/* 0: one per CPU */
	size_t max_sessions;
	size_t max_connections;
	char *trust_dir;	/* verifier trust material (attest_verify_opts) */
};

/* Defaults, then the file (path NULL: defaults only). -EINVAL with err naming the member. */
int kbs_config_load(const char *path, struct kbs_config *ret, char *err, size_t err_len);
void kbs_config_done(struct kbs_config *c);

#endif
