// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil-kbs: a Key Broker Service wire-compatible with CoCo Trustee.
 *
 *   veil-kbs [--config FILE] [--insecure-http] [--spec-status] [--port-file FILE]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "kbs/config.h"
#include "kbs/server.h"
#include "lib/fd.h"
#include "lib/log.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: veil-kbs [--config FILE] [--insecure-http] [--spec-status] [--port-file FILE] [-v]\n"
		   "  --config FILE     JSON configuration (docs/kbs.md)\n"
		   "  --insecure-http   serve plain HTTP (tests only; tokens and keys travel in clear)\n"
		   "  --spec-status     403/404 status codes as the protocol document says, not Trustee's 401\n"
		   "  --port-file FILE  write the bound port there once listening (for listen port 0)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "insecure-http", no_argument, NULL, 'I' },
		{ "spec-status", no_argument, NULL, 'S' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *config = NULL, *port_file = NULL;
	bool insecure = false, spec = false;
	struct rlimit nocore = { 0, 0 };
	struct kbs_config cfg;
	struct kbs_server *srv;
	struct timespec tick;
	sigset_t set;
	char err[512];
	int c, r, sig;

	log_set_prefix("veil-kbs");
	log_set_level(LOG_INFO);
	while ((c = getopt_long(argc, argv, "c:p:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'I': insecure = true; break;
		case 'S': spec = true; break;
		case 'p': port_file = optarg; break;
		case 'v': log_set_level(LOG_DEBUG); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* Resources and the signing key pass through this process: no core dumps. */
	prctl(PR_SET_DUMPABLE, 0);
	setrlimit(RLIMIT_CORE, &nocore);
	signal(SIGPIPE, SIG_IGN);

	r = kbs_config_load(config, &cfg, err, sizeof(err));
	if (r < 0) {
		log_err("Bad configuration: %s", err);
		return 1;
	}
	cfg.insecure_http |= insecure;
	cfg.spec_status |= spec;
	if (cfg.admin.mode == KBS_ADMIN_INSECURE_ALLOW_ALL)
		log_warn("admin.mode is insecure_allow_all: anyone can change resources and policies");

	/* Block the signals before the server's threads start, so they inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	r = kbs_server_start(&cfg, &srv);
	if (r < 0) {
		kbs_config_done(&cfg);
		return 1;
	}
	if (port_file) {
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "%u\n", kbs_server_port(srv));

		r = fd_write_file_atomic(port_file, buf, (size_t)n, 0644);
		if (r < 0)
			log_warn("Failed to write '%s': %s", port_file, strerror(-r));
	}
	/* Expired sessions go lazily on lookup and here, at least once a minute. */
	tick.tv_sec = cfg.session_timeout < 60 ? cfg.session_timeout : 60;
	tick.tv_nsec = 0;
	for (;;) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		kbs_server_sweep(srv);
	}
	log_info("Stopping on signal %d", sig);
	kbs_server_stop(srv);
	kbs_config_done(&cfg);
	return 0;
}
