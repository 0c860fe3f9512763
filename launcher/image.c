// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/image.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/cleanup.h"
#include "lib/fd.h"

#define LAYOUT_FILE_MAX 4096u
#define PASSWD_MAX (1u << 20)
#define CHUNK (4u << 20)
#define INDEX_DEPTH_MAX 2

static int fail(struct vjson_err *e, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct vjson_err *e, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return r;
}

static void md_freep(EVP_MD_CTX **c)
{
	EVP_MD_CTX_free(*c);
}

int launcher_image_check_digest(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) || strlen(d) != IMAGE_DIGEST_LEN)
		return -EINVAL;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -EINVAL;
	return 0;
}

static void hex(const uint8_t *in, size_t n, char *out)
{
	static const char h[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = h[in[i] >> 4];
		out[2 * i + 1] = h[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static void digest_of(const void *buf, size_t len, char out[IMAGE_DIGEST_LEN + 1])
{
	uint8_t md[32];

	EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	hex(md, 32, out + 7);
}

/* A descriptor {"mediaType","digest","size",...}: checks and returns the parts. */
static int descriptor(const json_t *d, const char *where, const char **ret_mt,
		      const char **ret_digest, int64_t *ret_size, struct vjson_err *e)
{
	static const char *const keys[] = { "mediaType", "digest", "size", "annotations", "urls",
					    "platform", "artifactType", "data", NULL };
	const char *mt = NULL, *dg;
	json_t *ann = NULL;
	int64_t size;
	int r;

	if (!json_is_object(d))
		return fail(e, -EBADMSG, "%s: not an object", where);
	r = vjson_check_keys(d, where, keys, e);
	if (r < 0)
		return -EBADMSG;
	if (vjson_get_string(d, where, "mediaType", 256, &mt, e) < 0)
		return fail(e, -EBADMSG, "%s: 'mediaType' missing or not a string", where);
	if (vjson_get_string(d, where, "digest", 128, &dg, e) < 0 ||
	    launcher_image_check_digest(dg) < 0)
		return fail(e, -EBADMSG, "%s: 'digest' must be sha256:<64 lower-case hex>", where);
	if (vjson_get_int(d, where, "size", 0, (int64_t)IMAGE_BLOB_MAX, &size, e) < 0)
		return fail(e, -EBADMSG, "%s: 'size' missing or out of range", where);
	if (vjson_get_object_opt(d, where, "annotations", &ann, e) < 0)
		return -EBADMSG;
	if (ann) {
		const char *k;
		json_t *v;

		json_object_foreach(ann, k, v)
			if (!json_is_string(v))
				return fail(e, -EBADMSG, "%s.annotations.%.100s: not a string",
					    where, k);
	}
	if (json_object_get(d, "urls"))
		return fail(e, -EOPNOTSUPP, "%s: 'urls' (foreign layers) are not supported", where);
	*ret_mt = mt;
	*ret_digest = dg;
	*ret_size = size;
	return 0;
}

static const char *host_arch(void)
{
	static struct utsname u;

	if (uname(&u) < 0)
		return "amd64";
	if (!strcmp(u.machine, "x86_64"))
		return "amd64";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	return u.machine;
}

static bool platform_ok(const json_t *m)
{
	json_t *p = json_object_get(m, "platform");
	const char *os, *arch;

	if (!json_is_object(p))
		return false;
	os = json_string_value(json_object_get(p, "os"));
	arch = json_string_value(json_object_get(p, "architecture"));
	return os && arch && !strcmp(os, "linux") && !strcmp(arch, host_arch());
}

int launcher_image_parse_index(const char *buf, size_t len, const char *ref, char *ret_digest,
			       int64_t *ret_size, const char **ret_mt, json_t **ret_root,
			       struct vjson_err *e)
{
	static const char *const keys[] = { "schemaVersion", "mediaType", "manifests",
					    "annotations", "subject", "artifactType", NULL };
	_cleanup_(json_decrefp) json_t *root = NULL;
	const char *name = NULL, *want = NULL, *mt;
	char namebuf[IMAGE_REF_MAX + 1];
	json_t *arr, *hit = NULL;
	size_t n_hits = 0;
	int64_t v;
	int r;

	if (ref && *ref) {
		const char *at = strstr(ref, "@sha256:");

		if (strlen(ref) > IMAGE_REF_MAX)
			return fail(e, -EINVAL, "image reference longer than %u bytes", IMAGE_REF_MAX);
		if (!strncmp(ref, "sha256:", 7)) {
			want = ref;
		} else if (at) {
			snprintf(namebuf, sizeof(namebuf), "%.*s", (int)(at - ref), ref);
			name = namebuf;
			want = at + 1;
		} else {
			name = ref;
		}
		if (want && launcher_image_check_digest(want) < 0)
			return fail(e, -EINVAL, "image reference '%.200s': malformed digest", ref);
	}
	r = vjson_parse(buf, len, IMAGE_JSON_MAX, VJSON_DEPTH_DEFAULT, &root, e);
	if (r < 0)
		return fail(e, r == -E2BIG ? r : -EBADMSG, "index: %s", e->msg);
	if (!json_is_object(root))
		return fail(e, -EBADMSG, "index: not a JSON object");
	if (vjson_check_keys(root, "index", keys, e) < 0)
		return -EBADMSG;
	if (vjson_get_int(root, "index", "schemaVersion", 2, 2, &v, e) < 0)
		return fail(e, -EBADMSG, "index: 'schemaVersion' must be 2");
	if (vjson_get_string_opt(root, "index", "mediaType", 256, &mt, e) < 0)
		return -EBADMSG;
	if (vjson_get_array(root, "index", "manifests", IMAGE_MANIFESTS_MAX, &arr, e) < 0)
		return fail(e, -EBADMSG, "index: 'manifests' must be an array of at most %u",
			    IMAGE_MANIFESTS_MAX);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *m = json_array_get(arr, i), *ann;
		char where[48];
		const char *dg, *rn;
		int64_t size;
		bool match;

		snprintf(where, sizeof(where), "index.manifests[%zu]", i);
		r = descriptor(m, where, &mt, &dg, &size, e);
		if (r < 0)
			return r;
		ann = json_object_get(m, "annotations");
		rn = ann ? json_string_value(json_object_get(ann, IMAGE_ANN_REF)) : NULL;
		if (name || want)
			match = (!name || (rn && !strcmp(rn, name))) && (!want || !strcmp(dg, want));
		else
			match = json_array_size(arr) == 1 || platform_ok(m);
		if (!match)
			continue;
		n_hits++;
		hit = m;
	}
	if (n_hits == 0 && !name && !want)
		return fail(e, -EINVAL, "index: %zu manifests and none for linux/%s; name one",
			    json_array_size(arr), host_arch());
	if (n_hits == 0)
		return fail(e, -ENOENT, "index: no manifest matches '%.200s' (%zu listed)",
			    ref && *ref ? ref : "(only one / this platform)", json_array_size(arr));
	if (n_hits > 1)
		return fail(e, -EINVAL, "index: %zu manifests match '%.200s'; name one by digest",
			    n_hits, ref && *ref ? ref : "(no reference)");
	mt = json_string_value(json_object_get(hit, "mediaType"));
	if (strcmp(mt, IMAGE_MT_MANIFEST) && strcmp(mt, IMAGE_MT_INDEX))
		return fail(e, -EOPNOTSUPP, "index: manifest media type '%.100s' not supported", mt);
	snprintf(ret_digest, IMAGE_DIGEST_LEN + 1, "%s",
		 json_string_value(json_object_get(hit, "digest")));
	*ret_size = json_integer_value(json_object_get(hit, "size"));
	*ret_mt = mt;
	*ret_root = TAKE_PTR(root);
	return 0;
}

static int layer_type(const char *mt, struct image_layer *l)
{
	static const struct {
		const char *mt;
		enum unpack_compression c;
	} types[] = {
		{ "application/vnd.oci.image.layer.v1.tar", UNPACK_NONE },
		{ "application/vnd.oci.image.layer.v1.tar+gzip", UNPACK_GZIP },
		{ "application/vnd.oci.image.layer.v1.tar+zstd", UNPACK_ZSTD },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar", UNPACK_NONE },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", UNPACK_GZIP },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", UNPACK_ZSTD },
		{ "application/vnd.docker.image.rootfs.diff.tar.gzip", UNPACK_GZIP },
	};
	size_t n = strlen(mt);
	static const char enc[] = "+encrypted";

	l->encrypted = n > strlen(enc) && !strcmp(mt + n - strlen(enc), enc);
	if (l->encrypted)
		n -= strlen(enc);
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strlen(types[i].mt) == n && !strncmp(types[i].mt, mt, n)) {
			l->comp = types[i].c;
			return 0;
		}
	return -EOPNOTSUPP;
}

int launcher_image_parse_manifest(const char *buf, size_t len, struct launcher_image *img,
				  int64_t *ret_config_size, struct vjson_err *e)
{
	static const char *const keys[] = { "schemaVersion", "mediaType", "config", "layers",
					    "annotations", "subject", "artifactType", NULL };
	_cleanup_(json_decrefp) json_t *root = NULL;
	const char *mt, *dg;
	json_t *cfg, *arr;
	int64_t v, size;
	int r;

	r = vjson_parse(buf, len, IMAGE_JSON_MAX, VJSON_DEPTH_DEFAULT, &root, e);
	if (r < 0)
		return fail(e, r == -E2BIG ? r : -EBADMSG, "manifest: %s", e->msg);
	if (!json_is_object(root))
		return fail(e, -EBADMSG, "manifest: not a JSON object");
	if (vjson_check_keys(root, "manifest", keys, e) < 0)
		return -EBADMSG;
	if (vjson_get_int(root, "manifest", "schemaVersion", 2, 2, &v, e) < 0)
		return fail(e, -EBADMSG, "manifest: 'schemaVersion' must be 2");
	mt = NULL;
	if (vjson_get_string_opt(root, "manifest", "mediaType", 256, &mt, e) < 0)
		return -EBADMSG;
	if (mt && strcmp(mt, IMAGE_MT_MANIFEST))
		return fail(e, -EOPNOTSUPP, "manifest: media type '%.100s' not supported", mt);
	if (vjson_get_object(root, "manifest", "config", &cfg, e) < 0)
		return fail(e, -EBADMSG, "manifest: 'config' missing");
	r = descriptor(cfg, "manifest.config", &mt, &dg, &size, e);
	if (r < 0)
		return r;
	if (strcmp(mt, IMAGE_MT_CONFIG) && strcmp(mt, "application/vnd.docker.container.image.v1+json"))
		return fail(e, -EOPNOTSUPP, "manifest.config: media type '%.100s' is not an image "
			    "config", mt);
	if (size > IMAGE_JSON_MAX)
		return fail(e, -E2BIG, "manifest.config: larger than %u bytes", IMAGE_JSON_MAX);
	if (vjson_get_array(root, "manifest", "layers", IMAGE_LAYERS_MAX, &arr, e) < 0)
		return fail(e, -EBADMSG, "manifest: 'layers' must be an array of at most %u",
			    IMAGE_LAYERS_MAX);
	img->layers = calloc(json_array_size(arr) + 1, sizeof(*img->layers));
	if (!img->layers)
		return -ENOMEM;
	snprintf(img->config_digest, sizeof(img->config_digest), "%s", dg);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		struct image_layer *l = &img->layers[i];
		json_t *d = json_array_get(arr, i);
		char where[48];

		snprintf(where, sizeof(where), "manifest.layers[%zu]", i);
		r = descriptor(d, where, &mt, &dg, &size, e);
		if (r < 0)
			return r;
		if (layer_type(mt, l) < 0)
			return fail(e, -EOPNOTSUPP, "%s: media type '%.100s' not supported", where,
				    mt);
		snprintf(l->digest, sizeof(l->digest), "%s", dg);
		l->size = (uint64_t)size;
		l->media_type = mt;
		l->annotations = json_object_get(d, "annotations");
		if (l->encrypted && !l->annotations)
			return fail(e, -EBADMSG, "%s: encrypted layer without annotations", where);
	}
	img->n_layers = json_array_size(arr);
	*ret_config_size = json_integer_value(json_object_get(cfg, "size"));
	img->manifest = TAKE_PTR(root);
	return 0;
}

static int str_array_opt(const json_t *o, const char *where, const char *key, size_t max,
			 bool need_eq, struct vjson_err *e)
{
	json_t *a = json_object_get(o, key);

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > max)
		return fail(e, -EBADMSG, "%s.%s: must be an array of at most %zu strings", where,
			    key, max);
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));

		if (!s || strlen(s) != json_string_length(json_array_get(a, i)) || strlen(s) > 4096)
			return fail(e, -EBADMSG, "%s.%s[%zu]: not a string (NUL-free, <= 4096)",
				    where, key, i);
		if (need_eq && (!strchr(s, '=') || s[0] == '='))
			return fail(e, -EBADMSG, "%s.%s[%zu]: not KEY=VALUE", where, key, i);
	}
	return 0;
}

int launcher_image_parse_config(const char *buf, size_t len, size_t n_layers, json_t **ret,
				struct vjson_err *e)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	const char *os = NULL, *s = NULL;
	json_t *c = NULL, *rootfs = NULL, *ids = NULL;
	int r;

	r = vjson_parse(buf, len, IMAGE_JSON_MAX, VJSON_DEPTH_DEFAULT, &root, e);
	if (r < 0)
		return fail(e, r == -E2BIG ? r : -EBADMSG, "image config: %s", e->msg);
	if (!json_is_object(root))
		return fail(e, -EBADMSG, "image config: not a JSON object");
	if (vjson_get_string_opt(root, "config", "os", 64, &os, e) < 0)
		return -EBADMSG;
	if (os && strcmp(os, "linux"))
		return fail(e, -EOPNOTSUPP, "image config: os '%.64s' is not linux", os);
	if (vjson_get_object_opt(root, "", "config", &c, e) < 0)
		return -EBADMSG;
	if (c) {
		static const char *const strs[] = { "User", "WorkingDir", NULL };

		for (const char *const *k = strs; *k; k++)
			if (vjson_get_string_opt(c, "config", *k, 4096, &s, e) < 0)
				return -EBADMSG;
		if (str_array_opt(c, "config", "Env", 4096, true, e) < 0 ||
		    str_array_opt(c, "config", "Entrypoint", 256, false, e) < 0 ||
		    str_array_opt(c, "config", "Cmd", 256, false, e) < 0)
			return -EBADMSG;
	}
	if (vjson_get_object_opt(root, "", "rootfs", &rootfs, e) < 0)
		return -EBADMSG;
	if (rootfs) {
		if (vjson_get_array(rootfs, "rootfs", "diff_ids", IMAGE_LAYERS_MAX, &ids, e) < 0)
			return fail(e, -EBADMSG, "image config: 'rootfs.diff_ids' malformed");
		if (json_array_size(ids) != n_layers)
			return fail(e, -EBADMSG, "image config: %zu diff_ids for %zu layers",
				    json_array_size(ids), n_layers);
		for (size_t i = 0; i < json_array_size(ids); i++)
			if (launcher_image_check_digest(json_string_value(json_array_get(ids, i))) < 0)
				return fail(e, -EBADMSG, "image config: diff_ids[%zu] malformed", i);
	}
	*ret = TAKE_PTR(root);
	return 0;
}

static int open_blob(int dirfd, const char *digest, struct stat *st, struct vjson_err *e)
{
	char path[96];
	int fd;

	if (launcher_image_check_digest(digest) < 0)
		return fail(e, -EINVAL, "blob digest '%.80s' malformed", digest);
	snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
	fd = launcher_open_beneath(dirfd, path, O_RDONLY);
	if (fd < 0)
		return fail(e, fd == -ENOENT ? -ENOENT : -EBADMSG, "blob '%s': %s", digest,
			    fd == -ELOOP ? "is a symlink" : strerror(-fd));
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return fail(e, -EBADMSG, "blob '%s': not a regular file", digest);
	}
	return fd;
}

int launcher_image_read_blob(int dirfd, const char *digest, int64_t size, size_t max, char **ret,
			     size_t *ret_len, struct vjson_err *e)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	char got[IMAGE_DIGEST_LEN + 1];
	struct stat st;
	size_t n;
	int r;

	fd = open_blob(dirfd, digest, &st, e);
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > max || (size >= 0 && st.st_size != size))
		return fail(e, -EBADMSG, "blob '%s': size %lld, expected %lld (at most %zu)", digest,
			    (long long)st.st_size, (long long)size, max);
	r = fd_read_all(fd, max, &buf, &n);
	if (r < 0)
		return fail(e, r == -EFBIG ? -EBADMSG : r, "blob '%s': %s", digest, strerror(-r));
	if (size >= 0 && n != (size_t)size)
		return fail(e, -EBADMSG, "blob '%s': changed size while read", digest);
	digest_of(buf, n, got);
	if (strcmp(got, digest))
		return fail(e, -EBADMSG, "blob '%s': content does not match its digest", digest);
	*ret = TAKE_PTR(buf);
	*ret_len = n;
	return 0;
}

struct launcher_image *launcher_image_free(struct launcher_image *img)
{
	if (!img)
		return NULL;
	if (img->dirfd >= 0)
		close(img->dirfd);
	json_decref(img->manifest);
	json_decref(img->config);
	free(img->layers);
	free(img->ref);
	free(img);
	return NULL;
}

static void imagep(struct launcher_image **i)
{
	launcher_image_free(*i);
}

int launcher_image_open(const char *path, const char *ref, struct launcher_image **ret,
			struct vjson_err *e)
{
	_cleanup_(imagep) struct launcher_image *img = NULL;
	_cleanup_(json_decrefp) json_t *lay = NULL, *idx = NULL;
	_cleanup_free_ char *buf = NULL;
	char digest[IMAGE_DIGEST_LEN + 1];
	const char *mt, *ver;
	int64_t size;
	size_t n;
	int r, fd;

	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	img->dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (img->dirfd < 0)
		return fail(e, -errno, "image layout '%.200s': %m", path);

	fd = launcher_open_beneath(img->dirfd, "oci-layout", O_RDONLY);
	if (fd < 0)
		return fail(e, -EINVAL, "'%.200s' is not an OCI image layout (oci-layout: %s)", path,
			    strerror(-fd));
	r = fd_read_all(fd, LAYOUT_FILE_MAX, &buf, &n);
	close(fd);
	if (r < 0 || vjson_parse(buf, n, LAYOUT_FILE_MAX, 4, &lay, e) < 0 ||
	    vjson_get_string(lay, "oci-layout", "imageLayoutVersion", 16, &ver, e) < 0 ||
	    strcmp(ver, "1.0.0"))
		return fail(e, -EINVAL, "'%.200s/oci-layout': must say imageLayoutVersion 1.0.0", path);
	free(TAKE_PTR(buf));

	fd = launcher_open_beneath(img->dirfd, "index.json", O_RDONLY);
	if (fd < 0)
		return fail(e, -EINVAL, "'%.200s/index.json': %s", path, strerror(-fd));
	r = fd_read_all(fd, IMAGE_JSON_MAX, &buf, &n);
	close(fd);
	if (r < 0)
		return fail(e, r == -EFBIG ? -E2BIG : r, "'%.200s/index.json': %s", path,
			    strerror(-r));
	r = launcher_image_parse_index(buf, n, ref, digest, &size, &mt, &idx, e);
	if (r < 0)
		return r;
	if (ref && *ref && strncmp(ref, "sha256:", 7)) {
		img->ref = strndup(ref, strcspn(ref, "@"));
		if (!img->ref)
			return -ENOMEM;
	}
	for (int depth = 0; !strcmp(mt, IMAGE_MT_INDEX); depth++) {
		if (depth >= INDEX_DEPTH_MAX)
			return fail(e, -EBADMSG, "index: nested more than %d deep", INDEX_DEPTH_MAX);
		free(TAKE_PTR(buf));
		r = launcher_image_read_blob(img->dirfd, digest, size, IMAGE_JSON_MAX, &buf, &n, e);
		if (r < 0)
			return r;
		json_decref(TAKE_PTR(idx));
		r = launcher_image_parse_index(buf, n, NULL, digest, &size, &mt, &idx, e);
		if (r < 0)
			return r;
	}
	free(TAKE_PTR(buf));
	r = launcher_image_read_blob(img->dirfd, digest, size, IMAGE_JSON_MAX, &buf, &n, e);
	if (r < 0)
		return r;
	snprintf(img->manifest_digest, sizeof(img->manifest_digest), "%s", digest);
	r = launcher_image_parse_manifest(buf, n, img, &size, e);
	if (r < 0)
		return r;
	free(TAKE_PTR(buf));
	r = launcher_image_read_blob(img->dirfd, img->config_digest, size, IMAGE_JSON_MAX, &buf, &n,
				     e);
	if (r < 0)
		return r;
	r = launcher_image_parse_config(buf, n, img->n_layers, &img->config, e);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(img);
	return 0;
}

bool launcher_image_encrypted(const struct launcher_image *img)
{
	for (size_t i = 0; i < img->n_layers; i++)
		if (img->layers[i].encrypted)
			return true;
	return false;
}

int launcher_image_kbs_uris(const struct launcher_image *img, json_t **ret, struct vjson_err *e)
{
	_cleanup_(json_decrefp) json_t *arr = json_array();

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < img->n_layers; i++) {
		_cleanup_free_ char *kid = NULL;
		bool dup = false;
		int r;

		if (!img->layers[i].encrypted)
			continue;
		r = launcher_ocicrypt_kid(img->layers[i].annotations, &kid, e);
		if (r < 0)
			return r;
		if (!kid)
			continue;
		for (size_t j = 0; j < json_array_size(arr); j++)
			dup |= !strcmp(json_string_value(json_array_get(arr, j)), kid);
		if (!dup && json_array_append_new(arr, json_string(kid)) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(arr);
	return 0;
}

struct staged {
	uint8_t *p;
	size_t len;
};

static void stagedp(struct staged *s)
{
	/* Anonymous pages: the kernel zeroes them before anyone else gets them. */
	if (s->p)
		munmap(s->p, s->len ? s->len : 1);
}

static void streamp(struct ocicrypt_stream **s)
{
	launcher_ocicrypt_stream_free(*s);
}

static void keyp(struct ocicrypt_key **k)
{
	launcher_ocicrypt_key_free(*k);
}

/*
 * Reads one layer blob into private memory in one pass: sha256 over what is
 * read, and for encrypted layers the HMAC over the ciphertext and the
 * AES-CTR decryption in place. Nothing is returned unless both check out.
 */
static int stage_layer(const struct launcher_image *img, const struct image_layer *l,
		       const struct ocicrypt_keys *keys, struct staged *ret, struct vjson_err *e)
{
	_cleanup_close_ int fd = -1;
	_cleanup_(md_freep) EVP_MD_CTX *md = NULL;
	_cleanup_(streamp) struct ocicrypt_stream *s = NULL;
	_cleanup_(keyp) struct ocicrypt_key *k = NULL;
	_cleanup_(stagedp) struct staged st = { NULL, 0 };
	uint8_t sum[32];
	char got[IMAGE_DIGEST_LEN + 1], extra;
	struct stat sb;
	size_t off = 0;
	int r;

	if (l->encrypted) {
		r = launcher_ocicrypt_key(l->annotations, keys, &k, e);
		if (r < 0) {
			char m[sizeof(e->msg)];

			snprintf(m, sizeof(m), "%s", e->msg);
			return fail(e, r, "layer '%s' is encrypted: %s", l->digest, m);
		}
		r = launcher_ocicrypt_stream_new(k, &s);
		if (r < 0)
			return fail(e, r, "layer '%s': cannot set up its cipher", l->digest);
	}
	fd = open_blob(img->dirfd, l->digest, &sb, e);
	if (fd < 0)
		return fd;
	if ((uint64_t)sb.st_size != l->size || l->size > IMAGE_BLOB_MAX)
		return fail(e, -EBADMSG, "layer '%s': size %lld, the manifest says %llu", l->digest,
			    (long long)sb.st_size, (unsigned long long)l->size);
	st.len = l->size;
	st.p = mmap(NULL, st.len ? st.len : 1, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (st.p == MAP_FAILED) {
		st.p = NULL;
		return fail(e, -ENOMEM, "layer '%s': cannot map %llu bytes", l->digest,
			    (unsigned long long)l->size);
	}
	madvise(st.p, st.len ? st.len : 1, MADV_DONTDUMP);
	/*
	 * Huge pages where the kernel has them: the read below otherwise takes
	 * one page fault per 4 KiB, a quarter of the CPU time of a large layer.
	 */
	(void)madvise(st.p, st.len ? st.len : 1, MADV_HUGEPAGE);
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		return -ENOMEM;
	while (off < st.len) {
		size_t want = st.len - off < CHUNK ? st.len - off : CHUNK;
		ssize_t n = fd_read_full(fd, st.p + off, want);

		if (n < 0)
			return fail(e, (int)n, "layer '%s': read: %s", l->digest, strerror((int)-n));
		if ((size_t)n != want)
			return fail(e, -EBADMSG, "layer '%s': shorter than its size", l->digest);
		EVP_DigestUpdate(md, st.p + off, want);
		if (s && launcher_ocicrypt_stream_update(s, st.p + off, st.p + off, want) < 0)
			return fail(e, -EIO, "layer '%s': decryption failed", l->digest);
		off += want;
	}
	if (read(fd, &extra, 1) != 0)
		return fail(e, -EBADMSG, "layer '%s': longer than its size", l->digest);
	EVP_DigestFinal_ex(md, sum, NULL);
	memcpy(got, "sha256:", 7);
	hex(sum, 32, got + 7);
	if (strcmp(got, l->digest))
		return fail(e, -EBADMSG, "layer '%s': content does not match its digest", l->digest);
	if (s && launcher_ocicrypt_stream_final(s) < 0)
		return fail(e, -EBADMSG, "layer '%s': HMAC mismatch: the ciphertext or its "
			    "annotations were altered", l->digest);
	*ret = st;
	st.p = NULL;
	return 0;
}

int launcher_image_unpack(const struct launcher_image *img, int rootfd,
			  const struct ocicrypt_keys *keys, const struct unpack_opts *o,
			  struct unpack_stats *stats, struct vjson_err *e)
{
	struct unpack_stats total = { 0 };
	struct unpack_opts lo = o ? *o : (struct unpack_opts){ .chown = -1 };
	json_t *ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");

	for (size_t i = 0; i < img->n_layers; i++) {
		_cleanup_(stagedp) struct staged st = { NULL, 0 };
		struct unpack_stats one = { 0 };
		int r;

		r = stage_layer(img, &img->layers[i], keys, &st, e);
		if (r < 0)
			return r;
		/*
		 * An encrypted layer's digest pins only its ciphertext: its
		 * plaintext is checked against the config's diff_id as well.
		 */
		lo.diff_id = NULL;
		if (img->layers[i].encrypted || lo.diff_ids_all) {
			lo.diff_id = json_string_value(json_array_get(ids, i));
			if (!lo.diff_id)
				return fail(e, -EBADMSG, "layer %zu: the image config has no diff_id for it",
					    i);
		}
		r = launcher_unpack_layer(rootfd, st.p, st.len, img->layers[i].comp, &lo, &one, e);
		if (r < 0) {
			char m[sizeof(e->msg)];

			snprintf(m, sizeof(m), "%s", e->msg);
			return fail(e, r, "layer %zu ('%s'): %s", i, img->layers[i].digest, m);
		}
		total.entries += one.entries;
		total.bytes += one.bytes;
	}
	if (stats)
		*stats = total;
	return 0;
}

/* ---- runtime config ---------------------------------------------------- */

static bool numeric(const char *s, uint32_t *ret)
{
	char *end;
	unsigned long v;

	if (!*s || *s < '0' || *s > '9' || strlen(s) > 10)
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v > UINT32_MAX - 1)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/* Looks name (or, name NULL, id) up in the rootfs's /etc/passwd or /etc/group. */
static int db_lookup(int rootfd, const char *file, const char *name, uint32_t id, uint32_t *ret_id,
		     uint32_t *ret_gid)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	char *line, *save = NULL;
	size_t n;
	int r;

	if (rootfd < 0)
		return -ENOENT;
	fd = (int)syscall(SYS_openat2, rootfd, file, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	r = fd_read_all(fd, PASSWD_MAX, &buf, &n);
	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = { NULL }, *p = line;
		uint32_t v, g = 0;

		for (int i = 0; i < 4 && p; i++) {
			f[i] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = '\0';
		}
		if (!f[2] || !numeric(f[2], &v))
			continue;
		if (f[3] && p)
			numeric(f[3], &g);
		if (name ? strcmp(f[0], name) : v != id)
			continue;
		*ret_id = v;
		if (ret_gid)
			*ret_gid = g;
		return 0;
	}
	return -ENOENT;
}

static int resolve_user(int rootfd, const char *spec, uint32_t *uid, uint32_t *gid,
			struct vjson_err *e)
{
	char u[256], *g;
	uint32_t pg = 0;

	*uid = *gid = 0;
	if (!spec || !*spec)
		return 0;
	if (strlen(spec) >= sizeof(u))
		return fail(e, -EINVAL, "user '%.64s...': too long", spec);
	snprintf(u, sizeof(u), "%s", spec);
	g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	if (numeric(u, uid)) {
		if (db_lookup(rootfd, "/etc/passwd", NULL, *uid, uid, &pg) < 0)
			pg = 0;
	} else if (db_lookup(rootfd, "/etc/passwd", u, 0, uid, &pg) < 0) {
		return fail(e, -EINVAL, "user '%.200s' is not in the image's /etc/passwd", u);
	}
	*gid = pg;
	if (g && !numeric(g, gid) && db_lookup(rootfd, "/etc/group", g, 0, gid, NULL) < 0)
		return fail(e, -EINVAL, "group '%.200s' is not in the image's /etc/group", g);
	return 0;
}

static int append_strs(json_t *arr, const json_t *from)
{
	size_t i;
	json_t *v;

	json_array_foreach((json_t *)from, i, v)
		if (json_array_append(arr, v) < 0)
			return -ENOMEM;
	return 0;
}

static int append_cstrs(json_t *arr, const char *const *v)
{
	for (size_t i = 0; v && v[i]; i++) {
		if (i >= 256 || strlen(v[i]) > 4096)
			return -E2BIG;
		if (json_array_append_new(arr, json_string(v[i])) < 0)
			return -EINVAL;
	}
	return 0;
}

static int set_env(json_t *env, const char *kv)
{
	size_t kl;
	size_t i;
	json_t *v;

	if (!strchr(kv, '=') || kv[0] == '=')
		return -EINVAL;
	kl = (size_t)(strchr(kv, '=') - kv);
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);

		if (!strncmp(s, kv, kl) && s[kl] == '=')
			return json_array_set_new(env, i, json_string(kv)) < 0 ? -EINVAL : 0;
	}
	return json_array_append_new(env, json_string(kv)) < 0 ? -EINVAL : 0;
}

static json_t *default_caps(void)
{
	return json_pack("[sssssssss]", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
			 "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
			 "CAP_NET_BIND_SERVICE");
}

int launcher_image_runtime_config(const struct launcher_image *img, int rootfd,
				  const struct image_overrides *ov, char **ret,
				  struct vjson_err *e)
{
	static const struct image_overrides none = { 0 };
	static const char *const mountpoints[] = { "proc", "dev", "sys", "tmp", "run" };
	_cleanup_(json_decrefp) json_t *args = json_array(), *env = json_array(), *spec = NULL;
	json_t *c = json_object_get(img->config, "config");
	const char *cwd = NULL, *user = NULL;
	uint32_t uid, gid;
	char *text;
	int r;

	if (!ov)
		ov = &none;
	if (!args || !env)
		return -ENOMEM;
	if (ov->entrypoint) {
		r = append_cstrs(args, ov->entrypoint);
	} else {
		json_t *ep = json_object_get(c, "Entrypoint");

		r = json_is_array(ep) ? append_strs(args, ep) : 0;
	}
	if (r == 0) {
		if (ov->cmd)
			r = append_cstrs(args, ov->cmd);
		else if (!ov->entrypoint && json_is_array(json_object_get(c, "Cmd")))
			r = append_strs(args, json_object_get(c, "Cmd"));
	}
	if (r < 0)
		return fail(e, -EINVAL, "overrides: malformed entrypoint or cmd");
	if (!json_array_size(args))
		return fail(e, -EINVAL, "image has no Entrypoint or Cmd and the manifest gives none");

	if (json_is_array(json_object_get(c, "Env")))
		append_strs(env, json_object_get(c, "Env"));
	for (size_t i = 0; ov->env && ov->env[i]; i++)
		if (i >= 512 || set_env(env, ov->env[i]) < 0)
			return fail(e, -EINVAL, "override env '%.100s': not KEY=VALUE", ov->env[i]);
	{
		bool has_path = false;
		size_t i;
		json_t *v;

		json_array_foreach(env, i, v)
			has_path |= !strncmp(json_string_value(v), "PATH=", 5);
		if (!has_path)
			set_env(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	}

	cwd = ov->cwd ? ov->cwd : json_string_value(json_object_get(c, "WorkingDir"));
	if (!cwd || !*cwd)
		cwd = "/";
	if (cwd[0] != '/')
		return fail(e, -EINVAL, "working directory '%.200s' is not absolute", cwd);
	user = ov->user ? ov->user : json_string_value(json_object_get(c, "User"));
	r = resolve_user(rootfd, user, &uid, &gid, e);
	if (r < 0)
		return r;

	/* Mount points the defaults need, so a read-only root still works. */
	for (size_t i = 0; rootfd >= 0 && i < ARRAY_SIZE(mountpoints); i++)
		mkdirat(rootfd, mountpoints[i], 0755);

	spec = json_pack(
		"{s:s, s:{s:b, s:{s:i, s:i}, s:O, s:O, s:s, s:{s:o, s:o, s:o}, s:b, s:[{s:s, s:i, s:i}]},"
		" s:{s:s, s:b}, s:s,"
		" s:[{s:s,s:s,s:s,s:[sss]}, {s:s,s:s,s:s,s:[ssss]}, {s:s,s:s,s:s,s:[sssss]},"
		"    {s:s,s:s,s:s,s:[sssss]}, {s:s,s:s,s:s,s:[sss]}, {s:s,s:s,s:s,s:[ssss]},"
		"    {s:s,s:s,s:s,s:[sss]}, {s:s,s:s,s:s,s:[sss]}],"
		" s:{s:[{s:s},{s:s},{s:s},{s:s},{s:s},{s:s}],"
		"    s:[ssssssssss], s:[ssssss]}}",
		"ociVersion", "1.0.2",
		"process", "terminal", 0, "user", "uid", (int)uid, "gid", (int)gid, "args", args,
		"env", env, "cwd", cwd, "capabilities", "bounding", default_caps(), "effective",
		default_caps(), "permitted", default_caps(), "noNewPrivileges", 1, "rlimits", "type",
		"RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
		"root", "path", "rootfs", "readonly", !ov->readonly_rootfs_off,
		"hostname", "veil",
		"mounts",
		"destination", "/proc", "type", "proc", "source", "proc", "options", "nosuid",
		"noexec", "nodev",
		"destination", "/dev", "type", "tmpfs", "source", "tmpfs", "options", "nosuid",
		"strictatime", "mode=755", "size=65536k",
		"destination", "/dev/pts", "type", "devpts", "source", "devpts", "options", "nosuid",
		"noexec", "newinstance", "ptmxmode=0666", "mode=0620",
		"destination", "/dev/shm", "type", "tmpfs", "source", "shm", "options", "nosuid",
		"noexec", "nodev", "mode=1777", "size=65536k",
		"destination", "/dev/mqueue", "type", "mqueue", "source", "mqueue", "options",
		"nosuid", "noexec", "nodev",
		"destination", "/sys", "type", "sysfs", "source", "sysfs", "options", "nosuid",
		"noexec", "nodev", "ro",
		"destination", "/tmp", "type", "tmpfs", "source", "tmpfs", "options", "nosuid",
		"nodev", "mode=1777",
		"destination", "/run", "type", "tmpfs", "source", "tmpfs", "options", "nosuid",
		"nodev", "mode=755",
		"linux", "namespaces", "type", "pid", "type", "ipc", "type", "uts", "type", "mount",
		"type", "network", "type", "cgroup",
		"maskedPaths", "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/sys/firmware", "/proc/scsi",
		"readonlyPaths", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
		"/proc/sysrq-trigger", "/sys/fs/cgroup");
	if (!spec)
		return fail(e, -ENOMEM, "Failed to build the runtime config");
	text = json_dumps(spec, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	if (!text)
		return -ENOMEM;
	*ret = text;
	return 0;
}

int launcher_image_event(const struct launcher_image *img, const char *image_ref,
			 const char *config_json, size_t config_len, char **ret)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	char cd[IMAGE_DIGEST_LEN + 1];
	char *s;

	digest_of(config_json, config_len, cd);
	o = json_pack("{s:s, s:s, s:s}", "digest", img->manifest_digest, "image",
		      image_ref ? image_ref : (img->ref ? img->ref : ""), "config", cd);
	if (!o)
		return -ENOMEM;
	s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}
