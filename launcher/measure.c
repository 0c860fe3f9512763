// SPDX-License-Identifier: GPL-2.0-only
/*
 * Canonical walk: depth first from the rootfs directory, the entries of each
 * directory in byte order of their names, symlinks never followed. Each entry
 * gives a leaf
 *   SHA-256(0x00 "veil-entry-v1" 0x00 path 0x00 type mode uid gid size rdev
 *           content-sha256 target-len target)       (integers little-endian)
 * with path relative to the rootfs ("" for itself), content-sha256 the hash of
 * a regular file's bytes (zeros otherwise) and target a symlink's target.
 * Inner nodes are SHA-256(0x01 left right); an odd last node moves up as is.
 * The container digest is
 *   SHA-256("veil-container-v1" 0x00 merkle-root u64(len) config.json bytes).
 */
#include "launcher/measure.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <liburing.h>
#include <openssl/evp.h>

#include "launcher/oci.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/json.h"

#define CHUNK (512u << 10)
#define QD 4u

struct entry {
	char *path;		/* relative, "" for the root */
	struct stat st;
	char *target;
	uint8_t content[32];
};

struct walk {
	struct entry *v;
	size_t n, cap;
	int err;
	char *msg;
};

struct pool {
	int rootfd;
	struct entry *v;
	size_t n;
	atomic_size_t next;
	atomic_int err;
	char *msg;
	pthread_mutex_t lock;
	atomic_uint_fast64_t bytes;
};

static void set_msg(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_msg(char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, MEASURE_ERR_MAX, fmt, ap);
	va_end(ap);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push(struct walk *w, const char *path, const struct stat *st, int dirfd,
		const char *name)
{
	struct entry *e;

	if (w->n >= MEASURE_ENTRIES_MAX) {
		set_msg(w->msg, "more than %u entries", MEASURE_ENTRIES_MAX);
		return -E2BIG;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		struct entry *v = realloc(w->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	e = &w->v[w->n];
	memset(e, 0, sizeof(*e));
	e->st = *st;
	e->path = strdup(path);
	if (!e->path)
		return -ENOMEM;
	w->n++;
	if (S_ISLNK(st->st_mode)) {
		char buf[PATH_MAX];
		ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf) - 1);

		if (n < 0) {
			int r = -errno;

			set_msg(w->msg, "Failed to read link '%s': %s", path, strerror(errno));
			return r;
		}
		buf[n] = '\0';
		e->target = strdup(buf);
		if (!e->target)
			return -ENOMEM;
	}
	return 0;
}

static int walk_dir(struct walk *w, int dfd, const char *prefix, unsigned int depth)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (depth > 256) {
		set_msg(w->msg, "'%s': directories nested too deep", prefix);
		close(dfd);
		return -ELOOP;
	}
	d = fdopendir(dfd);
	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **nv = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(char *));

			if (!nv) {
				r = -ENOMEM;
				goto out;
			}
			names = nv;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (errno) {
		r = -errno;
		set_msg(w->msg, "Failed to read directory '%s': %s", prefix, strerror(errno));
		goto out;
	}
	if (n)
		qsort(names, n, sizeof(char *), cmp_name);
	for (size_t i = 0; i < n && r >= 0; i++) {
		char path[PATH_MAX];
		struct stat st;

		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "/" : "",
				     names[i]) >= sizeof(path)) {
			set_msg(w->msg, "path too long under '%s'", prefix);
			r = -ENAMETOOLONG;
			break;
		}
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			set_msg(w->msg, "Failed to stat '%s': %s", path, strerror(errno));
			break;
		}
		r = push(w, path, &st, dirfd(d), names[i]);
		if (r < 0 || !S_ISDIR(st.st_mode))
			continue;
		int sub = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			r = -errno;
			set_msg(w->msg, "Failed to open '%s': %s", path, strerror(errno));
			break;
		}
		r = walk_dir(w, sub, path, depth + 1);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

static int hash_file(struct pool *p, struct io_uring *ring, uint8_t *bufs, struct entry *e)
{
	_cleanup_close_ int fd = -1;
	EVP_MD_CTX *md;
	uint64_t off = 0, size = (uint64_t)e->st.st_size;
	unsigned int dl;
	struct stat st;
	int r = 0;

	fd = openat(p->rootfd, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size != e->st.st_size || st.st_ino != e->st.st_ino)
		return -ESTALE;
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return -ENOMEM;
	}
	while (off < size && r >= 0) {
		unsigned int n = 0;

		/* A batch of up to QD chunk reads in flight, then hashed in order. */
		for (; n < QD && off + (uint64_t)n * CHUNK < size; n++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
			uint64_t o = off + (uint64_t)n * CHUNK;
			unsigned int len = size - o < CHUNK ? (unsigned int)(size - o) : CHUNK;

			io_uring_prep_read(sqe, fd, bufs + (size_t)n * CHUNK, len, o);
			io_uring_sqe_set_data64(sqe, n);
		}
		r = io_uring_submit_and_wait(ring, n);
		if (r < 0)
			break;
		int res[QD];
		for (unsigned int k = 0; k < n; k++) {
			struct io_uring_cqe *cqe;

			r = io_uring_wait_cqe(ring, &cqe);
			if (r < 0)
				break;
			res[io_uring_cqe_get_data64(cqe)] = cqe->res;
			io_uring_cqe_seen(ring, cqe);
		}
		if (r < 0)
			break;
		for (unsigned int k = 0; k < n && r >= 0; k++) {
			uint64_t o = off + (uint64_t)k * CHUNK;
			unsigned int want = size - o < CHUNK ? (unsigned int)(size - o) : CHUNK;
			unsigned int got;

			if (res[k] < 0) {
				r = res[k];
				break;
			}
			got = (unsigned int)res[k];
			/* A short read is finished synchronously; EOF early means the file shrank. */
			while (got < want) {
				ssize_t m = pread(fd, bufs + (size_t)k * CHUNK + got, want - got, (off_t)(o + got));

				if (m < 0) {
					r = -errno;
					break;
				}
				if (m == 0) {
					r = -ESTALE;
					break;
				}
				got += (unsigned int)m;
			}
			if (r >= 0 && !EVP_DigestUpdate(md, bufs + (size_t)k * CHUNK, want))
				r = -ENOMEM;
		}
		off += (uint64_t)n * CHUNK;
		if (r > 0)
			r = 0;
	}
	if (r >= 0 && !EVP_DigestFinal_ex(md, e->content, &dl))
		r = -ENOMEM;
	EVP_MD_CTX_free(md);
	if (r >= 0)
		atomic_fetch_add(&p->bytes, size);
	return r < 0 ? r : 0;
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	struct io_uring ring;
	uint8_t *bufs;
	int r;

	bufs = aligned_alloc(4096, (size_t)QD * CHUNK);
	if (!bufs) {
		atomic_store(&p->err, -ENOMEM);
		return NULL;
	}
	/*
	 * Fault the buffers in now: a read into a page not yet mapped cannot complete
	 * inline, and io_uring would punt every first read to an io-wq thread.
	 */
	memset(bufs, 0, (size_t)QD * CHUNK);
	r = io_uring_queue_init(QD, &ring, 0);
	if (r < 0) {
		free(bufs);
		pthread_mutex_lock(&p->lock);
		if (!atomic_load(&p->err)) {
			set_msg(p->msg, "Failed to set up io_uring: %s", strerror(-r));
			atomic_store(&p->err, r);
		}
		pthread_mutex_unlock(&p->lock);
		return NULL;
	}
	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);

		if (i >= p->n || atomic_load(&p->err))
			break;
		if (!S_ISREG(p->v[i].st.st_mode))
			continue;
		r = hash_file(p, &ring, bufs, &p->v[i]);
		if (r < 0) {
			pthread_mutex_lock(&p->lock);
			if (!atomic_load(&p->err)) {
				if (r == -ESTALE)
					set_msg(p->msg, "'%s' changed while it was measured", p->v[i].path);
				else
					set_msg(p->msg, "Failed to read '%s': %s", p->v[i].path, strerror(-r));
				atomic_store(&p->err, r);
			}
			pthread_mutex_unlock(&p->lock);
			break;
		}
	}
	io_uring_queue_exit(&ring);
	free(bufs);
	return NULL;
}

static void put32(EVP_MD_CTX *md, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	EVP_DigestUpdate(md, b, 4);
}

static void put64(EVP_MD_CTX *md, uint64_t v)
{
	put32(md, (uint32_t)v);
	put32(md, (uint32_t)(v >> 32));
}

static char type_of(mode_t m)
{
	return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' :
	       S_ISBLK(m) ? 'b' : S_ISFIFO(m) ? 'p' : 's';
}

static int leaf(EVP_MD_CTX *md, const struct entry *e, uint8_t out[32])
{
	static const uint8_t zero[32];
	bool reg = S_ISREG(e->st.st_mode);
	bool dev = S_ISCHR(e->st.st_mode) || S_ISBLK(e->st.st_mode);
	char t = type_of(e->st.st_mode);
	size_t tl = e->target ? strlen(e->target) : 0;

	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		return -ENOMEM;
	EVP_DigestUpdate(md, "\0veil-entry-v1", 15);
	EVP_DigestUpdate(md, e->path, strlen(e->path) + 1);
	EVP_DigestUpdate(md, &t, 1);
	put32(md, e->st.st_mode & 07777);
	put32(md, e->st.st_uid);
	put32(md, e->st.st_gid);
	put64(md, reg || S_ISLNK(e->st.st_mode) ? (uint64_t)e->st.st_size : 0);
	put64(md, dev ? (uint64_t)e->st.st_rdev : 0);
	EVP_DigestUpdate(md, reg ? e->content : zero, 32);
	put32(md, (uint32_t)tl);
	EVP_DigestUpdate(md, e->target ? e->target : "", tl);
	return EVP_DigestFinal_ex(md, out, NULL) ? 0 : -ENOMEM;
}

static int merkle(struct entry *v, size_t n, uint8_t root[32])
{
	uint8_t (*lv)[32] = malloc(n * 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int r = 0;

	if (!lv || !md) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && r >= 0; i++)
		r = leaf(md, &v[i], lv[i]);
	while (r >= 0 && n > 1) {
		size_t m = 0;

		for (size_t i = 0; i < n; i += 2, m++) {
			if (i + 1 == n) {
				memmove(lv[m], lv[i], 32);
				continue;
			}
			if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
				r = -ENOMEM;
				break;
			}
			EVP_DigestUpdate(md, "\1", 1);
			EVP_DigestUpdate(md, lv[i], 64);
			EVP_DigestFinal_ex(md, lv[m], NULL);
		}
		n = m;
	}
	if (r >= 0)
		memcpy(root, lv[0], 32);
out:
	EVP_MD_CTX_free(md);
	free(lv);
	return r;
}

int launcher_measure_rootfs(const char *rootfs, unsigned int threads, uint8_t ret[32],
			    struct measure_stats *stats, char err[MEASURE_ERR_MAX])
{
	struct walk w = { .msg = err };
	struct pool p = { .msg = err };
	pthread_t tid[64];
	unsigned int started = 0;
	struct stat st;
	int rootfd, r;

	err[0] = '\0';
	rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		r = -errno;
		set_msg(err, "Failed to open rootfs '%s': %s", rootfs, strerror(errno));
		return r;
	}
	if (fstat(rootfd, &st) < 0) {
		r = -errno;
		close(rootfd);
		return r;
	}
	r = push(&w, "", &st, rootfd, ".");
	if (r >= 0) {
		int d = dup(rootfd);

		r = d < 0 ? -errno : walk_dir(&w, d, "", 0);
	}
	if (r >= 0) {
		if (!threads) {
			long n = sysconf(_SC_NPROCESSORS_ONLN);

			threads = n > 0 ? (unsigned int)n : 1;
		}
		if (threads > 64)
			threads = 64;
		/* A thread per 4 MiB of content at most: a small rootfs is hashed inline. */
		uint64_t total = 0;
		for (size_t i = 0; i < w.n; i++)
			if (S_ISREG(w.v[i].st.st_mode))
				total += (uint64_t)w.v[i].st.st_size;
		if (total / (4u << 20) + 1 < threads)
			threads = (unsigned int)(total / (4u << 20) + 1);
		p.rootfd = rootfd;
		p.v = w.v;
		p.n = w.n;
		pthread_mutex_init(&p.lock, NULL);
		for (; threads > 1 && started < threads; started++)
			if (pthread_create(&tid[started], NULL, worker, &p) != 0)
				break;
		if (!started)
			worker(&p);
		for (unsigned int i = 0; i < started; i++)
			pthread_join(tid[i], NULL);
		pthread_mutex_destroy(&p.lock);
		r = atomic_load(&p.err);
	}
	if (r >= 0)
		r = merkle(w.v, w.n, ret);
	if (r >= 0 && stats) {
		stats->entries = w.n;
		stats->files = 0;
		for (size_t i = 0; i < w.n; i++)
			stats->files += S_ISREG(w.v[i].st.st_mode);
		stats->bytes = atomic_load(&p.bytes);
	}
	if (r < 0 && !err[0])
		set_msg(err, "Failed to measure '%s': %s", rootfs, strerror(-r));
	for (size_t i = 0; i < w.n; i++) {
		free(w.v[i].path);
		free(w.v[i].target);
	}
	free(w.v);
	close(rootfd);
	return r;
}

int launcher_measure_config(const char *rootfs, const char *cfg, size_t len, unsigned int threads,
			    uint8_t ret[32], struct measure_stats *stats, char err[MEASURE_ERR_MAX])
{
	uint8_t root[32];
	EVP_MD_CTX *md;
	int r;

	r = launcher_measure_rootfs(rootfs, threads, root, stats, err);
	if (r < 0)
		return r;
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return -ENOMEM;
	}
	EVP_DigestUpdate(md, "veil-container-v1", 18);
	EVP_DigestUpdate(md, root, 32);
	put64(md, len);
	EVP_DigestUpdate(md, cfg, len);
	r = EVP_DigestFinal_ex(md, ret, NULL) ? 0 : -ENOMEM;
	EVP_MD_CTX_free(md);
	return r;
}

int launcher_bundle_read(const char *bundle, char **ret_cfg, size_t *ret_len, char **ret_rootfs,
			 char err[MEASURE_ERR_MAX])
{
	_cleanup_free_ char *cfg = NULL, *path = NULL, *rootfs = NULL;
	struct vjson_err je;
	const char *rp;
	json_t *doc, *ro;
	size_t len;
	int r;

	err[0] = '\0';
	if (asprintf(&path, "%s/config.json", bundle) < 0)
		return -ENOMEM;
	r = fd_read_file(path, OCI_CONFIG_MAX, &cfg, &len);
	if (r < 0) {
		set_msg(err, "Failed to read '%s': %s", path, strerror(-r));
		return r;
	}
	r = vjson_parse(cfg, len, OCI_CONFIG_MAX, 16, &doc, &je);
	if (r < 0) {
		set_msg(err, "'%s': %s", path, je.msg);
		return r;
	}
	ro = json_object_get(doc, "root");
	rp = json_is_object(ro) ? json_string_value(json_object_get(ro, "path")) : NULL;
	if (!rp || !*rp) {
		json_decref(doc);
		set_msg(err, "'%s': 'root.path' is missing", path);
		return -EINVAL;
	}
	r = rp[0] == '/' ? ((rootfs = strdup(rp)) ? 0 : -ENOMEM) :
			   (asprintf(&rootfs, "%s/%s", bundle, rp) < 0 ? -ENOMEM : 0);
	json_decref(doc);
	if (r < 0)
		return r;
	*ret_cfg = TAKE_PTR(cfg);
	*ret_len = len;
	*ret_rootfs = TAKE_PTR(rootfs);
	return 0;
}

int launcher_measure_bundle(const char *bundle, unsigned int threads, uint8_t ret[32],
			    struct measure_stats *stats, char err[MEASURE_ERR_MAX])
{
	_cleanup_free_ char *cfg = NULL, *rootfs = NULL;
	size_t len;
	int r;

	r = launcher_bundle_read(bundle, &cfg, &len, &rootfs, err);
	if (r < 0)
		return r;
	return launcher_measure_config(rootfs, cfg, len, threads, ret, stats, err);
}

struct forked_result {
	int r;
	uint8_t digest[32];
	char err[MEASURE_ERR_MAX];
};

int launcher_measure_start(const char *rootfs, const char *cfg, size_t len,
			   struct launcher_measure_job *ret_job)
{
	struct forked_result res = { 0 };
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0) {
		close(p[0]);
		res.r = launcher_measure_config(rootfs, cfg, len, 0, res.digest, NULL, res.err);
		(void)!write(p[1], &res, sizeof(res));
		_exit(0);
	}
	close(p[1]);
	ret_job->pid = pid;
	ret_job->fd = p[0];
	return 0;
}

int launcher_measure_finish(struct launcher_measure_job *job, uint8_t ret[32],
			    char err[MEASURE_ERR_MAX])
{
	struct forked_result res = { 0 };
	int status = -1;
	ssize_t n;

	err[0] = '\0';
	n = fd_read_full(job->fd, &res, sizeof(res));
	close(job->fd);
	job->fd = -1;
	while (waitpid(job->pid, &status, 0) < 0 && errno == EINTR)
		;
	job->pid = 0;
	if (n != (ssize_t)sizeof(res)) {
		set_msg(err, "the measurement helper died (status %d)", status);
		return -EIO;
	}
	if (res.r < 0) {
		memcpy(err, res.err, MEASURE_ERR_MAX);
		err[MEASURE_ERR_MAX - 1] = '\0';
		return res.r;
	}
	memcpy(ret, res.digest, 32);
	return 0;
}

int launcher_measure_forked(const char *rootfs, const char *cfg, size_t len, uint8_t ret[32],
			    char err[MEASURE_ERR_MAX])
{
	struct launcher_measure_job job;
	int r;

	err[0] = '\0';
	r = launcher_measure_start(rootfs, cfg, len, &job);
	return r < 0 ? r : launcher_measure_finish(&job, ret, err);
}

void launcher_digest_hex(const uint8_t d[32], char out[7 + 65])
{
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", d[i]);
}

int launcher_measure_sealed_model(const char *name, const char *path, char **ret,
				  char err[MEASURE_ERR_MAX])
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	EVP_MD_CTX *md = NULL;
	uint8_t buf[1 << 16], d[32];
	char hex[7 + 65];
	struct stat st;
	json_t *o;
	ssize_t n;
	int r = 0;

	*ret = NULL;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, MEASURE_ERR_MAX, "sealed model '%s': %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, MEASURE_ERR_MAX, "sealed model '%s' is not a regular file", path);
		return -EINVAL;
	}
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		r = -ENOMEM;
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || !EVP_DigestUpdate(md, buf, (size_t)n)) {
			r = n < 0 ? -errno : -EIO;
			snprintf(err, MEASURE_ERR_MAX, "sealed model '%s': %s", path, strerror(-r));
			goto out;
		}
	}
	if (!EVP_DigestFinal_ex(md, d, NULL)) {
		r = -EIO;
		goto out;
	}
	launcher_digest_hex(d, hex);
	o = json_pack("{s:s,s:s}", "name", name, "sealed", hex);
	*ret = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (!*ret)
		r = -ENOMEM;
out:
	if (r == -ENOMEM || r == -EIO)
		snprintf(err, MEASURE_ERR_MAX, "sealed model '%s': %s", path, strerror(-r));
	EVP_MD_CTX_free(md);
	return r;
}
