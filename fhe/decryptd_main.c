// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil-decryptd --config FILE
 *
 * The FHE key holder of the pod: hardens itself, takes each model's secret
 * key from its session keyring into locked memory, installs its seccomp
 * allowlist and serves decryptions to the containers the config grants.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhe/decryptd.h"
#include "lib/fd.h"
#include "lib/log.h"
#include "lib/secmem.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: veil-decryptd --config FILE [--verbose]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct decryptd_config cfg = { 0 };
	struct decryptd_server *s = NULL;
	const char *path = NULL;
	struct vjson_err e;
	bool locked;
	int c, r;

	log_set_prefix("veil-decryptd");
	/* one arena: buffers freed by another thread are reused, not stranded */
	mallopt(M_ARENA_MAX, 1);
	/*
	 * A decryption's scratch (ciphertext and plaintext polynomials, a few
	 * hundred KB) comes from that arena and goes back to it, never from a
	 * fresh mmap: under mlockall every fresh mapping is faulted in, zeroed
	 * and locked again, per request. The heap is trimmed when idle.
	 */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* before any secret exists in this process */
	r = decryptd_harden(&locked);
	if (r < 0) {
		log_err("Failed to harden the process: %s", strerror(-r));
		return 1;
	}
	if (!locked)
		log_warn("Failed to lock memory (mlockall): %m; secrets still use locked secmem");
	r = fd_close_stray(NULL, 0);
	if (r < 0)
		log_warn("Failed to close stray fds: %s", strerror(-r));
	r = decryptd_config_load(path, &cfg, &e);
	if (r < 0) {
		log_err("Failed to load config '%s': %s", path, e.msg);
		return 1;
	}
	for (size_t i = 0; i < cfg.n_models; i++) {
		struct decryptd_model *m = &cfg.models[i];
		char msg[DECRYPTD_MSG_MAX + 1] = "";
		uint8_t *key;
		size_t len;

		r = decryptd_key_read(m->key_desc, &key, &len);
		if (r < 0) {
			log_err("Failed to read key '%s' of model '%s' from the session keyring: %s",
				m->key_desc, m->name, strerror(-r));
			goto out;
		}
		r = decryptd_model_load(m, key, len, msg);
		secmem_free(key);
		if (r < 0) {
			log_err("Failed to load model '%s' from '%s': %s", m->name, m->sealed, msg);
			goto out;
		}
		log_info("Model '%s': key '%s' (%zu bytes) in locked memory", m->name, m->key_desc,
			 len);
	}
	r = decryptd_server_new(&cfg, &s);
	if (r == 0)
		r = decryptd_server_run(s, true);
out:
	decryptd_server_free(s);
	decryptd_config_done(&cfg);
	return r < 0 ? 1 : 0;
}
