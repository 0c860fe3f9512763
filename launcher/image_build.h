/* SPDX-License-Identifier: GPL-2.0-only */
/* Building an OCI image layout from a directory, deterministically (`veil image build`). */
#ifndef VEIL_LAUNCHER_IMAGE_BUILD_H
#define VEIL_LAUNCHER_IMAGE_BUILD_H

#include <stdint.h>

#include "launcher/image.h"

struct image_build_opts {
	const char *ref;			/* ref.name annotation, or NULL */
	enum unpack_compression compression;
	int level;				/* 0: the compressor's default */
	int64_t mtime;				/* every entry's mtime */
	const char *const *entrypoint, *const *cmd, *const *env;	/* NULL-terminated */
	const char *cwd, *user;
};

/*
 * Writes dir as a one-layer image into the layout directory (created if
 * needed; an existing index keeps its other references). ret_digest (may be
 * NULL) gets the manifest digest. 0 or -errno with e->msg.
 */
int launcher_image_build(const char *dir, const char *layout, const struct image_build_opts *o,
			 char ret_digest[IMAGE_DIGEST_LEN + 1], struct vjson_err *e);

#endif
