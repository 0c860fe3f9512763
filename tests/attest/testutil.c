// SPDX-License-Identifier: GPL-2.0-only
#include "tests/attest/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness.h"

const char *tu_vector_path(const char *rel)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/tests/attest/vectors/%s", harness_srcdir(), rel);
	return path;
}

uint8_t *tu_read_vector(const char *rel, size_t *ret_len)
{
	FILE *f = fopen(tu_vector_path(rel), "rbe");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else if (buf) {
			buf[n] = 0;
			*ret_len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

json_t *tu_load_json(const char *rel)
{
	return json_load_file(tu_vector_path(rel), 0, NULL);
}

static int nib(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long tu_unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int a = nib(hex[2 * i]), b = nib(hex[2 * i + 1]);

		if (a < 0 || b < 0)
			return -1;
		out[i] = (uint8_t)(a << 4 | b);
	}
	return (long)(n / 2);
}

const char *tu_hex(const uint8_t *p, size_t n)
{
	static char buf[8193];

	if (n > 4096)
		n = 4096;
	for (size_t i = 0; i < n; i++)
		sprintf(buf + 2 * i, "%02x", p[i]);
	buf[2 * n] = 0;
	return buf;
}
