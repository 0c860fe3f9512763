/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bounded JSON over jansson: a size cap and a depth cap at parse time,
 * duplicate keys refused, and typed getters whose errors name the field
 * ("'kbs.url': expected a string, got an integer").
 */
#ifndef VEIL_LIB_JSON_H
#define VEIL_LIB_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VJSON_DEPTH_DEFAULT 32

struct vjson_err {
	char msg[256];
};

/* Parses exactly len bytes; returns 0 or -EINVAL/-E2BIG/-ENOMEM with e->msg set. */
int vjson_parse(const char *buf, size_t len, size_t max_size, int max_depth, json_t **ret,
		struct vjson_err *e);

/* Every key of obj must be in allowed (NULL-terminated). */
int vjson_check_keys(const json_t *obj, const char *where, const char *const *allowed,
		     struct vjson_err *e);

/*
 * Getters: `where` is the path of obj ("" for the root), `key` the member.
 * The _opt variants return 0 and leave *ret alone when the key is absent;
 * the others return -ENOENT. A value of the wrong type or out of range is
 * -EINVAL. Strings are returned borrowed from obj, NUL-free, at most max_len.
 */
int vjson_get_string(const json_t *obj, const char *where, const char *key, size_t max_len,
		     const char **ret, struct vjson_err *e);
int vjson_get_string_opt(const json_t *obj, const char *where, const char *key, size_t max_len,
			 const char **ret, struct vjson_err *e);
int vjson_get_int(const json_t *obj, const char *where, const char *key, int64_t min, int64_t max,
		  int64_t *ret, struct vjson_err *e);
int vjson_get_int_opt(const json_t *obj, const char *where, const char *key, int64_t min,
		      int64_t max, int64_t *ret, struct vjson_err *e);
int vjson_get_bool(const json_t *obj, const char *where, const char *key, bool *ret,
		   struct vjson_err *e);
int vjson_get_bool_opt(const json_t *obj, const char *where, const char *key, bool *ret,
		       struct vjson_err *e);
/* Borrowed object / array (array at most max_items long). */
int vjson_get_object(const json_t *obj, const char *where, const char *key, json_t **ret,
		     struct vjson_err *e);
int vjson_get_object_opt(const json_t *obj, const char *where, const char *key, json_t **ret,
			 struct vjson_err *e);
int vjson_get_array(const json_t *obj, const char *where, const char *key, size_t max_items,
		    json_t **ret, struct vjson_err *e);
int vjson_get_array_opt(const json_t *obj, const char *where, const char *key, size_t max_items,
			json_t **ret, struct vjson_err *e);

/* Fills e->msg (when e is not NULL) and returns err: the one formatter parsers share. */
int vjson_fail(struct vjson_err *e, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *vjson_type_name(const json_t *v);

#endif
