// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/attest.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "attest/rcar.h"
#include "lib/log.h"
#include "lib/secmem.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int launcher_attest(const struct manifest *m, const struct launcher_attest_opts *o,
		    struct keyring *kr, struct launcher_attest_stats *ret_stats)
{
	struct attest_evidence_opts eo = {
		.tpm_tcti = o->tpm_tcti,
		.tsm_root = o->tsm_root,
		.eventlog = o->eventlog,
		.eventlog_len = o->eventlog_len,
	};
	struct rcar_opts ro = {
		.url = m->kbs_url,
		.ca_file = m->kbs_ca,
		.tee = m->kbs_tee,
		.evidence = &eo,
		.initdata = o->initdata,
		.deadline_ms = o->deadline_ms ? o->deadline_ms : (long)m->kbs_deadline_ms,
	};
	struct launcher_attest_stats st = { 0 };
	struct rcar_client *c;
	char err[RCAR_ERR_MAX];
	double t0 = now_s();
	int r;

	if (!m->has_kbs || !m->n_resources)
		return 0;
	r = rcar_new(&ro, &c);
	if (r < 0)
		return log_err("attestation failed: cannot set up the KBS client: %s", strerror(-r));
	log_info("attesting to '%s' with TEE '%s'", m->kbs_url, m->kbs_tee);
	r = rcar_attest(c, err, sizeof(err));
	if (r < 0) {
		log_err("attestation failed: %s", err);
		goto out;
	}
	for (size_t i = 0; i < m->n_resources; i++) {
		const struct manifest_resource *res = &m->resources[i];
		char desc[KEYRING_DESC_MAX];
		const char *path;
		uint8_t *pt = NULL;
		size_t len = 0;
		key_serial_t key;
		double tk;

		r = keyring_uri_to_desc(res->uri, strlen(res->uri), desc, sizeof(desc));
		if (r < 0) {
			log_err("attestation failed: resource '%s' has a malformed URI '%s'", res->name,
				res->uri);
			goto out;
		}
		path = desc + strlen(KEYRING_DESC_PREFIX);
		r = rcar_get_resource(c, path, &pt, &len, err, sizeof(err));
		if (r < 0) {
			log_err("attestation failed: resource '%s' ('%s'): %s", res->name, res->uri, err);
			goto out;
		}
		tk = now_s();
		r = keyring_add(kr, path, KEYRING_USER, pt, len, 0, &key);
		/* The kernel has its copy now (or refused it): ours goes either way. */
		secmem_free(pt);
		st.keyring_s += now_s() - tk;
		if (r < 0) {
			log_err("attestation failed: resource '%s' could not be stored in the keyring: %s",
				res->name, strerror(-r));
			goto out;
		}
		/* Serial and size only: never the bytes. */
		log_info("resource '%s' is key %d (%zu bytes)", res->name, (int)key, len);
		st.resources++;
	}
	r = 0;
out:
	st.total_s = now_s() - t0;
	st.evidence_s = rcar_stats(c)->evidence_s;
	st.network_s = rcar_stats(c)->network_s;
	st.jwe_s = rcar_stats(c)->jwe_s;
	st.attestations = rcar_stats(c)->attestations;
	rcar_free(c);
	if (ret_stats)
		*ret_stats = st;
	return r;
}
