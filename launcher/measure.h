/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Container measurement: SHA-256 of a Merkle tree over a canonical walk of
 * the rootfs plus the exact bytes of config.json (docs/manifest.md,
 * "Measurement"). Files are read with io_uring and hashed on every core, so
 * it runs in threads: PID 1 calls it only through launcher_measure_forked() or
 * launcher_measure_start()/launcher_measure_finish(), in forked helpers.
 */
#ifndef VEIL_LAUNCHER_MEASURE_H
#define VEIL_LAUNCHER_MEASURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MEASURE_ENTRIES_MAX (1u << 20)
#define MEASURE_ERR_MAX 256

struct measure_stats {
	uint64_t files, entries, bytes;
};

/* Digest of a rootfs alone (the Merkle root). threads 0 = one per online CPU. */
int launcher_measure_rootfs(const char *rootfs, unsigned int threads, uint8_t ret[32],
			    struct measure_stats *stats, char err[MEASURE_ERR_MAX]);
/*
 * Digest of a bundle: reads BUNDLE/config.json (exact bytes), its root.path,
 * walks the rootfs. 0 or -errno with err set.
 */
int launcher_measure_bundle(const char *bundle, unsigned int threads, uint8_t ret[32],
			    struct measure_stats *stats, char err[MEASURE_ERR_MAX]);
/* Reads BUNDLE/config.json (bounded) and resolves its root.path. */
int launcher_bundle_read(const char *bundle, char **ret_cfg, size_t *ret_len, char **ret_rootfs,
			 char err[MEASURE_ERR_MAX]);
/* Digest of a rootfs and the given config.json bytes. */
int launcher_measure_config(const char *rootfs, const char *cfg, size_t len, unsigned int threads,
			    uint8_t ret[32], struct measure_stats *stats, char err[MEASURE_ERR_MAX]);
/* The same, computed in a forked helper process (PID 1 stays single-threaded). */
int launcher_measure_forked(const char *rootfs, const char *cfg, size_t len, uint8_t ret[32],
			    char err[MEASURE_ERR_MAX]);
/*
 * launcher_measure_forked() in two halves, so PID 1 can have several helpers
 * hashing at once (one per CPU) and still take their results in order:
 * _start forks the helper (the arguments may be freed afterwards), _finish
 * waits for it. Every started job must be finished.
 */
struct launcher_measure_job {
	pid_t pid;
	int fd;
};
int launcher_measure_start(const char *rootfs, const char *cfg, size_t len,
			   struct launcher_measure_job *ret_job);
int launcher_measure_finish(struct launcher_measure_job *job, uint8_t ret[32],
			    char err[MEASURE_ERR_MAX]);
/* "sha256:<64 hex>" */
void launcher_digest_hex(const uint8_t d[32], char out[7 + 65]);

#define MEASURE_SEALED_MODEL_OP "decryptd-model"
/*
 * The event for a sealed model veil-decryptd will serve, recorded before
 * attestation so the KBS releases the FHE key only for these bytes:
 * {"name":NAME,"sealed":"sha256:…"} (canonical JSON, malloc'd) of the file at
 * path (a regular file, read without following a final symlink). 0 or -errno
 * with err set.
 */
int launcher_measure_sealed_model(const char *name, const char *path, char **ret,
				  char err[MEASURE_ERR_MAX]);

#endif
