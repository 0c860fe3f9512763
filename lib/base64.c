// SPDX-License-Identifier: GPL-2.0-only
#include "lib/base64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

static const char std_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int encode(const uint8_t *in, size_t len, const char *alpha, bool pad, char **ret)
{
	size_t out_len, o = 0, i;
	char *out;

	if (len > B64_INPUT_MAX)
		return -E2BIG;
	out_len = pad ? (len + 2) / 3 * 4 : len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
	out = malloc(out_len + 1);
	if (!out)
		return -ENOMEM;
	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		out[o++] = alpha[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	*ret = out;
	return (int)o;
}

int b64_encode(const void *in, size_t len, char **ret)
{
	return encode(in, len, std_alpha, true, ret);
}

int b64url_encode(const void *in, size_t len, char **ret)
{
	return encode(in, len, url_alpha, false, ret);
}

static int value_of(char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static int decode(const char *in, size_t len, bool url, uint8_t **ret, size_t *ret_len)
{
	size_t data_len = len, out_len, o = 0, i;
	uint32_t acc = 0;
	int bits = 0;
	uint8_t *out;

	if (len > B64_INPUT_MAX / 3 * 4 + 4)
		return -E2BIG;
	if (!url) {
		/* Padded: whole quanta, at most two '=' and only at the end. */
		if (len % 4)
			return -EINVAL;
		if (len && in[len - 1] == '=')
			data_len--;
		if (len && data_len < len && in[len - 2] == '=')
			data_len--;
	}
	if (data_len % 4 == 1)
		return -EINVAL;
	out_len = data_len / 4 * 3 + (data_len % 4 ? data_len % 4 - 1 : 0);
	out = malloc(out_len + 1);
	if (!out)
		return -ENOMEM;
	for (i = 0; i < data_len; i++) {
		int v = value_of(in[i], url);

		if (v < 0) {
			free(out);
			return -EINVAL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero, or two strings would decode to one value. */
	if (acc & ((1u << bits) - 1)) {
		free(out);
		return -EINVAL;
	}
	out[o] = 0;
	*ret = out;
	*ret_len = o;
	return 0;
}

int b64_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len)
{
	return decode(in, len, false, ret, ret_len);
}

int b64url_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len)
{
	return decode(in, len, true, ret, ret_len);
}
