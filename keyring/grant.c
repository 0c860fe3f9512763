// SPDX-License-Identifier: GPL-2.0-only
/* Per-container keyrings: exactly the granted keys, joined before exec. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyring/keyring.h"
#include "keyring/keyring_internal.h"

static int check_name(const char *name)
{
	size_t len;

	if (!name)
		return -EINVAL;
	len = strnlen(name, KEYRING_NAME_MAX + 1);
	if (len == 0 || len > KEYRING_NAME_MAX || name[0] == '.')
		return len ? (len > KEYRING_NAME_MAX ? -ENAMETOOLONG : -EINVAL) : -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return -EINVAL;
	}
	return 0;
}

static struct keyring_ctr *find_ctr(struct keyring *kr, const char *name)
{
	for (size_t i = 0; i < kr->n_ctrs; i++)
		if (strcmp(kr->ctrs[i].name, name) == 0)
			return &kr->ctrs[i];
	return NULL;
}

int keyring_container_done(struct keyring *kr, const char *name)
{
	struct keyring_ctr *c;

	if (!kr || check_name(name) < 0)
		return -EINVAL;
	c = find_ctr(kr, name);
	if (!c)
		return -ENOENT;
	/* Unlinked from veil's ring, it lives on only in the container's session. */
	if (keyctl_unlink(c->ring, kr->ring) < 0 && errno != ENOENT)
		return -errno;
	free(c->name);
	*c = kr->ctrs[--kr->n_ctrs];
	return 0;
}

int keyring_container_new(struct keyring *kr, const char *name, const char *const *grants,
			  size_t n_grants, key_serial_t *ret_ring)
{
	key_serial_t serials[KEYRING_MAX_GRANTS];
	char desc[KEYRING_NAME_MAX + sizeof(KEYRING_CTR_PREFIX)];
	key_serial_t ring;
	char *dup;
	int r;

	if (!kr || !ret_ring || (n_grants && !grants))
		return -EINVAL;
	r = check_name(name);
	if (r < 0)
		return r;
	if (n_grants > KEYRING_MAX_GRANTS)
		return -E2BIG;
	/* Resolve every grant before touching the kernel: all or nothing. */
	for (size_t i = 0; i < n_grants; i++) {
		char kd[KEYRING_DESC_MAX];
		int idx;

		r = keyring_path_to_desc(grants[i], kd, sizeof(kd));
		if (r < 0)
			return r;
		idx = keyring_lookup(kr, kd);
		if (idx < 0)
			return idx;
		if (kr->keys[idx].revoked)
			return -EKEYREVOKED;
		serials[i] = kr->keys[idx].serial;
	}
	if (find_ctr(kr, name)) {
		r = keyring_container_done(kr, name);
		if (r < 0)
			return r;
	}
	if (kr->n_ctrs == kr->cap_ctrs) {
		size_t cap = kr->cap_ctrs ? kr->cap_ctrs * 2 : 4;
		struct keyring_ctr *n = reallocarray(kr->ctrs, cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		kr->ctrs = n;
		kr->cap_ctrs = cap;
	}
	dup = strdup(name);
	if (!dup)
		return -ENOMEM;

	snprintf(desc, sizeof(desc), KEYRING_CTR_PREFIX "%s", name);
	ring = add_key("keyring", desc, NULL, 0, kr->ring);
	if (ring < 0)
		goto fail_nokey;
	for (size_t i = 0; i < n_grants; i++)
		if (keyctl_link(serials[i], ring) < 0)
			goto fail;
	/* Restrict before narrowing: restricting needs SETATTR (feasibility §3.1-5). */
	if (keyctl_restrict_keyring(ring, NULL, NULL) < 0)
		goto fail;
	if (keyctl_setperm(ring, KEYRING_CTR_PERM) < 0)
		goto fail;

	kr->ctrs[kr->n_ctrs].name = dup;
	kr->ctrs[kr->n_ctrs].ring = ring;
	kr->n_ctrs++;
	*ret_ring = ring;
	return 0;
fail:
	r = -errno;
	keyctl_revoke(ring);
	keyctl_unlink(ring, kr->ring);
	free(dup);
	return r;
fail_nokey:
	r = -errno;
	free(dup);
	return r;
}

int keyring_join_container(const char *name, key_serial_t ring)
{
	char desc[KEYRING_NAME_MAX + sizeof(KEYRING_SESSION_PREFIX)];
	key_serial_t ses;
	long n;
	int r;

	r = check_name(name);
	if (r < 0)
		return r;
	if (ring < 0)
		return -EINVAL;
	snprintf(desc, sizeof(desc), KEYRING_SESSION_PREFIX "%s", name);
	ses = keyctl_join_session_keyring(desc);
	if (ses < 0)
		return -errno;
	/*
	 * A named join reuses a keyring the caller can search; a fresh child can
	 * search none, so the session must be new and empty. Refuse otherwise.
	 */
	n = keyctl_read(ses, NULL, 0);
	if (n < 0)
		return -errno;
	if (n != 0)
		return -EEXIST;
	if (ring && keyctl_link(ring, KEY_SPEC_SESSION_KEYRING) < 0)
		return -errno;
	/* The owner (kuid 0) gets nothing; the container keeps all but SETATTR. */
	if (keyctl_setperm(ses, KEYRING_SESSION_PERM) < 0)
		return -errno;
	return ses;
}
