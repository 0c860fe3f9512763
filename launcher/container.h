/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One container: clone3 into new user, mount, pid, ipc, uts, net and cgroup
 * namespaces (CLONE_INTO_CGROUP where the kernel has it), uid/gid maps from
 * the parent, then in the child: mounts, minimal /dev, pivot_root, masked and
 * read-only paths, sysctl, hostname, rlimits, a fresh session keyring holding
 * exactly the container's granted keys (keyring/keyring.h), user,
 * capabilities, no_new_privs and, last before execve, seccomp.
 */
#ifndef VEIL_LAUNCHER_CONTAINER_H
#define VEIL_LAUNCHER_CONTAINER_H

#include <stdint.h>
#include <sys/types.h>

#include "launcher/oci.h"

struct launcher_started {
	pid_t pid;
	int pidfd;
	int out_fd;	/* read end of the container's stdout+stderr, non-blocking */
};

/*
 * Enter the cgroup leaf only after every mount is done (the parent moves the
 * child there, then the child unshares its cgroup namespace). Needed when the
 * BPF LSM confines the leaf: it refuses mounts from inside it. Without the
 * flag the child is born in the leaf (CLONE_INTO_CGROUP).
 */
#define LAUNCHER_START_CGROUP_AFTER_MOUNTS (1u << 0)

/*
 * grants_ring: the "veil:ctr:<name>" ring veil-init built (keyring_container_new),
 * 0 for none. Starts the container and returns once it has reached execve (or
 * failed before it: then -errno, the child already reaped, the reason logged).
 */
int launcher_container_start(const char *name, const struct oci_config *cfg,
			     const char *cgroup_path, int32_t grants_ring, unsigned int flags,
			     struct launcher_started *ret);

#endif
