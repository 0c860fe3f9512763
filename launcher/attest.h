/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Boot-time attestation in veil-init (DESIGN.md §3 steps 5-6): attest to the
 * manifest's KBS with the manifest's TEE, fetch every resource it names, and
 * put each into veil's keyring. Nothing is kept anywhere else: plaintexts
 * live in secure memory only until the kernel has them. Fails closed.
 */
#ifndef VEIL_LAUNCHER_ATTEST_H
#define VEIL_LAUNCHER_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "keyring/keyring.h"
#include "launcher/manifest.h"

struct launcher_attest_opts {
	const char *tpm_tcti;		/* NULL: the TPM device */
	const char *tsm_root;		/* NULL: configfs-tsm's */
	const char *initdata;		/* TOML text sent as init-data, or NULL */
	const uint8_t *eventlog;	/* AAEL log for TEEs that send one (tdx) */
	size_t eventlog_len;
	long deadline_ms;		/* 0: 60 s */
};

struct launcher_attest_stats {
	double total_s, evidence_s, network_s, jwe_s, keyring_s;
	unsigned int resources, attestations;
};

/*
 * 0 when every resource of m is in kr; -errno otherwise, with the cause
 * logged ("attestation failed: ..."). The caller takes the emergency path.
 */
int launcher_attest(const struct manifest *m, const struct launcher_attest_opts *o,
		    struct keyring *kr, struct launcher_attest_stats *ret_stats);

#endif
