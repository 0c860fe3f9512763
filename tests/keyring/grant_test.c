// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-container keyrings on the host's real keyring: a child forked like
 * veil-init forks a container (join, then a user namespace with uids
 * 100000+, then uid 1000) reads its grants with plain keyctl(1) and
 * libveilkey.so, and nothing else.
 */
#include "tests/harness.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keyring/keyring.h"
#include "keyring/veilkey.h"

#define FHE_SEED "FHE-SEED-0123456789abcdef0123456"
#define WL_KEY "workload-key-bytes"

FIXTURE(g) {
	struct keyring *kr;
	key_serial_t fhe, wl, ring_svc, ring_wl;
};

FIXTURE_SETUP(g)
{
	const char *svc[] = { "default/fhe/sk" }, *wl[] = { "default/key/wl" };
	int r = keyring_new(&self->kr);

	if (r == -ENOSYS || r == -EPERM)
		SKIP("kernel keyring unavailable: %s", strerror(-r));
	ASSERT_EQ(0, r);
	ASSERT_EQ(0, keyring_add(self->kr, "default/fhe/sk", KEYRING_USER, FHE_SEED,
				 strlen(FHE_SEED), 0, &self->fhe));
	ASSERT_EQ(0, keyring_add(self->kr, "default/key/wl", KEYRING_USER, WL_KEY, strlen(WL_KEY),
				 0, &self->wl));
	ASSERT_EQ(0, keyring_container_new(self->kr, "decryptd", svc, 1, &self->ring_svc));
	ASSERT_EQ(0, keyring_container_new(self->kr, "workload", wl, 1, &self->ring_wl));
}

FIXTURE_TEARDOWN(g)
{
	if (self->kr) {
		keyring_revoke_all(self->kr);
		keyctl_unlink(keyring_serial(self->kr), KEY_SPEC_PROCESS_KEYRING);
		keyring_free(self->kr);
	}
}

struct ctr {
	int status;
	char out[8192];
};

/*
 * Forks a "container": joins its keyring, enters a user namespace mapped to
 * 100000.. (unless !userns), becomes uid 1000 and runs argv or fn.
 */
static int run_ctr(const char *name, key_serial_t ring, bool userns, char *const argv[],
		   int (*fn)(void *), void *arg, struct ctr *res)
{
	int out[2], sync1[2], sync2[2];
	size_t used = 0;
	pid_t pid;
	char c;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(sync1, O_CLOEXEC) < 0 || pipe2(sync2, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int r = keyring_join_container(name, ring);

		if (r < 0) {
			dprintf(out[1], "join: %s\n", strerror(-r));
			_exit(90);
		}
		if (userns) {
			if (unshare(CLONE_NEWUSER) < 0)
				_exit(91);
			if (write(sync1[1], "u", 1) != 1 || read(sync2[0], &c, 1) != 1)
				_exit(92);
			if (setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0)
				_exit(93);
		}
		dup2(out[1], 1);
		dup2(out[1], 2);
		if (fn) {
			r = fn(arg);
			fflush(stdout);
			_exit(r);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(sync1[1]);
	close(sync2[0]);
	if (userns && read(sync1[0], &c, 1) == 1) {
		static const char *files[] = { "uid_map", "gid_map" };

		for (int i = 0; i < 2; i++) {
			char path[64];
			int fd;

			snprintf(path, sizeof(path), "/proc/%d/%s", pid, files[i]);
			fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				if (write(fd, "0 100000 65536\n", 15) != 15)
					TH_LOG("write %s: %s", path, strerror(errno));
				close(fd);
			}
		}
		if (write(sync2[1], "g", 1) != 1)
			TH_LOG("sync: %s", strerror(errno));
	}
	close(sync2[1]);
	close(sync1[0]);
	for (;;) {
		ssize_t n = read(out[0], res->out + used, sizeof(res->out) - 1 - used);

		if (n <= 0)
			break;
		used += (size_t)n;
	}
	res->out[used] = '\0';
	close(out[0]);
	if (waitpid(pid, &res->status, 0) != pid)
		return -errno;
	return 0;
}

static int ctr_exit(const struct ctr *c)
{
	return WIFEXITED(c->status) ? WEXITSTATUS(c->status) : 128 + WTERMSIG(c->status);
}

#define SERIAL(s) ({ static char _b[16]; snprintf(_b, sizeof(_b), "%d", (int)(s)); _b; })

TEST_F(g, granted_container_reads_key_with_keyctl_print)
{
	char *argv[] = { "keyctl", "print", SERIAL(self->wl), NULL };
	struct ctr c;

	ASSERT_EQ(0, run_ctr("workload", self->ring_wl, true, argv, NULL, NULL, &c));
	EXPECT_EQ(0, ctr_exit(&c));
	EXPECT_STREQ(WL_KEY "\n", c.out);
}

TEST_F(g, granted_container_finds_key_by_description_and_pipes_it)
{
	char *argv[] = { "sh", "-c", "keyctl pipe $(keyctl search @s user veil:default/key/wl)",
			 NULL };
	struct ctr c;

	ASSERT_EQ(0, run_ctr("workload", self->ring_wl, true, argv, NULL, NULL, &c));
	EXPECT_EQ(0, ctr_exit(&c));
	EXPECT_STREQ(WL_KEY, c.out);
}

TEST_F(g, keyctl_show_in_container_lists_exactly_the_grants)
{
	char *argv[] = { "keyctl", "show", "@s", NULL };
	struct ctr c;

	ASSERT_EQ(0, run_ctr("workload", self->ring_wl, true, argv, NULL, NULL, &c));
	EXPECT_EQ(0, ctr_exit(&c));
	TH_LOG("keyctl show @s in the container:");
	for (char *l = strtok(c.out, "\n"); l; l = strtok(NULL, "\n"))
		TH_LOG("  %s", l);
	/* strtok split it; re-run the checks on a fresh copy */
	ASSERT_EQ(0, run_ctr("workload", self->ring_wl, true, argv, NULL, NULL, &c));
	EXPECT_NONNULL(strstr(c.out, "keyring: veil:workload"));
	EXPECT_NONNULL(strstr(c.out, "keyring: veil:ctr:workload"));
	EXPECT_NONNULL(strstr(c.out, "user: veil:default/key/wl"));
	EXPECT_NULL(strstr(c.out, "veil:default/fhe/sk"));
}

TEST_F(g, ungranted_container_cannot_read_by_serial)
{
	char *argv[] = { "keyctl", "print", SERIAL(self->fhe), NULL };
	struct ctr c;

	/* positive control: the same command in the decryption service works */
	ASSERT_EQ(0, run_ctr("decryptd", self->ring_svc, true, argv, NULL, NULL, &c));
	EXPECT_EQ(0, ctr_exit(&c));
	EXPECT_STREQ(FHE_SEED "\n", c.out);

	ASSERT_EQ(0, run_ctr("workload", self->ring_wl, true, argv, NULL, NULL, &c));
	EXPECT_EQ(1, ctr_exit(&c));
	EXPECT_NONNULL(strstr(c.out, "Permission denied"));
	EXPECT_NULL(strstr(c.out, FHE_SEED));
}

TEST_F(g, fhe_key_is_invisible_to_workload_search)
{
	char *argv[] = { "keyctl", "search", "@s", "user", "veil:default/fhe/sk", NULL };
	struct ctr c;

	ASSERT_EQ(0, run_ctr("decryptd", self->ring_svc, true, argv, NULL, NULL, &c));
	EXPECT_EQ(0, ctr_exit(&c));
	EXPECT_EQ(self->fhe, atoi(c.out));

	ASSERT_EQ(0, run_ctr("workload", self->ring_wl, true, argv, NULL, NULL, &c));
	EXPECT_EQ(1, ctr_exit(&c));
	EXPECT_NONNULL(strstr(c.out, "Required key not available"));
}

TEST_F(g, container_without_grants_reads_nothing)
{
	char *argv[] = { "sh", "-c", "keyctl print $0 || keyctl print $1", SERIAL(self->wl), NULL,
			 NULL };
	char fhe[16];
	struct ctr c;

	snprintf(fhe, sizeof(fhe), "%d", (int)self->fhe);
	argv[4] = fhe;
	ASSERT_EQ(0, run_ctr("nogrants", 0, true, argv, NULL, NULL, &c));
	EXPECT_EQ(1, ctr_exit(&c));
	EXPECT_NULL(strstr(c.out, WL_KEY));
	EXPECT_NULL(strstr(c.out, FHE_SEED));
}

TEST_F(g, container_cannot_link_another_containers_ring)
{
	char *argv[] = { "keyctl", "link", SERIAL(self->ring_svc), "@s", NULL };
	struct ctr c;

	ASSERT_EQ(0, run_ctr("workload", self->ring_wl, true, argv, NULL, NULL, &c));
	EXPECT_EQ(1, ctr_exit(&c));
	EXPECT_NONNULL(strstr(c.out, "Permission denied"));
}

TEST_F(g, container_cannot_widen_update_or_revoke_its_key)
{
	char cmd[1024];
	char *argv[] = { "sh", "-c", cmd, NULL };
	struct ctr c;

	snprintf(cmd, sizeof(cmd),
		 "keyctl setperm %d 0x3f3f3f3f 2>/dev/null && exit 1;"
		 "echo x | keyctl pupdate %d 2>/dev/null && exit 2;"
		 "keyctl revoke %d 2>/dev/null && exit 3;"
		 "keyctl unlink %d %d 2>/dev/null && exit 4;"
		 "keyctl add user x y %d 2>/dev/null && exit 5;"
		 "keyctl print %d",
		 self->wl, self->wl, self->wl, self->wl, self->ring_wl, self->ring_wl, self->wl);
	ASSERT_EQ(0, run_ctr("workload", self->ring_wl, true, argv, NULL, NULL, &c));
	EXPECT_EQ(0, ctr_exit(&c));
	EXPECT_STREQ(WL_KEY "\n", c.out);
}

TEST_F(g, revoke_all_cuts_off_a_running_grant)
{
	char serial[16], out[512] = "";
	int go[2], res[2], ready[2], st;
	size_t used = 0;
	pid_t pid;

	snprintf(serial, sizeof(serial), "%d", (int)self->wl);
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(res, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char c;

		/* the container is running with its grant when veil revokes */
		if (keyring_join_container("workload", self->ring_wl) < 0)
			_exit(90);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(91);
		dup2(res[1], 1);
		dup2(res[1], 2);
		execlp("keyctl", "keyctl", "print", serial, (char *)NULL);
		_exit(127);
	}
	close(res[1]);
	close(ready[1]);
	{
		char c;

		ASSERT_EQ(1, read(ready[0], &c, 1));
	}
	ASSERT_EQ(2, keyring_revoke_all(self->kr));
	ASSERT_EQ(1, write(go[1], "g", 1));
	for (ssize_t n; (n = read(res[0], out + used, sizeof(out) - 1 - used)) > 0;)
		used += (size_t)n;
	out[used] = '\0';
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(1, WEXITSTATUS(st));
	EXPECT_NONNULL(strstr(out, "Key has been revoked"));
	EXPECT_NULL(strstr(out, WL_KEY));
}

TEST_F(g, granted_key_expires_after_its_timeout)
{
	const char *grant[] = { "default/key/short" };
	char *argv[] = { "keyctl", "print", NULL, NULL };
	key_serial_t k, ring;
	struct timespec t0, t1;
	struct ctr c;

	/* 4 s: the first read must beat the timeout even on a loaded machine */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, keyring_add(self->kr, "default/key/short", KEYRING_USER, "short", 5, 4, &k));
	ASSERT_EQ(0, keyring_container_new(self->kr, "short", grant, 1, &ring));
	argv[2] = SERIAL(k);
	ASSERT_EQ(0, run_ctr("short", ring, true, argv, NULL, NULL, &c));
	EXPECT_EQ(0, ctr_exit(&c));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	usleep(5200000 - (useconds_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
				      (t1.tv_nsec - t0.tv_nsec) / 1000));
	ASSERT_EQ(0, run_ctr("short", ring, true, argv, NULL, NULL, &c));
	EXPECT_EQ(1, ctr_exit(&c));
	EXPECT_NONNULL(strstr(c.out, "Key has expired"));
}

static int read_with_libveilkey(void *arg)
{
	const char *uri = arg;
	char path[4096], buf[64];
	ssize_t (*rd)(const char *, void *, size_t);
	void *h;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/libveilkey.so", harness_builddir());
	h = dlopen(path, RTLD_NOW);
	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 2;
	}
	rd = (ssize_t (*)(const char *, void *, size_t))dlsym(h, "veilkey_read");
	if (!rd || dlsym(h, "keyring_uri_to_desc")) {
		printf("exports wrong\n");
		return 3;
	}
	n = rd(uri, buf, sizeof(buf));
	if (n < 0) {
		printf("%s\n", strerror((int)-n));
		return 1;
	}
	fwrite(buf, 1, (size_t)n, stdout);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

TEST_F(g, libveilkey_reads_granted_key_by_kbs_uri)
{
	struct ctr c;

	ASSERT_EQ(0, run_ctr("decryptd", self->ring_svc, true, NULL, read_with_libveilkey,
			     "kbs:///default/fhe/sk", &c));
	EXPECT_EQ(0, ctr_exit(&c));
	EXPECT_STREQ(FHE_SEED, c.out);

	ASSERT_EQ(0, run_ctr("workload", self->ring_wl, true, NULL, read_with_libveilkey,
			     "kbs:///default/fhe/sk", &c));
	EXPECT_EQ(1, ctr_exit(&c));
	EXPECT_STREQ("Required key not available\n", c.out);
}

TEST_F(g, veilkey_refuses_short_buffers_and_bad_uris)
{
	pid_t pid = fork();
	int st;

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char buf[8];
		int bad = 0;

		if (keyring_join_container("decryptd", self->ring_svc) < 0)
			_exit(99);
		if (veilkey_read("kbs:///default/fhe/sk", buf, sizeof(buf)) != -ENOBUFS)
			bad |= 1;
		if (veilkey_read("https:///default/fhe/sk", buf, sizeof(buf)) != -EPROTONOSUPPORT)
			bad |= 2;
		if (veilkey_read("kbs:///default/fhe", buf, sizeof(buf)) != -EINVAL)
			bad |= 4;
		if (veilkey_find("kbs:///default/fhe/sk") != self->fhe)
			bad |= 8;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_F(g, refuses_unknown_grants_and_bad_names)
{
	const char *unknown[] = { "default/key/none" }, *bad[] = { "default/key" };
	key_serial_t ring;

	EXPECT_EQ(-ENOKEY, keyring_container_new(self->kr, "x", unknown, 1, &ring));
	EXPECT_EQ(-EINVAL, keyring_container_new(self->kr, "x", bad, 1, &ring));
	EXPECT_EQ(-EINVAL, keyring_container_new(self->kr, "a/b", NULL, 0, &ring));
	EXPECT_EQ(-EINVAL, keyring_container_new(self->kr, "", NULL, 0, &ring));
	EXPECT_EQ(-EINVAL, keyring_join_container("..", 0));
}

TEST_F(g, container_ring_is_restricted_with_exact_permissions)
{
	char d[256];

	ASSERT_GE(keyctl_describe(self->ring_wl, d, sizeof(d)), 0);
	EXPECT_STREQ("keyring;0;0;0b100000;veil:ctr:workload", d);
	/* restricted: not even veil-init can add to it */
	EXPECT_EQ(-1, add_key("user", "veil:x/y/z", "v", 1, self->ring_wl));
	EXPECT_TRUE(errno == EPERM || errno == EACCES);
}
