// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil kbs-admin: the model owner's side of veil-kbs's admin API.
 *
 *   veil kbs-admin keygen --private FILE --public FILE
 *   veil kbs-admin token --key FILE [--role ROLE] [--ttl SECONDS] [--issuer ISS]
 *   veil kbs-admin put-resource    CONN REPO/TYPE/TAG FILE|-
 *   veil kbs-admin delete-resource CONN REPO/TYPE/TAG
 *   veil kbs-admin set-policy      CONN [--attestation] FILE
 *   veil kbs-admin get-policy      CONN
 *   veil kbs-admin check-policy    [--attestation] FILE
 *
 * CONN is --url URL [--cacert PEM] and either --key FILE (a token is made
 * for each call, valid 5 minutes) or --token-file FILE. Secrets never go in
 * argv: keys and tokens are read from files, resources from a file or stdin.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/pem.h>

#include "attest/jwk.h"
#include "attest/jws.h"
#include "kbs/admin.h"
#include "kbs/policy.h"
#include "kbs/proto.h"
#include "kbs/resource.h"
#include "lib/base64.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"
#include "tools/veil.h"

struct opts {
	const char *url, *cacert, *key, *token_file, *role, *issuer, *priv, *pub;
	long ttl;
	bool attestation;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: veil kbs-admin keygen --private FILE --public FILE\n"
		"       veil kbs-admin token --key FILE [--role ROLE] [--ttl SECONDS] [--issuer ISS]\n"
		"       veil kbs-admin put-resource CONN REPO/TYPE/TAG FILE|-\n"
		"       veil kbs-admin delete-resource CONN REPO/TYPE/TAG\n"
		"       veil kbs-admin set-policy CONN [--attestation] FILE\n"
		"       veil kbs-admin get-policy CONN\n"
		"       veil kbs-admin check-policy [--attestation] FILE\n"
		"CONN: --url URL [--cacert PEM] (--key ADMIN-KEY | --token-file FILE)\n");
}

static int make_token(const struct opts *o, char **ret)
{
	EVP_PKEY *k = NULL;
	json_t *h, *p;
	int64_t now = (int64_t)time(NULL);
	int r;

	r = attest_key_load_pem(o->key, &k);
	if (r < 0)
		return log_err("Failed to load admin key '%s': %s", o->key, strerror(-r)), r;
	if (!EVP_PKEY_is_a(k, "ED25519")) {
		EVP_PKEY_free(k);
		return log_err("Admin key '%s' is not Ed25519", o->key), -EINVAL;
	}
	h = json_pack("{s:s, s:s}", "alg", "EdDSA", "typ", "JWT");
	p = json_pack("{s:s, s:s, s:I, s:I}", "sub", "admin", "role", o->role, "iat", (json_int_t)now,
		      "exp", (json_int_t)(now + o->ttl));
	if (o->issuer && p)
		json_object_set_new(p, "iss", json_string(o->issuer));
	r = h && p ? attest_jws_sign(k, h, p, ret) : -ENOMEM;
	json_decref(h);
	json_decref(p);
	EVP_PKEY_free(k);
	return r;
}

static int get_token(const struct opts *o, char **ret)
{
	size_t len;
	int r;

	if (o->key)
		return make_token(o, ret);
	if (!o->token_file)
		return log_err("Give --key ADMIN-KEY or --token-file FILE"), -EINVAL;
	r = fd_read_file(o->token_file, 64 << 10, ret, &len);
	if (r < 0)
		return log_err("Failed to read '%s': %s", o->token_file, strerror(-r)), r;
	while (len && ((*ret)[len - 1] == '\n' || (*ret)[len - 1] == '\r'))
		(*ret)[--len] = 0;
	return 0;
}

static size_t to_stdout(char *p, size_t size, size_t n, void *ud)
{
	(void)ud;
	return fwrite(p, size, n, stdout);
}

/* One admin call; prints the server's error body on failure. */
static int call(const struct opts *o, const char *method, const char *path, const char *ctype,
		const void *body, size_t len, bool print_body)
{
	_cleanup_free_ char *token = NULL, *auth = NULL, *url = NULL;
	struct curl_slist *h = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	FILE *err_body;
	char *eb = NULL;
	size_t ebl = 0;
	long status = 0;
	CURL *c;
	CURLcode rc;
	int r;

	if (!o->url)
		return log_err("Give --url URL"), -EINVAL;
	r = get_token(o, &token);
	if (r < 0)
		return r;
	if (asprintf(&auth, "Authorization: Bearer %s", token) < 0 ||
	    asprintf(&url, "%s%s", o->url, path) < 0)
		return -ENOMEM;
	c = curl_easy_init();
	err_body = open_memstream(&eb, &ebl);
	if (!c || !err_body) {
		if (c)
			curl_easy_cleanup(c);
		return -ENOMEM;
	}
	h = curl_slist_append(h, auth);
	if (ctype) {
		char line[128];

		snprintf(line, sizeof(line), "Content-Type: %s", ctype);
		h = curl_slist_append(h, line);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (o->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	if (print_body) {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_stdout);
	} else {
		curl_easy_setopt(c, CURLOPT_WRITEDATA, err_body);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	explicit_bzero(auth, strlen(auth));
	explicit_bzero(token, strlen(token));
	fclose(err_body);
	if (rc != CURLE_OK)
		r = log_err("Failed to %s '%s': %s", method, url, errbuf[0] ? errbuf : curl_easy_strerror(rc)),
		r = -EIO;
	else if (status != 200)
		r = log_err("%s '%s': HTTP %ld %s", method, url, status, eb ? eb : ""), r = -EPERM;
	free(eb);
	return r;
}

static int read_input(const char *file, struct wipe_buf *ret)
{
	char *p;
	int r;

	if (strcmp(file, "-") == 0)
		r = fd_read_all(0, KBS_RESOURCE_MAX, &p, &ret->len);
	else
		r = fd_read_file(file, KBS_RESOURCE_MAX, &p, &ret->len);
	if (r < 0)
		return log_err("Failed to read '%s': %s", file, strerror(-r)), r;
	ret->p = p;
	return 0;
}

static int check_policy(const char *file, bool attestation, struct wipe_buf *text)
{
	struct kbs_policy *p;
	char err[512];
	int r;

	r = read_input(file, text);
	if (r < 0)
		return r;
	r = kbs_policy_parse(text->p, text->len, attestation ? KBS_POLICY_APPRAISAL : KBS_POLICY_RESOURCE,
			     &p, err, sizeof(err));
	if (r < 0)
		return log_err("Policy '%s' is not valid: %s", file, err), -EINVAL;
	kbs_policy_free(p);
	return 0;
}

static int keygen(const struct opts *o)
{
	EVP_PKEY *k;
	BIO *bio;
	char *data;
	long n;
	int r;

	if (!o->priv || !o->pub)
		return log_err("Give --private FILE and --public FILE"), -EINVAL;
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!k)
		return -ENOMEM;
	r = attest_key_save_pem(o->priv, k);
	if (r < 0) {
		EVP_PKEY_free(k);
		return log_err("Failed to write '%s': %s", o->priv, strerror(-r)), r;
	}
	bio = BIO_new(BIO_s_mem());
	r = bio && PEM_write_bio_PUBKEY(bio, k) > 0 ? 0 : -EIO;
	if (r == 0) {
		n = BIO_get_mem_data(bio, &data);
		r = fd_write_file_atomic(o->pub, data, (size_t)n, 0644);
	}
	BIO_free(bio);
	EVP_PKEY_free(k);
	if (r < 0)
		return log_err("Failed to write '%s': %s", o->pub, strerror(-r)), r;
	return 0;
}

int tool_kbs_admin(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'k' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "role", required_argument, NULL, 'r' },
		{ "ttl", required_argument, NULL, 't' },
		{ "issuer", required_argument, NULL, 'i' },
		{ "private", required_argument, NULL, 'P' },
		{ "public", required_argument, NULL, 'p' },
		{ "attestation", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct opts o = { .role = "admin", .ttl = 300 };
	_cleanup_wipe_ struct wipe_buf data = { 0 };
	struct kbs_resource_path rp;
	const char *verb;
	char path[512];
	int c, r;

	if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	verb = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'u': o.url = optarg; break;
		case 'C': o.cacert = optarg; break;
		case 'k': o.key = optarg; break;
		case 'T': o.token_file = optarg; break;
		case 'r': o.role = optarg; break;
		case 'i': o.issuer = optarg; break;
		case 'P': o.priv = optarg; break;
		case 'p': o.pub = optarg; break;
		case 'A': o.attestation = true; break;
		case 't':
			o.ttl = strtol(optarg, NULL, 10);
			if (o.ttl <= 0 || o.ttl > 86400 * 366)
				return log_err("--ttl '%s' is not 1..31622400 seconds", optarg), 2;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	argc -= optind;
	argv += optind;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(verb, "keygen") == 0 && argc == 0) {
		r = keygen(&o);
	} else if (strcmp(verb, "token") == 0 && argc == 0) {
		_cleanup_free_ char *t = NULL;

		if (!o.key)
			return log_err("Give --key ADMIN-KEY"), 2;
		r = make_token(&o, &t);
		if (r == 0)
			printf("%s\n", t);
	} else if ((strcmp(verb, "put-resource") == 0 && argc == 2) ||
		   (strcmp(verb, "delete-resource") == 0 && argc == 1)) {
		if (kbs_resource_path_parse(argv[0], &rp) < 0)
			return log_err("'%s' is not REPO/TYPE/TAG (each [A-Za-z0-9_-][A-Za-z0-9_.-]*)",
				       argv[0]), 2;
		snprintf(path, sizeof(path), "/kbs/v0/resource/%s/%s/%s", rp.repo, rp.type, rp.tag);
		if (argc == 2) {
			r = read_input(argv[1], &data);
			if (r == 0)
				r = call(&o, "POST", path, "application/octet-stream", data.p, data.len,
					 false);
		} else {
			r = call(&o, "DELETE", path, NULL, NULL, 0, false);
		}
	} else if ((strcmp(verb, "set-policy") == 0 || strcmp(verb, "check-policy") == 0) &&
		   argc == 1) {
		r = check_policy(argv[0], o.attestation, &data);
		if (r == 0 && verb[0] == 's') {
			_cleanup_free_ char *b64 = NULL, *body = NULL;
			json_t *j;

			r = b64url_encode(data.p, data.len, &b64);
			j = r >= 0 ? json_pack("{s:s, s:s, s:s}", "type", "veil", "policy_id",
					       "default_cpu", "policy", b64) : NULL;
			if (j && !o.attestation)
				json_object_del(j, "type"), json_object_del(j, "policy_id");
			body = j ? json_dumps(j, JSON_COMPACT) : NULL;
			json_decref(j);
			r = body ? call(&o, "POST",
					o.attestation ? "/kbs/v0/attestation-policy" : "/kbs/v0/resource-policy",
					"application/json", body, strlen(body), false) : -ENOMEM;
		}
	} else if (strcmp(verb, "get-policy") == 0 && argc == 0) {
		r = call(&o, "GET", "/kbs/v0/resource-policy", NULL, NULL, 0, true);
	} else {
		usage(stderr);
		return 2;
	}
	curl_global_cleanup();
	return r < 0 ? 1 : 0;
}
