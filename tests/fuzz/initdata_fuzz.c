// SPDX-License-Identifier: GPL-2.0-only
/* The initdata TOML reader over arbitrary bytes. */
#include "launcher/initdata.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct initdata *d;
	char err[256];

	if (launcher_initdata_parse((const char *)data, size, &d, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < d->n_entries; i++)
			if (strlen(d->entries[i].value) > d->entries[i].value_len)
				__builtin_trap();
		launcher_initdata_free(d);
	}
	return 0;
}
