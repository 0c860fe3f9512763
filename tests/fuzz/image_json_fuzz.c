// SPDX-License-Identifier: GPL-2.0-only
/* OCI image index, manifest and config parsers over arbitrary bytes. */
#include "launcher/image.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct launcher_image img = { .dirfd = -1 };
	struct vjson_err e;
	char digest[IMAGE_DIGEST_LEN + 1];
	const char *mt;
	int64_t sz;
	json_t *root = NULL, *cfg = NULL;

	if (launcher_image_parse_index((const char *)data, size, NULL, digest, &sz, &mt, &root,
				       &e) == 0)
		json_decref(root);
	root = NULL;
	if (launcher_image_parse_index((const char *)data, size, "v1", digest, &sz, &mt, &root,
				       &e) == 0)
		json_decref(root);
	if (launcher_image_parse_manifest((const char *)data, size, &img, &sz, &e) == 0) {
		for (size_t i = 0; i < img.n_layers; i++) {
			char *kid = NULL;

			if (launcher_ocicrypt_kid(img.layers[i].annotations, &kid, &e) == 0)
				free(kid);
		}
	}
	json_decref(img.manifest);
	free(img.layers);
	if (launcher_image_parse_config((const char *)data, size, 1, &cfg, &e) == 0)
		json_decref(cfg);
	return 0;
}
