// SPDX-License-Identifier: GPL-2.0-only
/* veil-decryptd's configuration and who a peer is. */
#include "fhe/decryptd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fd.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

static int fail(struct vjson_err *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct vjson_err *e, int err, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}

void decryptd_config_done(struct decryptd_config *c)
{
	for (size_t i = 0; i < c->n_containers; i++) {
		free(c->containers[i].cgroup);
		free(c->containers[i].name);
	}
	free(c->containers);
	for (size_t i = 0; i < c->n_models; i++) {
		struct decryptd_model *m = &c->models[i];

		decryptd_model_unload(m);
		free(m->name);
		free(m->sealed);
		free(m->key_desc);
		for (size_t j = 0; j < m->n_grant; j++)
			free(m->grant[j]);
		free(m->grant);
	}
	free(c->models);
	free(c->socket);
	free(c->receipts);
	*c = (struct decryptd_config){ 0 };
}

static bool ident_ok(const char *s)
{
	if (!*s || strlen(s) > DECRYPTD_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static int parse_model(const char *name, json_t *o, struct decryptd_model *m, struct vjson_err *e)
{
	static const char *const keys[] = { "sealed", "key", "grant", NULL };
	char where[DECRYPTD_NAME_MAX + 16];
	const char *sealed, *key;
	json_t *grant, *v;
	size_t i;
	int r;

	snprintf(where, sizeof(where), "models.%s", name);
	if (!ident_ok(name))
		return fail(e, -EINVAL, "'%s': model name must be [A-Za-z0-9._-]{1,%u}", where,
			    DECRYPTD_NAME_MAX);
	if (!json_is_object(o))
		return fail(e, -EINVAL, "'%s': expected an object", where);
	if ((r = vjson_check_keys(o, where, keys, e)) < 0 ||
	    (r = vjson_get_string(o, where, "sealed", 4096, &sealed, e)) < 0 ||
	    (r = vjson_get_string(o, where, "key", 4096, &key, e)) < 0 ||
	    (r = vjson_get_array(o, where, "grant", DECRYPTD_GRANTS_MAX, &grant, e)) < 0)
		return r;
	m->name = strdup(name);
	m->sealed = strdup(sealed);
	m->key_desc = strdup(key);
	m->grant = calloc(json_array_size(grant) + 1, sizeof(char *));
	if (!m->name || !m->sealed || !m->key_desc || !m->grant)
		return -ENOMEM;
	json_array_foreach(grant, i, v) {
		if (!json_is_string(v) || !ident_ok(json_string_value(v)))
			return fail(e, -EINVAL, "'%s.grant[%zu]': expected a container name", where, i);
		m->grant[i] = strdup(json_string_value(v));
		if (!m->grant[i])
			return -ENOMEM;
		m->n_grant = i + 1;
	}
	return 0;
}

int decryptd_config_parse(const char *buf, size_t len, struct decryptd_config *ret,
			  struct vjson_err *e)
{
	static const char *const keys[] = { "socket", "workers", "queue", "max_connections",
					    "io", "containers", "models", "receipts", NULL };
	struct decryptd_config c = { 0 };
	json_auto_t *j = NULL;
	json_t *conts = NULL, *models = NULL, *v;
	const char *sock = DECRYPTD_SOCKET_DEFAULT, *io = "auto", *rcpt = NULL, *k;
	int64_t workers = 0, queue = 64, maxc = 1024;
	int r;

	r = vjson_parse(buf, len, DECRYPTD_CONFIG_MAX, 6, &j, e);
	if (r < 0)
		return r;
	if ((r = vjson_check_keys(j, "", keys, e)) < 0 ||
	    (r = vjson_get_string_opt(j, "", "socket", 107, &sock, e)) < 0 ||
	    (r = vjson_get_int_opt(j, "", "workers", 0, DECRYPTD_WORKERS_MAX, &workers, e)) < 0 ||
	    (r = vjson_get_int_opt(j, "", "queue", 1, DECRYPTD_QUEUE_MAX, &queue, e)) < 0 ||
	    (r = vjson_get_int_opt(j, "", "max_connections", 1, DECRYPTD_CONN_MAX, &maxc, e)) < 0 ||
	    (r = vjson_get_string_opt(j, "", "io", 8, &io, e)) < 0 ||
	    (r = vjson_get_string_opt(j, "", "receipts", 4096, &rcpt, e)) < 0 ||
	    (r = vjson_get_object_opt(j, "", "containers", &conts, e)) < 0 ||
	    (r = vjson_get_object_opt(j, "", "models", &models, e)) < 0)
		return r;
	if (strcmp(io, "auto") != 0 && strcmp(io, "basic") != 0)
		return fail(e, -EINVAL, "'io': '%s' is neither 'auto' nor 'basic'", io);
	if (sock[0] != '/')
		return fail(e, -EINVAL, "'socket': '%s' is not an absolute path", sock);
	if (rcpt && rcpt[0] != '/')
		return fail(e, -EINVAL, "'receipts': '%.64s' is not an absolute path", rcpt);
	if (conts && json_object_size(conts) > DECRYPTD_CONTAINERS_MAX)
		return fail(e, -E2BIG, "'containers': more than %u entries", DECRYPTD_CONTAINERS_MAX);
	if (models && json_object_size(models) > DECRYPTD_MODELS_MAX)
		return fail(e, -E2BIG, "'models': more than %u entries", DECRYPTD_MODELS_MAX);
	c.socket = strdup(sock);
	if (rcpt && !(c.receipts = strdup(rcpt)))
		return -ENOMEM;
	c.workers = (unsigned int)workers;
	c.queue = (unsigned int)queue;
	c.max_conn = (unsigned int)maxc;
	c.io_basic = strcmp(io, "basic") == 0;
	c.containers = calloc(conts ? json_object_size(conts) + 1 : 1, sizeof(*c.containers));
	c.models = calloc(models ? json_object_size(models) + 1 : 1, sizeof(*c.models));
	if (!c.socket || !c.containers || !c.models) {
		decryptd_config_done(&c);
		return -ENOMEM;
	}
	if (conts)
		json_object_foreach(conts, k, v) {
			struct decryptd_container *ct = &c.containers[c.n_containers];

			if (k[0] != '/' || strlen(k) > 4096 || !json_is_string(v) ||
			    !ident_ok(json_string_value(v))) {
				r = fail(e, -EINVAL,
					 "'containers.%.64s': expected an absolute cgroup path mapped to a container name",
					 k);
				decryptd_config_done(&c);
				return r;
			}
			ct->cgroup = strdup(k);
			ct->name = strdup(json_string_value(v));
			c.n_containers++;
			if (!ct->cgroup || !ct->name) {
				decryptd_config_done(&c);
				return -ENOMEM;
			}
		}
	if (models)
		json_object_foreach(models, k, v) {
			r = parse_model(k, v, &c.models[c.n_models], e);
			c.n_models++;
			if (r < 0) {
				decryptd_config_done(&c);
				return r;
			}
		}
	*ret = c;
	return 0;
}

int decryptd_config_load(const char *path, struct decryptd_config *ret, struct vjson_err *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = fd_read_file(path, DECRYPTD_CONFIG_MAX, &buf, &len);
	if (r < 0)
		return fail(e, r, "cannot read '%s': %s", path, strerror(-r));
	return decryptd_config_parse(buf, len, ret, e);
}

const struct decryptd_model *decryptd_config_model(const struct decryptd_config *c,
						   const char *name)
{
	for (size_t i = 0; i < c->n_models; i++)
		if (strcmp(c->models[i].name, name) == 0)
			return &c->models[i];
	return NULL;
}

bool decryptd_model_granted(const struct decryptd_model *m, const char *container)
{
	for (size_t i = 0; i < m->n_grant; i++)
		if (strcmp(m->grant[i], container) == 0)
			return true;
	return false;
}

int decryptd_pid_cgroup(pid_t pid, char *buf, size_t len)
{
	char path[64], data[8192];
	_cleanup_close_ int fd = -1;
	ssize_t n;
	char *line;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = fd_read_full(fd, data, sizeof(data) - 1);
	if (n < 0)
		return (int)n;
	data[n] = '\0';
	for (line = data; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, "0::", 3) == 0) {
			size_t l = strcspn(line + 3, "\n");

			if (l + 1 > len)
				return -ENAMETOOLONG;
			memcpy(buf, line + 3, l);
			buf[l] = '\0';
			return 0;
		}
	}
	return -ENOENT;	/* no cgroup v2 hierarchy */
}

int decryptd_peer_container(int fd, const struct decryptd_config *c,
			    const struct decryptd_container **ret, char *ret_cgroup, size_t cg_len)
{
	struct ucred cred;
	socklen_t sl = sizeof(cred);
	_cleanup_close_ int pidfd = -1;
	char cg[4097];
	int r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) < 0)
		return -errno;
	if (cred.pid <= 0)
		return -ESRCH;
	sl = sizeof(pidfd);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &sl) < 0) {
		if (errno != ENOPROTOOPT)
			return -errno;
		pidfd = -1;	/* kernel < 6.5: the pid is all there is */
	}
	r = decryptd_pid_cgroup(cred.pid, cg, sizeof(cg));
	if (r < 0)
		return r;
	/* still the same process: its pid was not recycled while /proc was read */
	if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return -ESRCH;
	if (ret_cgroup)
		snprintf(ret_cgroup, cg_len, "%s", cg);
	for (size_t i = 0; i < c->n_containers; i++)
		if (strcmp(c->containers[i].cgroup, cg) == 0) {
			*ret = &c->containers[i];
			return 0;
		}
	return -EACCES;
}
