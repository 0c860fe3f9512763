/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A container as veil-init makes one, for attack tests: a child that joins a
 * cgroup and its keyring, enters a user namespace (uids 100000+, as root or
 * as uid 1000) or stays host root, loads veil's default seccomp profile and
 * execs the attacker (the test program itself, see attack.h). Its first
 * execve seals the cgroup's BPF LSM policy, exactly as for a real workload.
 */
#ifndef VEIL_TESTS_SECURITY_CTR_H
#define VEIL_TESTS_SECURITY_CTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <keyutils.h>

enum ctr_user {
	CTR_HOST_ROOT,		/* no user namespace: the LSM alone decides */
	CTR_USERNS_ROOT,	/* root in a user namespace mapped to 100000.. */
	CTR_USERNS_USER,	/* uid 1000 in that namespace (kuid 101000) */
};

struct ctr_spec {
	const char *cgroup;	/* directory to join; NULL: the caller's */
	enum ctr_user user;
	bool seccomp;		/* veil's default profile */
	const char *name;	/* session keyring "veil:<name>"; NULL: none */
	key_serial_t ring;	/* linked into it (0: none) */
};

/* The attacker's exit status (0 or an errno), 128+signal, or -errno of the harness. */
int ctr_attack(const struct ctr_spec *s, const char *attack, const char *arg);

/* The cgroup v2 mount ("/sys/fs/cgroup" or ".../unified"), or NULL. */
const char *ctr_cgroup_root(void);
/* Makes ROOT/NAME; returns its path (malloc'd) and id. */
int ctr_cgroup_new(const char *name, char **ret_path, uint64_t *ret_id);
void ctr_cgroup_free(char *path);

#endif
