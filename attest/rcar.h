/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The RCAR client (reference/kbs-protocol.md §1): /kbs/v0/auth -> challenge
 * -> evidence bound to SHA-384(JCS{nonce, tee-pubkey, additional-evidence})
 * -> /kbs/v0/attest -> token -> /kbs/v0/resource/<repo>/<type>/<tag> -> JWE
 * decrypted with an ephemeral P-256 key that never leaves this process.
 *
 * Failure policy: transport errors and 5xx are retried with exponential
 * backoff and jitter until the overall deadline; a 401 on a resource
 * re-attests once for that resource; 404 stops at once; anything malformed
 * fails closed. Errors carry the KBS's ErrorInformation verbatim.
 */
#ifndef VEIL_ATTEST_RCAR_H
#define VEIL_ATTEST_RCAR_H

#include <stddef.h>
#include <stdint.h>

#include "attest/evidence.h"

#define RCAR_PROTOCOL_VERSION "0.4.0"
#define RCAR_NONCE_MAX 1024		/* the nonce is opaque, but bounded */
#define RCAR_TOKEN_MAX (64u << 10)
#define RCAR_ERR_MAX 512

struct rcar_opts {
	const char *url;		/* "https://host:port", no trailing slash */
	const char *ca_file;		/* the CA pinned by the manifest */
	const char *tee;		/* evidence kind, never guessed */
	const struct attest_evidence_opts *evidence;
	const char *initdata;		/* TOML text sent as init-data, or NULL */
	long connect_timeout_ms;	/* 0: 3000 */
	long request_timeout_ms;	/* 0: 10000 */
	long deadline_ms;		/* whole rcar_attest / rcar_get_resource call; 0: 60000 */
	long backoff_ms;		/* first retry delay; 0: 200 */
};

/* Phase timings of the last successful calls, for benchmarks. */
struct rcar_stats {
	double evidence_s, network_s, jwe_s;
	unsigned int attempts, attestations;
};

struct rcar_client;

int rcar_new(const struct rcar_opts *opts, struct rcar_client **ret);
void rcar_free(struct rcar_client *c);

/* Runs /auth and /attest. 0, or -errno with err naming the cause. */
int rcar_attest(struct rcar_client *c, char *err, size_t err_len);

/*
 * Fetches one resource ("repo/type/tag"), attesting first if needed.
 * 0 and the plaintext in lib/secmem memory (free with secmem_free); -ENOENT on
 * 404; other -errno with err naming the cause.
 */
int rcar_get_resource(struct rcar_client *c, const char *path, uint8_t **ret, size_t *ret_len,
		      char *err, size_t err_len);

const struct rcar_stats *rcar_stats(const struct rcar_client *c);

#endif
