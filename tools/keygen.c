// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil keygen: a fresh CKKS key pair for sealing models. The secret key file
 * (mode 0600) holds the compact form: parameter preset + 32-byte seed, small
 * enough for a kernel `user` key; the public key file holds the full key.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fhe/fhe.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/secmem.h"
#include "tools/veil.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: veil keygen [options]\n"
		"  -s, --secret-key FILE  where to write the secret key (default fhe.sk, mode 0600)\n"
		"  -p, --public-key FILE  where to write the public key (default fhe.pk)\n"
		"  -n, --ring N           8192 (default), 16384 or 32768\n"
		"  -f, --force            replace existing files\n");
}

static int write_file(const char *path, const uint8_t *b, size_t len, mode_t mode, bool force)
{
	_cleanup_close_ int fd = -1;
	size_t off = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, b + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += n;
	}
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

int tool_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "secret-key", required_argument, NULL, 's' },
		{ "public-key", required_argument, NULL, 'p' },
		{ "ring", required_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *skpath = "fhe.sk", *pkpath = "fhe.pk";
	enum fhe_preset preset = FHE_PRESET_DENSE_8192;
	struct fhe_params *p = NULL;
	struct fhe_secret_key *sk = NULL;
	struct fhe_public_key *pk = NULL;
	uint8_t *skb = NULL, *pkb = NULL;
	size_t skl = 0, pkl = 0;
	bool force = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "s:p:n:fh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			skpath = optarg;
			break;
		case 'p':
			pkpath = optarg;
			break;
		case 'n':
			if (strcmp(optarg, "8192") == 0)
				preset = FHE_PRESET_DENSE_8192;
			else if (strcmp(optarg, "16384") == 0)
				preset = FHE_PRESET_DENSE_16384;
			else if (strcmp(optarg, "32768") == 0)
				preset = FHE_PRESET_DENSE_32768;
			else {
				log_err("Ring size '%s' is not 8192, 16384 or 32768", optarg);
				return 2;
			}
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	r = fhe_params_preset(preset, &p);
	if (r < 0) {
		log_err("Failed to set up parameters: %s", strerror(-r));
		return 1;
	}
	r = fhe_keygen_random(p, &sk);
	if (r == 0)
		r = fhe_public_key_new(sk, &pk);
	if (r == 0)
		r = fhe_secret_key_serialize(sk, &skb, &skl);
	if (r == 0)
		r = fhe_public_key_serialize(pk, &pkb, &pkl);
	if (r < 0) {
		log_err("Failed to generate keys: %s", strerror(-r));
		goto out;
	}
	r = write_file(skpath, skb, skl, 0600, force);
	if (r < 0) {
		errno = -r;
		log_err("Failed to write '%s': %m", skpath);
		goto out;
	}
	r = write_file(pkpath, pkb, pkl, 0644, force);
	if (r < 0) {
		errno = -r;
		log_err("Failed to write '%s': %m", pkpath);
		goto out;
	}
	printf("secret key: %s (%zu bytes)\npublic key: %s (%zu bytes)\nring: N=%u, %u primes\n",
	       skpath, skl, pkpath, pkl, fhe_params_n(p), fhe_params_nprimes(p));
out:
	secmem_free(skb);
	free(pkb);
	fhe_public_key_free(pk);
	fhe_secret_key_free(sk);
	fhe_params_free(p);
	return r < 0 ? 1 : 0;
}
