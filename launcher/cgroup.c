// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"

int launcher_cgroup_find_mount(char **ret)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		char mnt[2048];

		if (!sep || strncmp(sep, " - cgroup2 ", 11) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %2047s", mnt) != 1)
			continue;
		*ret = strdup(mnt);
		return *ret ? 0 : -ENOMEM;
	}
	return -ENOENT;
}

static int write_str(const char *dir, const char *file, const char *val)
{
	_cleanup_free_ char *p = NULL;
	_cleanup_close_ int fd = -1;

	if (asprintf(&p, "%s/%s", dir, file) < 0)
		return -ENOMEM;
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		return -errno;
	return 0;
}

static int read_in(const char *dir, const char *file, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, file) < 0)
		return -ENOMEM;
	return fd_read_file(p, 65536, ret, ret_len);
}

static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return true;
	return false;
}

static int own_cgroup(char **ret)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			*ret = strdup(line + 3);
			return *ret ? 0 : -ENOMEM;
		}
	return -ENOENT;
}

int launcher_cgroup_setup(const char *name, struct launcher_cgroups *ret)
{
	_cleanup_free_ char *mnt = NULL, *own = NULL, *ctl = NULL, *path = NULL;
	size_t n;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = launcher_cgroup_find_mount(&mnt);
	if (r < 0)
		return log_err("No cgroup2 hierarchy is mounted: %s", strerror(-r));
	r = own_cgroup(&own);
	if (r < 0)
		return log_err("Failed to read /proc/self/cgroup: %s", strerror(-r));
	if (asprintf(&path, "%s%s%s%s", mnt, strcmp(own, "/") ? own : "", "/", name) < 0)
		return -ENOMEM;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return log_err("Failed to create cgroup '%s': %m", path);
	/* Our own group is the root as real PID 1; there enabling is allowed. */
	if (!strcmp(own, "/"))
		(void)write_str(mnt, "cgroup.subtree_control", "+memory +pids +cpu");
	r = write_str(path, "cgroup.subtree_control", "+memory +pids +cpu");
	if (r >= 0 && read_in(path, "cgroup.subtree_control", &ctl, &n) >= 0 &&
	    has_word(ctl, "memory") && has_word(ctl, "pids"))
		ret->enforced = true;
	if (!ret->enforced)
		log_warn("cgroup v2 at '%s' has no memory/pids controllers (hybrid host?): "
			 "container resource limits are NOT enforced; leaves kept for identity", mnt);
	ret->parent = TAKE_PTR(path);
	return 0;
}

int launcher_cgroup_leaf(const struct launcher_cgroups *cg, const char *name,
			 const struct oci_config *cfg, char **ret_path)
{
	_cleanup_free_ char *path = NULL;
	char v[64];
	bool limits = cfg->memory_limit >= 0 || cfg->pids_limit >= 0 || cfg->cpu_quota >= 0 ||
		      cfg->cpu_shares;
	int r;

	if (asprintf(&path, "%s/%s", cg->parent, name) < 0)
		return -ENOMEM;
	if (mkdir(path, 0755) < 0) {
		if (errno != EEXIST)
			return log_err("Failed to create cgroup '%s': %m", path);
		/* A leftover leaf from an earlier run of this container. */
		(void)launcher_cgroup_remove(path);
		if (mkdir(path, 0755) < 0)
			return log_err("Failed to create cgroup '%s': %m", path);
	}
	if (limits && !cg->enforced)
		log_warn("container '%s': resource limits are NOT enforced (no memory/pids "
			 "controllers on this cgroup v2 hierarchy)", name);
	if (limits && cg->enforced) {
		if (cfg->memory_limit >= 0) {
			snprintf(v, sizeof(v), "%" PRId64, cfg->memory_limit);
			r = write_str(path, "memory.max", v);
			if (r < 0)
				goto fail;
			if (cfg->memory_swap >= 0) {
				int64_t sw = cfg->memory_swap - cfg->memory_limit;

				snprintf(v, sizeof(v), "%" PRId64, sw > 0 ? sw : 0);
				r = write_str(path, "memory.swap.max", v);
				if (r < 0 && r != -ENOENT)
					goto fail;
			}
		}
		if (cfg->pids_limit >= 0) {
			snprintf(v, sizeof(v), "%" PRId64, cfg->pids_limit);
			r = write_str(path, "pids.max", v);
			if (r < 0)
				goto fail;
		}
		if (cfg->cpu_quota >= 0) {
			snprintf(v, sizeof(v), "%" PRId64 " %" PRIu64, cfg->cpu_quota, cfg->cpu_period);
			r = write_str(path, "cpu.max", v);
			if (r < 0)
				goto fail;
		}
		if (cfg->cpu_shares) {
			/* The OCI/runc conversion from shares (2..262144) to weight (1..10000). */
			uint64_t s = cfg->cpu_shares < 2 ? 2 : cfg->cpu_shares;

			snprintf(v, sizeof(v), "%" PRIu64, 1 + ((s - 2) * 9999) / 262142);
			r = write_str(path, "cpu.weight", v);
			if (r < 0)
				goto fail;
		}
	}
	if (limits && cg->enforced)
		log_info("container '%s': cgroup limits enforced (memory.max %lld, pids.max %lld, cpu quota %lld)",
			 name, (long long)cfg->memory_limit, (long long)cfg->pids_limit,
			 (long long)cfg->cpu_quota);
	*ret_path = TAKE_PTR(path);
	return 0;
fail:
	log_err("container '%s': Failed to apply cgroup limits in '%s': %s", name, path, strerror(-r));
	rmdir(path);
	return r;
}

int launcher_cgroup_remove(const char *path)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	if (rmdir(path) == 0 || errno == ENOENT)
		return 0;
	/* cgroup.kill (5.14+) ends whatever is left; the leaf empties asynchronously. */
	(void)write_str(path, "cgroup.kill", "1");
	for (int i = 0; i < 500; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	return -errno;
}

void launcher_cgroup_done(struct launcher_cgroups *cg)
{
	if (cg->parent) {
		(void)launcher_cgroup_remove(cg->parent);
		free(cg->parent);
		cg->parent = NULL;
	}
}
