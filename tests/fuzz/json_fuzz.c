// SPDX-License-Identifier: GPL-2.0-only
/* The bounded parser and the typed getters over arbitrary documents. */
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const allowed[] = { "a", "b", "c", NULL };
	struct vjson_err e;
	const char *s;
	int64_t i;
	bool b;
	json_t *v, *o = NULL;

	if (vjson_parse((const char *)data, size, 64 * 1024, 16, &v, &e) < 0)
		return 0;
	vjson_check_keys(v, "", allowed, &e);
	vjson_get_string_opt(v, "", "a", 64, &s, &e);
	vjson_get_int_opt(v, "", "b", -5, 5, &i, &e);
	vjson_get_bool_opt(v, "", "c", &b, &e);
	if (vjson_get_object_opt(v, "", "d", &o, &e) == 0 && o)
		vjson_get_string_opt(o, "d", "a", 8, &s, &e);
	vjson_get_array_opt(v, "", "e", 4, &o, &e);
	json_decref(v);
	return 0;
}
