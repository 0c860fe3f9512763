// SPDX-License-Identifier: GPL-2.0-only
#include "kbs/policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kbs/proto.h"
#include "kbs/resource.h"
#include "lib/cleanup.h"
#include "lib/errbuf.h"
#include "lib/json.h"

struct kbs_policy {
	enum kbs_policy_kind kind;
	json_t *rules;	/* validated array */
};

static const char *const statuses[] = { "affirming", "warning", "contraindicated", "none", NULL };

/* every reason is a bad request: -EINVAL */
#define fail(err, len, ...) errbuf_set(err, len, -EINVAL, __VA_ARGS__)

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static int check_string_array(const json_t *a, const char *where, const char *const *allowed,
			      bool tee, char *err, size_t err_len)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return fail(err, err_len, "%s: expected a non-empty array of strings", where);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return fail(err, err_len, "%s[%zu]: expected a string, got %s", where, i,
				    vjson_type_name(v));
		if (allowed && !in_list(json_string_value(v), allowed))
			return fail(err, err_len, "%s[%zu]: '%.64s' is not one of the allowed values",
				    where, i, json_string_value(v));
		if (tee && !kbs_tee_known(json_string_value(v)))
			return fail(err, err_len, "%s[%zu]: '%.64s' is not a TEE name", where, i,
				    json_string_value(v));
	}
	return 0;
}

static int check_pattern(const char *pat, const char *where, char *err, size_t err_len)
{
	const char *p = pat;

	for (int i = 0; i < 3; i++) {
		const char *end = i < 2 ? strchr(p, '/') : p + strlen(p);
		size_t n;

		if (!end)
			return fail(err, err_len, "%s: '%.200s' is not REPO/TYPE/TAG", where, pat);
		n = (size_t)(end - p);
		if (!(n == 1 && *p == '*') && !kbs_segment_valid(p, n))
			return fail(err, err_len,
				    "%s: segment %d of '%.200s' is neither '*' nor [A-Za-z0-9_-][A-Za-z0-9_.-]*",
				    where, i + 1, pat);
		p = end + 1;
	}
	return 0;
}

static const char *const ops[] = { "equals", "one_of", "min", "max", "contains_all", "bits_set",
				   "bits_clear", "present", NULL };

static int check_condition(const char *claim, const json_t *c, const char *where, char *err,
			   size_t err_len)
{
	const char *op;
	json_t *v;

	if (strlen(claim) == 0 || strlen(claim) > 256 || claim[0] == '.' ||
	    claim[strlen(claim) - 1] == '.' || strstr(claim, ".."))
		return fail(err, err_len, "%s: '%.64s' is not a dotted claim path", where, claim);
	if (json_is_array(c)) {
		if (json_array_size(c) == 0)
			return fail(err, err_len, "%s.%s: an empty list matches nothing", where, claim);
		return 0;
	}
	if (!json_is_object(c))
		return 0;	/* a scalar: equality */
	if (json_object_size(c) == 0)
		return fail(err, err_len, "%s.%s: an empty condition", where, claim);
	json_object_foreach((json_t *)c, op, v) {
		if (!in_list(op, ops))
			return fail(err, err_len,
				    "%s.%s: unknown operator '%.32s' (equals, one_of, min, max, contains_all, bits_set, bits_clear, present)",
				    where, claim, op);
		if ((strcmp(op, "one_of") == 0 || strcmp(op, "contains_all") == 0) &&
		    (!json_is_array(v) || json_array_size(v) == 0))
			return fail(err, err_len, "%s.%s.%s: expected a non-empty array", where, claim, op);
		if ((strcmp(op, "min") == 0 || strcmp(op, "max") == 0 || strncmp(op, "bits_", 5) == 0) &&
		    !json_is_integer(v))
			return fail(err, err_len, "%s.%s.%s: expected an integer, got %s", where, claim, op,
				    vjson_type_name(v));
		if (strcmp(op, "present") == 0 && !json_is_boolean(v))
			return fail(err, err_len, "%s.%s.present: expected a boolean", where, claim);
		if (strcmp(op, "equals") == 0 && (json_is_object(v) || json_is_array(v)))
			return fail(err, err_len, "%s.%s.equals: expected a scalar", where, claim);
	}
	return 0;
}

static int check_rule(const json_t *rule, size_t idx, enum kbs_policy_kind kind, char *err,
		      size_t err_len)
{
	static const char *const res_keys[] = { "name", "resources", "tee", "status", "claims", NULL };
	static const char *const app_keys[] = { "name", "tee", "claims", NULL };
	char where[96];
	const char *name = NULL, *k;
	struct vjson_err e;
	json_t *v, *c;
	size_t i;
	int r;

	snprintf(where, sizeof(where), "rules[%zu]", idx);
	if (!json_is_object(rule))
		return fail(err, err_len, "%s: expected an object", where);
	if (vjson_check_keys(rule, where, kind == KBS_POLICY_RESOURCE ? res_keys : app_keys, &e) < 0 ||
	    vjson_get_string_opt(rule, where, "name", 128, &name, &e) < 0)
		return fail(err, err_len, "%s", e.msg);
	if (name)
		snprintf(where, sizeof(where), "rules[%zu] '%.64s'", idx, name);
	if (kind == KBS_POLICY_RESOURCE) {
		v = json_object_get(rule, "resources");
		if (!v)
			return fail(err, err_len, "%s: 'resources' is missing", where);
		r = check_string_array(v, where, NULL, false, err, err_len);
		if (r < 0)
			return r;
		json_array_foreach(v, i, c) {
			r = check_pattern(json_string_value(c), where, err, err_len);
			if (r < 0)
				return r;
		}
		v = json_object_get(rule, "status");
		if (v && (r = check_string_array(v, where, statuses, false, err, err_len)) < 0)
			return r;
	}
	v = json_object_get(rule, "tee");
	if (v && (r = check_string_array(v, where, NULL, true, err, err_len)) < 0)
		return r;
	v = json_object_get(rule, "claims");
	if (v) {
		if (!json_is_object(v))
			return fail(err, err_len, "%s.claims: expected an object", where);
		json_object_foreach(v, k, c) {
			r = check_condition(k, c, where, err, err_len);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int kbs_policy_parse(const char *text, size_t len, enum kbs_policy_kind kind,
		     struct kbs_policy **ret, char *err, size_t err_len)
{
	static const char *const top[] = { "version", "rules", NULL };
	struct kbs_policy *p;
	struct vjson_err e;
	json_t *o, *rules, *rule;
	int64_t version;
	size_t i;
	int r;

	if (vjson_parse(text, len, KBS_POLICY_MAX, 16, &o, &e) < 0)
		return fail(err, err_len, "policy is not JSON: %s", e.msg);
	r = -EINVAL;
	if (!json_is_object(o)) {
		fail(err, err_len, "policy: expected an object");
		goto out;
	}
	if (vjson_check_keys(o, "policy", top, &e) < 0 ||
	    vjson_get_int(o, "policy", "version", 1, 1, &version, &e) < 0 ||
	    vjson_get_array(o, "policy", "rules", KBS_POLICY_RULES_MAX, &rules, &e) < 0) {
		fail(err, err_len, "%s", e.msg);
		goto out;
	}
	json_array_foreach(rules, i, rule)
		if (check_rule(rule, i, kind, err, err_len) < 0)
			goto out;
	p = calloc(1, sizeof(*p));
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	p->kind = kind;
	p->rules = json_incref(rules);
	*ret = p;
	r = 0;
out:
	json_decref(o);
	return r;
}

void kbs_policy_free(struct kbs_policy *p)
{
	if (!p)
		return;
	json_decref(p->rules);
	free(p);
}

/* Follows a dotted path: object members, or array indexes for digits. */
static const json_t *lookup(const json_t *root, const char *path)
{
	char seg[257];
	const char *p = path;

	while (root && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, p, n);
		seg[n] = 0;
		if (json_is_array(root) && n && strspn(seg, "0123456789") == n)
			root = json_array_get(root, strtoul(seg, NULL, 10));
		else
			root = json_object_get(root, seg);
		p = dot ? dot + 1 : p + n;
	}
	return root;
}

/* Claims arrive as integers, bools, or (az-snp-vtpm) their string forms. */
static bool as_int(const json_t *v, int64_t *ret)
{
	const char *s;
	char *end;

	if (json_is_integer(v)) {
		*ret = json_integer_value(v);
		return true;
	}
	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	if (!*s)
		return false;
	errno = 0;
	*ret = strtoll(s, &end, 0);
	return !*end && !errno;
}

static bool scalar_equal(const json_t *want, const json_t *got)
{
	int64_t a, b;

	if (json_equal((json_t *)want, (json_t *)got))
		return true;
	if (json_is_string(want) && json_is_string(got))
		return strcasecmp(json_string_value(want), json_string_value(got)) == 0 &&
		       strspn(json_string_value(got), "0123456789abcdefABCDEF") ==
			       json_string_length(got);	/* hex digests in either case */
	if (json_is_boolean(want) && json_is_string(got))
		return strcmp(json_string_value(got), json_is_true(want) ? "true" : "false") == 0;
	if (json_is_integer(want) && as_int(got, &b))
		return as_int(want, &a) && a == b;
	return false;
}

static bool one_of(const json_t *list, const json_t *got)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (scalar_equal(v, got))
			return true;
	return false;
}

static bool condition_holds(const json_t *c, const json_t *got)
{
	const char *op;
	int64_t n;
	json_t *v;

	if (json_is_array(c))
		return got && one_of(c, got);
	if (!json_is_object(c))
		return got && scalar_equal(c, got);
	json_object_foreach((json_t *)c, op, v) {
		if (strcmp(op, "present") == 0) {
			if (json_is_true(v) != (got != NULL))
				return false;
			continue;
		}
		if (!got)
			return false;
		if (strcmp(op, "equals") == 0 && !scalar_equal(v, got))
			return false;
		if (strcmp(op, "one_of") == 0 && !one_of(v, got))
			return false;
		if (strcmp(op, "contains_all") == 0) {
			size_t i;
			json_t *w;

			if (!json_is_array(got))
				return false;
			json_array_foreach(v, i, w)
				if (!one_of(got, w))
					return false;
		}
		if (strcmp(op, "min") == 0 && (!as_int(got, &n) || n < json_integer_value(v)))
			return false;
		if (strcmp(op, "max") == 0 && (!as_int(got, &n) || n > json_integer_value(v)))
			return false;
		if (strcmp(op, "bits_set") == 0 &&
		    (!as_int(got, &n) || (n & json_integer_value(v)) != json_integer_value(v)))
			return false;
		if (strcmp(op, "bits_clear") == 0 && (!as_int(got, &n) || (n & json_integer_value(v))))
			return false;
	}
	return true;
}

static bool list_has(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

/* NULL when the rule holds, else what failed (written to buf). */
static const char *rule_fails(const json_t *rule, const char *tee, const char *status,
			      const json_t *evidence, char *buf, size_t len)
{
	const json_t *tees = json_object_get(rule, "tee"), *st = json_object_get(rule, "status");
	const char *claim;
	json_t *c;

	if (tees ? !list_has(tees, tee) : strcmp(tee, "sample") == 0) {
		snprintf(buf, len, "TEE '%s' is not admitted", tee);
		return buf;
	}
	if (st && (!status || !list_has(st, status))) {
		snprintf(buf, len, "token status '%s' is not admitted", status ? status : "(none)");
		return buf;
	}
	json_object_foreach(json_object_get(rule, "claims"), claim, c) {
		if (!condition_holds(c, lookup(evidence, claim))) {
			snprintf(buf, len, "claim '%.128s' does not satisfy the rule", claim);
			return buf;
		}
	}
	return NULL;
}

static const char *rule_name(const json_t *rule, size_t i, char *buf, size_t len)
{
	const char *n = json_string_value(json_object_get(rule, "name"));

	if (n)
		return n;
	snprintf(buf, len, "rules[%zu]", i);
	return buf;
}

int kbs_policy_allows(const struct kbs_policy *p, const char *path, const char *tee,
		      const char *status, const json_t *evidence, char *why, size_t why_len)
{
	char reason[256], nb[32];
	bool any = false;
	size_t i, j;
	json_t *rule, *pat;

	if (!p || p->kind != KBS_POLICY_RESOURCE) {
		snprintf(why, why_len, "no resource policy is set");
		return 0;
	}
	json_array_foreach(p->rules, i, rule) {
		bool match = false;

		json_array_foreach(json_object_get(rule, "resources"), j, pat)
			if (fnmatch(json_string_value(pat), path, FNM_PATHNAME) == 0)
				match = true;
		if (!match)
			continue;
		if (!rule_fails(rule, tee, status, evidence, reason, sizeof(reason))) {
			snprintf(why, why_len, "allowed by %s", rule_name(rule, i, nb, sizeof(nb)));
			return 1;
		}
		if (!any)
			snprintf(why, why_len, "%s: %s", rule_name(rule, i, nb, sizeof(nb)), reason);
		any = true;
	}
	if (!any)
		snprintf(why, why_len, "no rule names '%s'", path);
	return 0;
}

int kbs_policy_affirms(const struct kbs_policy *p, const char *tee, const json_t *evidence,
		       char *why, size_t why_len)
{
	char reason[256], nb[32];
	size_t i;
	json_t *rule;

	snprintf(why, why_len, "no appraisal rule holds");
	if (!p || p->kind != KBS_POLICY_APPRAISAL)
		return 0;
	json_array_foreach(p->rules, i, rule) {
		if (!rule_fails(rule, tee, NULL, evidence, reason, sizeof(reason))) {
			snprintf(why, why_len, "affirmed by %s", rule_name(rule, i, nb, sizeof(nb)));
			return 1;
		}
	}
	return 0;
}
