/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * OCI image layouts as container sources (image-spec v1: oci-layout,
 * index.json, blobs/sha256/HEX). Every blob is read once, into memory, with
 * its sha256 checked against the digest that named it before any byte of it
 * is used, so a disk the host controls cannot swap bytes between the check
 * and the use. Encrypted layers (launcher/ocicrypt.h) are decrypted in the
 * same pass, their HMAC checked before the plaintext is unpacked.
 *
 * The launcher's use: launcher_image_open() → launcher_image_kbs_uris() (to
 * know which resources to ask the KBS for) → launcher_image_unpack() into a
 * tmpfs rootfs → launcher_image_runtime_config() → write config.json →
 * launcher_image_event() for the measurement event.
 */
#ifndef VEIL_LAUNCHER_IMAGE_H
#define VEIL_LAUNCHER_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "launcher/ocicrypt.h"
#include "launcher/unpack.h"
#include "lib/json.h"

#define IMAGE_JSON_MAX (4u << 20)	/* index, manifest, config */
#define IMAGE_LAYERS_MAX 256u
#define IMAGE_MANIFESTS_MAX 1024u	/* entries of one index */
#define IMAGE_BLOB_MAX (16ull << 30)	/* one layer blob */
#define IMAGE_DIGEST_LEN 71		/* "sha256:" + 64 hex */
#define IMAGE_REF_MAX 512u

#define IMAGE_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define IMAGE_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define IMAGE_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define IMAGE_ANN_REF "org.opencontainers.image.ref.name"

struct image_layer {
	char digest[IMAGE_DIGEST_LEN + 1];
	uint64_t size;
	enum unpack_compression comp;
	bool encrypted;
	const char *media_type;		/* borrowed from the manifest */
	json_t *annotations;		/* borrowed, may be NULL */
};

struct launcher_image {
	int dirfd;			/* the layout directory */
	char manifest_digest[IMAGE_DIGEST_LEN + 1];
	char config_digest[IMAGE_DIGEST_LEN + 1];
	char *ref;			/* the ref.name annotation, or NULL */
	json_t *manifest;
	json_t *config;			/* the image config blob */
	struct image_layer *layers;
	size_t n_layers;
};

/* What the pod manifest may override; NULL members keep the image's value. */
struct image_overrides {
	const char *const *entrypoint;	/* NULL-terminated; replaces Entrypoint, drops Cmd */
	const char *const *cmd;		/* replaces Cmd */
	const char *const *env;		/* "K=V": replaces K or adds it */
	const char *cwd;
	const char *user;		/* "uid[:gid]" or names from the rootfs */
	bool readonly_rootfs_off;	/* veil's default is a read-only root */
};

/*
 * Opens the layout at path and selects a manifest: ref NULL or "" (the only
 * one), "sha256:HEX" (by digest), "NAME" (the ref.name annotation) or
 * "NAME@sha256:HEX" (both must match). Nested indexes are followed for
 * linux and this machine's architecture. 0, or -ENOENT/-EINVAL/-EBADMSG/
 * -E2BIG/-EOPNOTSUPP with e->msg.
 */
int launcher_image_open(const char *path, const char *ref, struct launcher_image **ret,
			struct vjson_err *e);
struct launcher_image *launcher_image_free(struct launcher_image *img);

/* True when any layer is encrypted. */
bool launcher_image_encrypted(const struct launcher_image *img);

/* The kbs:// URIs of every annotation packet, as a JSON array of unique strings. */
int launcher_image_kbs_uris(const struct launcher_image *img, json_t **ret, struct vjson_err *e);

/*
 * Verifies (and decrypts) every layer and applies them in order onto rootfd.
 * keys may be NULL for plaintext images; an encrypted layer with no key that
 * opens it is -ENOKEY and nothing of it is unpacked.
 */
int launcher_image_unpack(const struct launcher_image *img, int rootfd,
			  const struct ocicrypt_keys *keys, const struct unpack_opts *o,
			  struct unpack_stats *stats, struct vjson_err *e);

/*
 * The runtime config.json (malloc'd text) for the image config, the
 * overrides and veil's defaults. rootfd (the unpacked rootfs) resolves user
 * and group names; -1 allows numeric users only.
 */
int launcher_image_runtime_config(const struct launcher_image *img, int rootfd,
				  const struct image_overrides *ov, char **ret,
				  struct vjson_err *e);

/*
 * The measurement event content: {"digest":"sha256:MANIFEST","image":REF,
 * "config":"sha256:of config.json"} (compact, keys in this order).
 */
int launcher_image_event(const struct launcher_image *img, const char *image_ref,
			 const char *config_json, size_t config_len, char **ret);

/* Reads blobs/sha256/HEX of at most max bytes and checks its size and digest. */
int launcher_image_read_blob(int dirfd, const char *digest, int64_t size, size_t max, char **ret,
			     size_t *ret_len, struct vjson_err *e);

/* Parsers, exposed for tests and fuzzing: they only look at bytes. */
int launcher_image_parse_index(const char *buf, size_t len, const char *ref, char *ret_digest,
			       int64_t *ret_size, const char **ret_mt, json_t **ret_root,
			       struct vjson_err *e);
int launcher_image_parse_manifest(const char *buf, size_t len, struct launcher_image *img,
				  int64_t *ret_config_size, struct vjson_err *e);
int launcher_image_parse_config(const char *buf, size_t len, size_t n_layers, json_t **ret,
				struct vjson_err *e);

/* "sha256:" + 64 lower-case hex: 0 or -EINVAL. */
int launcher_image_check_digest(const char *d);

#endif
