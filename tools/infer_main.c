// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil-infer: `veil infer` as a program of its own, for the model user's
 * container image. `veil` links every area's libraries (libarchive pulls in
 * libxml2 and ICU, libcurl its TLS stack): ~60 MB that an encrypted image
 * would carry and veil-init would decrypt and unpack under TCG. This one
 * links only what tools/infer.c uses (the FHE core, jansson, libcrypto).
 */
#include "lib/log.h"
#include "tools/veil.h"

int main(int argc, char **argv)
{
	log_set_prefix("veil-infer");
	return tool_infer(argc, argv);
}
