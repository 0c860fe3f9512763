/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Resource names: the KBS URI `kbs://[host[:port]]/<repo>/<type>/<tag>` and
 * the key description veil gives a released resource, `veil:<repo>/<type>/<tag>`.
 * Shared by libveil-keyring.a and libveilkey.so, so it depends on nothing.
 */
#ifndef VEIL_KEYRING_URI_H
#define VEIL_KEYRING_URI_H

#include <stddef.h>

#define KEYRING_DESC_PREFIX "veil:"
#define KEYRING_SEGMENT_MAX 128	/* one of repo, type, tag */
#define KEYRING_URI_MAX 1024	/* a whole URI, authority and query included */
/* "veil:" + three segments + two slashes + NUL */
#define KEYRING_DESC_MAX (sizeof(KEYRING_DESC_PREFIX) + 3 * KEYRING_SEGMENT_MAX + 2)

/*
 * "repo/type/tag" -> "veil:repo/type/tag". Each segment must match KBS's own
 * rule [A-Za-z0-9_-][A-Za-z0-9_.-]* and be at most KEYRING_SEGMENT_MAX long.
 * Returns 0, -EINVAL for a malformed path, -ENAMETOOLONG, -ENOBUFS.
 */
int keyring_path_to_desc(const char *path, char *desc, size_t size);

/*
 * "kbs:///repo/type/tag" (authority ignored, like CoCo clients do; a query or
 * fragment is refused, a key has no variants) -> "veil:repo/type/tag".
 */
int keyring_uri_to_desc(const char *uri, size_t len, char *desc, size_t size);

#endif
