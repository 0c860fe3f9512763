// SPDX-License-Identifier: GPL-2.0-only
/*
 * Boot-time attestation end to end, natively: veil-init --sandbox measures a
 * pod into a private swtpm, attests to a real veil-kbs over HTTPS, puts the
 * released key into the kernel keyring and starts the containers. The KBS's
 * policy pins PCR 23 to `veil measure --pcr`: one changed byte in a container
 * and no key is released, no container starts. Every fault fails closed.
 */
#include "tests/harness.h"

#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attest/evidence.h"
#include "lib/base64.h"
#include "lib/fd.h"
#include "tests/kbs/kbs_proc.h"
#include "tests/launcher/util.h"
#include "tests/swtpm.h"

/*
 * The resource: random per run, so that the scan for leftover copies cannot
 * find it anywhere it was not put by this run (this source file included).
 */
static char model_key[9 + 32 + 1];	/* "fhe-seed:" + 32 hex digits */

static void make_key(void)
{
	uint8_t raw[16];

	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		harness_fail(__FILE__, __LINE__, true, "getrandom: %s", strerror(errno));
	snprintf(model_key, sizeof(model_key), "fhe-seed:");
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(model_key + 9 + 2 * i, 3, "%02x", raw[i]);
}

FIXTURE(pod) {
	struct kbs_proc kbs;
	struct test_swtpm sw;
	char dir[64], trust[128], sha[65];
};

/* keyctl and its libraries into a busybox rootfs, so a container can read its keys. */
static void add_keyctl(const char *rootfs)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "set -e; cd %s; for f in /usr/bin/keyctl $(ldd /usr/bin/keyctl | grep -o '/[^ ]*'); do "
		 "mkdir -p .$(dirname $f); cp -L $f .$f; done", rootfs);
	if (system(cmd) != 0)
		harness_fail(__FILE__, __LINE__, true, "command failed: %s", cmd);
}

static const char reader_patch[] =
	"{\"process\":{\"args\":[\"/bin/sh\",\"-c\","
	"\"PATH=/usr/bin:/bin; k=$(keyctl search @s user veil:veil/keys/model 2>/dev/null) && "
	"echo key-sha256=$(keyctl pipe $k | sha256sum | cut -c1-64) || echo no-key\"]}}";

FIXTURE_SETUP(pod)
{
	char extra[300], path[400], cmd[300];
	int st;

	if (!lt_have_busybox())
		SKIP("busybox-static is not installed");
	if (system("command -v keyctl >/dev/null") != 0)
		SKIP("keyutils (keyctl) is not installed");
	make_key();
	ASSERT_EQ(0, lt_tmpdir(self->dir));
	snprintf(self->trust, sizeof(self->trust), "%s/trust", self->dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/tpm/ak", self->trust);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(0, test_swtpm_start(&self->sw));
	ASSERT_EQ(0, test_swtpm_trust_ak(&self->sw, self->trust));
	snprintf(extra, sizeof(extra), "\"trust_dir\":\"%s\"", self->trust);
	ASSERT_EQ(0, kbs_proc_start(&self->kbs, extra, false));
	snprintf(path, sizeof(path), "%s/key", self->kbs.dir);
	ASSERT_EQ(0, fd_write_file_atomic(path, model_key, strlen(model_key), 0600));
	ASSERT_EQ(0, kbs_proc_admin(&self->kbs, "put-resource veil/keys/model %s", path));
	unlink(path);
	{
		char *out = lt_sh(&st, "printf %%s '%s' | sha256sum | cut -c1-64", model_key);

		ASSERT_NONNULL(out);
		snprintf(self->sha, sizeof(self->sha), "%.64s", out);
		free(out);
	}
	ASSERT_EQ(0, lt_bundle(self->dir, "granted", reader_patch));
	ASSERT_EQ(0, lt_bundle(self->dir, "other", reader_patch));
	snprintf(path, sizeof(path), "%s/granted/rootfs", self->dir);
	add_keyctl(path);
	snprintf(path, sizeof(path), "%s/other/rootfs", self->dir);
	add_keyctl(path);
}

FIXTURE_TEARDOWN(pod)
{
	kbs_proc_stop(&self->kbs);
	if (self->sw.pid > 0)
		kill(self->sw.pid, SIGCONT);	/* a test may have stopped it */
	test_swtpm_stop(&self->sw);
	if (self->dir[0])
		lt_rm_rf(self->dir);
}

static void write_manifest(const char *dir, const char *url, const char *ca)
{
	/* A short attestation deadline: the fault tests wait for it. */
	ASSERT_EQ(0, lt_manifest(dir,
		"{\"version\":1,\"containers\":["
		"{\"name\":\"granted\",\"bundle\":\"%s/granted\",\"keys\":[\"model\"],\"order\":1},"
		"{\"name\":\"other\",\"bundle\":\"%s/other\",\"order\":2}],"
		"\"kbs\":{\"url\":\"%s\",\"ca\":\"%s\",\"tee\":\"tpm\",\"deadline_ms\":3000,"
		"\"resources\":[{\"name\":\"model\",\"uri\":\"kbs:///veil/keys/model\"}]},"
		"\"policy\":{\"lsm\":\"degraded-allowed\"},\"shutdown\":\"last-exit\"}",
		dir, dir, url, ca));
}

/* The policy the model owner writes: tpm only, PCR 23 = what `veil measure --pcr` says. */
static void pin_pcr23(struct kbs_proc *kbs, const char *dir)
{
	char policy[1024], path[160], *pcr;
	int st;

	pcr = lt_sh(&st, "%s measure --pcr --degraded %s/manifest.json", lt_prog("veil"), dir);
	ASSERT_EQ(0, st);
	ASSERT_NONNULL(pcr);
	ASSERT_GE(strlen(pcr), 64);
	snprintf(policy, sizeof(policy),
		 "{\"version\":1,\"rules\":[{\"name\":\"measured pod\",\"resources\":[\"veil/keys/*\"],"
		 "\"tee\":[\"tpm\"],\"claims\":{\"tpm.pcr23\":\"%.64s\"}}]}", pcr);
	free(pcr);
	snprintf(path, sizeof(path), "%s/policy.json", dir);
	ASSERT_EQ(0, lt_write(path, policy));
	ASSERT_EQ(0, kbs_proc_admin(kbs, "set-policy %s", path));
}

static int boot(struct lt_run *r, struct _fixture_pod *self)
{
	const char *extra[] = { "--tpm", self->sw.tcti, NULL };

	return lt_sandbox(r, self->dir, 120, extra);
}

TEST_F_TIMEOUT(pod, measured_pod_gets_its_key_and_only_the_granted_container_reads_it, 180)
{
	char want[100];
	struct lt_run r;

	write_manifest(self->dir, self->kbs.base, self->kbs.cacert);
	pin_pcr23(&self->kbs, self->dir);
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_EQ(0, r.status);
	snprintf(want, sizeof(want), "granted: key-sha256=%s", self->sha);
	EXPECT_NONNULL(strstr(r.out, want));
	EXPECT_NONNULL(strstr(r.out, "other: no-key"));
	EXPECT_NONNULL(strstr(r.out, "revoked 1 key(s)"));
	/* veil-init logs serials and sizes, never the bytes. */
	EXPECT_NULL(strstr(r.out, model_key));
	lt_run_done(&r);
}

/*
 * The AAEL log travels with the tpm evidence: the KBS replays it against the
 * quoted PCR 23, so a policy can name a container's digest itself.
 */
TEST_F_TIMEOUT(pod, policy_on_a_container_digest_from_the_replayed_log_releases_the_key, 180)
{
	char policy[1024], path[160], *digest;
	struct lt_run r;
	int st;

	write_manifest(self->dir, self->kbs.base, self->kbs.cacert);
	digest = lt_sh(&st, "%s measure %s/granted", lt_prog("veil"), self->dir);
	ASSERT_EQ(0, st);
	ASSERT_NONNULL(digest);
	digest[strcspn(digest, "\n")] = '\0';
	snprintf(policy, sizeof(policy),
		 "{\"version\":1,\"rules\":[{\"name\":\"granted image\",\"resources\":[\"veil/keys/*\"],"
		 "\"tee\":[\"tpm\"],\"claims\":{\"tpm.containers.0.name\":\"granted\","
		 "\"tpm.containers.0.digest\":\"%s\"}}]}", digest);
	free(digest);
	snprintf(path, sizeof(path), "%s/policy.json", self->dir);
	ASSERT_EQ(0, lt_write(path, policy));
	ASSERT_EQ(0, kbs_proc_admin(&self->kbs, "set-policy %s", path));
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_EQ(0, r.status);
	EXPECT_NONNULL(strstr(r.out, "granted: key-sha256="));
	lt_run_done(&r);
}

TEST_F_TIMEOUT(pod, one_changed_byte_in_a_container_gets_no_key_and_nothing_starts, 180)
{
	char path[160];
	struct lt_run r;

	write_manifest(self->dir, self->kbs.base, self->kbs.cacert);
	pin_pcr23(&self->kbs, self->dir);
	/* After the owner's policy was made: one byte of one file. */
	snprintf(path, sizeof(path), "%s/other/rootfs/etc/veil-test-file", self->dir);
	ASSERT_EQ(0, lt_write(path, "x"));
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_NE(0, r.status);
	EXPECT_NONNULL(strstr(r.out, "PolicyDeny"));
	EXPECT_NONNULL(strstr(r.out, "Attestation failed: no container starts"));
	EXPECT_NULL(strstr(r.out, "key-sha256="));
	EXPECT_NULL(strstr(r.out, "no-key"));
	lt_run_done(&r);
}

TEST_F_TIMEOUT(pod, kbs_down_fails_closed_with_its_cause, 180)
{
	struct lt_run r;

	write_manifest(self->dir, "https://127.0.0.1:1", self->kbs.cacert);
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_NE(0, r.status);
	EXPECT_NONNULL(strstr(r.out, "Connection refused"));
	EXPECT_NONNULL(strstr(r.out, "Attestation failed: no container starts"));
	EXPECT_NULL(strstr(r.out, "no-key"));
	lt_run_done(&r);
}

TEST_F_TIMEOUT(pod, no_key_byte_is_left_in_any_file_after_a_run, 240)
{
	char *out;
	struct lt_run r;
	int st;

	write_manifest(self->dir, self->kbs.base, self->kbs.cacert);
	pin_pcr23(&self->kbs, self->dir);
	ASSERT_EQ(0, boot(&r, self));
	EXPECT_EQ(0, r.status);
	lt_run_done(&r);
	/*
	 * Outside the KBS's own store (which holds it by design): /tmp, /run and
	 * /var/tmp, where a careless launcher would leave a copy.
	 */
	out = lt_sh(&st, "grep -rlsF --exclude-dir=repository '%s' /tmp /run /var/tmp 2>/dev/null | "
			 "grep -v '^%s/' | head -5", model_key, self->kbs.dir);
	ASSERT_NONNULL(out);
	EXPECT_STREQ("", out);
	free(out);
}

/* ---- periodic re-attestation (kbs.reattest_s) ------------------------------------ */

/*
 * granted: reads its key once, then idles; on SIGTERM it tries the key again
 * and says whether it could. other: no grant, ticks until SIGTERM.
 */
static const char granted_loop[] =
	"{\"process\":{\"args\":[\"/bin/sh\",\"-c\","
	"\"PATH=/usr/bin:/bin; k=$(keyctl search @s user veil:veil/keys/model 2>/dev/null) || "
	"{ echo no-key; exit 1; }; "
	"trap 'keyctl pipe $k >/dev/null 2>&1 && echo key-still-readable || echo key-read-refused; "
	"exit 0' TERM; echo key-sha256=$(keyctl pipe $k | sha256sum | cut -c1-64); "
	"while :; do sleep 0.2; done\"]}}";
static const char other_loop[] =
	"{\"process\":{\"args\":[\"/bin/sh\",\"-c\","
	"\"trap 'exit 0' TERM; while :; do echo tick; sleep 0.3; done\"]}}";

static void write_reattest_manifest(const char *dir, const char *url, const char *ca)
{
	const char *const names[] = { "granted", "other" }, *const patches[] = { granted_loop, other_loop };

	/* The fixture's bundles (keyctl included), with these processes instead. */
	for (int i = 0; i < 2; i++) {
		char path[160], *cfg = lt_config(patches[i]);

		ASSERT_NONNULL(cfg);
		snprintf(path, sizeof(path), "%s/%s/config.json", dir, names[i]);
		ASSERT_EQ(0, lt_write(path, cfg));
		free(cfg);
	}
	ASSERT_EQ(0, lt_manifest(dir,
		"{\"version\":1,\"containers\":["
		"{\"name\":\"granted\",\"bundle\":\"%s/granted\",\"keys\":[\"model\"],\"order\":1},"
		"{\"name\":\"other\",\"bundle\":\"%s/other\",\"order\":2}],"
		"\"kbs\":{\"url\":\"%s\",\"ca\":\"%s\",\"tee\":\"tpm\",\"deadline_ms\":3000,"
		"\"reattest_s\":1,"
		"\"resources\":[{\"name\":\"model\",\"uri\":\"kbs:///veil/keys/model\"}]},"
		"\"policy\":{\"lsm\":\"degraded-allowed\"},\"shutdown\":\"last-exit\",\"grace_ms\":2000}",
		dir, dir, url, ca));
}

static const char *const *pod_args(struct _fixture_pod *self)
{
	static char man[128];
	static const char *args[6];

	snprintf(man, sizeof(man), "%s/manifest.json", self->dir);
	args[0] = lt_prog("veil-init");
	args[1] = "--sandbox";
	args[2] = "--tpm";
	args[3] = self->sw.tcti;
	args[4] = man;
	args[5] = NULL;
	return args;
}

/* SIGTERM to the pod, the rest of its output appended to t. */
static void stop_pod(struct lt_run *r, struct lt_tail *t)
{
	kill(r->pid, SIGTERM);
	ASSERT_EQ(0, lt_wait(r, 60));
	TH_LOG("veil-init said:\n%s%s", t->buf ? t->buf : "", r->out);
}

TEST_F_TIMEOUT(pod, policy_change_denies_reattestation_revokes_the_key_and_stops_only_the_granted_container, 180)
{
	char want[100], policy[512], path[160];
	struct lt_tail t = { 0 };
	const char *fail_at;
	struct lt_run r;
	size_t off;

	write_reattest_manifest(self->dir, self->kbs.base, self->kbs.cacert);
	pin_pcr23(&self->kbs, self->dir);
	ASSERT_EQ(0, lt_start(&r, pod_args(self)));
	snprintf(want, sizeof(want), "granted: key-sha256=%s", self->sha);
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, want, 90));
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "re-attestation 1 succeeded", 30));
	/* The owner changes the policy: PCR 23 must now be something this pod is not. */
	snprintf(policy, sizeof(policy),
		 "{\"version\":1,\"rules\":[{\"name\":\"another pod\",\"resources\":[\"veil/keys/*\"],"
		 "\"tee\":[\"tpm\"],\"claims\":{\"tpm.pcr23\":\"%064d\"}}]}", 0);
	snprintf(path, sizeof(path), "%s/deny.json", self->dir);
	ASSERT_EQ(0, lt_write(path, policy));
	ASSERT_EQ(0, kbs_proc_admin(&self->kbs, "set-policy %s", path));
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "re-attestation failed: revoked 1 key(s)", 30));
	/* The granted container's last read, after the revocation, is refused... */
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "granted: key-read-refused", 15));
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "container 'granted' (pid", 15));
	/* ...while the other goes on ticking after it is gone. */
	off = t.len;
	EXPECT_TRUE(lt_wait_for(&r, &t, off, "other: tick", 10));
	stop_pod(&r, &t);
	ASSERT_NONNULL(t.buf);
	fail_at = strstr(t.buf, "re-attestation failed: revoked");
	ASSERT_NONNULL(fail_at);
	EXPECT_NONNULL(strstr(t.buf, "PolicyDeny"));
	EXPECT_NULL(strstr(t.buf, "key-still-readable"));
	/* granted is stopped for good, other only by the final SIGTERM. */
	EXPECT_NULL(strstr(t.buf, "restart 1/"));
	EXPECT_NULL(strstr(t.buf, "container 'other' (pid"));
	EXPECT_NONNULL(strstr(r.out, "container 'other' (pid"));
	EXPECT_NONNULL(strstr(r.out, "shutting down"));
	EXPECT_NE(-1, r.status);
	EXPECT_NULL(strstr(t.buf, model_key));
	free(t.buf);
	lt_run_done(&r);
}

TEST_F_TIMEOUT(pod, a_healthy_kbs_keeps_the_pod_running_across_reattestations, 180)
{
	char want[100];
	struct lt_tail t = { 0 };
	struct lt_run r;

	write_reattest_manifest(self->dir, self->kbs.base, self->kbs.cacert);
	pin_pcr23(&self->kbs, self->dir);
	ASSERT_EQ(0, lt_start(&r, pod_args(self)));
	snprintf(want, sizeof(want), "granted: key-sha256=%s", self->sha);
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, want, 90));
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "re-attestation 3 succeeded", 60));
	stop_pod(&r, &t);
	ASSERT_NONNULL(t.buf);
	EXPECT_NONNULL(strstr(t.buf, "re-attestation 2 succeeded: 1 key(s) released again"));
	EXPECT_NULL(strstr(t.buf, "re-attestation failed"));
	EXPECT_NULL(strstr(t.buf, "container 'granted' (pid"));
	EXPECT_NULL(strstr(t.buf, "container 'other' (pid"));
	/* Still readable at the end: the shutdown's TERM finds the key, then revokes it. */
	EXPECT_NONNULL(strstr(r.out, "granted: key-still-readable"));
	EXPECT_NONNULL(strstr(r.out, "revoked 1 key(s)"));
	free(t.buf);
	lt_run_done(&r);
}

TEST_F_TIMEOUT(pod, a_kbs_gone_past_the_deadline_revokes_the_key_and_stops_the_granted_container, 180)
{
	struct lt_tail t = { 0 };
	struct lt_run r;

	write_reattest_manifest(self->dir, self->kbs.base, self->kbs.cacert);
	pin_pcr23(&self->kbs, self->dir);
	ASSERT_EQ(0, lt_start(&r, pod_args(self)));
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "re-attestation 1 succeeded", 90));
	/* The KBS goes away (its files stay: the CA is still pinned and readable). */
	kill(self->kbs.pid, SIGTERM);
	waitpid(self->kbs.pid, NULL, 0);
	self->kbs.pid = 0;
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "re-attestation failed: revoked 1 key(s)", 30));
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "granted: key-read-refused", 15));
	stop_pod(&r, &t);
	ASSERT_NONNULL(t.buf);
	EXPECT_NONNULL(strstr(t.buf, "deadline of 3000 ms passed"));
	EXPECT_NONNULL(strstr(t.buf, "Connection refused"));
	EXPECT_NULL(strstr(t.buf, "container 'other' (pid"));
	EXPECT_NE(-1, r.status);
	free(t.buf);
	lt_run_done(&r);
}

/*
 * The TPM stops answering mid-quote: the helper hangs where no network
 * deadline reaches. PID 1 kills it at deadline_ms + slack, fails closed and
 * goes on supervising.
 */
TEST_F_TIMEOUT(pod, a_helper_that_hangs_is_killed_at_the_deadline_and_the_keys_go, 180)
{
	struct lt_tail t = { 0 };
	struct lt_run r;
	size_t off;

	write_reattest_manifest(self->dir, self->kbs.base, self->kbs.cacert);
	pin_pcr23(&self->kbs, self->dir);
	ASSERT_EQ(0, lt_start(&r, pod_args(self)));
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "re-attestation 1 succeeded", 90));
	ASSERT_EQ(0, kill(self->sw.pid, SIGSTOP));
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "re-attestation failed: revoked 1 key(s)", 30));
	kill(self->sw.pid, SIGCONT);
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "granted: key-read-refused", 15));
	off = t.len;
	EXPECT_TRUE(lt_wait_for(&r, &t, off, "other: tick", 10));
	stop_pod(&r, &t);
	ASSERT_NONNULL(t.buf);
	EXPECT_NONNULL(strstr(t.buf, "did not report within 5000 ms"));
	EXPECT_NULL(strstr(t.buf, "container 'other' (pid"));
	EXPECT_NE(-1, r.status);
	free(t.buf);
	lt_run_done(&r);
}
