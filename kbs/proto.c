// SPDX-License-Identifier: GPL-2.0-only
#include "kbs/proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/errbuf.h"
#include "lib/json.h"

/* every reason is a bad request: -EINVAL */
#define fail(err, len, ...) errbuf_set(err, len, -EINVAL, __VA_ARGS__)

static const char *const tees[] = {
	"az-snp-vtpm", "az-tdx-vtpm", "nvidia", "sgx", "snp", "tdx", "cca", "csv", "se",
	"hygondcu", "tpm", "sample", "sampledevice",
};

int kbs_tee_known(const char *tee)
{
	for (size_t i = 0; i < ARRAY_SIZE(tees); i++)
		if (strcmp(tee, tees[i]) == 0)
			return 1;
	return 0;
}

static int parse_object(const char *body, size_t len, json_t **ret, char *err, size_t err_len)
{
	struct vjson_err e;

	if (vjson_parse(body, len, KBS_BODY_MAX, VJSON_DEPTH_DEFAULT, ret, &e) < 0)
		return fail(err, err_len, "%s", e.msg);
	if (!json_is_object(*ret)) {
		json_decref(*ret);
		return fail(err, err_len, "the body is not a JSON object");
	}
	return 0;
}

int kbs_parse_auth(const char *body, size_t len, struct kbs_auth_request *ret, char *err,
		   size_t err_len)
{
	const char *version, *tee;
	struct vjson_err e;
	json_t *o;
	int r;

	r = parse_object(body, len, &o, err, err_len);
	if (r < 0)
		return r;
	r = -EINVAL;
	if (vjson_get_string(o, "", "version", 64, &version, &e) < 0 ||
	    vjson_get_string(o, "", "tee", 64, &tee, &e) < 0) {
		fail(err, err_len, "%s", e.msg);
		goto out;
	}
	if (!json_object_get(o, "extra-params")) {
		fail(err, err_len, "missing field `extra-params`");
		goto out;
	}
	if (!kbs_tee_known(tee)) {
		fail(err, err_len, "unknown variant `%.64s`", tee);
		goto out;
	}
	if (strcmp(version, KBS_PROTOCOL_VERSION) != 0) {
		fail(err, err_len,
		     "KBS Client Protocol Version Mismatch: expect =" KBS_PROTOCOL_VERSION
		     " while the request is %.64s", version);
		goto out;
	}
	snprintf(ret->tee, sizeof(ret->tee), "%s", tee);
	r = 0;
out:
	json_decref(o);
	return r;
}

int kbs_parse_attestation(const char *body, size_t len, struct kbs_attestation *ret, char *err,
			  size_t err_len)
{
	json_t *o, *rt, *te, *id;
	struct vjson_err e;
	const char *fmt;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = parse_object(body, len, &o, err, err_len);
	if (r < 0)
		return r;
	r = -EINVAL;
	if (vjson_get_object(o, "", "runtime-data", &rt, &e) < 0 ||
	    vjson_get_string(rt, "runtime-data", "nonce", 128, &ret->nonce, &e) < 0 ||
	    vjson_get_object(rt, "runtime-data", "tee-pubkey", &ret->tee_pubkey, &e) < 0 ||
	    vjson_get_object(o, "", "tee-evidence", &te, &e) < 0 ||
	    vjson_get_string(te, "tee-evidence", "additional_evidence", KBS_BODY_MAX,
			     &ret->additional_evidence, &e) < 0) {
		fail(err, err_len, "%s", e.msg);
		goto out;
	}
	ret->primary_evidence = json_object_get(te, "primary_evidence");
	if (!ret->primary_evidence) {
		fail(err, err_len, "'tee-evidence.primary_evidence' is missing");
		goto out;
	}
	id = json_object_get(o, "init-data");
	if (id && !json_is_null(id)) {
		if (!json_is_object(id) ||
		    vjson_get_string(id, "init-data", "format", 32, &fmt, &e) < 0 ||
		    vjson_get_string(id, "init-data", "body", 256 << 10, &ret->init_data_toml, &e) < 0) {
			fail(err, err_len, "%s", json_is_object(id) ? e.msg : "'init-data': expected an object");
			goto out;
		}
		if (strcmp(fmt, "toml") != 0) {
			fail(err, err_len, "'init-data.format' '%.32s' is not toml", fmt);
			goto out;
		}
	}
	ret->root = o;
	return 0;
out:
	json_decref(o);
	memset(ret, 0, sizeof(*ret));
	return r;
}

void kbs_attestation_done(struct kbs_attestation *a)
{
	json_decref(a->root);
	memset(a, 0, sizeof(*a));
}

int kbs_parse_policy_upload(const char *body, size_t len, char **ret_policy, size_t *ret_len,
			    char **ret_id, char *err, size_t err_len)
{
	const char *p, *id = NULL;
	struct vjson_err e;
	uint8_t *raw;
	size_t n;
	json_t *o;
	int r;

	r = parse_object(body, len, &o, err, err_len);
	if (r < 0)
		return r;
	r = -EINVAL;
	if (vjson_get_string(o, "", "policy", KBS_BODY_MAX, &p, &e) < 0 ||
	    vjson_get_string_opt(o, "", "policy_id", 64, &id, &e) < 0) {
		fail(err, err_len, "%s", e.msg);
		goto out;
	}
	if (b64url_decode(p, strlen(p), &raw, &n) < 0) {
		fail(err, err_len, "'policy' is not unpadded base64url");
		goto out;
	}
	if (ret_id) {
		*ret_id = id ? strdup(id) : NULL;
		if (id && !*ret_id) {
			free(raw);
			r = -ENOMEM;
			goto out;
		}
	}
	*ret_policy = (char *)raw;
	*ret_len = n;
	r = 0;
out:
	json_decref(o);
	return r;
}
