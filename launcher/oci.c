// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/oci.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>

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

/* Fields veil refuses because ignoring them would weaken what the bundle asked for. */
static int refuse(json_t *o, const char *where, const char *const *keys, struct vjson_err *e)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(o, *keys);

		if (!v || json_is_null(v))
			continue;
		if ((json_is_array(v) && !json_array_size(v)) ||
		    (json_is_object(v) && !json_object_size(v)) ||
		    (json_is_string(v) && !json_string_length(v)) || json_is_false(v))
			continue;
		return err_at(e, -EOPNOTSUPP, "'%s%s%s': not supported by veil", where,
			      *where ? "." : "", *keys);
	}
	return 0;
}

/* A string array; each element at most OCI_STR_MAX bytes and NUL-free. */
static int str_array(json_t *o, const char *where, const char *key, size_t max, bool required,
		     char ***ret, size_t *ret_n, struct vjson_err *e)
{
	json_t *arr = NULL, *v;
	char **out;
	size_t i;
	int r;

	r = required ? vjson_get_array(o, where, key, max, &arr, e) :
		       vjson_get_array_opt(o, where, key, max, &arr, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'%s.%s': missing", where, key) : r;
	if (!arr)
		return 0;
	out = calloc(json_array_size(arr) + 1, sizeof(char *));
	if (!out)
		return -ENOMEM;
	*ret = out;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return err_at(e, -EINVAL, "'%s.%s[%zu]': expected a string, got %s", where,
				      key, i, vjson_type_name(v));
		if (json_string_length(v) > OCI_STR_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return err_at(e, -EINVAL, "'%s.%s[%zu]': too long or contains NUL", where,
				      key, i);
		out[i] = strdup(json_string_value(v));
		if (!out[i])
			return -ENOMEM;
		*ret_n = i + 1;
	}
	return 0;
}

static int dup_to(const char *s, char **ret)
{
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int cap_value(const char *name, cap_value_t *ret)
{
	char low[64];
	size_t i;

	if (strlen(name) >= sizeof(low))
		return -EINVAL;
	for (i = 0; name[i]; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = '\0';
	if (strncmp(low, "cap_", 4) != 0 || cap_from_name(low, ret) < 0 || *ret < 0 || *ret > 63)
		return -EINVAL;
	return 0;
}

static int parse_caps(json_t *o, struct oci_config *c, struct vjson_err *e)
{
	static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted",
					    "ambient", NULL };
	int r;

	r = vjson_check_keys(o, "process.capabilities", sets, e);
	if (r < 0)
		return r;
	c->caps_set = true;
	for (int s = 0; s < OCI_CAP_NSETS; s++) {
		json_t *arr = NULL, *v;
		size_t i;

		r = vjson_get_array_opt(o, "process.capabilities", sets[s], 64, &arr, e);
		if (r < 0)
			return r;
		if (!arr)
			continue;
		json_array_foreach(arr, i, v) {
			cap_value_t cv;

			if (!json_is_string(v) || cap_value(json_string_value(v), &cv) < 0)
				return err_at(e, -EINVAL,
					      "'process.capabilities.%s[%zu]': not a capability name",
					      sets[s], i);
			c->caps[s] |= 1ull << cv;
		}
	}
	return 0;
}

static const struct {
	const char *name;
	int res;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS },		{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },		{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },		{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static int get_u64(json_t *o, const char *where, const char *key, uint64_t *ret,
		   struct vjson_err *e)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return err_at(e, -EINVAL, "'%s.%s': missing", where, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return err_at(e, -EINVAL, "'%s.%s': expected a non-negative integer, got %s", where,
			      key, vjson_type_name(v));
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

static int parse_rlimits(json_t *arr, struct oci_config *c, struct vjson_err *e)
{
	static const char *const keys[] = { "type", "soft", "hard", NULL };
	json_t *v;
	size_t i;
	int r;

	json_array_foreach(arr, i, v) {
		char where[64];
		const char *type;
		size_t k;

		snprintf(where, sizeof(where), "process.rlimits[%zu]", i);
		if (!json_is_object(v))
			return err_at(e, -EINVAL, "'%s': expected an object", where);
		r = vjson_check_keys(v, where, keys, e);
		if (r < 0)
			return r;
		r = vjson_get_string(v, where, "type", 32, &type, e);
		if (r < 0)
			return r == -ENOENT ? err_at(e, -EINVAL, "'%s.type': missing", where) : r;
		for (k = 0; k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
			if (strcmp(rlimit_names[k].name, type) == 0)
				break;
		if (k == sizeof(rlimit_names) / sizeof(rlimit_names[0]))
			return err_at(e, -EINVAL, "'%s.type': unknown rlimit '%s'", where, type);
		for (size_t j = 0; j < c->n_rlimits; j++)
			if (c->rlimits[j].resource == rlimit_names[k].res)
				return err_at(e, -EINVAL, "'%s.type': '%s' is a duplicate", where, type);
		c->rlimits[c->n_rlimits].resource = rlimit_names[k].res;
		r = get_u64(v, where, "soft", &c->rlimits[c->n_rlimits].soft, e);
		if (r < 0)
			return r;
		r = get_u64(v, where, "hard", &c->rlimits[c->n_rlimits].hard, e);
		if (r < 0)
			return r;
		if (c->rlimits[c->n_rlimits].soft > c->rlimits[c->n_rlimits].hard)
			return err_at(e, -EINVAL, "'%s.soft': greater than hard", where);
		c->n_rlimits++;
	}
	return 0;
}

static int parse_process(json_t *p, struct oci_config *c, struct vjson_err *e)
{
	static const char *const keys[] = { "terminal", "consoleSize", "user", "args", "env", "cwd",
					    "capabilities", "rlimits", "noNewPrivileges",
					    "apparmorProfile", "selinuxLabel", "oomScoreAdj",
					    "ioPriority", "scheduler", "execCPUAffinity", NULL };
	static const char *const refused[] = { "terminal", "apparmorProfile", "selinuxLabel",
					       "ioPriority", "scheduler", "execCPUAffinity", NULL };
	static const char *const ukeys[] = { "uid", "gid", "umask", "additionalGids", NULL };
	json_t *u, *o, *arr = NULL;
	const char *s;
	int64_t v;
	int r;

	r = vjson_check_keys(p, "process", keys, e);
	if (r < 0)
		return r;
	r = refuse(p, "process", refused, e);
	if (r < 0)
		return r;
	r = str_array(p, "process", "args", OCI_ARGS_MAX, true, &c->args, &c->n_args, e);
	if (r < 0)
		return r;
	if (!c->n_args)
		return err_at(e, -EINVAL, "'process.args': must not be empty");
	r = str_array(p, "process", "env", OCI_ENV_MAX, false, &c->env, &c->n_env, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n_env; i++)
		if (!strchr(c->env[i], '=') || c->env[i][0] == '=')
			return err_at(e, -EINVAL, "'process.env[%zu]': expected NAME=VALUE", i);
	r = vjson_get_string(p, "process", "cwd", OCI_STR_MAX, &s, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'process.cwd': missing") : r;
	if (s[0] != '/')
		return err_at(e, -EINVAL, "'process.cwd': must be an absolute path");
	r = dup_to(s, &c->cwd);
	if (r < 0)
		return r;
	r = vjson_get_object(p, "process", "user", &u, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'process.user': missing") : r;
	r = vjson_check_keys(u, "process.user", ukeys, e);
	if (r < 0)
		return r;
	r = vjson_get_int(u, "process.user", "uid", 0, UINT32_MAX - 1, &v, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'process.user.uid': missing") : r;
	c->uid = (uid_t)v;
	r = vjson_get_int(u, "process.user", "gid", 0, UINT32_MAX - 1, &v, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'process.user.gid': missing") : r;
	c->gid = (gid_t)v;
	v = -1;
	r = vjson_get_int_opt(u, "process.user", "umask", 0, 0777, &v, e);
	if (r < 0)
		return r;
	c->umask = (int)v;
	r = vjson_get_array_opt(u, "process.user", "additionalGids", OCI_GROUPS_MAX, &arr, e);
	if (r < 0)
		return r;
	if (arr && json_array_size(arr)) {
		json_t *g;
		size_t i;

		c->groups = calloc(json_array_size(arr), sizeof(gid_t));
		if (!c->groups)
			return -ENOMEM;
		json_array_foreach(arr, i, g) {
			if (!json_is_integer(g) || json_integer_value(g) < 0 ||
			    json_integer_value(g) >= UINT32_MAX)
				return err_at(e, -EINVAL,
					      "'process.user.additionalGids[%zu]': expected a gid", i);
			c->groups[c->n_groups++] = (gid_t)json_integer_value(g);
		}
	}
	o = NULL;
	r = vjson_get_object_opt(p, "process", "capabilities", &o, e);
	if (r < 0)
		return r;
	if (o) {
		r = parse_caps(o, c, e);
		if (r < 0)
			return r;
	}
	arr = NULL;
	r = vjson_get_array_opt(p, "process", "rlimits", OCI_RLIMITS_MAX, &arr, e);
	if (r < 0)
		return r;
	if (arr) {
		r = parse_rlimits(arr, c, e);
		if (r < 0)
			return r;
	}
	r = vjson_get_bool_opt(p, "process", "noNewPrivileges", &c->no_new_privs, e);
	if (r < 0)
		return r;
	v = 0;
	if (json_object_get(p, "oomScoreAdj")) {
		r = vjson_get_int(p, "process", "oomScoreAdj", -1000, 1000, &v, e);
		if (r < 0)
			return r;
		c->oom_score_adj = (int)v;
		c->has_oom_score_adj = true;
	}
	return 0;
}

static const struct {
	const char *name;
	unsigned long set, clear;
	unsigned long prop;
} mount_opts[] = {
	{ "ro", MS_RDONLY, 0, 0 },	  { "rw", 0, MS_RDONLY, 0 },
	{ "nosuid", MS_NOSUID, 0, 0 },	  { "suid", 0, MS_NOSUID, 0 },
	{ "nodev", MS_NODEV, 0, 0 },	  { "dev", 0, MS_NODEV, 0 },
	{ "noexec", MS_NOEXEC, 0, 0 },	  { "exec", 0, MS_NOEXEC, 0 },
	{ "bind", MS_BIND, 0, 0 },	  { "rbind", MS_BIND | MS_REC, 0, 0 },
	{ "relatime", MS_RELATIME, 0, 0 }, { "noatime", MS_NOATIME, 0, 0 },
	{ "strictatime", MS_STRICTATIME, 0, 0 }, { "nodiratime", MS_NODIRATIME, 0, 0 },
	{ "private", 0, 0, MS_PRIVATE },  { "rprivate", 0, 0, MS_PRIVATE | MS_REC },
	{ "slave", 0, 0, MS_SLAVE },	  { "rslave", 0, 0, MS_SLAVE | MS_REC },
};

static int parse_mounts(json_t *arr, struct oci_config *c, struct vjson_err *e)
{
	static const char *const keys[] = { "destination", "type", "source", "options", NULL };
	static const char *const types[] = { "proc", "tmpfs", "bind", "sysfs", "devpts", "mqueue",
					     "none", NULL };
	json_t *m;
	size_t i;
	int r;

	c->mounts = calloc(json_array_size(arr) + 1, sizeof(*c->mounts));
	if (!c->mounts)
		return -ENOMEM;
	json_array_foreach(arr, i, m) {
		struct oci_mount *om = &c->mounts[i];
		char where[64];
		const char *s, *type = NULL, *src = NULL;
		char **opts = NULL;
		size_t n_opts = 0, k;

		snprintf(where, sizeof(where), "mounts[%zu]", i);
		if (!json_is_object(m))
			return err_at(e, -EINVAL, "'%s': expected an object", where);
		c->n_mounts = i + 1;
		r = vjson_check_keys(m, where, keys, e);
		if (r < 0)
			return r;
		r = vjson_get_string(m, where, "destination", OCI_STR_MAX, &s, e);
		if (r < 0)
			return r == -ENOENT ? err_at(e, -EINVAL, "'%s.destination': missing", where) : r;
		if (s[0] != '/' || strstr(s, "/../") || (strlen(s) >= 3 && !strcmp(s + strlen(s) - 3, "/..")))
			return err_at(e, -EINVAL, "'%s.destination': '%s' must be absolute without '..'",
				      where, s);
		r = dup_to(s, &om->destination);
		if (r < 0)
			return r;
		r = vjson_get_string_opt(m, where, "type", 32, &type, e);
		if (r < 0)
			return r;
		r = vjson_get_string_opt(m, where, "source", OCI_STR_MAX, &src, e);
		if (r < 0)
			return r;
		r = str_array(m, where, "options", 32, false, &opts, &n_opts, e);
		if (r < 0) {
			for (k = 0; opts && opts[k]; k++)
				free(opts[k]);
			free(opts);
			return r;
		}
		size_t dlen = 0;
		om->data = calloc(1, OCI_STR_MAX + 1);
		if (!om->data)
			r = -ENOMEM;
		for (k = 0; r >= 0 && k < n_opts; k++) {
			size_t j;

			for (j = 0; j < sizeof(mount_opts) / sizeof(mount_opts[0]); j++)
				if (strcmp(opts[k], mount_opts[j].name) == 0)
					break;
			if (j < sizeof(mount_opts) / sizeof(mount_opts[0])) {
				om->flags = (om->flags | mount_opts[j].set) & ~mount_opts[j].clear;
				om->propagation |= mount_opts[j].prop;
				continue;
			}
			/* key=value options go to the filesystem; bare unknown words are errors. */
			if (!strchr(opts[k], '=') && strcmp(opts[k], "newinstance") != 0) {
				r = err_at(e, -EINVAL, "'%s.options[%zu]': unknown option '%s'", where,
					   k, opts[k]);
				break;
			}
			if (dlen + strlen(opts[k]) + 2 > OCI_STR_MAX) {
				r = err_at(e, -EINVAL, "'%s.options': too long", where);
				break;
			}
			dlen += (size_t)sprintf(om->data + dlen, "%s%s", dlen ? "," : "", opts[k]);
		}
		for (k = 0; opts && opts[k]; k++)
			free(opts[k]);
		free(opts);
		if (r < 0)
			return r;
		if (!type)
			type = (om->flags & MS_BIND) ? "bind" : NULL;
		if (!type)
			return err_at(e, -EINVAL, "'%s.type': missing", where);
		for (k = 0; types[k] && strcmp(types[k], type); k++)
			;
		if (!types[k])
			return err_at(e, -EOPNOTSUPP, "'%s.type': '%s' is not supported by veil", where,
				      type);
		if (!strcmp(type, "none") && !(om->flags & MS_BIND))
			return err_at(e, -EINVAL, "'%s.type': 'none' without a bind option", where);
		if (!strcmp(type, "bind") || !strcmp(type, "none")) {
			if (!src || src[0] != '/')
				return err_at(e, -EINVAL, "'%s.source': a bind mount needs an absolute source",
					      where);
			om->flags |= MS_BIND;
			om->bind_ro = om->flags & MS_RDONLY;
			type = "bind";
		}
		r = dup_to(type, &om->type);
		if (r < 0)
			return r;
		r = dup_to(src ? src : type, &om->source);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_idmaps(json_t *l, const char *key, struct oci_idmap *out, size_t *n,
			struct vjson_err *e)
{
	static const char *const keys[] = { "containerID", "hostID", "size", NULL };
	json_t *arr = NULL, *m;
	size_t i;
	int r;

	r = vjson_get_array_opt(l, "linux", key, OCI_MAPPINGS_MAX, &arr, e);
	if (r < 0 || !arr)
		return r;
	json_array_foreach(arr, i, m) {
		char where[64];
		uint64_t v[3];

		snprintf(where, sizeof(where), "linux.%s[%zu]", key, i);
		if (!json_is_object(m))
			return err_at(e, -EINVAL, "'%s': expected an object", where);
		r = vjson_check_keys(m, where, keys, e);
		if (r < 0)
			return r;
		for (int k = 0; k < 3; k++) {
			r = get_u64(m, where, keys[k], &v[k], e);
			if (r < 0)
				return r;
			if (v[k] > UINT32_MAX - 1)
				return err_at(e, -EINVAL, "'%s.%s': out of range", where, keys[k]);
		}
		if (!v[2] || v[0] + v[2] > UINT32_MAX || v[1] + v[2] > UINT32_MAX)
			return err_at(e, -EINVAL, "'%s.size': out of range", where);
		out[i] = (struct oci_idmap){ (uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2] };
		*n = i + 1;
	}
	return 0;
}

static int parse_resources(json_t *res, struct oci_config *c, struct vjson_err *e)
{
	static const char *const keys[] = { "devices", "memory", "cpu", "pids", "blockIO",
					    "hugepageLimits", "network", "rdma", "unified", NULL };
	static const char *const refused[] = { "blockIO", "hugepageLimits", "network", "rdma",
					       "unified", NULL };
	static const char *const mkeys[] = { "limit", "reservation", "swap", NULL };
	static const char *const ckeys[] = { "shares", "quota", "period", NULL };
	static const char *const pkeys[] = { "limit", NULL };
	json_t *o, *arr;
	int64_t v;
	int r;

	r = vjson_check_keys(res, "linux.resources", keys, e);
	if (r < 0)
		return r;
	r = refuse(res, "linux.resources", refused, e);
	if (r < 0)
		return r;
	/* Only "deny everything" is accepted: veil's /dev has no device a rule could open. */
	arr = NULL;
	r = vjson_get_array_opt(res, "linux.resources", "devices", 64, &arr, e);
	if (r < 0)
		return r;
	if (arr) {
		json_t *d;
		size_t i;

		json_array_foreach(arr, i, d) {
			json_t *allow = json_is_object(d) ? json_object_get(d, "allow") : NULL;

			if (!allow || !json_is_boolean(allow) || json_is_true(allow))
				return err_at(e, -EOPNOTSUPP,
					      "'linux.resources.devices[%zu]': only deny rules are supported",
					      i);
		}
	}
	o = NULL;
	r = vjson_get_object_opt(res, "linux.resources", "memory", &o, e);
	if (r < 0)
		return r;
	if (o) {
		r = vjson_check_keys(o, "linux.resources.memory", mkeys, e);
		if (r < 0)
			return r;
		r = vjson_get_int_opt(o, "linux.resources.memory", "limit", -1, INT64_MAX, &c->memory_limit, e);
		if (r < 0)
			return r;
		r = vjson_get_int_opt(o, "linux.resources.memory", "swap", -1, INT64_MAX, &c->memory_swap, e);
		if (r < 0)
			return r;
		r = vjson_get_int_opt(o, "linux.resources.memory", "reservation", -1, INT64_MAX, &v, e);
		if (r < 0)
			return r;
	}
	o = NULL;
	r = vjson_get_object_opt(res, "linux.resources", "cpu", &o, e);
	if (r < 0)
		return r;
	if (o) {
		r = vjson_check_keys(o, "linux.resources.cpu", ckeys, e);
		if (r < 0)
			return r;
		v = 0;
		r = vjson_get_int_opt(o, "linux.resources.cpu", "shares", 0, 262144, &v, e);
		if (r < 0)
			return r;
		c->cpu_shares = (uint64_t)v;
		r = vjson_get_int_opt(o, "linux.resources.cpu", "quota", -1, INT64_MAX, &c->cpu_quota, e);
		if (r < 0)
			return r;
		v = 100000;
		r = vjson_get_int_opt(o, "linux.resources.cpu", "period", 1000, 1000000, &v, e);
		if (r < 0)
			return r;
		c->cpu_period = (uint64_t)v;
	}
	o = NULL;
	r = vjson_get_object_opt(res, "linux.resources", "pids", &o, e);
	if (r < 0)
		return r;
	if (o) {
		r = vjson_check_keys(o, "linux.resources.pids", pkeys, e);
		if (r < 0)
			return r;
		r = vjson_get_int(o, "linux.resources.pids", "limit", -1, INT32_MAX, &c->pids_limit, e);
		if (r < 0)
			return r == -ENOENT ? err_at(e, -EINVAL, "'linux.resources.pids.limit': missing") : r;
	}
	return 0;
}

/* Namespaced sysctls only, as runc allows them. */
static bool sysctl_ok(const char *k)
{
	static const char *const exact[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
					     "kernel.sem", "kernel.shmall", "kernel.shmmax",
					     "kernel.shmmni", "kernel.shm_rmid_forced", NULL };

	for (const char *const *x = exact; *x; x++)
		if (strcmp(*x, k) == 0)
			return true;
	if (strstr(k, "..") || strchr(k, '/'))
		return false;
	return strncmp(k, "net.", 4) == 0 || strncmp(k, "fs.mqueue.", 10) == 0;
}

static int parse_linux(json_t *l, struct oci_config *c, struct vjson_err *e)
{
	static const char *const keys[] = { "namespaces", "uidMappings", "gidMappings", "resources",
					    "cgroupsPath", "seccomp", "maskedPaths", "readonlyPaths",
					    "sysctl", "devices", "rootfsPropagation", "mountLabel",
					    "intelRdt", "personality", "timeOffsets", NULL };
	static const char *const refused[] = { "devices", "mountLabel", "intelRdt", "personality",
					       "timeOffsets", NULL };
	static const char *const nstypes[] = { "pid", "network", "mount", "ipc", "uts", "user",
					       "cgroup", NULL };
	json_t *arr = NULL, *o = NULL, *n;
	const char *s;
	size_t i;
	int r;

	r = vjson_check_keys(l, "linux", keys, e);
	if (r < 0)
		return r;
	r = refuse(l, "linux", refused, e);
	if (r < 0)
		return r;
	r = vjson_get_array_opt(l, "linux", "namespaces", 16, &arr, e);
	if (r < 0)
		return r;
	json_array_foreach(arr, i, n) {
		static const char *const nkeys[] = { "type", "path", NULL };
		char where[64];
		const char *t;
		size_t k;

		snprintf(where, sizeof(where), "linux.namespaces[%zu]", i);
		if (!json_is_object(n))
			return err_at(e, -EINVAL, "'%s': expected an object", where);
		r = vjson_check_keys(n, where, nkeys, e);
		if (r < 0)
			return r;
		r = vjson_get_string(n, where, "type", 16, &t, e);
		if (r < 0)
			return r == -ENOENT ? err_at(e, -EINVAL, "'%s.type': missing", where) : r;
		for (k = 0; nstypes[k] && strcmp(nstypes[k], t); k++)
			;
		if (!nstypes[k])
			return err_at(e, -EOPNOTSUPP, "'%s.type': '%s' is not supported by veil", where, t);
		if (json_object_get(n, "path"))
			return err_at(e, -EOPNOTSUPP,
				      "'%s.path': joining an existing namespace is not supported", where);
	}
	r = parse_idmaps(l, "uidMappings", c->uid_map, &c->n_uid_map, e);
	if (r < 0)
		return r;
	r = parse_idmaps(l, "gidMappings", c->gid_map, &c->n_gid_map, e);
	if (r < 0)
		return r;
	r = vjson_get_object_opt(l, "linux", "resources", &o, e);
	if (r < 0)
		return r;
	if (o) {
		r = parse_resources(o, c, e);
		if (r < 0)
			return r;
	}
	r = vjson_get_string_opt(l, "linux", "cgroupsPath", OCI_STR_MAX, &s, e);
	if (r < 0)
		return r;
	s = NULL;
	r = vjson_get_string_opt(l, "linux", "rootfsPropagation", 16, &s, e);
	if (r < 0)
		return r;
	if (s && strcmp(s, "private") && strcmp(s, "rprivate") && strcmp(s, "slave") &&
	    strcmp(s, "rslave"))
		return err_at(e, -EOPNOTSUPP, "'linux.rootfsPropagation': '%s' is not supported", s);
	r = str_array(l, "linux", "maskedPaths", OCI_PATHS_MAX, false, &c->masked, &c->n_masked, e);
	if (r < 0)
		return r;
	r = str_array(l, "linux", "readonlyPaths", OCI_PATHS_MAX, false, &c->readonly,
		      &c->n_readonly, e);
	if (r < 0)
		return r;
	for (i = 0; i < c->n_masked; i++)
		if (c->masked[i][0] != '/')
			return err_at(e, -EINVAL, "'linux.maskedPaths[%zu]': must be absolute", i);
	for (i = 0; i < c->n_readonly; i++)
		if (c->readonly[i][0] != '/')
			return err_at(e, -EINVAL, "'linux.readonlyPaths[%zu]': must be absolute", i);
	o = NULL;
	r = vjson_get_object_opt(l, "linux", "sysctl", &o, e);
	if (r < 0)
		return r;
	if (o && json_object_size(o)) {
		const char *k;
		json_t *v;

		if (json_object_size(o) > OCI_SYSCTL_MAX)
			return err_at(e, -EINVAL, "'linux.sysctl': more than %u entries", OCI_SYSCTL_MAX);
		c->sysctl = calloc(json_object_size(o), sizeof(*c->sysctl));
		if (!c->sysctl)
			return -ENOMEM;
		json_object_foreach(o, k, v) {
			if (!json_is_string(v) || json_string_length(v) > 256)
				return err_at(e, -EINVAL, "'linux.sysctl.%.64s': expected a short string", k);
			if (strlen(k) > 128 || !sysctl_ok(k))
				return err_at(e, -EOPNOTSUPP,
					      "'linux.sysctl.%.64s': not a namespaced sysctl veil allows", k);
			if (dup_to(k, &c->sysctl[c->n_sysctl].key) < 0 ||
			    dup_to(json_string_value(v), &c->sysctl[c->n_sysctl].value) < 0) {
				c->n_sysctl++;
				return -ENOMEM;
			}
			c->n_sysctl++;
		}
	}
	o = NULL;
	r = vjson_get_object_opt(l, "linux", "seccomp", &o, e);
	if (r < 0)
		return r;
	if (o) {
		r = launcher_seccomp_build(o, &c->seccomp, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_root(json_t *root, const char *bundle, struct oci_config *c, struct vjson_err *e)
{
	static const char *const keys[] = { "ociVersion", "process", "root", "hostname",
					    "domainname", "mounts", "linux", "hooks", "annotations",
					    NULL };
	static const char *const refused[] = { "hooks", "domainname", NULL };
	static const char *const rkeys[] = { "path", "readonly", NULL };
	json_t *o, *arr = NULL;
	const char *s;
	int r;

	if (!json_is_object(root))
		return err_at(e, -EINVAL, "'': config.json must be an object");
	r = vjson_check_keys(root, "", keys, e);
	if (r < 0)
		return r;
	r = refuse(root, "", refused, e);
	if (r < 0)
		return r;
	r = vjson_get_string(root, "", "ociVersion", 32, &s, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'ociVersion': missing") : r;
	if (strncmp(s, "1.", 2) != 0)
		return err_at(e, -EINVAL, "'ociVersion': '%s' is not a 1.x version", s);
	r = vjson_get_object(root, "", "process", &o, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'process': missing") : r;
	r = parse_process(o, c, e);
	if (r < 0)
		return r;
	r = vjson_get_object(root, "", "root", &o, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'root': missing") : r;
	r = vjson_check_keys(o, "root", rkeys, e);
	if (r < 0)
		return r;
	r = vjson_get_string(o, "root", "path", OCI_STR_MAX, &s, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'root.path': missing") : r;
	if (!*s)
		return err_at(e, -EINVAL, "'root.path': empty");
	if (s[0] == '/')
		r = dup_to(s, &c->root_path);
	else
		r = asprintf(&c->root_path, "%s/%s", bundle, s) < 0 ? -ENOMEM : 0;
	if (r < 0)
		return r;
	r = vjson_get_bool_opt(o, "root", "readonly", &c->root_readonly, e);
	if (r < 0)
		return r;
	s = NULL;
	r = vjson_get_string_opt(root, "", "hostname", 64, &s, e);
	if (r < 0)
		return r;
	if (s && dup_to(s, &c->hostname) < 0)
		return -ENOMEM;
	r = vjson_get_array_opt(root, "", "mounts", OCI_MOUNTS_MAX, &arr, e);
	if (r < 0)
		return r;
	if (arr) {
		r = parse_mounts(arr, c, e);
		if (r < 0)
			return r;
	}
	o = NULL;
	r = vjson_get_object_opt(root, "", "linux", &o, e);
	if (r < 0)
		return r;
	if (!o)
		return err_at(e, -EINVAL, "'linux': missing");
	r = parse_linux(o, c, e);
	if (r < 0)
		return r;
	if (c->seccomp && !c->no_new_privs &&
	    !(c->uid == 0 && c->caps_set && (c->caps[OCI_CAP_EFFECTIVE] & (1ull << CAP_SYS_ADMIN))))
		return err_at(e, -EINVAL,
			      "'linux.seccomp': needs process.noNewPrivileges (or uid 0 with CAP_SYS_ADMIN)");
	return 0;
}

int launcher_oci_parse(const char *buf, size_t len, const char *bundle, struct oci_config **ret,
		       struct vjson_err *e)
{
	struct oci_config *c;
	json_t *root;
	int r;

	e->msg[0] = '\0';
	r = vjson_parse(buf, len, OCI_CONFIG_MAX, 16, &root, e);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c) {
		json_decref(root);
		return -ENOMEM;
	}
	c->memory_limit = c->memory_swap = c->pids_limit = c->cpu_quota = -1;
	c->cpu_period = 100000;
	c->umask = -1;
	r = parse_root(root, bundle, c, e);
	json_decref(root);
	if (r < 0) {
		if (r == -ENOMEM && !e->msg[0])
			snprintf(e->msg, sizeof(e->msg), "out of memory");
		launcher_oci_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

struct oci_config *launcher_oci_free(struct oci_config *c)
{
	if (!c)
		return NULL;
	free_strv(c->args);
	free_strv(c->env);
	free(c->cwd);
	free(c->groups);
	free(c->root_path);
	free(c->hostname);
	for (size_t i = 0; c->mounts && i < c->n_mounts; i++) {
		free(c->mounts[i].destination);
		free(c->mounts[i].type);
		free(c->mounts[i].source);
		free(c->mounts[i].data);
	}
	free(c->mounts);
	free_strv(c->masked);
	free_strv(c->readonly);
	for (size_t i = 0; i < c->n_sysctl; i++) {
		free(c->sysctl[i].key);
		free(c->sysctl[i].value);
	}
	free(c->sysctl);
	launcher_seccomp_free(c->seccomp);
	free(c);
	return NULL;
}
