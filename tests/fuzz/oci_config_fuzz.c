// SPDX-License-Identifier: GPL-2.0-only
/* OCI config.json (including linux.seccomp through libseccomp) over arbitrary bytes. */
#include "launcher/oci.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct vjson_err e;
	struct oci_config *c;

	if (launcher_oci_parse((const char *)data, size, "/bundle", &c, &e) == 0)
		launcher_oci_free(c);
	return 0;
}
