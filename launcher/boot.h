/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 1 of veil-init as real PID 1: move off the initramfs into a tmpfs
 * root, mount the API filesystems, log to /dev/kmsg and the console, harden
 * the process, read `veil.*` options from the kernel command line. Also the
 * two ends: the emergency path and the final power-off.
 */
#ifndef VEIL_LAUNCHER_BOOT_H
#define VEIL_LAUNCHER_BOOT_H

#include <stdbool.h>
#include <stddef.h>

#define BOOT_CMDLINE_MAX 4096u

struct boot_options {
	char *manifest;		/* veil.manifest=PATH */
	char *initdata;		/* veil.initdata=PATH */
	char *tpm;		/* veil.tpm=TCTI */
	char *eventlog;		/* veil.eventlog=PATH */
	char *net;		/* veil.net=IFACE:A.B.C.D/PREFIX (launcher/netup.h) */
	int loglevel;		/* veil.loglevel=N (syslog level), veil.debug */
	bool sandbox;
	bool cgroup_after_mounts;	/* --cgroup-after-mounts (tests); implied by an active LSM */
};

/* Parses a kernel command line; unknown veil.* words are warned about and skipped. */
int launcher_boot_parse_cmdline(const char *cmdline, struct boot_options *o);
void launcher_boot_options_done(struct boot_options *o);

/*
 * When / is the initial rootfs (initramfs), which pivot_root (for the
 * containers) refuses because it has no parent mount: bind-mounts it onto a
 * directory inside itself, moves that mount onto / and chroots into it, in
 * place (no copy, no re-exec). Returns 1 when it moved the root, 0 when no
 * move was needed, -errno on failure.
 */
int launcher_boot_move_root(void);
/* Mounts proc, sysfs, devtmpfs, devpts, /run, securityfs, cgroup2, bpffs. */
int launcher_boot_mount_api(void);
/* No core dumps, not dumpable, memory locked, fds >= 3 closed. */
int launcher_boot_harden(void);

/* Before the event loop: log, and power off (real PID 1) or exit 1 (sandbox). */
void launcher_emergency(bool sandbox, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
/* The end of a real PID 1: sync, unmount, power off. */
void launcher_boot_poweroff(void) __attribute__((noreturn));

#endif
