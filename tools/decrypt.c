// SPDX-License-Identifier: GPL-2.0-only
/* veil decrypt: ask veil-decryptd to open output ciphertexts (.vct files of veil infer -o). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhe/decryptd.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"
#include "tools/veil.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: veil decrypt --model NAME [--socket PATH] FILE.vct...\n"
		   "Prints each file's decrypted outputs and their argmax (socket default "
		   DECRYPTD_SOCKET_DEFAULT ").\n");
}

int tool_decrypt(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *model = NULL, *sock = DECRYPTD_SOCKET_DEFAULT;
	_cleanup_close_ int fd = -1;
	int c, failed = 0;

	while ((c = getopt_long(argc, argv, "m:s:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!model || optind >= argc) {
		usage(stderr);
		return 2;
	}
	fd = decryptd_client_connect(sock);
	if (fd < 0) {
		log_err("Failed to connect to '%s': %s", sock, strerror(-fd));
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *buf = NULL;
		const uint8_t *ct[DECRYPTD_CT_MAX];
		size_t ctl[DECRYPTD_CT_MAX], len, n;
		unsigned int nct, best = 0;
		double y[DECRYPTD_OUT_MAX];
		char msg[256];
		int st, r;

		r = fd_read_file(argv[i], DECRYPTD_REQ_MAX, &buf, &len);
		if (r == 0)
			r = decryptd_vct_parse((uint8_t *)buf, len, ct, ctl, &nct);
		if (r < 0) {
			log_err("Failed to read '%s': %s", argv[i], strerror(-r));
			failed = 1;
			continue;
		}
		r = decryptd_client_decrypt(fd, (uint32_t)i, model, ct, ctl, nct, y, DECRYPTD_OUT_MAX,
					    &n, &st, msg, sizeof(msg));
		if (r < 0) {
			log_err("Failed to decrypt '%s': %s", argv[i], r == -EPROTO ? msg : strerror(-r));
			return 1;	/* the service closes the connection after most errors */
		}
		for (size_t k = 1; k < n; k++)
			if (y[k] > y[best])
				best = (unsigned int)k;
		printf("%s: class %u (", argv[i], best);
		for (size_t k = 0; k < n; k++)
			printf("%s%.4f", k ? " " : "", y[k]);
		printf(")\n");
	}
	return failed;
}
