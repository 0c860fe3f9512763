// SPDX-License-Identifier: GPL-2.0-only
/* veil-init and the BPF LSM (see lsm.h). */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ebpf/isolation.h"
#include "fhe/decryptd.h"
#include "keyring/keyring.h"
#include "launcher/lsm.h"
#include "launcher/seccomp_default.h"
#include "launcher/supervise.h"
#include "lib/cleanup.h"
#include "lib/log.h"

struct launcher_lsm {
	struct ebpf_isolation *iso;
	unsigned int logged, suppressed;
};

int launcher_lsm_load(struct launcher_lsm **ret)
{
	struct launcher_lsm *l;
	char obj[65], pol[65];
	int r;

	*ret = NULL;
	r = ebpf_lsm_active();
	if (r <= 0) {
		/* Cannot tell (no securityfs) counts as inactive: the manifest must then allow it. */
		log_debug("BPF LSM active: %s", r == 0 ? "no" : strerror(-r));
		return 0;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	/* No pin: the links live in PID 1's fds, where no container can reach them. */
	r = ebpf_isolation_new(NULL, &l->iso);
	if (r < 0) {
		free(l);
		return r;
	}
	/* The tags' digest is diagnosis only (not measured) and costs ~0.2 s under TCG: debug only. */
	if (log_get_level() < LOG_DEBUG) {
		if (ebpf_isolation_object_digest(obj) == 0)
			log_info("BPF LSM policy loaded and attached (object sha256 %.16s…)", obj);
	} else if (ebpf_isolation_object_digest(obj) == 0 &&
		   ebpf_isolation_digest(l->iso, NULL, pol) == 0) {
		log_info("BPF LSM policy loaded and attached (object sha256 %.16s…, programs and default "
			 "maps sha256 %.16s…)", obj, pol);
	}
	*ret = l;
	return 0;
}

struct launcher_lsm *launcher_lsm_free(struct launcher_lsm *l)
{
	if (!l)
		return NULL;
	ebpf_isolation_free(l->iso);
	free(l);
	return NULL;
}

uint32_t launcher_lsm_flags(const struct manifest_container *mc)
{
	return mc->raw_sockets ? EBPF_CTR_RAW_SOCKETS : 0;
}

int launcher_lsm_add(struct launcher_lsm *l, const char *name, const char *cgroup_path,
		     uint32_t flags, uint64_t *ret_cgid)
{
	uint64_t id;
	int r;

	if (!l || !name || !cgroup_path)
		return -EINVAL;
	r = ebpf_cgroup_id(cgroup_path, &id);
	if (r < 0)
		return r;
	r = ebpf_isolation_add_container(l->iso, name, id, flags);
	if (r < 0)
		return r;
	log_debug("LSM: '%s' is cgroup %llu (flags 0x%x)", name, (unsigned long long)id, flags);
	if (ret_cgid)
		*ret_cgid = id;
	return 0;
}

int launcher_lsm_grant_key(struct launcher_lsm *l, int32_t serial, uint64_t cgid)
{
	return l ? ebpf_isolation_grant_key(l->iso, serial, cgid) : -EINVAL;
}

/* The serial veil holds for resource `name` of the manifest. */
static int resource_serial(const struct manifest *m, const struct keyring *kr, const char *name,
			   key_serial_t *ret)
{
	char desc[KEYRING_DESC_MAX];

	for (size_t j = 0; j < m->n_resources; j++) {
		if (strcmp(m->resources[j].name, name))
			continue;
		if (keyring_uri_to_desc(m->resources[j].uri, strlen(m->resources[j].uri), desc,
					sizeof(desc)) < 0)
			return -EINVAL;
		return keyring_find(kr, desc + strlen(KEYRING_DESC_PREFIX), ret);
	}
	return -ENOKEY;
}

int launcher_lsm_grant_pod(struct launcher_lsm *l, const struct keyring *kr,
			   const struct launcher_pod *pod)
{
	key_serial_t k;
	int r, n = 0;

	if (!l || !pod)
		return -EINVAL;
	if (!kr)
		return 0;
	r = ebpf_isolation_protect_key(l->iso, keyring_serial(kr));
	if (r < 0)
		return r;
	for (size_t i = 0; i < keyring_count(kr); i++) {
		r = keyring_key_at(kr, i, &k);
		if (r == 0)
			r = ebpf_isolation_protect_key(l->iso, k);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < pod->n_units; i++) {
		const struct launcher_unit *u = &pod->units[i];
		uint64_t id;

		if (u->state != UNIT_WAITING || !u->grants_ring)
			continue;
		r = ebpf_cgroup_id(u->cgroup, &id);
		if (r < 0)
			return r;
		r = ebpf_isolation_grant_key(l->iso, u->grants_ring, id);
		if (r < 0)
			return r;
		for (size_t j = 0; j < u->mc->n_keys; j++) {
			r = resource_serial(pod->m, kr, u->mc->keys[j], &k);
			if (r == 0)
				r = ebpf_isolation_grant_key(l->iso, k, id);
			if (r < 0) {
				log_err("container '%s': Failed to grant '%s' in the LSM: %s", u->mc->name,
					u->mc->keys[j], strerror(-r));
				return r;
			}
			n++;
		}
	}
	return n;
}

int launcher_lsm_add_decryptd(struct launcher_lsm *l, const struct keyring *kr,
			      const struct manifest *m, const char *cgroup_path, int32_t ring,
			      uint64_t *ret_cgid)
{
	key_serial_t k;
	uint64_t id;
	int r;

	if (!l || !kr || !m || !m->decryptd || ring <= 0)
		return -EINVAL;
	r = launcher_lsm_add(l, MANIFEST_DECRYPTD_NAME, cgroup_path, 0, &id);
	if (r < 0)
		return r;
	/* Its ring is made after launcher_lsm_grant_pod protected veil's: granting protects it. */
	r = ebpf_isolation_grant_key(l->iso, ring, id);
	if (r == 0)
		r = resource_serial(m, kr, m->decryptd_key, &k);
	if (r == 0)
		r = ebpf_isolation_grant_key(l->iso, k, id);
	if (r < 0) {
		(void)ebpf_isolation_remove_container(l->iso, id);
		return r;
	}
	log_debug("LSM: veil-decryptd granted ring %d and key %d", (int)ring, (int)k);
	if (ret_cgid)
		*ret_cgid = id;
	return 0;
}

int launcher_lsm_remove(struct launcher_lsm *l, uint64_t cgid)
{
	return l ? ebpf_isolation_remove_container(l->iso, cgid) : -EINVAL;
}

static void on_denial(const struct ebpf_denial *d, const char *name, void *userdata)
{
	struct launcher_lsm *l = userdata;
	char line[320];

	if (l->logged >= LSM_DENIALS_PER_WAKEUP) {
		l->suppressed++;
		return;
	}
	l->logged++;
	if (ebpf_denial_format(d, name, line, sizeof(line)) > 0)
		log_warn("%s", line);
}

int launcher_lsm_drain(struct launcher_lsm *l)
{
	int r;

	if (!l)
		return -EINVAL;
	l->logged = l->suppressed = 0;
	r = ebpf_isolation_poll(l->iso, 0, on_denial, l);
	/* A container can cause denials at will: it must not be able to flood PID 1's console. */
	if (l->suppressed)
		log_warn("LSM: %u more denial(s) not logged", l->suppressed);
	return r;
}

static int ready(struct launcher_pod *pod, void *arg)
{
	int r = launcher_lsm_drain(arg);

	(void)pod;
	return r < 0 ? r : 0;
}

int launcher_lsm_watch(struct launcher_lsm *l, struct launcher_pod *pod)
{
	int fd;

	if (!l || !pod)
		return -EINVAL;
	fd = ebpf_isolation_events_fd(l->iso);
	if (fd < 0)
		return fd;
	return launcher_pod_watch(pod, fd, "LSM denials", ready, l);
}

int launcher_lsm_seccomp_digest(const struct oci_config *cfg, char hex[65])
{
	if (!hex)
		return -EINVAL;
	if (cfg && cfg->seccomp)
		return launcher_seccomp_digest(cfg->seccomp, hex);
	/* As veil-init builds it for a bundle without linux.seccomp (the BPF program, not NNP). */
	return launcher_seccomp_default_digest(hex);
}

/* One cgroup's entry: the URIs of the resources `names` grants it, raw sockets, seccomp. */
static json_t *unit_json(const struct manifest *m, const char *name, char *const *names,
			 size_t n_names, bool raw_sockets, const char *seccomp)
{
	json_t *keys = json_array(), *o;

	if (!keys)
		return NULL;
	for (size_t k = 0; k < n_names; k++) {
		const char *uri = NULL;

		for (size_t j = 0; j < m->n_resources; j++)
			if (!strcmp(m->resources[j].name, names[k]))
				uri = m->resources[j].uri;
		if (!uri || json_array_append_new(keys, json_string(uri)) < 0) {
			json_decref(keys);
			return NULL;
		}
	}
	o = json_pack("{s:o,s:s,s:b,s:s+}", "keys", keys, "name", name, "raw_sockets",
		      (int)raw_sockets, "seccomp", "sha256:", seccomp);
	return o;
}

static json_t *container_json(const struct manifest *m, const struct manifest_container *mc,
			      const char *seccomp)
{
	return unit_json(m, mc->name, mc->keys, mc->n_keys, mc->raw_sockets, seccomp);
}

/* veil-decryptd: its one key, no raw sockets, the allowlist it installs in itself. */
static json_t *decryptd_json(const struct manifest *m)
{
	char *key = m->decryptd_key;
	void *ctx = NULL;
	char hex[65];
	int r;

	r = decryptd_seccomp_build(&ctx);
	if (r == 0)
		r = launcher_seccomp_digest(ctx, hex);
	if (ctx)
		seccomp_release(ctx);
	if (r < 0 || !key)
		return NULL;
	return unit_json(m, MANIFEST_DECRYPTD_NAME, &key, 1, false, hex);
}

char *launcher_lsm_event_json(bool enforcing, const struct manifest *m,
			      const char *const *seccomp)
{
	json_t *ctrs = json_array(), *o;
	char obj[65];
	char *s;

	if (!ctrs || !m || !seccomp)
		goto fail;
	for (size_t i = 0; i < m->n_containers; i++) {
		json_t *c;

		if (!seccomp[i])
			continue;
		c = container_json(m, &m->containers[i], seccomp[i]);
		if (!c || json_array_append_new(ctrs, c) < 0)
			goto fail;
	}
	if (enforcing && ebpf_isolation_object_digest(obj) < 0)
		goto fail;
	o = json_pack("{s:s+,s:o,s:i}", "bpf", enforcing ? "sha256:" : "inactive", enforcing ? obj : "",
		      "containers", ctrs, "version", 1);
	ctrs = NULL;
	if (!o)
		return NULL;
	if (m->decryptd && json_object_set_new(o, "decryptd", decryptd_json(m)) < 0) {
		json_decref(o);
		return NULL;
	}
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
fail:
	json_decref(ctrs);
	return NULL;
}
