// SPDX-License-Identifier: GPL-2.0-only
/* libveilkey: read a granted key by its kbs:// URI (workload side). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <keyutils.h>

#include "keyring/uri.h"
#include "keyring/veilkey.h"

int32_t veilkey_find(const char *uri)
{
	char desc[KEYRING_DESC_MAX];
	long key;
	int r;

	if (!uri)
		return -EINVAL;
	r = keyring_uri_to_desc(uri, strnlen(uri, KEYRING_URI_MAX + 1), desc, sizeof(desc));
	if (r < 0)
		return r;
	/* logon first would be wrong: a user key is what userspace reads. */
	key = keyctl_search(KEY_SPEC_SESSION_KEYRING, "user", desc, 0);
	if (key < 0 && errno == ENOKEY)
		key = keyctl_search(KEY_SPEC_SESSION_KEYRING, "logon", desc, 0);
	if (key < 0)
		return -errno;
	return (int32_t)key;
}

ssize_t veilkey_read(const char *uri, void *buf, size_t len)
{
	int32_t key = veilkey_find(uri);
	long n;

	if (key < 0)
		return key;
	if (!buf && len)
		return -EINVAL;
	/*
	 * keyctl_read copies min(len, size) and returns the size: ask for the
	 * size first so a short buffer never holds a truncated secret.
	 */
	n = keyctl_read(key, NULL, 0);
	if (n < 0)
		return -errno;
	if ((size_t)n > len)
		return -ENOBUFS;
	n = keyctl_read(key, buf, len);
	if (n < 0)
		return -errno;
	return n;
}
