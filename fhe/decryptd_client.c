// SPDX-License-Identifier: GPL-2.0-only
/* The client side of veil-decryptd: `veil decrypt`, `veil infer`, tests, benchmarks. */
#include "fhe/decryptd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/frame.h"

int decryptd_client_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int decryptd_client_decrypt(int fd, uint32_t id, const char *model, const uint8_t *const *ct,
			    const size_t *ct_len, unsigned int n_ct, double *y, size_t cap,
			    size_t *ret_n, int *ret_status, char *msg, size_t msg_len)
{
	_cleanup_free_ uint8_t *req = NULL, *rep = malloc(DECRYPTD_REPLY_MAX);
	struct decryptd_reply r;
	size_t len;
	int ret;

	if (!rep)
		return -ENOMEM;
	ret = decryptd_build_decrypt(id, model, ct, ct_len, n_ct, &req, &len);
	if (ret < 0)
		return ret;
	ret = fd_write_full(fd, req, len);
	if (ret < 0)
		return ret;
	ret = frame_read(fd, rep, DECRYPTD_REPLY_MAX, &len);
	if (ret < 0)
		return ret;
	ret = decryptd_parse_reply(rep, len, &r);
	if (ret < 0)
		return ret;
	if (r.id != id)
		return -EPROTO;
	if (r.status != DECRYPTD_OK) {
		*ret_status = r.status;
		snprintf(msg, msg_len, "%s: %.*s", decryptd_status_name(r.status),
			 (int)(r.body_len < 200 ? r.body_len : 200), (const char *)r.body);
		return -EPROTO;
	}
	*ret_status = DECRYPTD_OK;
	return decryptd_reply_outputs(&r, y, cap, ret_n);
}

int decryptd_vct_parse(const uint8_t *buf, size_t len, const uint8_t **ct, size_t *ct_len,
		       unsigned int *ret_n)
{
	size_t off = 0;
	unsigned int n = 0;

	while (off < len) {
		size_t l;

		if (n == DECRYPTD_CT_MAX || len - off < 4)
			return -EBADMSG;
		l = (size_t)buf[off] << 24 | (size_t)buf[off + 1] << 16 | (size_t)buf[off + 2] << 8 |
		    buf[off + 3];
		off += 4;
		if (l == 0 || l > len - off)
			return -EBADMSG;
		ct[n] = buf + off;
		ct_len[n++] = l;
		off += l;
	}
	if (!n)
		return -EBADMSG;
	*ret_n = n;
	return 0;
}
