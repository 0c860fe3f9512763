// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil mkinitrd LIST -o OUT: builds a reproducible newc initramfs from an
 * initrd list (format: initrd/list.h, docs/testbed.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "initrd/cpio.h"
#include "initrd/list.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "tools/veil.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: veil mkinitrd LIST -o OUT [options]\n"
		"  -o, --output FILE     the archive to write (replaced atomically)\n"
		"  -z, --gzip            gzip it (deterministic header)\n"
		"  -D, --define NAME=VAL set ${NAME} for the list (before the environment)\n"
		"  -L, --libdir DIR      search DIR for libraries (repeatable; replaces the default)\n"
		"      --mtime SECONDS   every entry's mtime (default SOURCE_DATE_EPOCH, else 0)\n"
		"  -l, --list-entries    print the resolved entries instead of writing\n");
}

static void print_entry(const struct initrd_entry *e)
{
	static const char *const kind[] = { "dir", "file", "slink", "nod" };

	printf("%-5s /%s %04o %u %u", kind[e->type], e->path, (unsigned int)e->mode,
	       (unsigned int)e->uid, (unsigned int)e->gid);
	if (e->type == INITRD_FILE)
		printf(" %s", e->source ? e->source : "(generated)");
	else if (e->type == INITRD_SYMLINK)
		printf(" -> %s", e->source);
	else if (e->type == INITRD_NODE)
		printf(" %c %u %u", e->block ? 'b' : 'c', e->major, e->minor);
	putchar('\n');
}

static int parse_mtime(const char *s, uint32_t *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *s == '-' || *end || errno || v > UINT32_MAX)
		return -EINVAL;
	*ret = v;
	return 0;
}

int tool_mkinitrd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "gzip", no_argument, NULL, 'z' },
		{ "define", required_argument, NULL, 'D' },
		{ "libdir", required_argument, NULL, 'L' },
		{ "mtime", required_argument, NULL, 'm' },
		{ "list-entries", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct initrd_list *l = initrd_list_new();
	struct initrd_cpio_opts co = {};
	const char *out = NULL, *sde = getenv("SOURCE_DATE_EPOCH");
	bool list_only = false;
	char err[1024] = "", tmp[4096];
	int c, r, fd;

	if (!l)
		return log_err("Out of memory"), 1;
	if (sde && *sde && parse_mtime(sde, &co.mtime) < 0) {
		log_err("Bad SOURCE_DATE_EPOCH '%s'", sde);
		goto fail;
	}
	while ((c = getopt_long(argc, argv, "o:zD:L:lh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'z':
			co.gzip = true;
			break;
		case 'D': {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg) {
				log_err("Bad definition '%s' (want NAME=VALUE)", optarg);
				goto fail;
			}
			*eq = '\0';
			r = initrd_list_set_var(l, optarg, eq + 1);
			if (r < 0) {
				errno = -r;
				log_err("Failed to define '%s': %m", optarg);
				goto fail;
			}
			break;
		}
		case 'L':
			r = initrd_list_add_libdir(l, optarg);
			if (r < 0) {
				errno = -r;
				log_err("Failed to add libdir '%s': %m", optarg);
				goto fail;
			}
			break;
		case 'm':
			if (parse_mtime(optarg, &co.mtime) < 0) {
				log_err("Bad --mtime '%s'", optarg);
				goto fail;
			}
			break;
		case 'l':
			list_only = true;
			break;
		case 'h':
			usage(stdout);
			initrd_list_free(l);
			return 0;
		default:
			usage(stderr);
			goto fail;
		}
	}
	if (optind != argc - 1 || (!out && !list_only)) {
		usage(stderr);
		goto fail;
	}
	r = initrd_list_parse_file(l, argv[optind], err, sizeof(err));
	if (r == 0)
		r = initrd_list_finish(l, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err[0] ? err : strerror(-r));
		goto fail;
	}
	if (list_only) {
		for (size_t i = 0; i < initrd_list_count(l); i++)
			print_entry(initrd_list_get(l, i));
		initrd_list_free(l);
		return 0;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", out, (int)getpid()) >= (int)sizeof(tmp)) {
		log_err("Output path too long: '%s'", out);
		goto fail;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("Failed to create '%s': %m", tmp);
		goto fail;
	}
	r = initrd_write_cpio(l, fd, &co, err, sizeof(err));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, out) < 0)
		r = -errno;
	if (r < 0) {
		errno = -r;
		if (err[0])
			log_err("Failed to write '%s': %s", out, err);
		else
			log_err("Failed to write '%s': %m", out);
		unlink(tmp);
		goto fail;
	}
	initrd_list_free(l);
	return 0;
fail:
	initrd_list_free(l);
	return 1;
}
