// SPDX-License-Identifier: GPL-2.0-only
/* veil's keyring on the host's real kernel keyring. */
#include "tests/harness.h"

#include <sys/wait.h>
#include <unistd.h>

#include "keyring/keyring.h"

FIXTURE(kr) {
	struct keyring *kr;
};

FIXTURE_SETUP(kr)
{
	int r = keyring_new(&self->kr);

	if (r == -ENOSYS || r == -EPERM)
		SKIP("kernel keyring unavailable: %s", strerror(-r));
	ASSERT_EQ(0, r);
}

FIXTURE_TEARDOWN(kr)
{
	if (self->kr) {
		keyring_revoke_all(self->kr);
		keyctl_unlink(keyring_serial(self->kr), KEY_SPEC_PROCESS_KEYRING);
		keyring_free(self->kr);
	}
}

static void describe(key_serial_t k, char *buf, size_t len)
{
	long n = keyctl_describe(k, buf, len);

	if (n < 0)
		snprintf(buf, len, "error: %s", strerror(errno));
}

TEST_F(kr, veil_keyring_is_possessor_only)
{
	char d[256];

	describe(keyring_serial(self->kr), d, sizeof(d));
	EXPECT_STREQ("keyring;0;0;3f000000;veil", d);
}

TEST_F(kr, user_key_has_exact_permissions_and_description)
{
	key_serial_t k;
	char d[256];

	ASSERT_EQ(0, keyring_add(self->kr, "default/key/a", KEYRING_USER, "secret", 6, 0, &k));
	describe(k, d, sizeof(d));
	/* pos VIEW|READ|SEARCH|LINK = 1b, usr SETATTR = 20, grp/oth nothing */
	EXPECT_STREQ("user;0;0;1b200000;veil:default/key/a", d);
}

TEST_F(kr, logon_key_is_never_readable)
{
	key_serial_t k;
	char d[256], buf[16];

	ASSERT_EQ(0, keyring_add(self->kr, "default/dm/root", KEYRING_LOGON, "0123456789abcdef", 16,
				 0, &k));
	describe(k, d, sizeof(d));
	EXPECT_STREQ("logon;0;0;19200000;veil:default/dm/root", d);
	EXPECT_EQ(-1, keyctl_read(k, buf, sizeof(buf)));
	EXPECT_EQ(EOPNOTSUPP, errno);
}

TEST_F(kr, veil_init_reads_back_through_possession)
{
	key_serial_t k, f;
	char buf[16] = "";

	ASSERT_EQ(0, keyring_add(self->kr, "default/key/a", KEYRING_USER, "secret", 6, 0, &k));
	EXPECT_EQ(6, keyctl_read(k, buf, sizeof(buf)));
	EXPECT_MEMEQ("secret", buf, 6);
	ASSERT_EQ(0, keyring_find(self->kr, "default/key/a", &f));
	EXPECT_EQ(k, f);
	EXPECT_EQ(-ENOKEY, keyring_find(self->kr, "default/key/b", &f));
}

TEST_F(kr, other_host_process_cannot_read_or_widen)
{
	key_serial_t k;
	pid_t pid;
	int st;

	ASSERT_EQ(0, keyring_add(self->kr, "default/key/a", KEYRING_USER, "secret", 6, 0, &k));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* A fork loses the process keyring: root, owner, but no possessor. */
		char buf[16];
		int bad = 0;

		if (keyctl_read(k, buf, sizeof(buf)) != -1 || errno != EACCES)
			bad |= 1;
		if (keyctl_link(k, KEY_SPEC_SESSION_KEYRING) != -1 || errno != EACCES)
			bad |= 2;
		if (keyctl_search(KEY_SPEC_SESSION_KEYRING, "user", "veil:default/key/a", 0) != -1 ||
		    errno != ENOKEY)
			bad |= 4;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_F(kr, refuses_duplicates_bad_paths_and_oversized_payloads)
{
	static char big[KEYRING_PAYLOAD_MAX + 1];
	key_serial_t k;

	ASSERT_EQ(0, keyring_add(self->kr, "r/t/a", KEYRING_USER, "x", 1, 0, &k));
	EXPECT_EQ(-EEXIST, keyring_add(self->kr, "r/t/a", KEYRING_USER, "y", 1, 0, &k));
	EXPECT_EQ(-EINVAL, keyring_add(self->kr, "r/t", KEYRING_USER, "y", 1, 0, &k));
	EXPECT_EQ(-EINVAL, keyring_add(self->kr, "r/t/../x", KEYRING_USER, "y", 1, 0, &k));
	EXPECT_EQ(-EINVAL, keyring_add(self->kr, "r/t/b", KEYRING_USER, "y", 0, 0, &k));
	EXPECT_EQ(-EINVAL, keyring_add(self->kr, "r/t/b", 7, "y", 1, 0, &k));
	EXPECT_EQ(-EMSGSIZE, keyring_add(self->kr, "r/t/b", KEYRING_USER, big, sizeof(big), 0, &k));
	EXPECT_EQ(-ERANGE, keyring_add(self->kr, "r/t/b", KEYRING_USER, "y", 1,
				       KEYRING_TIMEOUT_MAX + 1, &k));
	EXPECT_EQ(0, keyring_add(self->kr, "r/t/b", KEYRING_USER, big, KEYRING_PAYLOAD_MAX, 0, &k));
	EXPECT_EQ(2, keyring_count(self->kr));
}

TEST_F(kr, revoke_all_revokes_every_key)
{
	key_serial_t a, b;
	char buf[8];

	ASSERT_EQ(0, keyring_add(self->kr, "r/t/a", KEYRING_USER, "a", 1, 0, &a));
	ASSERT_EQ(0, keyring_add(self->kr, "r/t/b", KEYRING_LOGON, "b", 1, 0, &b));
	EXPECT_EQ(1, keyctl_read(a, buf, sizeof(buf)));
	EXPECT_EQ(2, keyring_revoke_all(self->kr));
	EXPECT_EQ(-1, keyctl_read(a, buf, sizeof(buf)));
	EXPECT_EQ(EKEYREVOKED, errno);
	EXPECT_EQ(-1, keyctl_describe(b, buf, sizeof(buf)));
	EXPECT_EQ(EKEYREVOKED, errno);
	/* Idempotent: nothing left to revoke, nothing fails. */
	EXPECT_EQ(0, keyring_revoke_all(self->kr));
}

TEST_F(kr, timeout_expires_the_key)
{
	key_serial_t k;
	char buf[8];

	ASSERT_EQ(0, keyring_add(self->kr, "r/t/a", KEYRING_USER, "a", 1, 1, &k));
	EXPECT_EQ(1, keyctl_read(k, buf, sizeof(buf)));
	usleep(2100 * 1000);
	EXPECT_EQ(-1, keyctl_read(k, buf, sizeof(buf)));
	EXPECT_EQ(EKEYEXPIRED, errno);
	/* Revoking an expired key is no failure: it is already unreadable. */
	EXPECT_EQ(1, keyring_revoke_all(self->kr));
}

TEST_F(kr, key_at_lists_every_added_serial_in_order)
{
	key_serial_t a, b, got;

	ASSERT_EQ(0, keyring_add(self->kr, "default/key/a", KEYRING_USER, "1", 1, 0, &a));
	ASSERT_EQ(0, keyring_add(self->kr, "default/key/b", KEYRING_LOGON, "2", 1, 0, &b));
	ASSERT_EQ(0, keyring_key_at(self->kr, 0, &got));
	EXPECT_EQ(a, got);
	ASSERT_EQ(0, keyring_key_at(self->kr, 1, &got));
	EXPECT_EQ(b, got);
	EXPECT_EQ(-ERANGE, keyring_key_at(self->kr, 2, &got));
	EXPECT_EQ(-EINVAL, keyring_key_at(NULL, 0, &got));
}
