// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/reattest.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "attest/eventlog.h"
#include "attest/evidence.h"
#include "attest/rcar.h"
#include "launcher/confine.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"
#include "lib/secmem.h"

/* What the helper sends back: one datagram, never key bytes. */
struct reattest_result {
	uint32_t gen;
	int32_t status;		/* 0, or -errno */
	uint32_t resources;	/* released again */
	char msg[RCAR_ERR_MAX + 128];
};

struct launcher_reattest {
	struct launcher_pod *pod;
	struct keyring *kr;
	struct launcher_attest_opts o;
	const char *eventlog_path;
	int tfd;
	int sock[2];		/* [0] PID 1 reads, [1] helpers write */
	pid_t pid;		/* running helper, 0: none */
	int pidfd;
	uint32_t gen;		/* the running helper's number */
	struct timespec started;	/* when it was forked */
	unsigned int ok;	/* successful re-attestations */
	bool revoked;		/* failed once: nothing left to re-attest for */
};

static void arm(struct launcher_reattest *ra, uint64_t ms)
{
	struct itimerspec its = { 0 };

	if (ms) {
		its.it_value.tv_sec = (time_t)(ms / 1000);
		its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	}
	(void)timerfd_settime(ra->tfd, 0, &its, NULL);
}

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_kill(int pidfd)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
}

/* The helper's whole job; fills res. Runs in the forked child. */
static void helper_attest(struct launcher_reattest *ra, struct reattest_result *res)
{
	const struct manifest *m = ra->pod->m;
	_cleanup_free_ char *log = NULL;
	size_t log_len = 0;
	struct attest_evidence_opts eo = {
		.tpm_tcti = ra->o.tpm_tcti,
		.tsm_root = ra->o.tsm_root,
	};
	struct rcar_opts ro = {
		.url = m->kbs_url,
		.ca_file = m->kbs_ca,
		.tee = m->kbs_tee,
		.evidence = &eo,
		.initdata = ra->o.initdata,
		.deadline_ms = ra->o.deadline_ms ? ra->o.deadline_ms : (long)m->kbs_deadline_ms,
	};
	struct rcar_client *c;
	char err[RCAR_ERR_MAX];
	int r;

	if (ra->eventlog_path) {
		r = fd_read_file(ra->eventlog_path, EVENTLOG_MAX, &log, &log_len);
		if (r < 0) {
			res->status = r;
			snprintf(res->msg, sizeof(res->msg), "Failed to read the event log '%s': %s",
				 ra->eventlog_path, strerror(-r));
			return;
		}
		eo.eventlog = (const uint8_t *)log;
		eo.eventlog_len = log_len;
	}
	r = rcar_new(&ro, &c);
	if (r < 0) {
		res->status = r;
		snprintf(res->msg, sizeof(res->msg), "cannot set up the KBS client: %s", strerror(-r));
		return;
	}
	r = rcar_attest(c, err, sizeof(err));
	if (r < 0) {
		res->status = r;
		snprintf(res->msg, sizeof(res->msg), "%s", err);
		goto out;
	}
	for (size_t i = 0; i < m->n_resources; i++) {
		const struct manifest_resource *mr = &m->resources[i];
		char desc[KEYRING_DESC_MAX];
		uint8_t *pt = NULL;
		size_t len = 0;

		r = keyring_uri_to_desc(mr->uri, strlen(mr->uri), desc, sizeof(desc));
		if (r == 0)
			r = rcar_get_resource(c, desc + strlen(KEYRING_DESC_PREFIX), &pt, &len, err,
					      sizeof(err));
		else
			snprintf(err, sizeof(err), "malformed URI '%s'", mr->uri);
		/* Confirmation only: the bytes are wiped here, PID 1 keeps its keys. */
		secmem_free(pt);
		if (r < 0) {
			res->status = r;
			snprintf(res->msg, sizeof(res->msg), "resource '%s' ('%s'): %s", mr->name,
				 mr->uri, err);
			goto out;
		}
		res->resources++;
	}
	res->status = 0;
out:
	rcar_free(c);
}

static void start_helper(struct launcher_reattest *ra)
{
	uint64_t budget = (ra->o.deadline_ms ? (uint64_t)ra->o.deadline_ms : ra->pod->m->kbs_deadline_ms) +
			  REATTEST_SLACK_MS;
	pid_t pid;

	ra->gen++;
	pid = fork();
	if (pid < 0) {
		/* Not a verdict on the TEE: try again next period. */
		log_warn("re-attestation: Failed to fork its helper, retrying in %u s: %m",
			 ra->pod->m->kbs_reattest_s);
		arm(ra, (uint64_t)ra->pod->m->kbs_reattest_s * 1000);
		return;
	}
	if (pid == 0) {
		struct reattest_result res = { .gen = ra->gen, .status = -EIO };

		int ll, r;

		/* It reads the network: gone with PID 1, and confined before the first byte. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		r = launcher_confine_network_helper(ra->o.tsm_root ? ra->o.tsm_root : TSM_REPORT_ROOT,
						    &ll);
		if (r < 0) {
			res.status = r;
			snprintf(res.msg, sizeof(res.msg), "Failed to confine the helper: %s",
				 strerror(-r));
		} else {
			helper_attest(ra, &res);
		}
		(void)!send(ra->sock[1], &res, sizeof(res), MSG_NOSIGNAL);
		_exit(res.status == 0 ? 0 : 1);
	}
	ra->pid = pid;
	clock_gettime(CLOCK_MONOTONIC, &ra->started);
	ra->pidfd = pidfd_open_(pid);
	if (ra->pidfd < 0)
		log_warn("re-attestation: no pidfd for its helper (pid %d): %m", (int)pid);
	log_debug("re-attestation %u: helper pid %d, %llu ms to report", ra->gen, (int)pid,
		  (unsigned long long)budget);
	arm(ra, budget);
}

static void helper_gone(struct launcher_reattest *ra, bool kill_it)
{
	if (kill_it && ra->pidfd >= 0 && pidfd_kill(ra->pidfd) < 0 && errno != ESRCH)
		log_warn("re-attestation: Failed to kill its helper (pid %d): %m", (int)ra->pid);
	if (ra->pidfd >= 0)
		close(ra->pidfd);
	ra->pidfd = -1;
	ra->pid = 0;
}

/* The verdict: every released key goes, and with it every container that was granted one. */
static void fail(struct launcher_reattest *ra, const char *why)
{
	struct launcher_pod *pod = ra->pod;
	int r;

	ra->revoked = true;
	arm(ra, 0);
	log_err("re-attestation %u failed: %s", ra->gen, why);
	r = keyring_revoke_all(ra->kr);
	if (r < 0)
		log_err("re-attestation: Failed to revoke the pod's keys: %s", strerror(-r));
	else
		log_warn("re-attestation failed: revoked %d key(s)", r);
	for (size_t i = 0; i < pod->n_units; i++) {
		if (!pod->units[i].grants_ring)
			continue;
		r = launcher_pod_stop_unit(pod, i, "re-attestation failed, its keys are revoked");
		if (r < 0)
			log_err("container '%s': Failed to stop it: %s", pod->units[i].mc->name,
				strerror(-r));
	}
	/* a service that read a key into its memory goes with the key */
	launcher_pod_keys_revoked(pod, "re-attestation failed, its key is revoked");
}

static int on_result(struct launcher_pod *pod, void *arg);

static int on_timer(struct launcher_pod *pod, void *arg)
{
	struct launcher_reattest *ra = arg;
	uint64_t exp;
	char why[128];

	/* Nothing to read: re-armed since epoll saw it (a report in the same batch). */
	if (read(ra->tfd, &exp, sizeof(exp)) != (ssize_t)sizeof(exp))
		return 0;
	if (ra->revoked)
		return 0;
	if (ra->pid) {
		/* A report that arrived in the same epoll batch as the deadline counts. */
		(void)on_result(pod, ra);
		if (!ra->pid)
			return 0;
		snprintf(why, sizeof(why), "its helper (pid %d) did not report within %u ms",
			 (int)ra->pid, ra->pod->m->kbs_deadline_ms + REATTEST_SLACK_MS);
		helper_gone(ra, true);
		fail(ra, why);
		return 0;
	}
	start_helper(ra);
	return 0;
}

static int on_result(struct launcher_pod *pod, void *arg)
{
	struct launcher_reattest *ra = arg;
	struct reattest_result res;
	ssize_t n;

	(void)pod;
	for (;;) {
		n = recv(ra->sock[0], &res, sizeof(res), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		if (n != (ssize_t)sizeof(res) || !ra->pid || res.gen != ra->gen || ra->revoked) {
			log_debug("re-attestation: dropped a stale or malformed report (%zd bytes)", n);
			continue;
		}
		helper_gone(ra, false);
		res.msg[sizeof(res.msg) - 1] = '\0';
		if (res.status < 0) {
			fail(ra, res.msg[0] ? res.msg : strerror(-res.status));
			continue;
		}
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ra->ok++;
		log_info("re-attestation %u succeeded: %u key(s) released again in %.3fs; next in %u s",
			 ra->gen, res.resources,
			 (now.tv_sec - ra->started.tv_sec) + (now.tv_nsec - ra->started.tv_nsec) / 1e9,
			 ra->pod->m->kbs_reattest_s);
		arm(ra, (uint64_t)ra->pod->m->kbs_reattest_s * 1000);
	}
}

int launcher_reattest_new(struct launcher_pod *pod, struct keyring *kr,
			  const struct launcher_attest_opts *o, const char *eventlog_path,
			  struct launcher_reattest **ret)
{
	struct launcher_reattest *ra;
	int r;

	if (!pod->m->has_kbs || !pod->m->kbs_reattest_s || !kr)
		return -EINVAL;
	if (pod->n_watches + 2 > LAUNCHER_WATCH_MAX)
		return -ENOSPC;
	ra = calloc(1, sizeof(*ra));
	if (!ra)
		return -ENOMEM;
	ra->pod = pod;
	ra->kr = kr;
	ra->o = *o;
	ra->o.eventlog = NULL;
	ra->o.eventlog_len = 0;
	ra->eventlog_path = eventlog_path;
	ra->pidfd = -1;
	ra->sock[0] = ra->sock[1] = -1;
	ra->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ra->tfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ra->sock) < 0) {
		r = -errno;
		launcher_reattest_free(ra);
		return r;
	}
	(void)launcher_pod_watch(pod, ra->tfd, "re-attestation timer", on_timer, ra);
	(void)launcher_pod_watch(pod, ra->sock[0], "re-attestation report", on_result, ra);
	arm(ra, (uint64_t)pod->m->kbs_reattest_s * 1000);
	*ret = ra;
	return 0;
}

struct launcher_reattest *launcher_reattest_free(struct launcher_reattest *ra)
{
	if (!ra)
		return NULL;
	if (ra->pid)
		helper_gone(ra, true);
	if (ra->tfd >= 0)
		close(ra->tfd);
	if (ra->sock[0] >= 0)
		close(ra->sock[0]);
	if (ra->sock[1] >= 0)
		close(ra->sock[1]);
	free(ra);
	return NULL;
}
