// SPDX-License-Identifier: GPL-2.0-only
#include "kbs/session.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/base64.h"

#define BUCKETS 4096

struct entry {
	struct kbs_session s;
	struct entry *next;
};

struct mem_store {
	struct kbs_store base;
	pthread_mutex_t lock;
	size_t count, max;
	struct entry *buckets[BUCKETS];
};

static unsigned int hash(const char *id)
{
	unsigned int h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % BUCKETS;
}

static int copy_session(struct kbs_session *dst, const struct kbs_session *src)
{
	*dst = *src;
	dst->token = NULL;
	if (src->token) {
		dst->token = strdup(src->token);
		if (!dst->token)
			return -ENOMEM;
	}
	return 0;
}

static struct entry **find(struct mem_store *m, const char *id)
{
	struct entry **e = &m->buckets[hash(id)];

	while (*e && strcmp((*e)->s.id, id) != 0)
		e = &(*e)->next;
	return e;
}

static void unlink_entry(struct mem_store *m, struct entry **e)
{
	struct entry *dead = *e;

	*e = dead->next;
	kbs_session_done(&dead->s);
	free(dead);
	m->count--;
}

static int mem_put(struct kbs_store *s, const struct kbs_session *sess)
{
	struct mem_store *m = (struct mem_store *)s;
	struct kbs_session copy;
	struct entry **e, *n;
	int r;

	r = copy_session(&copy, sess);
	if (r < 0)
		return r;
	pthread_mutex_lock(&m->lock);
	e = find(m, sess->id);
	if (*e) {
		kbs_session_done(&(*e)->s);
		(*e)->s = copy;
	} else if (m->count >= m->max) {
		r = -ENOSPC;
	} else if (!(n = calloc(1, sizeof(*n)))) {
		r = -ENOMEM;
	} else {
		n->s = copy;
		*e = n;
		m->count++;
	}
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		kbs_session_done(&copy);
	return r;
}

static int mem_get(struct kbs_store *s, const char *id, int64_t now, struct kbs_session *ret)
{
	struct mem_store *m = (struct mem_store *)s;
	struct entry **e;
	int r;

	pthread_mutex_lock(&m->lock);
	e = find(m, id);
	if (!*e) {
		r = -ENOENT;
	} else if ((*e)->s.expires <= now) {
		unlink_entry(m, e);
		r = -ETIMEDOUT;
	} else {
		r = copy_session(ret, &(*e)->s);
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

static int mem_del(struct kbs_store *s, const char *id)
{
	struct mem_store *m = (struct mem_store *)s;
	struct entry **e;
	int r = -ENOENT;

	pthread_mutex_lock(&m->lock);
	e = find(m, id);
	if (*e) {
		unlink_entry(m, e);
		r = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

static int mem_sweep(struct kbs_store *s, int64_t now)
{
	struct mem_store *m = (struct mem_store *)s;
	int n = 0;

	pthread_mutex_lock(&m->lock);
	for (size_t b = 0; b < BUCKETS; b++) {
		struct entry **e = &m->buckets[b];

		while (*e) {
			if ((*e)->s.expires <= now) {
				unlink_entry(m, e);
				n++;
			} else {
				e = &(*e)->next;
			}
		}
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}

static size_t mem_count(struct kbs_store *s)
{
	struct mem_store *m = (struct mem_store *)s;
	size_t n;

	pthread_mutex_lock(&m->lock);
	n = m->count;
	pthread_mutex_unlock(&m->lock);
	return n;
}

static void mem_free(struct kbs_store *s)
{
	struct mem_store *m = (struct mem_store *)s;

	mem_sweep(s, INT64_MAX);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static const struct kbs_store_ops mem_ops = {
	.put = mem_put,
	.get = mem_get,
	.del = mem_del,
	.sweep = mem_sweep,
	.count = mem_count,
	.free = mem_free,
};

struct kbs_store *kbs_store_memory_new(size_t max_sessions)
{
	struct mem_store *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->base.ops = &mem_ops;
	m->max = max_sessions ? max_sessions : 1;
	pthread_mutex_init(&m->lock, NULL);
	return &m->base;
}

void kbs_store_free(struct kbs_store *s)
{
	if (s)
		s->ops->free(s);
}

int kbs_session_new(struct kbs_session *s, const char *tee, int64_t expires)
{
	uint8_t u[16], nonce[32];
	char *b64 = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	if (getrandom(u, sizeof(u), 0) != sizeof(u) || getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce))
		return -EIO;
	u[6] = (u[6] & 0x0f) | 0x40;	/* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	for (int i = 0; i < 16; i++)
		snprintf(s->id + 2 * i, 3, "%02x", u[i]);
	r = b64_encode(nonce, sizeof(nonce), &b64);
	if (r != KBS_NONCE_B64_LEN) {
		free(r >= 0 ? b64 : NULL);
		return r < 0 ? r : -EIO;
	}
	memcpy(s->nonce, b64, KBS_NONCE_B64_LEN + 1);
	free(b64);
	snprintf(s->tee, sizeof(s->tee), "%s", tee);
	s->expires = expires;
	return 0;
}

void kbs_session_done(struct kbs_session *s)
{
	free(s->token);
	s->token = NULL;
}
