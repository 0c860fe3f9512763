// SPDX-License-Identifier: GPL-2.0-only
#include "lib/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int vjson_fail(struct vjson_err *e, int err, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}

const char *vjson_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

static int depth_of(const json_t *v, int limit)
{
	int max = 0, d;
	const char *k;
	json_t *c;
	size_t i;

	if (limit < 0)
		return 1;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, c) {
			d = depth_of(c, limit - 1);
			if (d > max)
				max = d;
			if (max > limit)
				break;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c) {
			d = depth_of(c, limit - 1);
			if (d > max)
				max = d;
			if (max > limit)
				break;
		}
	} else {
		return 0;
	}
	return max + 1;
}

int vjson_parse(const char *buf, size_t len, size_t max_size, int max_depth, json_t **ret,
		struct vjson_err *e)
{
	json_error_t jerr;
	json_t *v;

	if (len > max_size)
		return vjson_fail(e, -E2BIG, "document of %zu bytes exceeds the limit of %zu", len, max_size);
	if (max_depth <= 0)
		max_depth = VJSON_DEPTH_DEFAULT;
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v)
		return vjson_fail(e, -EINVAL, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	if (depth_of(v, max_depth) > max_depth) {
		json_decref(v);
		return vjson_fail(e, -EINVAL, "nesting deeper than %d levels", max_depth);
	}
	*ret = v;
	return 0;
}

static void join(char *out, size_t n, const char *where, const char *key)
{
	if (where && *where)
		snprintf(out, n, "%s.%s", where, key);
	else
		snprintf(out, n, "%s", key);
}

int vjson_check_keys(const json_t *obj, const char *where, const char *const *allowed,
		     struct vjson_err *e)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return vjson_fail(e, -EINVAL, "'%s': expected an object, got %s", where && *where ? where : "(root)",
			    vjson_type_name(obj));
	json_object_foreach((json_t *)obj, k, v) {
		bool ok = false;

		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, k) == 0) {
				ok = true;
				break;
			}
		if (!ok) {
			char path[200];

			join(path, sizeof(path), where, k);
			return vjson_fail(e, -EINVAL, "'%.200s': unknown field", path);
		}
	}
	return 0;
}

/* Looks up key; 1 when found, 0 when absent and optional, <0 on error. */
static int lookup(const json_t *obj, const char *where, const char *key, bool optional,
		  json_t **ret, char *path, size_t path_len, struct vjson_err *e)
{
	json_t *v;

	join(path, path_len, where, key);
	if (!json_is_object(obj))
		return vjson_fail(e, -EINVAL, "'%s': expected an object, got %s",
			    where && *where ? where : "(root)", vjson_type_name(obj));
	v = json_object_get(obj, key);
	if (!v)
		return optional ? 0 : vjson_fail(e, -ENOENT, "'%s': required field is missing", path);
	*ret = v;
	return 1;
}

static int get_string(const json_t *obj, const char *where, const char *key, size_t max_len,
		      bool optional, const char **ret, struct vjson_err *e)
{
	char path[200];
	json_t *v;
	size_t len;
	int r;

	r = lookup(obj, where, key, optional, &v, path, sizeof(path), e);
	if (r <= 0)
		return r;
	if (!json_is_string(v))
		return vjson_fail(e, -EINVAL, "'%s': expected a string, got %s", path, vjson_type_name(v));
	len = json_string_length(v);
	if (len > max_len)
		return vjson_fail(e, -EINVAL, "'%s': string of %zu bytes exceeds the limit of %zu", path, len,
			    max_len);
	if (strlen(json_string_value(v)) != len)
		return vjson_fail(e, -EINVAL, "'%s': string contains a NUL byte", path);
	*ret = json_string_value(v);
	return 0;
}

int vjson_get_string(const json_t *obj, const char *where, const char *key, size_t max_len,
		     const char **ret, struct vjson_err *e)
{
	return get_string(obj, where, key, max_len, false, ret, e);
}

int vjson_get_string_opt(const json_t *obj, const char *where, const char *key, size_t max_len,
			 const char **ret, struct vjson_err *e)
{
	return get_string(obj, where, key, max_len, true, ret, e);
}

static int get_int(const json_t *obj, const char *where, const char *key, int64_t min, int64_t max,
		   bool optional, int64_t *ret, struct vjson_err *e)
{
	char path[200];
	json_int_t i;
	json_t *v;
	int r;

	r = lookup(obj, where, key, optional, &v, path, sizeof(path), e);
	if (r <= 0)
		return r;
	if (!json_is_integer(v))
		return vjson_fail(e, -EINVAL, "'%s': expected an integer, got %s", path, vjson_type_name(v));
	i = json_integer_value(v);
	if (i < min || i > max)
		return vjson_fail(e, -EINVAL, "'%s': %lld is outside [%lld, %lld]", path, (long long)i,
			    (long long)min, (long long)max);
	*ret = i;
	return 0;
}

int vjson_get_int(const json_t *obj, const char *where, const char *key, int64_t min, int64_t max,
		  int64_t *ret, struct vjson_err *e)
{
	return get_int(obj, where, key, min, max, false, ret, e);
}

int vjson_get_int_opt(const json_t *obj, const char *where, const char *key, int64_t min,
		      int64_t max, int64_t *ret, struct vjson_err *e)
{
	return get_int(obj, where, key, min, max, true, ret, e);
}

static int get_bool(const json_t *obj, const char *where, const char *key, bool optional,
		    bool *ret, struct vjson_err *e)
{
	char path[200];
	json_t *v;
	int r;

	r = lookup(obj, where, key, optional, &v, path, sizeof(path), e);
	if (r <= 0)
		return r;
	if (!json_is_boolean(v))
		return vjson_fail(e, -EINVAL, "'%s': expected a boolean, got %s", path, vjson_type_name(v));
	*ret = json_is_true(v);
	return 0;
}

int vjson_get_bool(const json_t *obj, const char *where, const char *key, bool *ret,
		   struct vjson_err *e)
{
	return get_bool(obj, where, key, false, ret, e);
}

int vjson_get_bool_opt(const json_t *obj, const char *where, const char *key, bool *ret,
		       struct vjson_err *e)
{
	return get_bool(obj, where, key, true, ret, e);
}

static int get_container(const json_t *obj, const char *where, const char *key, bool optional,
			 json_type type, size_t max_items, json_t **ret, struct vjson_err *e)
{
	char path[200];
	json_t *v;
	int r;

	r = lookup(obj, where, key, optional, &v, path, sizeof(path), e);
	if (r <= 0)
		return r;
	if (json_typeof(v) != type)
		return vjson_fail(e, -EINVAL, "'%s': expected %s, got %s", path,
			    type == JSON_OBJECT ? "an object" : "an array", vjson_type_name(v));
	if (type == JSON_ARRAY && json_array_size(v) > max_items)
		return vjson_fail(e, -EINVAL, "'%s': %zu items exceed the limit of %zu", path,
			    json_array_size(v), max_items);
	*ret = v;
	return 0;
}

int vjson_get_object(const json_t *obj, const char *where, const char *key, json_t **ret,
		     struct vjson_err *e)
{
	return get_container(obj, where, key, false, JSON_OBJECT, 0, ret, e);
}

int vjson_get_object_opt(const json_t *obj, const char *where, const char *key, json_t **ret,
			 struct vjson_err *e)
{
	return get_container(obj, where, key, true, JSON_OBJECT, 0, ret, e);
}

int vjson_get_array(const json_t *obj, const char *where, const char *key, size_t max_items,
		    json_t **ret, struct vjson_err *e)
{
	return get_container(obj, where, key, false, JSON_ARRAY, max_items, ret, e);
}

int vjson_get_array_opt(const json_t *obj, const char *where, const char *key, size_t max_items,
			json_t **ret, struct vjson_err *e)
{
	return get_container(obj, where, key, true, JSON_ARRAY, max_items, ret, e);
}
