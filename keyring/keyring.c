// SPDX-License-Identifier: GPL-2.0-only
/* veil's own keyring: released resources as keys, and their revocation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyring/keyring.h"
#include "keyring/keyring_internal.h"

int keyring_new(struct keyring **ret)
{
	struct keyring *kr;
	key_serial_t ring;

	if (!ret)
		return -EINVAL;
	kr = calloc(1, sizeof(*kr));
	if (!kr)
		return -ENOMEM;
	ring = add_key("keyring", KEYRING_NAME, NULL, 0, KEY_SPEC_PROCESS_KEYRING);
	if (ring < 0) {
		int r = -errno;

		free(kr);
		return r;
	}
	/* veil-init alone, through possession; nothing for anyone else. */
	if (keyctl_setperm(ring, KEY_POS_ALL) < 0) {
		int r = -errno;

		keyctl_unlink(ring, KEY_SPEC_PROCESS_KEYRING);
		free(kr);
		return r;
	}
	kr->ring = ring;
	*ret = kr;
	return 0;
}

struct keyring *keyring_free(struct keyring *kr)
{
	if (!kr)
		return NULL;
	for (size_t i = 0; i < kr->n_ctrs; i++)
		free(kr->ctrs[i].name);
	free(kr->ctrs);
	free(kr->keys);
	free(kr);
	return NULL;
}

key_serial_t keyring_serial(const struct keyring *kr)
{
	return kr ? kr->ring : 0;
}

size_t keyring_count(const struct keyring *kr)
{
	return kr ? kr->n_keys : 0;
}

int keyring_key_at(const struct keyring *kr, size_t i, key_serial_t *ret_key)
{
	if (!kr || !ret_key)
		return -EINVAL;
	if (i >= kr->n_keys)
		return -ERANGE;
	*ret_key = kr->keys[i].serial;
	return 0;
}

int keyring_lookup(const struct keyring *kr, const char *desc)
{
	for (size_t i = 0; i < kr->n_keys; i++)
		if (strcmp(kr->keys[i].desc, desc) == 0)
			return (int)i;
	return -ENOKEY;
}

int keyring_find(const struct keyring *kr, const char *path, key_serial_t *ret_key)
{
	char desc[KEYRING_DESC_MAX];
	int r, i;

	if (!kr || !ret_key)
		return -EINVAL;
	r = keyring_path_to_desc(path, desc, sizeof(desc));
	if (r < 0)
		return r;
	i = keyring_lookup(kr, desc);
	if (i < 0)
		return i;
	*ret_key = kr->keys[i].serial;
	return 0;
}

int keyring_add(struct keyring *kr, const char *path, enum keyring_kind kind, const void *data,
		size_t len, unsigned int timeout_s, key_serial_t *ret_key)
{
	char desc[KEYRING_DESC_MAX];
	struct keyring_key *k;
	key_serial_t key;
	int r;

	if (!kr || (!data && len) || (kind != KEYRING_USER && kind != KEYRING_LOGON))
		return -EINVAL;
	if (len == 0 || len > KEYRING_PAYLOAD_MAX)
		return len ? -EMSGSIZE : -EINVAL;
	if (timeout_s > KEYRING_TIMEOUT_MAX)
		return -ERANGE;
	r = keyring_path_to_desc(path, desc, sizeof(desc));
	if (r < 0)
		return r;
	if (keyring_lookup(kr, desc) >= 0)
		return -EEXIST;
	if (kr->n_keys >= KEYRING_MAX_KEYS)
		return -ENOSPC;
	if (kr->n_keys == kr->cap_keys) {
		size_t cap = kr->cap_keys ? kr->cap_keys * 2 : 8;
		struct keyring_key *n = reallocarray(kr->keys, cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		kr->keys = n;
		kr->cap_keys = cap;
	}

	key = add_key(kind == KEYRING_LOGON ? "logon" : "user", desc, data, len, kr->ring);
	if (key < 0)
		return -errno;
	/* The timeout first: once the permissions are narrowed it needs SETATTR. */
	if (timeout_s && keyctl_set_timeout(key, timeout_s) < 0)
		goto fail;
	if (keyctl_setperm(key, kind == KEYRING_LOGON ? KEYRING_LOGON_PERM : KEYRING_KEY_PERM) < 0)
		goto fail;

	k = &kr->keys[kr->n_keys++];
	memset(k, 0, sizeof(*k));
	k->serial = key;
	k->kind = kind;
	memcpy(k->desc, desc, sizeof(desc));
	if (ret_key)
		*ret_key = key;
	return 0;
fail:
	r = -errno;
	keyctl_revoke(key);
	keyctl_unlink(key, kr->ring);
	return r;
}

int keyring_revoke_all(struct keyring *kr)
{
	int first = 0, n = 0;

	if (!kr)
		return -EINVAL;
	for (size_t i = 0; i < kr->n_keys; i++) {
		struct keyring_key *k = &kr->keys[i];

		if (k->revoked)
			continue;
		/*
		 * An expired key cannot be revoked (EKEYEXPIRED) and one already
		 * revoked says EKEYREVOKED: either way nobody can read it any more.
		 */
		if (keyctl_revoke(k->serial) < 0 && errno != EKEYEXPIRED && errno != EKEYREVOKED &&
		    errno != ENOKEY) {
			if (!first)
				first = -errno;
			continue;
		}
		k->revoked = true;
		n++;
	}
	for (size_t i = 0; i < kr->n_ctrs; i++)
		keyctl_unlink(kr->ctrs[i].ring, kr->ring);
	for (size_t i = 0; i < kr->n_ctrs; i++)
		free(kr->ctrs[i].name);
	kr->n_ctrs = 0;
	return first ? first : n;
}
