/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgroup v2: veil's parent group and one leaf per container. As real PID 1
 * veil mounts a pure cgroup2 hierarchy and enables memory, pids and cpu; in
 * sandbox mode it finds where cgroup2 is mounted and, on a hybrid host whose
 * v2 hierarchy lacks those controllers, keeps the leaves for identity (the
 * LSM keys on the cgroup id) and says that limits are not enforced.
 */
#ifndef VEIL_LAUNCHER_CGROUP_H
#define VEIL_LAUNCHER_CGROUP_H

#include <stdbool.h>

#include "launcher/oci.h"

struct launcher_cgroups {
	char *parent;		/* absolute path of veil's group */
	bool enforced;		/* memory and pids controllers available in leaves */
};

/* Finds the cgroup2 mount in /proc/self/mountinfo ("" when there is none: -ENOENT). */
int launcher_cgroup_find_mount(char **ret);
/* Creates veil's parent group NAME under our own cgroup and enables controllers. */
int launcher_cgroup_setup(const char *name, struct launcher_cgroups *ret);
/* Creates (or recreates) the leaf for a container and applies its limits. */
int launcher_cgroup_leaf(const struct launcher_cgroups *cg, const char *name,
			 const struct oci_config *cfg, char **ret_path);
/* Kills what is left in a leaf and removes it. */
int launcher_cgroup_remove(const char *path);
void launcher_cgroup_done(struct launcher_cgroups *cg);

#endif
