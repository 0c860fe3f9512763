// SPDX-License-Identifier: GPL-2.0-only
#include "kbs/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/json.h"

static int set_str(char **dst, const json_t *o, const char *where, const char *key,
		   struct vjson_err *e)
{
	const char *s = NULL;
	int r = vjson_get_string_opt(o, where, key, 4096, &s, e);

	if (r < 0 || !s)
		return r;
	free(*dst);
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int load_admin(struct kbs_admin *a, const json_t *o, char *err, size_t err_len)
{
	static const char *const keys[] = { "mode", "public_key", "roles", "issuer", NULL };
	const char *mode = "authenticated", *pk = NULL, *iss = NULL;
	struct vjson_err e;
	json_t *roles = NULL, *v;
	size_t i;
	int r;

	if (vjson_check_keys(o, "admin", keys, &e) < 0 ||
	    vjson_get_string_opt(o, "admin", "mode", 32, &mode, &e) < 0 ||
	    vjson_get_string_opt(o, "admin", "public_key", 4096, &pk, &e) < 0 ||
	    vjson_get_string_opt(o, "admin", "issuer", 256, &iss, &e) < 0 ||
	    vjson_get_array_opt(o, "admin", "roles", KBS_ADMIN_ROLES_MAX, &roles, &e) < 0) {
		snprintf(err, err_len, "%s", e.msg);
		return -EINVAL;
	}
	if (strcmp(mode, "authenticated") == 0) {
		a->mode = KBS_ADMIN_AUTHENTICATED;
	} else if (strcmp(mode, "deny_all") == 0) {
		a->mode = KBS_ADMIN_DENY_ALL;
	} else if (strcmp(mode, "insecure_allow_all") == 0) {
		a->mode = KBS_ADMIN_INSECURE_ALLOW_ALL;
	} else {
		snprintf(err, err_len, "'admin.mode': '%.32s' is not authenticated, deny_all or insecure_allow_all",
			 mode);
		return -EINVAL;
	}
	if (a->mode == KBS_ADMIN_AUTHENTICATED) {
		if (!pk) {
			snprintf(err, err_len, "'admin.public_key' is required in authenticated mode");
			return -EINVAL;
		}
		r = kbs_admin_load_key(pk, &a->key);
		if (r < 0) {
			snprintf(err, err_len, "'admin.public_key': '%s' is not an Ed25519 PEM key: %s", pk,
				 strerror(-r));
			return -EINVAL;
		}
	}
	if (iss && !(a->issuer = strdup(iss)))
		return -ENOMEM;
	if (!roles) {
		a->roles[0] = strdup("admin");
		a->n_roles = 1;
		return a->roles[0] ? 0 : -ENOMEM;
	}
	json_array_foreach(roles, i, v) {
		if (!json_is_string(v)) {
			snprintf(err, err_len, "'admin.roles[%zu]': expected a string", i);
			return -EINVAL;
		}
		a->roles[a->n_roles] = strdup(json_string_value(v));
		if (!a->roles[a->n_roles++])
			return -ENOMEM;
	}
	return 0;
}

static int bad(const char *path, const struct vjson_err *e, char *err, size_t err_len)
{
	snprintf(err, err_len, "'%s': %s", path, e->msg[0] ? e->msg : "expected a JSON object");
	return -EINVAL;
}

int kbs_config_load(const char *path, struct kbs_config *c, char *err, size_t err_len)
{
	static const char *const keys[] = { "listen", "insecure_http", "tls", "state_dir",
					    "session_timeout", "token", "admin", "spec_status",
					    "threads", "max_sessions", "max_connections", "trust_dir",
					    NULL };
	static const char *const tls_keys[] = { "certificate", "private_key", NULL };
	static const char *const tok_keys[] = { "signer_key", "cert_chain", "lifetime", NULL };
	_cleanup_free_ char *text = NULL;
	_cleanup_(json_decrefp) json_t *o = NULL;
	json_t *tls = NULL, *tok = NULL, *adm = NULL;
	struct vjson_err e = { "" };
	int64_t n;
	size_t len;
	int r;

	memset(c, 0, sizeof(*c));
	c->listen = strdup("127.0.0.1:8080");
	c->state_dir = strdup("/var/lib/veil-kbs");
	c->session_timeout = 300;
	c->token_lifetime = 300;
	c->max_sessions = 100000;
	c->max_connections = 1024;
	c->admin.mode = KBS_ADMIN_DENY_ALL;
	if (!c->listen || !c->state_dir)
		return -ENOMEM;
	if (!path)
		return 0;
	r = fd_read_file(path, KBS_CONFIG_MAX, &text, &len);
	if (r < 0) {
		snprintf(err, err_len, "Failed to read '%s': %s", path, strerror(-r));
		return r;
	}
	if (vjson_parse(text, len, KBS_CONFIG_MAX, 8, &o, &e) < 0 || !json_is_object(o) ||
	    vjson_check_keys(o, "", keys, &e) < 0 ||
	    set_str(&c->listen, o, "", "listen", &e) < 0 ||
	    vjson_get_bool_opt(o, "", "insecure_http", &c->insecure_http, &e) < 0 ||
	    vjson_get_bool_opt(o, "", "spec_status", &c->spec_status, &e) < 0 ||
	    set_str(&c->state_dir, o, "", "state_dir", &e) < 0 ||
	    set_str(&c->trust_dir, o, "", "trust_dir", &e) < 0 ||
	    vjson_get_int_opt(o, "", "session_timeout", 1, 86400, &c->session_timeout, &e) < 0 ||
	    vjson_get_object_opt(o, "", "tls", &tls, &e) < 0 ||
	    vjson_get_object_opt(o, "", "token", &tok, &e) < 0 ||
	    vjson_get_object_opt(o, "", "admin", &adm, &e) < 0)
		return bad(path, &e, err, err_len);
	n = c->threads;
	if (vjson_get_int_opt(o, "", "threads", 0, 256, &n, &e) < 0)
		return bad(path, &e, err, err_len);
	c->threads = (unsigned int)n;
	n = (int64_t)c->max_sessions;
	if (vjson_get_int_opt(o, "", "max_sessions", 1, 10000000, &n, &e) < 0)
		return bad(path, &e, err, err_len);
	c->max_sessions = (size_t)n;
	n = (int64_t)c->max_connections;
	if (vjson_get_int_opt(o, "", "max_connections", 1, 65536, &n, &e) < 0)
		return bad(path, &e, err, err_len);
	c->max_connections = (size_t)n;
	if (tls && (vjson_check_keys(tls, "tls", tls_keys, &e) < 0 ||
		    set_str(&c->tls_cert, tls, "tls", "certificate", &e) < 0 ||
		    set_str(&c->tls_key, tls, "tls", "private_key", &e) < 0))
		return bad(path, &e, err, err_len);
	if (tok && (vjson_check_keys(tok, "token", tok_keys, &e) < 0 ||
		    set_str(&c->token_key, tok, "token", "signer_key", &e) < 0 ||
		    set_str(&c->token_chain, tok, "token", "cert_chain", &e) < 0 ||
		    vjson_get_int_opt(tok, "token", "lifetime", 1, 86400, &c->token_lifetime, &e) < 0))
		return bad(path, &e, err, err_len);
	if (adm && (r = load_admin(&c->admin, adm, err, err_len)) < 0)
		return r;
	return 0;
}

void kbs_config_done(struct kbs_config *c)
{
	free(c->listen);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->state_dir);
	free(c->token_key);
	free(c->token_chain);
	free(c->trust_dir);
	kbs_admin_done(&c->admin);
	memset(c, 0, sizeof(*c));
}
