// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/manifest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"

static int err_at(struct vjson_err *e, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int err_at(struct vjson_err *e, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return r;
}

static int dup_str(const char *s, char **ret)
{
	char *d = strdup(s);

	if (!d)
		return -ENOMEM;
	*ret = d;
	return 0;
}

/* Names: [A-Za-z0-9][A-Za-z0-9._-]*, safe as a cgroup and file name. */
static bool name_ok(const char *s)
{
	if (!*s || *s == '.' || *s == '-')
		return false;
	for (; *s; s++)
		if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') ||
		      ('0' <= *s && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

static int parse_digest(const char *s, uint8_t out[32])
{
	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
		return -EINVAL;
	s += 7;
	for (int i = 0; i < 32; i++) {
		unsigned int v;

		if (!strchr("0123456789abcdef", s[2 * i]) || !strchr("0123456789abcdef", s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* An array of at most MANIFEST_KEYS_MAX resource names. */
static int parse_names(json_t *arr, const char *where, char ***ret, size_t *ret_n,
		       struct vjson_err *e)
{
	size_t i;
	json_t *k;

	if (!arr || !json_array_size(arr))
		return 0;
	*ret = calloc(json_array_size(arr), sizeof(char *));
	if (!*ret)
		return -ENOMEM;
	json_array_foreach(arr, i, k) {
		if (!json_is_string(k) || json_string_length(k) > MANIFEST_NAME_MAX ||
		    !name_ok(json_string_value(k)))
			return err_at(e, -EINVAL, "'%s[%zu]': expected a resource name", where, i);
		if (dup_str(json_string_value(k), &(*ret)[i]) < 0)
			return -ENOMEM;
		(*ret_n)++;
	}
	return 0;
}

/* An optional array of strings, NULL-terminated in *ret; "K=V" items when env. */
static int parse_strs(const json_t *o, const char *where, const char *key, bool env, char ***ret,
		      struct vjson_err *e)
{
	json_t *arr = NULL, *v;
	size_t i;
	int r;

	r = vjson_get_array_opt(o, where, key, MANIFEST_ARGS_MAX, &arr, e);
	if (r < 0 || !arr)
		return r;
	if (!env && !json_array_size(arr))
		return err_at(e, -EINVAL, "'%s.%s': must not be empty", where, key);
	*ret = calloc(json_array_size(arr) + 1, sizeof(char *));
	if (!*ret)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		const char *str = json_string_value(v);

		if (!json_is_string(v) || json_string_length(v) > MANIFEST_ARG_LEN_MAX ||
		    strlen(str) != json_string_length(v))
			return err_at(e, -EINVAL, "'%s.%s[%zu]': expected a string of at most %u bytes",
				      where, key, i, MANIFEST_ARG_LEN_MAX);
		if (env && (str[0] == '=' || !strchr(str, '=')))
			return err_at(e, -EINVAL, "'%s.%s[%zu]': expected 'NAME=VALUE'", where, key, i);
		if (dup_str(str, &(*ret)[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void free_strs(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Printable ASCII without spaces: what an OCI reference or ref.name can hold. */
static bool ref_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

static int parse_image(json_t *o, const char *cwhere, struct manifest_container *c,
		       struct vjson_err *e)
{
	static const char *const keys[] = { "layout", "ref", "digest", "keys", "entrypoint", "cmd",
					    "env", "cwd", "user", "allow_devices", "allow_setuid",
					    NULL };
	struct manifest_image *im;
	const char *s, *ref = NULL, *digest = NULL;
	uint8_t raw[32];
	char where[80], kw[96];
	json_t *arr = NULL;
	int r;

	snprintf(where, sizeof(where), "%s.image", cwhere);
	r = vjson_check_keys(o, where, keys, e);
	if (r < 0)
		return r;
	im = calloc(1, sizeof(*im));
	if (!im)
		return -ENOMEM;
	c->image = im;
	r = vjson_get_string(o, where, "layout", MANIFEST_PATH_MAX, &s, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'%s.layout': missing", where) : r;
	if (s[0] != '/')
		return err_at(e, -EINVAL, "'%s.layout': must be an absolute path", where);
	if (dup_str(s, &im->layout) < 0)
		return -ENOMEM;
	r = vjson_get_string_opt(o, where, "ref", MANIFEST_IMAGE_REF_MAX, &ref, e);
	if (r < 0)
		return r;
	if (ref && !ref_ok(ref))
		return err_at(e, -EINVAL, "'%s.ref': must be printable ASCII without spaces", where);
	if (ref && dup_str(ref, &im->ref) < 0)
		return -ENOMEM;
	r = vjson_get_string_opt(o, where, "digest", 80, &digest, e);
	if (r < 0)
		return r;
	if (digest) {
		if (parse_digest(digest, raw) < 0)
			return err_at(e, -EINVAL,
				      "'%s.digest': expected 'sha256:' and 64 lower-case hex digits",
				      where);
		snprintf(im->digest, sizeof(im->digest), "%s", digest);
		im->pinned = true;
	}
	if ((r = parse_strs(o, where, "entrypoint", false, &im->entrypoint, e)) < 0 ||
	    (r = parse_strs(o, where, "cmd", false, &im->cmd, e)) < 0 ||
	    (r = parse_strs(o, where, "env", true, &im->env, e)) < 0)
		return r;
	s = NULL;
	r = vjson_get_string_opt(o, where, "cwd", MANIFEST_PATH_MAX, &s, e);
	if (r < 0)
		return r;
	if (s && s[0] != '/')
		return err_at(e, -EINVAL, "'%s.cwd': must be an absolute path", where);
	if (s && dup_str(s, &im->cwd) < 0)
		return -ENOMEM;
	s = NULL;
	r = vjson_get_string_opt(o, where, "user", 256, &s, e);
	if (r < 0)
		return r;
	if (s && (!s[0] || !ref_ok(s)))
		return err_at(e, -EINVAL, "'%s.user': expected 'uid[:gid]' or 'name[:group]'", where);
	if (s && dup_str(s, &im->user) < 0)
		return -ENOMEM;
	if ((r = vjson_get_bool_opt(o, where, "allow_devices", &im->allow_devices, e)) < 0 ||
	    (r = vjson_get_bool_opt(o, where, "allow_setuid", &im->allow_setuid, e)) < 0)
		return r;
	r = vjson_get_array_opt(o, where, "keys", MANIFEST_KEYS_MAX, &arr, e);
	if (r < 0)
		return r;
	snprintf(kw, sizeof(kw), "%s.keys", where);
	return parse_names(arr, kw, &im->keys, &im->n_keys, e);
}

static int parse_container(json_t *o, size_t idx, struct manifest_container *c,
			   struct vjson_err *e)
{
	static const char *const keys[] = { "name", "bundle", "image", "digest", "restart",
					    "restart_max", "backoff_ms", "backoff_max_ms", "order",
					    "keys", "raw_sockets", NULL };
	char where[64];
	const char *s, *restart = "never", *digest = NULL;
	int64_t v;
	json_t *arr, *img;
	int r;

	snprintf(where, sizeof(where), "containers[%zu]", idx);
	if (!json_is_object(o))
		return err_at(e, -EINVAL, "'%s': expected an object, got %s", where,
			      vjson_type_name(o));
	r = vjson_check_keys(o, where, keys, e);
	if (r < 0)
		return r;
	r = vjson_get_string(o, where, "name", MANIFEST_NAME_MAX, &s, e);
	if (r < 0)
		return r;
	if (!name_ok(s))
		return err_at(e, -EINVAL, "'%s.name': '%s' is not a valid name ([A-Za-z0-9._-])",
			      where, s);
	if (dup_str(s, &c->name) < 0)
		return -ENOMEM;
	s = NULL;
	r = vjson_get_string_opt(o, where, "bundle", MANIFEST_PATH_MAX, &s, e);
	if (r < 0)
		return r;
	img = NULL;
	r = vjson_get_object_opt(o, where, "image", &img, e);
	if (r < 0)
		return r;
	if (!s == !img)
		return err_at(e, -EINVAL, "'%s': needs exactly one of 'bundle' and 'image'", where);
	if (img) {
		r = parse_image(img, where, c, e);
		if (r < 0)
			return r;
	} else {
		if (s[0] != '/')
			return err_at(e, -EINVAL, "'%s.bundle': must be an absolute path", where);
		if (dup_str(s, &c->bundle) < 0)
			return -ENOMEM;
	}
	r = vjson_get_string_opt(o, where, "digest", 80, &digest, e);
	if (r < 0)
		return r;
	if (digest && img)
		return err_at(e, -EINVAL,
			      "'%s.digest': pins a bundle; an image is pinned by 'image.digest'", where);
	if (digest) {
		if (parse_digest(digest, c->digest) < 0)
			return err_at(e, -EINVAL,
				      "'%s.digest': expected 'sha256:' and 64 lower-case hex digits",
				      where);
		c->pinned = true;
	}
	r = vjson_get_string_opt(o, where, "restart", 16, &restart, e);
	if (r < 0)
		return r;
	if (strcmp(restart, "never") == 0)
		c->restart = LAUNCHER_RESTART_NEVER;
	else if (strcmp(restart, "on-failure") == 0)
		c->restart = LAUNCHER_RESTART_ON_FAILURE;
	else if (strcmp(restart, "always") == 0)
		c->restart = LAUNCHER_RESTART_ALWAYS;
	else
		return err_at(e, -EINVAL,
			      "'%s.restart': '%s' is not one of never, on-failure, always", where,
			      restart);
	v = 5;
	r = vjson_get_int_opt(o, where, "restart_max", 0, MANIFEST_RESTART_MAX, &v, e);
	if (r < 0)
		return r;
	c->restart_max = (unsigned int)v;
	v = 100;
	r = vjson_get_int_opt(o, where, "backoff_ms", 1, MANIFEST_BACKOFF_MAX_MS, &v, e);
	if (r < 0)
		return r;
	c->backoff_ms = (unsigned int)v;
	v = 10000;
	r = vjson_get_int_opt(o, where, "backoff_max_ms", 1, MANIFEST_BACKOFF_MAX_MS, &v, e);
	if (r < 0)
		return r;
	c->backoff_max_ms = (unsigned int)v;
	if (c->backoff_max_ms < c->backoff_ms)
		return err_at(e, -EINVAL, "'%s.backoff_max_ms': smaller than backoff_ms", where);
	v = 0;
	r = vjson_get_int_opt(o, where, "order", -1000, 1000, &v, e);
	if (r < 0)
		return r;
	c->order = (int)v;
	/* The BPF LSM's one grant beyond the default: raw and packet sockets. */
	r = vjson_get_bool_opt(o, where, "raw_sockets", &c->raw_sockets, e);
	if (r < 0)
		return r;
	arr = NULL;
	r = vjson_get_array_opt(o, where, "keys", MANIFEST_KEYS_MAX, &arr, e);
	if (r < 0)
		return r;
	{
		char kw[80];

		snprintf(kw, sizeof(kw), "%s.keys", where);
		return parse_names(arr, kw, &c->keys, &c->n_keys, e);
	}
}

static int parse_kbs(json_t *o, struct manifest *m, struct vjson_err *e)
{
	static const char *const keys[] = { "url", "ca", "tee", "resources", "deadline_ms",
					    "reattest_s", NULL };
	static const char *const tees[] = { "tpm", "snp", "tdx", "az-snp-vtpm", "az-tdx-vtpm",
					    "sample", NULL };
	static const char *const rkeys[] = { "name", "uri", NULL };
	const char *s;
	json_t *arr, *r_o;
	size_t i;
	int r;

	r = vjson_check_keys(o, "kbs", keys, e);
	if (r < 0)
		return r;
	r = vjson_get_string(o, "kbs", "url", MANIFEST_URL_MAX, &s, e);
	if (r < 0)
		return r;
	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
		return err_at(e, -EINVAL, "'kbs.url': '%s' is not an http(s) URL", s);
	if (dup_str(s, &m->kbs_url) < 0)
		return -ENOMEM;
	s = NULL;
	r = vjson_get_string_opt(o, "kbs", "ca", MANIFEST_PATH_MAX, &s, e);
	if (r < 0)
		return r;
	if (s && dup_str(s, &m->kbs_ca) < 0)
		return -ENOMEM;
	r = vjson_get_string(o, "kbs", "tee", 16, &s, e);
	if (r < 0)
		return r;
	for (i = 0; tees[i] && strcmp(tees[i], s); i++)
		;
	if (!tees[i])
		return err_at(e, -EINVAL, "'kbs.tee': '%s' is not a known TEE", s);
	if (dup_str(s, &m->kbs_tee) < 0)
		return -ENOMEM;
	{
		int64_t v = MANIFEST_KBS_DEADLINE_DEFAULT_MS;

		r = vjson_get_int_opt(o, "kbs", "deadline_ms", 100, MANIFEST_KBS_DEADLINE_MAX_MS, &v, e);
		if (r < 0)
			return r;
		m->kbs_deadline_ms = (unsigned int)v;
		v = 0;
		r = vjson_get_int_opt(o, "kbs", "reattest_s", 0, MANIFEST_KBS_REATTEST_MAX_S, &v, e);
		if (r < 0)
			return r;
		m->kbs_reattest_s = (unsigned int)v;
	}
	arr = NULL;
	r = vjson_get_array_opt(o, "kbs", "resources", MANIFEST_RESOURCES_MAX, &arr, e);
	if (r < 0)
		return r;
	if (!arr || !json_array_size(arr)) {
		if (m->kbs_reattest_s)
			return err_at(e, -EINVAL, "'kbs.reattest_s': there is nothing to re-attest for "
				      "without kbs.resources");
		return 0;
	}
	m->resources = calloc(json_array_size(arr), sizeof(*m->resources));
	if (!m->resources)
		return -ENOMEM;
	json_array_foreach(arr, i, r_o) {
		char where[64];

		snprintf(where, sizeof(where), "kbs.resources[%zu]", i);
		if (!json_is_object(r_o))
			return err_at(e, -EINVAL, "'%s': expected an object, got %s", where,
				      vjson_type_name(r_o));
		r = vjson_check_keys(r_o, where, rkeys, e);
		if (r < 0)
			return r;
		r = vjson_get_string(r_o, where, "name", MANIFEST_NAME_MAX, &s, e);
		if (r < 0)
			return r;
		if (!name_ok(s))
			return err_at(e, -EINVAL, "'%s.name': '%s' is not a valid name", where, s);
		for (size_t j = 0; j < m->n_resources; j++)
			if (strcmp(m->resources[j].name, s) == 0)
				return err_at(e, -EINVAL, "'%s.name': '%s' is a duplicate", where, s);
		if (dup_str(s, &m->resources[i].name) < 0)
			return -ENOMEM;
		m->n_resources++;
		r = vjson_get_string(r_o, where, "uri", MANIFEST_URL_MAX, &s, e);
		if (r < 0)
			return r;
		if (strncmp(s, "kbs:///", 7) != 0)
			return err_at(e, -EINVAL, "'%s.uri': '%s' is not a kbs:/// URI", where, s);
		if (dup_str(s, &m->resources[i].uri) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int parse_policy(json_t *o, struct manifest *m, struct vjson_err *e)
{
	static const char *const keys[] = { "lsm", "seccomp", NULL };
	const char *lsm = "required", *sc = "bundle";
	int r;

	r = vjson_check_keys(o, "policy", keys, e);
	if (r < 0)
		return r;
	r = vjson_get_string_opt(o, "policy", "lsm", 32, &lsm, e);
	if (r < 0)
		return r;
	if (strcmp(lsm, "required") == 0)
		m->lsm_degraded_allowed = false;
	else if (strcmp(lsm, "degraded-allowed") == 0)
		m->lsm_degraded_allowed = true;
	else
		return err_at(e, -EINVAL, "'policy.lsm': '%s' is not one of required, degraded-allowed",
			      lsm);
	r = vjson_get_string_opt(o, "policy", "seccomp", 32, &sc, e);
	if (r < 0)
		return r;
	if (strcmp(sc, "bundle") == 0)
		m->seccomp_required = false;
	else if (strcmp(sc, "required") == 0)
		m->seccomp_required = true;
	else
		return err_at(e, -EINVAL, "'policy.seccomp': '%s' is not one of bundle, required", sc);
	return 0;
}

static int parse_restart(json_t *o, const char *where, enum launcher_restart *ret,
			 struct vjson_err *e)
{
	const char *s = NULL;
	int r;

	r = vjson_get_string_opt(o, where, "restart", 16, &s, e);
	if (r < 0 || !s)
		return r;
	if (strcmp(s, "never") == 0)
		*ret = LAUNCHER_RESTART_NEVER;
	else if (strcmp(s, "on-failure") == 0)
		*ret = LAUNCHER_RESTART_ON_FAILURE;
	else if (strcmp(s, "always") == 0)
		*ret = LAUNCHER_RESTART_ALWAYS;
	else
		return err_at(e, -EINVAL, "'%s.restart': '%s' is not one of never, on-failure, always",
			      where, s);
	return 0;
}

static bool is_container(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->n_containers; i++)
		if (strcmp(m->containers[i].name, name) == 0)
			return true;
	return false;
}

static int parse_dd_model(json_t *o, size_t idx, struct manifest *m, struct vjson_err *e)
{
	static const char *const keys[] = { "name", "sealed", "grant", NULL };
	struct manifest_decryptd_model *dm = &m->dd.models[idx];
	char where[64];
	const char *s;
	json_t *arr, *g;
	size_t i;
	int r;

	snprintf(where, sizeof(where), "decryptd.models[%zu]", idx);
	if (!json_is_object(o))
		return err_at(e, -EINVAL, "'%s': expected an object, got %s", where,
			      vjson_type_name(o));
	r = vjson_check_keys(o, where, keys, e);
	if (r < 0)
		return r;
	r = vjson_get_string(o, where, "name", MANIFEST_NAME_MAX, &s, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'%s.name': missing", where) : r;
	if (!name_ok(s))
		return err_at(e, -EINVAL, "'%s.name': '%s' is not a valid name", where, s);
	for (i = 0; i < idx; i++)
		if (strcmp(m->dd.models[i].name, s) == 0)
			return err_at(e, -EINVAL, "'%s.name': '%s' is a duplicate", where, s);
	if (dup_str(s, &dm->name) < 0)
		return -ENOMEM;
	r = vjson_get_string(o, where, "sealed", MANIFEST_PATH_MAX, &s, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'%s.sealed': missing", where) : r;
	if (s[0] != '/')
		return err_at(e, -EINVAL, "'%s.sealed': must be an absolute path", where);
	if (dup_str(s, &dm->sealed) < 0)
		return -ENOMEM;
	r = vjson_get_array(o, where, "grant", MANIFEST_CONTAINERS_MAX, &arr, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'%s.grant': missing", where) : r;
	dm->grant = calloc(json_array_size(arr) + 1, sizeof(char *));
	if (!dm->grant)
		return -ENOMEM;
	json_array_foreach(arr, i, g) {
		const char *n = json_string_value(g);

		if (!n || !is_container(m, n))
			return err_at(e, -EINVAL, "'%s.grant[%zu]': expected the name of a container",
				      where, i);
		for (size_t j = 0; j < dm->n_grant; j++)
			if (strcmp(dm->grant[j], n) == 0)
				return err_at(e, -EINVAL, "'%s.grant[%zu]': '%s' is a duplicate", where,
					      i, n);
		if (dup_str(n, &dm->grant[i]) < 0)
			return -ENOMEM;
		dm->n_grant++;
	}
	return 0;
}

/*
 * decryptd: {"enabled", "key" (a kbs.resources name), "models": [{name,
 * sealed, grant}], "workers", "queue", "max_connections", "receipts",
 * "restart", "restart_max", "backoff_ms", "backoff_max_ms"}. Runs after the
 * containers and kbs are parsed: grants and the key are checked against them.
 */
static int parse_decryptd(json_t *o, struct manifest *m, struct vjson_err *e)
{
	static const char *const keys[] = { "enabled", "key", "models", "workers", "queue",
					    "max_connections", "receipts", "restart", "restart_max",
					    "backoff_ms", "backoff_max_ms", NULL };
	const char *s = NULL;
	json_t *arr = NULL, *mo;
	int64_t v;
	size_t i;
	int r;

	r = vjson_check_keys(o, "decryptd", keys, e);
	if (r < 0)
		return r;
	r = vjson_get_bool(o, "decryptd", "enabled", &m->decryptd, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'decryptd.enabled': missing") : r;
	r = vjson_get_string_opt(o, "decryptd", "key", MANIFEST_NAME_MAX, &s, e);
	if (r < 0)
		return r;
	if (s && dup_str(s, &m->decryptd_key) < 0)
		return -ENOMEM;
	if (s) {
		for (i = 0; i < m->n_resources && strcmp(m->resources[i].name, s); i++)
			;
		if (i == m->n_resources)
			return err_at(e, -EINVAL, "'decryptd.key': '%s' is not in kbs.resources", s);
	}
	r = vjson_get_array_opt(o, "decryptd", "models", MANIFEST_DECRYPTD_MODELS_MAX, &arr, e);
	if (r < 0)
		return r;
	if (arr && json_array_size(arr)) {
		m->dd.models = calloc(json_array_size(arr), sizeof(*m->dd.models));
		if (!m->dd.models)
			return -ENOMEM;
		json_array_foreach(arr, i, mo) {
			m->dd.n_models++;
			r = parse_dd_model(mo, i, m, e);
			if (r < 0)
				return r;
		}
	}
	v = 0;
	r = vjson_get_int_opt(o, "decryptd", "workers", 0, 256, &v, e);
	if (r < 0)
		return r;
	m->dd.workers = (unsigned int)v;
	v = 64;
	r = vjson_get_int_opt(o, "decryptd", "queue", 1, 4096, &v, e);
	if (r < 0)
		return r;
	m->dd.queue = (unsigned int)v;
	v = 1024;
	r = vjson_get_int_opt(o, "decryptd", "max_connections", 1, 65536, &v, e);
	if (r < 0)
		return r;
	m->dd.max_connections = (unsigned int)v;
	r = vjson_get_bool_opt(o, "decryptd", "receipts", &m->dd.receipts, e);
	if (r < 0)
		return r;
	m->dd.restart = LAUNCHER_RESTART_ON_FAILURE;
	r = parse_restart(o, "decryptd", &m->dd.restart, e);
	if (r < 0)
		return r;
	v = 5;
	r = vjson_get_int_opt(o, "decryptd", "restart_max", 0, MANIFEST_RESTART_MAX, &v, e);
	if (r < 0)
		return r;
	m->dd.restart_max = (unsigned int)v;
	v = 100;
	r = vjson_get_int_opt(o, "decryptd", "backoff_ms", 1, MANIFEST_BACKOFF_MAX_MS, &v, e);
	if (r < 0)
		return r;
	m->dd.backoff_ms = (unsigned int)v;
	v = 10000;
	r = vjson_get_int_opt(o, "decryptd", "backoff_max_ms", 1, MANIFEST_BACKOFF_MAX_MS, &v, e);
	if (r < 0)
		return r;
	m->dd.backoff_max_ms = (unsigned int)v;
	if (m->dd.backoff_max_ms < m->dd.backoff_ms)
		return err_at(e, -EINVAL, "'decryptd.backoff_max_ms': smaller than backoff_ms");
	if (m->decryptd && !m->decryptd_key)
		return err_at(e, -EINVAL, "'decryptd.key': missing (the service needs its key)");
	if (m->decryptd && !m->dd.n_models)
		return err_at(e, -EINVAL, "'decryptd.models': at least one model is needed");
	return 0;
}

static int cmp_order(const void *a, const void *b)
{
	const struct manifest_container *x = a, *y = b;

	return (x->order > y->order) - (x->order < y->order);
}

static int parse_root(json_t *root, struct manifest *m, struct vjson_err *e)
{
	static const char *const keys[] = { "version", "containers", "kbs", "policy", "decryptd",
					    "shutdown", "grace_ms", NULL };
	const char *shut = "last-exit";
	json_t *arr, *o, *c;
	int64_t v;
	size_t i;
	int r;

	if (!json_is_object(root))
		return err_at(e, -EINVAL, "'': the manifest must be an object, got %s",
			      vjson_type_name(root));
	r = vjson_check_keys(root, "", keys, e);
	if (r < 0)
		return r;
	r = vjson_get_int(root, "", "version", 1, 1, &v, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'version': missing") : r;
	r = vjson_get_array(root, "", "containers", MANIFEST_CONTAINERS_MAX, &arr, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'containers': missing") : r;
	if (!json_array_size(arr))
		return err_at(e, -EINVAL, "'containers': at least one container is needed");
	m->containers = calloc(json_array_size(arr), sizeof(*m->containers));
	if (!m->containers)
		return -ENOMEM;
	json_array_foreach(arr, i, c) {
		m->n_containers++;
		r = parse_container(c, i, &m->containers[i], e);
		if (r < 0)
			return r;
		if (strcmp(m->containers[i].name, MANIFEST_DECRYPTD_NAME) == 0)
			return err_at(e, -EINVAL, "'containers[%zu].name': '%s' is reserved", i,
				      MANIFEST_DECRYPTD_NAME);
		for (size_t j = 0; j < i; j++)
			if (strcmp(m->containers[j].name, m->containers[i].name) == 0)
				return err_at(e, -EINVAL, "'containers[%zu].name': '%s' is a duplicate",
					      i, m->containers[i].name);
	}
	o = NULL;
	r = vjson_get_object_opt(root, "", "kbs", &o, e);
	if (r < 0)
		return r;
	if (o) {
		m->has_kbs = true;
		r = parse_kbs(o, m, e);
		if (r < 0)
			return r;
	}
	for (i = 0; i < m->n_containers; i++)
		for (size_t k = 0; k < m->containers[i].n_keys; k++) {
			size_t j;

			for (j = 0; j < m->n_resources; j++)
				if (strcmp(m->resources[j].name, m->containers[i].keys[k]) == 0)
					break;
			if (j == m->n_resources)
				return err_at(e, -EINVAL,
					      "'containers[%zu].keys[%zu]': '%s' is not in kbs.resources",
					      i, k, m->containers[i].keys[k]);
		}
	for (i = 0; i < m->n_containers; i++) {
		const struct manifest_image *im = m->containers[i].image;

		for (size_t k = 0; im && k < im->n_keys; k++) {
			size_t j;

			for (j = 0; j < m->n_resources; j++)
				if (strcmp(m->resources[j].name, im->keys[k]) == 0)
					break;
			if (j == m->n_resources)
				return err_at(e, -EINVAL,
					      "'containers[%zu].image.keys[%zu]': '%s' is not in "
					      "kbs.resources", i, k, im->keys[k]);
		}
	}
	o = NULL;
	r = vjson_get_object_opt(root, "", "policy", &o, e);
	if (r < 0)
		return r;
	if (o) {
		r = parse_policy(o, m, e);
		if (r < 0)
			return r;
	}
	o = NULL;
	r = vjson_get_object_opt(root, "", "decryptd", &o, e);
	if (r < 0)
		return r;
	if (o) {
		r = parse_decryptd(o, m, e);
		if (r < 0)
			return r;
	}
	r = vjson_get_string_opt(root, "", "shutdown", 16, &shut, e);
	if (r < 0)
		return r;
	if (strcmp(shut, "last-exit") == 0)
		m->shutdown = LAUNCHER_SHUTDOWN_LAST_EXIT;
	else if (strcmp(shut, "never") == 0)
		m->shutdown = LAUNCHER_SHUTDOWN_NEVER;
	else
		return err_at(e, -EINVAL, "'shutdown': '%s' is not one of last-exit, never", shut);
	v = 5000;
	r = vjson_get_int_opt(root, "", "grace_ms", 0, 600000, &v, e);
	if (r < 0)
		return r;
	m->grace_ms = (unsigned int)v;
	/* A stable sort keeps manifest order among equal start orders. */
	for (i = 1; i < m->n_containers; i++)
		for (size_t j = i; j > 0 && cmp_order(&m->containers[j - 1], &m->containers[j]) > 0; j--) {
			struct manifest_container t = m->containers[j];

			m->containers[j] = m->containers[j - 1];
			m->containers[j - 1] = t;
		}
	return 0;
}

int launcher_manifest_parse(const char *buf, size_t len, struct manifest **ret, struct vjson_err *e)
{
	struct manifest *m;
	json_t *root;
	int r;

	e->msg[0] = '\0';
	r = vjson_parse(buf, len, MANIFEST_MAX, 8, &root, e);
	if (r < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (!m) {
		json_decref(root);
		return -ENOMEM;
	}
	r = parse_root(root, m, e);
	json_decref(root);
	if (r < 0) {
		if (r == -ENOMEM && !e->msg[0])
			snprintf(e->msg, sizeof(e->msg), "out of memory");
		launcher_manifest_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

struct manifest *launcher_manifest_free(struct manifest *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n_containers; i++) {
		struct manifest_container *c = &m->containers[i];

		free(c->name);
		free(c->bundle);
		for (size_t k = 0; k < c->n_keys; k++)
			free(c->keys[k]);
		free(c->keys);
		if (c->image) {
			free(c->image->layout);
			free(c->image->ref);
			for (size_t k = 0; k < c->image->n_keys; k++)
				free(c->image->keys[k]);
			free(c->image->keys);
			free_strs(c->image->entrypoint);
			free_strs(c->image->cmd);
			free_strs(c->image->env);
			free(c->image->cwd);
			free(c->image->user);
			free(c->image);
		}
	}
	free(m->containers);
	for (size_t i = 0; i < m->n_resources; i++) {
		free(m->resources[i].name);
		free(m->resources[i].uri);
	}
	free(m->resources);
	free(m->kbs_url);
	free(m->kbs_ca);
	free(m->kbs_tee);
	free(m->decryptd_key);
	for (size_t i = 0; i < m->dd.n_models; i++) {
		free(m->dd.models[i].name);
		free(m->dd.models[i].sealed);
		for (size_t k = 0; k < m->dd.models[i].n_grant; k++)
			free(m->dd.models[i].grant[k]);
		free(m->dd.models[i].grant);
	}
	free(m->dd.models);
	free(m);
	return NULL;
}

char *launcher_manifest_policy_json(const struct manifest *m)
{
	json_t *o = json_pack("{s:s,s:s}", "lsm", m->lsm_degraded_allowed ? "degraded-allowed" : "required",
			      "seccomp", m->seccomp_required ? "required" : "bundle");
	char *s;

	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}
