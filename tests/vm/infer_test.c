// SPDX-License-Identifier: GPL-2.0-only
/*
 * Confidential inference inside the pod VM (issue 11): Debian's kernel under
 * QEMU with a swtpm vTPM boots scripts/pod-initrd --inference. veil-init
 * measures the model user's encrypted OCI image into PCR 23, attests with tpm
 * evidence to veil-kbs on host loopback (TLS through QEMU's guestfwd), gets
 * the FHE secret key and the image key, unpacks the image with the one,
 * starts veil-decryptd with the other, and runs the container: `veil infer`
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

#define IMAGES 500	/* ~4.5 images/s under TCG on a loaded machine: ~2 minutes */

static bool has(const char *out, const char *s)
{
	if (out && strstr(out, s))
		return true;
	TH_LOG("output lacks '%s'", s);
	return false;
}

static void need_vm(void)
{
	if (geteuid() != 0)
		SKIP("needs root (swtpm state, initrd ownership)");
	if (access("/usr/bin/qemu-system-x86_64", X_OK) != 0)
		SKIP("qemu-system-x86_64 is not installed");
	if (access("/usr/bin/swtpm", X_OK) != 0 || access("/usr/bin/tpm2_createprimary", X_OK) != 0)
		SKIP("swtpm or tpm2-tools is not installed");
	if (system("command -v skopeo >/dev/null") != 0)
		SKIP("skopeo is not installed");
	if (!lt_have_busybox())
		SKIP("busybox-static is not installed");
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
