/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * OCI runtime-spec config.json, strictly: every field veil honours is parsed
 * into struct oci_config; a security-relevant field veil does not support
 * (hooks, devices, apparmor/selinux labels, joining namespaces by path, ...)
 * is an error naming it, never silently ignored.
 */
#ifndef VEIL_LAUNCHER_OCI_H
#define VEIL_LAUNCHER_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/json.h"

#define OCI_CONFIG_MAX (1u << 20)
#define OCI_ARGS_MAX 256u
#define OCI_ENV_MAX 512u
#define OCI_STR_MAX 4096u
#define OCI_MOUNTS_MAX 64u
#define OCI_PATHS_MAX 64u
#define OCI_MAPPINGS_MAX 5u
#define OCI_RLIMITS_MAX 16u
#define OCI_SYSCTL_MAX 64u
#define OCI_GROUPS_MAX 64u

enum oci_capset { OCI_CAP_BOUNDING, OCI_CAP_EFFECTIVE, OCI_CAP_INHERITABLE, OCI_CAP_PERMITTED,
		  OCI_CAP_AMBIENT, OCI_CAP_NSETS };

struct oci_mount {
	char *destination;
	char *type;		/* proc tmpfs bind sysfs devpts mqueue */
	char *source;
	unsigned long flags;	/* MS_* */
	unsigned long propagation;
	bool bind_ro;		/* bind mounts: remount read-only */
	char *data;		/* remaining options, comma separated */
};

struct oci_idmap {
	uint32_t container_id, host_id, size;
};

struct oci_rlimit {
	int resource;
	uint64_t soft, hard;
};

struct oci_sysctl {
	char *key, *value;
};

struct oci_config {
	char **args;
	size_t n_args;
	char **env;
	size_t n_env;
	char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t n_groups;
	int umask;		/* -1: unset */
	bool caps_set;
	uint64_t caps[OCI_CAP_NSETS];
	struct oci_rlimit rlimits[OCI_RLIMITS_MAX];
	size_t n_rlimits;
	bool no_new_privs;
	int oom_score_adj;
	bool has_oom_score_adj;
	char *root_path;	/* absolute (bundle joined) */
	bool root_readonly;
	char *hostname;
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_idmap uid_map[OCI_MAPPINGS_MAX], gid_map[OCI_MAPPINGS_MAX];
	size_t n_uid_map, n_gid_map;
	int64_t memory_limit;	/* -1: none */
	int64_t memory_swap;	/* -1: none */
	int64_t pids_limit;	/* -1: none */
	int64_t cpu_quota;	/* -1: none */
	uint64_t cpu_period;
	uint64_t cpu_shares;	/* 0: unset */
	char **masked;
	size_t n_masked;
	char **readonly;
	size_t n_readonly;
	struct oci_sysctl *sysctl;
	size_t n_sysctl;
	void *seccomp;		/* scmp_filter_ctx, NULL without linux.seccomp */
};

/*
 * Parses config.json bytes; bundle is the bundle directory (root.path is
 * resolved against it). 0 or -EINVAL/-E2BIG/-ENOMEM with e->msg set.
 */
int launcher_oci_parse(const char *buf, size_t len, const char *bundle, struct oci_config **ret,
		       struct vjson_err *e);
struct oci_config *launcher_oci_free(struct oci_config *c);

/* linux.seccomp (launcher/seccomp.c): builds a libseccomp filter. */
int launcher_seccomp_build(json_t *seccomp, void **ret_ctx, struct vjson_err *e);
void launcher_seccomp_free(void *ctx);
/* Installs the filter; the last step before execve. 0 or -errno. */
int launcher_seccomp_load(void *ctx);

#endif
