// SPDX-License-Identifier: GPL-2.0-only
/* Resource URI and key description: a bounded, allocation-free parser. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "keyring/uri.h"

static bool seg_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-')
		return true;
	return c == '.' && !first;
}

/* Checks exactly three segments in p[0..len); returns 0 or -errno. */
static int check_path(const char *p, size_t len)
{
	size_t seg = 0, nseg = 1;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '/') {
			if (seg == 0)
				return -EINVAL;
			if (++nseg > 3)
				return -EINVAL;
			seg = 0;
			continue;
		}
		if (!seg_char(p[i], seg == 0))
			return -EINVAL;
		if (++seg > KEYRING_SEGMENT_MAX)
			return -ENAMETOOLONG;
	}
	return seg && nseg == 3 ? 0 : -EINVAL;
}

static int make_desc(const char *p, size_t len, char *desc, size_t size)
{
	size_t pre = sizeof(KEYRING_DESC_PREFIX) - 1;
	int r = check_path(p, len);

	if (r < 0)
		return r;
	if (pre + len + 1 > size)
		return -ENOBUFS;
	memcpy(desc, KEYRING_DESC_PREFIX, pre);
	memcpy(desc + pre, p, len);
	desc[pre + len] = '\0';
	return 0;
}

int keyring_path_to_desc(const char *path, char *desc, size_t size)
{
	size_t len;

	if (!path || !desc)
		return -EINVAL;
	len = strnlen(path, KEYRING_URI_MAX + 1);
	if (len > KEYRING_URI_MAX)
		return -ENAMETOOLONG;
	return make_desc(path, len, desc, size);
}

int keyring_uri_to_desc(const char *uri, size_t len, char *desc, size_t size)
{
	static const char scheme[] = "kbs://";
	const char *p, *end, *slash;

	if (!uri || !desc)
		return -EINVAL;
	if (len > KEYRING_URI_MAX)
		return -ENAMETOOLONG;
	if (len < sizeof(scheme) - 1 || memcmp(uri, scheme, sizeof(scheme) - 1) != 0)
		return -EPROTONOSUPPORT;
	if (memchr(uri, '\0', len))
		return -EINVAL;
	p = uri + sizeof(scheme) - 1;
	end = uri + len;
	/* authority: host[:port], or empty; no userinfo */
	slash = memchr(p, '/', (size_t)(end - p));
	if (!slash)
		return -EINVAL;
	for (const char *a = p; a < slash; a++)
		if (!seg_char(*a, false) && *a != ':' && *a != '[' && *a != ']')
			return -EINVAL;
	p = slash + 1;
	if (memchr(p, '?', (size_t)(end - p)) || memchr(p, '#', (size_t)(end - p)))
		return -EINVAL;
	return make_desc(p, (size_t)(end - p), desc, size);
}
