// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil measure BUNDLE            the container digest veil-init computes
 * veil measure --pcr MANIFEST    the PCR 23 value the manifest's boot produces
 *
 * --pcr replays the events veil-init records, in its order: the policy, the
 * degraded-mode event when --degraded says the LSM will be inactive, then
 * one event per container in start order, then the isolation policy
 * (launcher/lsm.h). --events also prints each event before the value.
 * --root DIR reads each bundle under DIR, as a pod image staged on this host
 * holds it (scripts/pod-initrd).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attest/eventlog.h"
#include "launcher/image.h"
#include "launcher/lsm.h"
#include "launcher/manifest.h"
#include "launcher/measure.h"
#include "launcher/oci.h"
#include "launcher/pod_image.h"
#include "launcher/record.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"
#include "tools/veil.h"

static bool print_events;

/* The seccomp digest veil-init records for a bundle (its filter, or veil's default). */
static int bundle_seccomp(const struct manifest *m, const struct manifest_container *c,
			  const char *bundle, char hex[65])
{
	_cleanup_free_ char *cfg = NULL, *rootfs = NULL;
	char err[MEASURE_ERR_MAX];
	struct oci_config *oc = NULL;
	struct vjson_err e;
	size_t len;
	int r;

	r = launcher_bundle_read(bundle, &cfg, &len, &rootfs, err);
	if (r < 0) {
		log_err("container '%s': %s", c->name, err);
		return r;
	}
	r = launcher_oci_parse(cfg, len, bundle, &oc, &e);
	if (r < 0) {
		log_err("container '%s': config.json: %s", c->name, e.msg);
		return r;
	}
	if (m->seccomp_required && !oc->seccomp) {
		log_err("container '%s': the manifest requires linux.seccomp; veil-init would refuse it",
			c->name);
		r = -EINVAL;
	} else {
		r = launcher_lsm_seccomp_digest(oc, hex);
		if (r < 0)
			log_err("container '%s': Failed to digest its seccomp filter", c->name);
	}
	launcher_oci_free(oc);
	return r;
}

static int append(uint8_t **log, size_t *len, const char *op, const char *content)
{
	uint8_t *rec, *n;
	size_t rl;
	int r;

	if (print_events)
		printf("%s %s\n", op, content);
	r = eventlog_aael_encode(RECORD_PCR, EVENTLOG_ALG_SHA256, RECORD_DOMAIN, op, content, &rec, &rl);
	if (r < 0)
		return r;
	n = realloc(*log, *len + rl);
	if (!n) {
		free(rec);
		return -ENOMEM;
	}
	memcpy(n + *len, rec, rl);
	*log = n;
	*len += rl;
	free(rec);
	return 0;
}

static int pcr(const char *path, bool degraded, const char *root)
{
	_cleanup_free_ char *buf = NULL, *pol = NULL, *iso = NULL;
	char sc_hex[MANIFEST_CONTAINERS_MAX][65];
	const char *sc[MANIFEST_CONTAINERS_MAX] = { 0 };
	_cleanup_free_ uint8_t *log = NULL;
	struct vjson_err e;
	struct manifest *m;
	uint8_t value[EVENTLOG_DIGEST_MAX];
	size_t len, loglen = 0;
	int r;

	r = fd_read_file(path, MANIFEST_MAX, &buf, &len);
	if (r < 0) {
		errno = -r;
		log_err("Failed to read '%s': %m", path);
		return 1;
	}
	r = launcher_manifest_parse(buf, len, &m, &e);
	if (r < 0) {
		log_err("'%s': %s", path, e.msg);
		return 1;
	}
	if (degraded && !m->lsm_degraded_allowed) {
		log_err("'%s': the manifest does not allow the degraded mode", path);
		launcher_manifest_free(m);
		return 1;
	}
	pol = launcher_manifest_policy_json(m);
	r = pol ? append(&log, &loglen, "policy", pol) : -ENOMEM;
	if (r >= 0 && degraded)
		r = append(&log, &loglen, "degraded", "{\"lsm\":\"inactive\"}");
	for (size_t i = 0; i < m->n_containers && r >= 0; i++) {
		const struct manifest_container *c = &m->containers[i];
		char err[MEASURE_ERR_MAX], hex[7 + 65];
		uint8_t d[32];
		char *content, at[4096];

		if (c->image) {
			/* veil-init's event for an image: its (pinned) manifest digest. */
			struct launcher_image *img = NULL;
			struct vjson_err ie = { { 0 } };
			struct manifest_image at_im = *c->image;

			if (root && (size_t)snprintf(at, sizeof(at), "%s%s", root, c->image->layout) >=
					    sizeof(at)) {
				log_err("container '%s': '%s%s' is too long", c->name, root,
					c->image->layout);
				r = -ENAMETOOLONG;
				break;
			}
			if (root)
				at_im.layout = at;
			r = launcher_pod_image_open(&at_im, &img, &ie);
			if (r < 0) {
				log_err("container '%s': image '%s': %s; veil-init would refuse it",
					c->name, c->image->layout, ie.msg);
				break;
			}
			for (int k = 0; k < 32; k++)
				sscanf(img->manifest_digest + 7 + 2 * k, "%2hhx", &d[k]);
			launcher_image_free(img);
			goto record;
		}
		if (root && (size_t)snprintf(at, sizeof(at), "%s%s", root, c->bundle) >= sizeof(at)) {
			log_err("container '%s': '%s%s' is too long", c->name, root, c->bundle);
			r = -ENAMETOOLONG;
			break;
		}
		r = launcher_measure_bundle(root ? at : c->bundle, 0, d, NULL, err);
		if (r < 0) {
			log_err("container '%s': %s", c->name, err);
			break;
		}
		if (c->pinned && memcmp(d, c->digest, 32)) {
			launcher_digest_hex(d, hex);
			log_err("container '%s': digest %s does not match its pin; veil-init would refuse it",
				c->name, hex);
			r = -EINVAL;
			break;
		}
record:
		content = launcher_record_container_json(c->name, d);
		r = content ? append(&log, &loglen, "container", content) : -ENOMEM;
		free(content);
		if (r >= 0 && c->image) {
			char *ov = launcher_pod_image_overrides_json(c, &r);

			if (ov)
				r = append(&log, &loglen, POD_IMAGE_CONFIG_OP, ov);
			free(ov);
		}
		/* Image containers run under veil's default profile (as in veil-init). */
		if (r >= 0 && i < MANIFEST_CONTAINERS_MAX) {
			r = c->image ? launcher_lsm_seccomp_digest(NULL, sc_hex[i])
				     : bundle_seccomp(m, c, root ? at : c->bundle, sc_hex[i]);
			sc[i] = sc_hex[i];
		}
	}
	/* The sealed models veil-decryptd serves, as veil-init records them. */
	for (size_t i = 0; r >= 0 && m->decryptd && i < m->dd.n_models; i++) {
		const struct manifest_decryptd_model *dm = &m->dd.models[i];
		char err[MEASURE_ERR_MAX], at[4096];
		char *ev = NULL;

		if (root && (size_t)snprintf(at, sizeof(at), "%s%s", root, dm->sealed) >= sizeof(at)) {
			log_err("sealed model '%s': '%s%s' is too long", dm->name, root, dm->sealed);
			r = -ENAMETOOLONG;
			break;
		}
		r = launcher_measure_sealed_model(dm->name, root ? at : dm->sealed, &ev, err);
		if (r < 0)
			log_err("%s; veil-init would stop", err);
		else
			r = append(&log, &loglen, MEASURE_SEALED_MODEL_OP, ev);
		free(ev);
	}
	if (r >= 0) {
		iso = launcher_lsm_event_json(!degraded, m, sc);
		r = iso ? append(&log, &loglen, LSM_EVENT_OP, iso) : -ENOMEM;
	}
	launcher_manifest_free(m);
	if (r < 0)
		return 1;
	r = eventlog_replay(log, loglen, RECORD_PCR, EVENTLOG_ALG_SHA256, value);
	if (r < 0) {
		log_err("Failed to replay the events: %s", strerror(-r));
		return 1;
	}
	for (int i = 0; i < 32; i++)
		printf("%02x", value[i]);
	printf("\n");
	return 0;
}

/*
 * An OCI image layout (issue 10): the manifest digest a user pins and the
 * event content veil-init records for it (docs/images.md).
 */
static int measure_image(const char *layout, const char *ref)
{
	struct launcher_image *img = NULL;
	_cleanup_free_ char *cfg = NULL, *ev = NULL;
	struct vjson_err e = { { 0 } };
	int r;

	r = launcher_image_open(layout, ref, &img, &e);
	if (r == 0)
		r = launcher_image_runtime_config(img, -1, NULL, &cfg, &e);
	if (r == 0)
		r = launcher_image_event(img, ref, cfg, strlen(cfg), &ev);
	if (r < 0) {
		log_err("Failed to measure image '%s': %s", layout, e.msg);
		launcher_image_free(img);
		return 1;
	}
	printf("%s\n%s\n", img->manifest_digest, ev);
	launcher_image_free(img);
	return 0;
}

static bool is_image_layout(const char *path)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/oci-layout", path);
	return access(p, F_OK) == 0;
}

int tool_measure(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "pcr", no_argument, NULL, 'p' },	 { "degraded", no_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 'j' }, { "stats", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },	 { "ref", required_argument, NULL, 'r' },
		{ "root", required_argument, NULL, 'R' },
		{ "events", no_argument, NULL, 'E' },
		{}
	};
	const char *ref = NULL, *root = NULL;
	bool want_pcr = false, degraded = false, stats = false;
	unsigned int threads = 0;
	int c;

	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			want_pcr = true;
			break;
		case 'd':
			degraded = true;
			break;
		case 'j':
			threads = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 's':
			stats = true;
			break;
		case 'r':
			ref = optarg;
			break;
		case 'R':
			root = optarg;
			break;
		case 'E':
			print_events = true;
			break;
		case 'h':
			printf("usage: veil measure [--threads N] [--stats] BUNDLE\n"
			       "       veil measure [--ref REF] IMAGE-LAYOUT\n"
			       "       veil measure --pcr [--degraded] [--events] [--root DIR] MANIFEST\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: veil measure BUNDLE | veil measure --pcr [--degraded] MANIFEST\n");
		return 2;
	}
	if (want_pcr)
		return pcr(argv[optind], degraded, root);
	if (is_image_layout(argv[optind]))
		return measure_image(argv[optind], ref);

	char err[MEASURE_ERR_MAX], hex[7 + 65];
	struct measure_stats st;
	struct timespec t0, t1;
	uint8_t d[32];
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = launcher_measure_bundle(argv[optind], threads, d, &st, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r < 0) {
		log_err("%s", err);
		return 1;
	}
	launcher_digest_hex(d, hex);
	printf("%s\n", hex);
	if (stats) {
		double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

		fprintf(stderr, "entries %llu files %llu bytes %llu seconds %.3f MB/s %.1f\n",
			(unsigned long long)st.entries, (unsigned long long)st.files,
			(unsigned long long)st.bytes, s, (double)st.bytes / 1e6 / s);
	}
	return 0;
}
