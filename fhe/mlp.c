// SPDX-License-Identifier: GPL-2.0-only
#include "fhe/mlp.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"

struct fhe_mlp *fhe_mlp_free(struct fhe_mlp *m)
{
	if (!m)
		return NULL;
	for (unsigned int i = 0; i < m->n_layers; i++) {
		free(m->layers[i].wt);
		free(m->layers[i].b);
	}
	free(m);
	return NULL;
}

static int alloc_dense(struct fhe_mlp_layer *l)
{
	l->wt = calloc((size_t)l->in * l->out, sizeof(float));
	l->b = calloc(l->out, sizeof(float));
	return l->wt && l->b ? 0 : -ENOMEM;
}

int fhe_mlp_new(const unsigned int *dims, unsigned int n_dims, const char *const *names,
		struct fhe_mlp **ret)
{
	struct fhe_mlp *m;
	unsigned int n = 0;

	if (n_dims < 2 || 2 * (n_dims - 1) - 1 > FHE_MLP_LAYERS_MAX)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->input = m->width_max = dims[0];
	for (unsigned int i = 1; i < n_dims; i++) {
		struct fhe_mlp_layer *l = &m->layers[n++];

		if (!dims[i] || dims[i] > FHE_MLP_DIM_MAX || strlen(names[i - 1]) > FHE_MLP_LAYER_NAME_MAX) {
			m->n_layers = n - 1;
			fhe_mlp_free(m);
			return -EINVAL;
		}
		l->kind = FHE_MLP_DENSE;
		snprintf(l->name, sizeof(l->name), "%s", names[i - 1]);
		l->in = dims[i - 1];
		l->out = dims[i];
		m->n_layers = n;
		if (alloc_dense(l) < 0) {
			fhe_mlp_free(m);
			return -ENOMEM;
		}
		if (dims[i] > m->width_max)
			m->width_max = dims[i];
		if (i + 1 < n_dims) {
			m->layers[n].kind = FHE_MLP_RELU;
			m->layers[n].in = m->layers[n].out = dims[i];
			m->n_layers = ++n;
		}
	}
	*ret = m;
	return 0;
}

static bool name_ok(const char *s)
{
	if (!*s || strlen(s) > FHE_MLP_LAYER_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

static int load_tensor(const struct fhe_st *st, const char *lname, const char *suffix,
		       unsigned int d0, unsigned int d1, float *out, bool transpose,
		       struct vjson_err *e)
{
	char tn[FHE_MLP_LAYER_NAME_MAX + 16];
	const struct fhe_st_tensor *t;
	unsigned int nd = d1 ? 2 : 1;
	_cleanup_free_ float *tmp = NULL;

	snprintf(tn, sizeof(tn), "%s.%s", lname, suffix);
	t = fhe_st_find(st, tn);
	if (!t)
		return vjson_fail(e, -ENOENT, "tensor '%s' is missing", tn);
	if (t->dtype == FHE_ST_U8)
		return vjson_fail(e, -EINVAL, "tensor '%s': dtype U8 is not a float type", tn);
	if (t->ndim != nd || t->shape[0] != d0 || (d1 && t->shape[1] != d1))
		return vjson_fail(e, -EINVAL, "tensor '%s': shape does not match the architecture ([%u%s%.0u])",
			    tn, d0, d1 ? ", " : "", d1);
	if (!transpose)
		return fhe_st_to_f32(t, out, t->count);
	tmp = malloc(t->count * sizeof(float));
	if (!tmp)
		return -ENOMEM;
	fhe_st_to_f32(t, tmp, t->count);
	/* file [out=d0][in=d1] -> memory [in][out] */
	for (unsigned int o = 0; o < d0; o++)
		for (unsigned int i = 0; i < d1; i++)
			out[(size_t)i * d0 + o] = tmp[(size_t)o * d1 + i];
	for (size_t i = 0; i < t->count; i++)
		if (!isfinite(out[i]))
			return vjson_fail(e, -EINVAL, "tensor '%s' holds a non-finite value", tn);
	return 0;
}

static int parse_arch(const char *s, struct fhe_mlp *m, struct vjson_err *e)
{
	static const char *const root_keys[] = { "version", "input", "layers", NULL };
	static const char *const dense_keys[] = { "type", "name", "out", NULL };
	static const char *const act_keys[] = { "type", NULL };
	json_auto_t *j = NULL;
	json_t *layers, *l;
	int64_t v;
	unsigned int width, n_dense = 0;
	size_t i;
	int r;

	r = vjson_parse(s, strlen(s), FHE_ST_META_VALUE_MAX, 4, &j, e);
	if (r < 0)
		return r;
	if ((r = vjson_check_keys(j, FHE_MLP_META_KEY, root_keys, e)) < 0 ||
	    (r = vjson_get_int(j, FHE_MLP_META_KEY, "version", 1, 1, &v, e)) < 0 ||
	    (r = vjson_get_int(j, FHE_MLP_META_KEY, "input", 1, FHE_MLP_DIM_MAX, &v, e)) < 0)
		return r;
	m->input = m->width_max = width = (unsigned int)v;
	r = vjson_get_array(j, FHE_MLP_META_KEY, "layers", FHE_MLP_LAYERS_MAX, &layers, e);
	if (r < 0)
		return r;
	json_array_foreach(layers, i, l) {
		struct fhe_mlp_layer *ml = &m->layers[i];
		char where[48];
		const char *type, *name;

		snprintf(where, sizeof(where), FHE_MLP_META_KEY ".layers[%zu]", i);
		r = vjson_get_string(l, where, "type", 16, &type, e);
		if (r < 0)
			return r;
		ml->in = width;
		if (strcmp(type, "dense") == 0) {
			r = vjson_check_keys(l, where, dense_keys, e);
			if (r == 0)
				r = vjson_get_string(l, where, "name", FHE_MLP_LAYER_NAME_MAX, &name, e);
			if (r == 0)
				r = vjson_get_int(l, where, "out", 1, FHE_MLP_DIM_MAX, &v, e);
			if (r < 0)
				return r;
			if (!name_ok(name))
				return vjson_fail(e, -EINVAL, "'%s.name': '%s' is not [A-Za-z0-9_-]+", where,
					    name);
			for (size_t k = 0; k < i; k++)
				if (m->layers[k].kind == FHE_MLP_DENSE &&
				    strcmp(m->layers[k].name, name) == 0)
					return vjson_fail(e, -EINVAL, "'%s.name': '%s' used twice", where, name);
			ml->kind = FHE_MLP_DENSE;
			snprintf(ml->name, sizeof(ml->name), "%s", name);
			ml->out = width = (unsigned int)v;
			n_dense++;
		} else if (strcmp(type, "relu") == 0 || strcmp(type, "softmax") == 0) {
			r = vjson_check_keys(l, where, act_keys, e);
			if (r < 0)
				return r;
			ml->kind = type[0] == 'r' ? FHE_MLP_RELU : FHE_MLP_SOFTMAX;
			ml->out = width;
			if (ml->kind == FHE_MLP_SOFTMAX && i + 1 != json_array_size(layers))
				return vjson_fail(e, -EINVAL, "'%s': softmax must be the last layer", where);
		} else {
			return vjson_fail(e, -EINVAL, "'%s.type': unknown layer type '%s'", where, type);
		}
		if (width > m->width_max)
			m->width_max = width;
		m->n_layers = (unsigned int)i + 1;
	}
	if (!n_dense)
		return vjson_fail(e, -EINVAL, "'" FHE_MLP_META_KEY ".layers': no dense layer");
	return 0;
}

/* NAME is listed in the comma-separated __metadata__["veil.sealed"]. */
static bool is_sealed(const struct fhe_st *st, const char *name)
{
	const char *list = fhe_st_meta(st, FHE_MLP_SEALED_KEY), *p;
	size_t n = strlen(name);

	for (p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

static int from_st(const struct fhe_st *st, struct fhe_mlp **ret, struct vjson_err *e)
{
	const char *arch = fhe_st_meta(st, FHE_MLP_META_KEY);
	struct fhe_mlp *m;
	size_t used = 0, own = 0;
	int r;

	if (!arch)
		return vjson_fail(e, -EINVAL, "no '" FHE_MLP_META_KEY "' architecture in __metadata__");
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	r = parse_arch(arch, m, e);
	for (unsigned int i = 0; r == 0 && i < m->n_layers; i++) {
		struct fhe_mlp_layer *l = &m->layers[i];

		if (l->kind != FHE_MLP_DENSE)
			continue;
		/* a sealed layer's weights are ciphertexts under "sealed." names */
		if (is_sealed(st, l->name))
			continue;
		r = alloc_dense(l);
		if (r == 0)
			r = load_tensor(st, l->name, "weight", l->out, l->in, l->wt, true, e);
		if (r == 0)
			r = load_tensor(st, l->name, "bias", l->out, 0, l->b, false, e);
		used += 2;
	}
	for (size_t i = 0; r == 0 && i < st->n_tensors; i++)
		if (strncmp(st->tensors[i].name, "sealed.", 7) != 0)
			own++;
	if (r == 0 && own != used)
		r = vjson_fail(e, -EINVAL, "%zu tensors are not used by the architecture", own - used);
	if (r < 0) {
		fhe_mlp_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

int fhe_mlp_from_st(const struct fhe_st *st, struct fhe_mlp **ret, struct vjson_err *e)
{
	return from_st(st, ret, e);
}

int fhe_mlp_load(const char *path, struct fhe_mlp **ret, struct vjson_err *e)
{
	struct fhe_st *st;
	int r;

	r = fhe_st_load(path, &st, e);
	if (r < 0)
		return r;
	r = fhe_mlp_from_st(st, ret, e);
	fhe_st_free(st);
	return r;
}

int fhe_mlp_find(const struct fhe_mlp *m, const char *name)
{
	for (unsigned int i = 0; i < m->n_layers; i++)
		if (m->layers[i].kind == FHE_MLP_DENSE && strcmp(m->layers[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

void fhe_mlp_dense_weights(const struct fhe_mlp_layer *l, float *out)
{
	for (unsigned int o = 0; o < l->out; o++)
		for (unsigned int i = 0; i < l->in; i++)
			out[(size_t)o * l->in + i] = l->wt[(size_t)i * l->out + o];
}

static char *arch_json(const struct fhe_mlp *m)
{
	json_auto_t *layers = json_array(), *root = NULL;

	if (!layers)
		return NULL;
	for (unsigned int i = 0; i < m->n_layers; i++) {
		const struct fhe_mlp_layer *l = &m->layers[i];
		json_t *o;

		if (l->kind == FHE_MLP_DENSE)
			o = json_pack("{s:s,s:s,s:i}", "type", "dense", "name", l->name, "out",
				      (int)l->out);
		else
			o = json_pack("{s:s}", "type", l->kind == FHE_MLP_RELU ? "relu" : "softmax");
		if (json_array_append_new(layers, o) < 0)
			return NULL;
	}
	root = json_pack("{s:i,s:i,s:O}", "version", 1, "input", (int)m->input, "layers", layers);
	return root ? json_dumps(root, JSON_COMPACT) : NULL;
}

int fhe_mlp_to_writer(const struct fhe_mlp *m, struct fhe_st_writer *w)
{
	_cleanup_free_ char *arch = arch_json(m);
	int r;

	if (!arch)
		return -ENOMEM;
	r = fhe_st_writer_meta(w, FHE_MLP_META_KEY, arch);
	for (unsigned int i = 0; r == 0 && i < m->n_layers; i++) {
		const struct fhe_mlp_layer *l = &m->layers[i];
		_cleanup_free_ float *wf = NULL;
		char n[FHE_MLP_LAYER_NAME_MAX + 16];
		uint64_t sw[2] = { l->out, l->in }, sb[1] = { l->out };

		if (l->kind != FHE_MLP_DENSE || !l->wt)
			continue;
		wf = malloc((size_t)l->in * l->out * sizeof(float));
		if (!wf)
			return -ENOMEM;
		fhe_mlp_dense_weights(l, wf);
		snprintf(n, sizeof(n), "%s.weight", l->name);
		r = fhe_st_writer_add_f32(w, n, sw, 2, wf);
		if (r == 0) {
			snprintf(n, sizeof(n), "%s.bias", l->name);
			r = fhe_st_writer_add_f32(w, n, sb, 1, l->b);
		}
	}
	return r;
}

int fhe_mlp_save(const struct fhe_mlp *m, const char *path, const char *const *extra_meta)
{
	struct fhe_st_writer *w = fhe_st_writer_new();
	int r;

	if (!w)
		return -ENOMEM;
	r = fhe_mlp_to_writer(m, w);
	for (; r == 0 && extra_meta && extra_meta[0]; extra_meta += 2)
		r = fhe_st_writer_meta(w, extra_meta[0], extra_meta[1]);
	if (r == 0)
		r = fhe_st_writer_save(w, path);
	fhe_st_writer_free(w);
	return r;
}

unsigned int fhe_argmax(const float *v, unsigned int n)
{
	unsigned int best = 0;

	for (unsigned int i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

int fhe_mlp_run(const struct fhe_mlp *m, unsigned int first, unsigned int last, const float *x,
		float *y, float *scratch)
{
	float *buf[2] = { scratch, scratch + m->width_max };
	const float *in = x;
	unsigned int width = first < m->n_layers ? m->layers[first].in : 0;

	if (first >= last || last > m->n_layers)
		return -EINVAL;
	for (unsigned int i = first; i < last; i++) {
		const struct fhe_mlp_layer *l = &m->layers[i];
		float *out = i + 1 == last ? y : buf[i & 1];

		switch (l->kind) {
		case FHE_MLP_DENSE:
			if (!l->wt)
				return -EPERM;	/* sealed: not computable in the clear */
			memcpy(out, l->b, l->out * sizeof(float));
			for (unsigned int j = 0; j < l->in; j++) {
				const float xj = in[j], *row = l->wt + (size_t)j * l->out;

				if (xj == 0.0f)
					continue;
				for (unsigned int o = 0; o < l->out; o++)
					out[o] += xj * row[o];
			}
			break;
		case FHE_MLP_RELU:
			for (unsigned int o = 0; o < l->out; o++)
				out[o] = in[o] > 0.0f ? in[o] : 0.0f;
			break;
		case FHE_MLP_SOFTMAX: {
			float mx = in[fhe_argmax(in, l->out)], sum = 0.0f;

			for (unsigned int o = 0; o < l->out; o++)
				sum += out[o] = expf(in[o] - mx);
			for (unsigned int o = 0; o < l->out; o++)
				out[o] /= sum;
			break;
		}
		}
		in = out;
		width = l->out;
	}
	return (int)width;
}

int fhe_mlp_predict(const struct fhe_mlp *m, const float *x, float *logits, float *scratch)
{
	float *y = scratch + 2 * m->width_max;	/* needs 3 * width_max */
	int n;

	n = fhe_mlp_run(m, 0, m->n_layers, x, logits ? logits : y, scratch);
	if (n < 0)
		return n;
	return (int)fhe_argmax(logits ? logits : y, (unsigned int)n);
}
