// SPDX-License-Identifier: GPL-2.0-only
/* veil seal: encrypt a model's last dense layer for confidential inference. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fhe/seal.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"
#include "tools/veil.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: veil seal MODEL --layers NAME --pk PUBLIC_KEY --key-uri kbs:///REPO/TYPE/TAG\n"
		"                 -o SEALED [--manifest FILE]\n"
		"Encrypts dense layer NAME (the model's last) with CKKS coefficient packing and\n"
		"writes the sealed model and a manifest (default SEALED.manifest.json) binding\n"
		"its digests, the FHE parameters and the key URI.\n");
}

static void bar(void *ctx, unsigned int done, unsigned int total, const char *stage)
{
	const char *layer = ctx;
	int w = 30, filled = (int)(w * done / total);

	fprintf(stderr, "\rsealing %s [%.*s%*s] %u/%u %-12s", layer, filled,
		"##############################", w - filled, "", done, total, stage);
	if (done == total)
		fputc('\n', stderr);
}

int tool_seal(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "layers", required_argument, NULL, 'l' }, { "pk", required_argument, NULL, 'p' },
		{ "key-uri", required_argument, NULL, 'k' }, { "output", required_argument, NULL, 'o' },
		{ "manifest", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' },
		{},
	};
	const char *layers = NULL, *pkpath = NULL, *uri = NULL, *out = NULL, *man = NULL;
	_cleanup_free_ char *pkb = NULL, *man_def = NULL;
	struct fhe_public_key *pk = NULL;
	struct fhe_mlp *m = NULL;
	struct vjson_err e;
	size_t pkl;
	int c, r;

	while ((c = getopt_long(argc, argv, "l:p:k:o:m:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'l':
			layers = optarg;
			break;
		case 'p':
			pkpath = optarg;
			break;
		case 'k':
			uri = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'm':
			man = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || !layers || !pkpath || !uri || !out) {
		usage(stderr);
		return 2;
	}
	if (strchr(layers, ',')) {
		log_err("Only one layer can be sealed (the last dense layer), got '%s'", layers);
		return 2;
	}
	if (!man) {
		if (asprintf(&man_def, "%s.manifest.json", out) < 0)
			return 1;
		man = man_def;
	}
	r = fd_read_file(pkpath, FHE_SERIAL_MAX, &pkb, &pkl);
	if (r < 0) {
		log_err("Failed to read public key '%s': %s", pkpath, strerror(-r));
		return 1;
	}
	r = fhe_public_key_load((uint8_t *)pkb, pkl, &pk);
	if (r < 0) {
		log_err("Failed to load public key '%s': %s", pkpath, fhe_last_error());
		return 1;
	}
	r = fhe_mlp_load(argv[optind], &m, &e);
	if (r < 0) {
		log_err("Failed to load model '%s': %s", argv[optind], e.msg);
		goto out;
	}
	r = fhe_seal_model(m, layers, pk, uri, out, man, isatty(STDERR_FILENO) ? bar : NULL,
			   (void *)layers, &e);
	if (r < 0) {
		log_err("Failed to seal '%s': %s", argv[optind], e.msg);
		goto out;
	}
	printf("sealed layer '%s' of '%s' into '%s' (manifest '%s', key %s)\n", layers,
	       argv[optind], out, man, uri);
out:
	fhe_mlp_free(m);
	fhe_public_key_free(pk);
	return r < 0 ? 1 : 0;
}
