/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CoCo initdata (reference/kbs-protocol.md §4.4): a TOML document with
 * `version`, `algorithm` (sha256 | sha384 | sha512) and a `[data]` table of
 * string entries. A small strict reader for exactly that subset: comments,
 * bare and quoted keys, basic strings (with escapes), literal strings and
 * multi-line literal strings. The digest is taken over the exact bytes.
 */
#ifndef VEIL_LAUNCHER_INITDATA_H
#define VEIL_LAUNCHER_INITDATA_H

#include <stddef.h>
#include <stdint.h>

#define INITDATA_MAX (1u << 20)
#define INITDATA_ENTRIES_MAX 64u
#define INITDATA_KEY_MAX 128u

struct initdata_entry {
	char *key;
	char *value;	/* NUL-terminated; value_len excludes the NUL */
	size_t value_len;
};

struct initdata {
	char version[16];
	char algorithm[8];
	uint8_t digest[64];
	size_t digest_len;
	struct initdata_entry *entries;
	size_t n_entries;
};

/*
 * 0, or -EINVAL (with err naming the line and what is wrong), -E2BIG, -ENOMEM.
 */
int launcher_initdata_parse(const char *buf, size_t len, struct initdata **ret, char *err,
			    size_t err_len);
struct initdata *launcher_initdata_free(struct initdata *d);
const struct initdata_entry *launcher_initdata_get(const struct initdata *d, const char *key);

#endif
