// SPDX-License-Identifier: GPL-2.0-only
/* The pod manifest parser over arbitrary bytes. */
#include "launcher/manifest.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct vjson_err e;
	struct manifest *m;

	if (launcher_manifest_parse((const char *)data, size, &m, &e) == 0) {
		free(launcher_manifest_policy_json(m));
		launcher_manifest_free(m);
	}
	return 0;
}
