// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil-decryptd as veil-init starts it, natively: veil-init --sandbox
 * measures a pod into a private swtpm, attests to a real veil-kbs over
 * HTTPS, which releases the FHE secret key into the kernel keyring; veil-init
 * grants it to veil-decryptd alone, starts the service, and the granted
 * container sends a sealed model's output ciphertext through the socket
 * mounted into it (`veil decrypt`) and gets the right outputs. A container
 * not granted has no socket; one whose own config bind-mounts the socket
 * anyway is refused by the service. No key byte is left anywhere.
 */
#include "tests/harness.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/evidence.h"
#include "lib/base64.h"
#include "lib/fd.h"
#include "tests/decryptd/common.h"
#include "tests/kbs/kbs_proc.h"
#include "tests/launcher/util.h"
#include "tests/swtpm.h"

FIXTURE(pod) {
	struct kbs_proc kbs;
	struct test_swtpm sw;
	struct dd_model model;
	char dir[64], trust[128];
};

/* A program (as /usr/bin/NAME) and its libraries into a rootfs. */
static void add_prog(const char *rootfs, const char *prog)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "set -e; cd %s; mkdir -p usr/bin; cp %s usr/bin/; for f in $(ldd %s | grep -o '/[^ ]*'); do "
		 "mkdir -p .$(dirname $f); cp -L $f .$f; done", rootfs, prog, prog);
	if (system(cmd) != 0)
		harness_fail(__FILE__, __LINE__, true, "command failed: %s", cmd);
}

/* The first output ciphertext as a .vct file (u32 big-endian length, bytes). */
static void write_vct(const char *path, const struct dd_model *m)
{
	size_t n = m->ct_len[0];
	uint8_t *buf = malloc(4 + n);

	ASSERT_NONNULL(buf);
	buf[0] = (uint8_t)(n >> 24);
	buf[1] = (uint8_t)(n >> 16);
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	memcpy(buf + 4, m->ct[0], n);
	ASSERT_EQ(0, fd_write_file_atomic(path, buf, 4 + n, 0644));
	free(buf);
}

/* LeakSanitizer cannot run in a seccomp'd container: ASan builds of veil say so and fail. */
#define ENV "\"env\":[\"PATH=/bin\",\"ASAN_OPTIONS=detect_leaks=0\"],"

static const char decrypt_patch[] =
	"{\"process\":{" ENV "\"args\":[\"/usr/bin/veil\",\"decrypt\",\"--model\",\"m\","
	"\"--socket\",\"/run/veil/decryptd.sock\",\"/data/0.vct\"]}}";

/* Its own config bind-mounts the service's socket directory: the service must refuse it. */
static const char sneaky_patch[] =
	"{\"process\":{" ENV "\"args\":[\"/usr/bin/veil\",\"decrypt\",\"--model\",\"m\","
	"\"--socket\",\"/run/veil/decryptd.sock\",\"/data/0.vct\"]},"
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/run/veil\",\"type\":\"bind\",\"source\":\"/run/veil-decryptd/sock\","
	"\"options\":[\"bind\",\"ro\"]}]}";

static void make_bundle(struct _fixture_pod *self, const char *name, const char *patch)
{
	char path[256];

	ASSERT_EQ(0, lt_bundle(self->dir, name, patch));
	snprintf(path, sizeof(path), "%s/%s/rootfs", self->dir, name);
	add_prog(path, lt_prog("veil"));
	/* The mount point, so that the measured rootfs is the same on every boot. */
	snprintf(path, sizeof(path), "%s/%s/rootfs/run/veil", self->dir, name);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "mkdir -p %s", path);
		ASSERT_EQ(0, system(cmd));
	}
	snprintf(path, sizeof(path), "%s/%s/rootfs/data/0.vct", self->dir, name);
	write_vct(path, &self->model);
}

FIXTURE_SETUP(pod)
{
	char extra[300], path[400], cmd[300];

	if (!lt_have_busybox())
		SKIP("busybox-static is not installed");
	ASSERT_EQ(0, lt_tmpdir(self->dir));
	snprintf(self->trust, sizeof(self->trust), "%s/trust", self->dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/tpm/ak", self->trust);
	ASSERT_EQ(0, system(cmd));
	dd_make_model(self->dir, "m", &self->model);
	ASSERT_EQ(0, test_swtpm_start(&self->sw));
	ASSERT_EQ(0, test_swtpm_trust_ak(&self->sw, self->trust));
	snprintf(extra, sizeof(extra), "\"trust_dir\":\"%s\"", self->trust);
	ASSERT_EQ(0, kbs_proc_start(&self->kbs, extra, false));
	/* The model owner's key goes to the KBS, and nowhere else. */
	snprintf(path, sizeof(path), "%s/sk", self->kbs.dir);
	ASSERT_EQ(0, fd_write_file_atomic(path, self->model.sk, self->model.sk_len, 0600));
	ASSERT_EQ(0, kbs_proc_admin(&self->kbs, "put-resource veil/fhe/m %s", path));
	unlink(path);
	make_bundle(self, "user", decrypt_patch);
	make_bundle(self, "other", decrypt_patch);
	make_bundle(self, "sneaky", sneaky_patch);
}

FIXTURE_TEARDOWN(pod)
{
	kbs_proc_stop(&self->kbs);
	test_swtpm_stop(&self->sw);
	dd_model_done(&self->model);
	if (self->dir[0])
		lt_rm_rf(self->dir);
}

static void write_manifest_full(const char *dir, const struct kbs_proc *kbs, const char *sealed,
				const char *restart, unsigned int reattest_s)
{
	ASSERT_EQ(0, lt_manifest(dir,
		"{\"version\":1,\"containers\":["
		"{\"name\":\"user\",\"bundle\":\"%s/user\",\"order\":1},"
		"{\"name\":\"other\",\"bundle\":\"%s/other\",\"order\":2},"
		"{\"name\":\"sneaky\",\"bundle\":\"%s/sneaky\",\"order\":3}],"
		"\"kbs\":{\"url\":\"%s\",\"ca\":\"%s\",\"tee\":\"tpm\",\"deadline_ms\":20000,"
		"\"reattest_s\":%u,"
		"\"resources\":[{\"name\":\"fhe\",\"uri\":\"kbs:///veil/fhe/m\"}]},"
		"\"decryptd\":{\"enabled\":true,\"key\":\"fhe\",\"workers\":1,\"receipts\":true,"
		"\"restart\":\"%s\","
		"\"models\":[{\"name\":\"m\",\"sealed\":\"%s\",\"grant\":[\"user\"]}]},"
		"\"policy\":{\"lsm\":\"degraded-allowed\"},\"shutdown\":\"last-exit\"}",
		dir, dir, dir, kbs->base, kbs->cacert, reattest_s, restart, sealed));
}

static void write_manifest_restart(const char *dir, const struct kbs_proc *kbs, const char *sealed,
				   const char *restart)
{
	write_manifest_full(dir, kbs, sealed, restart, 0);
}

static void write_manifest(const char *dir, const struct kbs_proc *kbs, const char *sealed)
{
	write_manifest_restart(dir, kbs, sealed, "never");
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
		 "{\"version\":1,\"rules\":[{\"name\":\"measured pod\",\"resources\":[\"veil/fhe/*\"],"
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

/* The line "NAME: ..." veil-init logged for a container, or NULL. */
static const char *ctr_line(const char *out, const char *name, char *buf, size_t cap)
{
	char pat[64];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), "veil-init: %s: ", name);
	p = strstr(out, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	n = strcspn(p, "\n");
	snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
	return buf;
}

/* Does any file under dir (not under skip) hold the bytes? Returns the first such path. */
static bool scan(const char *dir, const char *skip, const uint8_t *key, size_t len, char *hit,
		 size_t cap, int depth)
{
	DIR *d;
	struct dirent *e;
	bool found = false;

	if (depth > 12 || (skip && strcmp(dir, skip) == 0))
		return false;
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char p[1024];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			found = scan(p, skip, key, len, hit, cap, depth + 1);
		} else if (S_ISREG(st.st_mode) && st.st_size >= (off_t)len && st.st_size < (64 << 20)) {
			char *buf = NULL;
			size_t n;

			if (fd_read_file(p, 64u << 20, &buf, &n) == 0 && memmem(buf, n, key, len)) {
				snprintf(hit, cap, "%s", p);
				found = true;
			}
			free(buf);
		}
	}
	closedir(d);
	return found;
}

TEST_F_TIMEOUT(pod, kbs_released_key_reaches_decryptd_and_only_the_granted_container_decrypts, 240)
{
	char sealed[128], line[512], hit[1024], *hex;
	double y[3];
	struct lt_run r;

	snprintf(sealed, sizeof(sealed), "%s/m.sealed", self->dir);
	write_manifest(self->dir, &self->kbs, sealed);
	pin_pcr23(&self->kbs, self->dir);
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	/* The service listened before any container started, with the key from the keyring. */
	EXPECT_NONNULL(strstr(r.out, "veil-decryptd listens: 1 model(s), key 'veil/fhe/m'"));
	EXPECT_NONNULL(strstr(r.out, "Model 'm': key 'veil:veil/fhe/m'"));
	/* The granted container: right outputs, within the documented flooding bound. */
	ASSERT_NONNULL(ctr_line(r.out, "user", line, sizeof(line)));
	const char *paren = strchr(line, '(');
	ASSERT_NONNULL(paren);
	ASSERT_EQ(3, sscanf(paren, "(%lf %lf %lf)", &y[0], &y[1], &y[2]));
	for (int k = 0; k < 3; k++)
		if (fabs(y[k] - self->model.exp[k]) > 5e-5 + self->model.bound)
			harness_fail(__FILE__, __LINE__, false, "output %d: %.6f, expected %.6f", k,
				     y[k], self->model.exp[k]);
	/* Not granted: no socket in its file system at all. */
	ASSERT_NONNULL(ctr_line(r.out, "other", line, sizeof(line)));
	EXPECT_NONNULL(strstr(line, "Failed to connect"));
	/* Mounted the socket by itself: the service knows its cgroup from no grant. */
	ASSERT_NONNULL(ctr_line(r.out, "sneaky", line, sizeof(line)));
	EXPECT_NONNULL(strstr(line, "Failed to decrypt"));
	EXPECT_NONNULL(strstr(r.out, "Refused a peer in cgroup"));
	EXPECT_NULL(strstr(r.out, "sneaky: /data/0.vct: class"));
	/* Stopped after the last container (cleanly: a seccomp kill would show), key revoked. */
	EXPECT_NONNULL(strstr(r.out, "stopped with status 0"));
	EXPECT_NONNULL(strstr(r.out, "revoked 1 key(s)"));
	EXPECT_EQ(1, r.status);	/* the refused two exited 1 */
	/* No key byte in the log, raw or hex, nor in any file outside the KBS's store. */
	EXPECT_NULL(memmem(r.out, strlen(r.out), self->model.sk, 16));
	hex = malloc(2 * self->model.sk_len + 1);
	ASSERT_NONNULL(hex);
	for (size_t i = 0; i < self->model.sk_len; i++)
		sprintf(hex + 2 * i, "%02x", self->model.sk[i]);
	EXPECT_NULL(strstr(r.out, hex));
	lt_run_done(&r);
	EXPECT_FALSE(scan("/tmp", self->kbs.dir, self->model.sk, self->model.sk_len, hit,
			  sizeof(hit), 0));
	EXPECT_FALSE(scan("/run", NULL, self->model.sk, self->model.sk_len, hit, sizeof(hit), 0));
	EXPECT_FALSE(scan("/var/tmp", NULL, self->model.sk, self->model.sk_len, hit, sizeof(hit), 0));
	EXPECT_FALSE(scan("/tmp", self->kbs.dir, (uint8_t *)hex, 32, hit, sizeof(hit), 0));
	free(hex);
}

TEST_F_TIMEOUT(pod, a_sealed_model_changed_after_the_policy_gets_no_key, 240)
{
	char sealed[128];
	struct lt_run r;
	struct stat st;
	uint8_t b;
	int fd;

	snprintf(sealed, sizeof(sealed), "%s/m.sealed", self->dir);
	write_manifest(self->dir, &self->kbs, sealed);
	pin_pcr23(&self->kbs, self->dir);
	/* One byte of the sealed weights changes after the owner's policy was written. */
	fd = open(sealed, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(1, pread(fd, &b, 1, st.st_size - 1));
	b ^= 1;
	ASSERT_EQ(1, pwrite(fd, &b, 1, st.st_size - 1));
	close(fd);
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_NE(0, r.status);
	EXPECT_NONNULL(strstr(r.out, "measured sealed model: {\"name\":\"m\",\"sealed\":\"sha256:"));
	EXPECT_NONNULL(strstr(r.out, "Attestation failed: no container starts"));
	EXPECT_NULL(strstr(r.out, "veil-decryptd listens"));
	EXPECT_NULL(strstr(r.out, "container 'user' started"));
	lt_run_done(&r);
}

TEST_F_TIMEOUT(pod, a_service_that_cannot_load_its_model_starts_no_container, 240)
{
	char sealed[128];
	struct lt_run r;

	/* Measured like any sealed model, then refused by the service's strict reader. */
	snprintf(sealed, sizeof(sealed), "%s/bad.sealed", self->dir);
	ASSERT_EQ(0, lt_write(sealed, "this is not a sealed model\n"));
	write_manifest(self->dir, &self->kbs, sealed);
	pin_pcr23(&self->kbs, self->dir);
	ASSERT_EQ(0, boot(&r, self));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_NE(0, r.status);
	EXPECT_NONNULL(strstr(r.out, "Failed to load model 'm'"));
	EXPECT_NONNULL(strstr(r.out, "veil-decryptd did not start: no container starts"));
	EXPECT_NULL(strstr(r.out, "container 'user' started"));
	lt_run_done(&r);
}

/* The host pid of the first process whose cgroup path ends in SUFFIX (0: none yet). */
static pid_t find_in_cgroup(const char *suffix)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	while (d && !found && (e = readdir(d))) {
		char cg[4096];
		size_t n;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (decryptd_pid_cgroup(atoi(e->d_name), cg, sizeof(cg)) < 0)
			continue;
		n = strlen(cg);
		if (n >= strlen(suffix) && strcmp(cg + n - strlen(suffix), suffix) == 0)
			found = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return found;
}

static const char late_patch[] =
	"{\"process\":{" ENV "\"args\":[\"/bin/sh\",\"-c\",\"sleep 4; exec /usr/bin/veil decrypt --model m "
	"--socket /run/veil/decryptd.sock /data/0.vct\"]}}";

TEST_F_TIMEOUT(pod, a_killed_service_is_restarted_and_serves_the_granted_container_again, 240)
{
	char sealed[128], man[160], sfx_dd[64], sfx_user[64], line[512];
	const char *args[] = { lt_prog("veil-init"), "--sandbox", "--tpm", self->sw.tcti, man, NULL };
	pid_t dd = 0, user = 0;
	struct lt_run r;

	/* The granted container asks late, after the service was killed and restarted. */
	snprintf(line, sizeof(line), "rm -rf %s/user", self->dir);
	ASSERT_EQ(0, system(line));
	make_bundle(self, "user", late_patch);
	snprintf(sealed, sizeof(sealed), "%s/m.sealed", self->dir);
	snprintf(man, sizeof(man), "%s/manifest.json", self->dir);
	write_manifest_restart(self->dir, &self->kbs, sealed, "on-failure");
	pin_pcr23(&self->kbs, self->dir);
	ASSERT_EQ(0, lt_start(&r, args));
	snprintf(sfx_dd, sizeof(sfx_dd), "/veil-sandbox-%d/veil-decryptd", r.pid);
	snprintf(sfx_user, sizeof(sfx_user), "/veil-sandbox-%d/user", r.pid);
	for (int i = 0; i < 3000 && !(dd && user); i++) {
		dd = find_in_cgroup(sfx_dd);
		user = find_in_cgroup(sfx_user);
		usleep(10000);
	}
	EXPECT_NE(0, dd);
	EXPECT_NE(0, user);
	if (dd)
		kill(dd, SIGKILL);
	ASSERT_EQ(0, lt_wait(&r, 120));
	TH_LOG("veil-init said:\n%s", r.out);
	EXPECT_NONNULL(strstr(r.out, "killed by signal 9"));
	EXPECT_NONNULL(strstr(r.out, "veil-decryptd: restart 1/5"));
	ASSERT_NONNULL(ctr_line(r.out, "user", line, sizeof(line)));
	EXPECT_NONNULL(strstr(line, "/data/0.vct: class"));
	EXPECT_NONNULL(strstr(r.out, "stopped with status 0"));
	lt_run_done(&r);
}

static const char loop_patch[] =
	"{\"process\":{" ENV "\"args\":[\"/bin/sh\",\"-c\",\"i=0; while [ $i -lt 60 ]; do "
	"if /usr/bin/veil decrypt --model m --socket /run/veil/decryptd.sock /data/0.vct "
	">/dev/null 2>&1; then echo decrypt-ok; else echo decrypt-refused; fi; "
	"i=$((i+1)); sleep 1; done\"]}}";

/*
 * The service read the FHE key into its own memory: when re-attestation
 * fails and the pod's keys are revoked, the service goes too (killed, never
 * restarted, although its restart policy is "always"), so the container
 * that could decrypt a moment ago cannot any more.
 */
TEST_F_TIMEOUT(pod, failed_reattestation_stops_the_service_that_holds_the_key, 240)
{
	char sealed[128], man[160], cmd[300], policy[512], path[160];
	const char *args[] = { lt_prog("veil-init"), "--sandbox", "--tpm", self->sw.tcti, man, NULL };
	struct lt_tail t = { 0 };
	struct lt_run r;
	size_t off;

	snprintf(cmd, sizeof(cmd), "rm -rf %s/user", self->dir);
	ASSERT_EQ(0, system(cmd));
	make_bundle(self, "user", loop_patch);
	snprintf(sealed, sizeof(sealed), "%s/m.sealed", self->dir);
	snprintf(man, sizeof(man), "%s/manifest.json", self->dir);
	write_manifest_full(self->dir, &self->kbs, sealed, "always", 1);
	pin_pcr23(&self->kbs, self->dir);
	ASSERT_EQ(0, lt_start(&r, args));
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "user: decrypt-ok", 120));
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "re-attestation 1 succeeded", 30));
	/* The owner's policy now names another PCR 23: this pod no longer qualifies. */
	snprintf(policy, sizeof(policy),
		 "{\"version\":1,\"rules\":[{\"name\":\"another pod\",\"resources\":[\"veil/fhe/*\"],"
		 "\"tee\":[\"tpm\"],\"claims\":{\"tpm.pcr23\":\"%064d\"}}]}", 0);
	snprintf(path, sizeof(path), "%s/deny.json", self->dir);
	ASSERT_EQ(0, lt_write(path, policy));
	ASSERT_EQ(0, kbs_proc_admin(&self->kbs, "set-policy %s", path));
	EXPECT_TRUE(lt_wait_for(&r, &t, 0, "stopping veil-decryptd (SIGKILL): re-attestation failed", 60));
	off = t.len;
	EXPECT_TRUE(lt_wait_for(&r, &t, off, "user: decrypt-refused", 20));
	kill(r.pid, SIGTERM);
	ASSERT_EQ(0, lt_wait(&r, 60));
	TH_LOG("veil-init said:\n%s%s", t.buf ? t.buf : "", r.out);
	ASSERT_NONNULL(t.buf);
	EXPECT_NONNULL(strstr(t.buf, "re-attestation failed: revoked 1 key(s)"));
	/* killed for good: its "always" restart policy does not bring the key back */
	EXPECT_NULL(strstr(t.buf, "veil-decryptd: restart"));
	EXPECT_NULL(strstr(r.out, "veil-decryptd: restart"));
	EXPECT_NULL(strstr(r.out, "user: decrypt-ok"));
	free(t.buf);
	lt_run_done(&r);
}
