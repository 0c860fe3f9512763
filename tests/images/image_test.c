// SPDX-License-Identifier: GPL-2.0-only
/*
 * OCI image layouts end to end: images built from a busybox rootfs,
 * encrypted by Debian's skopeo (ocicrypt JWE) or, CoCo style, with an
 * annotation packet built here with OpenSSL; opened, verified, decrypted,
 * unpacked and run (chroot + exec of the generated runtime config).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "launcher/image.h"
#include "launcher/image_build.h"
#include "launcher/oci.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/secmem.h"
#include "tests/harness.h"
#include "tests/images/testutil.h"

#define KID "kbs:///default/image-kek/v1"

static char S[256];	/* scratch */

static void setup(void)
{
	const char *s = it_scratch();

	if (!s)
		harness_fail(__FILE__, __LINE__, true, "no scratch dir");
	snprintf(S, sizeof(S), "%s", s);
	if (it_busybox_rootfs(strcat(strcpy((char[300]){ 0 }, S), "/src")) != 0)
		harness_fail(__FILE__, __LINE__, true, "cannot make the busybox rootfs");
}

static int build(const char *layout, const char *ref)
{
	static const char *const ep[] = { "/bin/sh", "-c", NULL };
	static const char *const cmd[] = { "echo hello from $GREETING; id -u", NULL };
	static const char *const env[] = { "GREETING=veil", NULL };
	struct image_build_opts o = { .ref = ref, .compression = UNPACK_GZIP, .entrypoint = ep,
				      .cmd = cmd, .env = env, .cwd = "/home/app" };
	struct vjson_err e = { { 0 } };
	char src[300];
	int r;

	snprintf(src, sizeof(src), "%s/src", S);
	r = launcher_image_build(src, layout, &o, NULL, &e);
	if (r < 0)
		TH_LOG("build: %s", e.msg);
	return r;
}

static bool have(const char *tool)
{
	return it_run("command -v %s >/dev/null 2>&1", tool) == 0;
}

/* Opens, unpacks into DIR/rootfs and returns the runtime config; r < 0 on failure. */
static int open_unpack(const char *layout, const char *ref, const struct ocicrypt_keys *keys,
		       const char *bundle, const struct image_overrides *ov, char **ret_cfg,
		       struct vjson_err *e)
{
	struct launcher_image *img = NULL;
	char root[600];
	int fd, r;

	it_run("rm -rf '%s'; mkdir -p '%s/rootfs'", bundle, bundle);
	snprintf(root, sizeof(root), "%s/rootfs", bundle);
	r = launcher_image_open(layout, ref, &img, e);
	if (r < 0)
		return r;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = launcher_image_unpack(img, fd, keys, NULL, NULL, e);
	if (r == 0 && ret_cfg)
		r = launcher_image_runtime_config(img, fd, ov, ret_cfg, e);
	close(fd);
	launcher_image_free(img);
	return r;
}

/* Runs the config's process in bundle/rootfs (chroot, user, cwd, env); returns its stdout. */
static int run(const char *bundle, const char *cfgtext, char *out, size_t outlen)
{
	struct oci_config *c = NULL;
	struct vjson_err e = { { 0 } };
	int p[2], st;
	ssize_t n, total = 0;
	pid_t pid;

	if (launcher_oci_parse(cfgtext, strlen(cfgtext), bundle, &c, &e) < 0) {
		TH_LOG("launcher_oci_parse: %s", e.msg);
		return -EINVAL;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		if (chroot(c->root_path) < 0 || chdir(c->cwd) < 0 || setgid(c->gid) < 0 ||
		    setuid(c->uid) < 0)
			_exit(126);
		execve(c->args[0], c->args, c->env);
		_exit(127);
	}
	close(p[1]);
	while (total < (ssize_t)outlen - 1 && (n = read(p[0], out + total, outlen - 1 - total)) > 0)
		total += n;
	out[total] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	launcher_oci_free(c);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int key_file(const char *path, uint8_t **buf, size_t *len)
{
	return it_read(path, buf, len);
}

TEST(plain_image_builds_unpacks_and_runs)
{
	char layout[300], bundle[300], out[256];
	_cleanup_free_ char *cfg = NULL;
	struct vjson_err e = { { 0 } };

	if (geteuid() != 0)
		SKIP("chroot needs root");
	setup();
	snprintf(layout, sizeof(layout), "%s/plain", S);
	snprintf(bundle, sizeof(bundle), "%s/b", S);
	ASSERT_EQ(0, build(layout, "v1"));
	ASSERT_EQ(0, open_unpack(layout, "v1", NULL, bundle, NULL, &cfg, &e));
	ASSERT_EQ(0, run(bundle, cfg, out, sizeof(out)));
	EXPECT_STREQ("hello from veil\n0\n", out);
	it_cleanup();
}

TEST(build_is_deterministic_and_umoci_reads_it)
{
	char a[300], b[300], da[72], db[72];
	struct image_build_opts o = { .ref = "v1", .compression = UNPACK_GZIP };
	struct vjson_err e = { { 0 } };
	char src[300];

	setup();
	snprintf(src, sizeof(src), "%s/src", S);
	snprintf(a, sizeof(a), "%s/a", S);
	snprintf(b, sizeof(b), "%s/b", S);
	ASSERT_EQ(0, launcher_image_build(src, a, &o, da, &e));
	ASSERT_EQ(0, it_run("touch -d @12345 '%s/bin/busybox'", src));	/* mtimes don't leak */
	ASSERT_EQ(0, launcher_image_build(src, b, &o, db, &e));
	EXPECT_STREQ(da, db);
	if (!have("umoci"))
		SKIP("umoci not installed (scripts/deps installs it)");
	EXPECT_EQ(0, it_run("cd '%s' && umoci unpack --rootless --image a:v1 u >/dev/null 2>&1 && "
			    "test -x u/rootfs/bin/busybox", S));
	it_cleanup();
}

TEST(references_select_by_name_digest_or_both)
{
	char layout[300], d1[72], d2[72], ref[200];
	struct image_build_opts o = { .ref = "one", .compression = UNPACK_ZSTD };
	struct launcher_image *img = NULL;
	struct vjson_err e = { { 0 } };
	char src[300];

	setup();
	snprintf(src, sizeof(src), "%s/src", S);
	snprintf(layout, sizeof(layout), "%s/multi", S);
	ASSERT_EQ(0, launcher_image_build(src, layout, &o, d1, &e));
	o.ref = "two";
	o.compression = UNPACK_NONE;
	ASSERT_EQ(0, launcher_image_build(src, layout, &o, d2, &e));
	ASSERT_STRNE(d1, d2);

	ASSERT_EQ(0, launcher_image_open(layout, "two", &img, &e));
	EXPECT_STREQ(d2, img->manifest_digest);
	EXPECT_EQ(UNPACK_NONE, img->layers[0].comp);
	img = launcher_image_free(img);
	ASSERT_EQ(0, launcher_image_open(layout, d1, &img, &e));
	EXPECT_EQ(UNPACK_ZSTD, img->layers[0].comp);
	img = launcher_image_free(img);
	snprintf(ref, sizeof(ref), "one@%s", d1);
	ASSERT_EQ(0, launcher_image_open(layout, ref, &img, &e));
	img = launcher_image_free(img);
	snprintf(ref, sizeof(ref), "one@%s", d2);	/* pinned digest differs: refuse */
	EXPECT_EQ(-ENOENT, launcher_image_open(layout, ref, &img, &e));
	EXPECT_EQ(-EINVAL, launcher_image_open(layout, NULL, &img, &e));	/* ambiguous */
	EXPECT_EQ(-ENOENT, launcher_image_open(layout, "three", &img, &e));
	EXPECT_EQ(-EINVAL, launcher_image_open(layout, "one@sha256:xyz", &img, &e));
	it_cleanup();
}

TEST(one_flipped_byte_in_any_blob_is_refused)
{
	char layout[300], bundle[300], cmd[700];
	struct vjson_err e = { { 0 } };
	FILE *ls;
	char name[256];
	int n = 0;

	setup();
	snprintf(layout, sizeof(layout), "%s/plain", S);
	snprintf(bundle, sizeof(bundle), "%s/b", S);
	ASSERT_EQ(0, build(layout, "v1"));
	snprintf(cmd, sizeof(cmd), "ls '%s/blobs/sha256'", layout);
	ls = popen(cmd, "r");
	ASSERT_NONNULL(ls);
	while (fgets(name, sizeof(name), ls)) {
		char path[600];
		uint8_t *buf;
		size_t len;

		name[strcspn(name, "\n")] = '\0';
		snprintf(path, sizeof(path), "%s/blobs/sha256/%s", layout, name);
		ASSERT_EQ(0, it_read(path, &buf, &len));
		buf[len / 2] ^= 0x01;
		ASSERT_EQ(0, it_write(path, buf, len));
		EXPECT_EQ(-EBADMSG, open_unpack(layout, "v1", NULL, bundle, NULL, NULL, &e));
		TH_LOG("%s", e.msg);
		EXPECT_NONNULL(strstr(e.msg, "does not match its digest"));
		buf[len / 2] ^= 0x01;
		ASSERT_EQ(0, it_write(path, buf, len));
		free(buf);
		n++;
	}
	pclose(ls);
	EXPECT_EQ(3, n);	/* manifest, config, layer */
	EXPECT_EQ(0, open_unpack(layout, "v1", NULL, bundle, NULL, NULL, &e));
	it_cleanup();
}

FIXTURE(skopeo) {
	char layout[300], bundle[300];
	uint8_t *rsa, *ec, *other;
	size_t rsa_len, ec_len, other_len;
};

FIXTURE_SETUP(skopeo)
{
	char plain[300];

	if (!have("skopeo"))
		SKIP("skopeo not installed (scripts/deps installs it)");
	setup();
	snprintf(plain, sizeof(plain), "%s/plain", S);
	snprintf(self->layout, sizeof(self->layout), "%s/enc", S);
	snprintf(self->bundle, sizeof(self->bundle), "%s/b", S);
	ASSERT_EQ(0, build(plain, "v1"));
	ASSERT_EQ(0, it_run("cd '%s' && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
			    "-out rsa.pem 2>/dev/null && openssl pkey -in rsa.pem -pubout -out "
			    "rsa.pub && openssl genpkey -algorithm EC -pkeyopt "
			    "ec_paramgen_curve:P-256 -out ec.pem && openssl pkey -in ec.pem -pubout "
			    "-out ec.pub && openssl genpkey -algorithm RSA -out other.pem 2>/dev/null"
			    " && skopeo copy -q --encryption-key jwe:rsa.pub --encryption-key "
			    "jwe:ec.pub oci:plain:v1 oci:enc:v1 >/dev/null", S));
	ASSERT_EQ(0, it_run("cd '%s' && openssl pkey -in ec.pem -outform DER -out ec.der", S));
	{
		char p[400];

		snprintf(p, sizeof(p), "%s/rsa.pem", S);
		ASSERT_EQ(0, key_file(p, &self->rsa, &self->rsa_len));
		snprintf(p, sizeof(p), "%s/ec.der", S);
		ASSERT_EQ(0, key_file(p, &self->ec, &self->ec_len));
		snprintf(p, sizeof(p), "%s/other.pem", S);
		ASSERT_EQ(0, key_file(p, &self->other, &self->other_len));
	}
}

FIXTURE_TEARDOWN(skopeo)
{
	free(self->rsa);
	free(self->ec);
	free(self->other);
	it_cleanup();
}

TEST_F(skopeo, encrypted_image_fails_closed_without_the_private_key)
{
	struct ocicrypt_secret wrong = { self->other, self->other_len };
	struct ocicrypt_keys k = { .jwe_keys = &wrong, .n_jwe_keys = 1 };
	struct launcher_image *img = NULL;
	struct vjson_err e = { { 0 } };
	char root[400];

	ASSERT_EQ(0, launcher_image_open(self->layout, "v1", &img, &e));
	EXPECT_TRUE(launcher_image_encrypted(img));
	launcher_image_free(img);
	EXPECT_EQ(-ENOKEY, open_unpack(self->layout, "v1", NULL, self->bundle, NULL, NULL, &e));
	TH_LOG("no key: %s", e.msg);
	EXPECT_NONNULL(strstr(e.msg, "is encrypted"));
	EXPECT_EQ(-ENOKEY, open_unpack(self->layout, "v1", &k, self->bundle, NULL, NULL, &e));
	TH_LOG("wrong key: %s", e.msg);
	snprintf(root, sizeof(root), "%s/rootfs", self->bundle);
	EXPECT_EQ(0, it_count(root));	/* nothing unpacked */
}

TEST_F(skopeo, encrypted_image_runs_once_the_rsa_key_is_released)
{
	struct ocicrypt_secret keys[] = { { self->other, self->other_len },
					  { self->rsa, self->rsa_len } };
	struct ocicrypt_keys k = { .jwe_keys = keys, .n_jwe_keys = 2 };
	_cleanup_free_ char *cfg = NULL;
	struct vjson_err e = { { 0 } };
	char out[256];

	if (geteuid() != 0)
		SKIP("chroot needs root");
	ASSERT_EQ(0, open_unpack(self->layout, "v1", &k, self->bundle, NULL, &cfg, &e));
	ASSERT_EQ(0, run(self->bundle, cfg, out, sizeof(out)));
	EXPECT_STREQ("hello from veil\n0\n", out);
}

TEST_F(skopeo, ec_recipient_opens_with_a_der_ec_key)
{
	struct ocicrypt_secret key = { self->ec, self->ec_len };
	struct ocicrypt_keys k = { .jwe_keys = &key, .n_jwe_keys = 1 };
	struct vjson_err e = { { 0 } };
	char p[400];
	struct stat st;

	ASSERT_EQ(0, open_unpack(self->layout, "v1", &k, self->bundle, NULL, NULL, &e));
	snprintf(p, sizeof(p), "%s/rootfs/bin/busybox", self->bundle);
	EXPECT_EQ(0, stat(p, &st));
}

TEST_F(skopeo, single_recipient_flattened_jwe_opens)
{
	struct ocicrypt_secret key = { self->rsa, self->rsa_len };
	struct ocicrypt_keys k = { .jwe_keys = &key, .n_jwe_keys = 1 };
	struct vjson_err e = { { 0 } };
	char one[300], p[400];
	struct stat st;

	snprintf(one, sizeof(one), "%s/one", S);
	ASSERT_EQ(0, it_run("cd '%s' && skopeo copy -q --encryption-key jwe:rsa.pub oci:plain:v1 "
			    "oci:one:v1 >/dev/null", S));
	ASSERT_EQ(0, open_unpack(one, "v1", &k, self->bundle, NULL, NULL, &e));
	snprintf(p, sizeof(p), "%s/rootfs/bin/busybox", self->bundle);
	EXPECT_EQ(0, stat(p, &st));
}

TEST_F(skopeo, flipped_ciphertext_or_hmac_is_refused_even_with_digests_fixed)
{
	struct ocicrypt_secret key = { self->rsa, self->rsa_len };
	struct ocicrypt_keys k = { .jwe_keys = &key, .n_jwe_keys = 1 };
	struct vjson_err e = { { 0 } };
	char md[72], nd[72], path[600], root[400];
	json_t *m, *l, *ann;
	uint8_t *buf, *po;
	size_t len, pol;
	const char *dg, *pub;
	char *pubs;

	/* 1: a ciphertext byte, with the layer digest, manifest and index rewritten to match */
	m = it_manifest(self->layout, md);
	ASSERT_NONNULL(m);
	l = json_array_get(json_object_get(m, "layers"), 0);
	dg = json_string_value(json_object_get(l, "digest"));
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", self->layout, dg + 7);
	ASSERT_EQ(0, it_read(path, &buf, &len));
	buf[len - 1] ^= 0x80;
	ASSERT_EQ(0, it_replace_blob(self->layout, dg, buf, len, nd));
	EXPECT_EQ(-EBADMSG, open_unpack(self->layout, "v1", &k, self->bundle, NULL, NULL, &e));
	TH_LOG("ciphertext: %s", e.msg);
	EXPECT_NONNULL(strstr(e.msg, "HMAC mismatch"));
	snprintf(root, sizeof(root), "%s/rootfs", self->bundle);
	EXPECT_EQ(0, it_count(root));
	buf[len - 1] ^= 0x80;
	{
		char nd2[72];

		ASSERT_EQ(0, it_replace_blob(self->layout, nd, buf, len, nd2));
	}
	free(buf);
	ASSERT_EQ(0, open_unpack(self->layout, "v1", &k, self->bundle, NULL, NULL, &e));
	json_decref(m);

	/* 2: one bit of the HMAC in the pubopts annotation, manifest and index rewritten */
	m = it_manifest(self->layout, md);
	l = json_array_get(json_object_get(m, "layers"), 0);
	ann = json_object_get(l, "annotations");
	pub = json_string_value(json_object_get(ann, OCICRYPT_ANN_PUBOPTS));
	ASSERT_EQ(0, b64_decode(pub, strlen(pub), &po, &pol));
	{
		char *h = strstr((char *)po, "\"hmac\":\"");

		ASSERT_NONNULL(h);
		h[8] = h[8] == 'A' ? 'B' : 'A';
	}
	ASSERT_GT(b64_encode(po, pol, &pubs), 0);
	json_object_set_new(ann, OCICRYPT_ANN_PUBOPTS, json_string(pubs));
	ASSERT_EQ(0, it_write_manifest(self->layout, md, m));
	EXPECT_EQ(-EBADMSG, open_unpack(self->layout, "v1", &k, self->bundle, NULL, NULL, &e));
	TH_LOG("hmac: %s", e.msg);
	EXPECT_NONNULL(strstr(e.msg, "HMAC mismatch"));
	EXPECT_EQ(0, it_count(root));
	free(po);
	free(pubs);
	json_decref(m);
}

static int coco_encrypt(const char *layout, const uint8_t kek[32])
{
	return it_coco_encrypt(layout, kek, KID);
}

struct fake_kbs {
	const uint8_t *kek;
	unsigned int calls;
};

static int kbs_get(void *ctx, const char *uri, uint8_t **ret, size_t *ret_len)
{
	struct fake_kbs *k = ctx;
	uint8_t *p;

	k->calls++;
	if (strcmp(uri, KID) || !k->kek)
		return -ENOENT;
	p = secmem_alloc(32);
	if (!p)
		return -ENOMEM;
	memcpy(p, k->kek, 32);
	*ret = p;
	*ret_len = 32;
	return 0;
}

TEST(coco_annotation_packet_layer_opens_with_its_kbs_key_only)
{
	uint8_t kek[32], wrong[32];
	struct fake_kbs kbs = { .kek = NULL };
	struct ocicrypt_keys k = { .kbs_get = kbs_get, .kbs_ctx = &kbs };
	struct launcher_image *img = NULL;
	struct vjson_err e = { { 0 } };
	_cleanup_free_ char *cfg = NULL;
	char layout[300], bundle[300], out[256], root[400];
	json_t *uris = NULL;

	setup();
	snprintf(layout, sizeof(layout), "%s/coco", S);
	snprintf(bundle, sizeof(bundle), "%s/b", S);
	snprintf(root, sizeof(root), "%s/rootfs", bundle);
	ASSERT_EQ(0, build(layout, "v1"));
	RAND_bytes(kek, 32);
	memcpy(wrong, kek, 32);
	wrong[0] ^= 1;
	ASSERT_EQ(0, coco_encrypt(layout, kek));

	ASSERT_EQ(0, launcher_image_open(layout, "v1", &img, &e));
	ASSERT_EQ(0, launcher_image_kbs_uris(img, &uris, &e));
	ASSERT_EQ(1u, json_array_size(uris));
	EXPECT_STREQ(KID, json_string_value(json_array_get(uris, 0)));
	json_decref(uris);
	launcher_image_free(img);

	EXPECT_EQ(-ENOKEY, open_unpack(layout, "v1", NULL, bundle, NULL, NULL, &e));
	EXPECT_EQ(-ENOKEY, open_unpack(layout, "v1", &k, bundle, NULL, NULL, &e));
	TH_LOG("not released: %s", e.msg);
	EXPECT_EQ(1u, kbs.calls);
	kbs.kek = wrong;
	EXPECT_EQ(-ENOKEY, open_unpack(layout, "v1", &k, bundle, NULL, NULL, &e));
	TH_LOG("wrong KEK: %s", e.msg);
	EXPECT_EQ(0, it_count(root));
	kbs.kek = kek;
	ASSERT_EQ(0, open_unpack(layout, "v1", &k, bundle, NULL, &cfg, &e));
	if (geteuid() == 0) {
		ASSERT_EQ(0, run(bundle, cfg, out, sizeof(out)));
		EXPECT_STREQ("hello from veil\n0\n", out);
	}
	it_cleanup();
}

TEST(runtime_config_applies_overrides_users_and_secure_defaults)
{
	static const char *const ep[] = { "/bin/id", NULL };
	static const char *const env[] = { "GREETING=override", "NEW=1", NULL };
	struct image_overrides ov = { .entrypoint = ep, .env = env, .user = "app:staff",
				      .cwd = "/tmp" };
	_cleanup_free_ char *cfg = NULL, *cfg2 = NULL, *ev = NULL;
	struct launcher_image *img = NULL;
	struct oci_config *c = NULL;
	struct vjson_err e = { { 0 } };
	char layout[300], bundle[300];
	json_t *j;

	setup();
	snprintf(layout, sizeof(layout), "%s/plain", S);
	snprintf(bundle, sizeof(bundle), "%s/b", S);
	ASSERT_EQ(0, build(layout, "v1"));
	ASSERT_EQ(0, open_unpack(layout, "v1", NULL, bundle, &ov, &cfg, &e));
	ASSERT_EQ(0, launcher_oci_parse(cfg, strlen(cfg), bundle, &c, &e));
	ASSERT_EQ(1u, c->n_args);	/* entrypoint override drops the image's Cmd */
	EXPECT_STREQ("/bin/id", c->args[0]);
	EXPECT_EQ(1000u, c->uid);
	EXPECT_EQ(50u, c->gid);
	EXPECT_STREQ("/tmp", c->cwd);
	EXPECT_TRUE(c->no_new_privs);
	EXPECT_TRUE(c->root_readonly);
	EXPECT_EQ(3u, c->n_env);	/* GREETING replaced, NEW, PATH */
	EXPECT_STREQ("GREETING=override", c->env[0]);
	launcher_oci_free(c);

	j = json_loads(cfg, 0, NULL);
	{
		json_t *caps = json_object_get(json_object_get(json_object_get(j, "process"),
							       "capabilities"), "bounding");
		size_t i;
		json_t *v;

		EXPECT_EQ(9u, json_array_size(caps));	/* no SYS_ADMIN, NET_RAW, MKNOD ... */
		json_array_foreach(caps, i, v)
			EXPECT_STRNE("CAP_SYS_ADMIN", json_string_value(v));
	}
	json_decref(j);

	/* unknown users are an error, numeric ones need no passwd entry */
	ov.user = "nobody-here";
	EXPECT_EQ(-EINVAL, open_unpack(layout, "v1", NULL, bundle, &ov, &cfg2, &e));
	ov.user = "4242";
	ASSERT_EQ(0, open_unpack(layout, "v1", NULL, bundle, &ov, &cfg2, &e));

	ASSERT_EQ(0, launcher_image_open(layout, "v1", &img, &e));
	ASSERT_EQ(0, launcher_image_event(img, "busybox:v1", cfg, strlen(cfg), &ev));
	j = json_loads(ev, 0, NULL);
	EXPECT_STREQ(img->manifest_digest, json_string_value(json_object_get(j, "digest")));
	EXPECT_STREQ("busybox:v1", json_string_value(json_object_get(j, "image")));
	json_decref(j);
	launcher_image_free(img);
	it_cleanup();
}

TEST(veil_measure_prints_the_manifest_digest_and_event)
{
	char layout[300], cmd[800], out[1024] = { 0 }, *nl;
	_cleanup_free_ char *cfg = NULL, *ev = NULL;
	struct launcher_image *img = NULL;
	struct vjson_err e = { { 0 } };
	FILE *p;
	size_t n;

	setup();
	snprintf(layout, sizeof(layout), "%s/plain", S);
	ASSERT_EQ(0, build(layout, "v1"));
	snprintf(cmd, sizeof(cmd), "'%s/veil' measure --ref v1 '%s'", harness_builddir(), layout);
	p = popen(cmd, "r");
	ASSERT_NONNULL(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	ASSERT_EQ(0, pclose(p));
	out[n] = '\0';
	ASSERT_EQ(0, launcher_image_open(layout, "v1", &img, &e));
	ASSERT_EQ(0, launcher_image_runtime_config(img, -1, NULL, &cfg, &e));
	ASSERT_EQ(0, launcher_image_event(img, "v1", cfg, strlen(cfg), &ev));
	nl = strchr(out, '\n');
	ASSERT_NONNULL(nl);
	*nl = '\0';
	EXPECT_STREQ(img->manifest_digest, out);
	nl[1 + strcspn(nl + 1, "\n")] = '\0';
	EXPECT_STREQ(ev, nl + 1);
	launcher_image_free(img);
	it_cleanup();
}
