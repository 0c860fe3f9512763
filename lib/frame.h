/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Length-prefixed frames: a 4-byte big-endian payload length, then the
 * payload. Every reader names its cap; a frame over it is -EMSGSIZE and the
 * connection is to be dropped (the stream cannot be resynchronised).
 */
#ifndef VEIL_LIB_FRAME_H
#define VEIL_LIB_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HDR_LEN 4
#define FRAME_MAX (16u << 20)	/* no frame of any veil protocol is larger */

/*
 * Parses one frame at the start of buf. Returns the bytes it spans (header
 * included) with ret_payload and ret_len set, 0 when more bytes are needed, or
 * -EMSGSIZE when the announced length exceeds max.
 */
int frame_parse(const uint8_t *buf, size_t len, size_t max, const uint8_t **ret_payload,
		size_t *ret_len);
/* Writes the header for a payload of len bytes into hdr. */
int frame_header(size_t len, size_t max, uint8_t hdr[FRAME_HDR_LEN]);

/* Blocking fd helpers. read: 0 and *ret_len, -ECONNRESET on EOF mid-frame, -ENODATA on clean EOF. */
int frame_write(int fd, const void *payload, size_t len, size_t max);
int frame_read(int fd, void *buf, size_t cap, size_t *ret_len);

#endif
