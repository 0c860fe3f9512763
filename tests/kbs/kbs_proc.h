/* SPDX-License-Identifier: GPL-2.0-only */
/* Runs a real veil-kbs for a test: its own directory, TLS certificate, admin key and port. */
#ifndef VEIL_TESTS_KBS_PROC_H
#define VEIL_TESTS_KBS_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct kbs_proc {
	pid_t pid;
	char dir[256];
	char base[128];		/* https://127.0.0.1:PORT */
	char cacert[320];
	char admin_key[320];
	char admin_token[1024];	/* valid 5 minutes */
};

/* extra: more JSON members for the config (e.g. "\"session_timeout\":1"), may be NULL. */
int kbs_proc_start(struct kbs_proc *p, const char *extra, bool spec_status);
void kbs_proc_stop(struct kbs_proc *p);
/* Runs `veil kbs-admin ARGS...` against this server (--url/--cacert/--key added); exit status. */
int kbs_proc_admin(struct kbs_proc *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
