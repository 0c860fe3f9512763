/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Resources in a directory, named as Trustee's LocalFs backend names them:
 * <dir>/repository/<repo>\x2F<type>\x2F<tag> (the four characters `\x2F`
 * stand for each `/`, so the directory stays flat). Files are 0600 and
 * written atomically.
 */
#ifndef VEIL_KBS_RESOURCE_H
#define VEIL_KBS_RESOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KBS_SEGMENT_MAX 72	/* three segments, separators and a temp suffix fit NAME_MAX */
#define KBS_RESOURCE_MAX (2u << 20)

struct kbs_resource_path {
	char repo[KBS_SEGMENT_MAX + 1], type[KBS_SEGMENT_MAX + 1], tag[KBS_SEGMENT_MAX + 1];
};

/* [A-Za-z0-9_-][A-Za-z0-9_.-]*, at most KBS_SEGMENT_MAX. */
bool kbs_segment_valid(const char *s, size_t len);

/* Splits "repo/type/tag" (exactly three valid segments); -EINVAL otherwise. */
int kbs_resource_path_parse(const char *path, struct kbs_resource_path *ret);

/* Reads a resource; the caller wipes and frees *ret. -ENOENT when absent. */
int kbs_resource_get(const char *dir, const struct kbs_resource_path *p, uint8_t **ret,
		     size_t *ret_len);
int kbs_resource_put(const char *dir, const struct kbs_resource_path *p, const void *data,
		     size_t len);
int kbs_resource_delete(const char *dir, const struct kbs_resource_path *p);

#endif
