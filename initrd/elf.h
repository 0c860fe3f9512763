/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the dynamic loader will need for one ELF file: its interpreter and its
 * DT_NEEDED libraries, with the search paths the file itself names. Read from
 * the file's bytes (x86-64 ELF64 only, the guest's ABI); nothing is executed.
 */
#ifndef VEIL_INITRD_ELF_H
#define VEIL_INITRD_ELF_H

#include <stddef.h>

/* Executables and libraries larger than this are refused. */
#define INITRD_ELF_MAX_SIZE (512u << 20)
/* More DT_NEEDED entries than this is not a real program. */
#define INITRD_ELF_MAX_NEEDED 256u

struct initrd_elf_deps {
	char *interp;		/* PT_INTERP, or NULL for static and shared objects */
	char **needed;		/* DT_NEEDED sonames, in file order */
	size_t n_needed;
	char *rpath;		/* DT_RPATH, or NULL */
	char *runpath;		/* DT_RUNPATH, or NULL */
	int is_elf_dynamic;	/* has a PT_DYNAMIC segment */
};

/*
 * Parses buf. Returns 0, -ENOEXEC when buf is not an ELF file at all (a
 * script, data), -EINVAL for a malformed ELF, -ENOTSUP for another
 * class/machine, -ENOMEM. ret is written only on success.
 */
int initrd_elf_parse(const void *buf, size_t len, struct initrd_elf_deps *ret);
void initrd_elf_deps_done(struct initrd_elf_deps *d);

#endif
