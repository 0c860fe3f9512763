// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launcher/container.h"
#include "launcher/cgroup.h"
#include "lib/log.h"

/* epoll data: small integers for the fixed fds, unit index + tag for the rest. */
#define EV_SIGNAL 1u
#define EV_TIMER 2u
#define EV_PIDFD (1u << 16)
#define EV_OUT (2u << 16)
#define EV_WATCH (3u << 16)

struct loop {
	struct launcher_pod *pod;
	int ep, sfd, tfd;
	bool stopping;
	bool killed;
	uint64_t kill_at_ms;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static void arm_timer(struct loop *l)
{
	uint64_t next = 0;
	struct itimerspec its = { 0 };

	for (size_t i = 0; i < l->pod->n_units; i++) {
		struct launcher_unit *u = &l->pod->units[i];

		if (u->state == UNIT_BACKOFF && !l->stopping && (!next || u->restart_at_ms < next))
			next = u->restart_at_ms;
	}
	if (l->stopping && !l->killed && (!next || l->kill_at_ms < next))
		next = l->kill_at_ms;
	for (size_t i = 0; i < l->pod->n_units; i++) {
		struct launcher_unit *u = &l->pod->units[i];

		if (u->state == UNIT_RUNNING && u->stop_requested && u->kill_at_ms &&
		    (!next || u->kill_at_ms < next))
			next = u->kill_at_ms;
	}
	if (next) {
		uint64_t now = now_ms(), d = next > now ? next - now : 1;

		its.it_value.tv_sec = (time_t)(d / 1000);
		its.it_value.tv_nsec = (long)(d % 1000) * 1000000;
	}
	(void)timerfd_settime(l->tfd, 0, &its, NULL);
}

static void flush_line(struct launcher_unit *u)
{
	if (!u->line_len)
		return;
	log_info("%s: %.*s", u->mc->name, (int)u->line_len, u->line);
	u->line_len = 0;
}

static void drain_output(struct loop *l, struct launcher_unit *u, bool hup)
{
	char buf[4096];
	ssize_t n = -1;

	while (u->out_fd >= 0 && (n = read(u->out_fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				flush_line(u);
				continue;
			}
			if (u->line_len == sizeof(u->line))
				flush_line(u);
			u->line[u->line_len++] = buf[i];
		}
	}
	if (u->out_fd >= 0 && (n == 0 || (hup && n < 0 && errno != EAGAIN))) {
		flush_line(u);
		epoll_ctl(l->ep, EPOLL_CTL_DEL, u->out_fd, NULL);
		close(u->out_fd);
		u->out_fd = -1;
	}
}

static int start_unit(struct loop *l, size_t idx)
{
	struct launcher_unit *u = &l->pod->units[idx];
	struct launcher_started s;
	struct epoll_event ev = { .events = EPOLLIN };
	int r;

	r = launcher_container_start(u->mc->name, u->cfg, u->cgroup, u->grants_ring,
				     l->pod->start_flags, &s);
	if (r < 0) {
		u->status = 1;
		return r;
	}
	u->pid = s.pid;
	u->pidfd = s.pidfd;
	u->out_fd = s.out_fd;
	u->state = UNIT_RUNNING;
	ev.data.u32 = EV_PIDFD | (uint32_t)idx;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, u->pidfd, &ev) < 0)
		log_warn("container '%s': Failed to watch its pidfd (SIGCHLD still reaps it): %m",
			 u->mc->name);
	ev.events = EPOLLIN | EPOLLHUP;
	ev.data.u32 = EV_OUT | (uint32_t)idx;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, u->out_fd, &ev) < 0) {
		log_warn("container '%s': Failed to watch its output, discarding it: %m", u->mc->name);
		close(u->out_fd);
		u->out_fd = -1;
	}
	log_info("container '%s' started as pid %d (cgroup '%s')", u->mc->name, u->pid, u->cgroup);
	return 0;
}

static void after_exit(struct loop *l, struct launcher_unit *u)
{
	const struct manifest_container *mc = u->mc;
	bool again;

	if (l->stopping || u->stop_requested) {
		u->state = UNIT_DONE;
		return;
	}
	again = mc->restart == LAUNCHER_RESTART_ALWAYS ||
		(mc->restart == LAUNCHER_RESTART_ON_FAILURE && u->status != 0);
	if (!again) {
		u->state = UNIT_DONE;
		return;
	}
	if (u->restarts >= mc->restart_max) {
		log_warn("container '%s': restarted %u times, giving up", mc->name, u->restarts);
		u->state = UNIT_DONE;
		return;
	}
	uint64_t delay = mc->backoff_ms;
	for (unsigned int i = 0; i < u->restarts && delay < mc->backoff_max_ms; i++)
		delay *= 2;
	if (delay > mc->backoff_max_ms)
		delay = mc->backoff_max_ms;
	u->restarts++;
	u->restart_at_ms = now_ms() + delay;
	u->state = UNIT_BACKOFF;
	log_info("container '%s': restart %u/%u in %llu ms", mc->name, u->restarts, mc->restart_max,
		 (unsigned long long)delay);
}

static void unit_exited(struct loop *l, struct launcher_unit *u, const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		u->status = si->si_status;
	else
		u->status = 128 + si->si_status;
	log_info("container '%s' (pid %d) %s %d", u->mc->name, u->pid,
		 si->si_code == CLD_EXITED ? "exited with status" : "was killed by signal",
		 si->si_status);
	drain_output(l, u, true);
	if (u->pidfd >= 0) {
		epoll_ctl(l->ep, EPOLL_CTL_DEL, u->pidfd, NULL);
		close(u->pidfd);
		u->pidfd = -1;
	}
	u->pid = 0;
	after_exit(l, u);
	/* The leaf stays for a restart; otherwise it goes, with anything left in it. */
	if (u->state == UNIT_DONE)
		(void)launcher_cgroup_remove(u->cgroup);
}

/* Reaps every exited child: containers and re-parented orphans alike. */
static void reap(struct loop *l)
{
	for (;;) {
		siginfo_t si = { 0 };

		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL) < 0 || si.si_pid == 0)
			return;
		size_t i;
		for (i = 0; i < l->pod->n_units; i++)
			if (l->pod->units[i].state == UNIT_RUNNING && l->pod->units[i].pid == si.si_pid)
				break;
		if (i < l->pod->n_units) {
			unit_exited(l, &l->pod->units[i], &si);
			continue;
		}
		bool claimed = false;
		for (size_t k = 0; k < l->pod->n_reapers && !claimed; k++)
			claimed = l->pod->reapers[k].exited(l->pod, &si, l->pod->reapers[k].arg);
		if (!claimed)
			log_debug("reaped pid %d", si.si_pid);
	}
}

static void begin_stop(struct loop *l, const char *why)
{
	if (l->stopping)
		return;
	l->stopping = true;
	l->kill_at_ms = now_ms() + l->pod->m->grace_ms;
	log_info("shutting down (%s): TERM, then KILL after %u ms", why, l->pod->m->grace_ms);
	for (size_t i = 0; i < l->pod->n_units; i++) {
		struct launcher_unit *u = &l->pod->units[i];

		if (u->state == UNIT_BACKOFF)
			u->state = UNIT_DONE;
		if (u->state == UNIT_RUNNING && pidfd_signal(u->pidfd, SIGTERM) < 0 && errno != ESRCH)
			log_warn("container '%s': Failed to send SIGTERM: %m", u->mc->name);
	}
}

static void kill_all(struct loop *l)
{
	l->killed = true;
	for (size_t i = 0; i < l->pod->n_units; i++) {
		struct launcher_unit *u = &l->pod->units[i];

		if (u->state != UNIT_RUNNING)
			continue;
		log_warn("container '%s' did not stop in time: SIGKILL", u->mc->name);
		if (pidfd_signal(u->pidfd, SIGKILL) < 0 && errno != ESRCH)
			log_warn("container '%s': Failed to send SIGKILL: %m", u->mc->name);
	}
}

static void on_timer(struct loop *l)
{
	uint64_t exp, now = now_ms();

	(void)!read(l->tfd, &exp, sizeof(exp));
	if (l->stopping && !l->killed && now >= l->kill_at_ms)
		kill_all(l);
	for (size_t i = 0; i < l->pod->n_units; i++) {
		struct launcher_unit *u = &l->pod->units[i];

		if (u->state != UNIT_RUNNING || !u->stop_requested || !u->kill_at_ms ||
		    now < u->kill_at_ms)
			continue;
		log_warn("container '%s' did not stop in time: SIGKILL", u->mc->name);
		u->kill_at_ms = 0;
		if (pidfd_signal(u->pidfd, SIGKILL) < 0 && errno != ESRCH)
			log_warn("container '%s': Failed to send SIGKILL: %m", u->mc->name);
	}
	for (size_t i = 0; i < l->pod->n_units && !l->stopping; i++) {
		struct launcher_unit *u = &l->pod->units[i];

		if (u->state == UNIT_BACKOFF && now >= u->restart_at_ms && start_unit(l, i) < 0)
			after_exit(l, u);
	}
}

static void on_signal(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(l);
			break;
		case SIGTERM:
		case SIGINT:
		case SIGPWR:
			if (l->stopping && !l->killed) {
				log_info("second %s: killing now", strsignal((int)si.ssi_signo));
				kill_all(l);
			}
			begin_stop(l, strsignal((int)si.ssi_signo));
			break;
		default:
			break;
		}
	}
}

static bool all_done(const struct loop *l)
{
	for (size_t i = 0; i < l->pod->n_units; i++)
		if (l->pod->units[i].state == UNIT_RUNNING || l->pod->units[i].state == UNIT_BACKOFF ||
		    l->pod->units[i].state == UNIT_WAITING)
			return false;
	return true;
}

static int pod_status(const struct launcher_pod *pod)
{
	for (size_t i = 0; i < pod->n_units; i++) {
		if (pod->units[i].state == UNIT_REFUSED)
			return 1;
		if (pod->units[i].status != 0)
			return pod->units[i].status < 0 ? 1 : pod->units[i].status;
	}
	return 0;
}

int launcher_pod_watch(struct launcher_pod *pod, int fd, const char *what,
		       int (*ready)(struct launcher_pod *pod, void *arg), void *arg)
{
	if (pod->n_watches >= LAUNCHER_WATCH_MAX)
		return -ENOSPC;
	pod->watches[pod->n_watches++] = (struct launcher_watch){
		.fd = fd, .what = what, .ready = ready, .arg = arg,
	};
	return 0;
}

int launcher_pod_stop_unit(struct launcher_pod *pod, size_t idx, const char *why)
{
	struct launcher_unit *u;

	if (idx >= pod->n_units)
		return -EINVAL;
	u = &pod->units[idx];
	if (u->stop_requested)
		return 0;
	u->stop_requested = true;
	switch (u->state) {
	case UNIT_WAITING:
	case UNIT_BACKOFF:
		log_warn("container '%s' will not start again: %s", u->mc->name, why);
		u->state = UNIT_DONE;
		(void)launcher_cgroup_remove(u->cgroup);
		return 0;
	case UNIT_RUNNING:
		log_warn("stopping container '%s' (TERM, KILL after %u ms): %s", u->mc->name,
			 pod->m->grace_ms, why);
		u->kill_at_ms = now_ms() + pod->m->grace_ms;
		if (!u->kill_at_ms)
			u->kill_at_ms = 1;
		if (pidfd_signal(u->pidfd, SIGTERM) < 0 && errno != ESRCH) {
			int r = -errno;

			log_warn("container '%s': Failed to send SIGTERM: %m", u->mc->name);
			return r;
		}
		return 0;
	default:
		return 0;
	}
}

int launcher_pod_reaper(struct launcher_pod *pod,
			bool (*exited)(struct launcher_pod *pod, const siginfo_t *si, void *arg),
			void *arg)
{
	if (pod->n_reapers >= LAUNCHER_REAPER_MAX)
		return -ENOSPC;
	pod->reapers[pod->n_reapers++] = (struct launcher_reaper){ .exited = exited, .arg = arg };
	return 0;
}

int launcher_pod_on_revoke(struct launcher_pod *pod,
			   void (*revoked)(struct launcher_pod *pod, const char *why, void *arg),
			   void *arg)
{
	if (pod->n_revoked >= LAUNCHER_REAPER_MAX)
		return -ENOSPC;
	pod->revoked[pod->n_revoked++] = (struct launcher_revoke_hook){ .revoked = revoked, .arg = arg };
	return 0;
}

void launcher_pod_keys_revoked(struct launcher_pod *pod, const char *why)
{
	for (size_t i = 0; i < pod->n_revoked; i++)
		pod->revoked[i].revoked(pod, why, pod->revoked[i].arg);
}

static void on_watch(struct loop *l, size_t i)
{
	struct launcher_watch *w = &l->pod->watches[i];
	int r = w->ready(l->pod, w->arg);

	if (r < 0)
		log_warn("%s: %s", w->what, strerror(-r));
}

int launcher_supervise(struct launcher_pod *pod)
{
	struct loop l = { .pod = pod, .ep = -1, .sfd = -1, .tfd = -1 };
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGPWR);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	l.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	l.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	l.ep = epoll_create1(EPOLL_CLOEXEC);
	if (l.sfd < 0 || l.tfd < 0 || l.ep < 0) {
		/* Still before any container runs: the caller takes the emergency path. */
		log_err("Failed to set up the event loop: %m");
		return -1;
	}
	ev.data.u32 = EV_SIGNAL;
	epoll_ctl(l.ep, EPOLL_CTL_ADD, l.sfd, &ev);
	ev.data.u32 = EV_TIMER;
	epoll_ctl(l.ep, EPOLL_CTL_ADD, l.tfd, &ev);
	for (size_t i = 0; i < pod->n_watches; i++) {
		ev.data.u32 = EV_WATCH | (uint32_t)i;
		if (epoll_ctl(l.ep, EPOLL_CTL_ADD, pod->watches[i].fd, &ev) < 0)
			log_warn("%s: not watched: %m", pod->watches[i].what);
	}

	for (size_t i = 0; i < pod->n_units; i++) {
		if (pod->units[i].state != UNIT_WAITING)
			continue;
		if (start_unit(&l, i) < 0)
			after_exit(&l, &pod->units[i]);
	}
	arm_timer(&l);
	for (;;) {
		struct epoll_event evs[16];
		int n;

		if (all_done(&l)) {
			if (l.stopping || pod->m->shutdown == LAUNCHER_SHUTDOWN_LAST_EXIT)
				break;
		}
		n = epoll_wait(l.ep, evs, 16, -1);
		if (n < 0) {
			if (errno != EINTR)
				log_warn("epoll_wait: %m");
			continue;
		}
		for (int i = 0; i < n; i++) {
			uint32_t d = evs[i].data.u32;

			if (d == EV_SIGNAL)
				on_signal(&l);
			else if (d == EV_TIMER)
				on_timer(&l);
			else if ((d & 0xffff0000u) == EV_PIDFD)
				reap(&l);
			else if ((d & 0xffff0000u) == EV_OUT)
				drain_output(&l, &pod->units[d & 0xffffu], evs[i].events & (EPOLLHUP | EPOLLERR));
			else if ((d & 0xffff0000u) == EV_WATCH)
				on_watch(&l, d & 0xffffu);
		}
		arm_timer(&l);
	}
	for (size_t i = 0; i < pod->n_units; i++)
		drain_output(&l, &pod->units[i], true);
	close(l.ep);
	close(l.tfd);
	close(l.sfd);
	return pod_status(pod);
}
