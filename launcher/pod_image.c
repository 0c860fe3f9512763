// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/pod_image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher/confine.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"
#include "lib/secmem.h"

struct slot {
	const struct manifest_container *mc;
	struct launcher_image *img;
	char *bundle;		/* root/NAME, a tmpfs mount while set */
};

struct launcher_pod_images {
	const struct manifest *m;
	char *root;
	bool root_mounted;
	struct slot *slots;	/* indexed like m->containers */
	size_t n_slots;
	size_t n_added;		/* resources this file appended to m */
};

int launcher_pod_images_new(const struct manifest *m, const char *root,
			    struct launcher_pod_images **ret)
{
	struct launcher_pod_images *pi = calloc(1, sizeof(*pi));

	if (!pi)
		return -ENOMEM;
	pi->m = m;
	pi->root = strdup(root ? root : POD_IMAGE_ROOT);
	pi->slots = calloc(m->n_containers, sizeof(*pi->slots));
	if (!pi->root || !pi->slots) {
		launcher_pod_images_free(pi);
		return -ENOMEM;
	}
	pi->n_slots = m->n_containers;
	for (size_t i = 0; i < pi->n_slots; i++)
		pi->slots[i].mc = &m->containers[i];
	*ret = pi;
	return 0;
}

static void drop_bundle(struct slot *s)
{
	if (!s->bundle)
		return;
	/* The tmpfs goes with its pages: no unpacked byte survives the unmount. */
	if (umount2(s->bundle, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		log_warn("Failed to unmount '%s': %m", s->bundle);
	if (rmdir(s->bundle) < 0 && errno != ENOENT)
		log_warn("Failed to remove '%s': %m", s->bundle);
	free(s->bundle);
	s->bundle = NULL;
}

struct launcher_pod_images *launcher_pod_images_free(struct launcher_pod_images *pi)
{
	if (!pi)
		return NULL;
	for (size_t i = 0; i < pi->n_slots; i++) {
		drop_bundle(&pi->slots[i]);
		launcher_image_free(pi->slots[i].img);
	}
	if (pi->root_mounted) {
		(void)umount2(pi->root, MNT_DETACH);
		(void)rmdir(pi->root);
	}
	free(pi->slots);
	free(pi->root);
	free(pi);
	return NULL;
}

int launcher_pod_image_open(const struct manifest_image *im, struct launcher_image **ret,
			    struct vjson_err *e)
{
	struct launcher_image *img = NULL;
	const char *ref = im->ref;
	int r;

	/* Without a ref, the pin selects the manifest; with both, both must hold. */
	if (!ref && im->pinned)
		ref = im->digest;
	r = launcher_image_open(im->layout, ref, &img, e);
	if (r < 0)
		return r;
	if (im->pinned && strcmp(img->manifest_digest, im->digest) != 0) {
		snprintf(e->msg, sizeof(e->msg), "image manifest %s does not match the pinned %s",
			 img->manifest_digest, im->digest);
		launcher_image_free(img);
		return -EKEYREJECTED;
	}
	*ret = img;
	return 0;
}

/* "sha256:HEX" to the 32 bytes the container event carries. */
static void digest_raw(const char *d, uint8_t out[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned int v = 0;

		sscanf(d + 7 + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static json_t *str_array(char **v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && v && v[i]; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

char *launcher_pod_image_overrides_json(const struct manifest_container *c, int *ret_err)
{
	const struct manifest_image *im = c->image;
	json_t *o;
	char *s;

	*ret_err = 0;
	if (!im || (!im->entrypoint && !im->cmd && !im->env && !im->cwd && !im->user &&
		    !im->allow_devices && !im->allow_setuid))
		return NULL;
	o = json_object();
	if (!o || json_object_set_new(o, "name", json_string(c->name)) < 0 ||
	    (im->entrypoint && json_object_set_new(o, "entrypoint", str_array(im->entrypoint)) < 0) ||
	    (im->cmd && json_object_set_new(o, "cmd", str_array(im->cmd)) < 0) ||
	    (im->env && json_object_set_new(o, "env", str_array(im->env)) < 0) ||
	    (im->cwd && json_object_set_new(o, "cwd", json_string(im->cwd)) < 0) ||
	    (im->user && json_object_set_new(o, "user", json_string(im->user)) < 0) ||
	    json_object_set_new(o, "allow_devices", json_boolean(im->allow_devices)) < 0 ||
	    json_object_set_new(o, "allow_setuid", json_boolean(im->allow_setuid)) < 0) {
		json_decref(o);
		*ret_err = -ENOMEM;
		return NULL;
	}
	s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	if (!s)
		*ret_err = -ENOMEM;
	return s;
}

int launcher_pod_image_measure(struct launcher_pod_images *pi, size_t idx,
			       struct launcher_recorder *rec)
{
	struct slot *s = &pi->slots[idx];
	const struct manifest_image *im = s->mc->image;
	_cleanup_free_ char *content = NULL;
	struct vjson_err e = { { 0 } };
	uint8_t d[32];
	int r;

	r = launcher_pod_image_open(im, &s->img, &e);
	if (r < 0)
		return log_err("container '%s' refused: image '%s': %s", s->mc->name, im->layout,
			       r == -ENOMEM ? "out of memory" : e.msg), r;
	if (launcher_image_encrypted(s->img) && !pi->m->has_kbs) {
		s->img = launcher_image_free(s->img);
		return log_err("container '%s' refused: image '%s' has encrypted layers and the "
			       "manifest names no KBS to release their keys", s->mc->name, im->layout),
		       -ENOKEY;
	}
	/* The manifest digest pins the config and every layer: it is the container's digest. */
	digest_raw(s->img->manifest_digest, d);
	content = launcher_record_container_json(s->mc->name, d);
	if (!content || launcher_record_event(rec, "container", content) < 0) {
		s->img = launcher_image_free(s->img);
		return log_err("container '%s' refused: its measurement could not be recorded",
			       s->mc->name), -EIO;
	}
	/* What the manifest changes of the image's config is measured with it. */
	{
		_cleanup_free_ char *ov = launcher_pod_image_overrides_json(s->mc, &r);

		if (r < 0 || (ov && launcher_record_event(rec, POD_IMAGE_CONFIG_OP, ov) < 0)) {
			s->img = launcher_image_free(s->img);
			return log_err("container '%s' refused: its config overrides could not be "
				       "recorded", s->mc->name), -EIO;
		}
	}
	log_info("container '%s': image '%s' manifest %s, %zu layer(s)%s", s->mc->name, im->layout,
		 s->img->manifest_digest, s->img->n_layers,
		 launcher_image_encrypted(s->img) ? ", encrypted" : "");
	return 0;
}

static const struct manifest_resource *resource_by_uri(const struct manifest *m, const char *uri)
{
	for (size_t i = 0; i < m->n_resources; i++)
		if (!strcmp(m->resources[i].uri, uri))
			return &m->resources[i];
	return NULL;
}

static const struct manifest_resource *resource_by_name(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->n_resources; i++)
		if (!strcmp(m->resources[i].name, name))
			return &m->resources[i];
	return NULL;
}

int launcher_pod_image_resources(struct launcher_pod_images *pi, struct manifest *m)
{
	for (size_t i = 0; i < pi->n_slots; i++) {
		struct slot *s = &pi->slots[i];
		_cleanup_(json_decrefp) json_t *uris = NULL;
		struct vjson_err e = { { 0 } };
		json_t *u;
		size_t k;
		int r;

		if (!s->img)
			continue;
		r = launcher_image_kbs_uris(s->img, &uris, &e);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			log_err("container '%s' refused: image '%s': %s", s->mc->name,
				s->mc->image->layout, e.msg);
			s->img = launcher_image_free(s->img);
			continue;
		}
		json_array_foreach(uris, k, u) {
			const char *uri = json_string_value(u);
			char desc[KEYRING_DESC_MAX], name[MANIFEST_NAME_MAX + 32];
			struct manifest_resource *nr;

			if (resource_by_uri(m, uri))
				continue;
			if (keyring_uri_to_desc(uri, strlen(uri), desc, sizeof(desc)) < 0 ||
			    pi->n_added >= POD_IMAGE_KIDS_MAX) {
				log_err("container '%s' refused: image '%s': %s '%.200s'", s->mc->name,
					s->mc->image->layout,
					pi->n_added >= POD_IMAGE_KIDS_MAX ? "too many key URIs, at"
									  : "a malformed key URI",
					uri);
				s->img = launcher_image_free(s->img);
				break;
			}
			nr = realloc(m->resources, (m->n_resources + 1) * sizeof(*nr));
			if (!nr)
				return -ENOMEM;
			m->resources = nr;
			snprintf(name, sizeof(name), POD_IMAGE_RESOURCE_PREFIX "%s:%zu", s->mc->name, k);
			nr[m->n_resources].name = strdup(name);
			nr[m->n_resources].uri = strdup(uri);
			if (!nr[m->n_resources].name || !nr[m->n_resources].uri) {
				free(nr[m->n_resources].name);
				free(nr[m->n_resources].uri);
				return -ENOMEM;
			}
			m->n_resources++;
			pi->n_added++;
			log_info("container '%s': its image needs the KBS resource '%s'", s->mc->name,
				 uri);
		}
	}
	return 0;
}

/* A key veil holds for a kbs:// URI, read into secure memory. */
static int read_key(struct keyring *kr, const char *uri, uint8_t **ret, size_t *ret_len)
{
	char desc[KEYRING_DESC_MAX];
	key_serial_t key;
	uint8_t *buf;
	long n, got;
	int r;

	r = keyring_uri_to_desc(uri, strlen(uri), desc, sizeof(desc));
	if (r < 0)
		return r;
	r = keyring_find(kr, desc + strlen(KEYRING_DESC_PREFIX), &key);
	if (r < 0)
		return r;
	n = keyctl_read(key, NULL, 0);
	if (n < 0)
		return -errno;
	if (n == 0 || n > KEYRING_PAYLOAD_MAX)
		return -EBADMSG;
	buf = secmem_alloc((size_t)n);
	if (!buf)
		return -ENOMEM;
	got = keyctl_read(key, (char *)buf, (size_t)n);
	if (got != n) {
		r = got < 0 ? -errno : -EIO;
		secmem_free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = (size_t)n;
	return 0;
}

/* ocicrypt's KEK lookup for annotation packets: only from veil's keyring. */
static int make_bundle(struct launcher_pod_images *pi, struct slot *s)
{
	char path[PATH_MAX];

	if (!pi->root_mounted) {
		if ((mkdir("/run/veil", 0700) < 0 && errno != EEXIST) ||
		    (mkdir(pi->root, 0700) < 0 && errno != EEXIST))
			return -errno;
		/* Our own tmpfs, so nothing below it touches the disk or the host's /run. */
		if (mount("tmpfs", pi->root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
			return -errno;
		pi->root_mounted = true;
	}
	snprintf(path, sizeof(path), "%s/%s", pi->root, s->mc->name);
	if (mkdir(path, 0700) < 0)
		return -errno;
	if (mount("tmpfs", path, "tmpfs", MS_NODEV, "mode=0755") < 0) {
		int r = -errno;

		rmdir(path);
		return r;
	}
	s->bundle = strdup(path);
	if (!s->bundle) {
		umount2(path, MNT_DETACH);
		rmdir(path);
		return -ENOMEM;
	}
	return 0;
}

/* What the unpacker tells PID 1 on its pipe: fixed size, no pointers. */
struct unpack_report {
	int r;
	int landlock;
	char what[16];
	struct unpack_stats st;
	char msg[sizeof(((struct vjson_err *)0)->msg)];
};

/*
 * The keys of one image, handed from PID 1 to its unpacker. The unpacker
 * cannot read them from the keyring itself: veil's keyring hangs off PID 1's
 * process keyring, which a fork does not inherit, and secmem is never seen by
 * a child. So PID 1 copies exactly this image's keys into one private mapping
 * that is locked and kept out of core dumps but inherited across fork(); right
 * after the fork PID 1 wipes and unmaps its side, the unpacker wipes its copy
 * when it is done. Pointers into the mapping are valid in both processes.
 */
struct unpacker_keys {
	struct ocicrypt_secret jwe[MANIFEST_KEYS_MAX];
	size_t n_jwe;
	struct {
		const char *uri;	/* borrowed from uris */
		const uint8_t *data;
		size_t len;
	} kbs[POD_IMAGE_KIDS_MAX];
	size_t n_kbs;
	json_t *uris;
	uint8_t *map;
	size_t map_len, used;
};

static void unpacker_keys_wipe(struct unpacker_keys *k)
{
	if (k->map) {
		explicit_bzero(k->map, k->map_len);
		munmap(k->map, k->map_len);
	}
	json_decref(k->uris);
	*k = (struct unpacker_keys){ .n_jwe = 0 };
}

/* Reads a key into the hand-over mapping, growing nothing: sized by the caller. */
static int handover_put(struct unpacker_keys *k, struct keyring *kr, const char *uri,
			const uint8_t **ret, size_t *ret_len)
{
	uint8_t *p;
	size_t n;
	int r = read_key(kr, uri, &p, &n);

	if (r < 0)
		return r;
	if (n > k->map_len - k->used) {
		secmem_free(p);
		return -E2BIG;
	}
	memcpy(k->map + k->used, p, n);
	secmem_free(p);
	*ret = k->map + k->used;
	*ret_len = n;
	k->used += n;
	return 0;
}

/* PID 1, before the fork: this image's keys, and only those, into a fresh mapping. */
static int unpacker_keys_take(struct launcher_pod_images *pi, struct slot *s, struct keyring *kr,
			      struct unpacker_keys *k, struct vjson_err *e)
{
	const struct manifest_image *im = s->mc->image;
	size_t n_uris, i;
	json_t *u;
	int r;

	if (!kr)
		return 0;
	r = launcher_image_kbs_uris(s->img, &k->uris, e);
	if (r < 0)
		return r;
	n_uris = json_array_size(k->uris);
	if (n_uris > POD_IMAGE_KIDS_MAX)
		n_uris = POD_IMAGE_KIDS_MAX;
	k->map_len = (im->n_keys + n_uris) * KEYRING_PAYLOAD_MAX;
	if (!k->map_len)
		return 0;
	k->map = mmap(NULL, k->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k->map == MAP_FAILED) {
		k->map = NULL;
		return -errno;
	}
	/* Locked and out of core dumps; and nothing is in it yet when a call below fails. */
	if (mlock(k->map, k->map_len) < 0 || madvise(k->map, k->map_len, MADV_DONTDUMP) < 0)
		return -errno;
	for (i = 0; i < im->n_keys; i++) {
		const struct manifest_resource *res = resource_by_name(pi->m, im->keys[i]);

		r = res ? handover_put(k, kr, res->uri, (const uint8_t **)&k->jwe[i].data,
				       &k->jwe[i].len)
			: -ENOKEY;
		if (r < 0) {
			snprintf(e->msg, sizeof(e->msg), "key '%s' is not in veil's keyring: %s",
				 im->keys[i], strerror(-r));
			return r;
		}
		k->n_jwe++;
	}
	json_array_foreach(k->uris, i, u) {
		if (k->n_kbs >= n_uris)
			break;
		k->kbs[k->n_kbs].uri = json_string_value(u);
		/* absent: unpacking says which layer's key is missing */
		if (handover_put(k, kr, k->kbs[k->n_kbs].uri, &k->kbs[k->n_kbs].data,
				 &k->kbs[k->n_kbs].len) == 0)
			k->n_kbs++;
	}
	return 0;
}

static int unpacker_kbs_get(void *ctx, const char *uri, uint8_t **ret, size_t *ret_len)
{
	const struct unpacker_keys *k = ctx;

	for (size_t i = 0; i < k->n_kbs; i++) {
		if (strcmp(k->kbs[i].uri, uri))
			continue;
		*ret = secmem_alloc(k->kbs[i].len);
		if (!*ret)
			return -ENOMEM;
		memcpy(*ret, k->kbs[i].data, k->kbs[i].len);
		*ret_len = k->kbs[i].len;
		return 0;
	}
	return -ENOENT;
}

/*
 * The unpacker: a fork of PID 1 that keeps only the pipe, the layout and the
 * rootfs, confines itself (launcher/confine.h) and only then decrypts,
 * decompresses and unpacks the layers. A parser bug in a layer reaches
 * neither PID 1's memory (the other keys, the LSM links, the TPM) nor
 * anything outside the rootfs it writes.
 */
static _Noreturn void unpacker(struct slot *s, struct unpacker_keys *k, int rootfd, int out)
{
	const struct manifest_image *im = s->mc->image;
	struct ocicrypt_keys keys = { .jwe_keys = k->jwe, .n_jwe_keys = k->n_jwe };
	struct unpack_opts uo = { .chown = -1, .allow_devices = im->allow_devices,
				  .allow_setuid = im->allow_setuid };
	cap_value_t caps[] = { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_MKNOD };
	struct unpack_report rep = { 0 };
	struct vjson_err e = { { 0 } };
	int keep[3] = { out, rootfd, s->img->dirfd };
	int r;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* PID 1's log fds are closed below; what matters goes back on the pipe. */
	(void)log_set_sinks(0);
	if (k->map) {
		keys.kbs_get = unpacker_kbs_get;
		keys.kbs_ctx = k;
	}
	r = fd_close_stray(keep, 3);
	if (r == 0)
		r = launcher_confine_helper(s->img->dirfd, rootfd, caps,
					    sizeof(caps) / sizeof(caps[0]) - !im->allow_devices,
					    &rep.landlock);
	if (r < 0) {
		snprintf(e.msg, sizeof(e.msg), "Failed to confine the unpacker: %s", strerror(-r));
		snprintf(rep.what, sizeof(rep.what), "unpacker");
	} else {
		r = launcher_image_unpack(s->img, rootfd, &keys, &uo, &rep.st, &e);
		if (r < 0)
			snprintf(rep.what, sizeof(rep.what), "image");
	}
	if (k->map)
		explicit_bzero(k->map, k->map_len);
	rep.r = r;
	memcpy(rep.msg, e.msg, sizeof(rep.msg));
	(void)!fd_write_full(out, &rep, sizeof(rep));
	_exit(r < 0 ? 1 : 0);
}

/* Runs the unpacker and waits for its report; a hung one is killed at the deadline. */
static int run_unpacker(struct launcher_pod_images *pi, struct slot *s, struct keyring *kr,
			int rootfd, struct unpack_report *rep)
{
	struct unpacker_keys k = { .n_jwe = 0 };
	struct vjson_err e = { { 0 } };
	int p[2], status = 0, r;
	struct pollfd pfd;
	ssize_t n;
	pid_t pid;

	r = unpacker_keys_take(pi, s, kr, &k, &e);
	if (r < 0) {
		unpacker_keys_wipe(&k);
		snprintf(rep->what, sizeof(rep->what), "keys");
		memcpy(rep->msg, e.msg, sizeof(rep->msg));
		return r;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		unpacker_keys_wipe(&k);
		return -errno;
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		unpacker(s, &k, rootfd, p[1]);
	}
	/* PID 1's side of the keys goes now, whether or not the fork worked. */
	unpacker_keys_wipe(&k);
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	close(p[1]);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	n = poll(&pfd, 1, POD_IMAGE_UNPACK_TIMEOUT_MS);
	n = n > 0 ? fd_read_full(p[0], rep, sizeof(*rep)) : (n == 0 ? -ETIMEDOUT : -errno);
	close(p[0]);
	if (n == -ETIMEDOUT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(status)) {
		snprintf(rep->what, sizeof(rep->what), "unpacker");
		snprintf(rep->msg, sizeof(rep->msg), "%s (signal %d%s)",
			 n == -ETIMEDOUT ? "timed out and was killed" : "was killed",
			 WTERMSIG(status),
			 WTERMSIG(status) == SIGSYS ? ": a system call outside its seccomp allowlist" : "");
		return -ECHILD;
	}
	if (n != (ssize_t)sizeof(*rep)) {
		snprintf(rep->what, sizeof(rep->what), "unpacker");
		snprintf(rep->msg, sizeof(rep->msg), "ended (status %d) without a report",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -ECHILD;
	}
	rep->what[sizeof(rep->what) - 1] = '\0';
	rep->msg[sizeof(rep->msg) - 1] = '\0';
	/* A report and an exit status that disagree: believe the failure. */
	if (rep->r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		snprintf(rep->what, sizeof(rep->what), "unpacker");
		snprintf(rep->msg, sizeof(rep->msg), "reported success but exited with status %d",
			 WEXITSTATUS(status));
		return -ECHILD;
	}
	return rep->r > 0 ? -EIO : rep->r;
}

int launcher_pod_image_unpack(struct launcher_pod_images *pi, size_t idx, struct keyring *kr,
			      const char **ret_bundle)
{
	struct slot *s = &pi->slots[idx];
	const struct manifest_image *im = s->mc->image;
	struct image_overrides ov = {
		.entrypoint = (const char *const *)im->entrypoint,
		.cmd = (const char *const *)im->cmd,
		.env = (const char *const *)im->env,
		.cwd = im->cwd,
		.user = im->user,
	};
	struct unpack_report rep = { 0 };
	struct vjson_err e = { { 0 } };
	_cleanup_free_ char *cfg = NULL;
	_cleanup_close_ int bfd = -1, rootfd = -1;
	struct timespec t0, t1;
	const char *what = NULL;
	int r;

	if (!s->img)
		return -EINVAL;	/* refused (and logged) before attestation */
	if (launcher_image_encrypted(s->img) && !kr)
		return log_err("container '%s' refused: image '%s' is encrypted and no key was "
			       "released", s->mc->name, im->layout), -ENOKEY;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = make_bundle(pi, s);
	if (r < 0)
		return log_err("container '%s' refused: Failed to make a tmpfs bundle under '%s': %s",
			       s->mc->name, pi->root, strerror(-r)), r;
	bfd = open(s->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0 || mkdirat(bfd, "rootfs", 0755) < 0) {
		r = -errno;
		snprintf(e.msg, sizeof(e.msg), "%s", strerror(errno));
		what = "bundle";
		goto fail;
	}
	rootfd = launcher_open_beneath(bfd, "rootfs", O_RDONLY | O_DIRECTORY);
	if (rootfd < 0) {
		r = rootfd;
		snprintf(e.msg, sizeof(e.msg), "rootfs: %s", strerror(-r));
		what = "bundle";
		goto fail;
	}
	r = run_unpacker(pi, s, kr, rootfd, &rep);
	if (r < 0) {
		snprintf(e.msg, sizeof(e.msg), "%s", rep.msg[0] ? rep.msg : strerror(-r));
		what = rep.what[0] ? rep.what : "unpacker";
		goto fail;
	}
	/* The config is PID 1's work: a compromised unpacker could write any config.json. */
	r = launcher_image_runtime_config(s->img, rootfd, &ov, &cfg, &e);
	if (r < 0) {
		what = "image config";
		goto fail;
	}
	{
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/config.json", s->bundle);
		r = fd_write_file_atomic(path, cfg, strlen(cfg), 0600);
	}
	if (r < 0) {
		snprintf(e.msg, sizeof(e.msg), "config.json: %s", strerror(-r));
		what = "bundle";
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("container '%s': image unpacked into '%s' (%llu entries, %llu bytes, %.3fs) by a "
		 "confined unpacker (seccomp, capabilities, %s)",
		 s->mc->name, s->bundle, (unsigned long long)rep.st.entries,
		 (unsigned long long)rep.st.bytes,
		 (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
		 rep.landlock ? "Landlock" : "no Landlock in this kernel");
	*ret_bundle = s->bundle;
	return 0;
fail:
	if (rootfd >= 0) {
		close(rootfd);
		rootfd = -1;
	}
	if (bfd >= 0) {
		close(bfd);
		bfd = -1;
	}
	drop_bundle(s);
	log_err("container '%s' refused: %s '%s': %s", s->mc->name, what, im->layout,
		r == -ENOMEM && !e.msg[0] ? "out of memory" : e.msg);
	return r;
}

/* True when a resource is used by something other than image unpacking. */
static bool needed_after(const struct manifest *m, const struct manifest_resource *res)
{
	if (!strncmp(res->name, POD_IMAGE_RESOURCE_PREFIX, strlen(POD_IMAGE_RESOURCE_PREFIX)))
		return false;
	if (m->decryptd_key && !strcmp(m->decryptd_key, res->name))
		return true;
	for (size_t i = 0; i < m->n_containers; i++)
		for (size_t k = 0; k < m->containers[i].n_keys; k++)
			if (!strcmp(m->containers[i].keys[k], res->name))
				return true;
	/* A resource no image names either: the manifest wants it kept. */
	for (size_t i = 0; i < m->n_containers; i++) {
		const struct manifest_image *im = m->containers[i].image;

		for (size_t k = 0; im && k < im->n_keys; k++)
			if (!strcmp(im->keys[k], res->name))
				return false;
	}
	return true;
}

int launcher_pod_image_forget_keys(struct launcher_pod_images *pi, struct keyring *kr)
{
	const struct manifest *m = pi->m;
	int n = 0;

	if (!kr)
		return 0;
	for (size_t i = 0; i < m->n_resources; i++) {
		const struct manifest_resource *res = &m->resources[i];
		char desc[KEYRING_DESC_MAX];
		key_serial_t key;

		if (needed_after(m, res))
			continue;
		if (keyring_uri_to_desc(res->uri, strlen(res->uri), desc, sizeof(desc)) < 0 ||
		    keyring_find(kr, desc + strlen(KEYRING_DESC_PREFIX), &key) < 0)
			continue;
		if (keyctl_revoke(key) < 0 && errno != EKEYREVOKED) {
			log_warn("Failed to revoke the image key '%s' (key %d): %m", res->name, (int)key);
			continue;
		}
		n++;
	}
	if (n)
		log_info("revoked %d image key(s) after unpacking", n);
	return n;
}
