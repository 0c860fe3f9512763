// SPDX-License-Identifier: GPL-2.0-only
#include "lib/frame.h"

#include <errno.h>

#include "lib/fd.h"

int frame_header(size_t len, size_t max, uint8_t hdr[FRAME_HDR_LEN])
{
	if (max > FRAME_MAX)
		max = FRAME_MAX;
	if (len > max)
		return -EMSGSIZE;
	hdr[0] = len >> 24;
	hdr[1] = len >> 16;
	hdr[2] = len >> 8;
	hdr[3] = len;
	return 0;
}

int frame_parse(const uint8_t *buf, size_t len, size_t max, const uint8_t **ret_payload,
		size_t *ret_len)
{
	size_t plen;

	if (max > FRAME_MAX)
		max = FRAME_MAX;
	if (len < FRAME_HDR_LEN)
		return 0;
	plen = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
	if (plen > max)
		return -EMSGSIZE;
	if (len - FRAME_HDR_LEN < plen)
		return 0;
	*ret_payload = buf + FRAME_HDR_LEN;
	*ret_len = plen;
	return (int)(FRAME_HDR_LEN + plen);
}

int frame_write(int fd, const void *payload, size_t len, size_t max)
{
	uint8_t hdr[FRAME_HDR_LEN];
	int r;

	r = frame_header(len, max, hdr);
	if (r < 0)
		return r;
	r = fd_write_full(fd, hdr, sizeof(hdr));
	if (r < 0)
		return r;
	return fd_write_full(fd, payload, len);
}

int frame_read(int fd, void *buf, size_t cap, size_t *ret_len)
{
	uint8_t hdr[FRAME_HDR_LEN];
	size_t plen;
	ssize_t n;

	n = fd_read_full(fd, hdr, sizeof(hdr));
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ENODATA;
	if (n < FRAME_HDR_LEN)
		return -ECONNRESET;
	plen = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (plen > cap || plen > FRAME_MAX)
		return -EMSGSIZE;
	n = fd_read_full(fd, buf, plen);
	if (n < 0)
		return (int)n;
	if ((size_t)n < plen)
		return -ECONNRESET;
	*ret_len = plen;
	return 0;
}
