/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * OCI layer unpacking: one tar (plain, gzip or zstd, through libarchive)
 * applied onto a root directory, with the OCI whiteout rules (".wh.NAME"
 * removes NAME of lower layers, ".wh..wh..opq" empties a directory of lower
 * layers' entries). Every path is resolved with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS) below the root's fd, so no entry can reach outside
 * the root, whatever earlier entries or layers left there; names are also
 * checked lexically first so that a hostile entry gets a clear error.
 */
#ifndef VEIL_LAUNCHER_UNPACK_H
#define VEIL_LAUNCHER_UNPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"

#define UNPACK_PATH_MAX 4096u		/* an entry's path or link target */
#define UNPACK_NAME_MAX 255u		/* one component */
#define UNPACK_DEPTH_MAX 128u		/* components in one path */
#define UNPACK_ENTRIES_MAX (1u << 20)	/* entries in one layer */
#define UNPACK_BYTES_MAX (64ull << 30)	/* file data in one layer (bombs) */

enum unpack_compression { UNPACK_NONE, UNPACK_GZIP, UNPACK_ZSTD };

struct unpack_opts {
	bool allow_devices;	/* character and block devices */
	bool allow_setuid;	/* setuid/setgid files */
	int chown;		/* 1 chown entries, 0 don't, -1 only when euid is 0 */
	/*
	 * launcher_unpack_layer: "sha256:HEX" of the uncompressed tar (the
	 * image config's diff_id), checked after the last entry; NULL: not.
	 * launcher_image_unpack sets it per layer from the config.
	 */
	const char *diff_id;
	bool diff_ids_all;	/* launcher_image_unpack: plaintext layers too, not only encrypted */
};

struct unpack_stats {
	uint64_t entries, bytes;
};

/*
 * Applies one layer (len bytes at buf) onto the directory rootfd. 0, or a
 * negative errno with e->msg naming the entry and what is wrong with it:
 * -EINVAL a hostile or malformed entry (traversal, escaping link, duplicate,
 * bad whiteout), -EPERM a device or setuid file not allowed, -E2BIG a limit,
 * -EBADMSG a corrupt archive or a diff_id mismatch. On error the root may hold part of the layer:
 * the caller discards it.
 */
int launcher_unpack_layer(int rootfd, const void *buf, size_t len, enum unpack_compression comp,
			  const struct unpack_opts *o, struct unpack_stats *stats,
			  struct vjson_err *e);

/*
 * openat2 strictly below dirfd (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV; O_NOFOLLOW, O_CLOEXEC added).
 * "" is dirfd itself. An fd or -errno.
 */
int launcher_open_beneath(int dirfd, const char *path, int flags);

/*
 * Normalises an entry path: strips "./" and "/" runs and a trailing "/",
 * refuses "..", absolute paths, empty or over-long names. Writes at most
 * UNPACK_PATH_MAX+1 bytes to out. 0 or -EINVAL; "" is the root itself.
 */
int launcher_unpack_clean_path(const char *in, char *out, size_t out_len);

#endif
