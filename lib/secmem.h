/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory for secrets: never swapped (mlock), never in a core dump
 * (MADV_DONTDUMP), never seen by a forked child (MADV_WIPEONFORK, or
 * MADV_DONTFORK for memfd_secret pages), and wiped before it is unmapped.
 * Where the kernel offers memfd_secret(2), the pages are also taken out of
 * the kernel's direct map. Never realloc a secret: allocate anew and copy.
 */
#ifndef VEIL_LIB_SECMEM_H
#define VEIL_LIB_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

#define SECMEM_MAX (64u << 20)	/* no single secret is larger */

/* Zeroed memory, or NULL with errno set. */
void *secmem_alloc(size_t size);
/* Wipes and unmaps; NULL is fine. */
void secmem_free(void *p);
size_t secmem_size(const void *p);
/* True when the block lives in memfd_secret pages. */
bool secmem_is_secret(const void *p);
/* Test hook: 0 forbids memfd_secret (to exercise the mmap path), 1 allows it. */
void secmem_allow_memfd_secret(bool allow);

#endif
