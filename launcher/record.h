/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Recording measurements: each is first appended to the runtime event log as
 * a CoCo AAEL record (domain "github.com/veil"), then extended into the
 * platform register: TDX RTMR3 through sysfs (CC-MR 4, sha384) when present,
 * else TPM PCR 23 (sha256) through tpm2-tss when a TPM is present, else it is
 * only logged (and the evidence says so later).
 */
#ifndef VEIL_LAUNCHER_RECORD_H
#define VEIL_LAUNCHER_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_DOMAIN "github.com/veil"
#define RECORD_PCR 23u
#define RECORD_TDX_CCMR 4u
#define RECORD_INITDATA_PCR 8u
#define RECORD_TDX_RTMR3 "/sys/devices/virtual/misc/tdx_guest/measurements/rtmr3:sha384"

enum record_target { RECORD_LOG_ONLY, RECORD_TPM, RECORD_TDX };

struct tpm;

struct launcher_recorder {
	enum record_target target;
	struct tpm *tpm;
	int log_fd;
	uint32_t reg;
	uint16_t alg;
};

/*
 * Opens the event log (created 0600, appended) and picks the target: TDX if
 * its RTMR3 file exists, else the TPM named by tcti (NULL: /dev/tpmrm0 or
 * /dev/tpm0 when present), else log only. A TPM named explicitly that fails
 * to open is an error.
 */
int launcher_record_open(struct launcher_recorder *r, const char *log_path, const char *tcti);
void launcher_record_close(struct launcher_recorder *r);
/* Appends then extends one AAEL event; 0 or -errno. */
int launcher_record_event(struct launcher_recorder *r, const char *operation, const char *content);
/* CoCo's initdata binding on a TPM: PCR 8 extended with the (sha256) digest. */
int launcher_record_initdata(struct launcher_recorder *r, const uint8_t *digest, size_t len);
const char *launcher_record_target_name(const struct launcher_recorder *r);

/* Content of a container event: {"digest":"sha256:…","name":"…"} (malloc'd). */
char *launcher_record_container_json(const char *name, const uint8_t digest[32]);

#endif
