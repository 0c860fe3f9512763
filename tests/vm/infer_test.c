// SPDX-License-Identifier: GPL-2.0-only
/*
 * Confidential inference inside the pod VM (issue 11): Debian's kernel under
 * QEMU with a swtpm vTPM boots scripts/pod-initrd --inference. veil-init
 * measures the model user's encrypted OCI image into PCR 23, attests with tpm
 * evidence to veil-kbs on host loopback (TLS through QEMU's guestfwd), gets
 * the FHE secret key and the image key, unpacks the image with the latter,
 * starts veil-decryptd with the former, and runs the container: veil-infer
 * over the first N t10k images with fc2 sealed, one line per image on the
 * console. The host runs the plaintext model over the same images and the two
 * must agree. The host side is tests/vm/infer-boot (scripts/pod-infer.sh).
 */
#include "tests/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fhe/idx.h"
#include "fhe/mlp.h"
#include "lib/json.h"
#include "tests/launcher/util.h"
#include "tests/model/common.h"

/*
 * The encrypted model-user image: veil-infer and libc, ~4 MB. A sanitizer
 * build ships an instrumented veil-infer plus libasan/libubsan (~9 MB).
 */
#if defined(__SANITIZE_ADDRESS__)
#define LEAN_IMAGE_MAX (24L << 20)
#else
#define LEAN_IMAGE_MAX (8L << 20)
#endif

#define IMAGES 500	/* ~4.5 images/s under TCG on a loaded machine: ~2 minutes */

static bool has(const char *out, const char *s)
{
	if (out && strstr(out, s))
		return true;
	TH_LOG("output lacks '%s'", s);
	return false;
}

/* What scripts/pod-initrd --inference needs. */
static void need_pod_initrd(void)
{
	if (geteuid() != 0)
		SKIP("needs root (swtpm state, initrd ownership)");
	if (system("command -v skopeo >/dev/null") != 0)
		SKIP("skopeo is not installed");
	if (!lt_have_busybox())
		SKIP("busybox-static is not installed");
}

static void need_vm(void)
{
	need_pod_initrd();
	if (access("/usr/bin/qemu-system-x86_64", X_OK) != 0)
		SKIP("qemu-system-x86_64 is not installed");
	if (access("/usr/bin/swtpm", X_OK) != 0 || access("/usr/bin/tpm2_createprimary", X_OK) != 0)
		SKIP("swtpm or tpm2-tools is not installed");
}

/* Runs tests/vm/infer-boot [--tamper] into O/vm/NAME; its output, or SKIP when no guest can boot. */
static char *infer_boot(const char *name, bool tamper, int *st)
{
	const char *model = model_test_path();
	char *out = lt_sh(st, "VEIL_MODEL='%s' VEIL_SRCDIR='%s' VEIL_BUILDDIR='%s' "
			      "'%s/tests/vm/infer-boot' %s --images %d '%s/vm/%s' 2>&1",
			  model, harness_srcdir(), harness_builddir(), harness_srcdir(),
			  tamper ? "--tamper" : "", IMAGES, harness_builddir(), name);

	if (out) {
		char path[512];

		snprintf(path, sizeof(path), "%s/vm/%s.out", harness_builddir(), name);
		(void)lt_write(path, out);
		TH_LOG("infer-boot's output: %s", path);
	}
	if (out && *st == 6) {
		TH_LOG("%s", out);
		free(out);
		SKIP("the inference pod VM could not be set up here (see the log above)");
	}
	return out;
}

/* The plaintext model's class for each of the first n t10k images; how many are right. */
static unsigned int plaintext_classes(unsigned int n, unsigned int *cls)
{
	struct fhe_mlp *m = NULL;
	struct fhe_mnist set = { 0 };
	struct vjson_err e;
	unsigned int ok = 0;
	float logits[16], *scratch;

	ASSERT_EQ(0, fhe_mlp_load(model_test_path(), &m, &e));
	ASSERT_EQ(0, fhe_mnist_load(NULL, "t10k", &set, &e));
	ASSERT_GE(set.n, n);
	scratch = malloc(3 * m->width_max * sizeof(float));
	ASSERT_NONNULL(scratch);
	for (unsigned int i = 0; i < n; i++) {
		cls[i] = (unsigned int)fhe_mlp_predict(m, set.pixels + (size_t)i * m->input, logits, scratch);
		ok += cls[i] == set.labels[i];
	}
	free(scratch);
	fhe_mnist_done(&set);
	fhe_mlp_free(m);
	return ok;
}

TEST_TIMEOUT(inference_pod_vm_gets_its_keys_under_policy_and_infers_as_the_plaintext_model_does, 900)
{
	static unsigned int plain[IMAGES];
	unsigned int ok_plain, seen = 0, agree = 0, done = 0, right = 0;
	char *out, *p, *pcr, *again, want[160];
	int st;

	need_vm();
	ok_plain = plaintext_classes(IMAGES, plain);
	out = infer_boot("infer", false, &st);
	ASSERT_NONNULL(out);
	if (st != 0)
		TH_LOG("infer-boot exited %d", st);
	EXPECT_EQ(0, st);
	/* stage 1 → LSM → measure → attest (tpm) → keys */
	EXPECT_TRUE(has(out, "veil-init: veil-init starting as PID 1"));
	EXPECT_TRUE(has(out, "veil-init: BPF LSM policy loaded and attached"));
	EXPECT_TRUE(has(out, "measurements go to TPM PCR 23"));
	EXPECT_TRUE(has(out, "image '/pod/images/model-user' manifest sha256:"));
	EXPECT_TRUE(has(out, "1 layer(s), encrypted"));
	EXPECT_TRUE(has(out, "attesting to 'https://10.0.2.100:8080' with TEE 'tpm'"));
	EXPECT_NULL(strstr(out, "degraded"));
	/* The KBS released both keys, under the rule naming this pod's PCR 23 and initdata. */
	EXPECT_TRUE(has(out, "# kbs: veil-kbs: Released 'default/fhe/fashion'"));
	EXPECT_TRUE(has(out, "# kbs: veil-kbs: Released 'default/pod/image-key'"));
	EXPECT_NULL(strstr(out, "denied: the measured inference pod VM"));
	/* PCR 23 of that policy is what `veil measure --pcr` says over the staged pod. */
	pcr = lt_sh(NULL, "sed -n 's/^# infer-boot: PCR23=//p' '%s/vm/infer.out' | tr -d '\\n'",
		    harness_builddir());
	again = lt_sh(NULL, "'%1$s/veil' measure --pcr --root '%1$s/vm/infer/vm/stage' "
			    "'%1$s/vm/infer/vm/manifest.json' | tr -d '\\n'", harness_builddir());
	ASSERT_NONNULL(pcr);
	ASSERT_NONNULL(again);
	EXPECT_EQ(64, (int)strlen(pcr));
	EXPECT_STREQ(pcr, again);
	free(pcr);
	free(again);
	/* → the image unpacked with the released key → veil-decryptd → the container */
	EXPECT_TRUE(has(out, "container 'model-user': image unpacked into"));
	EXPECT_TRUE(has(out, "revoked 1 image key(s) after unpacking"));
	EXPECT_TRUE(has(out, "veil-init: veil-decryptd listens: 1 model(s), key 'default/fhe/fashion'"));
	EXPECT_TRUE(has(out, "container 'model-user' may decrypt"));
	/* Every image's class from the VM against the plaintext model's. */
	for (p = out; (p = strstr(p, "veil-init: model-user: image ")); p++) {
		unsigned int i, c, l;

		/* Each line twice: as veil-init wrote it ("# | ") and from /dev/kmsg ("] "). */
		if (p - out < 2 || p[-2] != '|' ||
		    sscanf(p, "veil-init: model-user: image %u: class %u (label %u)", &i, &c, &l) != 3 ||
		    i >= IMAGES)
			continue;
		seen++;
		agree += c == plain[i];
	}
	TH_LOG("plaintext: %u/%d right; the VM's classes agree with it on %u of %u images", ok_plain,
	       IMAGES, agree, seen);
	EXPECT_EQ(IMAGES, (int)seen);
	EXPECT_GE(agree * 100, seen * 99);	/* CKKS noise may flip a near tie, not more */
	p = strstr(out, " images: model user ");
	ASSERT_NONNULL(p);
	p = strstr(p, "accuracy ");
	ASSERT_NONNULL(p);
	ASSERT_EQ(2, sscanf(p, "accuracy %*[0-9.]%% (%u/%u)", &right, &done));
	EXPECT_EQ(IMAGES, (int)done);
	snprintf(want, sizeof(want), "accuracy %.2f%% (%u/%d)", 100.0 * ok_plain / IMAGES, ok_plain, IMAGES);
	EXPECT_TRUE(has(out, want));
	EXPECT_EQ(ok_plain, right);
	EXPECT_TRUE(has(out, "container 'model-user' (pid"));
	EXPECT_TRUE(has(out, "revoked 2 key(s)"));
	EXPECT_TRUE(has(out, "pod finished with status 0"));
	EXPECT_TRUE(has(out, "veil-init: powering off"));
	EXPECT_NULL(strstr(out, "emergency"));
	free(out);
}

/*
 * scripts/pod-initrd --inference into O/vm/infer-repro/NAME, the image key
 * PUB, the encrypted-image cache O/vm/infer-repro/cache; the initrd's sha256.
 */
static char *repro_build(const char *name, const char *pub)
{
	char *sha, *log;
	int st;

	sha = lt_sh(&st, "cd '%1$s/vm/infer-repro' && VEIL_IMAGE_CACHE=\"$PWD/cache\" "
			 "VEIL_SRCDIR='%2$s' VEIL_BUILDDIR='%1$s' '%2$s/scripts/pod-initrd' "
			 "--kbs-ca ca.pem --inference model.sealed --image-key %3$s --images 100 %4$s "
			 ">%4$s.log 2>&1 && sha256sum %4$s/pod-initrd.cpio | cut -c1-64 | tr -d '\\n'",
		    harness_builddir(), harness_srcdir(), pub, name);
	if (st != 0) {
		log = lt_sh(NULL, "cat '%s/vm/infer-repro/%s.log'", harness_builddir(), name);
		TH_LOG("pod-initrd %s: %s", name, log ? log : "?");
		free(log);
	}
	return sha;
}

static char *repro_env(const char *name, const char *var)
{
	return lt_sh(NULL, "sed -n 's/^%s=//p' '%s/vm/infer-repro/%s/pod.env' | tr -d '\\n'", var,
		     harness_builddir(), name);
}

TEST_TIMEOUT(inference_initrd_rebuilds_to_the_same_bytes_while_each_new_image_or_key_gets_a_fresh_layer_key, 300)
{
	char *a, *b, *cold, *other, *other2, *pa, *pb, *info;
	int st;

	need_pod_initrd();
	free(lt_sh(&st, "'%s/tests/vm/kernel' 6.1 '%s/vm/kernel/6.1' >/dev/null 2>&1", harness_srcdir(),
		   harness_builddir()));
	if (st != 0)
		SKIP("Debian's 6.1 kernel is not available (scripts/deps)");
	/* Inputs: a KBS CA, two image keys, a sealed model. */
	free(lt_sh(&st, "W='%1$s/vm/infer-repro' && rm -rf \"$W\" && mkdir -p \"$W\" && cd \"$W\" && "
			"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
			"-keyout ca.key -out ca.pem -subj /CN=repro >/dev/null 2>&1 && "
			"for k in 1 2; do openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
			"-out image$k.key 2>/dev/null && openssl pkey -in image$k.key -pubout -out image$k.pub "
			"|| exit 1; done && '%1$s/veil' keygen -s fhe.sk -p fhe.pk >/dev/null && "
			"'%1$s/veil' seal '%2$s' --layers fc2 --pk fhe.pk --key-uri kbs:///default/fhe/fashion "
			"-o model.sealed >/dev/null",
		   harness_builddir(), model_test_path()));
	ASSERT_EQ(0, st);

	/* Same inputs, twice: the second encryption is the cached first, byte for byte. */
	a = repro_build("a", "image1.pub");
	b = repro_build("b", "image1.pub");
	ASSERT_NONNULL(a);
	ASSERT_NONNULL(b);
	ASSERT_EQ(64, (int)strlen(a));
	EXPECT_STREQ(a, b);
	pa = repro_env("a", "PCR23");
	pb = repro_env("b", "PCR23");
	ASSERT_NONNULL(pa);
	ASSERT_NONNULL(pb);
	EXPECT_EQ(64, (int)strlen(pa));
	EXPECT_STREQ(pa, pb);
	/* The staged image is encrypted and lean: veil-infer, not veil's library closure. */
	info = lt_sh(NULL, "cd '%1$s/vm/infer-repro/a' && '%1$s/veil' image inspect "
			   "stage/pod/images/model-user --ref v1 | tr -d ' \\n' && "
			   "echo && du -sb stage/pod/images/model-user | cut -f1 | tr -d '\\n'",
		     harness_builddir());
	ASSERT_NONNULL(info);
	EXPECT_TRUE(has(info, "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd+encrypted\""));
	EXPECT_TRUE(has(info, "\"Entrypoint\":[\"/usr/bin/veil-infer\"]"));
	EXPECT_LT(strtol(strchr(info, '\n') ? strchr(info, '\n') + 1 : "0", NULL, 10), LEAN_IMAGE_MAX);
	TH_LOG("initrd sha256 %.16s…, PCR 23 %.16s…; the encrypted image: %s bytes", a, pa,
	       strchr(info, '\n') ? strchr(info, '\n') + 1 : "?");

	/* An empty cache: skopeo draws a new layer key, so new bytes (and a new PCR 23). */
	free(lt_sh(NULL, "rm -rf '%s/vm/infer-repro/cache'", harness_builddir()));
	cold = repro_build("cold", "image1.pub");
	ASSERT_NONNULL(cold);
	EXPECT_EQ(64, (int)strlen(cold));
	EXPECT_STRNE(a, cold);
	/* Another image key misses the cache too; once encrypted to it, it rebuilds the same. */
	other = repro_build("other", "image2.pub");
	other2 = repro_build("other2", "image2.pub");
	ASSERT_NONNULL(other);
	ASSERT_NONNULL(other2);
	EXPECT_EQ(64, (int)strlen(other));
	EXPECT_STRNE(cold, other);
	EXPECT_STREQ(other, other2);
	free(lt_sh(NULL, "rm -rf '%s/vm/infer-repro'", harness_builddir()));
	free(a);
	free(b);
	free(cold);
	free(other);
	free(other2);
	free(pa);
	free(pb);
	free(info);
}

TEST_TIMEOUT(inference_pod_vm_whose_container_changed_by_one_byte_gets_no_key_and_infers_nothing, 600)
{
	char *out;
	int st;

	need_vm();
	out = infer_boot("infer-tampered", true, &st);
	ASSERT_NONNULL(out);
	if (st != 0)
		TH_LOG("infer-boot --tamper exited %d", st);
	EXPECT_EQ(0, st);	/* a clean power-off, not a panic or a hang */
	EXPECT_TRUE(has(out, "changed one byte of container 'model-user'"));
	EXPECT_TRUE(has(out, "denied: the measured inference pod VM: claim 'tpm.pcr23' does not satisfy the rule"));
	EXPECT_NULL(strstr(out, "Released"));
	EXPECT_TRUE(has(out, "veil-init: attestation failed: resource "));
	EXPECT_TRUE(has(out, "veil-init: emergency: Attestation failed: no container starts"));
	EXPECT_TRUE(has(out, "veil-init: emergency: powering off"));
	EXPECT_NULL(strstr(out, "is key "));
	EXPECT_NULL(strstr(out, "image unpacked"));
	EXPECT_NULL(strstr(out, "veil-decryptd started"));
	EXPECT_NULL(strstr(out, " images: model user "));
	free(out);
}
