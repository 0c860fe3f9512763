/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RCAR sessions behind a small store interface: the embedded store keeps
 * them in memory; a shared store (a key-value service several replicas use)
 * implements the same five operations. Sessions are values, copied in and
 * out, so no caller holds a pointer into the store.
 */
#ifndef VEIL_KBS_SESSION_H
#define VEIL_KBS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KBS_SESSION_ID_LEN 32	/* UUID v4, simple form */
#define KBS_NONCE_B64_LEN 44	/* 32 bytes, standard base64 */

struct kbs_session {
	char id[KBS_SESSION_ID_LEN + 1];
	char tee[17];
	char nonce[KBS_NONCE_B64_LEN + 1];
	int64_t expires;	/* unix seconds; the same after /attest (not extended) */
	bool attested;
	char *token;		/* owned; set once attested */
};

struct kbs_store;

struct kbs_store_ops {
	/* Inserts or replaces; -ENOSPC when the store is full. */
	int (*put)(struct kbs_store *s, const struct kbs_session *sess);
	/* Copies the session out; -ENOENT unknown, -ETIMEDOUT expired (and removed). */
	int (*get)(struct kbs_store *s, const char *id, int64_t now, struct kbs_session *ret);
	int (*del)(struct kbs_store *s, const char *id);
	/* Removes expired sessions; returns how many. */
	int (*sweep)(struct kbs_store *s, int64_t now);
	size_t (*count)(struct kbs_store *s);
	void (*free)(struct kbs_store *s);
};

struct kbs_store {
	const struct kbs_store_ops *ops;
};

struct kbs_store *kbs_store_memory_new(size_t max_sessions);
void kbs_store_free(struct kbs_store *s);

/* Fills id with a fresh UUID v4 (simple form) and nonce with 32 random bytes, base64. */
int kbs_session_new(struct kbs_session *s, const char *tee, int64_t expires);
void kbs_session_done(struct kbs_session *s);

#endif
