/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PID 1's event loop: single-threaded, signalfd + pidfd + timerfd + epoll.
 * It starts the containers, captures their output into the log, reaps every
 * child (orphans too), restarts per policy with exponential backoff and a
 * cap, and shuts down (TERM, grace period, KILL) on the last container's exit
 * or on SIGTERM/SIGINT/SIGPWR. Nothing in here exits: errors are logged and
 * the documented fallback applies.
 */
#ifndef VEIL_LAUNCHER_SUPERVISE_H
#define VEIL_LAUNCHER_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include "launcher/manifest.h"
#include "launcher/oci.h"

#define UNIT_LINE_MAX 1024

enum unit_state { UNIT_REFUSED, UNIT_WAITING, UNIT_RUNNING, UNIT_BACKOFF, UNIT_DONE };

struct launcher_unit {
	const struct manifest_container *mc;
	struct oci_config *cfg;
	char *cgroup;
	int32_t grants_ring;	/* keyring_container_new()'s ring, 0: no grants */
	bool seccomp_default;	/* cfg->seccomp is veil's default profile */
	enum unit_state state;
	pid_t pid;
	int pidfd;
	int out_fd;
	char line[UNIT_LINE_MAX];
	size_t line_len;
	unsigned int restarts;
	uint64_t restart_at_ms;
	int status;		/* last exit: 0..255, 128+signal; -1 never ran */
	bool stop_requested;	/* launcher_pod_stop_unit(): no restart, KILL at kill_at_ms */
	uint64_t kill_at_ms;
};

struct launcher_pod;

/*
 * Another fd PID 1's loop watches (the LSM's denial ring buffer, the
 * re-attestation timer...): ready() runs in the loop when fd is readable.
 * It must not block and must not exit; a negative return is logged.
 */
struct launcher_watch {
	int fd;
	const char *what;
	int (*ready)(struct launcher_pod *pod, void *arg);
	void *arg;
};

#define LAUNCHER_WATCH_MAX 8

/*
 * A child of PID 1 that is not a container (veil-decryptd): the loop reaps
 * every child, so whoever started it hears of its exit here. exited() gets
 * each reaped pid no unit owns and returns true when it was its own.
 */
struct launcher_reaper {
	bool (*exited)(struct launcher_pod *pod, const siginfo_t *si, void *arg);
	void *arg;
};

#define LAUNCHER_REAPER_MAX 4

struct launcher_revoke_hook {
	void (*revoked)(struct launcher_pod *pod, const char *why, void *arg);
	void *arg;
};

struct launcher_pod {
	const struct manifest *m;
	struct launcher_unit *units;
	size_t n_units;
	bool sandbox;
	unsigned int start_flags;	/* LAUNCHER_START_* for every container */
	struct launcher_watch watches[LAUNCHER_WATCH_MAX];
	size_t n_watches;
	struct launcher_reaper reapers[LAUNCHER_REAPER_MAX];
	size_t n_reapers;
	/* services holding released keys, told when the pod's keys are revoked */
	struct launcher_revoke_hook revoked[LAUNCHER_REAPER_MAX];
	size_t n_revoked;
};

/* Adds a watch before launcher_supervise(); -ENOSPC when full. */
int launcher_pod_watch(struct launcher_pod *pod, int fd, const char *what,
		       int (*ready)(struct launcher_pod *pod, void *arg), void *arg);

/*
 * Stops one container for good (re-attestation failed, its keys are gone):
 * SIGTERM now, SIGKILL after the manifest's grace period, never restarted.
 * The rest of the pod runs on. Callable from a watch's ready().
 */
int launcher_pod_stop_unit(struct launcher_pod *pod, size_t idx, const char *why);

/* Adds a reaper before launcher_supervise(); -ENOSPC when full. */
int launcher_pod_reaper(struct launcher_pod *pod,
			bool (*exited)(struct launcher_pod *pod, const siginfo_t *si, void *arg),
			void *arg);

/*
 * A service that holds a released key in its own memory (veil-decryptd) asks
 * to be told when re-attestation revokes the pod's keys: revoked() must stop
 * it without blocking. launcher_pod_keys_revoked() tells every one.
 */
int launcher_pod_on_revoke(struct launcher_pod *pod,
			   void (*revoked)(struct launcher_pod *pod, const char *why, void *arg),
			   void *arg);
void launcher_pod_keys_revoked(struct launcher_pod *pod, const char *why);

/* Runs until shutdown; returns the pod's exit status (see docs/manifest.md). */
int launcher_supervise(struct launcher_pod *pod);

#endif
