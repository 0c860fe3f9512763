/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VEIL_TOOLS_VEIL_H
#define VEIL_TOOLS_VEIL_H

struct veil_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);	/* argv[0] is the verb */
	const char *help;
};

/*
 * Each verb lives in tools/NAME.c as `int tool_NAME(int argc, char **argv)`,
 * declared here, listed in the table of tools/veil.c and in Kbuild.
 */

/* initrd/ */
int tool_mkinitrd(int argc, char **argv);
/* images */
int tool_image(int argc, char **argv);
/* fhe/ */
int tool_train(int argc, char **argv);
/* kbs/ */
int tool_kbs_admin(int argc, char **argv);
int tool_seal(int argc, char **argv);
int tool_infer(int argc, char **argv);
int tool_decrypt(int argc, char **argv);

/* fhe/ core */
int tool_keygen(int argc, char **argv);

/* launcher/ */
int tool_measure(int argc, char **argv);

#endif
