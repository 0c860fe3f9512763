/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Confinement of veil-init's short-lived helpers that parse untrusted bytes
 * (today: the image unpacker). PID 1 holds every released key, the BPF LSM
 * links and the TPM; a parser bug in a tar stream must reach none of them.
 *
 * A helper is a fork of PID 1 that has already taken what it needs (its
 * keys, its fds) and then calls launcher_confine_helper(), which is one way:
 *  - no_new_privs, not dumpable;
 *  - capabilities: only those in `keep`, in the effective and permitted sets
 *    and the bounding set; ambient cleared;
 *  - Landlock, when the kernel has it: reads only beneath ro_fd, creates and
 *    writes only beneath rw_fd; no TCP (ABI 4+); no abstract unix sockets and
 *    no signals outside the helper (ABI 6+);
 *  - a seccomp allowlist of file, memory and exit system calls; anything else
 *    kills the helper (no socket, keyctl, mount, ptrace, bpf, execve, ...).
 */
#ifndef VEIL_LAUNCHER_CONFINE_H
#define VEIL_LAUNCHER_CONFINE_H

#include <stddef.h>
#include <sys/capability.h>

/*
 * Confines the calling (single-threaded) process as above. *ret_landlock is
 * the Landlock ABI applied, 0 when the kernel has none (then the file system
 * is bounded by capabilities and seccomp only). 0 or negative errno; on error
 * the caller must exit, the process is partly confined.
 */
int launcher_confine_helper(int ro_fd, int rw_fd, const cap_value_t *keep, size_t n_keep,
			    int *ret_landlock);

/*
 * Confinement of a helper that talks to the network for PID 1 (today: the
 * re-attestation helper, which runs libcurl, OpenSSL and tpm2-tss on the
 * KBS's replies). It keeps its sockets and its TPM; it loses the rest:
 *  - no_new_privs, not dumpable, no capabilities at all (bounding set too);
 *  - Landlock, when the kernel has it: the file system is read-only, except
 *    read and write on the device nodes beneath /dev (the TPM) and, when
 *    rw_dir is not NULL, everything but execute beneath rw_dir (configfs-tsm's
 *    report directory); no signals outside the helper (ABI 6+);
 *  - a seccomp denylist that kills the helper for what would reach PID 1's
 *    assets: the keyring, bpf, ptrace and other processes' memory, mounts,
 *    namespaces, modules, exec, io_uring, signals to any other process.
 * A denylist, not an allowlist: the libraries' system calls vary by version
 * and configuration, and a helper killed for a harmless one is a failed
 * re-attestation that revokes every key of the pod. Call it in the forked,
 * single-threaded child before it reads any outside byte. 0 or -errno; on
 * error the caller must exit.
 */
int launcher_confine_network_helper(const char *rw_dir, int *ret_landlock);

#endif
