// SPDX-License-Identifier: GPL-2.0-only
/*
 * `veil image build`: a directory to an OCI image layout with one layer,
 * deterministically: entries in byte order, owner 0:0, mtime fixed
 * (SOURCE_DATE_EPOCH or 0), no gzip timestamp, no "created" in the config;
 * the same tree gives the same manifest digest on any machine.
 */
#include "launcher/image_build.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/cleanup.h"
#include "lib/fd.h"

#define WALK_DEPTH_MAX 64

struct growbuf {
	uint8_t *p;
	size_t len, cap;
};

struct builder {
	struct archive *a;
	const struct image_build_opts *o;
	struct vjson_err *e;
	char path[UNPACK_PATH_MAX + 1];
};

static int fail(struct vjson_err *e, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct vjson_err *e, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return r;
}

static la_ssize_t grow_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
	struct growbuf *g = ctx;

	(void)a;
	if (g->len + n > g->cap) {
		size_t cap = g->cap ? g->cap : 1 << 20;
		uint8_t *p;

		while (cap < g->len + n)
			cap *= 2;
		p = realloc(g->p, cap);
		if (!p)
			return -1;
		g->p = p;
		g->cap = cap;
	}
	memcpy(g->p + g->len, buf, n);
	g->len += n;
	return (la_ssize_t)n;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int copy_data(struct builder *b, int dirfd, const char *name, off_t size)
{
	static char buf[1 << 20];
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	off_t left = size;

	if (fd < 0)
		return fail(b->e, -errno, "'%.200s': %m", b->path);
	while (left > 0) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			return fail(b->e, n < 0 ? -errno : -EIO, "'%.200s': changed while read",
				    b->path);
		if (n > left)
			n = (ssize_t)left;
		if (archive_write_data(b->a, buf, (size_t)n) != n)
			return fail(b->e, -EIO, "'%.200s': %s", b->path, archive_error_string(b->a));
		left -= n;
	}
	return 0;
}

static int write_entry(struct builder *b, struct archive_entry *ent, int dirfd, const char *name,
		       const struct stat *st)
{
	char target[UNPACK_PATH_MAX + 1];

	archive_entry_set_pathname(ent, b->path);
	archive_entry_set_mode(ent, st->st_mode & (S_IFMT | 07777));
	archive_entry_set_uid(ent, 0);
	archive_entry_set_gid(ent, 0);
	archive_entry_set_mtime(ent, b->o->mtime, 0);
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);

		if (n < 0)
			return fail(b->e, -errno, "'%.200s': readlink: %m", b->path);
		target[n] = '\0';
		archive_entry_set_symlink(ent, target);
	} else if (S_ISREG(st->st_mode)) {
		archive_entry_set_size(ent, st->st_size);
	}
	if (archive_write_header(b->a, ent) != ARCHIVE_OK)
		return fail(b->e, -EIO, "'%.200s': %s", b->path, archive_error_string(b->a));
	return S_ISREG(st->st_mode) ? copy_data(b, dirfd, name, st->st_size) : 0;
}

static int add_entry(struct builder *b, int dirfd, const char *name, const struct stat *st)
{
	struct archive_entry *ent = archive_entry_new();
	int r;

	if (!ent)
		return -ENOMEM;
	r = write_entry(b, ent, dirfd, name, st);
	archive_entry_free(ent);
	return r;
}

static int walk(struct builder *b, int dirfd, unsigned int depth)
{
	struct dirent **names = NULL;
	size_t base = strlen(b->path);
	int n, r = 0;

	if (depth > WALK_DEPTH_MAX)
		return fail(b->e, -ELOOP, "'%.200s': nested too deep", b->path);
	{
		/* scandir wants a path; /proc/self/fd keeps us on this very directory. */
		char p[64];

		snprintf(p, sizeof(p), "/proc/self/fd/%d", dirfd);
		n = scandir(p, &names, NULL, by_name);
	}
	if (n < 0)
		return fail(b->e, -errno, "'%.200s': %m", b->path);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		struct stat st;

		if (r < 0 || !strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if (base + 1 + strlen(name) > UNPACK_PATH_MAX) {
			r = fail(b->e, -E2BIG, "'%.200s/%.50s': path too long", b->path, name);
			continue;
		}
		snprintf(b->path + base, sizeof(b->path) - base, "%s%s", base ? "/" : "", name);
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = fail(b->e, -errno, "'%.200s': %m", b->path);
			continue;
		}
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
			b->path[base] = '\0';
			continue;	/* devices, fifos, sockets: not image content */
		}
		r = add_entry(b, dirfd, name, &st);
		if (r >= 0 && S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (fd < 0) {
				r = fail(b->e, -errno, "'%.200s': %m", b->path);
			} else {
				r = walk(b, fd, depth + 1);
				close(fd);
			}
		}
		b->path[base] = '\0';
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static void digest_hex(const void *p, size_t n, char out[IMAGE_DIGEST_LEN + 1])
{
	static const char h[] = "0123456789abcdef";
	uint8_t md[32];

	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out[7 + 2 * i] = h[md[i] >> 4];
		out[8 + 2 * i] = h[md[i] & 15];
	}
	out[IMAGE_DIGEST_LEN] = '\0';
}

static int write_blob(int layoutfd, const void *p, size_t n, char digest[IMAGE_DIGEST_LEN + 1],
		      struct vjson_err *e)
{
	char path[128];
	_cleanup_close_ int fd = -1;
	int r;

	digest_hex(p, n, digest);
	snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
	fd = openat(layoutfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(e, -errno, "Failed to write '%s': %m", path);
	r = fd_write_full(fd, p, n);
	return r < 0 ? fail(e, r, "Failed to write '%s': %s", path, strerror(-r)) : 0;
}

static int compress(const struct growbuf *tar, enum unpack_compression c, int level,
		    struct growbuf *out, struct vjson_err *e)
{
	struct archive *a;
	struct archive_entry *ent;
	char lv[16];
	int r = 0;

	if (c == UNPACK_NONE)
		return grow_write(NULL, out, tar->p, tar->len) < 0 ? -ENOMEM : 0;
	a = archive_write_new();
	ent = archive_entry_new();
	if (!a || !ent) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(lv, sizeof(lv), "%d", level);
	archive_write_set_format_raw(a);
	if (c == UNPACK_GZIP) {
		archive_write_add_filter_gzip(a);
		/* no timestamp or name in the gzip header: determinism */
		archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
	} else {
		archive_write_add_filter_zstd(a);
	}
	if (level > 0)
		archive_write_set_filter_option(a, NULL, "compression-level", lv);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open2(a, out, NULL, grow_write, NULL, NULL) != ARCHIVE_OK)
		goto bad;
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_size(ent, (la_int64_t)tar->len);
	if (archive_write_header(a, ent) != ARCHIVE_OK ||
	    archive_write_data(a, tar->p, tar->len) != (la_ssize_t)tar->len ||
	    archive_write_close(a) != ARCHIVE_OK)
		goto bad;
	goto out;
bad:
	r = fail(e, -EIO, "Failed to compress the layer: %s", archive_error_string(a));
out:
	archive_entry_free(ent);
	archive_write_free(a);
	return r;
}

static const char *layer_mt(enum unpack_compression c)
{
	return c == UNPACK_GZIP ? "application/vnd.oci.image.layer.v1.tar+gzip" :
	       c == UNPACK_ZSTD ? "application/vnd.oci.image.layer.v1.tar+zstd" :
				  "application/vnd.oci.image.layer.v1.tar";
}

static json_t *str_array(const char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static int write_json(int layoutfd, json_t *j, char digest[IMAGE_DIGEST_LEN + 1], size_t *ret_len,
		      struct vjson_err *e)
{
	_cleanup_free_ char *s = json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT);

	if (!s)
		return -ENOMEM;
	*ret_len = strlen(s);
	return write_blob(layoutfd, s, strlen(s), digest, e);
}

static void growbuf_done(struct growbuf *g)
{
	free(g->p);
}

int launcher_image_build(const char *dir, const char *layout, const struct image_build_opts *o,
			 char ret_digest[IMAGE_DIGEST_LEN + 1], struct vjson_err *e)
{
	_cleanup_(growbuf_done) struct growbuf tar = { 0 }, blob = { 0 };
	_cleanup_close_ int srcfd = -1, lfd = -1;
	_cleanup_(json_decrefp) json_t *cfg = NULL, *man = NULL, *idx = NULL, *cc = NULL;
	char ldig[IMAGE_DIGEST_LEN + 1], diff[IMAGE_DIGEST_LEN + 1], cdig[IMAGE_DIGEST_LEN + 1];
	char mdig[IMAGE_DIGEST_LEN + 1];
	struct builder b = { .o = o, .e = e };
	size_t clen, mlen;
	int r;

	srcfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srcfd < 0)
		return fail(e, -errno, "Failed to open '%.200s': %m", dir);
	b.a = archive_write_new();
	if (!b.a)
		return -ENOMEM;
	archive_write_set_format_pax_restricted(b.a);
	archive_write_set_bytes_per_block(b.a, 512);
	r = archive_write_open2(b.a, &tar, NULL, grow_write, NULL, NULL) == ARCHIVE_OK ? 0 : -EIO;
	if (r == 0)
		r = walk(&b, srcfd, 0);
	if (r == 0 && archive_write_close(b.a) != ARCHIVE_OK)
		r = fail(e, -EIO, "Failed to finish the tar: %s", archive_error_string(b.a));
	archive_write_free(b.a);
	if (r < 0)
		return r;
	digest_hex(tar.p, tar.len, diff);
	r = compress(&tar, o->compression, o->level, &blob, e);
	if (r < 0)
		return r;

	if (mkdir(layout, 0755) < 0 && errno != EEXIST)
		return fail(e, -errno, "Failed to create '%.200s': %m", layout);
	lfd = open(layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lfd < 0)
		return fail(e, -errno, "Failed to open '%.200s': %m", layout);
	if ((mkdirat(lfd, "blobs", 0755) < 0 && errno != EEXIST) ||
	    (mkdirat(lfd, "blobs/sha256", 0755) < 0 && errno != EEXIST))
		return fail(e, -errno, "Failed to create '%.200s/blobs/sha256': %m", layout);
	r = write_blob(lfd, blob.p, blob.len, ldig, e);
	if (r < 0)
		return r;

	cc = json_object();
	if (!cc)
		return -ENOMEM;
	if (o->entrypoint)
		json_object_set_new(cc, "Entrypoint", str_array(o->entrypoint));
	if (o->cmd)
		json_object_set_new(cc, "Cmd", str_array(o->cmd));
	if (o->env)
		json_object_set_new(cc, "Env", str_array(o->env));
	if (o->cwd)
		json_object_set_new(cc, "WorkingDir", json_string(o->cwd));
	if (o->user)
		json_object_set_new(cc, "User", json_string(o->user));
	cfg = json_pack("{s:s, s:s, s:O, s:{s:s, s:[s]}}", "architecture", "amd64", "os", "linux",
			"config", cc, "rootfs", "type", "layers", "diff_ids", diff);
	if (!cfg)
		return -ENOMEM;
	r = write_json(lfd, cfg, cdig, &clen, e);
	if (r < 0)
		return r;
	man = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2,
			"mediaType", IMAGE_MT_MANIFEST, "config", "mediaType", IMAGE_MT_CONFIG,
			"digest", cdig, "size", (json_int_t)clen, "layers", "mediaType",
			layer_mt(o->compression), "digest", ldig, "size", (json_int_t)blob.len);
	if (!man)
		return -ENOMEM;
	r = write_json(lfd, man, mdig, &mlen, e);
	if (r < 0)
		return r;

	/* index.json: keep other references, replace this one */
	{
		_cleanup_free_ char *old = NULL;
		json_t *arr, *entry;
		size_t n, i;
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/index.json", layout);
		if (fd_read_file(path, IMAGE_JSON_MAX, &old, &n) == 0 &&
		    vjson_parse(old, n, IMAGE_JSON_MAX, VJSON_DEPTH_DEFAULT, &idx, e) == 0 &&
		    json_is_array(json_object_get(idx, "manifests"))) {
			arr = json_object_get(idx, "manifests");
			for (i = json_array_size(arr); i-- > 0;) {
				json_t *ann = json_object_get(json_array_get(arr, i), "annotations");
				const char *rn = json_string_value(json_object_get(ann, IMAGE_ANN_REF));

				if (rn && o->ref && !strcmp(rn, o->ref))
					json_array_remove(arr, i);
			}
		} else {
			json_decref(idx);
			idx = json_pack("{s:i, s:[]}", "schemaVersion", 2, "manifests");
			if (!idx)
				return -ENOMEM;
			arr = json_object_get(idx, "manifests");
		}
		entry = json_pack("{s:s, s:s, s:I}", "mediaType", IMAGE_MT_MANIFEST, "digest", mdig,
				  "size", (json_int_t)mlen);
		if (!entry)
			return -ENOMEM;
		if (o->ref)
			json_object_set_new(entry, "annotations",
					    json_pack("{s:s}", IMAGE_ANN_REF, o->ref));
		json_array_append_new(arr, entry);
		{
			_cleanup_free_ char *s = json_dumps(idx, JSON_PRESERVE_ORDER | JSON_COMPACT);

			if (!s)
				return -ENOMEM;
			r = fd_write_file_atomic(path, s, strlen(s), 0644);
			if (r < 0)
				return fail(e, r, "Failed to write '%.200s': %s", path, strerror(-r));
			snprintf(path, sizeof(path), "%s/oci-layout", layout);
			r = fd_write_file_atomic(path, "{\"imageLayoutVersion\":\"1.0.0\"}", 30,
						 0644);
			if (r < 0)
				return fail(e, r, "Failed to write '%.200s': %s", path, strerror(-r));
		}
	}
	if (ret_digest)
		memcpy(ret_digest, mdig, sizeof(mdig));
	return 0;
}
