/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VEIL_KEYRING_INTERNAL_H
#define VEIL_KEYRING_INTERNAL_H

#include <stdbool.h>

#include "keyring/keyring.h"

struct keyring_key {
	key_serial_t serial;
	enum keyring_kind kind;
	bool revoked;
	char desc[KEYRING_DESC_MAX];
};

struct keyring_ctr {
	char *name;
	key_serial_t ring;
};

struct keyring {
	key_serial_t ring;
	struct keyring_key *keys;
	size_t n_keys, cap_keys;
	struct keyring_ctr *ctrs;
	size_t n_ctrs, cap_ctrs;
};

/* Index of the key with this description, or -ENOKEY. */
int keyring_lookup(const struct keyring *kr, const char *desc);

#endif
