// SPDX-License-Identifier: GPL-2.0-only
/* Loader of veil's BPF LSM isolation programs (see isolation.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <openssl/evp.h>

#include "ebpf/isolation.h"
#include "ebpf/isolation.skel.h"
#include "lib/cleanup.h"
#include "lib/log.h"

#define SECURITYFS_MAGIC 0x73636673
#define BPF_FS_MAGIC 0xcafe4a11
#define DEBUGFS_MAGIC 0x64626720
#define TRACEFS_MAGIC 0x74726163
#define SYSFS_MAGIC 0x62656572
#define CGROUP2_SUPER_MAGIC 0x63677270
#define PROC_SUPER_MAGIC 0x9fa0
#define NAME_MAX_LEN 64

struct ctr_name {
	__u64 cgid;
	char name[NAME_MAX_LEN + 1];
};

struct ebpf_isolation {
	struct isolation_bpf *skel;
	struct ring_buffer *rb;
	struct ctr_name *names;
	size_t n_names, cap_names;
	ebpf_denial_fn fn;
	void *userdata;
	int delivered;
};

static const char *const hook_names[EBPF_HOOK_MAX] = {
	[EBPF_HOOK_FILE_OPEN] = "file_open",
	[EBPF_HOOK_KEY_PERMISSION] = "key_permission",
	[EBPF_HOOK_PTRACE_ACCESS] = "ptrace_access_check",
	[EBPF_HOOK_PTRACE_TRACEME] = "ptrace_traceme",
	[EBPF_HOOK_TASK_KILL] = "task_kill",
	[EBPF_HOOK_BPF] = "bpf",
	[EBPF_HOOK_MODULE_REQUEST] = "kernel_module_request",
	[EBPF_HOOK_LOAD_DATA] = "kernel_load_data",
	[EBPF_HOOK_READ_FILE] = "kernel_read_file",
	[EBPF_HOOK_SB_MOUNT] = "sb_mount",
	[EBPF_HOOK_MOVE_MOUNT] = "move_mount",
	[EBPF_HOOK_SB_UMOUNT] = "sb_umount",
	[EBPF_HOOK_PIVOTROOT] = "sb_pivotroot",
	[EBPF_HOOK_PERF_EVENT] = "perf_event_open",
	[EBPF_HOOK_SOCKET_CREATE] = "socket_create",
	[EBPF_HOOK_USERNS_CREATE] = "userns_create",
};

const char *ebpf_hook_name(uint32_t hook)
{
	return hook < EBPF_HOOK_MAX && hook_names[hook] ? hook_names[hook] : "unknown";
}

static void detail(const struct ebpf_denial *d, char *buf, size_t len)
{
	__u32 hi = (__u32)(d->arg >> 32), lo = (__u32)d->arg;

	switch (d->hook) {
	case EBPF_HOOK_FILE_OPEN:
		if (hi == 1 || hi == 2)
			snprintf(buf, len, "%s device %u:%u", hi == 1 ? "block" : "char", lo >> 20,
				 lo & 0xfffff);
		else if (hi == 3)
			snprintf(buf, len, "filesystem magic 0x%x", lo);
		else
			snprintf(buf, len, "protected inode %u", lo);
		break;
	case EBPF_HOOK_KEY_PERMISSION:
		snprintf(buf, len, "key %d, perm %u", (int)lo, hi);
		break;
	case EBPF_HOOK_PTRACE_ACCESS:
	case EBPF_HOOK_TASK_KILL:
		snprintf(buf, len, "%s %u, target pid %u", d->hook == EBPF_HOOK_TASK_KILL ? "signal" : "mode",
			 hi, lo);
		break;
	case EBPF_HOOK_SOCKET_CREATE:
		snprintf(buf, len, "family %u, type %u", hi, lo);
		break;
	default:
		snprintf(buf, len, "0x%llx", (unsigned long long)d->arg);
	}
}

int ebpf_denial_format(const struct ebpf_denial *d, const char *name, char *buf, size_t len)
{
	char who[96], what[96], comm[sizeof(d->comm) + 1];

	if (!d || (!buf && len))
		return -EINVAL;
	memcpy(comm, d->comm, sizeof(d->comm));
	comm[sizeof(d->comm)] = '\0';
	for (char *c = comm; *c; c++)
		if (*c < 0x20 || *c == 0x7f || *c == '\'')
			*c = '?';	/* comm is the container's to choose */
	if (name)
		snprintf(who, sizeof(who), "container '%s'", name);
	else
		snprintf(who, sizeof(who), "cgroup %llu", (unsigned long long)d->cgid);
	detail(d, what, sizeof(what));
	return snprintf(buf, len, "LSM denied %s (%s) to %s: pid %u comm '%s'",
			ebpf_hook_name(d->hook), what, who, d->pid, comm);
}

int ebpf_lsm_active(void)
{
	char buf[512];
	ssize_t n;
	_cleanup_close_ int fd = open("/sys/kernel/security/lsm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	for (char *save = NULL, *t = strtok_r(buf, ",\n", &save); t; t = strtok_r(NULL, ",\n", &save))
		if (strcmp(t, "bpf") == 0)
			return 1;
	return 0;
}

int ebpf_cgroup_id(const char *path, uint64_t *ret_id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	int mnt;

	if (!path || !ret_id)
		return -EINVAL;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt, 0) < 0)
		return -errno;
	if (h.fh.handle_bytes != sizeof(uint64_t))
		return -EOPNOTSUPP;
	memcpy(ret_id, h.fh.f_handle, sizeof(uint64_t));
	return 0;
}

static int libbpf_debug(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (log_get_level() < LOG_DEBUG)
		return 0;
	return log_internalv(LOG_DEBUG, fmt, ap);
}

static int map_set(struct bpf_map *m, const void *k, const void *v)
{
	return bpf_map__update_elem(m, k, bpf_map__key_size(m), v, bpf_map__value_size(m), BPF_ANY) <
			       0 ?
		       -errno :
		       0;
}

static int protect_dev(struct ebpf_isolation *iso, unsigned int ma, unsigned int mi)
{
	__u32 dev = (ma << 20) | mi;	/* the kernel's internal dev_t */
	__u8 one = 1;

	return map_set(iso->skel->maps.protected_devs, &dev, &one);
}

int ebpf_isolation_protect_path(struct ebpf_isolation *iso, const char *path)
{
	struct ebpf_fs_inode fi = {};
	struct statfs sfs;
	struct stat st;
	__u8 one = 1;

	if (!iso || !path)
		return -EINVAL;
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISCHR(st.st_mode))
		return protect_dev(iso, major(st.st_rdev), minor(st.st_rdev));
	if (S_ISBLK(st.st_mode))
		return 0;	/* every block device is denied anyway */
	if (statfs(path, &sfs) < 0)
		return -errno;
	fi.magic = (__u64)(unsigned long)sfs.f_type;
	fi.ino = st.st_ino;
	return map_set(iso->skel->maps.protected_inodes, &fi, &one);
}

static int fill_defaults(struct ebpf_isolation *iso)
{
	/* device numbers fixed by the kernel: mem, kmem, port, kmsg, tpm0 */
	static const unsigned int devs[][2] = { { 1, 1 }, { 1, 2 }, { 1, 4 }, { 1, 11 }, { 10, 224 } };
	/* nodes whose numbers are dynamic; missing ones are skipped */
	static const char *const paths[] = {
		"/dev/tpm0", "/dev/tpmrm0", "/dev/sev-guest", "/dev/sev", "/dev/tdx_guest",
		"/dev/tdx-guest", "/dev/vsock", "/proc/kcore", "/proc/sysrq-trigger", "/proc/kmsg",
	};
	static const struct {
		__u64 magic;
		__u8 how;
	} fs[] = {
		{ SECURITYFS_MAGIC, EBPF_FS_DENY_OPEN }, { BPF_FS_MAGIC, EBPF_FS_DENY_OPEN },
		{ DEBUGFS_MAGIC, EBPF_FS_DENY_OPEN },    { TRACEFS_MAGIC, EBPF_FS_DENY_OPEN },
		{ SYSFS_MAGIC, EBPF_FS_DENY_WRITE },     { CGROUP2_SUPER_MAGIC, EBPF_FS_DENY_WRITE },
		{ PROC_SUPER_MAGIC, EBPF_FS_DENY_WRITE },
	};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(devs); i++) {
		r = protect_dev(iso, devs[i][0], devs[i][1]);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		r = ebpf_isolation_protect_path(iso, paths[i]);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fs); i++) {
		r = map_set(iso->skel->maps.protected_fs, &fs[i].magic, &fs[i].how);
		if (r < 0)
			return r;
	}
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct ebpf_isolation *iso = ctx;
	struct ebpf_denial d;

	if (size < sizeof(d))
		return 0;
	memcpy(&d, data, sizeof(d));
	d.comm[sizeof(d.comm) - 1] = '\0';
	iso->delivered++;
	if (iso->fn)
		iso->fn(&d, ebpf_isolation_container_name(iso, d.cgid), iso->userdata);
	return 0;
}

static int pin_links(struct ebpf_isolation *iso, const char *dir)
{
	const struct bpf_object_skeleton *s = iso->skel->skeleton;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	for (int i = 0; i < s->prog_cnt; i++) {
		char path[4096];
		struct bpf_link *l = *s->progs[i].link;

		snprintf(path, sizeof(path), "%s/%s", dir, s->progs[i].name);
		if (l && bpf_link__pin(l, path) < 0)
			return -errno;
	}
	return 0;
}

int ebpf_isolation_new(const char *pin_dir, struct ebpf_isolation **ret)
{
	struct ebpf_isolation *iso;
	int r;

	if (!ret)
		return -EINVAL;
	r = ebpf_lsm_active();
	if (r == 0)
		return -EOPNOTSUPP;
	if (r < 0)
		return r == -ENOENT ? -EOPNOTSUPP : r;
	libbpf_set_print(libbpf_debug);
	iso = calloc(1, sizeof(*iso));
	if (!iso)
		return -ENOMEM;
	iso->skel = isolation_bpf__open();
	if (!iso->skel) {
		r = -errno;
		goto fail;
	}
	r = isolation_bpf__load(iso->skel);
	if (r < 0)
		goto fail;
	r = fill_defaults(iso);
	if (r < 0)
		goto fail;
	r = isolation_bpf__attach(iso->skel);
	if (r < 0)
		goto fail;
	if (pin_dir) {
		r = pin_links(iso, pin_dir);
		if (r < 0)
			goto fail;
	}
	iso->rb = ring_buffer__new(bpf_map__fd(iso->skel->maps.events), on_event, iso, NULL);
	if (!iso->rb) {
		r = -errno;
		goto fail;
	}
	*ret = iso;
	return 0;
fail:
	ebpf_isolation_free(iso);
	return r < 0 ? r : -EIO;
}

struct ebpf_isolation *ebpf_isolation_free(struct ebpf_isolation *iso)
{
	if (!iso)
		return NULL;
	ring_buffer__free(iso->rb);
	isolation_bpf__destroy(iso->skel);
	free(iso->names);
	free(iso);
	return NULL;
}

static struct ctr_name *find_name(const struct ebpf_isolation *iso, uint64_t cgid)
{
	for (size_t i = 0; i < iso->n_names; i++)
		if (iso->names[i].cgid == cgid)
			return &iso->names[i];
	return NULL;
}

const char *ebpf_isolation_container_name(const struct ebpf_isolation *iso, uint64_t cgid)
{
	struct ctr_name *n = iso ? find_name(iso, cgid) : NULL;

	return n ? n->name : NULL;
}

int ebpf_isolation_add_container(struct ebpf_isolation *iso, const char *name, uint64_t cgid,
				 uint32_t flags)
{
	struct ebpf_ctr c = { .flags = flags, .sealed = 0 };
	struct ctr_name *n;
	size_t len;
	int r;

	if (!iso || !name || cgid == 0 || (flags & ~EBPF_CTR_RAW_SOCKETS))
		return -EINVAL;
	len = strnlen(name, NAME_MAX_LEN + 1);
	if (len == 0 || len > NAME_MAX_LEN)
		return -EINVAL;
	n = find_name(iso, cgid);
	if (!n) {
		if (iso->n_names >= EBPF_MAX_CONTAINERS)
			return -ENOSPC;
		if (iso->n_names == iso->cap_names) {
			size_t cap = iso->cap_names ? iso->cap_names * 2 : 8;
			struct ctr_name *p = reallocarray(iso->names, cap, sizeof(*p));

			if (!p)
				return -ENOMEM;
			iso->names = p;
			iso->cap_names = cap;
		}
		n = &iso->names[iso->n_names];
	}
	r = map_set(iso->skel->maps.containers, &cgid, &c);
	if (r < 0)
		return r;
	if (n == &iso->names[iso->n_names])
		iso->n_names++;
	n->cgid = cgid;
	memcpy(n->name, name, len);
	n->name[len] = '\0';
	return 0;
}

int ebpf_isolation_remove_container(struct ebpf_isolation *iso, uint64_t cgid)
{
	struct ctr_name *n;

	if (!iso)
		return -EINVAL;
	if (bpf_map__delete_elem(iso->skel->maps.containers, &cgid, sizeof(cgid), 0) < 0)
		return -errno;
	n = find_name(iso, cgid);
	if (n)
		*n = iso->names[--iso->n_names];
	return 0;
}

int ebpf_isolation_protect_key(struct ebpf_isolation *iso, int32_t serial)
{
	__u8 one = 1;

	if (!iso || serial <= 0)
		return -EINVAL;
	return map_set(iso->skel->maps.protected_keys, &serial, &one);
}

int ebpf_isolation_grant_key(struct ebpf_isolation *iso, int32_t serial, uint64_t cgid)
{
	struct ebpf_key_grant g = { .serial = serial, .cgid = cgid };
	__u8 one = 1;
	int r;

	if (!iso || serial <= 0 || cgid == 0)
		return -EINVAL;
	r = ebpf_isolation_protect_key(iso, serial);
	if (r < 0)
		return r;
	return map_set(iso->skel->maps.key_grants, &g, &one);
}

int ebpf_isolation_events_fd(const struct ebpf_isolation *iso)
{
	return iso ? ring_buffer__epoll_fd(iso->rb) : -EINVAL;
}

int ebpf_isolation_poll(struct ebpf_isolation *iso, int timeout_ms, ebpf_denial_fn fn,
			void *userdata)
{
	int r;

	if (!iso)
		return -EINVAL;
	iso->fn = fn;
	iso->userdata = userdata;
	iso->delivered = 0;
	r = ring_buffer__poll(iso->rb, timeout_ms);
	iso->fn = NULL;
	if (r < 0)
		return r == -EINTR ? iso->delivered : r;
	return iso->delivered;
}

/* ---- the policy digest ------------------------------------------------------ */

static int cmp_entries(const void *a, const void *b, void *len)
{
	return memcmp(a, b, *(size_t *)len);
}

static int digest_map(EVP_MD_CTX *md, struct bpf_map *m, bool containers)
{
	size_t ks = bpf_map__key_size(m), vs = bpf_map__value_size(m), es = ks + vs, n = 0;
	size_t cap = bpf_map__max_entries(m);
	_cleanup_free_ unsigned char *all = calloc(cap ? cap : 1, es);
	_cleanup_free_ unsigned char *key = calloc(1, ks), *next = calloc(1, ks);
	const char *name = bpf_map__name(m);
	int fd = bpf_map__fd(m), r;
	uint64_t count;
	void *prev = NULL;

	if (!all || !key || !next)
		return -ENOMEM;
	while ((r = bpf_map_get_next_key(fd, prev, next)) == 0) {
		unsigned char *e;

		if (n >= cap)
			return -E2BIG;
		e = all + n * es;
		memcpy(e, next, ks);
		if (bpf_map_lookup_elem(fd, next, e + ks) < 0) {
			if (errno == ENOENT)
				continue;	/* deleted meanwhile */
			return -errno;
		}
		/* `sealed` changes at run time; the policy is the flags */
		if (containers)
			((struct ebpf_ctr *)(e + ks))->sealed = 0;
		n++;
		memcpy(key, next, ks);
		prev = key;
	}
	if (errno != ENOENT)
		return -errno;
	qsort_r(all, n, es, cmp_entries, &ks);
	count = n;
	if (!EVP_DigestUpdate(md, name, strlen(name) + 1) ||
	    !EVP_DigestUpdate(md, &count, sizeof(count)) || !EVP_DigestUpdate(md, all, n * es))
		return -EIO;
	return 0;
}

int ebpf_isolation_digest(const struct ebpf_isolation *iso, const char *extra, char hex[65])
{
	const struct bpf_object_skeleton *s;
	struct bpf_map *policy[6];
	unsigned char out[32];
	unsigned int outlen = 0;
	EVP_MD_CTX *md;
	int r = 0;

	if (!iso || !hex)
		return -EINVAL;
	s = iso->skel->skeleton;
	policy[0] = iso->skel->maps.containers;
	policy[1] = iso->skel->maps.protected_keys;
	policy[2] = iso->skel->maps.key_grants;
	policy[3] = iso->skel->maps.protected_devs;
	policy[4] = iso->skel->maps.protected_fs;
	policy[5] = iso->skel->maps.protected_inodes;
	md = EVP_MD_CTX_new();
	if (!md)
		return -ENOMEM;
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		r = -EIO;
		goto out;
	}
	for (int i = 0; i < s->prog_cnt; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(*s->progs[i].prog);

		if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
			r = -errno;
			goto out;
		}
		if (!EVP_DigestUpdate(md, s->progs[i].name, strlen(s->progs[i].name) + 1) ||
		    !EVP_DigestUpdate(md, info.tag, sizeof(info.tag))) {
			r = -EIO;
			goto out;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(policy); i++) {
		r = digest_map(md, policy[i], i == 0);
		if (r < 0)
			goto out;
	}
	if (extra && !EVP_DigestUpdate(md, extra, strlen(extra) + 1)) {
		r = -EIO;
		goto out;
	}
	if (!EVP_DigestFinal_ex(md, out, &outlen) || outlen != 32) {
		r = -EIO;
		goto out;
	}
	for (unsigned int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
out:
	EVP_MD_CTX_free(md);
	return r;
}

int ebpf_isolation_object_digest(char hex[65])
{
	unsigned char out[32];
	unsigned int outlen = 0;
	const void *elf;
	size_t sz = 0;

	if (!hex)
		return -EINVAL;
	elf = isolation_bpf__elf_bytes(&sz);
	if (!elf || !sz)
		return -ENOENT;
	if (!EVP_Digest(elf, sz, out, &outlen, EVP_sha256(), NULL) || outlen != 32)
		return -EIO;
	for (unsigned int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
	return 0;
}
