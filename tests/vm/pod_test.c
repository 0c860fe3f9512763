// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pod VM end to end (issue 11, and issue 8 inside the guest): Debian's
 * kernel under QEMU with a swtpm vTPM boots the pod initrd of
 * scripts/pod-initrd; veil-init as PID 1 measures the containers into PCR 23,
 * attests with tpm evidence to veil-kbs on host loopback over TLS (through
 * QEMU's guestfwd), puts the released key into the guest's keyring, and
 * powers off. The KBS's policy names the PCR 23 that `veil measure --pcr`
 * predicts and the initdata's PCR 8, so a release proves they match. The
 * host side is tests/vm/pod-boot (scripts/pod-vm.sh).
 */
#include "tests/harness.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/launcher/util.h"

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
	if (!lt_have_busybox())
		SKIP("busybox-static is not installed");
}

/* Runs tests/vm/pod-boot [--tamper] into O/vm/NAME; its output, or SKIP when no guest can boot. */
static char *pod_boot(const char *name, bool tamper, int *st)
{
	char *out = lt_sh(st, "VEIL_SRCDIR='%s' VEIL_BUILDDIR='%s' '%s/tests/vm/pod-boot' %s '%s/vm/%s' 2>&1",
			  harness_srcdir(), harness_builddir(), harness_srcdir(),
			  tamper ? "--tamper" : "", harness_builddir(), name);

	if (out) {
		char path[512];

		snprintf(path, sizeof(path), "%s/vm/%s.out", harness_builddir(), name);
		(void)lt_write(path, out);
		TH_LOG("pod-boot's output: %s", path);
	}
	if (out && *st == 6) {
		TH_LOG("%s", out);
		free(out);
		SKIP("the pod VM could not be set up here (see the log above)");
	}
	return out;
}

static char *read_value(const char *env, const char *key)
{
	return lt_sh(NULL, "sed -n 's/^%s=//p' '%s' | tr -d '\\n'", key, env);
}

TEST_TIMEOUT(pod_initrd_of_the_same_inputs_is_byte_identical_and_predicts_pcr23, 300)
{
	char dir[512], env[600], *a, *b, *pcr, *again;
	int st;

	need_vm();
	snprintf(dir, sizeof(dir), "%s/vm/pod-repro", harness_builddir());
	free(lt_sh(NULL, "rm -rf '%s' && mkdir -p '%s' && openssl req -x509 -newkey ec -pkeyopt "
			 "ec_paramgen_curve:P-256 -nodes -days 1 -keyout '%s/ca.key' -out '%s/ca.pem' "
			 "-subj /CN=repro >/dev/null 2>&1", dir, dir, dir, dir));
	for (int i = 0; i < 2; i++) {
		char *o = lt_sh(&st, "VEIL_SRCDIR='%s' VEIL_BUILDDIR='%s' '%s/scripts/pod-initrd' "
				     "--kbs-ca '%s/ca.pem' '%s/%c' 2>&1",
				harness_srcdir(), harness_builddir(), harness_srcdir(), dir, dir, 'a' + i);

		if (st != 0)
			TH_LOG("pod-initrd exited %d:\n%s", st, o ? o : "");
		free(o);
		ASSERT_EQ(0, st);
	}
	a = lt_sh(NULL, "sha256sum < '%s/a/pod-initrd.cpio'", dir);
	b = lt_sh(NULL, "sha256sum < '%s/b/pod-initrd.cpio'", dir);
	ASSERT_NONNULL(a);
	ASSERT_NONNULL(b);
	EXPECT_STREQ(a, b);
	/*
	 * GNU cpio reads it back, with veil-init as /init and the pod's initdata.
	 * (--gzip goes through the zlib path the test bed's byte-identity test covers.)
	 */
	free(lt_sh(&st, "cpio -t --quiet < '%s/a/pod-initrd.cpio' > '%s/a/files' && "
			"grep -qx etc/veil/initdata.toml '%s/a/files' && grep -qx init '%s/a/files' && "
			"grep -qx pod/model-user/rootfs/usr/bin/keyctl '%s/a/files'", dir, dir, dir, dir, dir));
	EXPECT_EQ(0, st);
	snprintf(env, sizeof(env), "%s/a/pod.env", dir);
	pcr = read_value(env, "PCR23");
	again = lt_sh(NULL, "'%s/veil' measure --pcr --root '%s/a/stage' '%s/a/manifest.json' | tr -d '\\n'",
		      harness_builddir(), dir, dir);
	ASSERT_NONNULL(pcr);
	EXPECT_EQ(64, (int)strlen(pcr));
	EXPECT_STREQ(pcr, again);
	free(a);
	free(b);
	free(pcr);
	free(again);
	free(lt_sh(NULL, "rm -rf '%s'", dir));
}

TEST_TIMEOUT(pod_vm_attests_with_its_vtpm_and_only_the_granted_container_reads_the_key, 600)
{
	char *out, *p;
	int st;

	need_vm();
	out = pod_boot("pod", false, &st);
	ASSERT_NONNULL(out);
	if (st != 0)
		TH_LOG("pod-boot exited %d", st);
	EXPECT_EQ(0, st);
	EXPECT_TRUE(has(out, "veil-init: interface 'eth0' up as 10.0.2.15/24"));
	EXPECT_TRUE(has(out, "veil-init: veil-init starting as PID 1"));
	EXPECT_TRUE(has(out, "measurements go to TPM PCR 23"));
	/* The guest kernel has BPF LSM: veil-init loads its policy, and PCR 23 covers it. */
	EXPECT_TRUE(has(out, "veil-init: BPF LSM policy loaded and attached"));
	EXPECT_TRUE(has(out, "veil-init: measured: github.com/veil isolation {\"bpf\":\"sha256:"));
	EXPECT_NULL(strstr(out, "degraded"));
	EXPECT_TRUE(has(out, "attesting to 'https://10.0.2.100:8080' with TEE 'tpm'"));
	/* The KBS released the key under the policy naming `veil measure --pcr`'s PCR 23. */
	EXPECT_TRUE(has(out, "# kbs: veil-kbs: Released 'default/fhe/fashion'"));
	EXPECT_NULL(strstr(out, "denied: the measured pod VM"));
	p = strstr(out, "resource 'fhe-sk' is key ");
	ASSERT_NONNULL(p);
	int serial = atoi(p + strlen("resource 'fhe-sk' is key "));
	char want[96];

	EXPECT_GT(serial, 0);
	snprintf(want, sizeof(want), "model-user: holds key %d, 32 bytes", serial);
	EXPECT_TRUE(has(out, want));
	EXPECT_TRUE(has(out, "hostile: denied: the FHE key is not in its keyring"));
	EXPECT_TRUE(has(out, "hostile: denied: mount"));
	EXPECT_NULL(strstr(out, "STOLE THE KEY"));
	EXPECT_TRUE(has(out, "revoked 1 key(s)"));
	EXPECT_TRUE(has(out, "pod finished with status 0"));
	EXPECT_TRUE(has(out, "veil-init: powering off"));
	EXPECT_NULL(strstr(out, "emergency"));
	free(out);
}

TEST_TIMEOUT(pod_vm_with_one_changed_container_byte_gets_no_key_and_powers_off, 600)
{
	char *out;
	int st;

	need_vm();
	out = pod_boot("pod-tampered", true, &st);
	ASSERT_NONNULL(out);
	if (st != 0)
		TH_LOG("pod-boot --tamper exited %d", st);
	EXPECT_EQ(0, st);	/* a clean power-off, not a panic or a hang */
	EXPECT_TRUE(has(out, "changed one byte of container 'model-user'"));
	EXPECT_TRUE(has(out, "denied: the measured pod VM: claim 'tpm.pcr23' does not satisfy the rule"));
	EXPECT_NULL(strstr(out, "Released"));
	EXPECT_TRUE(has(out, "veil-init: attestation failed: resource 'fhe-sk'"));
	EXPECT_TRUE(has(out, "veil-init: emergency: Attestation failed: no container starts"));
	EXPECT_TRUE(has(out, "veil-init: emergency: powering off"));
	EXPECT_NULL(strstr(out, "is key "));
	EXPECT_NULL(strstr(out, "started as pid"));
	EXPECT_NULL(strstr(out, "holds key"));
	free(out);
}
