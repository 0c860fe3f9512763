// SPDX-License-Identifier: GPL-2.0-only
/*
 * linux.seccomp of the OCI runtime spec, built with libseccomp in the parent
 * and loaded in the container as the last step before execve.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <seccomp.h>

#include "launcher/oci.h"

#define SECCOMP_SYSCALLS_MAX 1024u
#define SECCOMP_NAMES_MAX 1024u

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

static int action_of(const char *s, uint32_t errno_ret, uint32_t *ret)
{
	if (!strcmp(s, "SCMP_ACT_ALLOW"))
		*ret = SCMP_ACT_ALLOW;
	else if (!strcmp(s, "SCMP_ACT_ERRNO"))
		*ret = SCMP_ACT_ERRNO(errno_ret);
	else if (!strcmp(s, "SCMP_ACT_KILL") || !strcmp(s, "SCMP_ACT_KILL_THREAD"))
		*ret = SCMP_ACT_KILL_THREAD;
	else if (!strcmp(s, "SCMP_ACT_KILL_PROCESS"))
		*ret = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(s, "SCMP_ACT_TRAP"))
		*ret = SCMP_ACT_TRAP;
	else if (!strcmp(s, "SCMP_ACT_TRACE"))
		*ret = SCMP_ACT_TRACE(errno_ret);
	else if (!strcmp(s, "SCMP_ACT_LOG"))
		*ret = SCMP_ACT_LOG;
	else
		return -EINVAL;
	return 0;
}

static int op_of(const char *s, enum scmp_compare *ret)
{
	static const struct {
		const char *n;
		enum scmp_compare op;
	} ops[] = {
		{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
		{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
		{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
		{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(ops[i].n, s)) {
			*ret = ops[i].op;
			return 0;
		}
	return -EINVAL;
}

static int errno_ret_of(json_t *o, const char *where, uint32_t def, uint32_t *ret,
			struct vjson_err *e)
{
	int64_t v = def;
	int r = vjson_get_int_opt(o, where, o && json_object_get(o, "defaultErrnoRet") ?
				  "defaultErrnoRet" : "errnoRet", 0, 4095, &v, e);

	if (r < 0)
		return r;
	*ret = (uint32_t)v;
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, json_t *rule, size_t idx, uint32_t def_action,
		    struct vjson_err *e)
{
	static const char *const keys[] = { "names", "action", "errnoRet", "args", "comment",
					    "includes", "excludes", NULL };
	static const char *const akeys[] = { "index", "value", "valueTwo", "op", NULL };
	struct scmp_arg_cmp cmps[6];
	json_t *names, *args = NULL, *n, *a;
	char where[64];
	const char *act;
	uint32_t action, eret;
	unsigned int n_cmps = 0;
	size_t i;
	int r;

	snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu]", idx);
	if (!json_is_object(rule))
		return err_at(e, -EINVAL, "'%s': expected an object", where);
	r = vjson_check_keys(rule, where, keys, e);
	if (r < 0)
		return r;
	if (json_object_get(rule, "includes") || json_object_get(rule, "excludes"))
		return err_at(e, -EOPNOTSUPP, "'%s': includes/excludes are not supported", where);
	r = vjson_get_array(rule, where, "names", SECCOMP_NAMES_MAX, &names, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'%s.names': missing", where) : r;
	r = vjson_get_string(rule, where, "action", 32, &act, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'%s.action': missing", where) : r;
	r = errno_ret_of(rule, where, EPERM, &eret, e);
	if (r < 0)
		return r;
	if (action_of(act, eret, &action) < 0)
		return err_at(e, -EOPNOTSUPP, "'%s.action': '%s' is not supported", where, act);
	r = vjson_get_array_opt(rule, where, "args", 6, &args, e);
	if (r < 0)
		return r;
	json_array_foreach(args, i, a) {
		char aw[96];
		int64_t index;
		const char *op;
		enum scmp_compare cop;
		json_t *v, *v2;

		snprintf(aw, sizeof(aw), "%s.args[%zu]", where, i);
		if (!json_is_object(a))
			return err_at(e, -EINVAL, "'%s': expected an object", aw);
		r = vjson_check_keys(a, aw, akeys, e);
		if (r < 0)
			return r;
		r = vjson_get_int(a, aw, "index", 0, 5, &index, e);
		if (r < 0)
			return r == -ENOENT ? err_at(e, -EINVAL, "'%s.index': missing", aw) : r;
		r = vjson_get_string(a, aw, "op", 32, &op, e);
		if (r < 0)
			return r == -ENOENT ? err_at(e, -EINVAL, "'%s.op': missing", aw) : r;
		if (op_of(op, &cop) < 0)
			return err_at(e, -EINVAL, "'%s.op': unknown operator '%s'", aw, op);
		v = json_object_get(a, "value");
		v2 = json_object_get(a, "valueTwo");
		if (!v || !json_is_integer(v) || (v2 && !json_is_integer(v2)))
			return err_at(e, -EINVAL, "'%s.value': expected an integer", aw);
		cmps[n_cmps++] = (struct scmp_arg_cmp){ (unsigned int)index, cop,
							(scmp_datum_t)json_integer_value(v),
							v2 ? (scmp_datum_t)json_integer_value(v2) : 0 };
	}
	if (action == def_action)
		return 0;	/* libseccomp refuses a rule equal to the default */
	json_array_foreach(names, i, n) {
		int nr;

		if (!json_is_string(n) || json_string_length(n) > 64)
			return err_at(e, -EINVAL, "'%s.names[%zu]': expected a syscall name", where, i);
		nr = seccomp_syscall_resolve_name(json_string_value(n));
		if (nr == __NR_SCMP_ERROR)
			continue;	/* not a syscall on this architecture */
		r = seccomp_rule_add_array(ctx, action, nr, n_cmps, cmps);
		if (r < 0)
			return err_at(e, r, "'%s.names[%zu]': libseccomp refused the rule for '%s': %s",
				      where, i, json_string_value(n), strerror(-r));
	}
	return 0;
}

int launcher_seccomp_build(json_t *sc, void **ret_ctx, struct vjson_err *e)
{
	static const char *const keys[] = { "defaultAction", "defaultErrnoRet", "architectures",
					    "flags", "syscalls", "listenerPath", "listenerMetadata",
					    NULL };
	json_t *arr = NULL, *v;
	const char *def;
	uint32_t def_action, eret;
	scmp_filter_ctx ctx;
	size_t i;
	int r;

	r = vjson_check_keys(sc, "linux.seccomp", keys, e);
	if (r < 0)
		return r;
	if (json_object_get(sc, "listenerPath"))
		return err_at(e, -EOPNOTSUPP, "'linux.seccomp.listenerPath': not supported by veil");
	r = vjson_get_string(sc, "linux.seccomp", "defaultAction", 32, &def, e);
	if (r < 0)
		return r == -ENOENT ? err_at(e, -EINVAL, "'linux.seccomp.defaultAction': missing") : r;
	r = errno_ret_of(sc, "linux.seccomp", EPERM, &eret, e);
	if (r < 0)
		return r;
	if (action_of(def, eret, &def_action) < 0)
		return err_at(e, -EOPNOTSUPP, "'linux.seccomp.defaultAction': '%s' is not supported",
			      def);
	ctx = seccomp_init(def_action);
	if (!ctx)
		return -ENOMEM;
	/* no_new_privs is the bundle's decision (process.noNewPrivileges), not libseccomp's. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		goto fail;
	r = vjson_get_array_opt(sc, "linux.seccomp", "architectures", 16, &arr, e);
	if (r < 0)
		goto fail;
	json_array_foreach(arr, i, v) {
		char low[32];
		const char *s;
		uint32_t arch;
		size_t k;

		if (!json_is_string(v) || strncmp(json_string_value(v), "SCMP_ARCH_", 10) ||
		    json_string_length(v) >= sizeof(low) + 10) {
			r = err_at(e, -EINVAL, "'linux.seccomp.architectures[%zu]': expected SCMP_ARCH_*", i);
			goto fail;
		}
		s = json_string_value(v) + 10;
		for (k = 0; s[k]; k++)
			low[k] = (char)tolower((unsigned char)s[k]);
		low[k] = '\0';
		arch = seccomp_arch_resolve_name(low);
		if (!arch) {
			r = err_at(e, -EINVAL, "'linux.seccomp.architectures[%zu]': unknown '%s'", i,
				   json_string_value(v));
			goto fail;
		}
		r = seccomp_arch_add(ctx, arch);
		if (r < 0 && r != -EEXIST) {
			r = err_at(e, r, "'linux.seccomp.architectures[%zu]': %s", i, strerror(-r));
			goto fail;
		}
	}
	arr = NULL;
	r = vjson_get_array_opt(sc, "linux.seccomp", "flags", 8, &arr, e);
	if (r < 0)
		goto fail;
	json_array_foreach(arr, i, v) {
		const char *f = json_is_string(v) ? json_string_value(v) : "";

		if (!strcmp(f, "SECCOMP_FILTER_FLAG_LOG"))
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
		else if (!strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
		else {
			r = err_at(e, -EOPNOTSUPP, "'linux.seccomp.flags[%zu]': not supported", i);
			goto fail;
		}
		if (r < 0) {
			r = err_at(e, r, "'linux.seccomp.flags[%zu]': %s", i, strerror(-r));
			goto fail;
		}
	}
	arr = NULL;
	r = vjson_get_array_opt(sc, "linux.seccomp", "syscalls", SECCOMP_SYSCALLS_MAX, &arr, e);
	if (r < 0)
		goto fail;
	json_array_foreach(arr, i, v) {
		r = add_rule(ctx, v, i, def_action, e);
		if (r < 0)
			goto fail;
	}
	*ret_ctx = ctx;
	return 0;
fail:
	seccomp_release(ctx);
	return r;
}

void launcher_seccomp_free(void *ctx)
{
	if (ctx)
		seccomp_release(ctx);
}

int launcher_seccomp_load(void *ctx)
{
	return seccomp_load(ctx);
}
