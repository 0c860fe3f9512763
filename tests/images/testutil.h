/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers for tests/images: scratch dirs, busybox rootfs, crafted tars, blob surgery. */
#ifndef VEIL_TESTS_IMAGES_TESTUTIL_H
#define VEIL_TESTS_IMAGES_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct tar_ent {
	char type;		/* f file, d dir, l symlink, h hardlink, c chardev, p fifo */
	const char *path;
	const char *target;	/* link target; file data for 'f' */
	unsigned int mode;	/* 0: 0644 / 0755 */
};

/* A scratch directory (removed by it_cleanup); returns its path. */
const char *it_scratch(void);
void it_cleanup(void);
int it_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A busybox rootfs at dir: /bin/busybox, /bin/sh, /etc/passwd with app:1000, /etc/group. */
int it_busybox_rootfs(const char *dir);
/* A tar (pax) of the entries into a malloc'd buffer. */
int it_tar(const struct tar_ent *ents, size_t n, uint8_t **ret, size_t *ret_len);
/* Reads or replaces a whole file. */
int it_read(const char *path, uint8_t **ret, size_t *ret_len);
int it_write(const char *path, const void *p, size_t n);
void it_sha256_hex(const void *p, size_t n, char out[65]);
/*
 * Replaces the blob old (sha256:HEX) by data in layout, and rewrites every
 * reference to it (manifest, then index), so only the content check that
 * is under test can catch a change. ret_digest gets the new digest.
 */
int it_replace_blob(const char *layout, const char *old, const void *data, size_t len,
		    char ret_digest[72]);
/* The first layer descriptor of the only manifest (a new reference), and its manifest digest. */
json_t *it_manifest(const char *layout, char ret_digest[72]);
int it_write_manifest(const char *layout, const char *old_digest, json_t *m);
/*
 * Turns the only layer of layout into a CoCo annotation-packet layer
 * (AES-256-CTR + HMAC, private options sealed with A256GCM under kek, the
 * packet's kid the given kbs:// URI), rewriting the digests.
 */
int it_coco_encrypt(const char *layout, const uint8_t kek[32], const char *kid);
/* Counts entries of a directory (non-recursive); -1 on error. */
int it_count(const char *dir);

#endif
