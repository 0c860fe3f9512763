// SPDX-License-Identifier: GPL-2.0-only
#include "tests/images/testutil.h"

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
#include <sys/sysmacros.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "launcher/ocicrypt.h"
#include "lib/base64.h"
#include "lib/fd.h"

static char scratch[256];

const char *it_scratch(void)
{
	if (!scratch[0]) {
		snprintf(scratch, sizeof(scratch), "/tmp/veil-images-XXXXXX");
		if (!mkdtemp(scratch))
			return NULL;
	}
	return scratch;
}

void it_cleanup(void)
{
	if (scratch[0])
		it_run("rm -rf '%s'", scratch);
	scratch[0] = '\0';
}

int it_run(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	return r == -1 ? -errno : WIFEXITED(r) ? WEXITSTATUS(r) : 128;
}

int it_busybox_rootfs(const char *dir)
{
	return it_run("set -e; mkdir -p '%1$s/bin' '%1$s/etc' '%1$s/home/app';"
		      "cp /bin/busybox '%1$s/bin/busybox'; ln -sf busybox '%1$s/bin/sh';"
		      "ln -sf busybox '%1$s/bin/echo'; ln -sf busybox '%1$s/bin/id';"
		      "printf 'root:x:0:0:root:/root:/bin/sh\\napp:x:1000:1001:app:/home/app:/bin/sh\\n'"
		      " > '%1$s/etc/passwd';"
		      "printf 'root:x:0:\\napp:x:1001:\\nstaff:x:50:\\n' > '%1$s/etc/group'",
		      dir);
}

struct growbuf {
	uint8_t *p;
	size_t len, cap;
};

static la_ssize_t grow(struct archive *a, void *ctx, const void *buf, size_t n)
{
	struct growbuf *g = ctx;

	(void)a;
	if (g->len + n > g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 65536;

		while (cap < g->len + n)
			cap *= 2;
		g->p = realloc(g->p, cap);
		if (!g->p)
			return -1;
		g->cap = cap;
	}
	memcpy(g->p + g->len, buf, n);
	g->len += n;
	return (la_ssize_t)n;
}

int it_tar(const struct tar_ent *ents, size_t n, uint8_t **ret, size_t *ret_len)
{
	struct archive *a = archive_write_new();
	struct growbuf g = { 0 };
	int r = 0;

	archive_write_set_format_pax(a);
	archive_write_set_bytes_per_block(a, 512);
	archive_write_open2(a, &g, NULL, grow, NULL, NULL);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct archive_entry *e = archive_entry_new();
		const struct tar_ent *t = &ents[i];
		unsigned int mode = t->mode;

		archive_entry_set_pathname(e, t->path);
		switch (t->type) {
		case 'd':
			archive_entry_set_mode(e, AE_IFDIR | (mode ? mode : 0755));
			break;
		case 'l':
			archive_entry_set_mode(e, AE_IFLNK | 0777);
			archive_entry_set_symlink(e, t->target);
			break;
		case 'h':
			archive_entry_set_mode(e, AE_IFREG | 0644);
			archive_entry_set_hardlink(e, t->target);
			break;
		case 'c':
			archive_entry_set_mode(e, AE_IFCHR | 0666);
			archive_entry_set_rdev(e, makedev(1, 3));
			break;
		case 'p':
			archive_entry_set_mode(e, AE_IFIFO | 0644);
			break;
		default:
			archive_entry_set_mode(e, AE_IFREG | (mode ? mode : 0644));
			archive_entry_set_size(e, t->target ? (la_int64_t)strlen(t->target) : 0);
			break;
		}
		if (archive_write_header(a, e) != ARCHIVE_OK)
			r = -EIO;
		if (r == 0 && t->type == 'f' && t->target &&
		    archive_write_data(a, t->target, strlen(t->target)) < 0)
			r = -EIO;
		archive_entry_free(e);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		r = -EIO;
	archive_write_free(a);
	if (r < 0) {
		free(g.p);
		return r;
	}
	*ret = g.p;
	*ret_len = g.len;
	return 0;
}

int it_read(const char *path, uint8_t **ret, size_t *ret_len)
{
	return fd_read_file(path, 1u << 30, (char **)ret, ret_len);
}

int it_write(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), r;

	if (fd < 0)
		return -errno;
	r = fd_write_full(fd, p, n);
	close(fd);
	return r;
}

void it_sha256_hex(const void *p, size_t n, char out[65])
{
	uint8_t md[32];

	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static int write_blob(const char *layout, const void *p, size_t n, char digest[72])
{
	char hex[65], path[512];

	it_sha256_hex(p, n, hex);
	snprintf(digest, 72, "sha256:%s", hex);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", layout, hex);
	return it_write(path, p, n);
}

json_t *it_manifest(const char *layout, char ret_digest[72])
{
	char path[512];
	json_t *idx, *m;
	const char *d;

	snprintf(path, sizeof(path), "%s/index.json", layout);
	idx = json_load_file(path, 0, NULL);
	if (!idx)
		return NULL;
	d = json_string_value(json_object_get(json_array_get(json_object_get(idx, "manifests"), 0),
					      "digest"));
	if (!d) {
		json_decref(idx);
		return NULL;
	}
	snprintf(ret_digest, 72, "%s", d);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", layout, d + 7);
	json_decref(idx);
	m = json_load_file(path, JSON_PRESERVE_ORDER, NULL);
	return m;
}

/* Writes m as the new manifest and points the index's entry at it. */
int it_write_manifest(const char *layout, const char *old_digest, json_t *m)
{
	char *s = json_dumps(m, JSON_PRESERVE_ORDER | JSON_COMPACT);
	char path[512], nd[72];
	json_t *idx, *arr, *e;
	size_t i;
	int r;

	if (!s)
		return -ENOMEM;
	r = write_blob(layout, s, strlen(s), nd);
	if (r < 0) {
		free(s);
		return r;
	}
	snprintf(path, sizeof(path), "%s/index.json", layout);
	idx = json_load_file(path, JSON_PRESERVE_ORDER, NULL);
	arr = json_object_get(idx, "manifests");
	json_array_foreach(arr, i, e) {
		if (!strcmp(json_string_value(json_object_get(e, "digest")), old_digest)) {
			json_object_set_new(e, "digest", json_string(nd));
			json_object_set_new(e, "size", json_integer((json_int_t)strlen(s)));
		}
	}
	free(s);
	r = json_dump_file(idx, path, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(idx);
	return r < 0 ? -EIO : 0;
}

int it_replace_blob(const char *layout, const char *old, const void *data, size_t len,
		    char ret_digest[72])
{
	char md[72];
	json_t *m = it_manifest(layout, md), *d;
	size_t i;
	int r;

	if (!m)
		return -EINVAL;
	r = write_blob(layout, data, len, ret_digest);
	if (r < 0)
		goto out;
	d = json_object_get(m, "config");
	if (!strcmp(json_string_value(json_object_get(d, "digest")), old)) {
		json_object_set_new(d, "digest", json_string(ret_digest));
		json_object_set_new(d, "size", json_integer((json_int_t)len));
	}
	json_array_foreach(json_object_get(m, "layers"), i, d) {
		if (!strcmp(json_string_value(json_object_get(d, "digest")), old)) {
			json_object_set_new(d, "digest", json_string(ret_digest));
			json_object_set_new(d, "size", json_integer((json_int_t)len));
		}
	}
	r = it_write_manifest(layout, md, m);
out:
	json_decref(m);
	return r;
}

int it_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Turns the only layer (CoCo: kid names the KEK) of layout into a CoCo annotation-packet layer sealed under kek. */
int it_coco_encrypt(const char *layout, const uint8_t kek[32], const char *kid)
{
	uint8_t sym[32], nonce[16], iv[12], mac[32], tag[16], *plain, *ct, *wrapped;
	char md[72], nd[72], path[600], ldig[72];
	char *s_sym, *s_nonce, *s_iv, *s_mac, *s_wrapped, *popts, *pkt, *s_pkt, *pub, *s_pub;
	size_t len, n;
	int ol = 0, r;
	unsigned int ml = 0;
	EVP_CIPHER_CTX *c;
	json_t *m, *l;

	m = it_manifest(layout, md);
	if (!m)
		return -EINVAL;
	l = json_array_get(json_object_get(m, "layers"), 0);
	snprintf(ldig, sizeof(ldig), "%s", json_string_value(json_object_get(l, "digest")));
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", layout, ldig + 7);
	if (it_read(path, &plain, &len) < 0)
		return -EIO;
	RAND_bytes(sym, 32);
	RAND_bytes(nonce, 16);
	RAND_bytes(iv, 12);
	ct = malloc(len);
	c = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), NULL, sym, nonce);
	EVP_EncryptUpdate(c, ct, &ol, plain, (int)len);
	EVP_CIPHER_CTX_free(c);
	HMAC(EVP_sha256(), sym, 32, ct, len, mac, &ml);

	b64_encode(sym, 32, &s_sym);
	b64_encode(nonce, 16, &s_nonce);
	b64_encode(iv, 12, &s_iv);
	b64_encode(mac, 32, &s_mac);
	if (asprintf(&popts, "{\"symkey\":\"%s\",\"digest\":\"%s\",\"cipheroptions\":{\"nonce\":\"%s\"}}",
		     s_sym, ldig, s_nonce) < 0)
		return -ENOMEM;
	n = strlen(popts);
	wrapped = malloc(n + 16);
	c = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, kek, iv);
	EVP_EncryptUpdate(c, wrapped, &ol, (uint8_t *)popts, (int)n);
	EVP_EncryptFinal_ex(c, wrapped + ol, &ol);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag);
	EVP_CIPHER_CTX_free(c);
	memcpy(wrapped + n, tag, 16);
	b64_encode(wrapped, n + 16, &s_wrapped);
	if (asprintf(&pkt, "{\"kid\":\"%s\",\"wrapped_data\":\"%s\",\"iv\":\"%s\",\"wrap_type\":"
		     "\"A256GCM\"}", kid, s_wrapped, s_iv) < 0 ||
	    asprintf(&pub, "{\"cipher\":\"AES_256_CTR_HMAC_SHA256\",\"hmac\":\"%s\","
		     "\"cipheroptions\":{}}", s_mac) < 0)
		return -ENOMEM;
	b64_encode(pkt, strlen(pkt), &s_pkt);
	b64_encode(pub, strlen(pub), &s_pub);

	r = it_replace_blob(layout, ldig, ct, len, nd);
	json_decref(m);
	m = it_manifest(layout, md);
	l = json_array_get(json_object_get(m, "layers"), 0);
	json_object_set_new(l, "mediaType",
			    json_string("application/vnd.oci.image.layer.v1.tar+gzip+encrypted"));
	json_object_set_new(l, "annotations", json_pack("{s:s, s:s}", OCICRYPT_ANN_COCO, s_pkt,
							OCICRYPT_ANN_PUBOPTS, s_pub));
	if (r == 0)
		r = it_write_manifest(layout, md, m);
	json_decref(m);
	explicit_bzero(sym, sizeof(sym));
	free(plain), free(ct), free(wrapped), free(s_sym), free(s_nonce), free(s_iv), free(s_mac);
	free(popts), free(pkt), free(s_pkt), free(pub), free(s_pub), free(s_wrapped);
	return r;
}
