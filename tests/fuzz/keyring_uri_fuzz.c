// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: the kbs:// URI and resource path parser of keyring/uri.c. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyring/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char desc[KEYRING_DESC_MAX], again[KEYRING_DESC_MAX];
	char *s;

	if (keyring_uri_to_desc((const char *)data, size, desc, sizeof(desc)) == 0) {
		/* Whatever parses must give a description that parses as a path. */
		if (strncmp(desc, KEYRING_DESC_PREFIX, 5) != 0)
			abort();
		if (keyring_path_to_desc(desc + 5, again, sizeof(again)) != 0 ||
		    strcmp(desc, again) != 0)
			abort();
	}
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	keyring_path_to_desc(s, desc, sizeof(desc));
	free(s);
	return 0;
}
