/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The RCAR request bodies (reference/kbs-protocol.md §1.3), parsed strictly
 * enough to hash and verify, loosely enough to accept what Trustee accepts
 * (serde ignores unknown members; so do we).
 */
#ifndef VEIL_KBS_PROTO_H
#define VEIL_KBS_PROTO_H

#include <jansson.h>
#include <stddef.h>

#define KBS_PROTOCOL_VERSION "0.4.0"
#define KBS_BODY_MAX (2u << 20)	/* Trustee's payload_request_size */
#define KBS_TEE_NAME_MAX 16

struct kbs_auth_request {
	char tee[KBS_TEE_NAME_MAX + 1];
};

/*
 * POST /kbs/v0/auth: {"version","tee","extra-params"}, all required. err gets
 * the cause Trustee appends to "RCAR handshake Auth failed: ", e.g. the exact
 * "KBS Client Protocol Version Mismatch: expect =0.4.0 while the request is X".
 */
int kbs_parse_auth(const char *body, size_t len, struct kbs_auth_request *ret, char *err,
		   size_t err_len);

struct kbs_attestation {
	json_t *root;			/* owned; the rest borrow from it */
	const char *nonce;
	json_t *tee_pubkey;
	json_t *primary_evidence;
	const char *additional_evidence;
	const char *init_data_toml;	/* NULL when absent */
};

/* POST /kbs/v0/attest. 0, or -EINVAL with err naming the member. */
int kbs_parse_attestation(const char *body, size_t len, struct kbs_attestation *ret, char *err,
			  size_t err_len);
void kbs_attestation_done(struct kbs_attestation *a);

/* True for the TEE names kbs-types knows (§1.4). */
int kbs_tee_known(const char *tee);

/* base64url-nopad "policy" member of a policy upload; 0 and a malloc'd, NUL-terminated text. */
int kbs_parse_policy_upload(const char *body, size_t len, char **ret_policy, size_t *ret_len,
			    char **ret_id, char *err, size_t err_len);

#endif
