// SPDX-License-Identifier: GPL-2.0-only
/* Tar layers (whiteouts, links, paths) applied to a scratch root, then removed. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "launcher/unpack.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char dir[] = "/tmp/veil-unpack-fuzz-XXXXXX", cmd[64];
	struct unpack_opts o = { .chown = 0 };
	struct vjson_err e;
	int fd;

	if (!mkdtemp(dir))
		return 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		launcher_unpack_layer(fd, data, size, size && data[0] == 0x1f ? UNPACK_GZIP :
						      UNPACK_NONE, &o, NULL, &e);
		close(fd);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		abort();
	return 0;
}
