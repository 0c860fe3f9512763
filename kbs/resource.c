// SPDX-License-Identifier: GPL-2.0-only
#include "kbs/resource.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fd.h"

static bool seg_char(char c, bool first)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || (!first && c == '.');
}

bool kbs_segment_valid(const char *s, size_t len)
{
	if (len == 0 || len > KBS_SEGMENT_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!seg_char(s[i], i == 0))
			return false;
	return true;
}

int kbs_resource_path_parse(const char *path, struct kbs_resource_path *ret)
{
	char *dst[3] = { ret->repo, ret->type, ret->tag };
	const char *p = path;

	for (int i = 0; i < 3; i++) {
		const char *end = i < 2 ? strchr(p, '/') : p + strlen(p);
		size_t n;

		if (!end)
			return -EINVAL;
		n = (size_t)(end - p);
		if (!kbs_segment_valid(p, n))
			return -EINVAL;
		memcpy(dst[i], p, n);
		dst[i][n] = 0;
		p = end + 1;
	}
	return 0;
}

static int file_of(const char *dir, const struct kbs_resource_path *p, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/repository/%s\\x2F%s\\x2F%s", dir, p->repo, p->type, p->tag);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int kbs_resource_get(const char *dir, const struct kbs_resource_path *p, uint8_t **ret,
		     size_t *ret_len)
{
	char path[4096];
	int r = file_of(dir, p, path, sizeof(path));

	if (r < 0)
		return r;
	return fd_read_file(path, KBS_RESOURCE_MAX, (char **)ret, ret_len);
}

int kbs_resource_put(const char *dir, const struct kbs_resource_path *p, const void *data,
		     size_t len)
{
	char path[4096];
	int r;

	if (len > KBS_RESOURCE_MAX)
		return -EFBIG;
	snprintf(path, sizeof(path), "%s/repository", dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	r = file_of(dir, p, path, sizeof(path));
	if (r < 0)
		return r;
	return fd_write_file_atomic(path, data, len, 0600);
}

int kbs_resource_delete(const char *dir, const struct kbs_resource_path *p)
{
	char path[4096];
	int r = file_of(dir, p, path, sizeof(path));

	if (r < 0)
		return r;
	return unlink(path) < 0 ? -errno : 0;
}
