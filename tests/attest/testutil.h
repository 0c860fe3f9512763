/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers the attest tests share: vector files, hex. */
#ifndef VEIL_TESTS_ATTEST_TESTUTIL_H
#define VEIL_TESTS_ATTEST_TESTUTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Reads tests/attest/vectors/REL into a malloc'd buffer (NUL after it); NULL on error. */
uint8_t *tu_read_vector(const char *rel, size_t *ret_len);
json_t *tu_load_json(const char *rel);
/* Path of a vector, in a static buffer. */
const char *tu_vector_path(const char *rel);
/* Hex (either case) to bytes; returns the byte count or -1. */
long tu_unhex(const char *hex, uint8_t *out, size_t max);
/* Lower-case hex of bytes into a static buffer (up to 4 KiB of input). */
const char *tu_hex(const uint8_t *p, size_t n);

#endif
