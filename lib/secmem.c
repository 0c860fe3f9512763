// SPDX-License-Identifier: GPL-2.0-only
#include "lib/secmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

#define SECMEM_MAGIC 0x7665696c5345434dULL /* "veilSECM" */

struct secmem_hdr {
	uint64_t magic;
	uint64_t map_len;	/* whole mapping, header included */
	uint64_t size;		/* what the caller asked for */
	uint64_t secret;	/* 1: memfd_secret pages */
};

static bool allow_memfd_secret = true;

void secmem_allow_memfd_secret(bool allow)
{
	allow_memfd_secret = allow;
}

static void *map_secret(size_t len)
{
	void *p;
	int fd;

	if (!allow_memfd_secret)
		return MAP_FAILED;
	fd = syscall(SYS_memfd_secret, O_CLOEXEC);
	if (fd < 0)
		return MAP_FAILED;
	if (ftruncate(fd, len) < 0) {
		close(fd);
		return MAP_FAILED;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p;
}

void *secmem_alloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len;
	struct secmem_hdr *h;
	bool secret = true;
	void *p;

	if (size == 0 || size > SECMEM_MAX) {
		errno = EINVAL;
		return NULL;
	}
	len = (sizeof(*h) + size + page - 1) & ~(page - 1);
	p = map_secret(len);
	if (p == MAP_FAILED) {
		secret = false;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
	}
	/*
	 * memfd_secret pages are locked by the kernel already. The raw syscall,
	 * because sanitizer runtimes turn mlock() into a silent no-op.
	 */
	if ((!secret && syscall(SYS_mlock, p, len) < 0) ||
	    madvise(p, len, MADV_DONTDUMP) < 0 ||
	    madvise(p, len, secret ? MADV_DONTFORK : MADV_WIPEONFORK) < 0) {
		int e = errno;

		munmap(p, len);
		errno = e;
		return NULL;
	}
	h = p;
	h->magic = SECMEM_MAGIC;
	h->map_len = len;
	h->size = size;
	h->secret = secret;
	return h + 1;
}

static struct secmem_hdr *hdr_of(const void *p)
{
	struct secmem_hdr *h = (struct secmem_hdr *)p - 1;

	return h->magic == SECMEM_MAGIC ? h : NULL;
}

size_t secmem_size(const void *p)
{
	struct secmem_hdr *h = p ? hdr_of(p) : NULL;

	return h ? h->size : 0;
}

bool secmem_is_secret(const void *p)
{
	struct secmem_hdr *h = p ? hdr_of(p) : NULL;

	return h && h->secret;
}

void secmem_free(void *p)
{
	struct secmem_hdr *h;
	size_t len;

	if (!p)
		return;
	h = hdr_of(p);
	if (!h)
		return;	/* not ours: leaking beats unmapping the wrong thing */
	len = h->map_len;
	explicit_bzero(h, len);
	munmap(h, len);
}
