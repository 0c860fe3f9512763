// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/cleanup.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

struct unpack {
	int rootfd;
	struct archive *a;
	const struct unpack_opts *o;
	bool chown;
	json_t *seen;		/* paths this layer created: duplicates, opaque dirs */
	struct unpack_stats st;
	struct vjson_err *e;
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

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* Resolves path strictly below dirfd: no "..", no symlinks, no magic links, no mount crossing. */
int launcher_open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	long fd = syscall(SYS_openat2, dirfd, *path ? path : ".", &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

int launcher_unpack_clean_path(const char *in, char *out, size_t out_len)
{
	size_t n = 0, depth = 0;
	const char *p = in;

	if (!in || out_len < 1)
		return -EINVAL;
	if (*p == '/')
		return -EINVAL;		/* absolute */
	while (*p) {
		const char *c = p;
		size_t l;

		while (*p && *p != '/')
			p++;
		l = (size_t)(p - c);
		while (*p == '/')
			p++;
		if (l == 0 || (l == 1 && c[0] == '.'))
			continue;
		if (l == 2 && c[0] == '.' && c[1] == '.')
			return -EINVAL;
		if (l > UNPACK_NAME_MAX || ++depth > UNPACK_DEPTH_MAX)
			return -EINVAL;
		if (n + (n ? 1 : 0) + l + 1 > out_len || n + l >= UNPACK_PATH_MAX)
			return -EINVAL;
		if (n)
			out[n++] = '/';
		memcpy(out + n, c, l);
		n += l;
	}
	out[n] = '\0';
	return 0;
}

/* Removes name (recursively) below dirfd without following any symlink. */
static int rm_rf_at(int dirfd, const char *name, unsigned int depth)
{
	struct stat st;

	if (depth > UNPACK_DEPTH_MAX * 2)
		return -ELOOP;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		_cleanup_(closedirp) DIR *d = NULL;
		struct dirent *de;
		int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		d = fdopendir(fd);
		if (!d) {
			int r = -errno;

			close(fd);
			return r;
		}
		while ((errno = 0, de = readdir(d))) {
			int r;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			r = rm_rf_at(fd, de->d_name, depth + 1);
			if (r < 0)
				return r;
		}
		if (errno)
			return -errno;
		return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
	}
	return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
}

/*
 * Opens the directory dir below the root, creating missing components
 * 0755 like tar does for entries whose parents are not in the archive.
 */
static int open_dir(struct unpack *u, const char *dir, const char *entry)
{
	char buf[UNPACK_PATH_MAX + 1];
	_cleanup_close_ int cur = -1;
	char *p, *next;
	int fd;

	fd = launcher_open_beneath(u->rootfd, dir, O_PATH | O_DIRECTORY);
	if (fd >= 0)
		return fd;
	if (fd != -ENOENT)
		goto refused;
	snprintf(buf, sizeof(buf), "%s", dir);
	cur = launcher_open_beneath(u->rootfd, "", O_PATH | O_DIRECTORY);
	if (cur < 0)
		return fail(u->e, cur, "Failed to open the root: %s", strerror(-cur));
	for (p = buf; p; p = next) {
		next = strchr(p, '/');
		if (next)
			*next++ = '\0';
		if (mkdirat(cur, p, 0755) < 0 && errno != EEXIST)
			return fail(u->e, -errno, "entry '%.200s': cannot create parent '%.200s': %m",
				    entry, dir);
		fd = launcher_open_beneath(cur, p, O_PATH | O_DIRECTORY);
		if (fd < 0)
			goto refused;
		close(cur);
		cur = fd;
	}
	return TAKE_FD(cur);
refused:
	if (fd == -ELOOP || fd == -EXDEV)
		return fail(u->e, -EINVAL, "entry '%.200s': its parent '%.200s' goes through a symlink",
			    entry, dir);
	if (fd == -ENOTDIR)
		return fail(u->e, -EINVAL, "entry '%.200s': its parent '%.200s' is a symlink or not a directory",
			    entry, dir);
	return fail(u->e, fd, "entry '%.200s': cannot open parent '%.200s': %s", entry, dir,
		    strerror(-fd));
}

/* Splits a clean path into its parent and last component; "" parent is the root. */
static const char *split(char *path)
{
	char *s = strrchr(path, '/');

	if (!s)
		return NULL;
	*s = '\0';
	return s + 1;
}

/* A relative symlink target may not climb above the root, seen from the link's directory. */
static bool link_escapes(const char *path, const char *target)
{
	long depth = 0;
	const char *p;

	if (target[0] == '/')
		return false;	/* resolved in the container's own root */
	for (p = path; *p; p++)
		if (*p == '/')
			depth++;
	for (p = target; *p;) {
		const char *c = p;
		size_t l;

		while (*p && *p != '/')
			p++;
		l = (size_t)(p - c);
		while (*p == '/')
			p++;
		if (l == 0 || (l == 1 && c[0] == '.'))
			continue;
		if (l == 2 && c[0] == '.' && c[1] == '.') {
			if (--depth < 0)
				return true;
		} else {
			depth++;
		}
	}
	return false;
}

static int mark_seen(struct unpack *u, const char *path)
{
	if (json_object_get(u->seen, path))
		return fail(u->e, -EINVAL, "entry '%.200s': duplicate entry in one layer", path);
	if (json_object_set_new(u->seen, path, json_true()) < 0)
		return fail(u->e, -ENOMEM, "Out of memory");
	return 0;
}

/* Empties dirfd (the directory path) of everything this layer did not create. */
static int apply_opaque(struct unpack *u, int dirfd, const char *path)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return fail(u->e, -errno, "opaque directory '%.200s': %m", path);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return fail(u->e, -ENOMEM, "Out of memory");
	}
	while ((errno = 0, de = readdir(d))) {
		char child[UNPACK_PATH_MAX + UNPACK_NAME_MAX + 2];
		int r;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(child, sizeof(child), "%s%s%s", path, *path ? "/" : "", de->d_name);
		if (json_object_get(u->seen, child))
			continue;
		r = rm_rf_at(fd, de->d_name, 0);
		if (r < 0)
			return fail(u->e, r, "opaque directory '%.200s': cannot remove '%.200s': %s",
				    path, de->d_name, strerror(-r));
	}
	return errno ? fail(u->e, -errno, "opaque directory '%.200s': %m", path) : 0;
}

static int whiteout(struct unpack *u, int dirfd, const char *dir, const char *name,
		    const char *path)
{
	char victim[UNPACK_PATH_MAX + 1];
	const char *v = name + strlen(WH_PREFIX);
	int r;

	if (!strcmp(name, WH_OPAQUE)) {
		r = mark_seen(u, path);
		return r < 0 ? r : apply_opaque(u, dirfd, dir);
	}
	if (!*v || !strcmp(v, ".") || !strcmp(v, "..") || !strncmp(v, WH_PREFIX, strlen(WH_PREFIX)))
		return fail(u->e, -EINVAL, "entry '%.200s': unsupported whiteout", path);
	snprintf(victim, sizeof(victim), "%s%s%s", dir, *dir ? "/" : "", v);
	if (json_object_get(u->seen, victim))
		return fail(u->e, -EINVAL, "entry '%.200s': whites out an entry of its own layer",
			    path);
	r = mark_seen(u, path);
	if (r < 0)
		return r;
	r = rm_rf_at(dirfd, v, 0);
	return r < 0 ? fail(u->e, r, "entry '%.200s': cannot remove '%.200s': %s", path, victim,
			    strerror(-r)) : 0;
}

/* Makes room for name: a directory over a directory merges, anything else replaces. */
static int clear_slot(struct unpack *u, int dirfd, const char *name, bool want_dir,
		      const char *path)
{
	struct stat st;
	int r;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : fail(u->e, -errno, "entry '%.200s': %m", path);
	if (want_dir && S_ISDIR(st.st_mode))
		return 1;
	r = rm_rf_at(dirfd, name, 0);
	return r < 0 ? fail(u->e, r, "entry '%.200s': cannot replace: %s", path, strerror(-r)) : 0;
}

static int write_file(struct unpack *u, int dirfd, const char *name, struct archive_entry *ent,
		      mode_t mode, const char *path)
{
	_cleanup_close_ int fd = -1;
	const void *blk;
	size_t n;
	la_int64_t off;
	int r;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(u->e, -errno, "entry '%.200s': cannot create: %m", path);
	while ((r = archive_read_data_block(u->a, &blk, &n, &off)) == ARCHIVE_OK) {
		if (off < 0 || (uint64_t)off > UNPACK_BYTES_MAX || n > UNPACK_BYTES_MAX ||
		    u->st.bytes + n > UNPACK_BYTES_MAX)
			return fail(u->e, -E2BIG, "entry '%.200s': layer data exceeds %llu bytes",
				    path, (unsigned long long)UNPACK_BYTES_MAX);
		u->st.bytes += n;
		while (n) {
			ssize_t w = pwrite(fd, blk, n, off);

			if (w < 0)
				return fail(u->e, -errno, "entry '%.200s': write: %m", path);
			blk = (const char *)blk + w;
			n -= (size_t)w;
			off += w;
		}
	}
	if (r != ARCHIVE_EOF)
		return fail(u->e, -EBADMSG, "entry '%.200s': %s", path, archive_error_string(u->a));
	if (archive_entry_size_is_set(ent) && ftruncate(fd, archive_entry_size(ent)) < 0)
		return fail(u->e, -errno, "entry '%.200s': truncate: %m", path);
	if (u->chown && fchown(fd, (uid_t)archive_entry_uid(ent), (gid_t)archive_entry_gid(ent)) < 0)
		return fail(u->e, -errno, "entry '%.200s': chown: %m", path);
	if (fchmod(fd, mode) < 0)
		return fail(u->e, -errno, "entry '%.200s': chmod: %m", path);
	{
		struct timespec ts[2] = {
			{ .tv_nsec = UTIME_OMIT },
			{ .tv_sec = archive_entry_mtime(ent),
			  .tv_nsec = archive_entry_mtime_nsec(ent) },
		};

		futimens(fd, ts);
	}
	return 0;
}

static int do_entry(struct unpack *u, struct archive_entry *ent)
{
	char path[UNPACK_PATH_MAX + 1], dir[UNPACK_PATH_MAX + 1];
	const char *raw = archive_entry_pathname(ent), *name;
	mode_t type = archive_entry_filetype(ent), mode = archive_entry_perm(ent) & 07777;
	const char *hl = archive_entry_hardlink(ent);
	_cleanup_close_ int dirfd = -1;
	int r;

	if (!raw)
		return fail(u->e, -EINVAL, "an entry has no name");
	if (strlen(raw) > UNPACK_PATH_MAX)
		return fail(u->e, -EINVAL, "entry '%.64s...': name longer than %u bytes", raw,
			    UNPACK_PATH_MAX);
	if (launcher_unpack_clean_path(raw, path, sizeof(path)) < 0)
		return fail(u->e, -EINVAL, "entry '%.200s': path is absolute, climbs out with '..' "
			    "or is malformed", raw);
	if (!*path) {
		if (type == AE_IFDIR && !hl)
			return 0;	/* "./": the root itself keeps its mode */
		return fail(u->e, -EINVAL, "entry '%.200s': names the root", raw);
	}
	snprintf(dir, sizeof(dir), "%s", path);
	name = split(dir);
	if (!name) {
		name = path;
		dir[0] = '\0';
	}

	dirfd = open_dir(u, dir, path);
	if (dirfd < 0)
		return dirfd;

	if (!strncmp(name, WH_PREFIX, strlen(WH_PREFIX)))
		return whiteout(u, dirfd, dir, name, path);

	r = mark_seen(u, path);
	if (r < 0)
		return r;

	if (hl) {
		char tpath[UNPACK_PATH_MAX + 1], tdir[UNPACK_PATH_MAX + 1];
		_cleanup_close_ int tfd = -1;
		const char *tname;
		struct stat st;

		if (strlen(hl) > UNPACK_PATH_MAX ||
		    launcher_unpack_clean_path(hl, tpath, sizeof(tpath)) < 0 || !*tpath)
			return fail(u->e, -EINVAL, "entry '%.200s': hard link target '%.200s' is "
				    "outside the root or malformed", path, hl);
		snprintf(tdir, sizeof(tdir), "%s", tpath);
		tname = split(tdir);
		if (!tname) {
			tname = tpath;
			tdir[0] = '\0';
		}
		tfd = launcher_open_beneath(u->rootfd, tdir, O_PATH | O_DIRECTORY);
		if (tfd < 0 || fstatat(tfd, tname, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return fail(u->e, -EINVAL, "entry '%.200s': hard link target '%.200s' does "
				    "not exist below the root", path, tpath);
		if (S_ISDIR(st.st_mode))
			return fail(u->e, -EINVAL, "entry '%.200s': hard link to a directory", path);
		if (!strcmp(tpath, path))
			return fail(u->e, -EINVAL, "entry '%.200s': hard link to itself", path);
		r = clear_slot(u, dirfd, name, false, path);
		if (r < 0)
			return r;
		if (linkat(tfd, tname, dirfd, name, 0) < 0)
			return fail(u->e, -errno, "entry '%.200s': link: %m", path);
		return 0;
	}

	if ((mode & (S_ISUID | S_ISGID)) && type != AE_IFDIR && !u->o->allow_setuid)
		return fail(u->e, -EPERM, "entry '%.200s': setuid/setgid file not allowed", path);

	switch (type) {
	case AE_IFREG:
		r = clear_slot(u, dirfd, name, false, path);
		return r < 0 ? r : write_file(u, dirfd, name, ent, mode, path);
	case AE_IFDIR:
		r = clear_slot(u, dirfd, name, true, path);
		if (r < 0)
			return r;
		if (r == 0 && mkdirat(dirfd, name, 0700) < 0)
			return fail(u->e, -errno, "entry '%.200s': mkdir: %m", path);
		{
			_cleanup_close_ int fd = launcher_open_beneath(dirfd, name, O_RDONLY | O_DIRECTORY);

			if (fd < 0)
				return fail(u->e, fd, "entry '%.200s': %s", path, strerror(-fd));
			if (u->chown && fchown(fd, (uid_t)archive_entry_uid(ent),
					       (gid_t)archive_entry_gid(ent)) < 0)
				return fail(u->e, -errno, "entry '%.200s': chown: %m", path);
			if (fchmod(fd, mode) < 0)
				return fail(u->e, -errno, "entry '%.200s': chmod: %m", path);
		}
		return 0;
	case AE_IFLNK: {
		const char *t = archive_entry_symlink(ent);

		if (!t || !*t || strlen(t) > UNPACK_PATH_MAX)
			return fail(u->e, -EINVAL, "entry '%.200s': empty or over-long link target",
				    path);
		if (link_escapes(path, t))
			return fail(u->e, -EINVAL, "entry '%.200s': symlink target '%.200s' escapes "
				    "the root", path, t);
		r = clear_slot(u, dirfd, name, false, path);
		if (r < 0)
			return r;
		if (symlinkat(t, dirfd, name) < 0)
			return fail(u->e, -errno, "entry '%.200s': symlink: %m", path);
		if (u->chown && fchownat(dirfd, name, (uid_t)archive_entry_uid(ent),
					 (gid_t)archive_entry_gid(ent), AT_SYMLINK_NOFOLLOW) < 0)
			return fail(u->e, -errno, "entry '%.200s': chown: %m", path);
		return 0;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO: {
		dev_t dev = 0;

		if (type != AE_IFIFO) {
			if (!u->o->allow_devices)
				return fail(u->e, -EPERM, "entry '%.200s': device node not allowed",
					    path);
			dev = makedev(archive_entry_rdevmajor(ent), archive_entry_rdevminor(ent));
		}
		r = clear_slot(u, dirfd, name, false, path);
		if (r < 0)
			return r;
		if (mknodat(dirfd, name, (type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK :
					  S_IFIFO) | (mode & 0777), dev) < 0)
			return fail(u->e, -errno, "entry '%.200s': mknod: %m", path);
		if (u->chown && fchownat(dirfd, name, (uid_t)archive_entry_uid(ent),
					 (gid_t)archive_entry_gid(ent), AT_SYMLINK_NOFOLLOW) < 0)
			return fail(u->e, -errno, "entry '%.200s': chown: %m", path);
		return 0;
	}
	default:
		return fail(u->e, -EINVAL, "entry '%.200s': unsupported type 0%o", path,
			    (unsigned int)type);
	}
}

/*
 * The diff_id check: a "raw" reader runs the decompression filter and hands
 * the uncompressed stream to the tar reader through this callback, hashing
 * it on the way; what the tar reader leaves unread is drained at the end.
 * One decompression, one extra sha256 pass.
 */
struct rawsrc {
	struct archive *raw;
	EVP_MD_CTX *md;
};

static la_ssize_t raw_read(struct archive *a, void *ctx, const void **buf)
{
	struct rawsrc *s = ctx;
	la_int64_t off;
	size_t n;
	int r;

	r = archive_read_data_block(s->raw, buf, &n, &off);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK) {
		archive_set_error(a, EIO, "%s", archive_error_string(s->raw));
		return -1;
	}
	if (!EVP_DigestUpdate(s->md, *buf, n)) {
		archive_set_error(a, ENOMEM, "sha256 failed");
		return -1;
	}
	return (la_ssize_t)n;
}

static void md_freep(EVP_MD_CTX **m)
{
	EVP_MD_CTX_free(*m);
}

static int diff_id_final(EVP_MD_CTX *md, const char *want, struct vjson_err *e)
{
	static const char hexd[] = "0123456789abcdef";
	uint8_t sum[32];
	char got[7 + 64 + 1] = "sha256:";

	if (!EVP_DigestFinal_ex(md, sum, NULL))
		return fail(e, -ENOMEM, "layer: sha256 failed");
	for (int i = 0; i < 32; i++) {
		got[7 + 2 * i] = hexd[sum[i] >> 4];
		got[8 + 2 * i] = hexd[sum[i] & 15];
	}
	if (strcmp(got, want) != 0)
		return fail(e, -EBADMSG, "layer: the uncompressed tar is %s, the image config's diff_id "
			    "says %.80s", got, want);
	return 0;
}

int launcher_unpack_layer(int rootfd, const void *buf, size_t len, enum unpack_compression comp,
			  const struct unpack_opts *o, struct unpack_stats *stats,
			  struct vjson_err *e)
{
	static const struct unpack_opts defaults = { .chown = -1 };
	_cleanup_(archive_freep) struct archive *a = NULL, *raw = NULL;
	_cleanup_(md_freep) EVP_MD_CTX *md = NULL;
	struct unpack u = { .rootfd = rootfd, .o = o ? o : &defaults, .e = e };
	struct rawsrc src;
	_cleanup_(json_decrefp) json_t *seen = NULL;
	struct archive_entry *ent;
	int r;

	u.chown = u.o->chown > 0 || (u.o->chown < 0 && geteuid() == 0);
	a = archive_read_new();
	if (!a)
		return fail(e, -ENOMEM, "Out of memory");
	u.a = a;
	archive_read_support_format_tar(a);
	if (u.o->diff_id) {
		md = EVP_MD_CTX_new();
		if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
			return fail(e, -ENOMEM, "Out of memory");
	}
	if (md && comp != UNPACK_NONE) {
		struct archive_entry *rent;

		raw = archive_read_new();
		if (!raw)
			return fail(e, -ENOMEM, "Out of memory");
		archive_read_support_format_raw(raw);
		if (comp == UNPACK_GZIP)
			archive_read_support_filter_gzip(raw);
		else
			archive_read_support_filter_zstd(raw);
		if (archive_read_open_memory(raw, buf, len) != ARCHIVE_OK ||
		    archive_read_next_header(raw, &rent) != ARCHIVE_OK)
			return fail(e, -EBADMSG, "layer: %s", archive_error_string(raw));
		src = (struct rawsrc){ .raw = raw, .md = md };
		if (archive_read_open(a, &src, NULL, raw_read, NULL) != ARCHIVE_OK)
			return fail(e, -EBADMSG, "layer: %s", archive_error_string(a));
	} else {
		if (comp == UNPACK_GZIP)
			archive_read_support_filter_gzip(a);
		else if (comp == UNPACK_ZSTD)
			archive_read_support_filter_zstd(a);
		/* Uncompressed: the diff_id is the sha256 of the buffer itself. */
		if (md && !EVP_DigestUpdate(md, buf, len))
			return fail(e, -ENOMEM, "Out of memory");
		if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK)
			return fail(e, -EBADMSG, "layer: %s", archive_error_string(a));
	}
	seen = json_object();
	if (!seen)
		return fail(e, -ENOMEM, "Out of memory");
	u.seen = seen;
	for (;;) {
		r = archive_read_next_header(a, &ent);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return fail(e, -EBADMSG, "layer: corrupt tar after %llu entries: %s",
				    (unsigned long long)u.st.entries, archive_error_string(a));
		if (++u.st.entries > UNPACK_ENTRIES_MAX)
			return fail(e, -E2BIG, "layer: more than %u entries", UNPACK_ENTRIES_MAX);
		r = do_entry(&u, ent);
		if (r < 0)
			return r;
	}
	if (raw) {
		/* What follows the end-of-archive blocks is part of the diff_id too. */
		const void *blk;
		la_ssize_t n;

		while ((n = raw_read(a, &src, &blk)) > 0)
			;
		if (n < 0)
			return fail(e, -EBADMSG, "layer: corrupt after the last entry: %s",
				    archive_error_string(raw));
	}
	if (md) {
		r = diff_id_final(md, u.o->diff_id, e);
		if (r < 0)
			return r;
	}
	if (stats)
		*stats = u.st;
	return 0;
}
