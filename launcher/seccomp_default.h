/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veil's default container seccomp profile, used when a bundle's config.json
 * has no linux.seccomp. An allowlist in the spirit of Docker's default: what a
 * normal unprivileged program calls is allowed; everything else fails with
 * EPERM. Denied in particular: io_uring (it bypasses seccomp for the ops it
 * runs), keyctl session joins and every keyctl command that changes a key,
 * add_key, request_key, bpf, perf_event_open, userfaultfd, ptrace and
 * process_vm_*, mount and the new mount API, unshare/setns and namespace
 * clone flags (clone3 says ENOSYS so libc falls back to clone), raw and
 * packet sockets, open_by_handle_at. kexec, module loading and ioperm/iopl
 * kill the process (SIGSYS): no container has a reason to try them.
 *
 * Built with SCMP_FLTATR_CTL_OPTIMIZE 2 (a binary tree) and no_new_privs.
 * Build it in the parent, load it in the child as the last step before exec.
 */
#ifndef VEIL_LAUNCHER_SECCOMP_DEFAULT_H
#define VEIL_LAUNCHER_SECCOMP_DEFAULT_H

#include <stddef.h>

#define SECCOMP_DEFAULT_BPF_MAX (64u << 10)	/* exported program, bytes */

/* A new scmp_filter_ctx (as void *, like launcher_seccomp_build); seccomp_release() it. */
int launcher_seccomp_default_build(void **ret_ctx);

/*
 * The profile veil's own helper processes (veil-decryptd) install on
 * themselves before reading the first untrusted byte: the default profile
 * plus io_uring_setup/enter/register, which the service's event loop needs
 * (io_uring's file opens still meet the BPF LSM).
 */
int launcher_seccomp_service_build(void **ret_ctx);

/*
 * SHA-256 of the exported BPF program of ctx, as 64 hex digits + NUL: what
 * veil measures as the seccomp part of the policy digest.
 */
int launcher_seccomp_digest(void *ctx, char hex[65]);

/*
 * launcher_seccomp_digest() of the default profile (its BPF program, whatever
 * the no_new_privs attribute). The program is the same every time: it is
 * generated and hashed once per process, not once per container.
 */
int launcher_seccomp_default_digest(char hex[65]);

#endif
