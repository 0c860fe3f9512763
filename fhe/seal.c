// SPDX-License-Identifier: GPL-2.0-only
#include "fhe/seal.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/fd.h"

#define SEALED_CT_MAX 64	/* ciphertexts of one sealed layer */

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* SHA-256 over up to two buffers, as hex. */
static int sha256_hex(const void *a, size_t al, const void *b, size_t bl, char out[65])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t md[32];
	unsigned int ml = 0;
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, a, al) &&
	     (!b || EVP_DigestUpdate(ctx, b, bl)) && EVP_DigestFinal_ex(ctx, md, &ml);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	hex(md, 32, out);
	return 0;
}

/* The dense layer NAME, if it is the last one and only softmax follows it. */
static int sealable(const struct fhe_mlp *m, const char *name, struct vjson_err *e)
{
	int idx = fhe_mlp_find(m, name);

	if (idx < 0)
		return vjson_fail(e, -ENOENT, "no dense layer '%s' in the model", name);
	for (unsigned int i = (unsigned int)idx + 1; i < m->n_layers; i++)
		if (m->layers[i].kind != FHE_MLP_SOFTMAX)
			return vjson_fail(e, -EINVAL,
				    "layer '%s' is followed by other layers: only the last dense layer "
				    "can be sealed (its outputs are ciphertexts)",
				    name);
	return idx;
}

int fhe_public_key_load(const uint8_t *buf, size_t len, struct fhe_public_key **ret)
{
	static const enum fhe_preset presets[] = { FHE_PRESET_DENSE_8192, FHE_PRESET_DENSE_16384,
						   FHE_PRESET_DENSE_32768 };
	int r = -EBADMSG;

	for (size_t i = 0; i < ARRAY_SIZE(presets); i++) {
		struct fhe_params *p;

		if (fhe_params_preset(presets[i], &p) < 0)
			continue;
		r = fhe_public_key_deserialize(p, buf, len, ret);
		fhe_params_free(p);
		if (r == 0)
			return 0;
	}
	return r;
}

static int add_ct_tensors(struct fhe_st_writer *w, const char *name, const struct fhe_dense *d,
			  unsigned int count)
{
	for (unsigned int k = 0; k < count; k++) {
		_cleanup_free_ uint8_t *b = NULL;
		char tn[FHE_MLP_LAYER_NAME_MAX + 32];
		uint64_t shape[1];
		size_t l;
		int r;

		r = fhe_ciphertext_serialize(d->ct[k], &b, &l);
		if (r < 0)
			return r;
		snprintf(tn, sizeof(tn), "sealed.%s.ct%u", name, k);
		shape[0] = l;
		r = fhe_st_writer_add(w, tn, FHE_ST_U8, shape, 1, b, l);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The manifest, from the sealed file as written (so digests are of the stored bytes). */
static char *manifest_json(const uint8_t *buf, size_t len, const char *sealed_name,
			   const struct fhe_params *p, struct vjson_err *e)
{
	json_auto_t *root = NULL, *layers = json_array(), *primes = json_array();
	struct fhe_st *st = NULL;
	_cleanup_free_ uint8_t *copy = malloc(len);
	char dig[65], ph[65];
	int r;

	if (!copy || !layers || !primes)
		return NULL;
	memcpy(copy, buf, len);
	if (fhe_st_parse(copy, len, &st, e) < 0)
		return NULL;
	TAKE_PTR(copy);
	if (sha256_hex(buf, len, NULL, 0, dig) < 0)
		goto out;
	hex(fhe_params_hash(p), FHE_HASH_SIZE, ph);
	for (unsigned int i = 0; i < fhe_params_nprimes(p); i++)
		json_array_append_new(primes, json_integer((json_int_t)fhe_params_prime(p, i)));
	for (size_t i = 0; i < st->n_tensors; i++) {
		const struct fhe_st_tensor *t = &st->tensors[i];
		char td[65];

		r = sha256_hex(t->data, t->size, NULL, 0, td);
		if (r < 0)
			goto out;
		json_array_append_new(layers, json_pack("{s:s,s:s,s:I}", "tensor", t->name, "sha256",
							td, "bytes", (json_int_t)t->size));
	}
	root = json_pack("{s:i,s:s,s:s,s:s,s:{s:i,s:i,s:O,s:s},s:O}", "version", 1, "sealed_sha256",
			 dig, "sealed_layer", sealed_name, "key_uri", fhe_st_meta(st, "veil.key_uri"),
			 "fhe", "preset", (int)fhe_params_preset_id(p), "n", (int)fhe_params_n(p),
			 "primes", primes, "params_sha256", ph, "tensors", layers);
out:
	fhe_st_free(st);
	return root ? json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
}

int fhe_seal_model(const struct fhe_mlp *m, const char *layer, const struct fhe_public_key *pk,
		   const char *key_uri, const char *out_path, const char *manifest_path,
		   fhe_seal_progress progress, void *ctx, struct vjson_err *e)
{
	struct fhe_params *p = (struct fhe_params *)fhe_public_key_params(pk);
	struct fhe_st_writer *w = NULL;
	struct fhe_dense *d = NULL;
	_cleanup_free_ double *W = NULL, *b = NULL;
	_cleanup_free_ uint8_t *pb = NULL, *out = NULL;
	_cleanup_free_ char *man = NULL;
	char meta[256];
	struct fhe_mlp plain;
	const struct fhe_mlp_layer *l;
	size_t pl, ol;
	unsigned int count;
	int idx, r;

	if (strncmp(key_uri, "kbs:///", 7) != 0 || strlen(key_uri) > FHE_KEY_URI_MAX)
		return vjson_fail(e, -EINVAL, "key URI '%.64s' is not kbs:///REPO/TYPE/TAG", key_uri);
	idx = sealable(m, layer, e);
	if (idx < 0)
		return idx;
	l = &m->layers[idx];
	if (!l->wt)
		return vjson_fail(e, -EINVAL, "layer '%s' is already sealed", layer);
	W = malloc((size_t)l->in * l->out * sizeof(double));
	b = malloc(l->out * sizeof(double));
	if (!W || !b)
		return -ENOMEM;
	for (unsigned int o = 0; o < l->out; o++) {
		for (unsigned int i = 0; i < l->in; i++)
			W[(size_t)o * l->in + i] = l->wt[(size_t)i * l->out + o];
		b[o] = l->b[o];
	}
	if (progress)
		progress(ctx, 1, 4, "packing");
	r = fhe_dense_seal(p, pk, NULL, W, b, l->out, l->in, &d);
	if (r < 0)
		return vjson_fail(e, r, "cannot seal layer '%s': %s", layer, fhe_last_error());
	if (progress)
		progress(ctx, 2, 4, "encrypted");
	count = d->row_blocks * d->col_blocks;

	/* the sealed layer's plaintext never reaches the writer */
	plain = *m;
	plain.layers[idx].wt = NULL;
	plain.layers[idx].b = NULL;
	w = fhe_st_writer_new();
	r = w ? fhe_mlp_to_writer(&plain, w) : -ENOMEM;
	snprintf(meta, sizeof(meta), "{\"m\":%u,\"n\":%u,\"preset\":%u,\"ciphertexts\":%u}", l->out,
		 l->in, fhe_params_preset_id(p), count);
	if (r == 0)
		r = fhe_st_writer_meta(w, FHE_MLP_SEALED_KEY, layer);
	if (r == 0) {
		char k[FHE_MLP_LAYER_NAME_MAX + 16];

		snprintf(k, sizeof(k), FHE_MLP_SEALED_KEY ".%s", layer);
		r = fhe_st_writer_meta(w, k, meta);
	}
	if (r == 0)
		r = fhe_st_writer_meta(w, "veil.key_uri", key_uri);
	if (r == 0)
		r = fhe_params_serialize(p, &pb, &pl);
	if (r == 0)
		r = fhe_st_writer_add(w, FHE_SEALED_PARAMS, FHE_ST_U8, (uint64_t[]){ pl }, 1, pb, pl);
	if (r == 0)
		r = add_ct_tensors(w, layer, d, count);
	if (r == 0)
		r = fhe_st_writer_serialize(w, &out, &ol);
	fhe_st_writer_free(w);
	fhe_dense_free(d);
	if (r < 0)
		return vjson_fail(e, r, "cannot build the sealed model: %s", strerror(-r));
	if (progress)
		progress(ctx, 3, 4, "serialized");
	man = manifest_json(out, ol, layer, p, e);
	if (!man)
		return vjson_fail(e, -ENOMEM, "cannot build the manifest");
	r = fd_write_file_atomic(out_path, out, ol, 0644);
	if (r < 0)
		return vjson_fail(e, r, "cannot write '%s': %s", out_path, strerror(-r));
	r = fd_write_file_atomic(manifest_path, man, strlen(man), 0644);
	if (r < 0)
		return vjson_fail(e, r, "cannot write '%s': %s", manifest_path, strerror(-r));
	if (progress)
		progress(ctx, 4, 4, "written");
	return 0;
}

/* ---- loading ------------------------------------------------------------------ */

void fhe_sealed_free(struct fhe_sealed *s)
{
	if (!s)
		return;
	fhe_mlp_free(s->mlp);
	fhe_dense_free(s->dense);
	fhe_params_free(s->params);
	free(s);
}

static int parse_meta(const struct fhe_st *st, const char *name, int64_t *m, int64_t *n,
		      int64_t *preset, int64_t *count, struct vjson_err *e)
{
	static const char *const keys[] = { "m", "n", "preset", "ciphertexts", NULL };
	char k[FHE_MLP_LAYER_NAME_MAX + 16];
	const char *s;
	json_auto_t *j = NULL;
	int r;

	snprintf(k, sizeof(k), FHE_MLP_SEALED_KEY ".%s", name);
	s = fhe_st_meta(st, k);
	if (!s)
		return vjson_fail(e, -EINVAL, "no '%s' in __metadata__", k);
	r = vjson_parse(s, strlen(s), 4096, 2, &j, e);
	if (r == 0)
		r = vjson_check_keys(j, k, keys, e);
	if (r == 0)
		r = vjson_get_int(j, k, "m", 1, FHE_MLP_DIM_MAX, m, e);
	if (r == 0)
		r = vjson_get_int(j, k, "n", 1, FHE_MLP_DIM_MAX, n, e);
	if (r == 0)
		r = vjson_get_int(j, k, "preset", 1, 3, preset, e);
	if (r == 0)
		r = vjson_get_int(j, k, "ciphertexts", 1, SEALED_CT_MAX, count, e);
	return r;
}

static int load_cts(struct fhe_sealed *s, const struct fhe_st *st, const char *name,
		    unsigned int count, struct vjson_err *e)
{
	size_t extra = 0;

	s->dense->ct = calloc(count, sizeof(*s->dense->ct));
	if (!s->dense->ct)
		return -ENOMEM;
	for (unsigned int k = 0; k < count; k++) {
		char tn[FHE_MLP_LAYER_NAME_MAX + 32];
		const struct fhe_st_tensor *t;
		int r;

		snprintf(tn, sizeof(tn), "sealed.%s.ct%u", name, k);
		t = fhe_st_find(st, tn);
		if (!t || t->dtype != FHE_ST_U8 || t->ndim != 1)
			return vjson_fail(e, -EINVAL, "tensor '%s' is missing or not U8[bytes]", tn);
		r = fhe_ciphertext_deserialize(s->params, t->data, t->size, &s->dense->ct[k]);
		if (r < 0)
			return vjson_fail(e, r, "'%s': %s", tn, fhe_last_error());
	}
	for (size_t i = 0; i < st->n_tensors; i++)
		extra += strncmp(st->tensors[i].name, "sealed.", 7) == 0;
	if (extra != count + 1)
		return vjson_fail(e, -EINVAL, "%zu sealed.* tensors, expected %u", extra, count + 1);
	return 0;
}

/* The level and scale of an honest output, from one evaluation at load. */
static int learn_output(struct fhe_sealed *s)
{
	_cleanup_free_ double *h = calloc(s->dense->n, sizeof(double));
	struct fhe_ciphertext **cts;
	unsigned int n;
	int r;

	if (!h)
		return -ENOMEM;
	r = fhe_dense_eval_ex(s->dense, h, false, &cts, &n);
	if (r < 0)
		return r;
	s->out_level = cts[0]->level;
	s->out_scale = cts[0]->scale;
	fhe_ciphertexts_free(cts, n);
	return 0;
}

int fhe_sealed_parse(uint8_t *buf, size_t len, struct fhe_sealed **ret, struct vjson_err *e)
{
	struct fhe_sealed *s;
	struct fhe_st *st = NULL;
	const struct fhe_st_tensor *pt;
	const char *name, *uri;
	int64_t m, n, preset, count;
	char dig[65];
	int idx, r;

	r = fhe_st_parse(buf, len, &st, e);
	if (r < 0) {
		free(buf);
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		fhe_st_free(st);
		return -ENOMEM;
	}
	name = fhe_st_meta(st, FHE_MLP_SEALED_KEY);
	uri = fhe_st_meta(st, "veil.key_uri");
	if (!name || !*name || strchr(name, ',')) {
		r = vjson_fail(e, -EINVAL, "not a sealed model: '" FHE_MLP_SEALED_KEY "' must name one layer");
		goto out;
	}
	if (!uri || strlen(uri) > FHE_KEY_URI_MAX || strncmp(uri, "kbs:///", 7) != 0) {
		r = vjson_fail(e, -EINVAL, "'veil.key_uri' is missing or not kbs:///...");
		goto out;
	}
	snprintf(s->key_uri, sizeof(s->key_uri), "%s", uri);
	r = fhe_mlp_from_st(st, &s->mlp, e);
	if (r < 0)
		goto out;
	idx = sealable(s->mlp, name, e);
	if (idx < 0) {
		r = idx;
		goto out;
	}
	s->layer = (unsigned int)idx;
	r = parse_meta(st, name, &m, &n, &preset, &count, e);
	if (r < 0)
		goto out;
	if (s->mlp->layers[idx].out != m || s->mlp->layers[idx].in != n || s->mlp->layers[idx].wt) {
		r = vjson_fail(e, -EINVAL, "sealed layer '%s' does not match the architecture", name);
		goto out;
	}
	pt = fhe_st_find(st, FHE_SEALED_PARAMS);
	if (!pt || pt->dtype != FHE_ST_U8) {
		r = vjson_fail(e, -EINVAL, "tensor '" FHE_SEALED_PARAMS "' is missing or not U8");
		goto out;
	}
	r = fhe_params_deserialize(pt->data, pt->size, &s->params);
	if (r < 0) {
		r = vjson_fail(e, r, "'" FHE_SEALED_PARAMS "': %s", fhe_last_error());
		goto out;
	}
	if (fhe_params_preset_id(s->params) != preset) {
		r = vjson_fail(e, -EINVAL, "parameters are not preset %d", (int)preset);
		goto out;
	}
	r = fhe_dense_geometry(s->params, (unsigned int)m, (unsigned int)n, &s->dense);
	if (r < 0)
		goto out;
	if (s->dense->row_blocks * s->dense->col_blocks != count) {
		r = vjson_fail(e, -EINVAL, "%d ciphertexts, the geometry needs %u", (int)count,
			 s->dense->row_blocks * s->dense->col_blocks);
		goto out;
	}
	r = load_cts(s, st, name, (unsigned int)count, e);
	if (r == 0)
		r = learn_output(s);
	if (r == 0)
		r = sha256_hex(st->buf, st->len, NULL, 0, dig);
	for (int i = 0; r == 0 && i < 32; i++)
		sscanf(dig + 2 * i, "%2hhx", &s->sha256[i]);
out:
	fhe_st_free(st);	/* frees buf: nothing borrowed from it survives */
	if (r < 0) {
		fhe_sealed_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int fhe_sealed_load(const char *path, struct fhe_sealed **ret, struct vjson_err *e)
{
	char *buf = NULL;
	size_t len;
	int r;

	r = fd_read_file(path, FHE_ST_FILE_MAX, &buf, &len);
	if (r < 0)
		return vjson_fail(e, r, "cannot read '%s': %s", path, strerror(-r));
	return fhe_sealed_parse((uint8_t *)buf, len, ret, e);
}

int fhe_sealed_infer(const struct fhe_sealed *s, const float *x, float *scratch,
		     struct fhe_ciphertext ***ret, unsigned int *ret_n)
{
	_cleanup_free_ double *h = malloc(s->dense->n * sizeof(double));
	_cleanup_free_ float *hf = NULL;
	const float *src = x;
	int r;

	if (!h)
		return -ENOMEM;
	if (s->layer > 0) {
		hf = malloc(s->dense->n * sizeof(float));
		if (!hf)
			return -ENOMEM;
		r = fhe_mlp_run(s->mlp, 0, s->layer, x, hf, scratch);
		if (r < 0)
			return r;
		src = hf;
	}
	for (unsigned int i = 0; i < s->dense->n; i++)
		h[i] = src[i];
	return fhe_dense_eval(s->dense, h, ret, ret_n);
}

int fhe_sealed_decrypt(const struct fhe_sealed *s, const struct fhe_secret_key *sk,
		       const uint8_t *const *ct, const size_t *ct_len, unsigned int n_ct, double *y,
		       char *msg, size_t msg_len)
{
	struct fhe_ciphertext *cts[SEALED_CT_MAX] = { 0 };
	unsigned int i;
	int r = 0;

	if (memcmp(fhe_params_hash(fhe_secret_key_params(sk)), fhe_params_hash(s->params),
		   FHE_HASH_SIZE) != 0) {
		snprintf(msg, msg_len, "the secret key belongs to other parameters");
		return -EINVAL;
	}
	if (n_ct != s->dense->row_blocks) {
		snprintf(msg, msg_len, "%u ciphertexts, the model outputs %u", n_ct,
			 s->dense->row_blocks);
		return -EBADMSG;
	}
	for (i = 0; i < n_ct && r == 0; i++) {
		r = fhe_ciphertext_deserialize(s->params, ct[i], ct_len[i], &cts[i]);
		if (r < 0) {
			snprintf(msg, msg_len, "ciphertext %u: %s", i, fhe_last_error());
			r = -EBADMSG;
		} else if (cts[i]->level != s->out_level || cts[i]->scale != s->out_scale ||
			   cts[i]->encoding != FHE_ENC_COEFFS || cts[i]->seeded) {
			snprintf(msg, msg_len,
				 "ciphertext %u is not an output of this model (level %u, scale 2^%.1f)",
				 i, cts[i]->level, __builtin_log2(cts[i]->scale));
			r = -EBADMSG;
		}
	}
	if (r == 0) {
		r = fhe_dense_decrypt(sk, s->dense, cts, n_ct, NULL, y);
		if (r < 0)
			snprintf(msg, msg_len, "decryption failed: %s", fhe_last_error());
	}
	for (i = 0; i < n_ct; i++)
		fhe_ciphertext_free(cts[i]);
	return r;
}
