// SPDX-License-Identifier: GPL-2.0-only
/*
 * The attack matrix: each attack runs from a container made the way
 * veil-init makes one -- its keyring joined (granted one key), its cgroup
 * registered with the BPF LSM policy, a user namespace mapped to 100000..,
 * veil's default seccomp profile -- once as root in that namespace and once
 * as uid 1000, and must fail with exactly the errno (or signal) listed. Each
 * is paired with a positive control: the same attack as host root with the
 * policy off (an unregistered cgroup, no seccomp, no user namespace), or
 * from the container the key is granted to, which must get the control's
 * answer (0: the attack works there). Runs in the test-bed guest; natively
 * it skips (this host refuses BPF LSM programs).
 */
#include "tests/harness.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ebpf/isolation.h"
#include "keyring/keyring.h"
#include "tests/security/ctr.h"

#define SIGSYS_EXIT (128 + SIGSYS)

enum arg_kind { ARG_NONE, ARG_FHE, ARG_WL, ARG_VICTIM, ARG_SVC_RING, ARG_FHE_DESC, ARG_TPM, ARG_BLK };
/* the control: policy off (free cgroup), the granted service, or the container itself without seccomp */
enum control { CTRL_FREE, CTRL_GRANTED, CTRL_OWN };

static const struct attack {
	const char *name;	/* tests/security/attack NAME */
	enum arg_kind arg;
	int as_root;		/* errno (or 128+signal) as root in the user namespace */
	int as_user;		/* ... as uid 1000 */
	enum control ctrl;
	int control;		/* the control's answer */
	const char *layer;	/* what stops it (docs/threat-model.md) */
} attacks[] = {
	/* keys */
	{ "key_read", ARG_FHE, ENOKEY, ENOKEY, CTRL_GRANTED, 0, "keyring+LSM" },
	{ "key_describe", ARG_FHE, EACCES, EACCES, CTRL_GRANTED, 0, "keyring+LSM" },
	{ "key_search", ARG_FHE_DESC, ENOKEY, ENOKEY, CTRL_GRANTED, 0, "keyring" },
	{ "key_link", ARG_SVC_RING, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	{ "key_join", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp" },
	{ "add_key", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp" },
	{ "key_setperm", ARG_VICTIM, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	{ "key_invalidate", ARG_WL, EPERM, EPERM, CTRL_OWN, 0, "seccomp" },
	/* veil's processes: PID 1 and the test process in its role */
	{ "kill", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "userns+LSM" },
	{ "kill_pid1", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "userns+LSM" },
	{ "tgkill_pid1", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "userns+LSM" },
	{ "pidfd_signal", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "userns+LSM" },
	{ "ptrace", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	{ "ptrace_pid1", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	{ "ptrace_traceme", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	{ "proc_mem", ARG_NONE, EACCES, EACCES, CTRL_FREE, 0, "userns+LSM" },
	{ "proc_environ", ARG_NONE, EACCES, EACCES, CTRL_FREE, 0, "userns+LSM" },
	{ "proc1_mem", ARG_NONE, EACCES, EACCES, CTRL_FREE, 0, "userns+LSM" },
	{ "proc1_environ", ARG_NONE, EACCES, EACCES, CTRL_FREE, 0, "userns+LSM" },
	{ "process_vm_readv", ARG_NONE, EPERM, EPERM, CTRL_FREE, EFAULT, "seccomp+LSM" },
	{ "setns_pid1", ARG_NONE, EACCES, EACCES, CTRL_FREE, 0, "userns+LSM" },
	/* the kernel */
	{ "bpf", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	{ "perf_event_open", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	{ "init_module", ARG_NONE, SIGSYS_EXIT, SIGSYS_EXIT, CTRL_FREE, ENOEXEC, "seccomp+LSM" },
	{ "finit_module", ARG_NONE, SIGSYS_EXIT, SIGSYS_EXIT, CTRL_FREE, ENOEXEC, "seccomp+LSM" },
	{ "kexec_load", ARG_NONE, SIGSYS_EXIT, SIGSYS_EXIT, CTRL_FREE, 0, "seccomp+LSM" },
	{ "kexec_file_load", ARG_NONE, SIGSYS_EXIT, SIGSYS_EXIT, CTRL_FREE, ENOEXEC, "seccomp+LSM" },
	{ "io_uring", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp" },
	{ "userfaultfd", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp" },
	{ "open_by_handle_at", ARG_NONE, EPERM, EPERM, CTRL_FREE, ESTALE, "seccomp" },
	/* mounts and namespaces */
	{ "mount_private", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	{ "mount_tmpfs", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	{ "umount", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	{ "pivot_root", ARG_NONE, EPERM, EPERM, CTRL_FREE, EINVAL, "seccomp+LSM" },
	{ "move_mount", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	{ "chroot_escape", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp" },
	{ "userns", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	/* network */
	{ "raw_socket", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	{ "raw6_socket", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	{ "packet_socket", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
	/* devices and kernel files */
	{ "open", ARG_TPM, EPERM, EPERM, CTRL_FREE, ENODEV, "LSM" },
	{ "open", ARG_BLK, EPERM, EPERM, CTRL_FREE, ENXIO, "LSM" },
	{ "dev_mem", ARG_NONE, EACCES, EACCES, CTRL_FREE, 0, "userns+LSM" },
	{ "kmsg_write", ARG_NONE, EACCES, EACCES, CTRL_FREE, 0, "userns+LSM" },
	{ "kcore", ARG_NONE, EACCES, EACCES, CTRL_FREE, 0, "userns+LSM" },
	{ "securityfs", ARG_NONE, EPERM, EPERM, CTRL_FREE, 0, "LSM" },
	{ "bpffs", ARG_NONE, EACCES, EACCES, CTRL_FREE, 0, "userns+LSM" },
	{ "sysfs_write", ARG_NONE, EACCES, EACCES, CTRL_FREE, 0, "userns+LSM" },
	{ "cgroup_write", ARG_NONE, EACCES, EACCES, CTRL_FREE, 0, "userns+LSM" },
	{ "sysrq", ARG_NONE, EACCES, EACCES, CTRL_FREE, 0, "userns+LSM" },
	{ "sysctl_write", ARG_NONE, EACCES, EACCES, CTRL_FREE, 0, "userns+LSM" },
	/* last: the control really revokes its key */
	{ "key_revoke", ARG_VICTIM, EPERM, EPERM, CTRL_FREE, 0, "seccomp+LSM" },
};

FIXTURE(m) {
	struct ebpf_isolation *iso;
	struct keyring *kr;
	char *ctr, *free_cg, *svc;
	uint64_t ctr_id, free_id, svc_id;
	key_serial_t fhe, wl, victim, ring_svc, ring_ctr;
	char tpm[64], blk[64];
};

static void cg(const char *what, char **path, uint64_t *id)
{
	char name[64];
	int r;

	snprintf(name, sizeof(name), "veil-m%d-%s", (int)getpid(), what);
	r = ctr_cgroup_new(name, path, id);
	if (r < 0)
		SKIP("no cgroup v2 to make '%s' in: %s", name, strerror(-r));
}

FIXTURE_SETUP(m)
{
	const char *svc[] = { "default/fhe/sk" }, *ctr[] = { "default/key/wl" };
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
	ASSERT_EQ(0, ebpf_isolation_add_container(self->iso, "decryptd", self->svc_id, 0));

	ASSERT_EQ(0, keyring_new(&self->kr));
	ASSERT_EQ(0, keyring_add(self->kr, "default/fhe/sk", KEYRING_USER, "FHE-SEED", 8, 0,
				 &self->fhe));
	ASSERT_EQ(0, keyring_add(self->kr, "default/key/wl", KEYRING_USER, "WL", 2, 0, &self->wl));
	ASSERT_EQ(0, keyring_add(self->kr, "default/key/victim", KEYRING_USER, "V", 1, 0,
				 &self->victim));
	ASSERT_EQ(0, keyring_container_new(self->kr, "decryptd", svc, 1, &self->ring_svc));
	ASSERT_EQ(0, keyring_container_new(self->kr, "ctr", ctr, 1, &self->ring_ctr));
	ASSERT_EQ(0, ebpf_isolation_grant_key(self->iso, self->fhe, self->svc_id));
	ASSERT_EQ(0, ebpf_isolation_grant_key(self->iso, self->ring_svc, self->svc_id));
	ASSERT_EQ(0, ebpf_isolation_grant_key(self->iso, self->wl, self->ctr_id));
	ASSERT_EQ(0, ebpf_isolation_grant_key(self->iso, self->ring_ctr, self->ctr_id));
	ASSERT_EQ(0, ebpf_isolation_protect_key(self->iso, self->victim));

	snprintf(self->tpm, sizeof(self->tpm), "/dev/veil-m%d-tpm", (int)getpid());
	snprintf(self->blk, sizeof(self->blk), "/dev/veil-m%d-blk", (int)getpid());
	ASSERT_EQ(0, mknod(self->tpm, S_IFCHR | 0666, makedev(10, 224)));
	ASSERT_EQ(0, mknod(self->blk, S_IFBLK | 0666, makedev(7, 0)));
}

FIXTURE_TEARDOWN(m)
{
	unlink(self->tpm);
	unlink(self->blk);
	if (self->kr) {
		keyring_revoke_all(self->kr);
		keyring_free(self->kr);
	}
	ebpf_isolation_free(self->iso);
	ctr_cgroup_free(self->ctr);
	ctr_cgroup_free(self->free_cg);
	ctr_cgroup_free(self->svc);
}

static const char *arg_of(struct _fixture_m *self, enum arg_kind k, char *buf, size_t len)
{
	switch (k) {
	case ARG_FHE: snprintf(buf, len, "%d", (int)self->fhe); return buf;
	case ARG_WL: snprintf(buf, len, "%d", (int)self->wl); return buf;
	case ARG_VICTIM: snprintf(buf, len, "%d", (int)self->victim); return buf;
	case ARG_SVC_RING: snprintf(buf, len, "%d", (int)self->ring_svc); return buf;
	case ARG_FHE_DESC: return "veil:default/fhe/sk";
	case ARG_TPM: return self->tpm;
	case ARG_BLK: return self->blk;
	case ARG_NONE: break;
	}
	return NULL;
}

TEST_F_TIMEOUT(m, every_attack_fails_exactly_and_its_control_succeeds, 600)
{
	int n = 0;

	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		const struct attack *a = &attacks[i];
		struct ctr_spec c = { .cgroup = self->ctr, .seccomp = true, .name = "ctr",
				      .ring = self->ring_ctr };
		struct ctr_spec ctrl = { .user = CTR_HOST_ROOT };
		char buf[32];
		const char *arg = arg_of(self, a->arg, buf, sizeof(buf));
		int root, user, control;

		c.user = CTR_USERNS_ROOT;
		root = ctr_attack(&c, a->name, arg);
		c.user = CTR_USERNS_USER;
		user = ctr_attack(&c, a->name, arg);
		if (a->ctrl == CTRL_GRANTED) {
			ctrl.cgroup = self->svc;
			ctrl.name = "decryptd";
			ctrl.ring = self->ring_svc;
		} else if (a->ctrl == CTRL_OWN) {
			ctrl.cgroup = self->ctr;
			ctrl.name = "ctr";
			ctrl.ring = self->ring_ctr;
		} else {
			ctrl.cgroup = self->free_cg;
		}
		control = ctr_attack(&ctrl, a->name, arg);
		if (root != a->as_root || user != a->as_user || control != a->control)
			TH_LOG("%s %s: userns root %d (want %d), user %d (want %d), control %d (want %d)",
			       a->name, arg ? arg : "", root, a->as_root, user, a->as_user, control,
			       a->control);
		EXPECT_EQ(a->as_root, root);
		EXPECT_EQ(a->as_user, user);
		EXPECT_EQ(a->control, control);
		/* a denial is never success, and the control must differ from it */
		EXPECT_NE(0, root);
		EXPECT_NE(root, control);
		n++;
	}
	TH_LOG("%d attacks, each as userns root and as uid 1000, each with a control", n);
}

TEST_F(m, granted_container_reads_its_own_key)
{
	struct ctr_spec c = { .cgroup = self->ctr, .seccomp = true, .name = "ctr",
			      .ring = self->ring_ctr, .user = CTR_USERNS_USER };
	struct ctr_spec svc = { .cgroup = self->svc, .seccomp = true, .name = "decryptd",
				.ring = self->ring_svc, .user = CTR_USERNS_USER };
	char wl[16], fhe[16];

	snprintf(wl, sizeof(wl), "%d", (int)self->wl);
	snprintf(fhe, sizeof(fhe), "%d", (int)self->fhe);
	EXPECT_EQ(0, ctr_attack(&c, "key_read", wl));
	EXPECT_EQ(0, ctr_attack(&svc, "key_read", fhe));
	/* and the decryption service, under the same stack, cannot read the workload's key */
	EXPECT_NE(0, ctr_attack(&svc, "key_read", wl));
}
