// SPDX-License-Identifier: GPL-2.0-only
/*
 * ELF64 dynamic dependencies, read with bounds checks on every offset: the
 * bytes come from whatever file a list names.
 */
#include "initrd/elf.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"

struct image {
	const uint8_t *p;
	size_t len;
	const Elf64_Phdr *ph;
	size_t phnum;
};

static bool in_bounds(size_t len, uint64_t off, uint64_t n)
{
	return off <= len && n <= len - off;
}

/* A file offset for a virtual address, through the PT_LOAD segments. */
static int vaddr_to_off(const struct image *im, uint64_t vaddr, uint64_t *ret)
{
	for (size_t i = 0; i < im->phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];

		if (p->p_type != PT_LOAD)
			continue;
		if (vaddr >= p->p_vaddr && vaddr - p->p_vaddr < p->p_filesz) {
			*ret = p->p_offset + (vaddr - p->p_vaddr);
			return 0;
		}
	}
	return -EINVAL;
}

/* A NUL-terminated string at off inside [base, base+size) and the file. */
static int string_at(const struct image *im, uint64_t base, uint64_t size, uint64_t off,
		     char **ret)
{
	const char *s, *nul;

	if (off >= size || !in_bounds(im->len, base, size))
		return -EINVAL;
	s = (const char *)im->p + base + off;
	nul = memchr(s, '\0', size - off);
	if (!nul || nul == s)
		return -EINVAL;
	*ret = strndup(s, nul - s);
	return *ret ? 0 : -ENOMEM;
}

void initrd_elf_deps_done(struct initrd_elf_deps *d)
{
	free(d->interp);
	for (size_t i = 0; i < d->n_needed; i++)
		free(d->needed[i]);
	free(d->needed);
	free(d->rpath);
	free(d->runpath);
	memset(d, 0, sizeof(*d));
}

static int parse_dynamic(const struct image *im, const Elf64_Phdr *dyn, struct initrd_elf_deps *d)
{
	uint64_t strtab = 0, strsz = 0, stroff, n;
	bool have_strtab = false, have_strsz = false;
	const Elf64_Dyn *dv;
	int r;

	if (!in_bounds(im->len, dyn->p_offset, dyn->p_filesz) || dyn->p_offset % 8)
		return -EINVAL;
	dv = (const Elf64_Dyn *)(im->p + dyn->p_offset);
	n = dyn->p_filesz / sizeof(Elf64_Dyn);
	for (uint64_t i = 0; i < n && dv[i].d_tag != DT_NULL; i++) {
		if (dv[i].d_tag == DT_STRTAB) {
			strtab = dv[i].d_un.d_ptr;
			have_strtab = true;
		} else if (dv[i].d_tag == DT_STRSZ) {
			strsz = dv[i].d_un.d_val;
			have_strsz = true;
		}
	}
	if (!have_strtab || !have_strsz)
		return -EINVAL;
	r = vaddr_to_off(im, strtab, &stroff);
	if (r < 0)
		return r;
	for (uint64_t i = 0; i < n && dv[i].d_tag != DT_NULL; i++) {
		uint64_t v = dv[i].d_un.d_val;

		switch (dv[i].d_tag) {
		case DT_NEEDED: {
			char **nv;

			if (d->n_needed >= INITRD_ELF_MAX_NEEDED)
				return -EINVAL;
			nv = realloc(d->needed, (d->n_needed + 1) * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			d->needed = nv;
			r = string_at(im, stroff, strsz, v, &d->needed[d->n_needed]);
			if (r < 0)
				return r;
			d->n_needed++;
			break;
		}
		case DT_RPATH:
			if (d->rpath)
				return -EINVAL;
			r = string_at(im, stroff, strsz, v, &d->rpath);
			if (r < 0)
				return r;
			break;
		case DT_RUNPATH:
			if (d->runpath)
				return -EINVAL;
			r = string_at(im, stroff, strsz, v, &d->runpath);
			if (r < 0)
				return r;
			break;
		}
	}
	return 0;
}

int initrd_elf_parse(const void *buf, size_t len, struct initrd_elf_deps *ret)
{
	struct initrd_elf_deps d = {};
	const Elf64_Ehdr *eh = buf;
	const Elf64_Phdr *dyn = NULL;
	struct image im = { buf, len, NULL, 0 };
	int r = 0;

	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (len > INITRD_ELF_MAX_SIZE)
		return -EFBIG;
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return -ENOTSUP;
	if (len < sizeof(*eh))
		return -EINVAL;
	if (eh->e_machine != EM_X86_64)
		return -ENOTSUP;
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		return -EINVAL;
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff % 8 ||
	    !in_bounds(len, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)))
		return -EINVAL;
	im.ph = (const Elf64_Phdr *)((const uint8_t *)buf + eh->e_phoff);
	im.phnum = eh->e_phnum;

	for (size_t i = 0; i < im.phnum; i++) {
		const Elf64_Phdr *p = &im.ph[i];

		if (p->p_type == PT_INTERP) {
			if (d.interp || p->p_filesz == 0) {
				r = -EINVAL;
				break;
			}
			r = string_at(&im, p->p_offset, p->p_filesz, 0, &d.interp);
			if (r < 0)
				break;
		} else if (p->p_type == PT_DYNAMIC) {
			if (dyn) {
				r = -EINVAL;
				break;
			}
			dyn = p;
		}
	}
	if (r == 0 && dyn) {
		d.is_elf_dynamic = 1;
		r = parse_dynamic(&im, dyn, &d);
	}
	if (r < 0) {
		initrd_elf_deps_done(&d);
		return r;
	}
	*ret = d;
	return 0;
}
