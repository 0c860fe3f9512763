// SPDX-License-Identifier: GPL-2.0-only
/* The ELF dependency reader never reads out of bounds and frees what it returns. */
#include "initrd/elf.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct initrd_elf_deps d;

	if (initrd_elf_parse(data, size, &d) == 0)
		initrd_elf_deps_done(&d);
	return 0;
}
