/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veil's BPF LSM isolation policy: what ebpf/isolation.bpf.c and its loader
 * ebpf/isolation.c share, then the loader's API.
 *
 * Identity is the cgroup v2 id of the calling task. A cgroup veil-init has
 * registered as a container is confined once it is sealed, and it is sealed
 * by the first execve inside it: veil-init's own setup code in the forked
 * child (mounts, keyring join) runs before that, the workload after. Every
 * task outside registered cgroups is allowed everything, so a bug in a policy
 * cannot lock up the machine that loads it. Denials return -EPERM (for keys
 * -EACCES would let a possessor read anyway: feasibility §2.5-3) and are
 * reported through a ring buffer.
 */
#ifndef VEIL_EBPF_ISOLATION_H
#define VEIL_EBPF_ISOLATION_H

#ifndef __bpf__
#include <linux/types.h>
#include <stdint.h>
#endif

/* struct ebpf_ctr.flags: what a container is granted beyond the default */
#define EBPF_CTR_RAW_SOCKETS (1u << 0)	/* AF_PACKET, SOCK_RAW over IP */

struct ebpf_ctr {
	__u32 flags;
	__u32 sealed;	/* set by the first execve in the cgroup */
};

/* key_grants key: (key or keyring serial, container cgroup id) */
struct ebpf_key_grant {
	__s32 serial;
	__u32 pad;
	__u64 cgid;
};

/* protected_inodes key: a file on a given kind of filesystem */
struct ebpf_fs_inode {
	__u64 magic;
	__u64 ino;
};

/* protected_fs value */
#define EBPF_FS_DENY_OPEN 1	/* any open (securityfs, bpffs, debugfs, tracefs) */
#define EBPF_FS_DENY_WRITE 2	/* opens for writing (sysfs, cgroup2, procfs) */

enum ebpf_hook {
	EBPF_HOOK_FILE_OPEN = 1,
	EBPF_HOOK_KEY_PERMISSION,
	EBPF_HOOK_PTRACE_ACCESS,
	EBPF_HOOK_PTRACE_TRACEME,
	EBPF_HOOK_TASK_KILL,
	EBPF_HOOK_BPF,
	EBPF_HOOK_MODULE_REQUEST,
	EBPF_HOOK_LOAD_DATA,
	EBPF_HOOK_READ_FILE,
	EBPF_HOOK_SB_MOUNT,
	EBPF_HOOK_MOVE_MOUNT,
	EBPF_HOOK_SB_UMOUNT,
	EBPF_HOOK_PIVOTROOT,
	EBPF_HOOK_PERF_EVENT,
	EBPF_HOOK_SOCKET_CREATE,
	EBPF_HOOK_USERNS_CREATE,
	EBPF_HOOK_MAX,
};

/* One denial, as the ring buffer carries it. `arg` depends on the hook. */
struct ebpf_denial {
	__u64 cgid;
	__u64 arg;
	__u32 hook;
	__u32 pid;
	char comm[16];
};

#define EBPF_MAX_CONTAINERS 256
#define EBPF_MAX_KEY_GRANTS 4096
#define EBPF_MAX_PROTECTED 1024
#define EBPF_RINGBUF_SIZE (64 * 1024)

#ifndef __bpf__
#include <stdbool.h>
#include <stddef.h>

struct ebpf_isolation;

/*
 * 1 when the running kernel has BPF LSM active (bpf in
 * /sys/kernel/security/lsm), 0 when not, -errno when that cannot be told.
 */
int ebpf_lsm_active(void);

/* The cgroup v2 id of a cgroup directory (what bpf_get_current_cgroup_id gives). */
int ebpf_cgroup_id(const char *path, uint64_t *ret_id);

/*
 * Opens, verifies and attaches the programs; fills the protected devices,
 * filesystems and files (veil's defaults: TPM and TEE guest devices,
 * /dev/mem, /dev/kmem, /dev/port, /dev/kmsg, every block device, /proc/kcore,
 * /proc/sysrq-trigger, securityfs, bpffs, debugfs, tracefs; writes to sysfs,
 * cgroup2 and procfs). pin_dir (NULL: none) pins the links there so the
 * policy outlives the loader. -EOPNOTSUPP when BPF LSM is not active.
 */
int ebpf_isolation_new(const char *pin_dir, struct ebpf_isolation **ret);
/* Detaches (unless pinned) and frees. NULL is fine. */
struct ebpf_isolation *ebpf_isolation_free(struct ebpf_isolation *iso);

/* Registers a container cgroup (unsealed until its first execve). */
int ebpf_isolation_add_container(struct ebpf_isolation *iso, const char *name, uint64_t cgid,
				 uint32_t flags);
int ebpf_isolation_remove_container(struct ebpf_isolation *iso, uint64_t cgid);
/* The name given for cgid, or NULL. */
const char *ebpf_isolation_container_name(const struct ebpf_isolation *iso, uint64_t cgid);

/*
 * Keys: a protected key (or keyring) is reachable from a container only if
 * granted to it, and then only for view, read and search.
 */
int ebpf_isolation_protect_key(struct ebpf_isolation *iso, int32_t serial);
int ebpf_isolation_grant_key(struct ebpf_isolation *iso, int32_t serial, uint64_t cgid);

/* One more file nobody in a container may open (char devices by number). */
int ebpf_isolation_protect_path(struct ebpf_isolation *iso, const char *path);

/* The ring buffer's fd, for epoll; then ebpf_isolation_poll(iso, 0, ...). */
int ebpf_isolation_events_fd(const struct ebpf_isolation *iso);
typedef void (*ebpf_denial_fn)(const struct ebpf_denial *d, const char *ctr_name, void *userdata);
/* Delivers pending denials; waits up to timeout_ms. Returns how many, or -errno. */
int ebpf_isolation_poll(struct ebpf_isolation *iso, int timeout_ms, ebpf_denial_fn fn,
			void *userdata);

const char *ebpf_hook_name(uint32_t hook);

/*
 * The log line for a denial: "LSM denied HOOK (DETAIL) to container 'NAME':
 * pid N comm 'C'". NAME NULL gives "cgroup ID". Returns the length, as snprintf.
 */
int ebpf_denial_format(const struct ebpf_denial *d, const char *name, char *buf, size_t len);

/*
 * SHA-256 over the loaded policy: each program's name and tag, then every
 * policy map's entries in sorted order, then `extra` (the seccomp digest, or
 * NULL). 64 hex digits + NUL: what veil measures before the first container.
 */
int ebpf_isolation_digest(const struct ebpf_isolation *iso, const char *extra, char hex[65]);

/*
 * SHA-256 of the BPF object built into this program (the skeleton's ELF), 64
 * hex digits + NUL. Unlike the program tags it needs no kernel: the tags are
 * a function of this object and the running kernel's BTF (CO-RE), so it is
 * what an offline prediction of veil's measurements can name.
 */
int ebpf_isolation_object_digest(char hex[65]);

#endif
#endif
