/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libveilkey: the workload side. A process in a container that veil granted
 * a resource reads it by its KBS URI, e.g.
 *
 *     unsigned char k[32];
 *     ssize_t n = veilkey_read("kbs:///default/key/model", k, sizeof(k));
 *
 * The key is found in the caller's session keyring (which veil-init set up
 * before exec), never fetched from anywhere else. Link with -lveilkey.
 */
#ifndef VEIL_VEILKEY_H
#define VEIL_VEILKEY_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The serial of the granted key for `uri`, or -errno: -EPROTONOSUPPORT (not
 * kbs://), -EINVAL (malformed), -ENOKEY (not granted), -EACCES, -EKEYREVOKED,
 * -EKEYEXPIRED.
 */
int32_t veilkey_find(const char *uri);

/*
 * Copies the key's payload into buf and returns its length, or -errno as
 * veilkey_find, plus -ENOBUFS when len is too small (nothing is copied then)
 * and -EOPNOTSUPP for a logon key. The caller wipes buf when done.
 */
ssize_t veilkey_read(const char *uri, void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
