/* SPDX-License-Identifier: GPL-2.0-only */
/* A private swtpm (TPM 2.0, TCP) per test, for tests that need a real TPM. */
#ifndef VEIL_TESTS_SWTPM_H
#define VEIL_TESTS_SWTPM_H

#include <sys/types.h>

struct test_swtpm {
	pid_t pid;
	int port;
	char dir[64];
	char tcti[96];		/* "swtpm:host=127.0.0.1,port=P" for tpm2-tss */
};

/* 0 when running; -ENOENT when swtpm is not installed (the caller SKIPs). */
int test_swtpm_start(struct test_swtpm *s);
void test_swtpm_stop(struct test_swtpm *s);
/*
 * Trusts this TPM's attestation key for a veil-kbs: collects tpm evidence
 * once (creating the AK) and writes its public key to TRUST/tpm/ak/pod.der.
 * 0 or -errno.
 */
int test_swtpm_trust_ak(struct test_swtpm *s, const char *trust_dir);

#endif
