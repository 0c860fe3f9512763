// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil image: build an OCI image layout from a directory (deterministic),
 * list and inspect layouts, print the measurement of an image, and unpack
 * one (verify, decrypt, apply layers) the way veil-init does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "launcher/image.h"
#include "launcher/image_build.h"
#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"
#include "lib/secmem.h"
#include "tools/veil.h"

#define KEY_FILE_MAX (64u << 10)
#define ARGS_MAX 64

static void usage(FILE *f)
{
	fprintf(f,
		"usage: veil image build DIR -o LAYOUT [--ref NAME] [--compress gzip|zstd|none]\n"
		"                        [--level N] [--entrypoint ARG]... [--cmd ARG]...\n"
		"                        [--env K=V]... [--workdir DIR] [--user USER]\n"
		"       veil image ls LAYOUT\n"
		"       veil image inspect LAYOUT [--ref REF]\n"
		"       veil image digest LAYOUT [--ref REF]   (the measurement event veil records)\n"
		"       veil image unpack LAYOUT DEST [--ref REF] [--bundle] [--key PEM]...\n"
		"                        [--kbs-key kbs:///repo/type/tag=FILE]... [--allow-devices]\n"
		"                        [--allow-setuid]\n"
		"REF is a ref.name, sha256:HEX or NAME@sha256:HEX. Keys are what the KBS\n"
		"releases: --key a private key for JWE recipients, --kbs-key a raw 32-byte KEK.\n");
}

static int open_image(const char *layout, const char *ref, struct launcher_image **img)
{
	struct vjson_err e = { { 0 } };
	int r = launcher_image_open(layout, ref, img, &e);

	if (r < 0)
		log_err("Failed to open image '%s': %s", layout, e.msg);
	return r;
}

static int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "ref", required_argument, NULL, 'r' },
		{ "compress", required_argument, NULL, 'c' }, { "level", required_argument, NULL, 'l' },
		{ "entrypoint", required_argument, NULL, 'E' }, { "cmd", required_argument, NULL, 'C' },
		{ "env", required_argument, NULL, 'e' }, { "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' }, { "help", no_argument, NULL, 'h' }, {},
	};
	const char *ep[ARGS_MAX + 1] = { 0 }, *cmd[ARGS_MAX + 1] = { 0 }, *env[ARGS_MAX + 1] = { 0 };
	size_t nep = 0, ncmd = 0, nenv = 0;
	struct image_build_opts o = { .compression = UNPACK_GZIP };
	char digest[IMAGE_DIGEST_LEN + 1];
	struct vjson_err e = { { 0 } };
	const char *out = NULL, *sde = getenv("SOURCE_DATE_EPOCH");
	int c, r;

	if (sde)
		o.mtime = strtoll(sde, NULL, 10);
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'r': o.ref = optarg; break;
		case 'c':
			if (!strcmp(optarg, "gzip"))
				o.compression = UNPACK_GZIP;
			else if (!strcmp(optarg, "zstd"))
				o.compression = UNPACK_ZSTD;
			else if (!strcmp(optarg, "none"))
				o.compression = UNPACK_NONE;
			else
				return log_err("Unknown compression '%s'", optarg), 2;
			break;
		case 'l': o.level = atoi(optarg); break;
		case 'E': if (nep < ARGS_MAX) ep[nep++] = optarg; o.entrypoint = ep; break;
		case 'C': if (ncmd < ARGS_MAX) cmd[ncmd++] = optarg; o.cmd = cmd; break;
		case 'e': if (nenv < ARGS_MAX) env[nenv++] = optarg; o.env = env; break;
		case 'w': o.cwd = optarg; break;
		case 'u': o.user = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || !out) {
		usage(stderr);
		return 2;
	}
	r = launcher_image_build(argv[optind], out, &o, digest, &e);
	if (r < 0) {
		log_err("Failed to build '%s': %s", out, e.msg);
		return 1;
	}
	printf("%s\n", digest);
	return 0;
}

static int cmd_ls(int argc, char **argv)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_(json_decrefp) json_t *idx = NULL;
	struct vjson_err e = { { 0 } };
	char path[4096];
	size_t n, i;
	json_t *m;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/index.json", argv[1]);
	if (fd_read_file(path, IMAGE_JSON_MAX, &buf, &n) < 0 ||
	    vjson_parse(buf, n, IMAGE_JSON_MAX, VJSON_DEPTH_DEFAULT, &idx, &e) < 0 ||
	    !json_is_array(json_object_get(idx, "manifests"))) {
		log_err("Failed to read '%s': not an OCI image index", path);
		return 1;
	}
	printf("%-24s %-71s %s\n", "REF", "DIGEST", "SIZE");
	json_array_foreach(json_object_get(idx, "manifests"), i, m) {
		json_t *ann = json_object_get(m, "annotations");
		const char *rn = json_string_value(json_object_get(ann, IMAGE_ANN_REF));
		const char *dg = json_string_value(json_object_get(m, "digest"));

		printf("%-24s %-71s %lld\n", rn ? rn : "-", dg ? dg : "?",
		       (long long)json_integer_value(json_object_get(m, "size")));
	}
	return 0;
}

static const char *ref_opt(int argc, char **argv, int *ret_optind)
{
	static const struct option opts[] = { { "ref", required_argument, NULL, 'r' }, {} };
	const char *ref = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
		if (c == 'r')
			ref = optarg;
	*ret_optind = optind;
	return ref;
}

static int cmd_inspect(int argc, char **argv)
{
	struct launcher_image *img = NULL;
	_cleanup_(json_decrefp) json_t *out = NULL, *layers = json_array();
	_cleanup_free_ char *s = NULL;
	const char *ref;
	int oi;

	ref = ref_opt(argc, argv, &oi);
	if (oi + 1 != argc || !layers) {
		usage(stderr);
		return 2;
	}
	if (open_image(argv[oi], ref, &img) < 0)
		return 1;
	for (size_t i = 0; i < img->n_layers; i++) {
		const struct image_layer *l = &img->layers[i];
		json_t *ann = l->annotations;

		json_array_append_new(layers, json_pack(
			"{s:s, s:s, s:I, s:b, s:b, s:b}", "digest", l->digest, "mediaType",
			l->media_type, "size", (json_int_t)l->size, "encrypted", l->encrypted,
			"jwe", ann && json_object_get(ann, OCICRYPT_ANN_JWE),
			"kbs", ann && json_object_get(ann, OCICRYPT_ANN_COCO)));
	}
	out = json_pack("{s:s, s:s?, s:s, s:O, s:O?}", "manifest", img->manifest_digest, "ref",
			img->ref, "config", img->config_digest, "layers", layers, "image",
			json_object_get(img->config, "config"));
	launcher_image_free(img);
	if (!out || !(s = json_dumps(out, JSON_PRESERVE_ORDER | JSON_INDENT(2))))
		return 1;
	printf("%s\n", s);
	return 0;
}

static int cmd_digest(int argc, char **argv)
{
	struct launcher_image *img = NULL;
	_cleanup_free_ char *cfg = NULL, *ev = NULL;
	struct vjson_err e = { { 0 } };
	const char *ref;
	int oi, r;

	ref = ref_opt(argc, argv, &oi);
	if (oi + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (open_image(argv[oi], ref, &img) < 0)
		return 1;
	r = launcher_image_runtime_config(img, -1, NULL, &cfg, &e);
	if (r == 0)
		r = launcher_image_event(img, NULL, cfg, strlen(cfg), &ev);
	if (r < 0) {
		log_err("Failed to measure '%s': %s", argv[oi], e.msg);
		launcher_image_free(img);
		return 1;
	}
	printf("%s\n%s\n", img->manifest_digest, ev);
	launcher_image_free(img);
	return 0;
}

struct kbs_entry {
	const char *uri;
	const char *file;
};

struct kbs_table {
	struct kbs_entry e[OCICRYPT_KEYS_MAX];
	size_t n;
};

/* The CLI's stand-in for the KBS: resources from files the operator names. */
static int kbs_from_files(void *ctx, const char *uri, uint8_t **ret, size_t *ret_len)
{
	const struct kbs_table *t = ctx;

	for (size_t i = 0; i < t->n; i++) {
		_cleanup_close_ int fd = -1;
		uint8_t *p;
		ssize_t n;

		if (strcmp(t->e[i].uri, uri))
			continue;
		fd = open(t->e[i].file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		p = secmem_alloc(KEY_FILE_MAX);
		if (!p)
			return -ENOMEM;
		n = fd_read_full(fd, p, KEY_FILE_MAX);
		if (n < 0 || n == KEY_FILE_MAX) {
			secmem_free(p);
			return n < 0 ? (int)n : -EFBIG;
		}
		*ret = p;
		*ret_len = (size_t)n;
		return 0;
	}
	return -ENOENT;
}

/* A key file into secure memory; its length or -errno. */
static ssize_t read_key(const char *path, uint8_t **ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *p;
	ssize_t n;

	if (fd < 0)
		return -errno;
	p = secmem_alloc(KEY_FILE_MAX);
	if (!p)
		return -ENOMEM;
	n = fd_read_full(fd, p, KEY_FILE_MAX);
	if (n <= 0 || n == KEY_FILE_MAX) {
		secmem_free(p);
		return n < 0 ? n : -EINVAL;
	}
	*ret = p;
	return n;
}

static int cmd_unpack(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ref", required_argument, NULL, 'r' }, { "key", required_argument, NULL, 'k' },
		{ "kbs-key", required_argument, NULL, 'K' }, { "bundle", no_argument, NULL, 'b' },
		{ "allow-devices", no_argument, NULL, 'D' },
		{ "allow-setuid", no_argument, NULL, 'S' }, { "help", no_argument, NULL, 'h' }, {},
	};
	struct ocicrypt_secret secrets[OCICRYPT_KEYS_MAX];
	uint8_t *keybufs[OCICRYPT_KEYS_MAX] = { 0 };
	struct kbs_table kbs = { .n = 0 };
	struct ocicrypt_keys keys = { .jwe_keys = secrets, .kbs_get = kbs_from_files,
				      .kbs_ctx = &kbs };
	struct unpack_opts uo = { .chown = -1 };
	struct unpack_stats st = { 0 };
	struct launcher_image *img = NULL;
	struct vjson_err e = { { 0 } };
	int rootfd = -1;
	char *cfg = NULL;
	const char *ref = NULL;
	bool bundle = false;
	char root[4096];
	struct timespec t0, t1;
	int c, r = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (c) {
		case 'r': ref = optarg; break;
		case 'k': {
			ssize_t n;

			if (keys.n_jwe_keys >= OCICRYPT_KEYS_MAX)
				break;
			n = read_key(optarg, &keybufs[keys.n_jwe_keys]);
			if (n < 0) {
				log_err("Failed to read key '%s': %s", optarg, strerror((int)-n));
				goto out;
			}
			secrets[keys.n_jwe_keys].data = keybufs[keys.n_jwe_keys];
			secrets[keys.n_jwe_keys].len = (size_t)n;
			keys.n_jwe_keys++;
			break;
		}
		case 'K': {
			char *eq = strrchr(optarg, '=');

			if (!eq || kbs.n >= OCICRYPT_KEYS_MAX) {
				log_err("--kbs-key wants URI=FILE");
				goto out;
			}
			*eq = '\0';
			kbs.e[kbs.n].uri = optarg;
			kbs.e[kbs.n].file = eq + 1;
			kbs.n++;
			break;
		}
		case 'b': bundle = true; break;
		case 'D': uo.allow_devices = true; break;
		case 'S': uo.allow_setuid = true; break;
		case 'h': usage(stdout); r = 0; goto out;
		default: usage(stderr); r = 2; goto out;
		}
	}
	if (optind + 2 != argc) {
		usage(stderr);
		r = 2;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (open_image(argv[optind], ref, &img) < 0)
		goto out;
	snprintf(root, sizeof(root), "%s%s", argv[optind + 1], bundle ? "/rootfs" : "");
	if (bundle && mkdir(argv[optind + 1], 0700) < 0 && errno != EEXIST) {
		log_err("Failed to create '%s': %m", argv[optind + 1]);
		goto out;
	}
	if (mkdir(root, 0755) < 0 && errno != EEXIST) {
		log_err("Failed to create '%s': %m", root);
		goto out;
	}
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		log_err("Failed to open '%s': %m", root);
		goto out;
	}
	if (launcher_image_unpack(img, rootfd, &keys, &uo, &st, &e) < 0) {
		log_err("Failed to unpack '%s': %s", argv[optind], e.msg);
		goto out;
	}
	if (bundle) {
		char path[4200];

		if (launcher_image_runtime_config(img, rootfd, NULL, &cfg, &e) < 0) {
			log_err("Failed to make the runtime config: %s", e.msg);
			goto out;
		}
		snprintf(path, sizeof(path), "%s/config.json", argv[optind + 1]);
		if (fd_write_file_atomic(path, cfg, strlen(cfg), 0644) < 0) {
			log_err("Failed to write '%s': %m", path);
			goto out;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "veil image: %s: %llu entries, %llu bytes in %.3f s\n",
		img->manifest_digest, (unsigned long long)st.entries, (unsigned long long)st.bytes,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	r = 0;
out:
	if (rootfd >= 0)
		close(rootfd);
	free(cfg);
	launcher_image_free(img);
	for (size_t i = 0; i < OCICRYPT_KEYS_MAX; i++)
		secmem_free(keybufs[i]);
	return r;
}

int tool_image(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	optind = 1;
	if (!strcmp(argv[1], "build"))
		return cmd_build(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ls"))
		return cmd_ls(argc - 1, argv + 1);
	if (!strcmp(argv[1], "inspect"))
		return cmd_inspect(argc - 1, argv + 1);
	if (!strcmp(argv[1], "digest"))
		return cmd_digest(argc - 1, argv + 1);
	if (!strcmp(argv[1], "unpack"))
		return cmd_unpack(argc - 1, argv + 1);
	log_err("Unknown 'veil image' command '%s'", argv[1]);
	return 2;
}
