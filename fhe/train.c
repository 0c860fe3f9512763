// SPDX-License-Identifier: GPL-2.0-only
#include "fhe/train.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"

/* splitmix64: reproducible initialisation and shuffling, not a secret */
static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static float uniform(uint64_t *s)
{
	return (float)(next(s) >> 40) * 0x1p-24f;	/* [0,1) */
}

struct dense {
	struct fhe_mlp_layer *l;
	float *gw, *gb;		/* gradients, same layout as wt / b */
	float *mw, *vw, *mb, *vb;	/* Adam moments */
	float *z;		/* this layer's output (after ReLU for hidden layers) */
	float *delta;		/* dLoss/dz */
};

static void adam(float *p, const float *g, float *m, float *v, size_t n, float lr, float scale,
		 float c1, float c2)
{
	const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;

	for (size_t i = 0; i < n; i++) {
		float gi = g[i] * scale;

		m[i] = b1 * m[i] + (1 - b1) * gi;
		v[i] = b2 * v[i] + (1 - b2) * gi * gi;
		p[i] -= lr * (m[i] / c1) / (sqrtf(v[i] / c2) + eps);
	}
}

static void free_dense(struct dense *d, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		free(d[i].gw);
		free(d[i].gb);
		free(d[i].mw);
		free(d[i].vw);
		free(d[i].mb);
		free(d[i].vb);
		free(d[i].z);
		free(d[i].delta);
	}
}

/* Forward and backward for one image; returns its loss. Gradients accumulate. */
static float step(struct dense *d, unsigned int nd, const float *x, unsigned int label)
{
	float loss, mx, sum = 0.0f;
	struct dense *o = &d[nd - 1];

	for (unsigned int k = 0; k < nd; k++) {
		const struct fhe_mlp_layer *l = d[k].l;
		const float *in = k ? d[k - 1].z : x;
		float *z = d[k].z;

		memcpy(z, l->b, l->out * sizeof(float));
		for (unsigned int j = 0; j < l->in; j++) {
			const float xj = in[j], *row = l->wt + (size_t)j * l->out;

			if (xj == 0.0f)
				continue;
			for (unsigned int i = 0; i < l->out; i++)
				z[i] += xj * row[i];
		}
		if (k + 1 < nd)
			for (unsigned int i = 0; i < l->out; i++)
				z[i] = z[i] > 0.0f ? z[i] : 0.0f;
	}
	/* softmax cross-entropy: delta = p - onehot */
	mx = o->z[fhe_argmax(o->z, o->l->out)];
	for (unsigned int i = 0; i < o->l->out; i++)
		sum += o->delta[i] = expf(o->z[i] - mx);
	for (unsigned int i = 0; i < o->l->out; i++)
		o->delta[i] /= sum;
	loss = -logf(o->delta[label] > 1e-30f ? o->delta[label] : 1e-30f);
	o->delta[label] -= 1.0f;

	for (unsigned int k = nd; k-- > 0;) {
		const struct fhe_mlp_layer *l = d[k].l;
		const float *in = k ? d[k - 1].z : x, *delta = d[k].delta;

		for (unsigned int i = 0; i < l->out; i++)
			d[k].gb[i] += delta[i];
		for (unsigned int j = 0; j < l->in; j++) {
			const float xj = in[j];
			float *g = d[k].gw + (size_t)j * l->out;

			if (xj == 0.0f)
				continue;
			for (unsigned int i = 0; i < l->out; i++)
				g[i] += xj * delta[i];
		}
		if (k == 0)
			break;
		for (unsigned int j = 0; j < l->in; j++) {
			const float *row = l->wt + (size_t)j * l->out;
			float s = 0.0f;

			if (in[j] > 0.0f)	/* ReLU derivative of the layer below */
				for (unsigned int i = 0; i < l->out; i++)
					s += row[i] * delta[i];
			d[k - 1].delta[j] = s;
		}
	}
	return loss;
}

int fhe_train(const struct fhe_mnist *set, const struct fhe_train_opts *o, struct fhe_mlp **ret)
{
	unsigned int dims[6], names_n = 0, nd = 0;
	const char *names[5] = { "fc1", "fc2", "fc3", "fc4", "fc5" };
	_cleanup_free_ uint32_t *perm = NULL;
	struct dense d[5] = { 0 };
	struct fhe_mlp *m = NULL;
	uint64_t rng = o->seed;
	unsigned int t = 0;
	int r;

	if (!set->n || !o->epochs || !o->batch)
		return -EINVAL;
	dims[names_n++] = set->rows * set->cols;
	for (unsigned int i = 0; i < 4 && o->hidden[i]; i++)
		dims[names_n++] = o->hidden[i];
	dims[names_n++] = 10;
	r = fhe_mlp_new(dims, names_n, names, &m);
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < m->n_layers; i++) {
		struct fhe_mlp_layer *l = &m->layers[i];
		size_t nw = (size_t)l->in * l->out;
		float a = sqrtf(6.0f / (float)l->in);	/* He uniform */

		if (l->kind != FHE_MLP_DENSE)
			continue;
		d[nd].l = l;
		d[nd].gw = calloc(nw, sizeof(float));
		d[nd].mw = calloc(nw, sizeof(float));
		d[nd].vw = calloc(nw, sizeof(float));
		d[nd].gb = calloc(l->out, sizeof(float));
		d[nd].mb = calloc(l->out, sizeof(float));
		d[nd].vb = calloc(l->out, sizeof(float));
		d[nd].z = calloc(l->out, sizeof(float));
		d[nd].delta = calloc(l->out, sizeof(float));
		nd++;
		if (!d[nd - 1].gw || !d[nd - 1].mw || !d[nd - 1].vw || !d[nd - 1].gb ||
		    !d[nd - 1].mb || !d[nd - 1].vb || !d[nd - 1].z || !d[nd - 1].delta) {
			r = -ENOMEM;
			break;
		}
		for (size_t j = 0; j < nw; j++)
			l->wt[j] = (2.0f * uniform(&rng) - 1.0f) * a;
	}
	perm = malloc(set->n * sizeof(*perm));
	if (!perm)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < set->n; i++)
		perm[i] = (uint32_t)i;
	for (unsigned int ep = 0; r == 0 && ep < o->epochs; ep++) {
		double loss = 0;

		for (size_t i = set->n - 1; i > 0; i--) {	/* Fisher-Yates */
			size_t j = next(&rng) % (i + 1);
			uint32_t tmp = perm[i];

			perm[i] = perm[j];
			perm[j] = tmp;
		}
		for (size_t b0 = 0; b0 < set->n; b0 += o->batch) {
			size_t bn = set->n - b0 < o->batch ? set->n - b0 : o->batch;
			float c1, c2;

			for (unsigned int k = 0; k < nd; k++) {
				memset(d[k].gw, 0, (size_t)d[k].l->in * d[k].l->out * sizeof(float));
				memset(d[k].gb, 0, d[k].l->out * sizeof(float));
			}
			for (size_t s = b0; s < b0 + bn; s++) {
				size_t idx = perm[s];

				loss += step(d, nd, set->pixels + idx * dims[0], set->labels[idx]);
			}
			t++;
			c1 = 1.0f - powf(0.9f, (float)t);
			c2 = 1.0f - powf(0.999f, (float)t);
			for (unsigned int k = 0; k < nd; k++) {
				adam(d[k].l->wt, d[k].gw, d[k].mw, d[k].vw,
				     (size_t)d[k].l->in * d[k].l->out, o->lr, 1.0f / (float)bn, c1, c2);
				adam(d[k].l->b, d[k].gb, d[k].mb, d[k].vb, d[k].l->out, o->lr,
				     1.0f / (float)bn, c1, c2);
			}
		}
		if (o->epoch_done)
			o->epoch_done(o->ctx, ep + 1, loss / (double)set->n);
	}
	free_dense(d, nd);
	if (r < 0) {
		fhe_mlp_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

int fhe_mlp_evaluate(const struct fhe_mlp *m, const struct fhe_mnist *set, size_t n,
		     size_t *ret_correct)
{
	_cleanup_free_ float *scratch = malloc(3 * m->width_max * sizeof(float));
	size_t px = (size_t)set->rows * set->cols, ok = 0;

	if (!scratch)
		return -ENOMEM;
	if (px != m->input)
		return -EINVAL;
	if (!n || n > set->n)
		n = set->n;
	for (size_t i = 0; i < n; i++) {
		int c = fhe_mlp_predict(m, set->pixels + i * px, NULL, scratch);

		if (c < 0)
			return c;
		ok += (unsigned int)c == set->labels[i];
	}
	*ret_correct = ok;
	return 0;
}
