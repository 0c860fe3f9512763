/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pod manifest (docs/manifest.md): strict JSON, every unknown key, wrong
 * type and oversized value an error that names the field.
 */
#ifndef VEIL_LAUNCHER_MANIFEST_H
#define VEIL_LAUNCHER_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"

#define MANIFEST_MAX (256u << 10)
#define MANIFEST_CONTAINERS_MAX 32u
#define MANIFEST_NAME_MAX 48u
#define MANIFEST_PATH_MAX 1024u
#define MANIFEST_URL_MAX 2048u
#define MANIFEST_KEYS_MAX 32u
#define MANIFEST_ARGS_MAX 256u		/* entrypoint, cmd, env items */
#define MANIFEST_ARG_LEN_MAX 4096u
#define MANIFEST_RESOURCES_MAX 64u
#define MANIFEST_RESTART_MAX 1000
#define MANIFEST_BACKOFF_MAX_MS 600000
#define MANIFEST_KBS_DEADLINE_DEFAULT_MS 60000
#define MANIFEST_KBS_DEADLINE_MAX_MS 600000
#define MANIFEST_IMAGE_REF_MAX 512u
#define MANIFEST_KBS_REATTEST_MAX_S 86400
#define MANIFEST_DECRYPTD_MODELS_MAX 16u
#define MANIFEST_DECRYPTD_NAME "veil-decryptd"	/* reserved: its cgroup leaf and keyring */

enum launcher_restart { LAUNCHER_RESTART_NEVER, LAUNCHER_RESTART_ON_FAILURE, LAUNCHER_RESTART_ALWAYS };
enum launcher_shutdown { LAUNCHER_SHUTDOWN_LAST_EXIT, LAUNCHER_SHUTDOWN_NEVER };

/* A container from an OCI image layout (docs/images.md, "In veil-init"). */
struct manifest_image {
	char *layout;			/* absolute path of the layout directory */
	char *ref;			/* NULL: the layout's only (or this platform's) manifest */
	bool pinned;
	char digest[7 + 64 + 1];	/* "sha256:HEX" of the image manifest, when pinned */
	char **keys;			/* names of kbs.resources holding layer-key private keys */
	size_t n_keys;
	/* The manifest's overrides of the image config (NULL-terminated; NULL: the image's). */
	char **entrypoint;		/* replaces Entrypoint and drops Cmd */
	char **cmd;			/* replaces Cmd */
	char **env;			/* "K=V": replaces K or adds it */
	char *cwd;			/* absolute */
	char *user;			/* "uid[:gid]" or names from the image's /etc/passwd */
	bool allow_devices;		/* device nodes in layers (refused by default) */
	bool allow_setuid;		/* setuid/setgid files in layers (refused by default) */
};

struct manifest_container {
	char *name;
	char *bundle;			/* NULL when image is set */
	struct manifest_image *image;	/* NULL for a bundle */
	bool pinned;
	uint8_t digest[32];
	enum launcher_restart restart;
	unsigned int restart_max;	/* restarts allowed before giving up */
	unsigned int backoff_ms;	/* first delay; doubles up to backoff_max_ms */
	unsigned int backoff_max_ms;
	int order;
	char **keys;			/* names of kbs.resources granted */
	size_t n_keys;
	bool raw_sockets;		/* BPF LSM grant: raw and packet sockets */
};

struct manifest_resource {
	char *name;
	char *uri;			/* kbs:///repo/type/tag */
};

/* decryptd.models[]: a sealed model the service opens, and who may decrypt its outputs. */
struct manifest_decryptd_model {
	char *name;
	char *sealed;			/* absolute path in veil-init's view */
	char **grant;			/* container names */
	size_t n_grant;
};

struct manifest_decryptd {
	struct manifest_decryptd_model *models;
	size_t n_models;
	unsigned int workers;		/* 0: one per core */
	unsigned int queue;
	unsigned int max_connections;
	bool receipts;
	enum launcher_restart restart;
	unsigned int restart_max, backoff_ms, backoff_max_ms;
};

struct manifest {
	struct manifest_container *containers;	/* sorted by start order */
	size_t n_containers;
	bool has_kbs;
	char *kbs_url, *kbs_ca, *kbs_tee;
	unsigned int kbs_deadline_ms;	/* attestation, retries included */
	unsigned int kbs_reattest_s;	/* re-attestation period; 0: never */
	struct manifest_resource *resources;
	size_t n_resources;
	bool lsm_degraded_allowed;
	bool seccomp_required;
	bool decryptd;
	char *decryptd_key;		/* a kbs.resources name */
	struct manifest_decryptd dd;
	enum launcher_shutdown shutdown;
	unsigned int grace_ms;
};

/* 0, or -EINVAL/-E2BIG/-ENOMEM with e->msg naming the field. */
int launcher_manifest_parse(const char *buf, size_t len, struct manifest **ret, struct vjson_err *e);
struct manifest *launcher_manifest_free(struct manifest *m);
/* The canonical JSON of the policy event ({"lsm":...,"seccomp":...}); malloc'd. */
char *launcher_manifest_policy_json(const struct manifest *m);

#endif
