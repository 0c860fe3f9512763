/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Runtime event log checks for verifiers: replay an AAEL log (or a TDX CCEL
 * with AAEL records) for the register the TEE quoted, compare, and expose the
 * events as claims. veil-init records each container it measured as
 *   github.com/veil container {"digest":"sha256:...","name":"..."}
 * which becomes claims.containers = [{"name":..,"digest":..}, ...].
 */
#ifndef VEIL_ATTEST_RUNTIME_H
#define VEIL_ATTEST_RUNTIME_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/eventlog.h"

#define ATTEST_RUNTIME_LOG_MAX EVENTLOG_MAX
#define ATTEST_RUNTIME_EVENTS_MAX 4096u
#define ATTEST_VEIL_DOMAIN "github.com/veil"
#define ATTEST_VEIL_CONTAINER_OP "container"
#define ATTEST_VEIL_DEGRADED_OP "degraded"

/*
 * Replays log for register reg with alg (starting from zeros) and compares
 * with quoted (the digest size of alg). On a match adds to claims:
 *   "runtime_events": [{"domain","operation","content"}] (AAEL records of reg, in order)
 *   "containers": [{"name","digest"}] (veil container events)
 *   "degraded": true when veil-init recorded running without its BPF LSM
 * 0, -EBADMSG (malformed log or container event), -EKEYREJECTED (replay does
 * not give the quoted value) or -ENOMEM; msg names the reason.
 */
int attest_runtime_log_claims(const uint8_t *log, size_t len, uint32_t reg, uint16_t alg,
			      const uint8_t *quoted, json_t *claims, char *msg, size_t msg_len);

#endif
