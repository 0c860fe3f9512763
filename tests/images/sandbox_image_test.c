// SPDX-License-Identifier: GPL-2.0-only
/*
 * Encrypted images in veil-init, end to end and natively: a busybox image
 * built by `veil image build`, encrypted by Debian's skopeo to an RSA key
 * whose private half is a resource of a real veil-kbs (HTTPS). veil-init
 * --sandbox measures the pod into a private swtpm (the image by its manifest
 * digest), attests, gets the private key into its keyring, decrypts and
 * unpacks the image into a tmpfs bundle and runs it. The KBS's policy pins
 * PCR 23 to `veil measure --pcr`. A withheld or wrong key, or a flipped
 * byte in the layer, and the container does not run and no plaintext is
 * left anywhere.
 */
#include "tests/harness.h"

#include <sys/random.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "attest/evidence.h"
#include "lib/base64.h"
#include "lib/fd.h"
#include "tests/images/testutil.h"
#include "tests/kbs/kbs_proc.h"
#include "tests/launcher/util.h"
#include "tests/swtpm.h"

/* Random per run: found in a file only if a run left plaintext there. */
static char marker[7 + 32 + 1];

static void make_marker(void)
{
	uint8_t raw[16];

	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		harness_fail(__FILE__, __LINE__, true, "getrandom: %s", strerror(errno));
	snprintf(marker, sizeof(marker), "secret-");
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(marker + 7 + 2 * i, 3, "%02x", raw[i]);
}

FIXTURE(pod) {
	struct kbs_proc kbs;
	struct test_swtpm sw;
	char dir[64], trust[128];
};

static void sh_ok(const char *cmd)
{
	char *out;
	int st;

	out = lt_sh(&st, "%s 2>&1", cmd);
	if (st != 0)
		harness_fail(__FILE__, __LINE__, true, "'%s' failed: %s", cmd, out ? out : "");
	free(out);
}

/* The model owner: a busybox image whose entrypoint prints the marker file, encrypted by skopeo. */
static void build_image(const char *dir)
{
	char rootfs[128], cmd[1024];

	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
	snprintf(cmd, sizeof(cmd), "set -e; mkdir -p %1$s/bin %1$s/etc; cp /bin/busybox %1$s/bin/busybox; "
		 "ln -s busybox %1$s/bin/sh; ln -s busybox %1$s/bin/cat", rootfs);
	sh_ok(cmd);
	snprintf(cmd, sizeof(cmd), "%s/etc/marker", rootfs);
	ASSERT_EQ(0, lt_write(cmd, marker));
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd %s; %s image build rootfs -o plain --ref v1 --entrypoint /bin/sh "
		 "--cmd -c --cmd 'echo image-says-$(cat /etc/marker)' >/dev/null; "
		 "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out priv.pem 2>/dev/null; "
		 "openssl pkey -in priv.pem -pubout -out pub.pem; "
		 "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out wrong.pem 2>/dev/null; "
		 "skopeo copy -q --encryption-key jwe:pub.pem oci:plain:v1 oci:enc:v1; "
		 "cp -a plain coco; rm -rf plain rootfs pub.pem", dir, lt_prog("veil"));
	sh_ok(cmd);
}

FIXTURE_SETUP(pod)
{
	char extra[300], cmd[300];

	if (!lt_have_busybox())
		SKIP("busybox-static is not installed");
	if (system("command -v skopeo >/dev/null") != 0)
		SKIP("skopeo is not installed");
	make_marker();
	ASSERT_EQ(0, lt_tmpdir(self->dir));
	snprintf(self->trust, sizeof(self->trust), "%s/trust", self->dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/tpm/ak", self->trust);
	ASSERT_EQ(0, system(cmd));
	build_image(self->dir);
	ASSERT_EQ(0, test_swtpm_start(&self->sw));
	ASSERT_EQ(0, test_swtpm_trust_ak(&self->sw, self->trust));
	snprintf(extra, sizeof(extra), "\"trust_dir\":\"%s\"", self->trust);
	ASSERT_EQ(0, kbs_proc_start(&self->kbs, extra, false));
}

FIXTURE_TEARDOWN(pod)
{
	kbs_proc_stop(&self->kbs);
	test_swtpm_stop(&self->sw);
	if (self->dir[0])
		lt_rm_rf(self->dir);
}

/* The KBS holds `key` (a file under dir) as veil/image/key. */
static void put_key(struct _fixture_pod *self, const char *key)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", self->dir, key);
	ASSERT_EQ(0, kbs_proc_admin(&self->kbs, "put-resource veil/image/key %s", path));
}

/* extra: more members of the image object (the manifest's overrides), "" for none */
static void write_manifest_with(struct _fixture_pod *self, const char *extra)
{
	ASSERT_EQ(0, lt_manifest(self->dir,
		"{\"version\":1,\"containers\":["
		"{\"name\":\"app\",\"image\":{\"layout\":\"%s/enc\",\"ref\":\"v1\","
		"\"keys\":[\"layer-key\"]%s}}],"
		"\"kbs\":{\"url\":\"%s\",\"ca\":\"%s\",\"tee\":\"tpm\",\"deadline_ms\":3000,"
		"\"resources\":[{\"name\":\"layer-key\",\"uri\":\"kbs:///veil/image/key\"}]},"
		"\"policy\":{\"lsm\":\"degraded-allowed\"},\"shutdown\":\"last-exit\"}",
		self->dir, extra, self->kbs.base, self->kbs.cacert));
}

static void write_manifest(struct _fixture_pod *self)
{
	write_manifest_with(self, "");
}

/* The owner's policy: tpm only, PCR 23 = what `veil measure --pcr` says (or pcr if given). */
static void pin_pcr23(struct _fixture_pod *self, const char *pcr_override)
{
	char policy[1024], path[160], *pcr;
	int st;

	pcr = lt_sh(&st, "%s measure --pcr --degraded %s/manifest.json", lt_prog("veil"), self->dir);
	ASSERT_EQ(0, st);
	ASSERT_NONNULL(pcr);
	ASSERT_GE(strlen(pcr), 64);
	snprintf(policy, sizeof(policy),
		 "{\"version\":1,\"rules\":[{\"name\":\"measured pod\",\"resources\":[\"veil/image/*\"],"
		 "\"tee\":[\"tpm\"],\"claims\":{\"tpm.pcr23\":\"%.64s\"}}]}",
		 pcr_override ? pcr_override : pcr);
	free(pcr);
	snprintf(path, sizeof(path), "%s/policy.json", self->dir);
	ASSERT_EQ(0, lt_write(path, policy));
	ASSERT_EQ(0, kbs_proc_admin(&self->kbs, "set-policy %s", path));
}

static int boot(struct lt_run *r, struct _fixture_pod *self)
{
	const char *extra[] = { "--tpm", self->sw.tcti, NULL };

	return lt_sandbox(r, self->dir, 120, extra);
}

/* No file in /tmp, /run or /var/tmp holds the image's plaintext marker. */
static void assert_no_plaintext_left(void)
{
	char *out;
	int st;

	out = lt_sh(&st, "grep -rlsF '%s' /tmp /run /var/tmp 2>/dev/null | head -5", marker);
	ASSERT_NONNULL(out);
	EXPECT_STREQ("", out);
	free(out);
	out = lt_sh(&st, "ls -A /run/veil/images 2>/dev/null");
	ASSERT_NONNULL(out);
	EXPECT_STREQ("", out);
	free(out);
}

TEST_F_TIMEOUT(pod, encrypted_image_runs_after_attestation_releases_its_key, 180)
{
	char want[100];
	struct lt_run r;

	put_key(self, "priv.pem");
	write_manifest(self);
	pin_pcr23(self, NULL);
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_EQ(0, r.status);
	snprintf(want, sizeof(want), "app: image-says-%s", marker);
	EXPECT_NONNULL(strstr(r.out, want));
	EXPECT_NONNULL(strstr(r.out, "image unpacked into"));
	EXPECT_NONNULL(strstr(r.out, "by a confined unpacker"));
	/*
	 * Listed in the isolation event before attestation (the KBS replayed it
	 * against PCR 23 as `veil measure --pcr` predicted), with the filter it
	 * was then checked to run under.
	 */
	EXPECT_NONNULL(strstr(r.out, "recorded the isolation policy"));
	EXPECT_NONNULL(strstr(r.out, "\"name\":\"app\",\"raw_sockets\":false,\"seccomp\":\"sha256:"));
	EXPECT_NULL(strstr(r.out, "not the one the isolation event recorded"));
	/* The private key served its purpose: revoked at once, not at shutdown. */
	EXPECT_NONNULL(strstr(r.out, "revoked 1 image key(s) after unpacking"));
	EXPECT_NULL(strstr(r.out, "BEGIN PRIVATE KEY"));
	lt_run_done(&r);
	assert_no_plaintext_left();
}

TEST_F_TIMEOUT(pod, withheld_key_fails_closed_and_nothing_is_unpacked, 180)
{
	struct lt_run r;

	put_key(self, "priv.pem");
	write_manifest(self);
	/* A policy for some other pod: the KBS keeps the key. */
	pin_pcr23(self, "0000000000000000000000000000000000000000000000000000000000000000");
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_NE(0, r.status);
	EXPECT_NONNULL(strstr(r.out, "Attestation failed: no container starts"));
	EXPECT_NULL(strstr(r.out, "image unpacked into"));
	EXPECT_NULL(strstr(r.out, "image-says-"));
	lt_run_done(&r);
	assert_no_plaintext_left();
}

TEST_F_TIMEOUT(pod, wrong_key_refuses_the_container_and_leaves_no_plaintext, 180)
{
	struct lt_run r;

	put_key(self, "wrong.pem");
	write_manifest(self);
	pin_pcr23(self, NULL);
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_EQ(1, r.status);
	EXPECT_NONNULL(strstr(r.out, "container 'app' refused: image"));
	EXPECT_NONNULL(strstr(r.out, "is encrypted"));
	EXPECT_NULL(strstr(r.out, "image-says-"));
	lt_run_done(&r);
	assert_no_plaintext_left();
}

TEST_F_TIMEOUT(pod, flipped_byte_in_the_encrypted_layer_is_refused, 180)
{
	struct lt_run r;
	char *out;
	int st;

	put_key(self, "priv.pem");
	write_manifest(self);
	pin_pcr23(self, NULL);
	/* After the owner's policy: one byte of the largest blob (the layer), in place. */
	out = lt_sh(&st, "cd %s/enc/blobs/sha256 && f=$(ls -S | head -1) && "
			 "printf '\\x55' | dd of=$f bs=1 seek=1000 conv=notrunc status=none && echo $f",
		    self->dir);
	ASSERT_EQ(0, st);
	free(out);
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_EQ(1, r.status);
	EXPECT_NONNULL(strstr(r.out, "container 'app' refused: image"));
	EXPECT_NONNULL(strstr(r.out, "does not match its digest"));
	EXPECT_NULL(strstr(r.out, "image-says-"));
	lt_run_done(&r);
	assert_no_plaintext_left();
}

/* A tampered image with every digest rewritten is another image: its own measurement, no key. */
TEST_F_TIMEOUT(pod, image_changed_after_the_policy_gets_no_key, 180)
{
	struct lt_run r;
	char *out;
	int st;

	put_key(self, "priv.pem");
	write_manifest(self);
	pin_pcr23(self, NULL);
	/* Another image under the same ref: re-encrypted with the owner's key, different content. */
	out = lt_sh(&st, "set -e; cd %s; mkdir -p r2/bin; cp /bin/busybox r2/bin/busybox; "
			 "ln -s busybox r2/bin/sh; %s image build r2 -o plain2 --ref v1 "
			 "--entrypoint /bin/sh --cmd -c --cmd 'echo image-says-evil' >/dev/null; "
			 "openssl pkey -in priv.pem -pubout -out pub.pem; rm -rf enc; "
			 "skopeo copy -q --encryption-key jwe:pub.pem oci:plain2:v1 oci:enc:v1 2>&1",
		    self->dir, lt_prog("veil"));
	ASSERT_EQ(0, st);
	free(out);
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_NE(0, r.status);
	EXPECT_NONNULL(strstr(r.out, "Attestation failed: no container starts"));
	EXPECT_NULL(strstr(r.out, "image-says-"));
	lt_run_done(&r);
}

/*
 * CoCo's way: the layer key sealed under a KEK that is a KBS resource the
 * annotation packet names. The manifest names no resource at all: veil-init
 * learns the kbs:// URI from the (measured) image and fetches it with the
 * attestation.
 */
TEST_F_TIMEOUT(pod, coco_packet_image_runs_with_the_kek_its_packet_names, 180)
{
	char layout[128], path[160], want[100];
	uint8_t kek[32];
	struct lt_run r;

	snprintf(layout, sizeof(layout), "%s/coco", self->dir);
	ASSERT_EQ(1, RAND_bytes(kek, sizeof(kek)));
	ASSERT_EQ(0, it_coco_encrypt(layout, kek, "kbs:///veil/image/kek"));
	snprintf(path, sizeof(path), "%s/kek", self->dir);
	ASSERT_EQ(0, fd_write_file_atomic(path, kek, sizeof(kek), 0600));
	ASSERT_EQ(0, kbs_proc_admin(&self->kbs, "put-resource veil/image/kek %s", path));
	unlink(path);
	explicit_bzero(kek, sizeof(kek));
	ASSERT_EQ(0, lt_manifest(self->dir,
		"{\"version\":1,\"containers\":["
		"{\"name\":\"app\",\"image\":{\"layout\":\"%s\",\"ref\":\"v1\"}}],"
		"\"kbs\":{\"url\":\"%s\",\"ca\":\"%s\",\"tee\":\"tpm\",\"deadline_ms\":3000},"
		"\"policy\":{\"lsm\":\"degraded-allowed\"},\"shutdown\":\"last-exit\"}",
		layout, self->kbs.base, self->kbs.cacert));
	pin_pcr23(self, NULL);
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_EQ(0, r.status);
	EXPECT_NONNULL(strstr(r.out, "its image needs the KBS resource 'kbs:///veil/image/kek'"));
	snprintf(want, sizeof(want), "app: image-says-%s", marker);
	EXPECT_NONNULL(strstr(r.out, want));
	EXPECT_NONNULL(strstr(r.out, "revoked 1 image key(s) after unpacking"));
	lt_run_done(&r);
	assert_no_plaintext_left();
}

/* The manifest's overrides replace the image's Cmd, add to its Env, set its WorkingDir and User. */
TEST_F_TIMEOUT(pod, manifest_overrides_replace_the_image_command_env_cwd_and_user, 180)
{
	struct lt_run r;

	put_key(self, "priv.pem");
	write_manifest_with(self, ",\"cmd\":[\"-c\",\"echo override-$GREETING-$(pwd)-$(busybox id -u)\"],"
				  "\"env\":[\"GREETING=hello\"],\"cwd\":\"/etc\",\"user\":\"1000:1000\"");
	pin_pcr23(self, NULL);
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_EQ(0, r.status);
	EXPECT_NONNULL(strstr(r.out, "app: override-hello-/etc-1000"));
	EXPECT_NULL(strstr(r.out, "app: image-says-"));
	lt_run_done(&r);
	/* The overrides are measured: another command, the same policy, and no key. */
	write_manifest_with(self, ",\"cmd\":[\"-c\",\"echo tampered\"],"
				  "\"env\":[\"GREETING=hello\"],\"cwd\":\"/etc\",\"user\":\"1000:1000\"");
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_NE(0, r.status);
	EXPECT_NULL(strstr(r.out, "app: tampered"));
	EXPECT_NULL(strstr(r.out, "image unpacked into"));
	lt_run_done(&r);
	assert_no_plaintext_left();
}
