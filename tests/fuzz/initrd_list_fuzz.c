// SPDX-License-Identifier: GPL-2.0-only
/*
 * The initrd list parser and the modprobe output parser never crash. Built
 * with VEIL_FUZZING, list lines that would touch the host (file, bin, lib,
 * module, include) stop at validation.
 */
#include <stdlib.h>

#include "initrd/list.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct initrd_list *l = initrd_list_new();
	char err[256], **paths = NULL;
	size_t n = 0;

	if (!l)
		return 0;
	if (initrd_list_parse(l, "fuzz", (const char *)data, size, err, sizeof(err)) == 0)
		initrd_list_finish(l, err, sizeof(err));
	initrd_list_free(l);
	initrd_parse_show_depends((const char *)data, size, "/r", &paths, &n);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return 0;
}
