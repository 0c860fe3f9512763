// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <elf.h>
#include <errno.h>

#include "initrd/elf.h"
#include "lib/fd.h"

TEST(reads_interpreter_and_needed_libraries_of_a_dynamic_program)
{
	struct initrd_elf_deps d;
	bool libc = false;
	char *buf;
	size_t len;

	ASSERT_EQ(0, fd_read_file("/usr/bin/true", INITRD_ELF_MAX_SIZE, &buf, &len));
	ASSERT_EQ(0, initrd_elf_parse(buf, len, &d));
	EXPECT_STREQ("/lib64/ld-linux-x86-64.so.2", d.interp);
	for (size_t i = 0; i < d.n_needed; i++)
		libc = libc || strcmp(d.needed[i], "libc.so.6") == 0;
	EXPECT_TRUE(libc);
	initrd_elf_deps_done(&d);
	free(buf);
}

TEST(static_busybox_needs_nothing)
{
	struct initrd_elf_deps d;
	char *buf;
	size_t len;

	ASSERT_EQ(0, fd_read_file("/bin/busybox", INITRD_ELF_MAX_SIZE, &buf, &len));
	ASSERT_EQ(0, initrd_elf_parse(buf, len, &d));
	EXPECT_NULL(d.interp);
	EXPECT_EQ(0, d.n_needed);
	initrd_elf_deps_done(&d);
	free(buf);
}

TEST(refuses_scripts_other_machines_and_broken_headers)
{
	struct initrd_elf_deps d;
	char *buf;
	size_t len;
	Elf64_Ehdr *eh;

	EXPECT_EQ(-ENOEXEC, initrd_elf_parse("#!/bin/sh\n", 10, &d));
	EXPECT_EQ(-ENOEXEC, initrd_elf_parse("\177EL", 3, &d));
	ASSERT_EQ(0, fd_read_file("/usr/bin/true", INITRD_ELF_MAX_SIZE, &buf, &len));
	eh = (Elf64_Ehdr *)buf;
	EXPECT_EQ(-EINVAL, initrd_elf_parse(buf, 40, &d));
	eh->e_machine = EM_AARCH64;
	EXPECT_EQ(-ENOTSUP, initrd_elf_parse(buf, len, &d));
	eh->e_machine = EM_X86_64;
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	EXPECT_EQ(-ENOTSUP, initrd_elf_parse(buf, len, &d));
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_phoff = len - 8;
	EXPECT_EQ(-EINVAL, initrd_elf_parse(buf, len, &d));
	free(buf);
}

TEST(every_truncation_of_a_real_program_fails_cleanly_or_parses)
{
	struct initrd_elf_deps d;
	char *buf;
	size_t len;
	unsigned int ok = 0;

	ASSERT_EQ(0, fd_read_file("/usr/bin/true", INITRD_ELF_MAX_SIZE, &buf, &len));
	for (size_t n = 0; n < len; n += n < 8192 ? 1 : 997) {
		char *copy = malloc(n ? n : 1);
		int r;

		ASSERT_NONNULL(copy);
		memcpy(copy, buf, n);
		r = initrd_elf_parse(copy, n, &d);
		if (r == 0) {
			ok++;
			initrd_elf_deps_done(&d);
		} else {
			EXPECT_TRUE(r == -EINVAL || r == -ENOEXEC);
		}
		free(copy);
	}
	/* The dynamic section sits past the first pages; the whole file parses. */
	EXPECT_EQ(0, initrd_elf_parse(buf, len, &d));
	initrd_elf_deps_done(&d);
	TH_LOG("%u truncations parsed", ok);
	free(buf);
}
