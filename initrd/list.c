// SPDX-License-Identifier: GPL-2.0-only
/*
 * The initrd list: parsing, library and module resolution, and the final
 * ordering that makes two builds of one list identical.
 */
#include "initrd/list.h"

#include <archive.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "initrd/elf.h"
#include "lib/cleanup.h"
#include "lib/fd.h"

#define MAX_VARS 64
#define MAX_LIBDIRS 32
#define MAX_FIELDS 16
#define SHOW_DEPENDS_MAX (1u << 20)
#define MODULE_MAX (256u << 20)

extern char **environ;

struct var {
	char *name, *value;
};

struct initrd_list {
	struct initrd_entry *v;
	size_t n, cap;
	struct var vars[MAX_VARS];
	size_t n_vars;
	char *libdirs[MAX_LIBDIRS];
	size_t n_libdirs;
	char *kver, *modroot;	/* from the last `kernel` line */
	char **modules;		/* load order, archive paths */
	size_t n_modules;
	bool finished;
};

static const char *const default_libdirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib",
	"/usr/lib",
};

static void __attribute__((format(printf, 3, 4))) seterr(char *err, size_t err_len,
							 const char *fmt, ...)
{
	va_list ap;

	if (!err || !err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

static void entry_done(struct initrd_entry *e)
{
	free(e->path);
	free(e->source);
	free(e->data);
	e->path = e->source = e->data = NULL;
}

struct initrd_list *initrd_list_new(void)
{
	return calloc(1, sizeof(struct initrd_list));
}

struct initrd_list *initrd_list_free(struct initrd_list *l)
{
	if (!l)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		entry_done(&l->v[i]);
	free(l->v);
	for (size_t i = 0; i < l->n_vars; i++) {
		free(l->vars[i].name);
		free(l->vars[i].value);
	}
	for (size_t i = 0; i < l->n_libdirs; i++)
		free(l->libdirs[i]);
	for (size_t i = 0; i < l->n_modules; i++)
		free(l->modules[i]);
	free(l->modules);
	free(l->kver);
	free(l->modroot);
	free(l);
	return NULL;
}

int initrd_list_set_var(struct initrd_list *l, const char *name, const char *value)
{
	char *n, *v;

	for (size_t i = 0; i < l->n_vars; i++)
		if (strcmp(l->vars[i].name, name) == 0) {
			v = strdup(value);
			if (!v)
				return -ENOMEM;
			free(l->vars[i].value);
			l->vars[i].value = v;
			return 0;
		}
	if (l->n_vars >= MAX_VARS)
		return -E2BIG;
	n = strdup(name);
	v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	l->vars[l->n_vars++] = (struct var){ n, v };
	return 0;
}

int initrd_list_add_libdir(struct initrd_list *l, const char *dir)
{
	if (l->n_libdirs >= MAX_LIBDIRS)
		return -E2BIG;
	l->libdirs[l->n_libdirs] = strdup(dir);
	if (!l->libdirs[l->n_libdirs])
		return -ENOMEM;
	l->n_libdirs++;
	return 0;
}

int initrd_path_normalise(const char *in, char *out, size_t out_len)
{
	size_t o = 0;
	const char *p = in;

	if (!out_len)
		return -ENAMETOOLONG;
	while (*p) {
		const char *end;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		n = end - p;
		if (n == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		if (o + (o ? 1 : 0) + n + 1 > out_len || o + n + 1 > INITRD_PATH_MAX)
			return -ENAMETOOLONG;
		if (o)
			out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p = end;
	}
	if (o == 0)
		return -EINVAL;
	out[o] = '\0';
	return 0;
}

int initrd_list_add(struct initrd_list *l, const struct initrd_entry *e)
{
	char path[INITRD_PATH_MAX];
	struct initrd_entry n = *e;
	int r;

	r = initrd_path_normalise(e->path, path, sizeof(path));
	if (r < 0)
		return r;
	if (l->n >= INITRD_MAX_ENTRIES)
		return -E2BIG;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct initrd_entry *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	n.path = strdup(path);
	n.source = e->source ? strdup(e->source) : NULL;
	n.data = NULL;
	if (e->data) {
		/* NUL-terminated too, so generated text can be read as a string. */
		n.data = malloc(e->data_len + 1);
		if (n.data) {
			memcpy(n.data, e->data, e->data_len);
			n.data[e->data_len] = '\0';
		}
	}
	if (!n.path || (e->source && !n.source) || (e->data && !n.data)) {
		entry_done(&n);
		return -ENOMEM;
	}
	l->v[l->n++] = n;
	l->finished = false;
	return 0;
}

static bool has_path(const struct initrd_list *l, const char *path)
{
	char norm[INITRD_PATH_MAX];

	if (initrd_path_normalise(path, norm, sizeof(norm)) < 0)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].path, norm) == 0)
			return true;
	return false;
}

/* ---- libraries, like ldd -------------------------------------------------- */

/* Looks for soname in a ':'-separated list of dirs ($ORIGIN = origin). */
static int search_dirs(const char *dirs, const char *origin, const char *soname, char *ret,
		       size_t ret_len)
{
	_cleanup_free_ char *copy = strdup(dirs);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char dir[PATH_MAX];
		int n;

		if (strncmp(d, "$ORIGIN", 7) == 0)
			n = snprintf(dir, sizeof(dir), "%s%s", origin, d + 7);
		else if (strncmp(d, "${ORIGIN}", 9) == 0)
			n = snprintf(dir, sizeof(dir), "%s%s", origin, d + 9);
		else
			n = snprintf(dir, sizeof(dir), "%s", d);
		if (n < 0 || (size_t)n >= sizeof(dir))
			continue;
		n = snprintf(ret, ret_len, "%s/%s", dir, soname);
		if (n < 0 || (size_t)n >= ret_len)
			continue;
		if (access(ret, R_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

static int find_library(const struct initrd_list *l, const struct initrd_elf_deps *d,
			const char *origin, const char *soname, char *ret, size_t ret_len)
{
	int r;

	if (strchr(soname, '/')) {
		if (snprintf(ret, ret_len, "%s", soname) >= (int)ret_len)
			return -ENAMETOOLONG;
		return access(ret, R_OK) == 0 ? 0 : -ENOENT;
	}
	if (d && d->rpath && !d->runpath) {
		r = search_dirs(d->rpath, origin, soname, ret, ret_len);
		if (r != -ENOENT)
			return r;
	}
	if (d && d->runpath) {
		r = search_dirs(d->runpath, origin, soname, ret, ret_len);
		if (r != -ENOENT)
			return r;
	}
	if (l->n_libdirs) {
		for (size_t i = 0; i < l->n_libdirs; i++) {
			r = search_dirs(l->libdirs[i], origin, soname, ret, ret_len);
			if (r != -ENOENT)
				return r;
		}
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(default_libdirs); i++) {
			r = search_dirs(default_libdirs[i], origin, soname, ret, ret_len);
			if (r != -ENOENT)
				return r;
		}
	}
	return -ENOENT;
}

static int add_with_deps(struct initrd_list *l, const char *path, const char *source, mode_t mode,
			 uid_t uid, gid_t gid, unsigned int depth, char *err, size_t err_len);

static int add_library(struct initrd_list *l, const struct initrd_elf_deps *d, const char *origin,
		       const char *who, const char *soname, unsigned int depth, char *err,
		       size_t err_len)
{
	char found[PATH_MAX];
	int r;

	r = find_library(l, d, origin, soname, found, sizeof(found));
	if (r < 0) {
		seterr(err, err_len, "library '%s' needed by '%s' not found: %s", soname, who,
		       strerror(-r));
		return r;
	}
	if (has_path(l, found))
		return 0;
	return add_with_deps(l, found, found, 0755, 0, 0, depth + 1, err, err_len);
}

static int add_with_deps(struct initrd_list *l, const char *path, const char *source, mode_t mode,
			 uid_t uid, gid_t gid, unsigned int depth, char *err, size_t err_len)
{
	struct initrd_entry e = { .path = (char *)path, .type = INITRD_FILE, .mode = mode,
				  .uid = uid, .gid = gid, .source = (char *)source };
	struct initrd_elf_deps d = {};
	_cleanup_free_ char *buf = NULL;
	char origin[PATH_MAX], *slash;
	size_t len;
	int r;

	if (depth > 64) {
		seterr(err, err_len, "library chain too deep at '%s'", source);
		return -ELOOP;
	}
	r = fd_read_file(source, INITRD_ELF_MAX_SIZE, &buf, &len);
	if (r < 0) {
		seterr(err, err_len, "cannot read '%s': %s", source, strerror(-r));
		return r;
	}
	r = initrd_list_add(l, &e);
	if (r < 0) {
		seterr(err, err_len, "cannot add '%s': %s", path, strerror(-r));
		return r;
	}
	r = initrd_elf_parse(buf, len, &d);
	if (r == -ENOEXEC)
		return 0;	/* a script or data: nothing to resolve */
	if (r < 0) {
		seterr(err, err_len, "'%s' is not a usable x86-64 ELF file: %s", source,
		       strerror(-r));
		return r;
	}
	snprintf(origin, sizeof(origin), "%s", source);
	slash = strrchr(origin, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(origin, sizeof(origin), ".");
	if (d.interp && !has_path(l, d.interp)) {
		r = add_with_deps(l, d.interp, d.interp, 0755, 0, 0, depth + 1, err, err_len);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < d.n_needed; i++) {
		r = add_library(l, &d, origin, source, d.needed[i], depth, err, err_len);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	initrd_elf_deps_done(&d);
	return r;
}

int initrd_list_add_binary(struct initrd_list *l, const char *path, const char *source,
			   mode_t mode, uid_t uid, gid_t gid, char *err, size_t err_len)
{
	return add_with_deps(l, path, source, mode, uid, gid, 0, err, err_len);
}

/* ---- modules ------------------------------------------------------------- */

static int append_path(char ***paths, size_t *n, const char *p, size_t len)
{
	char **v = realloc(*paths, (*n + 1) * sizeof(**paths));

	if (!v)
		return -ENOMEM;
	*paths = v;
	v[*n] = strndup(p, len);
	if (!v[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

int initrd_parse_show_depends(const char *text, size_t len, const char *root, char ***paths,
			      size_t *n)
{
	size_t rootlen = root && strcmp(root, "/") ? strlen(root) : 0;
	const char *p = text, *end = text + len;

	while (rootlen && root[rootlen - 1] == '/')
		rootlen--;
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p), *q;
		size_t ll;

		if (!eol)
			eol = end;
		ll = eol - p;
		if (ll == 0) {
			p = eol + 1;
			continue;
		}
		if (ll > 7 && strncmp(p, "builtin ", 8) == 0) {
			p = eol + 1;
			continue;
		}
		if (ll <= 7 || strncmp(p, "insmod ", 7) != 0)
			return -EINVAL;
		p += 7;
		q = p;
		while (q < eol && *q != ' ' && *q != '\t')
			q++;
		if (rootlen) {
			if ((size_t)(q - p) <= rootlen || strncmp(p, root, rootlen) != 0 ||
			    p[rootlen] != '/')
				return -EINVAL;
			p += rootlen;
		}
		if ((size_t)(q - p) < 14 || strncmp(p, "/lib/modules/", 13) != 0 ||
		    (size_t)(q - p) >= INITRD_PATH_MAX || memmem(p, q - p, "/../", 4))
			return -EINVAL;
		if (append_path(paths, n, p, q - p) < 0)
			return -ENOMEM;
		p = eol + 1;
	}
	return 0;
}

/* Runs modprobe --show-depends for one module; its stdout, bounded. */
static int show_depends(const struct initrd_list *l, const char *name, char **ret, size_t *ret_len)
{
	const char *argv[9];
	posix_spawn_file_actions_t fa;
	int pfd[2], status, r, i = 0;
	pid_t pid;

	argv[i++] = "modprobe";
	argv[i++] = "-S";
	argv[i++] = l->kver;
	if (l->modroot && strcmp(l->modroot, "/") != 0) {
		argv[i++] = "-d";
		argv[i++] = l->modroot;
	}
	argv[i++] = "--show-depends";
	argv[i++] = "--";
	argv[i++] = name;
	argv[i] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	r = posix_spawnp(&pid, "modprobe", &fa, NULL, (char **)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		return -r;
	}
	r = fd_read_all(pfd[0], SHOW_DEPENDS_MAX, ret, ret_len);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (r < 0)
		return r;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		free(*ret);
		*ret = NULL;
		return -ENOENT;
	}
	return 0;
}

/* The length of a compressed module's suffix (.xz, .zst, .gz), or 0. */
static size_t module_suffix(const char *p)
{
	static const char *const sfx[] = { ".xz", ".zst", ".gz" };
	size_t l = strlen(p);

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t s = strlen(sfx[i]);

		if (l > s && !strcmp(p + l - s, sfx[i]))
			return s;
	}
	return 0;
}

/*
 * A compressed module's plain bytes (libarchive's raw format with its xz, zstd
 * or gzip filter): the kernel then loads it without decompressing it at boot,
 * which under TCG costs more than the module's whole load.
 */
static int decompress_module(const char *src, char **ret, size_t *ret_len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r = 0;

	if (!a)
		return -ENOMEM;
	if (archive_read_support_filter_all(a) != ARCHIVE_OK ||
	    archive_read_support_format_raw(a) != ARCHIVE_OK ||
	    archive_read_open_filename(a, src, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		r = archive_errno(a) > 0 ? -archive_errno(a) : -EINVAL;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < (1 << 16)) {
			char *nb;

			if (cap >= MODULE_MAX) {
				r = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 1 << 20;
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = archive_read_data(a, buf + len, cap - len);
		if (n == 0)
			break;
		if (n < 0) {
			r = archive_errno(a) > 0 ? -archive_errno(a) : -EINVAL;
			goto out;
		}
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	archive_read_free(a);
	return r;
}

static int add_module(struct initrd_list *l, const char *name, char *err, size_t err_len)
{
	_cleanup_free_ char *out = NULL;
	char **paths = NULL;
	size_t len, n = 0;
	int r;

	if (!l->kver) {
		seterr(err, err_len, "module '%s' before any kernel line", name);
		return -EINVAL;
	}
	r = show_depends(l, name, &out, &len);
	if (r < 0) {
		seterr(err, err_len, "modprobe --show-depends '%s' for %s failed: %s", name, l->kver,
		       strerror(-r));
		return r;
	}
	r = initrd_parse_show_depends(out, len, l->modroot, &paths, &n);
	if (r < 0)
		seterr(err, err_len, "cannot parse modprobe output for '%s'", name);
	for (size_t i = 0; i < n && r >= 0; i++) {
		char src[PATH_MAX];
		struct initrd_entry e = { .path = paths[i], .type = INITRD_FILE, .mode = 0644,
					  .source = src };
		_cleanup_free_ char *plain = NULL;
		size_t sfx = module_suffix(paths[i]);
		bool seen = false;

		snprintf(src, sizeof(src), "%s%s",
			 l->modroot && strcmp(l->modroot, "/") ? l->modroot : "", paths[i]);
		/* Shipped decompressed, under its name without the suffix. */
		paths[i][strlen(paths[i]) - sfx] = '\0';
		for (size_t j = 0; j < l->n_modules; j++)
			seen = seen || strcmp(l->modules[j], paths[i]) == 0;
		if (seen)
			continue;
		if (sfx) {
			r = decompress_module(src, &plain, &e.data_len);
			if (r < 0) {
				seterr(err, err_len, "cannot decompress module '%s': %s", src, strerror(-r));
				break;
			}
			e.source = NULL;
			e.data = plain;
		}
		r = initrd_list_add(l, &e);
		if (r < 0) {
			seterr(err, err_len, "cannot add module '%s': %s", paths[i], strerror(-r));
			break;
		}
		r = append_path(&l->modules, &l->n_modules, paths[i], strlen(paths[i]));
	}
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return r < 0 ? r : 0;
}

/* ---- parsing -------------------------------------------------------------- */

static bool var_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static int expand(const struct initrd_list *l, const char *in, char *out, size_t out_len,
		  char *err, size_t err_len)
{
	size_t o = 0;

	for (const char *p = in; *p;) {
		const char *val;
		size_t vl;

		if (p[0] == '$' && p[1] == '{') {
			const char *e = p + 2;
			char name[64];

			while (var_char(*e))
				e++;
			if (*e != '}' || e == p + 2 || (size_t)(e - p - 2) >= sizeof(name)) {
				seterr(err, err_len, "bad variable reference in '%s'", in);
				return -EINVAL;
			}
			memcpy(name, p + 2, e - p - 2);
			name[e - p - 2] = '\0';
			val = NULL;
			for (size_t i = 0; i < l->n_vars; i++)
				if (strcmp(l->vars[i].name, name) == 0)
					val = l->vars[i].value;
			if (!val)
				val = getenv(name);
			if (!val) {
				seterr(err, err_len, "variable '%s' is not set", name);
				return -EINVAL;
			}
			vl = strlen(val);
			p = e + 1;
		} else {
			val = p;
			vl = 1;
			p++;
		}
		if (o + vl >= out_len) {
			seterr(err, err_len, "field too long after expansion: '%s'", in);
			return -ENAMETOOLONG;
		}
		memcpy(out + o, val, vl);
		o += vl;
	}
	out[o] = '\0';
	return 0;
}

static int parse_num(const char *s, int base, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* MODE UID GID at f[0..2] */
static int parse_owner(char **f, struct initrd_entry *e)
{
	unsigned long mode, uid, gid;

	if (parse_num(f[0], 8, 07777, &mode) < 0 || parse_num(f[1], 10, 0xfffffffeul, &uid) < 0 ||
	    parse_num(f[2], 10, 0xfffffffeul, &gid) < 0)
		return -EINVAL;
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	return 0;
}

static int set_str(char **dst, const char *s)
{
	char *c = strdup(s);

	if (!c)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

static int parse_text(struct initrd_list *l, const char *name, const char *text, size_t len,
		      unsigned int depth, char *err, size_t err_len);

static int include_list(struct initrd_list *l, const char *from, const char *rel,
			unsigned int depth, char *err, size_t err_len)
{
	char path[PATH_MAX];
	_cleanup_free_ char *buf = NULL;
	const char *slash = strrchr(from, '/');
	size_t len;
	int r;

	if (depth >= INITRD_INCLUDE_DEPTH) {
		seterr(err, err_len, "includes nested deeper than %d at '%s'",
		       INITRD_INCLUDE_DEPTH, rel);
		return -ELOOP;
	}
	if (rel[0] == '/' || !slash)
		r = snprintf(path, sizeof(path), "%s", rel);
	else
		r = snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - from), from, rel);
	if (r < 0 || (size_t)r >= sizeof(path))
		return -ENAMETOOLONG;
	r = fd_read_file(path, INITRD_LIST_MAX_SIZE, &buf, &len);
	if (r < 0) {
		seterr(err, err_len, "cannot read list '%s': %s", path, strerror(-r));
		return r;
	}
	return parse_text(l, path, buf, len, depth + 1, err, err_len);
}

static int parse_line(struct initrd_list *l, const char *name, char **f, size_t nf,
		      unsigned int depth, char *err, size_t err_len)
{
	struct initrd_entry e = {};
	const char *kw = f[0];
	int r;

#define WANT(n)                                                                          \
	do {                                                                             \
		if (nf != (n)) {                                                         \
			seterr(err, err_len, "'%s' takes %d fields, not %zu", kw, (n) - 1, nf - 1); \
			return -EINVAL;                                                  \
		}                                                                        \
	} while (0)

#ifdef VEIL_FUZZING
	/* Fuzzing checks the syntax; lines that would read the host stop here. */
	if (strcmp(kw, "bin") == 0 || strcmp(kw, "lib") == 0 || strcmp(kw, "module") == 0 ||
	    strcmp(kw, "include") == 0 || strcmp(kw, "file") == 0)
		return nf >= 2 ? 0 : -EINVAL;
#endif
	if (strcmp(kw, "dir") == 0) {
		WANT(5);
		e.type = INITRD_DIR;
		e.path = f[1];
		r = parse_owner(f + 2, &e);
	} else if (strcmp(kw, "file") == 0) {
		WANT(6);
		e.type = INITRD_FILE;
		e.path = f[1];
		e.source = f[2];
		r = parse_owner(f + 3, &e);
		if (r == 0 && access(f[2], R_OK) < 0) {
			seterr(err, err_len, "cannot read '%s': %m", f[2]);
			return -errno;
		}
	} else if (strcmp(kw, "slink") == 0) {
		WANT(6);
		e.type = INITRD_SYMLINK;
		e.path = f[1];
		e.source = f[2];
		r = parse_owner(f + 3, &e);
		if (r == 0 && (!*f[2] || strlen(f[2]) >= INITRD_PATH_MAX))
			r = -EINVAL;
	} else if (strcmp(kw, "nod") == 0) {
		unsigned long maj, min;

		WANT(8);
		e.type = INITRD_NODE;
		e.path = f[1];
		r = parse_owner(f + 2, &e);
		if (r == 0 && (strcmp(f[5], "c") && strcmp(f[5], "b")))
			r = -EINVAL;
		e.block = f[5][0] == 'b';
		if (r == 0 && (parse_num(f[6], 10, 4095, &maj) < 0 ||
			       parse_num(f[7], 10, 1048575, &min) < 0))
			r = -EINVAL;
		if (r == 0) {
			e.major = maj;
			e.minor = min;
		}
	} else if (strcmp(kw, "bin") == 0) {
		WANT(6);
		r = parse_owner(f + 3, &e);
		if (r == 0)
			return add_with_deps(l, f[1], f[2], e.mode, e.uid, e.gid, 0, err, err_len);
	} else if (strcmp(kw, "lib") == 0) {
		WANT(2);
		return add_library(l, NULL, ".", name, f[1], 0, err, err_len);
	} else if (strcmp(kw, "kernel") == 0) {
		if (nf != 2 && nf != 3) {
			seterr(err, err_len, "'kernel' takes KVER [MODROOT]");
			return -EINVAL;
		}
		if (!*f[1] || strchr(f[1], '/')) {
			seterr(err, err_len, "bad kernel release '%s'", f[1]);
			return -EINVAL;
		}
		if (set_str(&l->kver, f[1]) < 0 || set_str(&l->modroot, nf == 3 ? f[2] : "/") < 0)
			return -ENOMEM;
		return 0;
	} else if (strcmp(kw, "module") == 0) {
		if (nf < 2) {
			seterr(err, err_len, "'module' takes at least one name");
			return -EINVAL;
		}
		for (size_t i = 1; i < nf; i++) {
			r = add_module(l, f[i], err, err_len);
			if (r < 0)
				return r;
		}
		return 0;
	} else if (strcmp(kw, "include") == 0) {
		WANT(2);
		return include_list(l, name, f[1], depth, err, err_len);
	} else {
		seterr(err, err_len, "unknown entry type '%s'", kw);
		return -EINVAL;
	}
#undef WANT
	if (r < 0) {
		seterr(err, err_len, "bad field in '%s' line (mode is octal <= 7777, ids decimal)",
		       kw);
		return r;
	}
	r = initrd_list_add(l, &e);
	if (r < 0)
		seterr(err, err_len, "cannot add '%s': %s", e.path, strerror(-r));
	return r;
}

static int parse_text(struct initrd_list *l, const char *name, const char *text, size_t len,
		      unsigned int depth, char *err, size_t err_len)
{
	const char *p = text, *end = text + len;
	unsigned int lineno = 0;

	if (len > INITRD_LIST_MAX_SIZE) {
		seterr(err, err_len, "%s: list larger than %u bytes", name, INITRD_LIST_MAX_SIZE);
		return -EFBIG;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);
		char line[INITRD_LINE_MAX], fields[MAX_FIELDS][INITRD_LINE_MAX / 2];
		char *f[MAX_FIELDS], *save = NULL, msg[512];
		size_t ll, nf = 0;
		int r = 0;

		if (!eol)
			eol = end;
		ll = eol - p;
		lineno++;
		if (ll >= sizeof(line)) {
			seterr(err, err_len, "%s:%u: line longer than %u bytes", name, lineno,
			       INITRD_LINE_MAX);
			return -EINVAL;
		}
		memcpy(line, p, ll);
		line[ll] = '\0';
		p = eol + 1;
		if (memchr(line, '\0', ll)) {
			seterr(err, err_len, "%s:%u: NUL byte in line", name, lineno);
			return -EINVAL;
		}
		for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
			if (t[0] == '#')
				break;
			if (nf >= MAX_FIELDS) {
				seterr(err, err_len, "%s:%u: too many fields", name, lineno);
				return -EINVAL;
			}
			msg[0] = '\0';
			r = expand(l, t, fields[nf], sizeof(fields[nf]), msg, sizeof(msg));
			if (r < 0) {
				seterr(err, err_len, "%s:%u: %s", name, lineno, msg);
				return r;
			}
			f[nf] = fields[nf];
			nf++;
		}
		if (nf == 0)
			continue;
		msg[0] = '\0';
		r = parse_line(l, name, f, nf, depth, msg, sizeof(msg));
		if (r < 0) {
			seterr(err, err_len, "%s:%u: %s", name, lineno, msg[0] ? msg : strerror(-r));
			return r;
		}
	}
	return 0;
}

int initrd_list_parse(struct initrd_list *l, const char *name, const char *text, size_t len,
		      char *err, size_t err_len)
{
	return parse_text(l, name, text, len, 0, err, err_len);
}

int initrd_list_parse_file(struct initrd_list *l, const char *path, char *err, size_t err_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = fd_read_file(path, INITRD_LIST_MAX_SIZE, &buf, &len);
	if (r < 0) {
		seterr(err, err_len, "cannot read list '%s': %s", path, strerror(-r));
		return r;
	}
	return parse_text(l, path, buf, len, 0, err, err_len);
}

/* ---- finishing ------------------------------------------------------------ */

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct initrd_entry *)a)->path,
		      ((const struct initrd_entry *)b)->path);
}

static void sort_entries(struct initrd_list *l)
{
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_entry);
}

static bool same_entry(const struct initrd_entry *a, const struct initrd_entry *b)
{
	if (a->type != b->type || a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
	    a->block != b->block || a->major != b->major || a->minor != b->minor)
		return false;
	if (!!a->source != !!b->source || (a->source && strcmp(a->source, b->source)))
		return false;
	if (!!a->data != !!b->data || a->data_len != b->data_len ||
	    (a->data && memcmp(a->data, b->data, a->data_len)))
		return false;
	return true;
}

int initrd_list_finish(struct initrd_list *l, char *err, size_t err_len)
{
	size_t w;
	int r;

	if (l->n_modules) {
		size_t total = 0;
		_cleanup_free_ char *text = NULL;
		struct initrd_entry e = { .path = INITRD_MODULES_FILE, .type = INITRD_FILE,
					  .mode = 0644 };

		for (size_t i = 0; i < l->n_modules; i++)
			total += strlen(l->modules[i]) + 1;
		text = malloc(total + 1);
		if (!text)
			return -ENOMEM;
		total = 0;
		for (size_t i = 0; i < l->n_modules; i++)
			total += sprintf(text + total, "%s\n", l->modules[i]);
		e.data = text;
		e.data_len = total;
		if (!has_path(l, INITRD_MODULES_FILE)) {
			r = initrd_list_add(l, &e);
			if (r < 0)
				return r;
		}
	}

	sort_entries(l);
	/* Identical duplicates (a library two binaries need) collapse; others conflict. */
	r = 0;
	for (size_t i = 1, j = 0; i < l->n; i++) {
		if (strcmp(l->v[i].path, l->v[j].path) != 0) {
			j = i;
			continue;
		}
		if (!same_entry(&l->v[i], &l->v[j])) {
			seterr(err, err_len, "conflicting entries for '/%s'", l->v[i].path);
			r = -EEXIST;
			break;
		}
		entry_done(&l->v[i]);
	}
	/* Drop the collapsed ones, also on error: the list stays consistent. */
	for (size_t i = w = 0; i < l->n; i++)
		if (l->v[i].path)
			l->v[w++] = l->v[i];
	l->n = w;
	if (r < 0)
		return r;

	/* Missing parents become root-owned 0755 directories, one level a pass. */
	for (;;) {
		size_t n_sorted = l->n;

		for (size_t i = 0; i < n_sorted; i++) {
			char parent[INITRD_PATH_MAX];
			struct initrd_entry d = { .path = parent, .type = INITRD_DIR, .mode = 0755 };
			const struct initrd_entry *p;
			char *slash;
			bool queued = false;

			snprintf(parent, sizeof(parent), "%s", l->v[i].path);
			slash = strrchr(parent, '/');
			if (!slash)
				continue;
			*slash = '\0';
			p = bsearch(&d, l->v, n_sorted, sizeof(*l->v), cmp_entry);
			if (p) {
				if (p->type != INITRD_DIR) {
					seterr(err, err_len,
					       "'/%s' is inside '/%s', which is not a directory",
					       l->v[i].path, parent);
					return -ENOTDIR;
				}
				continue;
			}
			for (size_t j = n_sorted; j < l->n && !queued; j++)
				queued = strcmp(l->v[j].path, parent) == 0;
			if (queued)
				continue;
			r = initrd_list_add(l, &d);
			if (r < 0)
				return r;
		}
		if (l->n == n_sorted)
			break;
		sort_entries(l);
	}
	sort_entries(l);
	l->finished = true;
	return 0;
}

size_t initrd_list_count(const struct initrd_list *l)
{
	return l->n;
}

const struct initrd_entry *initrd_list_get(const struct initrd_list *l, size_t i)
{
	return i < l->n ? &l->v[i] : NULL;
}
