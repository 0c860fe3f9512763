/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veil-decryptd as a service of PID 1 (docs/inference.md, "Started by
 * veil-init"). The FHE secret key reaches it only through the kernel
 * keyring: veil-init builds the ring "veil:ctr:veil-decryptd" linking the
 * one key the manifest names, and the forked child joins a fresh session
 * keyring holding that ring before it execs the service, which reads the key
 * into locked memory. No key byte passes through a file, argv, env or pipe.
 *
 * veil-init writes the service's config (socket, workers, models, the cgroup
 * of every container granted a model) into a tmpfs of its own, starts it in
 * its own cgroup leaf and mount, network, IPC and UTS namespaces, with the
 * file system read-only but for that tmpfs, no capabilities and
 * no_new_privs, its cgroup registered with the BPF LSM like a container's
 * (granted its ring and its key only; it enters the cgroup after that
 * set-up, so that a restart works under the sealed policy), waits until it
 * listens, bind-mounts the socket's directory (read-only) at /run/veil of
 * the granted containers only, restarts it per policy inside the event loop
 * and stops it after the last container.
 */
#ifndef VEIL_LAUNCHER_DECRYPTD_H
#define VEIL_LAUNCHER_DECRYPTD_H

#include "keyring/keyring.h"
#include "launcher/cgroup.h"
#include "launcher/supervise.h"

#define LAUNCHER_DD_DIR "/run/veil-decryptd"		/* tmpfs 0711: config, receipts, sock/ */
#define LAUNCHER_DD_SOCK_DIR LAUNCHER_DD_DIR "/sock"	/* what granted containers see */
#define LAUNCHER_DD_CTR_DIR "/run/veil"			/* ...mounted here in them */
#define LAUNCHER_DD_READY_MS 30000			/* load the models, then listen */

struct launcher_decryptd;
struct launcher_lsm;

/*
 * Before the event loop, after attestation and launcher_lsm_grant_pod (lsm
 * NULL: BPF LSM not active): builds the key's ring, registers the cgroup,
 * writes the config, adds the socket mount to the granted containers' OCI configs,
 * starts the service and waits until it listens; registers the reaper and
 * the restart timer with the pod. -errno (the cause logged) when it cannot:
 * the caller fails closed.
 */
int launcher_decryptd_start(struct launcher_pod *pod, struct keyring *kr,
			    const struct launcher_cgroups *cg, struct launcher_lsm *lsm,
			    struct launcher_decryptd **ret);
/* After the event loop: SIGTERM, the pod's grace period, SIGKILL; frees. NULL ok. */
void launcher_decryptd_stop(struct launcher_decryptd *d);

#endif
