// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `veil` command: one verb per file under tools/, dispatched from a table.
 */
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "tools/veil.h"

/* One line per verb, grouped by area so parallel work merges cleanly. */
static const struct veil_cmd cmds[] = {
	/* initrd/ */
	{ "mkinitrd", tool_mkinitrd, "build a reproducible initramfs from a list" },

	/* launcher/ */
	{ "measure", tool_measure, "a bundle's digest, or the PCR 23 value of a manifest" },

	/* images */
	{ "image", tool_image, "build, list, inspect, measure and unpack OCI image layouts" },

	/* fhe/ */
	{ "train", tool_train, "train the demo's Fashion-MNIST MLP (deterministic)" },
	{ "seal", tool_seal, "encrypt a model's last dense layer (CKKS) + manifest" },
	{ "infer", tool_infer, "run a sealed model; outputs to veil-decryptd or files" },
	{ "decrypt", tool_decrypt, "have veil-decryptd open output ciphertexts" },
	{ "keygen", tool_keygen, "generate a CKKS key pair (secret 0600, public)" },

	/* kbs/, attest/ */
	{ "kbs-admin", tool_kbs_admin, "veil-kbs admin: keys, tokens, resources, policies" },

	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: veil COMMAND [ARGS...]\n\ncommands:\n");
	for (const struct veil_cmd *c = cmds; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->help);
	fprintf(f, "  %-12s %s\n", "help", "this text");
}

int main(int argc, char **argv)
{
	log_set_prefix("veil");
	if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (const struct veil_cmd *c = cmds; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->fn(argc - 1, argv + 1);
	log_err("Unknown command '%s' (try 'veil help')", argv[1]);
	return 2;
}
