// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "attest/eventlog.h"
#include "attest/tpm.h"
#include "launcher/measure.h"
#include "lib/fd.h"
#include "lib/log.h"

int launcher_record_open(struct launcher_recorder *r, const char *log_path, const char *tcti)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (r->log_fd < 0)
		return log_err("Failed to open the event log '%s': %m", log_path);
	r->reg = RECORD_PCR;
	r->alg = EVENTLOG_ALG_SHA256;
	if (!tcti && access(RECORD_TDX_RTMR3, W_OK) == 0) {
		r->target = RECORD_TDX;
		r->reg = RECORD_TDX_CCMR;
		r->alg = EVENTLOG_ALG_SHA384;
		return 0;
	}
	if (!tcti) {
		if (access("/dev/tpmrm0", R_OK | W_OK) == 0)
			tcti = "device:/dev/tpmrm0";
		else if (access("/dev/tpm0", R_OK | W_OK) == 0)
			tcti = "device:/dev/tpm0";
	}
	if (!tcti)
		return 0;
	ret = tpm_open(tcti, &r->tpm);
	if (ret < 0) {
		log_err("Failed to open the TPM '%s': %s", tcti, strerror(-ret));
		close(r->log_fd);
		r->log_fd = -1;
		return ret;
	}
	r->target = RECORD_TPM;
	return 0;
}

void launcher_record_close(struct launcher_recorder *r)
{
	if (r->tpm)
		tpm_close(r->tpm);
	r->tpm = NULL;
	if (r->log_fd >= 0)
		close(r->log_fd);
	r->log_fd = -1;
}

const char *launcher_record_target_name(const struct launcher_recorder *r)
{
	switch (r->target) {
	case RECORD_TPM:
		return "TPM PCR 23";
	case RECORD_TDX:
		return "TDX RTMR3";
	default:
		return "event log only (no TPM, no TDX)";
	}
}

static int extend_tdx(const uint8_t *digest, size_t len)
{
	uint8_t buf[48] = { 0 };
	int fd, r;

	memcpy(buf, digest, len < 48 ? len : 48);
	fd = open(RECORD_TDX_RTMR3, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fd_write_full(fd, buf, sizeof(buf));
	close(fd);
	return r;
}

int launcher_record_event(struct launcher_recorder *r, const char *operation, const char *content)
{
	struct eventlog_record rec;
	uint8_t *buf = NULL;
	size_t len;
	int ret;

	ret = eventlog_aael_encode(r->reg, r->alg, RECORD_DOMAIN, operation, content, &buf, &len);
	if (ret < 0)
		return log_err("Failed to encode the '%s' event: %s", operation, strerror(-ret));
	ret = eventlog_parse_record(buf, len, &rec);
	if (ret < 0) {
		free(buf);
		return log_err("Failed to read back the '%s' event: %s", operation, strerror(-ret));
	}
	/* The log first: a register extended without its record breaks verification. */
	ret = fd_write_full(r->log_fd, buf, len);
	if (ret < 0) {
		free(buf);
		errno = -ret;
		return log_err("Failed to append to the event log: %m");
	}
	if (r->target == RECORD_TPM)
		ret = tpm_pcr_extend(r->tpm, RECORD_PCR, rec.digest);
	else if (r->target == RECORD_TDX)
		ret = extend_tdx(rec.digest, rec.digest_len);
	free(buf);
	if (ret < 0) {
		errno = -ret;
		return log_err("Failed to extend %s with the '%s' event: %m",
			       launcher_record_target_name(r), operation);
	}
	log_info("measured: %s %s %s -> %s", RECORD_DOMAIN, operation, content,
		 launcher_record_target_name(r));
	return 0;
}

int launcher_record_initdata(struct launcher_recorder *r, const uint8_t *digest, size_t len)
{
	int ret;

	if (r->target != RECORD_TPM)
		return 0;
	if (len != 32)
		return log_err("initdata binding on a TPM needs a sha256 digest (got %zu bytes)", len);
	ret = tpm_pcr_extend(r->tpm, RECORD_INITDATA_PCR, digest);
	if (ret < 0) {
		errno = -ret;
		return log_err("Failed to extend PCR 8 with the initdata digest: %m");
	}
	return 0;
}

char *launcher_record_container_json(const char *name, const uint8_t digest[32])
{
	char hex[7 + 65];
	json_t *o;
	char *s;

	launcher_digest_hex(digest, hex);
	o = json_pack("{s:s,s:s}", "digest", hex, "name", name);
	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}
