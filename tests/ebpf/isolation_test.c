// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF LSM policy, hook by hook, in the test-bed guest (this host refuses
 * BPF LSM loads: there every test skips). Each attack runs as host root in
 * a registered container cgroup, where only the LSM can stop it, and again
 * in an unregistered cgroup, where it must succeed: the positive control.
 */
#include "tests/harness.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ebpf/isolation.h"
#include "keyring/keyring.h"
#include "tests/security/ctr.h"

FIXTURE(lsm) {
	struct ebpf_isolation *iso;
	char *ctr, *free_cg, *svc;
	uint64_t ctr_id, free_id, svc_id;
};

static void cg(const char *what, char **path, uint64_t *id)
{
	char name[64];
	int r;

	snprintf(name, sizeof(name), "veil-t%d-%s", (int)getpid(), what);
	r = ctr_cgroup_new(name, path, id);
	if (r < 0)
		SKIP("no cgroup v2 to make '%s' in: %s", name, strerror(-r));
}

FIXTURE_SETUP(lsm)
{
	int r = ebpf_isolation_new(NULL, &self->iso);

	if (r == -EOPNOTSUPP)
		SKIP("BPF LSM is not active on this kernel");
	if (r == -EPERM)
		SKIP("this kernel refuses BPF LSM programs (EPERM): run in the test-bed guest");
	ASSERT_EQ(0, r);
	cg("ctr", &self->ctr, &self->ctr_id);
	cg("free", &self->free_cg, &self->free_id);
	cg("svc", &self->svc, &self->svc_id);
	ASSERT_EQ(0, ebpf_isolation_add_container(self->iso, "ctr", self->ctr_id, 0));
	ASSERT_EQ(0, ebpf_isolation_add_container(self->iso, "svc", self->svc_id,
						  EBPF_CTR_RAW_SOCKETS));
}

FIXTURE_TEARDOWN(lsm)
{
	ebpf_isolation_free(self->iso);
	ctr_cgroup_free(self->ctr);
	ctr_cgroup_free(self->free_cg);
	ctr_cgroup_free(self->svc);
}

static int in_cg(const char *cgroup, const char *attack, const char *arg)
{
	struct ctr_spec s = { .cgroup = cgroup, .user = CTR_HOST_ROOT };

	return ctr_attack(&s, attack, arg);
}

static const struct {
	const char *attack;
	int confined;	/* errno in the container cgroup */
	int control;	/* in an unregistered cgroup: 0, or the kernel's own answer */
} hooks[] = {
	{ "kill", EPERM, 0 },
	{ "kill_pid1", EPERM, 0 },
	{ "tgkill_pid1", EPERM, 0 },
	{ "pidfd_signal", EPERM, 0 },
	{ "ptrace", EPERM, 0 },
	{ "ptrace_pid1", EPERM, 0 },
	{ "ptrace_traceme", EPERM, 0 },
	{ "proc_mem", EACCES, 0 },
	{ "proc_environ", EACCES, 0 },
	{ "proc1_mem", EACCES, 0 },
	{ "proc1_environ", EACCES, 0 },
	{ "bpf", EPERM, 0 },
	{ "perf_event_open", EPERM, 0 },
	{ "init_module", EPERM, ENOEXEC },
	{ "finit_module", EPERM, ENOEXEC },
	{ "kexec_load", EPERM, 0 },
	{ "mount_private", EPERM, 0 },
	{ "mount_tmpfs", EPERM, 0 },
	{ "umount", EPERM, 0 },
	{ "pivot_root", EPERM, EINVAL },
	{ "move_mount", EPERM, 0 },
	{ "raw_socket", EPERM, 0 },
	{ "raw6_socket", EPERM, 0 },
	{ "packet_socket", EPERM, 0 },
	{ "userns", EPERM, 0 },
	{ "dev_mem", EPERM, 0 },
	{ "kmsg_write", EPERM, 0 },
	{ "kcore", EPERM, 0 },
	{ "securityfs", EPERM, 0 },
	{ "bpffs", EPERM, 0 },
	{ "sysfs_write", EPERM, 0 },
	{ "cgroup_write", EPERM, 0 },
	{ "sysrq", EPERM, 0 },
	{ "sysctl_write", EPERM, 0 },
};

TEST_F_TIMEOUT(lsm, every_hook_denies_a_confined_container_and_no_one_else, 240)
{
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		int confined = in_cg(self->ctr, hooks[i].attack, NULL);
		int control = in_cg(self->free_cg, hooks[i].attack, NULL);

		if (confined != hooks[i].confined || control != hooks[i].control)
			TH_LOG("%s: confined %d (want %d), control %d (want %d)", hooks[i].attack,
			       confined, hooks[i].confined, control, hooks[i].control);
		EXPECT_EQ(hooks[i].confined, confined);
		EXPECT_EQ(hooks[i].control, control);
	}
}

TEST_F(lsm, raw_sockets_only_for_the_granted_container)
{
	EXPECT_EQ(EPERM, in_cg(self->ctr, "raw_socket", NULL));
	EXPECT_EQ(0, in_cg(self->svc, "raw_socket", NULL));
	EXPECT_EQ(0, in_cg(self->svc, "packet_socket", NULL));
}

TEST_F(lsm, protected_char_and_block_devices_by_number)
{
	char tpm[64], blk[64];
	int control;

	snprintf(tpm, sizeof(tpm), "/dev/veil-t%d-tpm", (int)getpid());
	snprintf(blk, sizeof(blk), "/dev/veil-t%d-blk", (int)getpid());
	ASSERT_EQ(0, mknod(tpm, S_IFCHR | 0600, makedev(10, 224)));
	ASSERT_EQ(0, mknod(blk, S_IFBLK | 0600, makedev(7, 0)));
	EXPECT_EQ(EPERM, in_cg(self->ctr, "open", tpm));
	EXPECT_EQ(EPERM, in_cg(self->ctr, "open", blk));
	/* control: the kernel's own answer (no TPM, no loop device) is not EPERM */
	control = in_cg(self->free_cg, "open", tpm);
	EXPECT_NE(EPERM, control);
	control = in_cg(self->free_cg, "open", blk);
	EXPECT_NE(EPERM, control);
	unlink(tpm);
	unlink(blk);
}

TEST_F(lsm, policy_waits_for_the_first_execve)
{
	char procs[4096];
	pid_t pid;
	int st;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", self->ctr);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int fd = open(procs, O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(100);
		/* veil's own setup code, before exec: not confined yet */
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(101);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, WEXITSTATUS(st));
	/* after an execve in the cgroup it is sealed */
	EXPECT_EQ(EPERM, in_cg(self->ctr, "mount_private", NULL));
}

TEST_F(lsm, keys_only_for_granted_cgroups_and_only_to_read)
{
	const char *svc_grant[] = { "default/fhe/sk" };
	struct ctr_spec thief = { .cgroup = self->ctr, .user = CTR_HOST_ROOT, .name = "thief" };
	struct ctr_spec svc = { .cgroup = self->svc, .user = CTR_HOST_ROOT, .name = "svc" };
	struct keyring *kr;
	key_serial_t fhe, ring;
	char serial[16], rs[16];

	ASSERT_EQ(0, keyring_new(&kr));
	ASSERT_EQ(0, keyring_add(kr, "default/fhe/sk", KEYRING_USER, "seed", 4, 0, &fhe));
	ASSERT_EQ(0, keyring_container_new(kr, "svc", svc_grant, 1, &ring));
	ASSERT_EQ(0, ebpf_isolation_grant_key(self->iso, fhe, self->svc_id));
	ASSERT_EQ(0, ebpf_isolation_grant_key(self->iso, ring, self->svc_id));
	snprintf(serial, sizeof(serial), "%d", (int)fhe);
	snprintf(rs, sizeof(rs), "%d", (int)ring);
	svc.ring = ring;
	/* the thief even possesses the ring (host root may link it): the LSM stops it */
	thief.ring = ring;

	EXPECT_EQ(0, ctr_attack(&svc, "key_read", serial));
	/*
	 * The LSM refuses the thief SEARCH on the ring (so it does not possess
	 * the key after all) and the lookup by serial: keyctl_read says ENOKEY.
	 */
	EXPECT_EQ(ENOKEY, ctr_attack(&thief, "key_read", serial));
	EXPECT_EQ(0, ctr_attack(&svc, "key_describe", serial));
	/* not possessed, and the owner's bits give no VIEW */
	EXPECT_EQ(EACCES, ctr_attack(&thief, "key_describe", serial));
	thief.ring = 0;
	EXPECT_EQ(EPERM, ctr_attack(&thief, "key_link", rs));
	/* granted, but only to look: no setattr, no revoke, no link elsewhere */
	EXPECT_EQ(EPERM, ctr_attack(&svc, "key_setperm", serial));
	EXPECT_EQ(EPERM, ctr_attack(&svc, "key_revoke", serial));
	EXPECT_EQ(EPERM, ctr_attack(&thief, "key_setperm", serial));
	/* control: host root outside containers may (it is veil-init's uid) */
	{
		struct ctr_spec root = { .cgroup = self->free_cg, .user = CTR_HOST_ROOT };

		EXPECT_EQ(0, ctr_attack(&root, "key_link", rs));
		EXPECT_EQ(0, ctr_attack(&root, "key_setperm", serial));
	}
	keyring_revoke_all(kr);
	keyring_free(kr);
}

struct seen {
	int n;
	bool bpf_from_ctr;
};

static void on_denial(const struct ebpf_denial *d, const char *name, void *userdata)
{
	struct seen *s = userdata;

	s->n++;
	/* the attacker is this very program, re-executed */
	if (d->hook == EBPF_HOOK_BPF && name && strcmp(name, "ctr") == 0 &&
	    strncmp(d->comm, program_invocation_short_name, sizeof(d->comm) - 1) == 0)
		s->bpf_from_ctr = true;
}

TEST_F(lsm, denials_reach_the_ring_buffer_with_the_container_name)
{
	struct seen s = {};

	EXPECT_EQ(0, in_cg(self->free_cg, "bpf", NULL));
	EXPECT_EQ(0, ebpf_isolation_poll(self->iso, 0, on_denial, &s));
	EXPECT_EQ(EPERM, in_cg(self->ctr, "bpf", NULL));
	EXPECT_GE(ebpf_isolation_poll(self->iso, 1000, on_denial, &s), 1);
	EXPECT_TRUE(s.bpf_from_ctr);
}

TEST_F(lsm, digest_covers_programs_and_policy)
{
	char a[65], b[65], c[65], d[65];

	ASSERT_EQ(0, ebpf_isolation_digest(self->iso, NULL, a));
	ASSERT_EQ(0, ebpf_isolation_digest(self->iso, NULL, b));
	EXPECT_STREQ(a, b);
	ASSERT_EQ(0, ebpf_isolation_add_container(self->iso, "x", 424242, 0));
	ASSERT_EQ(0, ebpf_isolation_digest(self->iso, NULL, c));
	EXPECT_STRNE(a, c);
	ASSERT_EQ(0, ebpf_isolation_remove_container(self->iso, 424242));
	ASSERT_EQ(0, ebpf_isolation_digest(self->iso, "seccomp", d));
	EXPECT_STRNE(a, d);
	ASSERT_EQ(0, ebpf_isolation_digest(self->iso, NULL, d));
	EXPECT_STREQ(a, d);
	/* sealing (a run-time state) does not change the policy digest */
	EXPECT_EQ(EPERM, in_cg(self->ctr, "bpf", NULL));
	ASSERT_EQ(0, ebpf_isolation_digest(self->iso, NULL, d));
	EXPECT_STREQ(a, d);
}

TEST_F(lsm, detaching_lifts_the_policy)
{
	EXPECT_EQ(EPERM, in_cg(self->ctr, "bpf", NULL));
	self->iso = ebpf_isolation_free(self->iso);
	EXPECT_EQ(0, in_cg(self->ctr, "bpf", NULL));
}
