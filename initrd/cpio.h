/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The reproducible newc cpio writer: entries in the finished list's order
 * (sorted by path), inode numbers counted from 1, one fixed mtime, owners and
 * modes exactly as listed, optional gzip (zlib, header with no name and
 * mtime 0), so one list always gives the same bytes.
 */
#ifndef VEIL_INITRD_CPIO_H
#define VEIL_INITRD_CPIO_H

#include <stdbool.h>
#include <stdint.h>

#include "initrd/list.h"

#define INITRD_FILE_MAX_SIZE (1u << 30)	/* one file in the archive */

struct initrd_cpio_opts {
	bool gzip;
	uint32_t mtime;	/* every entry's mtime (SOURCE_DATE_EPOCH style) */
};

/*
 * Writes the finished list l as a newc archive to fd. Returns 0 or -errno;
 * err (when given) names the file that failed.
 */
int initrd_write_cpio(const struct initrd_list *l, int fd, const struct initrd_cpio_opts *o,
		      char *err, size_t err_len);

#endif
