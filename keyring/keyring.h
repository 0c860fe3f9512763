/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel keyring custody for veil-init (DESIGN.md §5).
 *
 * veil-init owns a keyring named "veil", linked into its process keyring (so
 * a fork does not inherit it). Each released resource becomes a key in it,
 * described "veil:<repo>/<type>/<tag>". A container gets a keyring
 * "veil:ctr:<name>" that links exactly the keys granted to it; the container's
 * first process joins a fresh session keyring and links that ring into it
 * before exec, so the container possesses its grants and nothing else.
 *
 * Permissions (measured in reference/lsm-keyring-feasibility.md §3):
 *   key       possessor VIEW|READ|SEARCH|LINK; owner (kuid 0, veil-init) SETATTR
 *             only, which KEYCTL_REVOKE needs; group and other nothing.
 *             A logon key gives possessors VIEW|SEARCH|LINK (never readable).
 *   ctr ring  possessor VIEW|READ|SEARCH (no WRITE: the container cannot add or
 *             unlink); owner LINK only, so the forked child (still kuid 0)
 *             can link it into its new session; restricted: nothing more can
 *             ever be linked into it.
 * Containers run in user namespaces with non-zero kuids, so the owner bits
 * never apply to them; the BPF LSM key_permission hook is the second wall.
 */
#ifndef VEIL_KEYRING_KEYRING_H
#define VEIL_KEYRING_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <keyutils.h>

#include "keyring/uri.h"

#define KEYRING_NAME "veil"
#define KEYRING_CTR_PREFIX "veil:ctr:"
#define KEYRING_SESSION_PREFIX "veil:"
#define KEYRING_NAME_MAX 64		/* container or service name */
#define KEYRING_PAYLOAD_MAX 32767	/* the kernel's limit for a user key */
#define KEYRING_MAX_KEYS 256		/* keys one veil-init holds */
#define KEYRING_MAX_GRANTS 64		/* keys one container may be granted */
#define KEYRING_TIMEOUT_MAX (366u * 24 * 3600)

#define KEYRING_KEY_PERM (KEY_POS_VIEW | KEY_POS_READ | KEY_POS_SEARCH | KEY_POS_LINK | KEY_USR_SETATTR)
#define KEYRING_LOGON_PERM (KEY_POS_VIEW | KEY_POS_SEARCH | KEY_POS_LINK | KEY_USR_SETATTR)
#define KEYRING_CTR_PERM (KEY_POS_VIEW | KEY_POS_READ | KEY_POS_SEARCH | KEY_USR_LINK)
#define KEYRING_SESSION_PERM (KEY_POS_VIEW | KEY_POS_READ | KEY_POS_WRITE | KEY_POS_SEARCH | KEY_POS_LINK)

enum keyring_kind {
	KEYRING_USER,	/* userspace reads it back (the FHE seed, a KEK) */
	KEYRING_LOGON,	/* only in-kernel consumers (dm-crypt, fscrypt) */
};

struct keyring;

/* Creates the "veil" keyring in the caller's process keyring. */
int keyring_new(struct keyring **ret);
/* Forgets the bookkeeping; keys stay (revoke first if they must go). NULL ok. */
struct keyring *keyring_free(struct keyring *kr);
key_serial_t keyring_serial(const struct keyring *kr);

/*
 * Adds the resource `path` ("repo/type/tag") as a key; timeout_s 0 = none.
 * -EEXIST if veil already holds that path, -EMSGSIZE above the payload limit,
 * -EINVAL for a bad path or kind, -ENOSPC past KEYRING_MAX_KEYS.
 */
int keyring_add(struct keyring *kr, const char *path, enum keyring_kind kind, const void *data,
		size_t len, unsigned int timeout_s, key_serial_t *ret_key);
/* The serial of the key veil added for `path`, or -ENOKEY. */
int keyring_find(const struct keyring *kr, const char *path, key_serial_t *ret_key);
/* Number of keys added (revoked ones included). */
size_t keyring_count(const struct keyring *kr);
/* The serial of the i-th key added (0 <= i < keyring_count), for the BPF LSM; -ERANGE past it. */
int keyring_key_at(const struct keyring *kr, size_t i, key_serial_t *ret_key);

/*
 * Revokes (KEYCTL_REVOKE) every key veil added and unlinks the container
 * rings: on shutdown and on re-attestation failure. Goes on past failures;
 * returns the number revoked, or the first -errno. Idempotent.
 */
int keyring_revoke_all(struct keyring *kr);

/*
 * In veil-init, before forking a container: builds "veil:ctr:<name>" linking
 * exactly `grants` (paths veil holds; -ENOKEY for one it does not). An
 * earlier ring of the same name is unlinked first (a restart).
 */
int keyring_container_new(struct keyring *kr, const char *name, const char *const *grants,
			  size_t n_grants, key_serial_t *ret_ring);
/* veil-init: drops a container's ring (the container has ended). */
int keyring_container_done(struct keyring *kr, const char *name);

/*
 * In the container's first process, after fork and before it leaves the init
 * user namespace (it must still be kuid 0): joins a new, empty session keyring
 * "veil:<name>" and links `ring` (0 = no grants) into it. The caller must not
 * possess veil's keyring (a forked child does not). Call it before the child
 * enters its container cgroup (or at least before that cgroup's first
 * execve): once the BPF LSM policy is sealed, linking is refused. Returns the
 * session serial.
 */
int keyring_join_container(const char *name, key_serial_t ring);

#endif
