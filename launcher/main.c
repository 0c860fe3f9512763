// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil-init: PID 1 of a confidential VM, or with --sandbox PID 1 of new PID
 * and mount namespaces on an ordinary host. Stages (DESIGN.md §3): stage 1,
 * policy, initdata and manifest, measure and record, launch, supervise,
 * shut down. Before the loop a fatal error takes the emergency path.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <seccomp.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attest/eventlog.h"
#include "keyring/keyring.h"
#include "launcher/attest.h"
#include "launcher/boot.h"
#include "launcher/cgroup.h"
#include "launcher/container.h"
#include "launcher/decryptd.h"
#include "launcher/initdata.h"
#include "launcher/lsm.h"
#include "launcher/manifest.h"
#include "launcher/measure.h"
#include "launcher/netup.h"
#include "launcher/oci.h"
#include "launcher/pod_image.h"
#include "launcher/record.h"
#include "launcher/reattest.h"
#include "launcher/seccomp_default.h"
#include "launcher/supervise.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"

#define DEFAULT_MANIFEST "/etc/veil/manifest.json"
#define DEFAULT_INITDATA "/etc/veil/initdata.toml"
#define DEFAULT_EVENTLOG "/run/veil/eventlog"

static struct boot_options opts = { .loglevel = LOG_INFO };
static pid_t sandbox_host_pid;
/* The exact initdata bytes, sent to the KBS as init-data (it hashes them too). */
static char *initdata_text;

static void usage(FILE *f)
{
	fprintf(f, "usage: veil-init                      (as PID 1; options from the kernel command line)\n"
		   "       veil-init --sandbox MANIFEST   [--initdata FILE] [--tpm TCTI] [--eventlog PATH] [-v]\n"
		   "       veil-init --sandbox --initdata FILE ...\n"
		   "MANIFEST '-' means: the veil.json entry of the initdata.\n");
}

/* The manifest: a file, or the veil.json entry of initdata (whose digest is bound first). */
static struct manifest *load_manifest(struct launcher_recorder *rec)
{
	_cleanup_free_ char *buf = NULL;
	struct initdata *id = NULL;
	struct vjson_err e;
	struct manifest *m;
	const char *src;
	char err[256];
	size_t len;
	int r;

	if (opts.initdata) {
		r = fd_read_file(opts.initdata, INITDATA_MAX, &buf, &len);
		if (r < 0)
			launcher_emergency(opts.sandbox, "Failed to read initdata '%s': %s", opts.initdata,
					   strerror(-r));
		r = launcher_initdata_parse(buf, len, &id, err, sizeof(err));
		if (r < 0)
			launcher_emergency(opts.sandbox, "initdata '%s': %s", opts.initdata,
					   r == -ENOMEM ? "out of memory" : err);
		char hex[129];
		for (size_t i = 0; i < id->digest_len; i++)
			sprintf(hex + 2 * i, "%02x", id->digest[i]);
		log_info("initdata '%s': version %s, %s digest %s", opts.initdata, id->version,
			 id->algorithm, hex);
		if (launcher_record_initdata(rec, id->digest, id->digest_len) < 0)
			launcher_emergency(opts.sandbox, "Failed to bind the initdata digest");
		initdata_text = strndup(buf, len);
		if (!initdata_text)
			launcher_emergency(opts.sandbox, "Out of memory");
	}
	if (!opts.manifest || !strcmp(opts.manifest, "-")) {
		const struct initdata_entry *ent = id ? launcher_initdata_get(id, "veil.json") : NULL;

		if (!ent)
			launcher_emergency(opts.sandbox, "No manifest: initdata has no 'veil.json' entry");
		r = launcher_manifest_parse(ent->value, ent->value_len, &m, &e);
		src = "initdata veil.json";
	} else {
		free(buf);
		buf = NULL;
		r = fd_read_file(opts.manifest, MANIFEST_MAX, &buf, &len);
		if (r < 0)
			launcher_emergency(opts.sandbox, "Failed to read manifest '%s': %s", opts.manifest,
					   strerror(-r));
		r = launcher_manifest_parse(buf, len, &m, &e);
		src = opts.manifest;
	}
	launcher_initdata_free(id);
	if (r < 0)
		launcher_emergency(opts.sandbox, "manifest '%s': %s", src,
				   r == -ENOMEM ? "out of memory" : e.msg);
	return m;
}

/*
 * Reads, parses and checks one container and, with job, starts its
 * measurement; refused (false) on any failure. An image container's bundle
 * is its unpacked tmpfs (NULL: refused already), measured before attestation
 * by its image manifest digest: no job then.
 */
static bool prepare_unit_begin(struct launcher_unit *u, const char *bundle,
			       const struct manifest *m, struct launcher_measure_job *job)
{
	const struct manifest_container *mc = u->mc;
	_cleanup_free_ char *cfg = NULL, *rootfs = NULL;
	char err[MEASURE_ERR_MAX];
	struct vjson_err e;
	size_t len;
	int r;

	u->state = UNIT_REFUSED;
	u->status = -1;
	u->pidfd = u->out_fd = -1;
	u->seccomp_default = false;
	if (!bundle)
		return false;
	r = launcher_bundle_read(bundle, &cfg, &len, &rootfs, err);
	if (r < 0) {
		log_err("container '%s' refused: %s", mc->name, err);
		return false;
	}
	r = launcher_oci_parse(cfg, len, bundle, &u->cfg, &e);
	if (r < 0) {
		log_err("container '%s' refused: %s/config.json: %s", mc->name, bundle,
			r == -ENOMEM ? "out of memory" : e.msg);
		return false;
	}
	if (m->seccomp_required && !u->cfg->seccomp) {
		log_err("container '%s' refused: the manifest requires linux.seccomp", mc->name);
		return false;
	}
	if (!u->cfg->seccomp) {
		/* No profile in the bundle: veil's default, a Docker-like allowlist. */
		char sd[65];

		r = launcher_seccomp_default_build(&u->cfg->seccomp);
		/* The bundle's noNewPrivileges stands: the filter goes in before caps drop then. */
		if (r == 0 && !u->cfg->no_new_privs &&
		    seccomp_attr_set(u->cfg->seccomp, SCMP_FLTATR_CTL_NNP, 0) < 0)
			r = -EINVAL;
		/* Its program is generated and hashed once per boot, not per container. */
		if (r < 0 || launcher_seccomp_default_digest(sd) < 0) {
			log_err("container '%s' refused: Failed to build the default seccomp profile",
				mc->name);
			return false;
		}
		log_info("container '%s': no linux.seccomp, veil's default profile (sha256 %.16s…)",
			 mc->name, sd);
		u->seccomp_default = true;
	}
	if (job) {
		r = launcher_measure_start(u->cfg->root_path, cfg, len, job);
		if (r < 0) {
			log_err("container '%s' refused: measurement failed: %s", mc->name, strerror(-r));
			return false;
		}
	}
	return true;
}

/*
 * The second half, in manifest order: the started measurement (job) is
 * compared with the pinned digest and recorded (rec), then the container
 * gets its cgroup leaf. Refused on any failure.
 */
static void prepare_unit_end(struct launcher_unit *u, struct launcher_measure_job *job,
			     struct launcher_recorder *rec, const struct launcher_cgroups *cg)
{
	const struct manifest_container *mc = u->mc;
	_cleanup_free_ char *content = NULL;
	char err[MEASURE_ERR_MAX], hex[7 + 65], pin[7 + 65];
	uint8_t digest[32];
	int r;

	if (job) {
		r = launcher_measure_finish(job, digest, err);
		if (r < 0) {
			log_err("container '%s' refused: measurement failed: %s", mc->name, err);
			return;
		}
		launcher_digest_hex(digest, hex);
		if (mc->pinned && memcmp(digest, mc->digest, 32) != 0) {
			launcher_digest_hex(mc->digest, pin);
			log_err("container '%s' refused: digest %s does not match the pinned %s",
				mc->name, hex, pin);
			return;
		}
		content = launcher_record_container_json(mc->name, digest);
		if (!content || launcher_record_event(rec, "container", content) < 0) {
			log_err("container '%s' refused: its measurement could not be recorded", mc->name);
			return;
		}
	}
	r = launcher_cgroup_leaf(cg, mc->name, u->cfg, &u->cgroup);
	if (r < 0) {
		log_err("container '%s' refused: no cgroup", mc->name);
		return;
	}
	u->state = UNIT_WAITING;
}

/*
 * Attests (when the manifest names a KBS), puts the released resources into
 * veil's keyring and builds each container's grants ring. Fails closed: the
 * caller starts no container when this fails (the cause is logged).
 */
static int attest_and_grant(struct launcher_pod *pod, struct keyring **ret)
{
	const struct manifest *m = pod->m;
	struct launcher_attest_opts ao = { .tpm_tcti = opts.tpm, .initdata = initdata_text };
	_cleanup_free_ char *log = NULL;
	struct launcher_attest_stats st;
	struct keyring *kr;
	size_t log_len = 0;
	int r;

	*ret = NULL;
	if (!m->has_kbs)
		return 0;
	/* The measurements so far go with the evidence, for the verifier to replay. */
	r = fd_read_file(opts.eventlog ? opts.eventlog : DEFAULT_EVENTLOG, EVENTLOG_MAX, &log, &log_len);
	if (r < 0)
		return log_err("Failed to read the event log: %s", strerror(-r));
	ao.eventlog = (const uint8_t *)log;
	ao.eventlog_len = log_len;
	r = keyring_new(&kr);
	if (r < 0)
		return log_err("Failed to create veil's keyring: %s", strerror(-r));
	r = launcher_attest(m, &ao, kr, &st);
	if (r < 0)
		goto fail;
	log_info("attested in %.3fs (evidence %.3fs, network %.3fs, JWE %.4fs, keyring %.4fs): %u key(s)",
		 st.total_s, st.evidence_s, st.network_s, st.jwe_s, st.keyring_s, st.resources);
	for (size_t i = 0; i < pod->n_units; i++) {
		const struct manifest_container *mc = pod->units[i].mc;
		const char *grants[MANIFEST_KEYS_MAX];
		char paths[MANIFEST_KEYS_MAX][KEYRING_DESC_MAX];
		key_serial_t ring;

		if (!mc->n_keys)
			continue;
		for (size_t k = 0; k < mc->n_keys; k++) {
			const struct manifest_resource *res = NULL;

			for (size_t j = 0; j < m->n_resources; j++)
				if (!strcmp(m->resources[j].name, mc->keys[k]))
					res = &m->resources[j];
			r = res ? keyring_uri_to_desc(res->uri, strlen(res->uri), paths[k], sizeof(paths[k]))
				: -ENOKEY;
			if (r < 0) {
				log_err("container '%s': grant '%s' names no resource", mc->name, mc->keys[k]);
				goto fail;
			}
			grants[k] = paths[k] + strlen(KEYRING_DESC_PREFIX);
		}
		r = keyring_container_new(kr, mc->name, grants, mc->n_keys, &ring);
		if (r < 0) {
			log_err("container '%s': Failed to build its grants: %s", mc->name, strerror(-r));
			goto fail;
		}
		pod->units[i].grants_ring = ring;
		log_info("container '%s' is granted %zu key(s) (ring %d)", mc->name, mc->n_keys, (int)ring);
	}
	*ret = kr;
	return 0;
fail:
	keyring_revoke_all(kr);
	keyring_free(kr);
	return r;
}

/* A prepared container's cgroup joins the LSM policy before it starts; refused if it cannot. */
static void lsm_register_unit(struct launcher_lsm *l, struct launcher_unit *u)
{
	int r;

	if (!l || u->state != UNIT_WAITING)
		return;
	r = launcher_lsm_add(l, u->mc->name, u->cgroup, launcher_lsm_flags(u->mc), NULL);
	if (r < 0) {
		log_err("container '%s' refused: Failed to register it with the LSM: %s", u->mc->name,
			strerror(-r));
		u->state = UNIT_REFUSED;
	}
}

/* The digest of the filter a prepared unit runs under. */
static int unit_seccomp_digest(const struct launcher_unit *u, char hex[65])
{
	return u->seccomp_default ? launcher_seccomp_default_digest(hex) :
				    launcher_lsm_seccomp_digest(u->cfg, hex);
}

/*
 * The isolation policy event, after the containers' and before the first
 * start (and before attestation, which sends the log). Fails closed.
 */
static void record_isolation(struct launcher_lsm *l, struct launcher_pod *pod,
			     struct launcher_recorder *rec, const bool *image_ok,
			     char hex[][65])
{
	const struct manifest *m = pod->m;
	const char *sc[MANIFEST_CONTAINERS_MAX] = { 0 };
	_cleanup_free_ char *ev = NULL;

	for (size_t i = 0; i < pod->n_units && i < MANIFEST_CONTAINERS_MAX; i++) {
		struct launcher_unit *u = &pod->units[i];

		/*
		 * An image container is listed with the filter it will run under,
		 * veil's default profile (its runtime config never has
		 * linux.seccomp); after unpacking, its unit is checked against it.
		 */
		if (u->mc->image) {
			if (image_ok[i] && launcher_lsm_seccomp_digest(NULL, hex[i]) == 0)
				sc[i] = hex[i];
			continue;
		}
		if (u->state != UNIT_WAITING)
			continue;
		if (unit_seccomp_digest(u, hex[i]) < 0) {
			log_err("container '%s' refused: Failed to digest its seccomp filter", u->mc->name);
			u->state = UNIT_REFUSED;
			continue;
		}
		sc[i] = hex[i];
	}
	ev = launcher_lsm_event_json(l != NULL, m, sc);
	if (!ev || launcher_record_event(rec, LSM_EVENT_OP, ev) < 0)
		launcher_emergency(opts.sandbox, "Failed to record the isolation policy");
	log_info("recorded the isolation policy: %s", ev);
}

/* An unpacked image container runs under the filter the isolation event named, or not at all. */
static void check_image_seccomp(struct launcher_unit *u, const char *recorded)
{
	char hex[65];

	if (u->state != UNIT_WAITING)
		return;
	if (!recorded || unit_seccomp_digest(u, hex) < 0 || strcmp(hex, recorded)) {
		log_err("container '%s' refused: its seccomp filter is not the one the isolation "
			"event recorded", u->mc->name);
		u->state = UNIT_REFUSED;
	}
}

static void free_units(struct launcher_pod *pod)
{
	for (size_t i = 0; i < pod->n_units; i++) {
		if (pod->units[i].cgroup)
			(void)launcher_cgroup_remove(pod->units[i].cgroup);
		free(pod->units[i].cgroup);
		launcher_oci_free(pod->units[i].cfg);
	}
	free(pod->units);
	pod->units = NULL;
}

/*
 * The BPF LSM policy loads in a thread of PID 1 while stage 1 loads the
 * modules and brings up the network (libbpf's BTF work, the verifier and the
 * attach are most of veil-init's boot under TCG). run_pod() joins it before
 * any bundle is read, measured or started, and fails closed as before.
 */
static struct {
	pthread_t thread;
	bool started, joined;
	struct launcher_lsm *pol;
	int r;
} lsm_loader;

static void *lsm_load_thread(void *arg)
{
	sigset_t all;

	(void)arg;
	/* Signals are PID 1's main thread's to handle. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	lsm_loader.r = launcher_lsm_load(&lsm_loader.pol);
	return NULL;
}

static void lsm_load_start(void)
{
	if (lsm_loader.started || lsm_loader.joined)
		return;
	lsm_loader.started = pthread_create(&lsm_loader.thread, NULL, lsm_load_thread, NULL) == 0;
}

/* The loaded policy (NULL when BPF LSM is not active), or -errno: loaded here if no thread ran. */
static int lsm_load_join(struct launcher_lsm **ret)
{
	if (lsm_loader.started)
		pthread_join(lsm_loader.thread, NULL);
	else if (!lsm_loader.joined)
		lsm_loader.r = launcher_lsm_load(&lsm_loader.pol);
	lsm_loader.started = false;
	lsm_loader.joined = true;
	*ret = lsm_loader.pol;
	return lsm_loader.r;
}

static int run_pod(void)
{
	struct launcher_decryptd *dd = NULL;
	struct keyring *kr;
	struct launcher_recorder rec;
	struct launcher_cgroups cg;
	struct launcher_pod pod = { 0 };
	struct launcher_pod_images *images = NULL;
	bool image_ok[MANIFEST_CONTAINERS_MAX] = { false };
	char iso_seccomp[MANIFEST_CONTAINERS_MAX][65];
	struct manifest *m;
	char cgname[64];
	int r, status;

	/* Policy first: loaded and held by PID 1 before any container is measured or started. */
	struct launcher_lsm *lsm_pol = NULL;

	r = lsm_load_join(&lsm_pol);
	if (r < 0)
		launcher_emergency(opts.sandbox, "BPF LSM is active but its policy failed to load: %s",
				   strerror(-r));
	r = launcher_record_open(&rec, opts.eventlog ? opts.eventlog : DEFAULT_EVENTLOG, opts.tpm);
	if (r < 0)
		launcher_emergency(opts.sandbox, "Failed to open the measurement log or register");
	log_info("measurements go to %s", launcher_record_target_name(&rec));
	m = load_manifest(&rec);
	/* Policy: the BPF LSM must be active unless the manifest allows a measured degraded mode. */
	bool lsm = lsm_pol != NULL;
	if (!lsm && !m->lsm_degraded_allowed)
		launcher_emergency(opts.sandbox, "BPF LSM is not active and the manifest requires it");
	if (!lsm)
		log_warn("BPF LSM is not active: running in the degraded mode the manifest allows "
			 "(recorded in the event log)");
	_cleanup_free_ char *pol = launcher_manifest_policy_json(m);
	if (!pol || launcher_record_event(&rec, "policy", pol) < 0)
		launcher_emergency(opts.sandbox, "Failed to record the policy");
	if (!lsm && launcher_record_event(&rec, "degraded", "{\"lsm\":\"inactive\"}") < 0)
		launcher_emergency(opts.sandbox, "Failed to record the degraded mode");
	snprintf(cgname, sizeof(cgname), opts.sandbox ? "veil-sandbox-%d" : "veil",
		 (int)sandbox_host_pid);
	if (launcher_cgroup_setup(cgname, &cg) < 0)
		launcher_emergency(opts.sandbox, "Failed to set up cgroups");
	pod.m = m;
	pod.sandbox = opts.sandbox;
	/* The LSM refuses mounts inside a confined leaf: enter it after the mounts. */
	if (lsm || opts.cgroup_after_mounts)
		pod.start_flags |= LAUNCHER_START_CGROUP_AFTER_MOUNTS;
	pod.n_units = m->n_containers;
	pod.units = calloc(m->n_containers, sizeof(*pod.units));
	if (!pod.units)
		launcher_emergency(opts.sandbox, "Out of memory");
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Image containers: verified and measured now, unpacked after the keys came. */
	if (launcher_pod_images_new(m, NULL, &images) < 0)
		launcher_emergency(opts.sandbox, "Out of memory");
	for (size_t i = 0; i < m->n_containers; i++)
		pod.units[i].mc = &m->containers[i];
	/*
	 * Up to one measurement helper per CPU hashes ahead (a bundle under 4 MiB
	 * is hashed by one thread); the results are compared and recorded in
	 * manifest order, so the event log and PCR 23 do not depend on timing.
	 */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t ahead = cpus > 1 ? (size_t)cpus : 1, next = 0;
	struct launcher_measure_job jobs[MANIFEST_CONTAINERS_MAX];
	bool begun[MANIFEST_CONTAINERS_MAX] = { false };

	for (size_t i = 0; i < m->n_containers; i++) {
		for (; next < m->n_containers && next < i + ahead; next++)
			if (!m->containers[next].image)
				begun[next] = prepare_unit_begin(&pod.units[next],
								 m->containers[next].bundle, m,
								 &jobs[next]);
		if (m->containers[i].image) {
			image_ok[i] = launcher_pod_image_measure(images, i, &rec) >= 0;
			continue;
		}
		if (begun[i])
			prepare_unit_end(&pod.units[i], &jobs[i], &rec, &cg);
		lsm_register_unit(lsm_pol, &pod.units[i]);
	}
	/* The sealed models veil-decryptd will serve: the FHE key is released for these bytes only. */
	for (size_t i = 0; m->decryptd && i < m->dd.n_models; i++) {
		char err[MEASURE_ERR_MAX];
		_cleanup_free_ char *ev = NULL;

		if (launcher_measure_sealed_model(m->dd.models[i].name, m->dd.models[i].sealed, &ev,
						  err) < 0 ||
		    launcher_record_event(&rec, MEASURE_SEALED_MODEL_OP, ev) < 0)
			launcher_emergency(opts.sandbox, "Failed to measure the sealed model '%s': %s",
					   m->dd.models[i].name, ev ? "recording failed" : err);
		log_info("measured sealed model: %s", ev);
	}
	record_isolation(lsm_pol, &pod, &rec, image_ok, iso_seccomp);
	if (launcher_pod_image_resources(images, m) < 0)
		launcher_emergency(opts.sandbox, "Out of memory");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("measured %zu container(s) in %.3fs", m->n_containers,
		 (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	/* The recorder's TPM connection is not needed any more: attestation quotes on its own. */
	launcher_record_close(&rec);
	if (attest_and_grant(&pod, &kr) < 0) {
		/* The emergency path does not return: leave nothing behind on a sandbox host. */
		free_units(&pod);
		launcher_pod_images_free(images);
		launcher_cgroup_done(&cg);
		launcher_emergency(opts.sandbox, "Attestation failed: no container starts");
	}
	for (size_t i = 0; i < m->n_containers; i++) {
		const char *bundle = NULL;

		if (!m->containers[i].image)
			continue;
		if (launcher_pod_image_unpack(images, i, kr, &bundle) < 0)
			bundle = NULL;
		if (prepare_unit_begin(&pod.units[i], bundle, m, NULL))
			prepare_unit_end(&pod.units[i], NULL, NULL, &cg);
		check_image_seccomp(&pod.units[i], image_ok[i] ? iso_seccomp[i] : NULL);
		lsm_register_unit(lsm_pol, &pod.units[i]);
	}
	(void)launcher_pod_image_forget_keys(images, kr);
	if (lsm_pol) {
		r = launcher_lsm_grant_pod(lsm_pol, kr, &pod);
		if (r >= 0)
			r = launcher_lsm_watch(lsm_pol, &pod);
		if (r < 0) {
			if (kr)
				keyring_revoke_all(kr);
			free_units(&pod);
			launcher_cgroup_done(&cg);
			launcher_emergency(opts.sandbox, "Failed to apply the LSM key grants: %s",
					   strerror(-r));
		}
	}
	/* The decryption service holds the FHE key: up before the containers, or none starts. */
	if (m->decryptd && launcher_decryptd_start(&pod, kr, &cg, lsm_pol, &dd) < 0) {
		if (kr)
			keyring_revoke_all(kr);
		keyring_free(kr);
		free_units(&pod);
		launcher_cgroup_done(&cg);
		launcher_emergency(opts.sandbox, "veil-decryptd did not start: no container starts");
	}
	/* Asked for, it is part of the pod's contract: no re-attestation, no containers. */
	struct launcher_reattest *ra = NULL;
	if (kr && m->kbs_reattest_s && m->n_resources) {
		struct launcher_attest_opts rao = { .tpm_tcti = opts.tpm, .initdata = initdata_text };

		r = launcher_reattest_new(&pod, kr, &rao, opts.eventlog ? opts.eventlog : DEFAULT_EVENTLOG,
					  &ra);
		if (r < 0) {
			launcher_decryptd_stop(dd);
			keyring_revoke_all(kr);
			free_units(&pod);
			launcher_cgroup_done(&cg);
			launcher_emergency(opts.sandbox, "Failed to set up re-attestation: %s", strerror(-r));
		}
		log_info("re-attesting every %u s", m->kbs_reattest_s);
	}
	status = launcher_supervise(&pod);
	ra = launcher_reattest_free(ra);
	launcher_decryptd_stop(dd);
	/* Whatever ended the pod, the keys it was given end with it. */
	if (kr) {
		r = keyring_revoke_all(kr);
		if (r < 0)
			log_err("Failed to revoke the pod's keys: %s", strerror(-r));
		else
			log_info("revoked %d key(s)", r);
		keyring_free(kr);
	}
	if (status < 0)
		launcher_emergency(opts.sandbox, "The event loop could not start");
	(void)launcher_lsm_drain(lsm_pol);
	lsm_pol = launcher_lsm_free(lsm_pol);
	free_units(&pod);
	launcher_pod_images_free(images);
	launcher_cgroup_done(&cg);
	launcher_manifest_free(m);
	log_info("pod finished with status %d", status);
	return status;
}

static int pid1_main(void)
{
	_cleanup_free_ char *cmdline = NULL;
	size_t n;
	bool moved_root = false;
	int r;

	log_set_prefix("veil-init");
	/* First, so no fd opened below (the log's /dev/kmsg and console) is closed as stray. */
	r = launcher_boot_harden();
	if (r < 0)
		launcher_emergency(opts.sandbox, "Failed to harden veil-init: %s", strerror(-r));
	if (!opts.sandbox) {
		/* Ctrl-Alt-Del becomes SIGINT: a graceful shutdown, not an instant reboot. */
		(void)reboot(RB_DISABLE_CAD);
		r = launcher_boot_move_root();
		if (r < 0) {
			(void)log_set_sinks(LOG_SINK_KMSG | LOG_SINK_CONSOLE);
			launcher_emergency(false, "Failed to move the root off the initramfs: %s", strerror(-r));
		}
		moved_root = r > 0;
		r = launcher_boot_mount_api();
		(void)log_set_sinks(LOG_SINK_KMSG | LOG_SINK_CONSOLE);
		/* Needs sysfs, securityfs and bpffs: from here it overlaps the modules and network. */
		lsm_load_start();
		if (r < 0)
			launcher_emergency(false, "Stage 1 failed: %s", strerror(-r));
		if (fd_read_file("/proc/cmdline", BOOT_CMDLINE_MAX, &cmdline, &n) >= 0 &&
		    launcher_boot_parse_cmdline(cmdline, &opts) < 0)
			log_warn("Failed to parse the kernel command line");
		/* The initrd's modules (virtio-net ...) and veil.net: the KBS must be reachable. */
		r = launcher_netup_modules(NETUP_MODULES_FILE);
		if (r < 0 || launcher_netup_interfaces(opts.net) < 0)
			launcher_emergency(false, "Failed to bring up the modules and network");
		if (!opts.manifest && !opts.initdata) {
			if (access(DEFAULT_INITDATA, R_OK) == 0)
				opts.initdata = strdup(DEFAULT_INITDATA);
			else
				opts.manifest = strdup(DEFAULT_MANIFEST);
		}
	} else {
		/* Our own view: private mounts, a /proc of the new PID namespace, a private /run/veil. */
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			launcher_emergency(true, "Failed to set up the sandbox mounts: %m");
		if (!opts.eventlog) {
			if ((mkdir("/run/veil", 0700) < 0 && errno != EEXIST) ||
			    mount("tmpfs", "/run/veil", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
				launcher_emergency(true, "Failed to mount /run/veil: %m");
		}
	}
	log_set_level(opts.loglevel);
	log_info("veil-init starting%s", opts.sandbox ? " in sandbox mode" : " as PID 1");
	if (moved_root)
		log_info("moved the initramfs onto a bind mount of itself as / (pivot_root works from here)");
	r = run_pod();
	if (opts.sandbox)
		return r;
	launcher_boot_poweroff();
}

static pid_t sandbox_child;

static void forward(int sig)
{
	if (sandbox_child > 0)
		kill(sandbox_child, sig);
}

/* The outer process: starts PID 1 of new PID + mount namespaces, forwards signals, returns its status. */
static int sandbox_main(void)
{
	struct clone_args a = { .flags = CLONE_NEWPID | CLONE_NEWNS, .exit_signal = SIGCHLD };
	struct sigaction sa = { .sa_handler = forward };
	int status;
	pid_t pid;

	sandbox_host_pid = getpid();
	pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
	if (pid < 0) {
		log_err("Failed to create the sandbox namespaces: %m");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		_exit(pid1_main());
	}
	sandbox_child = pid;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGPWR, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "sandbox", no_argument, NULL, 's' },	{ "initdata", required_argument, NULL, 'i' },
		{ "tpm", required_argument, NULL, 't' }, { "eventlog", required_argument, NULL, 'e' },
		{ "verbose", no_argument, NULL, 'v' },	{ "help", no_argument, NULL, 'h' },
		{ "cgroup-after-mounts", no_argument, NULL, 'c' },
		{}
	};
	int c;

	/*
	 * tpm2-tss logs expected TPM errors (an AK not yet created) to stderr,
	 * which is PID 1's console. Our own messages say what matters.
	 */
	setenv("TSS2_LOG", "all+none", 0);

	log_set_prefix("veil-init");
	if (getpid() == 1)
		return pid1_main();
	while ((c = getopt_long(argc, argv, "vh", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			opts.sandbox = true;
			break;
		case 'i':
			opts.initdata = strdup(optarg);
			break;
		case 't':
			opts.tpm = strdup(optarg);
			break;
		case 'e':
			opts.eventlog = strdup(optarg);
			break;
		case 'v':
			opts.loglevel = LOG_DEBUG;
			break;
		case 'c':
			opts.cgroup_after_mounts = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!opts.sandbox || optind + (opts.initdata ? 0 : 1) != argc ||
	    (opts.initdata && optind + 1 < argc)) {
		usage(stderr);
		return 2;
	}
	if (optind < argc)
		opts.manifest = strdup(argv[optind]);
	if (getuid() != 0) {
		log_err("--sandbox needs root (namespaces, cgroups, mounts)");
		return 1;
	}
	return sandbox_main();
}
