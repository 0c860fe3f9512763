/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Image containers in veil-init (docs/images.md, "In veil-init"): a manifest
 * container that names an OCI image layout instead of a bundle. The order,
 * which main.c follows:
 *
 *   before attestation   launcher_pod_image_measure(): open the layout, verify
 *                        index → manifest → config (sha256 of each), check the
 *                        pinned manifest digest, record the container event
 *                        {"digest":"sha256:<image manifest>","name":…} — all of
 *                        it is readable without keys, so `veil measure --pcr`
 *                        predicts it and the KBS sees it in the evidence;
 *                        launcher_pod_image_resources(): the kbs:// URIs the
 *                        layers' annotation packets name join the resources
 *                        the attestation fetches into veil's keyring.
 *   attestation          (main.c, attest_and_grant)
 *   after attestation    launcher_pod_image_unpack(): a fresh tmpfs bundle;
 *                        each layer's digest and HMAC checked, decrypted with
 *                        keys read from veil's keyring into secure memory,
 *                        its uncompressed tar checked against the config's
 *                        diff_id, unpacked; config.json written. Any failure
 *                        unmounts the tmpfs: nothing unpacked stays behind.
 *                        launcher_pod_image_forget_keys(): keys only images
 *                        used are revoked.
 */
#ifndef VEIL_LAUNCHER_POD_IMAGE_H
#define VEIL_LAUNCHER_POD_IMAGE_H

#include <stddef.h>

#include "keyring/keyring.h"
#include "launcher/image.h"
#include "launcher/manifest.h"
#include "launcher/record.h"

#define POD_IMAGE_ROOT "/run/veil/images"
#define POD_IMAGE_KIDS_MAX 64u		/* kbs:// URIs all images may add */
#define POD_IMAGE_UNPACK_TIMEOUT_MS (10 * 60 * 1000)	/* a wedged unpacker is killed */
#define POD_IMAGE_RESOURCE_PREFIX "image:"	/* never a valid manifest name */

struct launcher_pod_images;

/* State for the image containers of m (which must outlive it); root NULL: POD_IMAGE_ROOT. */
int launcher_pod_images_new(const struct manifest *m, const char *root,
			    struct launcher_pod_images **ret);
/* Unmounts every bundle (containers have ended) and frees. NULL ok. */
struct launcher_pod_images *launcher_pod_images_free(struct launcher_pod_images *pi);

/*
 * Container idx (of m->containers, an image container): opens and verifies
 * the image, checks the pin, records the event. 0, or -errno with the
 * refusal logged (the container then does not start).
 */
int launcher_pod_image_measure(struct launcher_pod_images *pi, size_t idx,
			       struct launcher_recorder *rec);

/*
 * Adds the annotation packets' kbs:// URIs to m->resources (named
 * "image:<container>:<n>", unless a resource already has that URI). 0 or
 * -ENOMEM; an image with a malformed URI or past the limit is refused (logged).
 */
int launcher_pod_image_resources(struct launcher_pod_images *pi, struct manifest *m);

/*
 * Unpacks container idx into its tmpfs bundle with keys from kr (NULL: no
 * KBS, plaintext images only). 0 and the bundle path (owned by pi), or
 * -errno with the refusal logged and nothing left behind.
 */
int launcher_pod_image_unpack(struct launcher_pod_images *pi, size_t idx, struct keyring *kr,
			      const char **ret_bundle);

/* Revokes the keys that only images use (not granted, not decryptd's). Count or -errno. */
int launcher_pod_image_forget_keys(struct launcher_pod_images *pi, struct keyring *kr);

/*
 * Opens the image a manifest container names, with its pin checked: what
 * both veil-init and `veil measure --pcr` use. -errno with e->msg.
 */
int launcher_pod_image_open(const struct manifest_image *im, struct launcher_image **ret,
			    struct vjson_err *e);

/*
 * The manifest's overrides of an image container's config (entrypoint, cmd,
 * env, cwd, user, allow_devices, allow_setuid) as canonical JSON (sorted
 * keys, compact, with the container's name), recorded as an "image-config"
 * event right after the container's own event so they are measured too;
 * NULL when the manifest overrides nothing (or on ENOMEM: *ret_err set).
 */
#define POD_IMAGE_CONFIG_OP "image-config"
char *launcher_pod_image_overrides_json(const struct manifest_container *c, int *ret_err);

#endif
