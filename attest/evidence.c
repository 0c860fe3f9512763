// SPDX-License-Identifier: GPL-2.0-only
#include "attest/evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/snp.h"
#include "attest/snp_guest.h"
#include "attest/tpm.h"
#include "lib/errbuf.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/fd.h"

static json_t *json_b64(const void *buf, size_t len)
{
	_cleanup_free_ char *s = NULL;

	if (b64_encode(buf, len, &s) < 0)
		return NULL;
	return json_string(s);
}

static json_t *json_hex(const uint8_t *buf, size_t len)
{
	char s[2 * 64 + 1];

	if (len > 64)
		return NULL;
	for (size_t i = 0; i < len; i++)
		snprintf(s + 2 * i, 3, "%02x", buf[i]);
	s[2 * len] = '\0';
	return json_string(s);
}

static int collect_sample(const uint8_t binding[ATTEST_BINDING_LEN], json_t **ret)
{
	json_t *rd = json_b64(binding, ATTEST_BINDING_LEN);

	if (!rd)
		return -ENOMEM;
	*ret = json_pack("{s:s, s:o}", "svn", "1", "report_data", rd);
	return *ret ? 0 : -ENOMEM;
}

static int collect_tpm(const uint8_t binding[ATTEST_BINDING_LEN],
		       const struct attest_evidence_opts *opts, json_t **ret, char *err,
		       size_t err_len)
{
	const char *tcti = opts && opts->tpm_tcti ? opts->tpm_tcti : "device:/dev/tpmrm0";
	uint32_t ak = opts && opts->tpm_ak_handle ? opts->tpm_ak_handle : TPM_AK_HANDLE_DEFAULT;
	struct tpm_quote q;
	struct tpm *t;
	json_t *pcrs, *ev;
	int r;

	r = tpm_open(tcti, &t);
	if (r < 0)
		return errbuf_set(err, err_len, r, "cannot open TPM '%s': %s", tcti, strerror(-r));
	/* The tpm carrier holds the first 32 bytes of the binding (§1.5). */
	r = tpm_quote(t, ak, binding, 32, &q);
	tpm_close(t);
	if (r < 0)
		return errbuf_set(err, err_len, r, "TPM quote failed: %s", strerror(-r));
	pcrs = json_array();
	for (int i = 0; pcrs && i < TPM_PCR_COUNT; i++)
		if (json_array_append_new(pcrs, json_hex(q.pcrs[i], TPM_SHA256_LEN)) < 0) {
			json_decref(pcrs);
			pcrs = NULL;
		}
	ev = pcrs ? json_pack("{s:{s:o, s:o, s:o}, s:o}", "tpm_quote", "signature",
			      json_b64(q.signature, q.signature_len), "message",
			      json_b64(q.message, q.message_len), "pcrs", pcrs, "ak_public",
			      json_b64(q.ak_spki, q.ak_spki_len))
		  : NULL;
	tpm_quote_done(&q);
	if (!ev)
		return -ENOMEM;
	/* The runtime event log rides along, so the verifier can replay PCR 23. */
	if (opts && opts->eventlog && opts->eventlog_len &&
	    json_object_set_new(ev, "aa_eventlog", json_b64(opts->eventlog, opts->eventlog_len)) < 0) {
		json_decref(ev);
		return -ENOMEM;
	}
	*ret = ev;
	return 0;
}

static int read_small(int dirfd, const char *name, char *buf, size_t cap)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = fd_read_full(fd, buf, cap - 1);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	return (int)n;
}

static int read_blob(int dirfd, const char *name, uint8_t **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	char *buf;
	size_t n;
	int r;

	if (fd < 0)
		return -errno;
	r = fd_read_all(fd, TSM_OUTBLOB_MAX, &buf, &n);
	if (r < 0)
		return r;
	*ret = (uint8_t *)buf;
	*ret_len = n;
	return 0;
}

int attest_tsm_report(const char *root, const char *entry, const char *provider,
		      const uint8_t inblob[64], uint8_t **ret_out, size_t *ret_out_len,
		      uint8_t **ret_aux, size_t *ret_aux_len)
{
	char path[PATH_MAX], name[64], buf[64], gen_before[32];
	_cleanup_close_ int dirfd = -1;
	bool created = false;
	uint8_t *out = NULL, *aux = NULL;
	size_t out_len = 0, aux_len = 0;
	int r, fd;

	if (!entry) {
		snprintf(name, sizeof(name), "veil-%d", (int)getpid());
		entry = name;
		if (snprintf(path, sizeof(path), "%s/%s", root, entry) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		if (mkdir(path, 0700) < 0)
			return errno == ENOENT ? -ENODEV : -errno;
		created = true;
	} else if (snprintf(path, sizeof(path), "%s/%s", root, entry) >= (int)sizeof(path)) {
		return -ENAMETOOLONG;
	}
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r = -errno;
		goto out;
	}
	r = read_small(dirfd, "provider", buf, sizeof(buf));
	if (r < 0)
		goto out;
	buf[strcspn(buf, "\n")] = '\0';
	if (strcmp(buf, provider) != 0) {
		r = -EOPNOTSUPP;
		goto out;
	}
	fd = openat(dirfd, "inblob", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = fd_write_full(fd, inblob, 64);
	close(fd);
	if (r < 0)
		goto out;
	r = read_small(dirfd, "generation", gen_before, sizeof(gen_before));
	if (r < 0)
		goto out;
	r = read_blob(dirfd, "outblob", &out, &out_len);
	if (r < 0)
		goto out;
	if (ret_aux) {
		r = read_blob(dirfd, "auxblob", &aux, &aux_len);
		if (r == -ENOENT) {
			aux_len = 0;
			r = 0;
		}
		if (r < 0)
			goto out;
	}
	/* Another writer between our inblob and outblob makes the report not ours. */
	r = read_small(dirfd, "generation", buf, sizeof(buf));
	if (r < 0)
		goto out;
	if (strcmp(buf, gen_before) != 0) {
		r = -EBUSY;
		goto out;
	}
	if (out_len == 0) {
		r = -EPROTO;
		goto out;
	}
	*ret_out = TAKE_PTR(out);
	*ret_out_len = out_len;
	if (ret_aux) {
		*ret_aux = TAKE_PTR(aux);
		*ret_aux_len = aux_len;
	}
	r = 0;
out:
	free(out);
	free(aux);
	if (created)
		rmdir(path);
	return r;
}

static int collect_tdx(const uint8_t binding[ATTEST_BINDING_LEN],
		       const struct attest_evidence_opts *opts, json_t **ret, char *err,
		       size_t err_len)
{
	const char *root = opts && opts->tsm_root ? opts->tsm_root : TSM_REPORT_ROOT;
	uint8_t inblob[64] = { 0 }, *quote = NULL;
	json_t *q, *log = json_null();
	size_t len;
	int r;

	/* REPORTDATA = binding || 16 zero bytes (§1.5). */
	memcpy(inblob, binding, ATTEST_BINDING_LEN);
	r = attest_tsm_report(root, opts ? opts->tsm_entry : NULL, "tdx_guest", inblob, &quote, &len,
			      NULL, NULL);
	if (r == 0 && len < TDX_QUOTE_REPORT_DATA_OFF + 64) {
		free(quote);
		r = -EPROTO;
	}
	if (r < 0)
		return errbuf_set(err, err_len, r, "configfs-tsm TDX report under '%s' failed: %s", root,
			   strerror(-r));
	q = json_b64(quote, len);
	free(quote);
	if (opts && opts->eventlog && opts->eventlog_len) {
		json_decref(log);
		log = json_b64(opts->eventlog, opts->eventlog_len);
	}
	if (!q || !log) {
		json_decref(q);
		json_decref(log);
		return -ENOMEM;
	}
	*ret = json_pack("{s:o, s:o}", "cc_eventlog", log, "quote", q);
	return *ret ? 0 : -ENOMEM;
}

/*
 * An SNP report with REPORT_DATA = inblob: configfs-tsm, or /dev/sev-guest
 * when there is no configfs-tsm (-ENODEV) — the same report, not another TEE.
 * A malloc'd report of ATTEST_SNP_REPORT_LEN bytes or more.
 */
static int snp_report(const struct attest_evidence_opts *opts, const uint8_t inblob[64],
		      uint8_t **ret, size_t *ret_len, char *err, size_t err_len)
{
	const char *root = opts && opts->tsm_root ? opts->tsm_root : TSM_REPORT_ROOT;
	const char *dev = opts && opts->sev_guest_dev ? opts->sev_guest_dev : SNP_GUEST_DEV;
	char derr[256];
	uint8_t *rep;
	int r;

	r = attest_tsm_report(root, opts ? opts->tsm_entry : NULL, "sev_guest", inblob, ret, ret_len,
			      NULL, NULL);
	if (r != -ENODEV)
		return r < 0 ? errbuf_set(err, err_len, r, "configfs-tsm SNP report under '%s' failed: %s",
					  root, strerror(-r)) : 0;
	rep = malloc(ATTEST_SNP_REPORT_LEN);
	if (!rep)
		return -ENOMEM;
	r = attest_snp_guest_report(dev, inblob, rep, derr, sizeof(derr));
	if (r < 0) {
		free(rep);
		return errbuf_set(err, err_len, r, "no configfs-tsm under '%s', and %s", root, derr);
	}
	*ret = rep;
	*ret_len = ATTEST_SNP_REPORT_LEN;
	return 0;
}

static int tsm_report_for(const char *provider, const struct attest_evidence_opts *opts,
			  uint8_t **ret, size_t *ret_len)
{
	const char *root = opts && opts->tsm_root ? opts->tsm_root : TSM_REPORT_ROOT;
	uint8_t inblob[64] = { 0 };

	if (strcmp(provider, "sev_guest") == 0)
		return snp_report(opts, inblob, ret, ret_len, NULL, 0);
	return attest_tsm_report(root, opts ? opts->tsm_entry : NULL, provider, inblob, ret, ret_len,
				 NULL, NULL);
}

int attest_initdata_bind(const char *tee, const uint8_t *digest, size_t digest_len,
			 const struct attest_evidence_opts *opts, char *err, size_t err_len)
{
	uint8_t *report = NULL;
	size_t len, off, n;
	int r;

	if (digest_len != 32 && digest_len != 48 && digest_len != 64)
		return errbuf_set(err, err_len, -EINVAL, "initdata digest of %zu bytes", digest_len);
	if (strcmp(tee, "sample") == 0)
		return 0;
	if (strcmp(tee, "tpm") == 0) {
		const char *tcti = opts && opts->tpm_tcti ? opts->tpm_tcti : "device:/dev/tpmrm0";
		struct tpm *t;

		r = tpm_open(tcti, &t);
		if (r < 0)
			return errbuf_set(err, err_len, r, "cannot open TPM '%s': %s", tcti, strerror(-r));
		r = tpm_pcr_extend(t, 8, digest);
		tpm_close(t);
		return r < 0 ? errbuf_set(err, err_len, r, "PCR 8 extend failed: %s", strerror(-r)) : 0;
	}
	if (strcmp(tee, "snp") == 0) {
		r = tsm_report_for("sev_guest", opts, &report, &len);
		off = SNP_HOST_DATA_OFF;
		n = 32;
		if (r == 0 && len < SNP_REPORT_LEN)
			r = -EPROTO;
	} else if (strcmp(tee, "tdx") == 0) {
		r = tsm_report_for("tdx_guest", opts, &report, &len);
		off = TDX_QUOTE_MRCONFIGID_OFF;
		n = 48;
		if (r == 0 && len < TDX_QUOTE_REPORT_DATA_OFF + 64)
			r = -EPROTO;
	} else {
		return errbuf_set(err, err_len, -EOPNOTSUPP, "no initdata binding for TEE '%.64s'", tee);
	}
	if (r < 0)
		return errbuf_set(err, err_len, r, "cannot read a %s report to check the initdata: %s", tee,
			   strerror(-r));
	/* HOST_DATA holds the first 32 bytes; MRCONFIGID the digest zero-padded to 48. */
	{
		uint8_t want[48] = { 0 };

		memcpy(want, digest, digest_len < n ? digest_len : n);
		r = memcmp(report + off, want, n) == 0 ? 0 : -EPERM;
	}
	free(report);
	return r < 0 ? errbuf_set(err, err_len, r, "initdata digest does not match the %s launch value", tee) : 0;
}

/* snp: the report through configfs-tsm (or /dev/sev-guest), in the sev crate's JSON form Trustee reads (§4.1). */
static int collect_snp(const uint8_t binding[ATTEST_BINDING_LEN],
		       const struct attest_evidence_opts *opts, json_t **ret, char *err,
		       size_t err_len)
{
	uint8_t inblob[64] = { 0 }, *report = NULL;
	json_t *rep = NULL;
	size_t len;
	int r;

	/* REPORT_DATA = binding || 16 zero bytes (§1.5). */
	memcpy(inblob, binding, ATTEST_BINDING_LEN);
	r = snp_report(opts, inblob, &report, &len, err, err_len);
	if (r < 0)
		return r;
	if (len != ATTEST_SNP_REPORT_LEN || memcmp(report + SNP_REPORT_DATA_OFF, inblob, 64) != 0)
		r = errbuf_set(err, err_len, -EPROTO,
			       "the SNP report (%zu bytes) does not carry our report data", len);
	else if (attest_snp_to_json(report, &rep) < 0)
		r = errbuf_set(err, err_len, -EPROTO, "the SNP report has fields serde cannot carry");
	free(report);
	if (r < 0)
		return r;
	/* No host certificate table here: the KBS finds the VCEK in its own cache. */
	*ret = json_pack("{s:o, s:n}", "attestation_report", rep, "cert_chain");
	return *ret ? 0 : -ENOMEM;
}

int attest_evidence_collect(const char *tee, const uint8_t binding[ATTEST_BINDING_LEN],
			    const struct attest_evidence_opts *opts, json_t **ret_evidence,
			    char *err, size_t err_len)
{
	if (strcmp(tee, "sample") == 0)
		return collect_sample(binding, ret_evidence);
	if (strcmp(tee, "tpm") == 0)
		return collect_tpm(binding, opts, ret_evidence, err, err_len);
	if (strcmp(tee, "tdx") == 0)
		return collect_tdx(binding, opts, ret_evidence, err, err_len);
	if (strcmp(tee, "snp") == 0)
		return collect_snp(binding, opts, ret_evidence, err, err_len);
	return errbuf_set(err, err_len, -EOPNOTSUPP, "no evidence collector for TEE '%.64s'", tee);
}
