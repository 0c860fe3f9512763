/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Periodic re-attestation (manifest kbs.reattest_s, docs/attestation.md).
 * A timerfd in PID 1's loop forks a helper that attests again and asks for
 * every resource; the helper reports over a socketpair the loop watches, so
 * PID 1 never waits on the network. The helper confirms: key bytes stay in
 * the helper (secure memory, wiped) and are never sent back. On failure —
 * the policy denies, the evidence changed, the KBS stayed unreachable past
 * kbs.deadline_ms, the helper died or overran — PID 1 revokes every released
 * key (KEYCTL_REVOKE) and stops every container granted one; the others run on.
 */
#ifndef VEIL_LAUNCHER_REATTEST_H
#define VEIL_LAUNCHER_REATTEST_H

#include "keyring/keyring.h"
#include "launcher/attest.h"
#include "launcher/supervise.h"

/* Slack past kbs.deadline_ms before PID 1 kills a helper that has not reported. */
#define REATTEST_SLACK_MS 2000

struct launcher_reattest;

/*
 * Arms the timer and adds the two watches to pod (call before
 * launcher_supervise()). o->eventlog is not used: the helper reads
 * eventlog_path itself each time. kr, pod and the strings in o must outlive
 * the returned handle.
 */
int launcher_reattest_new(struct launcher_pod *pod, struct keyring *kr,
			  const struct launcher_attest_opts *o, const char *eventlog_path,
			  struct launcher_reattest **ret);
/* Kills a running helper, closes the fds. NULL ok; returns NULL. */
struct launcher_reattest *launcher_reattest_free(struct launcher_reattest *ra);

#endif
