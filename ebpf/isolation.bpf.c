// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil's BPF LSM isolation programs (see isolation.h). One program per hook;
 * every program returns 0 at once for a task outside a sealed container
 * cgroup (one hash lookup), and a literal -EPERM when it denies (6.12's
 * verifier wants the return value provably in [-4095, 0]).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ebpf/isolation.h"

#define EPERM 1
#define S_IFMT 00170000
#define S_IFBLK 0060000
#define S_IFCHR 0020000
#define FMODE_WRITE 0x2
#define AF_INET 2
#define AF_INET6 10
#define AF_PACKET 17
#define SOCK_RAW 3
#define SOCK_PACKET 10
#define SOCK_TYPE_MASK 0xf
#define PROC_SUPER_MAGIC 0x9fa0

/* key_permission's need_perm: what a granted container may ask for */
#define KEY_NEED_VIEW 1
#define KEY_NEED_READ 2
#define KEY_NEED_SEARCH 4
/* a lookup by serial; the real check (READ, ...) follows it */
#define KEY_DEFER_PERM_CHECK 10

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EBPF_MAX_CONTAINERS);
	__type(key, __u64);
	__type(value, struct ebpf_ctr);
} containers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EBPF_MAX_KEY_GRANTS);
	__type(key, __s32);
	__type(value, __u8);
} protected_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EBPF_MAX_KEY_GRANTS);
	__type(key, struct ebpf_key_grant);
	__type(value, __u8);
} key_grants SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EBPF_MAX_PROTECTED);
	__type(key, __u32);	/* the kernel's dev_t: major << 20 | minor */
	__type(value, __u8);
} protected_devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);	/* superblock magic */
	__type(value, __u8);	/* EBPF_FS_DENY_* */
} protected_fs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EBPF_MAX_PROTECTED);
	__type(key, struct ebpf_fs_inode);
	__type(value, __u8);
} protected_inodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, EBPF_RINGBUF_SIZE);
} events SEC(".maps");

/* Denials the ring buffer had no room for. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dropped SEC(".maps");

/* The caller's container policy when it is confined (registered and sealed). */
static __always_inline struct ebpf_ctr *confined(__u64 *cgid)
{
	struct ebpf_ctr *c;

	*cgid = bpf_get_current_cgroup_id();
	c = bpf_map_lookup_elem(&containers, cgid);
	if (!c || !c->sealed)
		return NULL;
	return c;
}

static __always_inline void report(__u32 hook, __u64 cgid, __u64 arg)
{
	struct ebpf_denial *d = bpf_ringbuf_reserve(&events, sizeof(*d), 0);

	if (!d) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&dropped, &zero);

		if (n)
			(*n)++;
		return;
	}
	d->cgid = cgid;
	d->arg = arg;
	d->hook = hook;
	d->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(d->comm, sizeof(d->comm));
	bpf_ringbuf_submit(d, 0);
}

static __always_inline __u64 task_cgid(struct task_struct *p)
{
	return BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id);
}

/* Seal a registered container at its first execve: the workload starts. */
SEC("lsm/bprm_check_security")
int BPF_PROG(veil_bprm_check, struct linux_binprm *bprm)
{
	__u64 cgid = bpf_get_current_cgroup_id();
	struct ebpf_ctr *c = bpf_map_lookup_elem(&containers, &cgid);

	if (c && !c->sealed)
		c->sealed = 1;
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(veil_file_open, struct file *file)
{
	struct ebpf_fs_inode fi;
	struct inode *inode;
	__u32 mode, rdev;
	__u8 *fs;
	__u64 cgid;

	if (!confined(&cgid))
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	rdev = BPF_CORE_READ(inode, i_rdev);
	fi.magic = BPF_CORE_READ(inode, i_sb, s_magic);
	fi.ino = BPF_CORE_READ(inode, i_ino);
	if ((mode & S_IFMT) == S_IFBLK) {
		report(EBPF_HOOK_FILE_OPEN, cgid, ((__u64)1 << 32) | rdev);
		return -EPERM;
	}
	if ((mode & S_IFMT) == S_IFCHR && bpf_map_lookup_elem(&protected_devs, &rdev)) {
		report(EBPF_HOOK_FILE_OPEN, cgid, ((__u64)2 << 32) | rdev);
		return -EPERM;
	}
	fs = bpf_map_lookup_elem(&protected_fs, &fi.magic);
	if (fs && (*fs == EBPF_FS_DENY_OPEN ||
		   (*fs == EBPF_FS_DENY_WRITE && (BPF_CORE_READ(file, f_mode) & FMODE_WRITE)))) {
		report(EBPF_HOOK_FILE_OPEN, cgid, ((__u64)3 << 32) | (__u32)fi.magic);
		return -EPERM;
	}
	if (bpf_map_lookup_elem(&protected_inodes, &fi)) {
		report(EBPF_HOOK_FILE_OPEN, cgid, ((__u64)4 << 32) | (__u32)fi.ino);
		return -EPERM;
	}
	return 0;
}

/*
 * key_ref_t points to a forward-declared struct, so BPF_PROG cannot read it
 * (feasibility §2.5-1): fetch the raw arguments with bpf_get_func_arg.
 */
SEC("lsm/key_permission")
int veil_key_permission(unsigned long long *ctx)
{
	struct ebpf_key_grant g = {};
	__u64 ref = 0, need = 0;
	struct key *key;
	__s32 serial;

	if (!confined(&g.cgid))
		return 0;
	if (bpf_get_func_arg(ctx, 0, &ref) || bpf_get_func_arg(ctx, 2, &need))
		return 0;
	key = (struct key *)(ref & ~1ULL);	/* bit 0: possessed */
	serial = BPF_CORE_READ(key, serial);
	if (!bpf_map_lookup_elem(&protected_keys, &serial))
		return 0;
	g.serial = serial;
	if ((need == KEY_NEED_VIEW || need == KEY_NEED_READ || need == KEY_NEED_SEARCH ||
	     need == KEY_DEFER_PERM_CHECK) &&
	    bpf_map_lookup_elem(&key_grants, &g))
		return 0;
	report(EBPF_HOOK_KEY_PERMISSION, g.cgid, (need << 32) | (__u32)serial);
	return -EPERM;
}

/* ptrace, /proc/PID/mem, /proc/PID/environ: only within one's own cgroup. */
SEC("lsm/ptrace_access_check")
int BPF_PROG(veil_ptrace_access, struct task_struct *child, unsigned int mode)
{
	__u64 cgid;

	if (!confined(&cgid) || task_cgid(child) == cgid)
		return 0;
	report(EBPF_HOOK_PTRACE_ACCESS, cgid, ((__u64)mode << 32) | (__u32)BPF_CORE_READ(child, tgid));
	return -EPERM;
}

SEC("lsm/ptrace_traceme")
int BPF_PROG(veil_ptrace_traceme, struct task_struct *parent)
{
	__u64 cgid;

	if (!confined(&cgid) || task_cgid(parent) == cgid)
		return 0;
	report(EBPF_HOOK_PTRACE_TRACEME, cgid, (__u32)BPF_CORE_READ(parent, tgid));
	return -EPERM;
}

/* Signals (signal 0 included: no probing) only within one's own cgroup. */
SEC("lsm/task_kill")
int BPF_PROG(veil_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig)
{
	__u64 cgid;

	if (!confined(&cgid) || task_cgid(p) == cgid)
		return 0;
	report(EBPF_HOOK_TASK_KILL, cgid, ((__u64)sig << 32) | (__u32)BPF_CORE_READ(p, tgid));
	return -EPERM;
}

SEC("lsm/bpf")
int BPF_PROG(veil_bpf, int cmd)
{
	__u64 cgid;

	if (!confined(&cgid))
		return 0;
	report(EBPF_HOOK_BPF, cgid, (__u32)cmd);
	return -EPERM;
}

SEC("lsm/kernel_module_request")
int BPF_PROG(veil_module_request, char *kmod_name)
{
	__u64 cgid;

	if (!confined(&cgid))
		return 0;
	report(EBPF_HOOK_MODULE_REQUEST, cgid, 0);
	return -EPERM;
}

/* init_module, kexec_load (and firmware, policy blobs) */
SEC("lsm/kernel_load_data")
int BPF_PROG(veil_load_data, enum kernel_load_data_id id)
{
	__u64 cgid;

	if (!confined(&cgid))
		return 0;
	report(EBPF_HOOK_LOAD_DATA, cgid, (__u32)id);
	return -EPERM;
}

/* finit_module, kexec_file_load */
SEC("lsm/kernel_read_file")
int BPF_PROG(veil_read_file, struct file *file, enum kernel_read_file_id id)
{
	__u64 cgid;

	if (!confined(&cgid))
		return 0;
	report(EBPF_HOOK_READ_FILE, cgid, (__u32)id);
	return -EPERM;
}

SEC("lsm/sb_mount")
int BPF_PROG(veil_sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags)
{
	__u64 cgid;

	if (!confined(&cgid))
		return 0;
	report(EBPF_HOOK_SB_MOUNT, cgid, flags);
	return -EPERM;
}

SEC("lsm/move_mount")
int BPF_PROG(veil_move_mount, const struct path *from_path, const struct path *to_path)
{
	__u64 cgid;

	if (!confined(&cgid))
		return 0;
	report(EBPF_HOOK_MOVE_MOUNT, cgid, 0);
	return -EPERM;
}

SEC("lsm/sb_umount")
int BPF_PROG(veil_sb_umount, struct vfsmount *mnt, int flags)
{
	__u64 cgid;

	if (!confined(&cgid))
		return 0;
	report(EBPF_HOOK_SB_UMOUNT, cgid, (__u32)flags);
	return -EPERM;
}

SEC("lsm/sb_pivotroot")
int BPF_PROG(veil_pivotroot, const struct path *old_path, const struct path *new_path)
{
	__u64 cgid;

	if (!confined(&cgid))
		return 0;
	report(EBPF_HOOK_PIVOTROOT, cgid, 0);
	return -EPERM;
}

SEC("lsm/perf_event_open")
int BPF_PROG(veil_perf_event, struct perf_event_attr *attr, int type)
{
	__u64 cgid;

	if (!confined(&cgid))
		return 0;
	report(EBPF_HOOK_PERF_EVENT, cgid, (__u32)type);
	return -EPERM;
}

SEC("lsm/socket_create")
int BPF_PROG(veil_socket_create, int family, int type, int protocol, int kern)
{
	struct ebpf_ctr *c;
	__u64 cgid;
	int t = type & SOCK_TYPE_MASK;

	if (kern)
		return 0;
	c = confined(&cgid);
	if (!c || (c->flags & EBPF_CTR_RAW_SOCKETS))
		return 0;
	if (family == AF_PACKET || t == SOCK_PACKET ||
	    (t == SOCK_RAW && (family == AF_INET || family == AF_INET6))) {
		report(EBPF_HOOK_SOCKET_CREATE, cgid, ((__u64)family << 32) | (__u32)type);
		return -EPERM;
	}
	return 0;
}

/* A new user namespace would give a container a fresh full set of capabilities. */
SEC("lsm/userns_create")
int BPF_PROG(veil_userns_create, const struct cred *cred)
{
	__u64 cgid;

	if (!confined(&cgid))
		return 0;
	report(EBPF_HOOK_USERNS_CREATE, cgid, 0);
	return -EPERM;
}
