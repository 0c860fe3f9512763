/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veil-init's side of the BPF LSM (ebpf/isolation.h): load the policy in
 * stage 1, before any container is measured or started, and hold it in PID 1
 * (the links stay open in PID 1 and are never pinned, so no container can
 * reach them to detach); register each container's cgroup with the grants the
 * manifest gives it; protect veil's keys and grant each container its own;
 * log every denial with the container's name from PID 1's event loop.
 *
 * The measured "isolation" event is built from static inputs only (the BPF
 * object built into veil-init, the manifest, the containers' seccomp
 * filters), so `veil measure --pcr` predicts it offline. Cgroup ids, key
 * serials and inode numbers are run-time values and stay out of it
 * (docs/threat-model.md).
 */
#ifndef VEIL_LAUNCHER_LSM_H
#define VEIL_LAUNCHER_LSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "launcher/manifest.h"
#include "launcher/oci.h"

#define LSM_EVENT_OP "isolation"
#define LSM_DENIALS_PER_WAKEUP 32	/* logged per loop wake-up; the rest are counted */

struct launcher_lsm;
struct launcher_pod;
struct keyring;

/*
 * Loads and attaches the policy when BPF LSM is active: 0 with *ret set. 0
 * with *ret NULL when BPF LSM is not active (the caller decides whether the
 * manifest allows the degraded mode). -errno when it is active and loading
 * failed: the caller must not continue (fail closed).
 */
int launcher_lsm_load(struct launcher_lsm **ret);
struct launcher_lsm *launcher_lsm_free(struct launcher_lsm *l);

/* Registers a cgroup (a container's leaf, or a service's) under name. */
int launcher_lsm_add(struct launcher_lsm *l, const char *name, const char *cgroup_path,
		     uint32_t flags, uint64_t *ret_cgid);
/* The ebpf flags (EBPF_CTR_*) the manifest grants a container. */
uint32_t launcher_lsm_flags(const struct manifest_container *mc);
/* Grants one key (or keyring) serial to a registered cgroup; it becomes protected. */
int launcher_lsm_grant_key(struct launcher_lsm *l, int32_t serial, uint64_t cgid);

/*
 * After attestation: protects veil's keyring and every key in it, and grants
 * each started-to-be unit its ring and exactly the keys the manifest names
 * for it, by its cgroup id. Returns the number of grants, or -errno.
 */
int launcher_lsm_grant_pod(struct launcher_lsm *l, const struct keyring *kr,
			   const struct launcher_pod *pod);

/*
 * veil-decryptd's cgroup joins the policy like a container's (no raw
 * sockets), granted its ring and the FHE key the manifest names for it
 * (decryptd.key), nothing else. Its denials are logged as 'veil-decryptd'.
 */
int launcher_lsm_add_decryptd(struct launcher_lsm *l, const struct keyring *kr,
			      const struct manifest *m, const char *cgroup_path, int32_t ring,
			      uint64_t *ret_cgid);
/* Forgets a registered cgroup (its leaf is about to go). */
int launcher_lsm_remove(struct launcher_lsm *l, uint64_t cgid);

/* Adds the denial ring buffer to the pod's event loop. */
int launcher_lsm_watch(struct launcher_lsm *l, struct launcher_pod *pod);
/* Logs pending denials now (also what the loop calls); returns how many. */
int launcher_lsm_drain(struct launcher_lsm *l);

/*
 * The seccomp filter a container runs under, as veil-init installs it: the
 * bundle's linux.seccomp, else veil's default profile. SHA-256 hex + NUL.
 */
int launcher_lsm_seccomp_digest(const struct oci_config *cfg, char hex[65]);

/*
 * The content of the "isolation" event, canonical JSON (sorted keys, compact):
 *   {"bpf":"sha256:<object>"|"inactive","containers":[{"keys":[URI...],
 *    "name":"…","raw_sockets":bool,"seccomp":"sha256:…"}...],"version":1}
 * seccomp[i] is container i's digest (manifest order), NULL for a container
 * veil-init refused (then it is left out). A manifest with a decryptd
 * section adds "decryptd":{"keys":[URI],"name":"veil-decryptd",
 * "raw_sockets":false,"seccomp":"sha256:…"}: the filter veil-decryptd
 * installs in itself (fhe/decryptd.h), which is as static as the binary.
 * malloc'd, NULL on failure.
 */
char *launcher_lsm_event_json(bool enforcing, const struct manifest *m,
			      const char *const *seccomp);

#endif
