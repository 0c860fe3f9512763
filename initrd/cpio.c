// SPDX-License-Identifier: GPL-2.0-only
/* newc ("070701") writer, the format the kernel's initramfs unpacker reads. */
#include "initrd/cpio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/cleanup.h"
#include "lib/fd.h"

#define OUT_CHUNK (128u << 10)

struct sink {
	int fd;
	bool gzip;
	z_stream z;
	uint64_t offset;	/* bytes of cpio written, for padding */
	unsigned char buf[OUT_CHUNK];
};

static int sink_deflate(struct sink *s, const void *p, size_t n, int flush)
{
	s->z.next_in = (unsigned char *)p;
	s->z.avail_in = n;
	do {
		int zr, r;

		s->z.next_out = s->buf;
		s->z.avail_out = sizeof(s->buf);
		zr = deflate(&s->z, flush);
		if (zr == Z_STREAM_ERROR)
			return -EIO;
		r = fd_write_full(s->fd, s->buf, sizeof(s->buf) - s->z.avail_out);
		if (r < 0)
			return r;
		if (flush == Z_FINISH && zr == Z_STREAM_END)
			break;
	} while (s->z.avail_out == 0 || s->z.avail_in > 0 || flush == Z_FINISH);
	return 0;
}

static int sink_write(struct sink *s, const void *p, size_t n)
{
	s->offset += n;
	if (!s->gzip)
		return fd_write_full(s->fd, p, n);
	return sink_deflate(s, p, n, Z_NO_FLUSH);
}

static int sink_pad(struct sink *s)
{
	static const char zero[4];
	size_t pad = (4 - s->offset % 4) % 4;

	return pad ? sink_write(s, zero, pad) : 0;
}

static int header(struct sink *s, uint32_t ino, uint32_t mode, uint32_t uid, uint32_t gid,
		  uint32_t nlink, uint32_t mtime, uint32_t size, uint32_t rmaj, uint32_t rmin,
		  const char *name)
{
	char h[16 * 8 + 16];
	size_t namesize = strlen(name) + 1;
	int r;

	snprintf(h, sizeof(h),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08zX%08X", ino, mode, uid,
		 gid, nlink, mtime, size, 0u, 0u, rmaj, rmin, namesize, 0u);
	r = sink_write(s, h, 110);
	if (r < 0)
		return r;
	r = sink_write(s, name, namesize);
	if (r < 0)
		return r;
	return sink_pad(s);
}

static int copy_file(struct sink *s, const struct initrd_entry *e, uint32_t ino, uint32_t mtime,
		     char *err, size_t err_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	uint64_t left;
	int r;

	fd = open(e->source, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, err_len, "cannot open '%s': %s", e->source, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "'%s' is not a regular file", e->source);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > INITRD_FILE_MAX_SIZE) {
		snprintf(err, err_len, "'%s' is larger than %u bytes", e->source,
			 INITRD_FILE_MAX_SIZE);
		return -EFBIG;
	}
	r = header(s, ino, S_IFREG | e->mode, e->uid, e->gid, 1, mtime, st.st_size, 0, 0, e->path);
	if (r < 0)
		return r;
	buf = malloc(OUT_CHUNK);
	if (!buf)
		return -ENOMEM;
	for (left = st.st_size; left;) {
		size_t want = left < OUT_CHUNK ? left : OUT_CHUNK;
		ssize_t n = fd_read_full(fd, buf, want);

		if (n < 0 || (size_t)n != want) {
			snprintf(err, err_len, "'%s' changed or failed while being read", e->source);
			return n < 0 ? (int)n : -EIO;
		}
		r = sink_write(s, buf, n);
		if (r < 0)
			return r;
		left -= n;
	}
	return sink_pad(s);
}

static int write_entry(struct sink *s, const struct initrd_entry *e, uint32_t ino, uint32_t mtime,
		       char *err, size_t err_len)
{
	int r;

	switch (e->type) {
	case INITRD_DIR:
		return header(s, ino, S_IFDIR | e->mode, e->uid, e->gid, 2, mtime, 0, 0, 0, e->path);
	case INITRD_SYMLINK: {
		size_t n = strlen(e->source);

		r = header(s, ino, S_IFLNK | e->mode, e->uid, e->gid, 1, mtime, n, 0, 0, e->path);
		if (r == 0)
			r = sink_write(s, e->source, n);
		return r < 0 ? r : sink_pad(s);
	}
	case INITRD_NODE:
		return header(s, ino, (e->block ? S_IFBLK : S_IFCHR) | e->mode, e->uid, e->gid, 1,
			      mtime, 0, e->major, e->minor, e->path);
	case INITRD_FILE:
		if (!e->data)
			return copy_file(s, e, ino, mtime, err, err_len);
		if (e->data_len > INITRD_FILE_MAX_SIZE)
			return -EFBIG;
		r = header(s, ino, S_IFREG | e->mode, e->uid, e->gid, 1, mtime, e->data_len, 0, 0,
			   e->path);
		if (r == 0)
			r = sink_write(s, e->data, e->data_len);
		return r < 0 ? r : sink_pad(s);
	}
	return -EINVAL;
}

int initrd_write_cpio(const struct initrd_list *l, int fd, const struct initrd_cpio_opts *o,
		      char *err, size_t err_len)
{
	_cleanup_free_ struct sink *s = calloc(1, sizeof(*s));
	char dummy[1];
	size_t n = initrd_list_count(l);
	int r = 0;

	if (!err) {
		err = dummy;
		err_len = sizeof(dummy);
	}
	if (err_len)
		err[0] = '\0';
	if (!s)
		return -ENOMEM;
	s->fd = fd;
	s->gzip = o->gzip;
	if (s->gzip) {
		/* No name, no mtime, OS "Unix": the gzip header is the same on every build. */
		gz_header gh = { .os = 3 };

		if (deflateInit2(&s->z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			return -ENOMEM;
		deflateSetHeader(&s->z, &gh);
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = write_entry(s, initrd_list_get(l, i), i + 1, o->mtime, err, err_len);
	if (r == 0)
		r = header(s, 0, 0, 0, 0, 1, 0, 0, 0, 0, "TRAILER!!!");
	if (r == 0 && s->gzip)
		r = sink_deflate(s, NULL, 0, Z_FINISH);
	if (s->gzip)
		deflateEnd(&s->z);
	if (r < 0 && err_len && !err[0])
		snprintf(err, err_len, "cannot write the archive: %s", strerror(-r));
	return r;
}
